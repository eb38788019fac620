/*
 * optim.c -- in-place optimizer updates (SGD with momentum, Adam), PyTorch
 * semantics.  Compiled once per kernel set (tmpl_isa.h).
 */
#include <math.h>
#include "internal.h"

#define ENG_IMPL "optim_impl.h"
#include "tmpl_isa.h"

#define SGD_PARAMS(T) (int64_t n, T *p, const T *g, T *buf, T lr, T momentum, T dampening, \
                       T weight_decay, int nesterov, int first)
#define ADAM_PARAMS(T) (int64_t n, T *p, const T *g, T *m, T *v, T lr, T beta1, T beta2, T eps, \
                        T weight_decay, int64_t step)
ENG_DISPATCH(eng_sgd_f32, SGD_PARAMS(float), (n, p, g, buf, lr, momentum, dampening, weight_decay, nesterov, first))
ENG_DISPATCH(eng_sgd_f64, SGD_PARAMS(double), (n, p, g, buf, lr, momentum, dampening, weight_decay, nesterov, first))
ENG_DISPATCH(eng_adam_f32, ADAM_PARAMS(float), (n, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step))
ENG_DISPATCH(eng_adam_f64, ADAM_PARAMS(double), (n, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step))
