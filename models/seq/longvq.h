// being written (seqmodels)
#pragma once
