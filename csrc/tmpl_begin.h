/*
 * tmpl_begin.h / tmpl_end.h -- the "type-generic include" used by every
 * kernel family.  A family's *_impl.h is included once per dtype:
 *
 *     #define ENG_DTYPE 32
 *     #include "unary_impl.h"     -> eng_unary_f32 ... with T = float
 *     #define ENG_DTYPE 64
 *     #include "unary_impl.h"     -> eng_unary_f64 ... with T = double
 *
 * and brackets its body with tmpl_begin.h / tmpl_end.h, which provide
 *   T         the element type
 *   FN(name)  name##_f32 or name##_f64 (public and static function names)
 *   PUB(name)  name##_f32 or name##_f64 always: a public (dispatching) function of
 *             another family, e.g. PUB(eng_matmul)
 *   KERNEL    storage class of a family's entry points: empty, or `static` below
 *   LM(f)     the libm function for T: LM(exp) is expf or exp
 *   VMATH(f)  vmath.h's function for T in this kernel set: VMATH(eng_vexp) is
 *             eng_vexpf_avx512 (float, AVX-512) or eng_vexp (double, no set)
 *   T_IS_F32  1 for float, 0 for double
 *
 * Kernel sets (tmpl_isa.h): when ENG_KSET is defined (_generic, _avx2, _avx512),
 * FN(name) also carries it -- eng_unary_f32_avx512 -- and KERNEL is `static`, so the
 * same body is compiled once per (dtype, kernel set) inside that set's target
 * pragma and the file's public eng_unary_f32 picks one per call.
 */
#ifndef ENG_CAT
#define ENG_CAT_(a, b) a##b
#define ENG_CAT(a, b) ENG_CAT_(a, b)
#endif

#if ENG_DTYPE == 32
#define T float
#define PUB(name) name##_f32
#define LM(fn) fn##f
#define T_IS_F32 1
#elif ENG_DTYPE == 64
#define T double
#define PUB(name) name##_f64
#define LM(fn) fn
#define T_IS_F32 0
#else
#error "define ENG_DTYPE as 32 or 64 before including a *_impl.h"
#endif

#ifdef ENG_KSET
#define FN(name) ENG_CAT(PUB(name), ENG_KSET)
#define KERNEL static
#define VMATH(fn) ENG_CAT(LM(fn), ENG_KSET)
#else
#define FN(name) PUB(name)
#define KERNEL
#define VMATH(fn) LM(fn)
#endif
