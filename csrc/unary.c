/*
 * unary.c -- elementwise unary ops and their derivatives (contiguous).
 */
#include <math.h>
#include "internal.h"
#include "vmath.h"

#define ENG_DTYPE 32
#include "unary_impl.h"
#define ENG_DTYPE 64
#include "unary_impl.h"
