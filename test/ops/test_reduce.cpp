// Tests for ops/reduce.h.
#include "helpers.h"
