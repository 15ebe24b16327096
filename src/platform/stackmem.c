/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stackmem.c: see stackmem.h.  Pages are committed by the kernel on first
 * touch and stay committed: a run stack is reused by process after process,
 * so after warm-up no spawn pays for a fresh page.
 */
#include "stackmem.h"

#include <sys/mman.h>
#include <unistd.h>

#include "cotp/common.h"

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define VALGRIND_STACK_REGISTER(lo, hi) 0u
#define VALGRIND_STACK_DEREGISTER(id) ((void)(id))
#endif

size_t cotp__page_size(void) {
  static size_t page;
  if (!page)
    page = (size_t)sysconf(_SC_PAGESIZE);
  return page;
}

int cotp__stackmem_map(struct cotp__stackmem *s, size_t size) {
  size_t page = cotp__page_size();
  size = (size + page - 1) & ~(page - 1);
  size_t total = size + page;
  /* MAP_NORESERVE: the size is an upper bound, not a commitment */
  void *m = mmap(NULL, total, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (m == MAP_FAILED)
    return COTP_ENOMEM;
  if (mprotect(m, page, PROT_NONE) != 0) {
    munmap(m, total);
    return COTP_ENOMEM;
  }
  s->map = m;
  s->map_size = total;
  s->base = (char *)m + page;
  s->size = size;
  s->vg_id = VALGRIND_STACK_REGISTER(s->base, s->base + size);
  return 0;
}

void cotp__stackmem_unmap(struct cotp__stackmem *s) {
  if (!s->map)
    return;
  VALGRIND_STACK_DEREGISTER(s->vg_id);
  munmap(s->map, s->map_size);
  s->map = NULL;
}

bool cotp__stackmem_in_guard(const struct cotp__stackmem *s, const void *addr) {
  const char *a = addr;
  return a >= s->map && a < s->base;
}
