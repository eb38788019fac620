/*
 * reduce.c -- sum, max and min (with arg) over the trailing axes; column sums.
 * Compiled once per kernel set (tmpl_isa.h).
 */
#include "internal.h"

#define ENG_IMPL "reduce_impl.h"
#include "tmpl_isa.h"

#define SUM_PARAMS(T) (int ndim, const int64_t *shape, const T *x, const int64_t *sx, int nred, T *out)
#define EXT_PARAMS(T) (int ndim, const int64_t *shape, const T *x, const int64_t *sx, int nred, \
                       T *out, int64_t *arg)
#define COLSUM_PARAMS(T) (int64_t rows, int64_t cols, const T *x, int64_t ld, T *out)
ENG_DISPATCH(eng_sum_f32, SUM_PARAMS(float), (ndim, shape, x, sx, nred, out))
ENG_DISPATCH(eng_sum_f64, SUM_PARAMS(double), (ndim, shape, x, sx, nred, out))
ENG_DISPATCH(eng_max_f32, EXT_PARAMS(float), (ndim, shape, x, sx, nred, out, arg))
ENG_DISPATCH(eng_max_f64, EXT_PARAMS(double), (ndim, shape, x, sx, nred, out, arg))
ENG_DISPATCH(eng_min_f32, EXT_PARAMS(float), (ndim, shape, x, sx, nred, out, arg))
ENG_DISPATCH(eng_min_f64, EXT_PARAMS(double), (ndim, shape, x, sx, nred, out, arg))
ENG_DISPATCH(eng_colsum_f32, COLSUM_PARAMS(float), (rows, cols, x, ld, out))
ENG_DISPATCH(eng_colsum_f64, COLSUM_PARAMS(double), (rows, cols, x, ld, out))
