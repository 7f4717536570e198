// The whole public API in one include: `#include "ember.h"`.
#pragma once
#include "autograd/engine.h"
#include "autograd/function.h"
#include "autograd/dot.h"
#include "autograd/gradcheck.h"
#include "autograd/grad_mode.h"
#include "engine/factories.h"
#include "engine/parallel.h"
#include "engine/print.h"
#include "engine/random.h"
#include "engine/serialize.h"
#include "engine/tensor.h"
#include "ops/ops.h"
