// Tests for ops/shape.h.
#include "helpers.h"
