// Tests for ops/pool.h.
#include "helpers.h"
