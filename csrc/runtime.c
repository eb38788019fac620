/*
 * runtime.c -- thread count and build information.
 */
#include "internal.h"

int eng_num_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

void eng_set_num_threads(int n)
{
#ifdef _OPENMP
    if (n >= 1)
        omp_set_num_threads(n);
#else
    (void)n;
#endif
}

#ifdef _OPENMP
#define ENG_OMP_INFO "openmp: yes"
#else
#define ENG_OMP_INFO "openmp: no"
#endif

const char *eng_build_info(void)
{
    if (eng_gemm_uses_avx2())
        return "gemm: avx2+fma micro-kernel (runtime dispatch); " ENG_OMP_INFO;
    return "gemm: portable C micro-kernel; " ENG_OMP_INFO;
}
