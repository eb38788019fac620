/*
 * index.c -- row gather / scatter-add for integer indexing (embedding-style
 * lookups and their backward).
 */
#include <string.h>
#include "internal.h"

#define ENG_DTYPE 32
#include "index_impl.h"
#define ENG_DTYPE 64
#include "index_impl.h"
