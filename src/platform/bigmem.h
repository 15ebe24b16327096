/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bigmem.h: large reservations of address space for memory that is handed
 * out densely (the process table, committed a stretch at a time as it is
 * reached; the slabs of small chunks, term/chunk.c, left to first touch).
 *
 * Reserving the whole range at once (MAP_NORESERVE: address space, not
 * memory) lets what lives there be found by arithmetic: a pid's control
 * block is at the table's base plus its number, with no table of chunks
 * to load first.
 *
 * The ranges are not advised for transparent huge pages, though on a
 * machine whose huge pages are at hand a fresh 2 MB page costs a fifth of
 * 512 fresh 4 KB ones.  On the virtual machines cotp is measured on, the
 * balloon reports free 2 MB blocks to the host, which drops them, and a
 * huge page made of one comes back a 4 KB page at a time at 5 to 9 us
 * each: right after another program had freed its memory (the BEAM twin
 * of the previous benchmark), the first 128 MB advised made a million
 * spawns 575-640 ns each against 300-315 ns unadvised, and 200,000 idle
 * handlers anywhere from 160 to 930 ns against a steady 300.  4 KB pages
 * cost the same 1.6 us whatever ran before.  See docs/design.md.
 */
#ifndef COTP_PLATFORM_BIGMEM_H
#define COTP_PLATFORM_BIGMEM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* Reserves bytes of zeroed memory, readable and writable throughout but
 * not committed until touched (MAP_NORESERVE): reading a part never
 * written reads zeros, which the process table's lookup relies on.
 * Returns its start, or NULL if the address space cannot be had (a strict
 * overcommit policy can refuse a large reservation). */
void *cotp__bigmem_reserve(size_t bytes);
/* Commits [from, from + bytes) now, in one call, where the kernel can
 * (Linux 5.14's MADV_POPULATE_WRITE); elsewhere pages still come on first
 * touch.  Memory that will all be used soon is cheaper committed at once
 * than taken a page fault at a time (ptable.c has the figures). */
void cotp__bigmem_commit(void *from, size_t bytes);
/* Unmaps a reservation of bytes made by cotp__bigmem_reserve (NULL: none). */
void cotp__bigmem_release(void *base, size_t bytes);

/*
 * Committing ahead: a thread that commits the range asked of it while the
 * asker goes on, so that what fresh pages cost (1.5 to 2 us each on the
 * virtual machines cotp is measured on, the kernel zeroing them and the
 * host mapping them) is paid off the asker's path, by a core that would
 * otherwise be idle.  The thread starts at the first ask, so a program
 * that never asks has none.  Only speed depends on it: memory not yet
 * committed still comes on first touch.
 */
struct cotp__bigmem_ahead {
  pthread_mutex_t lock;
  pthread_cond_t asked;
  pthread_t thread;
  char *from, *to;            /* the range asked and not yet begun */
  _Atomic(char *) done;       /* the end of the last range committed */
  bool started, stop;
};
void cotp__bigmem_ahead_init(struct cotp__bigmem_ahead *a);
/* Asks for [from, from + bytes) to be committed in the background,
 * replacing a range asked before and not yet begun.  Returns false when
 * there is no thread to do it (it could not be started). */
bool cotp__bigmem_ahead_ask(struct cotp__bigmem_ahead *a, void *from,
                            size_t bytes);
/* Whether the thread has committed up to at least `to`, ranges being asked
 * in increasing order. */
static inline bool cotp__bigmem_ahead_done(struct cotp__bigmem_ahead *a,
                                           const void *to) {
  return (const char *)atomic_load_explicit(&a->done, memory_order_acquire) >=
         (const char *)to;
}
/* Stops and joins the thread, which may be committing; after it no range
 * it was asked is touched again. */
void cotp__bigmem_ahead_stop(struct cotp__bigmem_ahead *a);

#endif
