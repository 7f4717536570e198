// Tests for ops/attention.h.
#include "helpers.h"
