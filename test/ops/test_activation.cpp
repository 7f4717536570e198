// Tests for ops/activation.h.
#include "helpers.h"
