/*
 * unary.c -- elementwise unary ops (contiguous, forward only: derivatives live in engine/ops).
 * Compiled once per kernel set (tmpl_isa.h).
 */
#include <math.h>
#include "internal.h"
#include "vmath.h"

#define ENG_IMPL "unary_impl.h"
#include "tmpl_isa.h"

ENG_DISPATCH(eng_unary_f32, (int op, int64_t n, const float *x, float *y, float alpha), (op, n, x, y, alpha))
ENG_DISPATCH(eng_unary_f64, (int op, int64_t n, const double *x, double *y, double alpha), (op, n, x, y, alpha))
