// Tests for ops/matmul.h.
#include "helpers.h"
