/*
 * index.c -- gather and scatter-add along one axis (picking each target's logit,
 * embedding rows, and their backward; index_add of rows).
 */
#include "internal.h"

#define ENG_DTYPE 32
#include "index_impl.h"
#define ENG_DTYPE 64
#include "index_impl.h"
