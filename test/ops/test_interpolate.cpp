// Tests for ops/interpolate.h.
#include "helpers.h"
