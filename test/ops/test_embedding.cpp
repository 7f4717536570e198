// Tests for ops/embedding.h.
#include "helpers.h"
