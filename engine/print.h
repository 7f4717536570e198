// Printing tensors with fmt, like PyTorch.
#pragma once
#include "engine/tensor.h"
