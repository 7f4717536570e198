// Tests for engine/serialize.h.
#include "helpers.h"
