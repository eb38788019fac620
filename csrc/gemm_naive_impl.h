/* gemm_naive_impl.h -- body of gemm_naive.c for one dtype (see tmpl_begin.h). */
#include "tmpl_begin.h"

void FN(eng_matmul_naive)(int64_t batch, int64_t M, int64_t N, int64_t K,
                          const T *A, int64_t lda, int64_t bsa, int ta,
                          const T *B, int64_t ldb, int64_t bsb, int tb,
                          T *C, int64_t ldc, int64_t bsc, T beta)
{
    /* op(A)[m,k] = A[m*rsa + k*csa],  op(B)[k,n] = B[k*rsb + n*csb] */
    const int64_t rsa = ta ? 1 : lda, csa = ta ? lda : 1;
    const int64_t rsb = tb ? 1 : ldb, csb = tb ? ldb : 1;
    for (int64_t i = 0; i < batch; i++) {
        const T *Ai = A + i * bsa, *Bi = B + i * bsb;
        T *Ci = C + i * bsc;
        for (int64_t m = 0; m < M; m++) {
            for (int64_t n = 0; n < N; n++) {
                T acc = 0;
                for (int64_t k = 0; k < K; k++)
                    acc += Ai[m * rsa + k * csa] * Bi[k * rsb + n * csb];
                T *c = &Ci[m * ldc + n];
                *c = beta == 0 ? acc : acc + beta * *c;   /* beta == 0: C not read */
            }
        }
    }
}

#include "tmpl_end.h"
