// Tests for ops/unary.h.
#include "helpers.h"
