// Tests for ops/loss.h.
#include "helpers.h"
