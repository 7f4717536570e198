// Tests for ops/softmax.h.
#include "helpers.h"
