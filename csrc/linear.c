/*
 * linear.c -- fused fully-connected layer, PyTorch layout:
 * y = act(x @ w^T + b), and its backward.  The epilogue (bias, activation) and the
 * activation's derivative are compiled once per kernel set (tmpl_isa.h); the GEMMs
 * are eng_matmul's, which picks its own.
 */
#include <math.h>
#include "internal.h"
#include "vmath.h"

#define ENG_IMPL "linear_impl.h"
#include "tmpl_isa.h"

#define LIN_FWD_PARAMS(T) (int64_t M, int64_t K, int64_t N, const T *x, const T *w, const T *b, \
                           int act, T *y)
#define LIN_BWD_PARAMS(T) (int64_t M, int64_t K, int64_t N, const T *x, const T *w, const T *y, \
                           const T *gy, int act, T *gpre, T *gx, T *gw, T *gb)
ENG_DISPATCH(eng_linear_forward_f32, LIN_FWD_PARAMS(float), (M, K, N, x, w, b, act, y))
ENG_DISPATCH(eng_linear_forward_f64, LIN_FWD_PARAMS(double), (M, K, N, x, w, b, act, y))
ENG_DISPATCH(eng_linear_backward_f32, LIN_BWD_PARAMS(float), (M, K, N, x, w, y, gy, act, gpre, gx, gw, gb))
ENG_DISPATCH(eng_linear_backward_f64, LIN_BWD_PARAMS(double), (M, K, N, x, w, y, gy, act, gpre, gx, gw, gb))
