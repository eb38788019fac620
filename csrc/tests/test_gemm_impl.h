/* test_gemm_impl.h -- GEMM edge tests for one dtype (included twice, see
 * tmpl_begin.h), run for every kernel set.  The shapes come from the tile
 * and blocks the current kernel set uses (eng_gemm_plan_info_*, gemm_impl.h):
 * every edge of the register tile (MR, NR) and of the cache blocks (KC, MC,
 * NC) is crossed, and the result is compared with the naive reference. */
#include "tmpl_begin.h"

#if T_IS_F32
#define GTOL 2e-5
#define GDT "f32"
#else
#define GTOL 1e-12
#define GDT "f64"
#endif

/* Defined in gemm_impl.h for the tests: {MR, NR, KC, MC, NC} of the kernel set in use. */
void FN(eng_gemm_plan_info)(int64_t out[5]);

/* C = op(A) @ op(B) + beta*C, fast against naive, for one shape.  ldc = N + cpad;
 * the padding columns of C must come back untouched.  With beta == 0, C starts
 * as NaN (it must not be read).  `special` puts inf, -inf and NaN into A and B
 * (NaN/inf must propagate as IEEE arithmetic does in the naive loop).  Returns 1
 * when they agree. */
static int FN(gemm_case)(int64_t M, int64_t N, int64_t K, int ta, int tb, T beta, int64_t cpad,
                         int special, uint64_t *seed)
{
    const int64_t lda = (ta ? M : K) + 1, ldb = (tb ? K : N) + 2, ldc = N + cpad;
    const int64_t asz = (ta ? K : M) * lda, bsz = (tb ? N : K) * ldb, csz = M * ldc;
    T *A = FN(rand_buf)(asz, seed), *B = FN(rand_buf)(bsz, seed);
    T *C1 = FN(rand_buf)(csz, seed), *C2 = malloc((size_t)(csz > 0 ? csz : 1) * sizeof(T));
    if (special && M > 0 && N > 0 && K > 0) {
        /* op(A)[m,k] sits at A[m*lda + k] (ta 0) or A[k*lda + m] (ta 1); same for B */
#define AT(m, k) A[ta ? (k) * lda + (m) : (m) * lda + (k)]
#define BT(k, n) B[tb ? (n) * ldb + (k) : (k) * ldb + (n)]
        AT(0, 0) = INFINITY;              /* row 0: inf, and inf*0 = NaN where B[0,n] = 0 */
        BT(0, N - 1) = 0;
        AT(M - 1, K - 1) = -INFINITY;     /* last row: -inf, plus +inf from B: NaN there */
        BT(K - 1, 0) = -1;
        BT(K / 2, N / 2) = NAN;           /* a NaN in B poisons its column */
#undef AT
#undef BT
    }
    if (beta == 0)
        for (int64_t i = 0; i < csz; i++)
            C1[i] = NAN;
    if (csz > 0)
        memcpy(C2, C1, (size_t)csz * sizeof(T));
    FN(eng_matmul)(1, M, N, K, A, lda, 0, ta, B, ldb, 0, tb, C1, ldc, 0, beta);
    FN(eng_matmul_naive)(1, M, N, K, A, lda, 0, ta, B, ldb, 0, tb, C2, ldc, 0, beta);
    int ok = 1;
    for (int64_t m = 0; m < M; m++) {
        for (int64_t n = 0; n < N; n++)
            ok &= close_to(C1[m * ldc + n], C2[m * ldc + n], GTOL * (4 + K));
        for (int64_t n = N; n < ldc; n++)      /* padding: bit for bit as it was */
            ok &= memcmp(&C1[m * ldc + n], &C2[m * ldc + n], sizeof(T)) == 0;
    }
    free(A); free(B); free(C1); free(C2);
    return ok;
}

static void FN(test_gemm_edges)(void)
{
    uint64_t seed = 23;
    int64_t info[5];
    FN(eng_gemm_plan_info)(info);
    const int64_t MR = info[0], NR = info[1], KC = info[2], MC = info[3], NC = info[4];
    CHECK(MR >= 1 && NR >= 1 && KC >= 1 && MC >= MR && MC % MR == 0 && NC >= NR && NC % NR == 0,
          GDT " gemm plan MR=%lld NR=%lld KC=%lld MC=%lld NC=%lld", (long long)MR, (long long)NR,
          (long long)KC, (long long)MC, (long long)NC);

    /* The register tile's edges: m and n around MR and NR, with a short and a
     * just-over-KC depth, both transposes, beta 0 / 1 / 0.5 and ldc > n. */
    const int64_t ms[] = {0, 1, MR - 1, MR, MR + 1, 2 * MR + 3};
    const int64_t ns[] = {0, 1, NR - 1, NR, NR + 1, 2 * NR + 5};
    const int64_t ks[] = {1, 7};
    const T betas[] = {0, 1, (T)0.5};
    int fails = 0, cases = 0;
    for (size_t a = 0; a < sizeof ms / sizeof *ms; a++)
        for (size_t b = 0; b < sizeof ns / sizeof *ns; b++)
            for (size_t c = 0; c < sizeof ks / sizeof *ks; c++)
                for (int flags = 0; flags < 4; flags++) {
                    const int bi = (int)((a + b + c + flags) % 3);
                    cases++;
                    if (!FN(gemm_case)(ms[a], ns[b], ks[c], flags & 1, flags >> 1, betas[bi],
                                       bi == 2 ? 5 : 0, 0, &seed)) {
                        fails++;
                        printf("  " GDT " tile edge M=%lld N=%lld K=%lld ta=%d tb=%d beta=%g\n",
                               (long long)ms[a], (long long)ns[b], (long long)ks[c], flags & 1,
                               flags >> 1, (double)betas[bi]);
                    }
                }
    CHECK(fails == 0, GDT " gemm tile edges: %d of %d cases differ", fails, cases);

    /* The KC edge (one k block, one just short, one and a bit, two), with
     * partial tiles on both sides. */
    const int64_t kks[] = {0, KC - 1, KC, KC + 1, 2 * KC + 1};
    for (size_t c = 0; c < sizeof kks / sizeof *kks; c++)
        for (int flags = 0; flags < 4; flags++)
            for (int bi = 0; bi < 2; bi++)
                CHECK(FN(gemm_case)(MR + 1, NR - 1, kks[c], flags & 1, flags >> 1, betas[bi], 3, 0, &seed),
                      GDT " gemm K edge M=%lld N=%lld K=%lld ta=%d tb=%d beta=%g", (long long)(MR + 1),
                      (long long)(NR - 1), (long long)kks[c], flags & 1, flags >> 1, (double)betas[bi]);

    /* More than one MC block (with a partial one), and more than one NC block;
     * K over one KC block so that beta applies once and the rest accumulates. */
    for (int flags = 0; flags < 4; flags += 3) {
        CHECK(FN(gemm_case)(2 * MC + MR + 1, 2 * NR + 1, KC + 3, flags & 1, flags >> 1, 1, 2, 0, &seed),
              GDT " gemm M over MC: M=%lld ta=%d tb=%d", (long long)(2 * MC + MR + 1), flags & 1, flags >> 1);
        CHECK(FN(gemm_case)(MR + 1, NC + NR + 3, KC + 3, flags & 1, flags >> 1, 0, 2, 0, &seed),
              GDT " gemm N over NC: N=%lld ta=%d tb=%d", (long long)(NC + NR + 3), flags & 1, flags >> 1);
    }

    /* NaN and inf in A and B propagate as in the naive loop; in every transpose,
     * with beta 0 and 1, over full and partial tiles. */
    for (int flags = 0; flags < 4; flags++)
        for (int bi = 0; bi < 2; bi++)
            CHECK(FN(gemm_case)(2 * MR + 1, 2 * NR - 1, KC + 1, flags & 1, flags >> 1, betas[bi], 1, 1, &seed),
                  GDT " gemm NaN/inf ta=%d tb=%d beta=%g", flags & 1, flags >> 1, (double)betas[bi]);

    /* beta != 0 reads C: a NaN or inf already in C stays in its element. */
    {
        const int64_t M = MR + 1, N = NR + 1, K = 3;
        T *A = FN(rand_buf)(M * K, &seed), *B = FN(rand_buf)(K * N, &seed), *C = FN(rand_buf)(M * N, &seed);
        C[0] = NAN;
        C[M * N - 1] = INFINITY;
        FN(eng_matmul)(1, M, N, K, A, K, 0, 0, B, N, 0, 0, C, N, 0, 1);
        int ok = isnan(C[0]) && isinf(C[M * N - 1]) && C[M * N - 1] > 0;
        for (int64_t i = 1; i < M * N - 1; i++)
            ok &= isfinite(C[i]);
        CHECK(ok, GDT " gemm beta=1 keeps NaN/inf of C");
        free(A); free(B); free(C);
    }
}

#undef GTOL
#undef GDT
#include "tmpl_end.h"
