// Tests for ops/fold.h.
#include "helpers.h"
