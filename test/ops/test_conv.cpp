// Tests for ops/conv.h.
#include "helpers.h"
