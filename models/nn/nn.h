// Every nn header in one include: `#include "models/nn/nn.h"`.
#pragma once
#include "models/nn/activation.h"
#include "models/nn/attention.h"
#include "models/nn/container.h"
#include "models/nn/conv.h"
#include "models/nn/dropout.h"
#include "models/nn/embedding.h"
#include "models/nn/init.h"
#include "models/nn/linear.h"
#include "models/nn/module.h"
#include "models/nn/norm.h"
#include "models/nn/pooling.h"
#include "models/nn/summary.h"
