// Tests for ops/index.h.
#include "helpers.h"
