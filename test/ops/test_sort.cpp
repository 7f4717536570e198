// Tests for ops/sort.h.
#include "helpers.h"
