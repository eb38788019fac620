/*
 * reduce.c -- sum, max and min (with arg) over the trailing axes.
 */
#include "internal.h"

#define ENG_DTYPE 32
#include "reduce_impl.h"
#define ENG_DTYPE 64
#include "reduce_impl.h"
