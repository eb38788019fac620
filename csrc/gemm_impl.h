/* gemm_impl.h -- the GEMM driver for one dtype (see gemm.c, tmpl_begin.h). */
#include "tmpl_begin.h"

/* A micro-kernel: C[0:mr, 0:nr] = A_panel @ B_panel (+ beta*C when beta != 0)
 * where a is one packed MR x kc panel (a[p*MR + i]) and b one packed kc x NR
 * panel (b[p*NR + j]); mr <= MR and nr <= NR give the valid part of the tile. */
typedef void (*FN(ukern_t))(int64_t kc, const T *a, const T *b, T *c, int64_t ldc, T beta,
                            int mr, int nr);

/* Vector packing routines (gemm.c), R valid rows or columns of W:
 *   tpack (transposing): d[p*W + i] = i < R ? src[i*ld + p] : 0
 *   cpack (copying):     d[p*W + j] = j < R ? src[p*ld + j] : 0 */
typedef void (*FN(pack_t))(int64_t kc, const T *src, int64_t ld, int R, int W, T *d);

/* What one call runs with: the kernel set's micro-kernel, packers and tile,
 * and the largest cache blocks for that tile (gemm.c: eng_gemm_blocks;
 * gemm_one cuts each product into equal blocks no larger). */
typedef struct {
    FN(ukern_t) kern;
    FN(pack_t) tpack, cpack;            /* NULL: the portable packing loops */
    int mr, nr;
    int64_t kc, mc, nc;
} FN(gemm_plan);

#define GEN_MR FN(GEMM_GEN_MR)
#define GEN_NR FN(GEMM_GEN_NR)

/* Portable micro-kernel, the AVX2 tile shape and the same packed layout. */
static void FN(ukern_generic)(int64_t kc, const T *restrict a, const T *restrict b,
                              T *restrict c, int64_t ldc, T beta, int mr, int nr)
{
    T acc[GEN_MR][GEN_NR];
    memset(acc, 0, sizeof acc);
    for (int64_t p = 0; p < kc; p++) {
        for (int i = 0; i < GEN_MR; i++) {
            const T ai = a[p * GEN_MR + i];
            for (int j = 0; j < GEN_NR; j++)
                acc[i][j] += ai * b[p * GEN_NR + j];
        }
    }
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++)
            c[i * ldc + j] = beta == 0 ? acc[i][j] : acc[i][j] + beta * c[i * ldc + j];
}

static void FN(plan_for)(int isa, FN(gemm_plan) *pl)
{
    *pl = (FN(gemm_plan)){FN(ukern_generic), NULL, NULL, GEN_MR, GEN_NR, 0, 0, 0};
#if ENG_X86
    if (isa >= ENG_ISA_AVX512)
        *pl = (FN(gemm_plan)){FN(ukern_avx512), FN(tpack_avx512), FN(cpack_avx512),
                              FN(GEMM_AVX512_MR), FN(GEMM_AVX512_NR), 0, 0, 0};
    else if (isa >= ENG_ISA_AVX2)
        *pl = (FN(gemm_plan)){FN(ukern_avx2), FN(tpack_avx2), FN(cpack_avx2),
                              FN(GEMM_AVX2_MR), FN(GEMM_AVX2_NR), 0, 0, 0};
#else
    (void)isa;
#endif
    eng_gemm_blocks((int64_t)sizeof(T), pl->mr, pl->nr, &pl->kc, &pl->mc, &pl->nc);
}

/* For the tests: the tile and blocks the current kernel set uses,
 * out = {MR, NR, KC, MC, NC}. */
void FN(eng_gemm_plan_info)(int64_t out[5])
{
    FN(gemm_plan) pl;
    FN(plan_for)(eng_isa(), &pl);
    out[0] = pl.mr;
    out[1] = pl.nr;
    out[2] = pl.kc;
    out[3] = pl.mc;
    out[4] = pl.nc;
}

/* Pack op(A)[0:mc, 0:kc] (element (i,p) at A[i*rs + p*cs]) into MR-row
 * panels: panel q holds rows q*MR.. as dst[q*MR*kc + p*MR + i], zero-padded.
 * Always inlined into pack_a with MR a constant, so the inner loops unroll. */
static ENG_ALWAYS_INLINE void FN(pack_a_mr)(const int MR, int64_t mc, int64_t kc, const T *restrict A,
                                            int64_t rs, int64_t cs, T *restrict dst)
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

static void FN(pack_a)(const FN(gemm_plan) *pl, int64_t mc, int64_t kc, const T *A, int64_t rs,
                       int64_t cs, T *dst)
{
    const int mr = pl->mr;
    if (pl->tpack && cs == 1) {                 /* row-major A: transpose through registers */
        for (int64_t i0 = 0; i0 < mc; i0 += mr)
            pl->tpack(kc, A + i0 * rs, rs, mc - i0 < mr ? (int)(mc - i0) : mr, mr, dst + i0 * kc);
        return;
    }
    if (pl->cpack && rs == 1) {                 /* transposed A: copy MR-wide rows */
        for (int64_t i0 = 0; i0 < mc; i0 += mr)
            pl->cpack(kc, A + i0, cs, mc - i0 < mr ? (int)(mc - i0) : mr, mr, dst + i0 * kc);
        return;
    }
    switch (mr) {
    case FN(GEMM_AVX512_MR): FN(pack_a_mr)(FN(GEMM_AVX512_MR), mc, kc, A, rs, cs, dst); break;
    case GEN_MR: FN(pack_a_mr)(GEN_MR, mc, kc, A, rs, cs, dst); break;
    default: FN(pack_a_mr)(mr, mc, kc, A, rs, cs, dst); break;
    }
}

/* Pack op(B)[0:kc, 0:nc] (element (p,j) at B[p*rs + j*cs]) into NR-column
 * panels: panel q holds dst[q*NR*kc + p*NR + j], zero-padded.  Inlined with
 * NR a constant, as pack_a_mr. */
static ENG_ALWAYS_INLINE void FN(pack_b_nr)(const int NR, int64_t kc, int64_t nc, const T *restrict B,
                                            int64_t rs, int64_t cs, T *restrict dst)
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

static void FN(pack_b)(const FN(gemm_plan) *pl, int64_t kc, int64_t nc, const T *B, int64_t rs,
                       int64_t cs, T *dst)
{
    const int nr = pl->nr;
    if (pl->cpack && cs == 1) {                 /* row-major B: copy NR-wide strips */
        for (int64_t j0 = 0; j0 < nc; j0 += nr)
            pl->cpack(kc, B + j0, rs, nc - j0 < nr ? (int)(nc - j0) : nr, nr, dst + j0 * kc);
        return;
    }
    if (pl->tpack && rs == 1) {      /* transposed B: transpose through registers */
        for (int64_t j0 = 0; j0 < nc; j0 += nr)
            pl->tpack(kc, B + j0 * cs, cs, nc - j0 < nr ? (int)(nc - j0) : nr, nr, dst + j0 * kc);
        return;
    }
    switch (nr) {
    case FN(GEMM_AVX512_NR): FN(pack_b_nr)(FN(GEMM_AVX512_NR), kc, nc, B, rs, cs, dst); break;
    case GEN_NR: FN(pack_b_nr)(GEN_NR, kc, nc, B, rs, cs, dst); break;
    default: FN(pack_b_nr)(nr, kc, nc, B, rs, cs, dst); break;
    }
}

/* C[0:mc, jlo:jhi] (+)= Ap @ Bp[:, jlo:jhi] for one packed A block
 * (jlo is a multiple of NR). */
static void FN(macro_kernel)(const FN(gemm_plan) *pl, int64_t mc, int64_t jlo, int64_t jhi,
                             int64_t kc, const T *Ap, const T *Bp, T *C, int64_t ldc, T beta)
{
    const int MR = pl->mr, NR = pl->nr;
    for (int64_t j0 = jlo; j0 < jhi; j0 += NR) {
        const int nr = jhi - j0 < NR ? (int)(jhi - j0) : NR;
        const T *bp = Bp + j0 * kc;
        for (int64_t i0 = 0; i0 < mc; i0 += MR) {
            const int mr = mc - i0 < MR ? (int)(mc - i0) : MR;
            pl->kern(kc, Ap + i0 * kc, bp, C + i0 * ldc + j0, ldc, beta, mr, nr);
        }
    }
}

typedef struct {
    const FN(gemm_plan) *pl;
    int64_t M, kc, nc, mcb, nic, nsplit, npanels;
    size_t abytes;                      /* size of each thread's packed A block */
    const T *A; int64_t rsa, csa;       /* A block: op(A)[0:M, pc:pc+kc] */
    const T *B; int64_t rsb, csb;       /* B block: op(B)[pc:pc+kc, jc:jc+nc] */
    T *Bp;                              /* shared packed B */
    T *C; int64_t ldc;                  /* C[0:M, jc:jc+nc] */
    T beta;
} FN(block_args);

/* Pack panel q of the B block into the shared buffer. */
static void FN(pack_b_panel)(const FN(block_args) *w, int64_t q)
{
    const int NR = w->pl->nr;
    const int64_t j0 = q * NR;
    FN(pack_b)(w->pl, w->kc, w->nc - j0 < NR ? w->nc - j0 : NR, w->B + j0 * w->csb, w->rsb, w->csb,
               w->Bp + j0 * w->kc);
}

/* Work item t: one A block (packed into this thread's Ap) times a range of
 * the packed B panels. */
static void FN(run_item)(const FN(block_args) *w, T *Ap, int64_t t)
{
    const int64_t NR = w->pl->nr;
    const int64_t bi = t / w->nsplit, s = t % w->nsplit;
    const int64_t ic = bi * w->mcb;
    const int64_t mc = w->M - ic < w->mcb ? w->M - ic : w->mcb;
    const int64_t jlo = w->npanels * s / w->nsplit * NR;
    int64_t jhi = w->npanels * (s + 1) / w->nsplit * NR;
    if (jhi > w->nc)
        jhi = w->nc;
    if (jlo < jhi) {
        FN(pack_a)(w->pl, mc, w->kc, w->A + ic * w->rsa, w->rsa, w->csa, Ap);
        FN(macro_kernel)(w->pl, mc, jlo, jhi, w->kc, Ap, w->Bp, w->C + ic * w->ldc, w->ldc, w->beta);
    }
}

/* One (jc, pc) step: pack the B block, then run the A blocks, on nt threads.
 * (With one thread no OpenMP construct is used at all, so this is safe to
 * call from inside another parallel region, e.g. the batch loop.) */
static void FN(block_work)(const FN(block_args) *w, int nt)
{
    const int64_t nitems = w->nic * w->nsplit;
    if (nt <= 1) {
        T *Ap = get_buf(&tls_abuf, w->abytes);  /* gemm_one checked it */
        for (int64_t q = 0; q < w->npanels; q++)
            FN(pack_b_panel)(w, q);
        for (int64_t t = 0; t < nitems; t++)
            FN(run_item)(w, Ap, t);
        return;
    }
    int fail = 0;
    T *Ap0 = get_buf(&tls_abuf, w->abytes);     /* caller's buffer, checked non-NULL */
    ENG_OMP(parallel num_threads(nt))
    {
        ENG_OMP(for schedule(static))
        for (int64_t q = 0; q < w->npanels; q++)
            FN(pack_b_panel)(w, q);
        T *Ap = get_buf(&tls_abuf, w->abytes);
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
static void FN(gemm_one)(const FN(gemm_plan) *pl, int64_t M, int64_t N, int64_t K,
                         const T *A, int64_t rsa, int64_t csa,
                         const T *B, int64_t rsb, int64_t csb,
                         T *C, int64_t ldc, T beta, int nt)
{
    const int64_t MR = pl->mr, NR = pl->nr;
    /* Blocks of equal size (gemm.c: even_block): with several threads the
     * number of A blocks is a multiple of nt, so the threads get the same
     * work; when M is too small even for that, the columns are split too. */
    const int64_t kcb = even_block(K, pl->kc, 1, 8);
    const int64_t ncb = even_block(N, pl->nc, 1, NR);
    const int64_t mcb = even_block(M, pl->mc, nt, MR);
    const int64_t nic = (M + mcb - 1) / mcb;
    /* Buffers as big as this product needs: one A block (rows rounded up to
     * MR) and one B block (columns rounded up to NR). */
    const int64_t mrows = (M + MR - 1) / MR * MR, ncols = (N + NR - 1) / NR * NR;
    const size_t abytes = (size_t)((mrows < mcb ? mrows : mcb) * kcb) * sizeof(T);
    const size_t bbytes = (size_t)((ncols < ncb ? ncols : ncb) * kcb) * sizeof(T);
    T *Bp = get_buf(&tls_bbuf, bbytes);
    if (!Bp || !get_buf(&tls_abuf, abytes)) {   /* out of memory: stay correct */
        FN(eng_matmul_naive)(1, M, N, K, A, csa == 1 ? rsa : csa, 0, csa != 1,
                             B, csb == 1 ? rsb : csb, 0, csb != 1, C, ldc, 0, beta);
        return;
    }

    for (int64_t jc = 0; jc < N; jc += ncb) {
        const int64_t nc = N - jc < ncb ? N - jc : ncb;
        const int64_t npanels = (nc + NR - 1) / NR;
        int64_t nsplit = 1;
        if (nic < nt) {
            nsplit = (nt + nic - 1) / nic;
            if (nsplit > npanels)
                nsplit = npanels;
        }
        for (int64_t pc = 0; pc < K; pc += kcb) {
            const int64_t kc = K - pc < kcb ? K - pc : kcb;
            FN(block_args) w = {pl, M, kc, nc, mcb, nic, nsplit, npanels, abytes,
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
    FN(gemm_plan) pl;
    FN(plan_for)(eng_isa(), &pl);
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
            FN(gemm_one)(&pl, M, N, K, A + i * bsa, rsa, csa, B + i * bsb, rsb, csb,
                         C + i * bsc, ldc, beta, 1);
        return;
    }
    if (nt > 1 && M * N * K < GEMM_PAR_MIN_MACS)
        nt = 1;                                 /* each product too small to split */
    for (int64_t i = 0; i < batch; i++)
        FN(gemm_one)(&pl, M, N, K, A + i * bsa, rsa, csa, B + i * bsb, rsb, csb,
                     C + i * bsc, ldc, beta, nt);
}

#undef GEN_MR
#undef GEN_NR
#include "tmpl_end.h"
