/* SPDX-License-Identifier: Apache-2.0 */
/* bigmem.c: see bigmem.h. */
#include "bigmem.h"

#include <sys/mman.h>

#include "cotp/common.h"

int cotp__bigmem_reserve(struct cotp__bigmem *m, size_t bytes) {
  void *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (map == MAP_FAILED)
    return COTP_ENOMEM;
  m->base = map;
  m->bytes = bytes;
  return 0;
}

void cotp__bigmem_commit(struct cotp__bigmem *m, char *from, size_t bytes) {
  (void)m;
#if defined(MADV_POPULATE_WRITE)
  (void)madvise(from, bytes, MADV_POPULATE_WRITE); /* EINVAL before 5.14 */
#else
  (void)from, (void)bytes;
#endif
}

void cotp__bigmem_release(struct cotp__bigmem *m) {
  if (!m->base)
    return;
  munmap(m->base, m->bytes);
  m->base = NULL;
}
