/*
 * linear.c -- fused fully-connected layer, PyTorch layout:
 * y = act(x @ w^T + b), and its backward.
 */
#include <math.h>
#include "internal.h"
#include "vmath.h"

#define ENG_DTYPE 32
#include "linear_impl.h"
#define ENG_DTYPE 64
#include "linear_impl.h"
