/*
 * tmpl_begin.h / tmpl_end.h -- the "type-generic include" used by every
 * kernel family.  A family's *_impl.h is included twice:
 *
 *     #define ENG_DTYPE 32
 *     #include "unary_impl.h"     -> eng_unary_f32 ... with T = float
 *     #define ENG_DTYPE 64
 *     #include "unary_impl.h"     -> eng_unary_f64 ... with T = double
 *
 * and brackets its body with tmpl_begin.h / tmpl_end.h, which provide
 *   T         the element type
 *   FN(name)  name##_f32 or name##_f64 (public and static function names)
 *   LM(f)     the libm function for T: LM(exp) is expf or exp
 *   T_IS_F32  1 for float, 0 for double
 */
#if ENG_DTYPE == 32
#define T float
#define FN(name) name##_f32
#define LM(fn) fn##f
#define T_IS_F32 1
#elif ENG_DTYPE == 64
#define T double
#define FN(name) name##_f64
#define LM(fn) fn
#define T_IS_F32 0
#else
#error "define ENG_DTYPE as 32 or 64 before including a *_impl.h"
#endif
