// being written (seqdata)
#pragma once
