// Tests for engine/print.h.
#include "helpers.h"
