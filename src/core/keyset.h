/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keyset.h: a set of entries found by a 64-bit key, for a process's links
 * (by pid), monitors, watchers and aliases (by reference).
 *
 * A supervisor links to every child, a task's owner monitors every task:
 * these sets grow to tens of thousands and change at every spawn and exit,
 * so arrays searched linearly made spawn_link quadratic.  This is open
 * addressing with linear probing, at most half full, and removal by
 * backward shift (no tombstones), so a set that sees endless adds and
 * removes never degrades.  The key is the entry's first word and is never
 * 0 (no pid and no reference is all zeros), which marks an empty slot; an
 * empty slot is all zeros, so a new entry starts zeroed.  Entries are a
 * whole number of 64-bit words (their first word is the key).
 *
 * Order: none.  Iterate with KEYSET_EACH; do not add or remove while
 * iterating (removal moves entries).
 */
#ifndef COTP_CORE_KEYSET_H
#define COTP_CORE_KEYSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cotp__keyset {
  void *at;
  uint32_t n;   /* entries */
  uint32_t cap; /* slots: 0 or a power of two */
};

/* The entry with key, or NULL.  esz is the size of an entry. */
void *cotp__keyset_find(const struct cotp__keyset *s, size_t esz, uint64_t key);
/* A zeroed entry for key, which must not be in s, with the key written in
 * its first word; NULL when out of memory. */
void *cotp__keyset_add(struct cotp__keyset *s, size_t esz, uint64_t key);
/* Removes entry e (from cotp__keyset_find or an iteration that stops). */
void cotp__keyset_remove(struct cotp__keyset *s, size_t esz, void *e);
/* Empties s and frees its memory. */
void cotp__keyset_free(struct cotp__keyset *s, size_t esz);

#define KEYSET_EACH(s, type, e)                                             \
  for (type *e = (type *)(s).at, *e##_end_ = e + (s).cap; e < e##_end_; e++) \
    if (*(const uint64_t *)e != 0)

#endif
