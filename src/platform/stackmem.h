/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stackmem.h: memory for run stacks: mapped once, a guard page below,
 * registered with Valgrind, and never unmapped while the runtime runs.
 */
#ifndef COTP_PLATFORM_STACKMEM_H
#define COTP_PLATFORM_STACKMEM_H

#include <stdbool.h>
#include <stddef.h>

struct cotp__stackmem {
  char *base;      /* lowest usable byte; the guard page is just below */
  size_t size;     /* usable bytes */
  char *map;       /* the whole mapping, guard included */
  size_t map_size;
  unsigned vg_id;  /* Valgrind's stack id */
};

/* Maps a stack of at least size bytes (rounded up to pages) with a guard
 * page below it.  Returns 0 or COTP_ENOMEM. */
int cotp__stackmem_map(struct cotp__stackmem *s, size_t size);
void cotp__stackmem_unmap(struct cotp__stackmem *s);

/* Whether addr falls in the guard page of s (a stack overflow). */
bool cotp__stackmem_in_guard(const struct cotp__stackmem *s, const void *addr);

size_t cotp__page_size(void);

#endif
