// Tests for ops/norm.h.
#include "helpers.h"
