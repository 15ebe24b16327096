/* SPDX-License-Identifier: Apache-2.0 */
/* bigmem.c: see bigmem.h. */
#include "bigmem.h"

#include <sys/mman.h>

void *cotp__bigmem_reserve(size_t bytes) {
  void *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return map == MAP_FAILED ? NULL : map;
}

void cotp__bigmem_commit(void *from, size_t bytes) {
#if defined(MADV_POPULATE_WRITE)
  (void)madvise(from, bytes, MADV_POPULATE_WRITE); /* EINVAL before 5.14 */
#else
  (void)from, (void)bytes;
#endif
}

void cotp__bigmem_release(void *base, size_t bytes) {
  if (base)
    munmap(base, bytes);
}
