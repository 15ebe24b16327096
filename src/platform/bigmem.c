/* SPDX-License-Identifier: Apache-2.0 */
/* bigmem.c: see bigmem.h. */
#include "bigmem.h"

#include <stdint.h>
#include <sys/mman.h>

#include "cotp/common.h"

int cotp__bigmem_reserve(struct cotp__bigmem *m, size_t bytes) {
  size_t map_bytes = bytes + COTP_HUGE_PAGE_BYTES; /* room to align */
  void *map = mmap(NULL, map_bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (map == MAP_FAILED)
    return COTP_ENOMEM;
  uintptr_t at = ((uintptr_t)map + COTP_HUGE_PAGE_BYTES - 1) &
                 ~(uintptr_t)(COTP_HUGE_PAGE_BYTES - 1);
#if defined(MADV_HUGEPAGE)
  /* advice only: a kernel without THP says EINVAL and 4 KB pages it is */
  (void)madvise((void *)at, bytes < COTP_HUGE_ADVISED ? bytes : COTP_HUGE_ADVISED,
                MADV_HUGEPAGE);
#endif
  m->map = map;
  m->map_bytes = map_bytes;
  m->base = (char *)at;
  m->bytes = bytes;
  return 0;
}

void cotp__bigmem_decommit(struct cotp__bigmem *m, char *from, size_t bytes) {
  (void)m;
  if (bytes)
    (void)madvise(from, bytes, MADV_DONTNEED);
}

void cotp__bigmem_release(struct cotp__bigmem *m) {
  if (!m->map)
    return;
  munmap(m->map, m->map_bytes);
  m->map = m->base = NULL;
}
