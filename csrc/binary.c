/*
 * binary.c -- elementwise binary ops, comparisons and where(), over
 * broadcast/strided inputs (broadcasting resolved by the caller).
 * Compiled once per kernel set (tmpl_isa.h).
 */
#include <math.h>
#include "internal.h"

#define ENG_IMPL "binary_impl.h"
#include "tmpl_isa.h"

#define BINARY_PARAMS(T) (int op, int ndim, const int64_t *shape, const T *a, const int64_t *sa, \
                          const T *b, const int64_t *sb, T *out)
#define COMPARE_PARAMS(T) (int op, int ndim, const int64_t *shape, const T *a, const int64_t *sa, \
                           const T *b, const int64_t *sb, uint8_t *out)
#define WHERE_PARAMS(T) (int ndim, const int64_t *shape, const uint8_t *c, const int64_t *sc, \
                         const T *a, const int64_t *sa, const T *b, const int64_t *sb, T *out)
ENG_DISPATCH(eng_binary_f32, BINARY_PARAMS(float), (op, ndim, shape, a, sa, b, sb, out))
ENG_DISPATCH(eng_binary_f64, BINARY_PARAMS(double), (op, ndim, shape, a, sa, b, sb, out))
ENG_DISPATCH(eng_compare_f32, COMPARE_PARAMS(float), (op, ndim, shape, a, sa, b, sb, out))
ENG_DISPATCH(eng_compare_f64, COMPARE_PARAMS(double), (op, ndim, shape, a, sa, b, sb, out))
ENG_DISPATCH(eng_where_f32, WHERE_PARAMS(float), (ndim, shape, c, sc, a, sa, b, sb, out))
ENG_DISPATCH(eng_where_f64, WHERE_PARAMS(double), (ndim, shape, c, sc, a, sa, b, sb, out))
