/* SPDX-License-Identifier: Apache-2.0 */
/* keyset.c: open addressing by 64-bit key (design in keyset.h). */
#include "keyset.h"

#include <stdlib.h>
#include <string.h>

#include "term/layout.h"

static uint64_t key_at(const char *at, size_t esz, size_t i) {
  uint64_t k;
  memcpy(&k, at + i * esz, sizeof k);
  return k;
}

/* Pids and references come from counters: spread them over the table. */
static size_t home_of(uint64_t key, uint32_t cap) {
  key ^= key >> 31;
  key *= 0x9E3779B97F4A7C15ull;
  return (size_t)(key >> 32) & (cap - 1);
}

void *cotp__keyset_find(const struct cotp__keyset *s, size_t esz, uint64_t key) {
  if (!s->n)
    return NULL;
  char *at = s->at;
  for (size_t i = home_of(key, s->cap);; i = (i + 1) & (s->cap - 1)) {
    uint64_t k = key_at(at, esz, i);
    if (k == key)
      return at + i * esz;
    if (k == 0)
      return NULL;
  }
}

/* Entries are a few words: a loop beats a call to memcpy, which a size
 * known only at run time would be. */
static void copy_entry(char *to, const char *from, size_t esz) {
  uint64_t *t = (uint64_t *)(void *)to;
  const uint64_t *f = (const uint64_t *)(const void *)from;
  for (size_t i = 0; i < esz / 8; i++)
    t[i] = f[i];
}

static void *slot_for(char *at, uint32_t cap, size_t esz, uint64_t key) {
  size_t i = home_of(key, cap);
  while (key_at(at, esz, i) != 0)
    i = (i + 1) & (cap - 1);
  return at + i * esz;
}

/* Tables come from the chunk cache while small (most sets hold a link or
 * two), from malloc beyond. */
static void *table_alloc(size_t bytes) {
  void *at = cotp__chunk_alloc(bytes);
  if (at)
    memset(at, 0, bytes);
  return at;
}

static bool grow(struct cotp__keyset *s, size_t esz) {
  uint32_t cap = s->cap ? s->cap * 2 : 2; /* most sets hold one entry */
  char *at = table_alloc((size_t)cap * esz);
  if (!at)
    return false;
  char *old = s->at;
  for (uint32_t i = 0; i < s->cap; i++) {
    uint64_t k = key_at(old, esz, i);
    if (k)
      copy_entry(slot_for(at, cap, esz, k), old + i * esz, esz);
  }
  if (old)
    cotp__chunk_free(old, (size_t)s->cap * esz);
  s->at = at;
  s->cap = cap;
  return true;
}

void *cotp__keyset_add(struct cotp__keyset *s, size_t esz, uint64_t key) {
  if ((s->n + 1) * 2 > s->cap && !grow(s, esz))
    return NULL;
  /* an empty slot is all zeros (tables start zeroed, removal zeroes the
   * slot it frees): only the key needs writing */
  char *e = slot_for(s->at, s->cap, esz, key);
  memcpy(e, &key, sizeof key);
  s->n++;
  return e;
}

void cotp__keyset_remove(struct cotp__keyset *s, size_t esz, void *e) {
  char *at = s->at;
  size_t mask = s->cap - 1;
  size_t hole = (size_t)((char *)e - at) / esz;
  /* backward shift: an entry later in the run moves into the hole unless
   * its home lies cyclically in (hole, its slot] */
  for (size_t i = (hole + 1) & mask;; i = (i + 1) & mask) {
    uint64_t k = key_at(at, esz, i);
    if (k == 0)
      break;
    size_t home = home_of(k, s->cap);
    if (((i - home) & mask) >= ((i - hole) & mask)) {
      copy_entry(at + hole * esz, at + i * esz, esz);
      hole = i;
    }
  }
  uint64_t *w = (uint64_t *)(void *)(at + hole * esz);
  for (size_t i = 0; i < esz / 8; i++)
    w[i] = 0;
  s->n--;
}

void cotp__keyset_free(struct cotp__keyset *s, size_t esz) {
  if (s->at)
    cotp__chunk_free(s->at, (size_t)s->cap * esz);
  *s = (struct cotp__keyset){0};
}
