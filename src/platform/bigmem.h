/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bigmem.h: large reservations of address space for memory that is handed
 * out densely (the process table, the small-chunk arena), committed by the
 * kernel on first touch and advised for transparent huge pages.
 *
 * Why: on the virtual machines cotp is measured on, the first touch of a
 * fresh 4 KB page costs 1.5 to 2 us, while a fresh 2 MB page costs about
 * 175 us, 0.34 us per 4 KB of it: a fifth.  Memory that is filled in
 * order (blocks given out by index, chunks carved by a bump pointer) uses
 * every byte of the huge pages it touches, so it gets the cheaper pages
 * at no cost in resident memory beyond the last, partly used, 2 MB.
 * Where the kernel has no huge pages to give (THP off, or none free), the
 * advice is ignored and 4 KB pages are committed as before.
 *
 * Only the first COTP_HUGE_ADVISED bytes of a reservation are advised.
 * These machines' balloon reports free 2 MB blocks to the host, which
 * drops them; a huge page made of such a block comes back from the host
 * a 4 KB page at a time, at 5 to 9 us each, while 4 KB pages are mostly
 * served from small free blocks the host still backs (1.6 us).  Measured
 * right after another program freed a gigabyte: a million blocked
 * processes (600 MB) spawned at 1,100-1,200 ns each with the whole of
 * both reservations advised, 300 ns with none, 225-260 ns with the first
 * 128 MB of each; 200,000 idle handlers at 150-210 ns against 285-345.
 * A runtime's first 128 MB (380,000 control blocks) is where most
 * programs live, and where the huge pages were found warm.
 */
#ifndef COTP_PLATFORM_BIGMEM_H
#define COTP_PLATFORM_BIGMEM_H

#include <stddef.h>

#define COTP_HUGE_PAGE_BYTES ((size_t)2 << 20)
#define COTP_HUGE_ADVISED ((size_t)128 << 20)

struct cotp__bigmem {
  char *base;      /* 2 MB aligned; bytes from here are usable */
  size_t bytes;
  char *map;       /* the whole mapping (alignment slack included) */
  size_t map_bytes;
};

/* Reserves bytes of zeroed memory, not committed until touched
 * (MAP_NORESERVE), aligned to 2 MB, its first COTP_HUGE_ADVISED bytes
 * advised for huge pages.  Returns 0, or COTP_ENOMEM if the address space
 * cannot be had (a strict overcommit policy can refuse a large
 * reservation). */
int cotp__bigmem_reserve(struct cotp__bigmem *m, size_t bytes);
/* Gives every committed page of [from, from + bytes) back to the kernel;
 * the range reads as zeroes again and stays reserved. */
void cotp__bigmem_decommit(struct cotp__bigmem *m, char *from, size_t bytes);
void cotp__bigmem_release(struct cotp__bigmem *m);

#endif
