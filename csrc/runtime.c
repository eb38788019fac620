/*
 * runtime.c -- thread count, fork safety and build information.
 */
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
