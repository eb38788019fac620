/*
 * engine.h -- the C kernel library behind backprop-engine's "c" device.
 *
 * Needle-style contract: the caller (Python) owns shapes, strides and dtypes
 * and checks everything before calling; the kernels see raw buffers, sizes
 * and strides only, and know nothing of Python.  Usable from any language.
 *
 * Conventions for every function below
 *   - Each kernel exists for float32 (suffix _f32, T = float) and float64
 *     (suffix _f64, T = double).  The declarations are written out in full so
 *     that this header needs no macros (cffi parses the CFFI block verbatim).
 *   - Sizes and strides are int64_t.  Strides count ELEMENTS, not bytes, and
 *     may be 0 (broadcast) or negative.  A pointer is the address of the
 *     logical first element (index 0,...,0).
 *   - ndim is at most ENG_MAX_NDIM (64, as numpy).  ndim == 0 is one element.
 *     Any dimension may be 0, in which case nothing is read or written.
 *   - Outputs are contiguous row-major unless stated, and are WRITTEN, never
 *     accumulated into, unless stated (eng_scatter_add_*, beta in matmul).
 *   - Outputs must not overlap inputs unless stated (elementwise kernels with
 *     contiguous operands may work in place: y == x is fine).
 *   - NaN and inf propagate as IEEE arithmetic does (no fast-math).
 *
 * Pseudocode notation: x[i0,...] means the element at
 *   x + i0*sx[0] + i1*sx[1] + ...   (strides in elements).
 */
#ifndef ENGINE_H
#define ENGINE_H

#include <stdint.h>

#define ENG_MAX_NDIM 64

#ifdef __cplusplus
extern "C" {
#endif

/* CFFI_BEGIN */

/* ---------------------------------------------------------------- unary --
 * Elementwise op codes for eng_unary_*.  Forward only: every derivative is
 * written once, in Python (engine/ops), from these forward kernels.
 *   NEG        y = -x
 *   EXP        y = exp(x)
 *   LOG        y = log(x)
 *   SIGMOID    y = 1/(1+exp(-x)), computed as e=exp(-|x|);
 *              y = x>=0 ? 1/(1+e) : e/(1+e)   (never overflows)
 *   TANH       y = tanh(x)
 *   RELU       y = x < 0 ? 0 : x              (NaN stays NaN, -0 stays -0: PyTorch)
 *   LEAKY_RELU y = x > 0 ? x : alpha*x
 *   ELU        y = x > 0 ? x : alpha*(exp(x)-1)
 *   POW        y = x ** alpha, as PyTorch's tensor ** scalar: alpha 0.5 is sqrt(x) and
 *              -0.5 is 1/sqrt(x) (so (-inf)**0.5 and (-inf)**-0.5 are NaN, (-0)**0.5 = -0,
 *              where C's pow gives +inf, 0 and +0); -1, 2, 3, -2 are 1/x, x*x, x*x*x,
 *              1/(x*x); any other alpha is C's pow
 *   ABS        y = |x|
 *   SIGN       y = (x > 0) - (x < 0): -1, 0 or 1; +0 at +-0 and at NaN (PyTorch's sign)
 */
enum {
    ENG_NEG = 0, ENG_EXP = 1, ENG_LOG = 2, ENG_SIGMOID = 3, ENG_TANH = 4,
    ENG_RELU = 5, ENG_LEAKY_RELU = 6, ENG_ELU = 7, ENG_POW = 8, ENG_ABS = 9,
    ENG_SIGN = 10
};

/* for i in [0, n): y[i] = f_op(x[i]; alpha).  x, y contiguous; y may == x.
 * alpha is used by LEAKY_RELU (slope), ELU (alpha) and POW (exponent).
 * An unknown op writes nothing (the caller only passes these codes). */
void eng_unary_f32(int op, int64_t n, const float *x, float *y, float alpha);
void eng_unary_f64(int op, int64_t n, const double *x, double *y, double alpha);

/* --------------------------------------------------------------- binary --
 *   ADD a+b, SUB a-b, MUL a*b, DIV a/b,
 *   MAXIMUM / MINIMUM: larger / smaller of a and b; NaN if either is NaN
 *   (like numpy.maximum), POWB: pow(a, b).
 */
enum {
    ENG_ADD = 0, ENG_SUB = 1, ENG_MUL = 2, ENG_DIV = 3,
    ENG_MAXIMUM = 4, ENG_MINIMUM = 5, ENG_POWB = 6
};

/* Broadcasting is already resolved by the caller: shape is the output shape
 * and sa/sb are the input strides over it (0 on broadcast dims).
 *   for every index I in shape (row-major):  out[flat(I)] = a[I] op b[I]
 * out is contiguous of `shape`. */
void eng_binary_f32(int op, int ndim, const int64_t *shape,
                    const float *a, const int64_t *sa,
                    const float *b, const int64_t *sb, float *out);
void eng_binary_f64(int op, int ndim, const int64_t *shape,
                    const double *a, const int64_t *sa,
                    const double *b, const int64_t *sb, double *out);

/* Comparisons: out[flat(I)] = (a[I] cmp b[I]) ? 1 : 0, IEEE (NaN: only NE true) */
enum { ENG_LT = 0, ENG_LE = 1, ENG_GT = 2, ENG_GE = 3, ENG_EQ = 4, ENG_NE = 5 };

void eng_compare_f32(int op, int ndim, const int64_t *shape,
                     const float *a, const int64_t *sa,
                     const float *b, const int64_t *sb, uint8_t *out);
void eng_compare_f64(int op, int ndim, const int64_t *shape,
                     const double *a, const int64_t *sa,
                     const double *b, const int64_t *sb, uint8_t *out);

/* out[flat(I)] = c[I] != 0 ? a[I] : b[I]   (strided/broadcast c, a, b) */
void eng_where_f32(int ndim, const int64_t *shape,
                   const uint8_t *c, const int64_t *sc,
                   const float *a, const int64_t *sa,
                   const float *b, const int64_t *sb, float *out);
void eng_where_f64(int ndim, const int64_t *shape,
                   const uint8_t *c, const int64_t *sc,
                   const double *a, const int64_t *sa,
                   const double *b, const int64_t *sb, double *out);

/* ---------------------------------------------------------------- copies -- */

/* Strided -> contiguous: out[flat(I)] = x[I] for every I in shape. */
void eng_copy_f32(int ndim, const int64_t *shape, const float *x, const int64_t *sx, float *out);
void eng_copy_f64(int ndim, const int64_t *shape, const double *x, const int64_t *sx, double *out);

/* Strided -> contiguous with a dtype change: out[flat(I)] = (double/float) x[I]
 * (f64 -> f32 rounds to nearest, overflows to +-inf). */
void eng_cast_f32_f64(int ndim, const int64_t *shape, const float *x, const int64_t *sx, double *out);
void eng_cast_f64_f32(int ndim, const int64_t *shape, const double *x, const int64_t *sx, float *out);

/* for i in [0, n): out[i] = value */
void eng_fill_f32(int64_t n, float *out, float value);
void eng_fill_f64(int64_t n, double *out, double value);

/* ------------------------------------------------------------ reductions --
 * The reduced axes are the LAST nred of the ndim dims (the caller permutes
 * shape/strides so).  Let K = shape[0 : ndim-nred] (kept) and
 * R = shape[ndim-nred : ndim] (reduced).  out is contiguous over K (one
 * element when nred == ndim); nred == 0 is a plain copy.
 *
 * sum:  out[k] = sum over r in R of x[k, r]       (empty R gives 0; a sum starts
 *       from +0, so the sum of -0s is +0, as numpy and PyTorch)
 *       Accumulated pairwise / in blocks with several accumulators, so the
 *       float32 error grows like numpy's pairwise sum, not linearly.
 */
void eng_sum_f32(int ndim, const int64_t *shape, const float *x, const int64_t *sx,
                 int nred, float *out);
void eng_sum_f64(int ndim, const int64_t *shape, const double *x, const int64_t *sx,
                 int nred, double *out);

/* max:  out[k] = max over r in R of x[k, r]
 *       arg[k] = flat row-major index r (within R) of the FIRST maximum.
 *       NaN wins: if the block holds a NaN, out[k] = NaN and arg[k] is the
 *       index of the first NaN (as numpy.max / numpy.argmax).
 *       arg may be NULL.  R must not be empty (the caller guarantees it).
 * min:  the same with "min". */
void eng_max_f32(int ndim, const int64_t *shape, const float *x, const int64_t *sx,
                 int nred, float *out, int64_t *arg);
void eng_max_f64(int ndim, const int64_t *shape, const double *x, const int64_t *sx,
                 int nred, double *out, int64_t *arg);
void eng_min_f32(int ndim, const int64_t *shape, const float *x, const int64_t *sx,
                 int nred, float *out, int64_t *arg);
void eng_min_f64(int ndim, const int64_t *shape, const double *x, const int64_t *sx,
                 int nred, double *out, int64_t *arg);

/* ---------------------------------------------------------------- matmul --
 * for i in [0, batch):
 *   Ai = A + i*bsa,  Bi = B + i*bsb,  Ci = C + i*bsc   (bsa/bsb may be 0)
 *   op(Ai) is M x K:  ta == 0: Ai is row-major M x K, row stride lda,
 *                              op(Ai)[m,k] = Ai[m*lda + k]
 *                     ta == 1: Ai is row-major K x M, row stride lda,
 *                              op(Ai)[m,k] = Ai[k*lda + m]   (transpose)
 *   op(Bi) is K x N:  tb == 0: op(Bi)[k,n] = Bi[k*ldb + n]
 *                     tb == 1: op(Bi)[k,n] = Bi[n*ldb + k]
 *   Ci is row-major M x N with row stride ldc:
 *   Ci[m,n] = sum_k op(Ai)[m,k] * op(Bi)[k,n]  +  beta * Ci[m,n]
 * beta == 0 means C is not read at all (NaN/garbage in C is overwritten).
 * K == 0 gives beta*C (zeros when beta == 0).  The C blocks of different
 * batch entries must not overlap.
 *
 * eng_matmul_*: packed, register-blocked, cache-blocked GEMM (micro-kernel of
 * the kernel set in use: AVX-512 14x32 f32 / 14x16 f64, AVX2+FMA 6x16 / 6x8, or
 * portable C; block sizes from the caches read at run time; OpenMP when built
 * with it).  eng_matmul_naive_*: the plain triple loop, kept as the reference
 * the tests compare against; same signature and semantics. */
void eng_matmul_f32(int64_t batch, int64_t M, int64_t N, int64_t K,
                    const float *A, int64_t lda, int64_t bsa, int ta,
                    const float *B, int64_t ldb, int64_t bsb, int tb,
                    float *C, int64_t ldc, int64_t bsc, float beta);
void eng_matmul_f64(int64_t batch, int64_t M, int64_t N, int64_t K,
                    const double *A, int64_t lda, int64_t bsa, int ta,
                    const double *B, int64_t ldb, int64_t bsb, int tb,
                    double *C, int64_t ldc, int64_t bsc, double beta);
void eng_matmul_naive_f32(int64_t batch, int64_t M, int64_t N, int64_t K,
                          const float *A, int64_t lda, int64_t bsa, int ta,
                          const float *B, int64_t ldb, int64_t bsb, int tb,
                          float *C, int64_t ldc, int64_t bsc, float beta);
void eng_matmul_naive_f64(int64_t batch, int64_t M, int64_t N, int64_t K,
                          const double *A, int64_t lda, int64_t bsa, int ta,
                          const double *B, int64_t ldb, int64_t bsb, int tb,
                          double *C, int64_t ldc, int64_t bsc, double beta);

/* ---------------------------------------------------------------- linear --
 * PyTorch layout, everything contiguous: x (M,K), w (N,K), b (N) or NULL,
 * y (M,N).  Activations:
 *   NONE a(z) = z; RELU a(z) = z < 0 ? 0 : z (as the RELU op); SIGMOID a(z) = 1/(1+exp(-z));
 *   TANH a(z) = tanh(z). */
enum { ENG_ACT_NONE = 0, ENG_ACT_RELU = 1, ENG_ACT_SIGMOID = 2, ENG_ACT_TANH = 3 };

/* y[m,n] = act( sum_k x[m,k] * w[n,k] + (b ? b[n] : 0) )
 * (fast GEMM with the transposed-B flag, then one fused bias+act pass) */
void eng_linear_forward_f32(int64_t M, int64_t K, int64_t N, const float *x,
                            const float *w, const float *b, int act, float *y);
void eng_linear_forward_f64(int64_t M, int64_t K, int64_t N, const double *x,
                            const double *w, const double *b, int act, double *y);

/* Backward of eng_linear_forward, given y (its output) and gy = dL/dy:
 *   gpre[m,n] = gy[m,n] * act'(y[m,n])     with act' from the OUTPUT y:
 *               NONE 1, RELU !(y <= 0) (NaN passes gy), SIGMOID y(1-y), TANH 1-y^2
 *   gx[m,k]   = sum_n gpre[m,n] * w[n,k]   (skipped when gx == NULL)
 *   gw[n,k]   = sum_m gpre[m,n] * x[m,k]
 *   gb[n]     = sum_m gpre[m,n]            (skipped when gb == NULL)
 * gpre is (M,N) scratch owned by the caller (it may be gy itself: then gy
 * is overwritten with gpre).  All outputs are written, not accumulated. */
void eng_linear_backward_f32(int64_t M, int64_t K, int64_t N, const float *x,
                             const float *w, const float *y, const float *gy, int act,
                             float *gpre, float *gx, float *gw, float *gb);
void eng_linear_backward_f64(int64_t M, int64_t K, int64_t N, const double *x,
                             const double *w, const double *y, const double *gy, int act,
                             double *gpre, double *gx, double *gw, double *gb);

/* --------------------------------------------------------------- softmax --
 * Along the last axis of a contiguous (rows, cols) block, max-subtracted:
 *   mx = max_j x[r,j];  s = sum_j exp(x[r,j] - mx)
 *   log == 0: y[r,j] = exp(x[r,j] - mx) / s
 *   log == 1: y[r,j] = (x[r,j] - mx) - log(s)     (in that order: nothing lost at |x| ~ 1e16)
 * A row of all -inf, or holding a NaN or +inf, gives NaN (as PyTorch).  y may == x. */
void eng_softmax_f32(int64_t rows, int64_t cols, const float *x, float *y, int log);
void eng_softmax_f64(int64_t rows, int64_t cols, const double *x, double *y, int log);

/* Backward, from the forward OUTPUT y and gy:
 *   log == 0: gx[r,j] = y[r,j] * (gy[r,j] - sum_i gy[r,i]*y[r,i])
 *   log == 1: gx[r,j] = gy[r,j] - exp(y[r,j]) * sum_i gy[r,i]     */
void eng_softmax_backward_f32(int64_t rows, int64_t cols, const float *y,
                              const float *gy, float *gx, int log);
void eng_softmax_backward_f64(int64_t rows, int64_t cols, const double *y,
                              const double *gy, double *gx, int log);

/* --------------------------------------------------------- cross entropy --
 * logits (rows, cols) contiguous; target[r] in [0, cols) (checked by caller).
 *   loss[r] = logsumexp_j(logits[r,j]) - logits[r, target[r]]
 *           = (mx - logits[r, target[r]]) + log(s)   (mx, s as in softmax: stable and
 *             exact for huge logits; NaN where the row's softmax is NaN) */
void eng_cross_entropy_f32(int64_t rows, int64_t cols, const float *logits,
                           const int64_t *target, float *loss);
void eng_cross_entropy_f64(int64_t rows, int64_t cols, const double *logits,
                           const int64_t *target, double *loss);

/*   glogits[r,j] = gloss[r] * (softmax(logits[r])_j - (j == target[r])) */
void eng_cross_entropy_backward_f32(int64_t rows, int64_t cols, const float *logits,
                                    const int64_t *target, const float *gloss,
                                    float *glogits);
void eng_cross_entropy_backward_f64(int64_t rows, int64_t cols, const double *logits,
                                    const int64_t *target, const double *gloss,
                                    double *glogits);

/* ------------------------------------------------------ difference losses --
 * The regression losses of d = a - b, item by item, for contiguous a, b of n items:
 *   kind ENG_LOSS_SQUARED (MSE):  item(d) = d*d,  slope(d) = 2 d
 *   kind ENG_LOSS_ABS     (L1):   item(d) = |d|,  slope(d) = sign(d), 0 at 0 and at NaN
 * forward:   diff[i] = a[i] - b[i];  *loss = (sum_i item(diff[i])) / divisor
 * backward:  ga[i] = (g[0] / divisor) * slope(diff[i])
 * divisor is n for a mean, 1 for a sum (so 0/0 = NaN for the mean of nothing, as IEEE says).
 * One call each way instead of four elementwise calls and a reduction. */
enum { ENG_LOSS_SQUARED = 0, ENG_LOSS_ABS = 1 };
void eng_diff_loss_f32(int kind, int64_t n, const float *a, const float *b, float divisor, float *diff,
                       float *loss);
void eng_diff_loss_f64(int kind, int64_t n, const double *a, const double *b, double divisor, double *diff,
                       double *loss);
void eng_diff_loss_backward_f32(int kind, int64_t n, const float *diff, const float *g, float divisor,
                                float *ga);
void eng_diff_loss_backward_f64(int kind, int64_t n, const double *diff, const double *g, double divisor,
                                double *ga);

/* ------------------------------------------------------------ optimizers --
 * In place over n contiguous parameters, torch.optim semantics.
 * SGD, for each i:
 *   d = g[i];  if (weight_decay != 0) d = d + weight_decay * p[i]
 *   if (momentum != 0):
 *       buf[i] = first ? d : momentum*buf[i] + (1 - dampening)*d
 *       d = nesterov ? d + momentum*buf[i] : buf[i]
 *   p[i] = p[i] - lr*d
 * buf may be NULL when momentum == 0. */
void eng_sgd_f32(int64_t n, float *p, const float *g, float *buf, float lr, float momentum,
                 float dampening, float weight_decay, int nesterov, int first);
void eng_sgd_f64(int64_t n, double *p, const double *g, double *buf, double lr, double momentum,
                 double dampening, double weight_decay, int nesterov, int first);

/* Adam (L2 penalty added to the gradient, not AdamW), step >= 1:
 *   bc1 = 1 - beta1^step;  bc2 = 1 - beta2^step   (in double)
 *   for each i:
 *     d = g[i];  if (weight_decay != 0) d = d + weight_decay * p[i]
 *     m[i] = m[i] + (1 - beta1) * (d - m[i])      (= beta1*m + (1-beta1)*d,
 *                                                   torch's lerp form)
 *     v[i] = beta2 * v[i] + (1 - beta2) * d * d
 *     denom = sqrt(v[i]) / sqrt(bc2) + eps
 *     p[i] = p[i] - (lr / bc1) * m[i] / denom      */
void eng_adam_f32(int64_t n, float *p, const float *g, float *m, float *v, float lr,
                  float beta1, float beta2, float eps, float weight_decay, int64_t step);
void eng_adam_f64(int64_t n, double *p, const double *g, double *m, double *v, double lr,
                  double beta1, double beta2, double eps, double weight_decay, int64_t step);

/* ------------------------------------------------------ gather / scatter --
 * Along one axis of an N-d array, with the axis folded out of the strides: the
 * caller gives the strides over the ITERATION shape `shape` (the index's shape)
 * with 0 on the indexed axis, and the indexed array's stride along that axis
 * separately (sax).  Every idx[I] is in [0, size of that axis) (checked by the
 * caller).  Strides may be 0 (broadcast) or negative.
 *
 * gather (PyTorch's gather, numpy's take_along_axis):
 *   for every I in shape:  out[flat(I)] = x[I] + idx[I] * sax
 *   i.e. out[I] = x[I with I[axis] replaced by idx[I]]; out contiguous of shape.
 * scatter_add (the backward of gather, and index_add of rows):
 *   for every I in shape, in row-major order, one at a time:
 *       out[I + idx[I] * sax] += src[I]
 *   ACCUMULATES into out (strided by so); repeated indices add up, in order,
 *   so the result has the same bits as a serial loop (numpy.add.at). */
void eng_gather_f32(int ndim, const int64_t *shape, const float *x, const int64_t *sx, int64_t sax,
                    const int64_t *idx, const int64_t *si, float *out);
void eng_gather_f64(int ndim, const int64_t *shape, const double *x, const int64_t *sx, int64_t sax,
                    const int64_t *idx, const int64_t *si, double *out);
void eng_scatter_add_f32(int ndim, const int64_t *shape, const int64_t *idx, const int64_t *si,
                         const float *src, const int64_t *ss, float *out, const int64_t *so, int64_t sax);
void eng_scatter_add_f64(int ndim, const int64_t *shape, const int64_t *idx, const int64_t *si,
                         const double *src, const int64_t *ss, double *out, const int64_t *so, int64_t sax);

/* --------------------------------------------------------------- runtime --
 * eng_num_threads: threads the kernels will use (omp_get_max_threads(), or
 *   1 without OpenMP).
 * eng_set_num_threads: n >= 1 sets it (omp_set_num_threads); no-op without
 *   OpenMP, and in the child of a fork().
 * eng_in_forked_child: 1 in the child of a fork() of a process that loaded this
 *   library, else 0.  GNU OpenMP's thread pool does not survive fork (the next
 *   multi-threaded region would wait forever for threads that are gone), so a
 *   pthread_atfork handler sets the child to one thread, for good.
 * eng_build_info: a static string naming the kernel set in use (eng_isa below)
 *   and whether OpenMP is compiled in, e.g.
 *   "kernels: avx512 (AVX-512, runtime dispatch); openmp: yes". */
int eng_num_threads(void);
void eng_set_num_threads(int n);
int eng_in_forked_child(void);
const char *eng_build_info(void);

/* ------------------------------------------------------------ kernel sets --
 * Every kernel family is compiled for several instruction sets and one set is
 * chosen at run time (cpuid; the build itself stays portable):
 *   ENG_ISA_GENERIC  portable C (whatever the compiler's baseline gives)
 *   ENG_ISA_AVX2     AVX2 + FMA
 *   ENG_ISA_AVX512   AVX-512 F/BW/DQ/VL + FMA
 * eng_isa: the set in use.  On first use it is ENGINE_ISA when that names a
 *   supported set, else the best the CPU (and the OS) supports.  Python checks
 *   ENGINE_ISA first and refuses an unknown or unsupported name in one line.
 * eng_isa_best: the best set this CPU supports (ignores ENGINE_ISA).
 * eng_isa_supported: 1 if the CPU and this build can run `isa`, else 0.
 * eng_set_isa: switch to `isa` (tests); 0 on success, -1 if unsupported.
 *   Not for use while kernels run on other threads.
 * eng_isa_name: "generic", "avx2", "avx512" (NULL for another number). */
#define ENG_ISA_GENERIC 0
#define ENG_ISA_AVX2 1
#define ENG_ISA_AVX512 2
int eng_isa(void);
int eng_isa_best(void);
int eng_isa_supported(int isa);
int eng_set_isa(int isa);
const char *eng_isa_name(int isa);

/* CFFI_END */

#ifdef __cplusplus
}
#endif

#endif /* ENGINE_H */
