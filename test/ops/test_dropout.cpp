// Tests for ops/dropout.h.
#include "helpers.h"
