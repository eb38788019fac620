/*
 * gemm_naive.c -- the plain triple-loop matmul: the reference the fast GEMM
 * (gemm.c) is tested against.  Same signature and semantics.
 */
#include "internal.h"

#define ENG_DTYPE 32
#include "gemm_naive_impl.h"
#define ENG_DTYPE 64
#include "gemm_naive_impl.h"
