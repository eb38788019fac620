/*
 * softmax.c -- softmax / log_softmax along the last axis, their backward,
 * cross entropy with integer targets, and the fused difference losses.
 * Compiled once per kernel set (tmpl_isa.h).
 */
#include <math.h>
#include "internal.h"
#include "vmath.h"

#define ENG_IMPL "softmax_impl.h"
#include "tmpl_isa.h"

#define SOFTMAX_PARAMS(T) (int64_t rows, int64_t cols, const T *x, T *y, int use_log)
#define SOFTMAX_BWD_PARAMS(T) (int64_t rows, int64_t cols, const T *y, const T *gy, T *gx, int use_log)
#define CE_PARAMS(T) (int64_t rows, int64_t cols, const T *logits, const int64_t *target, T *loss)
#define CE_BWD_PARAMS(T) (int64_t rows, int64_t cols, const T *logits, const int64_t *target, \
                          const T *gloss, T *glogits)
#define DIFF_PARAMS(T) (int kind, int64_t n, const T *a, const T *b, T divisor, T *diff, T *loss)
#define DIFF_BWD_PARAMS(T) (int kind, int64_t n, const T *diff, const T *g, T divisor, T *ga)
ENG_DISPATCH(eng_softmax_f32, SOFTMAX_PARAMS(float), (rows, cols, x, y, use_log))
ENG_DISPATCH(eng_softmax_f64, SOFTMAX_PARAMS(double), (rows, cols, x, y, use_log))
ENG_DISPATCH(eng_softmax_backward_f32, SOFTMAX_BWD_PARAMS(float), (rows, cols, y, gy, gx, use_log))
ENG_DISPATCH(eng_softmax_backward_f64, SOFTMAX_BWD_PARAMS(double), (rows, cols, y, gy, gx, use_log))
ENG_DISPATCH(eng_cross_entropy_f32, CE_PARAMS(float), (rows, cols, logits, target, loss))
ENG_DISPATCH(eng_cross_entropy_f64, CE_PARAMS(double), (rows, cols, logits, target, loss))
ENG_DISPATCH(eng_cross_entropy_backward_f32, CE_BWD_PARAMS(float), (rows, cols, logits, target, gloss, glogits))
ENG_DISPATCH(eng_cross_entropy_backward_f64, CE_BWD_PARAMS(double), (rows, cols, logits, target, gloss, glogits))
ENG_DISPATCH(eng_diff_loss_f32, DIFF_PARAMS(float), (kind, n, a, b, divisor, diff, loss))
ENG_DISPATCH(eng_diff_loss_f64, DIFF_PARAMS(double), (kind, n, a, b, divisor, diff, loss))
ENG_DISPATCH(eng_diff_loss_backward_f32, DIFF_BWD_PARAMS(float), (kind, n, diff, g, divisor, ga))
ENG_DISPATCH(eng_diff_loss_backward_f64, DIFF_BWD_PARAMS(double), (kind, n, diff, g, divisor, ga))
