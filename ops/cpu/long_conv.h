// being written (seqconv)
#pragma once
