/*
 * runtime.c -- thread count, fork safety and build information.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#if defined(_OPENMP) && !defined(_WIN32)
#include <pthread.h>
#define ENG_ATFORK 1
#else
#define ENG_ATFORK 0
#endif

/* Set in the child of a fork().  GNU libgomp's thread pool does not survive fork: the
 * child inherits the pool's bookkeeping but not its threads, so the next parallel region
 * with more than one thread waits forever for workers that do not exist (PyTorch's CPU
 * ops hang the same way).  The child therefore runs every kernel on one thread: with one
 * thread OpenMP never touches the pool, and the GEMM uses no OpenMP construct at all. */
static volatile int eng_forked_child;

#if ENG_ATFORK
static void eng_after_fork_child(void)
{
    eng_forked_child = 1;
    omp_set_num_threads(1);     /* the ICV of the forking thread, the child's only one */
}

__attribute__((constructor)) static void eng_runtime_init(void)
{
    pthread_atfork(NULL, NULL, eng_after_fork_child);
}
#endif

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
    if (n >= 1 && !eng_forked_child)
        omp_set_num_threads(n);
#else
    (void)n;
#endif
}

int eng_in_forked_child(void)
{
    return eng_forked_child;
}

/* ------------------------------------------------------------ kernel sets -- */
static const char *const eng_isa_names[] = {"generic", "avx2", "avx512"};
static int eng_isa_current = -1;      /* -1 until first use */

const char *eng_isa_name(int isa)
{
    return isa >= ENG_ISA_GENERIC && isa <= ENG_ISA_AVX512 ? eng_isa_names[isa] : NULL;
}

int eng_isa_supported(int isa)
{
    if (isa == ENG_ISA_GENERIC)
        return 1;
#if ENG_X86
    __builtin_cpu_init();
    /* libgcc's and compiler-rt's checks include the OS's support (XCR0) for the ymm/zmm state. */
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (isa == ENG_ISA_AVX2)
        return avx2;
    if (isa == ENG_ISA_AVX512)
        return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#endif
    return 0;
}

int eng_isa_best(void)
{
    for (int isa = ENG_ISA_AVX512; isa > ENG_ISA_GENERIC; isa--)
        if (eng_isa_supported(isa))
            return isa;
    return ENG_ISA_GENERIC;
}

int eng_isa(void)
{
    int isa = __atomic_load_n(&eng_isa_current, __ATOMIC_RELAXED);
    if (isa < 0) {
        isa = eng_isa_best();
        const char *env = getenv("ENGINE_ISA");
        for (int k = ENG_ISA_GENERIC; env && *env && k <= ENG_ISA_AVX512; k++)
            if (strcmp(env, eng_isa_names[k]) == 0 && eng_isa_supported(k))
                isa = k;
        __atomic_store_n(&eng_isa_current, isa, __ATOMIC_RELAXED);
    }
    return isa;
}

int eng_set_isa(int isa)
{
    if (!eng_isa_name(isa) || !eng_isa_supported(isa))
        return -1;
    __atomic_store_n(&eng_isa_current, isa, __ATOMIC_RELAXED);
    return 0;
}

#ifdef _OPENMP
#define ENG_OMP_INFO "openmp: yes"
#else
#define ENG_OMP_INFO "openmp: no"
#endif

const char *eng_build_info(void)
{
    static const char *const info[] = {
        "kernels: generic (portable C); " ENG_OMP_INFO,
        "kernels: avx2 (AVX2+FMA, runtime dispatch); " ENG_OMP_INFO,
        "kernels: avx512 (AVX-512, runtime dispatch); " ENG_OMP_INFO,
    };
    return info[eng_isa()];
}
