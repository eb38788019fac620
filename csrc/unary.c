/*
 * unary.c -- elementwise unary ops (contiguous, forward only: derivatives live in engine/ops).
 */
#include <math.h>
#include "internal.h"
#include "vmath.h"

#define ENG_DTYPE 32
#include "unary_impl.h"
#define ENG_DTYPE 64
#include "unary_impl.h"
