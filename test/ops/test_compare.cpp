// Tests for ops/compare.h.
#include "helpers.h"
