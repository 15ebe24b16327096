/* SPDX-License-Identifier: Apache-2.0 */
/* ext.c: allocating and freeing a process's extension (ext.h). */
#include <stdlib.h>
#include <string.h>

#include "ext.h"

/* Vectors come from the chunk cache while small (most hold a few
 * entries), from malloc beyond (cotp__chunk_alloc decides). */
bool cotp__vec_reserve(void **at, uint32_t n, uint32_t *cap, size_t elem) {
  if (n < *cap)
    return true;
  /* the first array fills its chunk class (64 bytes): a task's three
   * dictionary pairs fit it without a second allocation and a copy */
  uint32_t c = *cap ? *cap * 2 : (elem <= 16 ? (uint32_t)(64 / elem) : 4);
  void *grown = cotp__chunk_alloc((size_t)c * elem);
  if (!grown)
    return false;
  if (*at) {
    memcpy(grown, *at, (size_t)n * elem);
    cotp__chunk_free(*at, (size_t)*cap * elem);
  }
  *at = grown;
  *cap = c;
  return true;
}

void cotp__vec_free(void *at, uint32_t cap, size_t elem) {
  if (at)
    cotp__chunk_free(at, (size_t)cap * elem);
}

/* From the chunk cache: every task, every linked or monitored process
 * has one, made and freed at the rate processes come and go. */
struct cotp__ext *cotp__ext(struct cotp__proc *p) {
  if (!p->ext) {
    p->ext = cotp__chunk_alloc(sizeof *p->ext);
    if (p->ext) {
      memset(p->ext, 0, sizeof *p->ext);
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
  SET_FREE(e->links, struct cotp__link);
  SET_FREE(e->mons, struct cotp__mon);
  SET_FREE(e->watchers, struct cotp__watcher);
  SET_FREE(e->aliases, struct cotp__alias);
  VEC_FREE(e->cleanups);
  VEC_FREE(e->dict);
  cotp__heap_close(&e->heap);
  cotp__chunk_free(e, sizeof *e);
  p->ext = NULL;
}

void cotp__ext_trim(struct cotp__proc *p) {
  struct cotp__ext *e = p->ext;
  if (e && !e->links.n && !e->mons.n && !e->watchers.n && !e->aliases.n &&
      !e->cleanups.n && !e->dict.n && cotp_is_none(e->name) &&
      e->label.w == COTP_ATOM_NIL.w)
    cotp__ext_free(p); /* the sequence restarts: no entry is left to order */
}

struct ordered {
  void *e;
  uint64_t seq;
};

static int by_seq(const void *a, const void *b) {
  uint64_t x = ((const struct ordered *)a)->seq, y = ((const struct ordered *)b)->seq;
  return (x > y) - (x < y);
}

size_t cotp__set_in_order(const struct cotp__keyset *s, size_t esz,
                          size_t seq_offset, void ***out) {
  *out = NULL;
  if (!s->n)
    return 0;
  struct ordered *v = malloc(s->n * sizeof *v);
  void **e = malloc(s->n * sizeof *e);
  if (!v || !e) {
    free(v);
    free(e);
    return 0;
  }
  size_t n = 0;
  char *at = s->at;
  for (uint32_t i = 0; i < s->cap; i++) {
    char *x = at + (size_t)i * esz;
    uint64_t key;
    memcpy(&key, x, sizeof key);
    if (key) {
      v[n].e = x;
      memcpy(&v[n].seq, x + seq_offset, sizeof v[n].seq);
      n++;
    }
  }
  qsort(v, n, sizeof *v, by_seq);
  for (size_t i = 0; i < n; i++)
    e[i] = v[i].e;
  free(v);
  *out = e;
  return n;
}
