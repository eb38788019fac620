/*
 * softmax.c -- softmax / log_softmax along the last axis, their backward,
 * and cross entropy with integer targets.
 */
#include <math.h>
#include "internal.h"

#define ENG_DTYPE 32
#include "softmax_impl.h"
#define ENG_DTYPE 64
#include "softmax_impl.h"
