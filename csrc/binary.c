/*
 * binary.c -- elementwise binary ops, comparisons and where(), over
 * broadcast/strided inputs (broadcasting resolved by the caller).
 */
#include <math.h>
#include "internal.h"

#define ENG_DTYPE 32
#include "binary_impl.h"
#define ENG_DTYPE 64
#include "binary_impl.h"
