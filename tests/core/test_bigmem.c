/* SPDX-License-Identifier: Apache-2.0 */
/* Reservations committed ahead (platform/bigmem.h), which the process
 * table uses to have its next stretch of blocks ready before a spawn
 * reaches it. */
#include <criterion/criterion.h>
#include <sys/mman.h>
#include <unistd.h>

#include "platform/bigmem.h"
#include "platform/clock.h"

/* How many of the pages of [from, from + bytes) are resident. */
static size_t resident_pages(void *from, size_t bytes) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE), n = bytes / page, in = 0;
  unsigned char *vec = malloc(n);
  cr_assert_not_null(vec);
  cr_assert_eq(mincore(from, bytes, vec), 0);
  for (size_t i = 0; i < n; i++)
    in += vec[i] & 1;
  free(vec);
  return in;
}

Test(bigmem, commit_ahead_commits_the_range_asked_and_no_more) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE), mb = 1 << 20;
  char *base = cotp__bigmem_reserve(4 * mb);
  cr_assert_not_null(base);
  cr_assert_eq(resident_pages(base, 4 * mb), 0, "a reservation is not committed");
  struct cotp__bigmem_ahead a;
  cotp__bigmem_ahead_init(&a);
  cr_assert(!cotp__bigmem_ahead_done(&a, base + mb), "done before asked");
  cr_assert(cotp__bigmem_ahead_ask(&a, base + mb, 2 * mb));
  int64_t t0 = cotp__now_ms();
  while (!cotp__bigmem_ahead_done(&a, base + 3 * mb) && cotp__now_ms() - t0 < 10000)
    usleep(1000);
  cr_assert(cotp__bigmem_ahead_done(&a, base + 3 * mb), "not committed in 10 s");
  /* MADV_POPULATE_WRITE came with Linux 5.14; before it nothing is
   * committed ahead, and memory still comes on first touch */
#if defined(MADV_POPULATE_WRITE)
  cr_assert_eq(resident_pages(base + mb, 2 * mb), 2 * mb / page);
#endif
  cr_assert_eq(resident_pages(base, mb), 0, "committed below the range");
  cr_assert_eq(resident_pages(base + 3 * mb, mb), 0, "committed past the range");
  for (size_t i = 0; i < 4 * mb; i += page) /* zeros, committed or not */
    cr_assert_eq(base[i], 0);
  cotp__bigmem_ahead_stop(&a);
  cotp__bigmem_release(base, 4 * mb);
}

Test(bigmem, stopping_a_committer_never_asked_starts_no_thread) {
  struct cotp__bigmem_ahead a;
  cotp__bigmem_ahead_init(&a);
  cr_assert(!a.started);
  cotp__bigmem_ahead_stop(&a);
}
