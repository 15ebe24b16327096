/* SPDX-License-Identifier: Apache-2.0 */
/* ext.c: allocating and freeing a process's extension (ext.h). */
#include <stdlib.h>

#include "ext.h"

bool cotp__vec_reserve(void **at, uint32_t n, uint32_t *cap, size_t elem) {
  if (n < *cap)
    return true;
  uint32_t c = *cap ? *cap * 2 : 4;
  void *grown = realloc(*at, c * elem);
  if (!grown)
    return false;
  *at = grown;
  *cap = c;
  return true;
}

struct cotp__ext *cotp__ext(struct cotp__proc *p) {
  if (!p->ext) {
    p->ext = calloc(1, sizeof *p->ext);
    if (p->ext) {
      p->ext->name = COTP_NONE;
      p->ext->label = COTP_ATOM_NIL;
    }
  }
  return p->ext;
}

void cotp__ext_free(struct cotp__proc *p) {
  struct cotp__ext *e = p->ext;
  if (!e)
    return;
  cotp__keyset_free(&e->links);
  cotp__keyset_free(&e->mons);
  cotp__keyset_free(&e->watchers);
  cotp__keyset_free(&e->aliases);
  free(e->cleanups.at);
  free(e->dict.at);
  cotp__heap_close(&e->heap);
  free(e);
  p->ext = NULL;
}
