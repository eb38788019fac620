/* gemm_impl.h -- the GEMM driver for one dtype (see gemm.c, tmpl_begin.h). */
#include "tmpl_begin.h"

#define MR FN(GEMM_MR)
#define NR FN(GEMM_NR)
#define KC FN(GEMM_KC)
#define MC FN(GEMM_MC)
#define NC FN(GEMM_NC)

typedef void (*FN(ukern_t))(int64_t kc, const T *a, const T *b, T *c, int64_t ldc, T beta);

/* Portable micro-kernel, same tile and packed layout as the AVX2 one. */
static void FN(ukern_generic)(int64_t kc, const T *restrict a, const T *restrict b,
                              T *restrict c, int64_t ldc, T beta)
{
    T acc[MR][NR];
    memset(acc, 0, sizeof acc);
    for (int64_t p = 0; p < kc; p++) {
        for (int i = 0; i < MR; i++) {
            const T ai = a[p * MR + i];
            for (int j = 0; j < NR; j++)
                acc[i][j] += ai * b[p * NR + j];
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++)
            c[i * ldc + j] = beta == 0 ? acc[i][j] : acc[i][j] + beta * c[i * ldc + j];
}

static FN(ukern_t) FN(pick_ukern)(void)
{
#if ENG_X86
    if (eng_gemm_uses_avx2())
        return FN(ukern_avx2);
#endif
    return FN(ukern_generic);
}

/* Pack op(A)[0:mc, 0:kc] (element (i,p) at A[i*rs + p*cs]) into MR-row
 * panels: panel q holds rows q*MR.. as dst[q*MR*kc + p*MR + i], zero-padded. */
static void FN(pack_a)(int64_t mc, int64_t kc, const T *restrict A, int64_t rs, int64_t cs,
                       T *restrict dst)
{
    for (int64_t i0 = 0; i0 < mc; i0 += MR) {
        const int64_t rows = mc - i0 < MR ? mc - i0 : MR;
        T *restrict d = dst + i0 * kc;
        const T *a = A + i0 * rs;
        if (rows == MR && cs == 1) {            /* A row-major: gather MR rows */
            for (int64_t p = 0; p < kc; p++)
                for (int i = 0; i < MR; i++)
                    d[p * MR + i] = a[i * rs + p];
        } else if (rows == MR && rs == 1) {     /* A transposed: rows are contiguous */
            for (int64_t p = 0; p < kc; p++)
                for (int i = 0; i < MR; i++)
                    d[p * MR + i] = a[p * cs + i];
        } else {
            for (int64_t p = 0; p < kc; p++) {
                for (int64_t i = 0; i < rows; i++)
                    d[p * MR + i] = a[i * rs + p * cs];
                for (int64_t i = rows; i < MR; i++)
                    d[p * MR + i] = 0;
            }
        }
    }
}

/* Pack op(B)[0:kc, 0:nc] (element (p,j) at B[p*rs + j*cs]) into NR-column
 * panels: panel q holds dst[q*NR*kc + p*NR + j], zero-padded. */
static void FN(pack_b)(int64_t kc, int64_t nc, const T *restrict B, int64_t rs, int64_t cs,
                       T *restrict dst)
{
    for (int64_t j0 = 0; j0 < nc; j0 += NR) {
        const int64_t cols = nc - j0 < NR ? nc - j0 : NR;
        T *restrict d = dst + j0 * kc;
        const T *b = B + j0 * cs;
        if (cols == NR && cs == 1) {            /* B row-major: copy NR-wide strips */
            for (int64_t p = 0; p < kc; p++)
                for (int j = 0; j < NR; j++)
                    d[p * NR + j] = b[p * rs + j];
        } else if (cols == NR && rs == 1) {     /* B transposed: read its rows */
            for (int j = 0; j < NR; j++)
                for (int64_t p = 0; p < kc; p++)
                    d[p * NR + j] = b[j * cs + p];
        } else {
            for (int64_t p = 0; p < kc; p++) {
                for (int64_t j = 0; j < cols; j++)
                    d[p * NR + j] = b[p * rs + j * cs];
                for (int64_t j = cols; j < NR; j++)
                    d[p * NR + j] = 0;
            }
        }
    }
}

/* C[0:mc, jlo:jhi] (+)= Ap @ Bp[:, jlo:jhi] for one packed A block. */
static void FN(macro_kernel)(FN(ukern_t) kern, int64_t mc, int64_t jlo, int64_t jhi,
                             int64_t kc, const T *Ap, const T *Bp, T *C, int64_t ldc, T beta)
{
    T tile[MR * NR] __attribute__((aligned(64)));
    for (int64_t j0 = jlo; j0 < jhi; j0 += NR) {
        const int64_t nr = jhi - j0 < NR ? jhi - j0 : NR;
        const T *bp = Bp + j0 * kc;
        for (int64_t i0 = 0; i0 < mc; i0 += MR) {
            const int64_t mr = mc - i0 < MR ? mc - i0 : MR;
            T *c = C + i0 * ldc + j0;
            if (mr == MR && nr == NR) {
                kern(kc, Ap + i0 * kc, bp, c, ldc, beta);
            } else {                            /* edge tile via a local buffer */
                kern(kc, Ap + i0 * kc, bp, tile, NR, 0);
                for (int64_t i = 0; i < mr; i++)
                    for (int64_t j = 0; j < nr; j++)
                        c[i * ldc + j] = beta == 0 ? tile[i * NR + j]
                                                   : tile[i * NR + j] + beta * c[i * ldc + j];
            }
        }
    }
}

typedef struct {
    FN(ukern_t) kern;
    int64_t M, kc, nc, mcb, nic, nsplit, npanels;
    const T *A; int64_t rsa, csa;       /* A block: op(A)[0:M, pc:pc+kc] */
    const T *B; int64_t rsb, csb;       /* B block: op(B)[pc:pc+kc, jc:jc+nc] */
    T *Bp;                              /* shared packed B */
    T *C; int64_t ldc;                  /* C[0:M, jc:jc+nc] */
    T beta;
} FN(block_args);

/* Pack panel q of the B block into the shared buffer. */
static void FN(pack_b_panel)(const FN(block_args) *w, int64_t q)
{
    const int64_t j0 = q * NR;
    FN(pack_b)(w->kc, w->nc - j0 < NR ? w->nc - j0 : NR, w->B + j0 * w->csb, w->rsb, w->csb,
               w->Bp + j0 * w->kc);
}

/* Work item t: one A block (packed into this thread's Ap) times a range of
 * the packed B panels. */
static void FN(run_item)(const FN(block_args) *w, T *Ap, int64_t t)
{
    const int64_t bi = t / w->nsplit, s = t % w->nsplit;
    const int64_t ic = bi * w->mcb;
    const int64_t mc = w->M - ic < w->mcb ? w->M - ic : w->mcb;
    const int64_t jlo = w->npanels * s / w->nsplit * NR;
    int64_t jhi = w->npanels * (s + 1) / w->nsplit * NR;
    if (jhi > w->nc)
        jhi = w->nc;
    if (jlo < jhi) {
        FN(pack_a)(mc, w->kc, w->A + ic * w->rsa, w->rsa, w->csa, Ap);
        FN(macro_kernel)(w->kern, mc, jlo, jhi, w->kc, Ap, w->Bp, w->C + ic * w->ldc,
                         w->ldc, w->beta);
    }
}

/* One (jc, pc) step: pack the B block, then run the A blocks, on nt threads.
 * (With one thread no OpenMP construct is used at all, so this is safe to
 * call from inside another parallel region, e.g. the batch loop.) */
static void FN(block_work)(const FN(block_args) *w, int nt)
{
    const int64_t nitems = w->nic * w->nsplit;
    if (nt <= 1) {
        T *Ap = get_buf(&tls_abuf, ABUF_BYTES);
        for (int64_t q = 0; q < w->npanels; q++)
            FN(pack_b_panel)(w, q);
        for (int64_t t = 0; t < nitems; t++)
            FN(run_item)(w, Ap, t);
        return;
    }
    int fail = 0;
    T *Ap0 = get_buf(&tls_abuf, ABUF_BYTES);    /* caller's buffer, checked non-NULL */
    ENG_OMP(parallel num_threads(nt))
    {
        ENG_OMP(for schedule(static))
        for (int64_t q = 0; q < w->npanels; q++)
            FN(pack_b_panel)(w, q);
        T *Ap = get_buf(&tls_abuf, ABUF_BYTES);
        if (!Ap) {
            ENG_OMP(atomic write)
            fail = 1;
        }
        ENG_OMP(barrier)                        /* B packed; every Ap known */
        int failed;
        ENG_OMP(atomic read)
        failed = fail;
        if (!failed) {
            ENG_OMP(for schedule(static))
            for (int64_t t = 0; t < nitems; t++)
                FN(run_item)(w, Ap, t);
        } else {                                /* a thread had no memory: one thread does it */
            ENG_OMP(single)
            for (int64_t t = 0; t < nitems; t++)
                FN(run_item)(w, Ap0, t);
        }
    }
}

/* One product C = op(A) @ op(B) + beta*C with K > 0, on `nt` threads. */
static void FN(gemm_one)(int64_t M, int64_t N, int64_t K,
                         const T *A, int64_t rsa, int64_t csa,
                         const T *B, int64_t rsb, int64_t csb,
                         T *C, int64_t ldc, T beta, int nt)
{
    FN(ukern_t) kern = FN(pick_ukern)();
    T *Bp = get_buf(&tls_bbuf, BBUF_BYTES);
    if (!Bp || !get_buf(&tls_abuf, ABUF_BYTES)) {   /* out of memory: stay correct */
        FN(eng_matmul_naive)(1, M, N, K, A, csa == 1 ? rsa : csa, 0, csa != 1,
                             B, csb == 1 ? rsb : csb, 0, csb != 1, C, ldc, 0, beta);
        return;
    }
    /* With several threads, shrink MC so that there are enough A blocks;
     * when M is too small even for that, also split the columns. */
    int64_t mcb = MC;
    if (nt > 1) {
        int64_t per = (M + nt - 1) / nt;
        per = (per + MR - 1) / MR * MR;
        if (per < mcb)
            mcb = per;
    }
    const int64_t nic = (M + mcb - 1) / mcb;

    for (int64_t jc = 0; jc < N; jc += NC) {
        const int64_t nc = N - jc < NC ? N - jc : NC;
        const int64_t npanels = (nc + NR - 1) / NR;
        int64_t nsplit = 1;
        if (nic < nt) {
            nsplit = (nt + nic - 1) / nic;
            if (nsplit > npanels)
                nsplit = npanels;
        }
        for (int64_t pc = 0; pc < K; pc += KC) {
            const int64_t kc = K - pc < KC ? K - pc : KC;
            FN(block_args) w = {kern, M, kc, nc, mcb, nic, nsplit, npanels,
                                A + pc * csa, rsa, csa, B + pc * rsb + jc * csb, rsb, csb,
                                Bp, C + jc, ldc, pc == 0 ? beta : 1};
            FN(block_work)(&w, nt);
        }
    }
}

void FN(eng_matmul)(int64_t batch, int64_t M, int64_t N, int64_t K,
                    const T *A, int64_t lda, int64_t bsa, int ta,
                    const T *B, int64_t ldb, int64_t bsb, int tb,
                    T *C, int64_t ldc, int64_t bsc, T beta)
{
    if (batch <= 0 || M <= 0 || N <= 0)
        return;
    if (K <= 0) {                               /* C = beta*C, or zeros */
        for (int64_t i = 0; i < batch; i++)
            for (int64_t m = 0; m < M; m++) {
                T *c = C + i * bsc + m * ldc;
                for (int64_t n = 0; n < N; n++)
                    c[n] = beta == 0 ? 0 : beta * c[n];
            }
        return;
    }
    const int64_t rsa = ta ? 1 : lda, csa = ta ? lda : 1;
    const int64_t rsb = tb ? 1 : ldb, csb = tb ? ldb : 1;
    int nt = 1;
#ifdef _OPENMP
    if (M * N * K * batch >= GEMM_PAR_MIN_MACS && !omp_in_parallel())
        nt = omp_get_max_threads();
#endif
    if (nt > 1 && batch >= nt) {                /* many products: one per thread */
        ENG_OMP(parallel for schedule(static) num_threads(nt))
        for (int64_t i = 0; i < batch; i++)
            FN(gemm_one)(M, N, K, A + i * bsa, rsa, csa, B + i * bsb, rsb, csb,
                         C + i * bsc, ldc, beta, 1);
        return;
    }
    if (nt > 1 && M * N * K < GEMM_PAR_MIN_MACS)
        nt = 1;                                 /* each product too small to split */
    for (int64_t i = 0; i < batch; i++)
        FN(gemm_one)(M, N, K, A + i * bsa, rsa, csa, B + i * bsb, rsb, csb,
                     C + i * bsc, ldc, beta, nt);
}

#undef MR
#undef NR
#undef KC
#undef MC
#undef NC
#include "tmpl_end.h"
