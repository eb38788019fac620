/*
 * tmpl_isa.h -- compile a kernel family once per (kernel set, dtype) and pick the set
 * per call.  A family's .c file does
 *
 *     #define ENG_IMPL "unary_impl.h"
 *     #include "tmpl_isa.h"
 *     ENG_DISPATCH(eng_unary_f32, (int op, int64_t n, const float *x, float *y, float alpha),
 *                  (op, n, x, y, alpha))
 *     ...
 *
 * which defines the static kernels eng_unary_f32_generic (the portable baseline the
 * build is compiled for), and on x86 eng_unary_f32_avx2 (inside
 * `#pragma GCC target("avx2,fma")`) and eng_unary_f32_avx512 (AVX-512F/BW/DQ/VL),
 * each with T = float and T = double (tmpl_begin.h), and one public function per
 * entry point that reads eng_isa() once and calls that set's kernel.
 *
 * The same C is compiled three times: the compiler vectorises each copy for its
 * target (4 / 8 / 16 float lanes, FMA contraction in the x86 sets).  The static inline
 * helpers of vmath.h, defined before the target regions, inline into each (their
 * target, the baseline, is a subset of every set's).  The results of a kernel set are
 * the same on every run; two sets may differ in the last bit where FMA contracts a
 * multiply-add (sums and reductions are written so that they do not: see reduce_impl.h).
 */
#ifndef ENG_IMPL
#error "define ENG_IMPL as the family's *_impl.h before including tmpl_isa.h"
#endif

#include "vmath.h"   /* before any set: its plain names and the bit helpers, at the baseline */

/* _Pragma with a macro argument (#pragma GCC target does not expand macros). */
#define ENG_PRAGMA_STR_(x) _Pragma(#x)
#define ENG_PRAGMA_STR(x) ENG_PRAGMA_STR_(x)

#define ENG_KSET _generic
#include "vmath_impl.h"   /* this set's exp, tanh, sigmoid */
#define ENG_DTYPE 32
#include ENG_IMPL
#define ENG_DTYPE 64
#include ENG_IMPL
#undef ENG_KSET

#if ENG_X86
#if defined(__clang__)
#define ENG_TARGET_PUSH(s) ENG_PRAGMA_STR(clang attribute push(__attribute__((target(s))), apply_to = function))
#define ENG_TARGET_POP() _Pragma("clang attribute pop")
#else
#define ENG_TARGET_PUSH(s) _Pragma("GCC push_options") ENG_PRAGMA_STR(GCC target(s))
#define ENG_TARGET_POP() _Pragma("GCC pop_options")
#endif

ENG_TARGET_PUSH(ENG_TARGET_AVX2)
#define ENG_KSET _avx2
#include "vmath_impl.h"   /* this set's exp, tanh, sigmoid */
#define ENG_DTYPE 32
#include ENG_IMPL
#define ENG_DTYPE 64
#include ENG_IMPL
#undef ENG_KSET
ENG_TARGET_POP()

ENG_TARGET_PUSH(ENG_TARGET_AVX512)
#define ENG_KSET _avx512
#include "vmath_impl.h"   /* this set's exp, tanh, sigmoid */
#define ENG_DTYPE 32
#include ENG_IMPL
#define ENG_DTYPE 64
#include ENG_IMPL
#undef ENG_KSET
ENG_TARGET_POP()

/* One public entry point: eng_isa() read once, that set's kernel called. */
#define ENG_DISPATCH(name, params, args)                                       \
    void name params                                                           \
    {                                                                          \
        switch (eng_isa()) {                                                   \
        case ENG_ISA_AVX512: name##_avx512 args; break;                        \
        case ENG_ISA_AVX2:   name##_avx2 args; break;                          \
        default:             name##_generic args; break;                       \
        }                                                                      \
    }
#else
#define ENG_DISPATCH(name, params, args) \
    void name params { name##_generic args; }
#endif
