// safetensors save/load.
#pragma once
#include "engine/tensor.h"
