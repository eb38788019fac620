/*
 * optim.c -- in-place optimizer updates (SGD with momentum, Adam), PyTorch
 * semantics.
 */
#include <math.h>
#include "internal.h"

#define ENG_DTYPE 32
#include "optim_impl.h"
#define ENG_DTYPE 64
#include "optim_impl.h"
