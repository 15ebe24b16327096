/* SPDX-License-Identifier: Apache-2.0 */
/*
 * map.c: maps as one sorted array of keys and one of values.
 *
 * Lookup is a binary search, O(log n), except for an immediate key (an
 * atom, most often) in a map of up to 32 keys, which is looked for word by
 * word (comparing atoms in term order means comparing their names).  Put
 * and remove build a new map, O(n).  Erlang switches to a hash trie above 32 keys to make updates
 * O(log n); the maps that travel in messages here are small, so the flat
 * form is kept for every size until a workload shows otherwise.  Keys are
 * kept in cotp__key_compare order, the order Erlang prints small maps in.
 */
#include <stdlib.h>

#include "layout.h"

static uint64_t *map_words(cotp_term m) { return box_ptr(m); }

size_t cotp_map_size(cotp_term m) {
  return cotp_is_map(m) ? HDR_COUNT(*map_words(m)) : 0;
}

cotp_term cotp_map_key(cotp_term m, size_t i) {
  size_t n = cotp_map_size(m);
  return i < n ? (cotp_term){map_words(m)[1 + i]} : COTP_NONE;
}

cotp_term cotp_map_value(cotp_term m, size_t i) {
  size_t n = cotp_map_size(m);
  return i < n ? (cotp_term){map_words(m)[1 + n + i]} : COTP_NONE;
}

/* Up to this many keys, an immediate is looked for by its word. */
#define SCAN_MAX 32

/* Position of the immediate key (an integer that fits in a word, an atom,
 * a pid, a reference or []) in the small map whose words are p, or -1.
 * Equal words are the only way two immediates are the same key
 * (layout.h), so no term compare is needed, and a compare is dear for
 * atoms, whose term order is by name. */
static long scan_immediate(const uint64_t *p, cotp_term key) {
  for (size_t i = 0, n = HDR_COUNT(p[0]); i < n; i++)
    if (p[1 + i] == key.w)
      return (long)i;
  return -1;
}

static bool scannable(const uint64_t *p, cotp_term key) {
  return cotp__is_immediate(key) && HDR_COUNT(p[0]) <= SCAN_MAX;
}

/* Position of key in m, or -(insertion point) - 1. */
static long map_find(cotp_term m, cotp_term key) {
  const uint64_t *p = map_words(m);
  if (scannable(p, key)) {
    long at = scan_immediate(p, key);
    if (at >= 0)
      return at;
  }
  size_t lo = 0, hi = HDR_COUNT(p[0]);
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = cotp__key_compare((cotp_term){p[1 + mid]}, key);
    if (c == 0)
      return (long)mid;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -(long)lo - 1;
}

cotp_term cotp_map_get(cotp_term m, cotp_term key) {
  if (!cotp_is_map(m) || cotp_is_none(key))
    return COTP_NONE;
  const uint64_t *p = map_words(m);
  long at = scannable(p, key) ? scan_immediate(p, key) : map_find(m, key);
  return at >= 0 ? cotp_map_value(m, (size_t)at) : COTP_NONE;
}

static uint64_t *map_alloc(cotp_heap *h, size_t n) {
  if (n > (SIZE_MAX / 8 - 1) / 2) {
    cotp__heap_fail(h, COTP_ENOMEM, "map of %zu pairs is too big", n);
    return NULL;
  }
  uint64_t *p = cotp__heap_alloc(h, 1 + 2 * n);
  if (p)
    p[0] = HDR_MAKE(BOX_MAP, n);
  return p;
}

static void dup_key_error(cotp_heap *h, cotp_term key) {
  char text[96];
  size_t len = cotp_term_print(text, sizeof text, key);
  cotp__heap_fail(h, COTP_EDUPKEY, "map has a duplicate key: %s%s", text,
                  len >= sizeof text ? "..." : "");
}

/* Insertion sort of order[0, n) by key, for a few pairs.  Returns a key
 * that equals another, or NONE.  No second pass is needed to find one: a
 * key being inserted stops at the first key not above it, and if it has a
 * twin, that key is the twin or equal to it. */
static cotp_term sort_few(size_t *order, size_t n, const cotp_term *keys) {
  cotp_term dup = COTP_NONE;
  for (size_t i = 1; i < n; i++) {
    size_t x = order[i], j = i;
    int c = 1;
    while (j > 0 && (c = cotp__key_compare(keys[order[j - 1]], keys[x])) > 0) {
      order[j] = order[j - 1];
      j--;
    }
    if (c == 0)
      dup = keys[x];
    order[j] = x;
  }
  return dup;
}

/* Sorts order[0, n) by key, merge sort with tmp: stable and O(n log n). */
static void sort_pairs(size_t *order, size_t *tmp, size_t n,
                       const cotp_term *keys) {
  if (n < 16) {
    sort_few(order, n, keys);
    return;
  }
  size_t half = n / 2;
  sort_pairs(order, tmp, half, keys);
  sort_pairs(order + half, tmp, n - half, keys);
  size_t i = 0, j = half, k = 0;
  while (i < half && j < n)
    tmp[k++] = cotp__key_compare(keys[order[j]], keys[order[i]]) < 0
                   ? order[j++]
                   : order[i++];
  while (i < half)
    tmp[k++] = order[i++];
  while (j < n)
    tmp[k++] = order[j++];
  memcpy(order, tmp, n * sizeof *order);
}

cotp_term cotp_map(cotp_heap *h, size_t n, const cotp_term *keys,
                   const cotp_term *values) {
  if (n > 0 && (!keys || !values)) {
    cotp__heap_fail(h, COTP_EINVAL, "map: keys or values are NULL");
    return COTP_NONE;
  }
  for (size_t i = 0; i < n; i++)
    if (cotp_is_none(keys[i]) || cotp_is_none(values[i]))
      return COTP_NONE;
  /* the order of the pairs, and room to merge: on the stack for the usual
   * small map (a child spec is one of seven keys, built at every start) */
  size_t local[2 * 16];
  size_t *order = n <= 16 ? local : malloc(2 * n * sizeof *order);
  if (!order) {
    cotp__heap_fail(h, COTP_ENOMEM, "map: out of memory sorting %zu keys", n);
    return COTP_NONE;
  }
  for (size_t i = 0; i < n; i++)
    order[i] = i;
  cotp_term dup = COTP_NONE;
  if (n < 16) {
    dup = sort_few(order, n, keys);
  } else {
    sort_pairs(order, order + n, n, keys);
    for (size_t i = 1; i < n && cotp_is_none(dup); i++)
      if (cotp__key_compare(keys[order[i - 1]], keys[order[i]]) == 0)
        dup = keys[order[i]];
  }
  if (!cotp_is_none(dup)) {
    dup_key_error(h, dup);
    if (order != local)
      free(order);
    return COTP_NONE;
  }
  uint64_t *p = map_alloc(h, n);
  if (p) {
    for (size_t i = 0; i < n; i++) {
      p[1 + i] = keys[order[i]].w;
      p[1 + n + i] = values[order[i]].w;
    }
  }
  if (order != local)
    free(order);
  return p ? box_term(p) : COTP_NONE;
}

cotp_term cotp_map_put(cotp_heap *h, cotp_term m, cotp_term key,
                       cotp_term value) {
  if (cotp_is_none(m) || cotp_is_none(key) || cotp_is_none(value))
    return COTP_NONE;
  if (!cotp_is_map(m)) {
    cotp__heap_fail(h, COTP_EBADTYPE, "map_put: not a map");
    return COTP_NONE;
  }
  const uint64_t *old = map_words(m);
  size_t n = HDR_COUNT(old[0]);
  long at = map_find(m, key);
  if (at >= 0 && old[1 + n + (size_t)at] == value.w)
    return m;
  size_t pos = at >= 0 ? (size_t)at : (size_t)(-at - 1);
  size_t nn = at >= 0 ? n : n + 1;
  uint64_t *p = map_alloc(h, nn);
  if (!p)
    return COTP_NONE;
  size_t skip = at >= 0 ? 1 : 0; /* old pair replaced, not kept */
  memcpy(p + 1, old + 1, pos * 8);
  memcpy(p + 1 + nn, old + 1 + n, pos * 8);
  p[1 + pos] = key.w;
  p[1 + nn + pos] = value.w;
  memcpy(p + 2 + pos, old + 1 + pos + skip, (n - pos - skip) * 8);
  memcpy(p + 2 + nn + pos, old + 1 + n + pos + skip, (n - pos - skip) * 8);
  return box_term(p);
}

cotp_term cotp_map_remove(cotp_heap *h, cotp_term m, cotp_term key) {
  if (cotp_is_none(m) || cotp_is_none(key))
    return COTP_NONE;
  if (!cotp_is_map(m)) {
    cotp__heap_fail(h, COTP_EBADTYPE, "map_remove: not a map");
    return COTP_NONE;
  }
  long at = map_find(m, key);
  if (at < 0)
    return m;
  const uint64_t *old = map_words(m);
  size_t n = HDR_COUNT(old[0]), pos = (size_t)at;
  uint64_t *p = map_alloc(h, n - 1);
  if (!p)
    return COTP_NONE;
  memcpy(p + 1, old + 1, pos * 8);
  memcpy(p + 1 + pos, old + 2 + pos, (n - pos - 1) * 8);
  memcpy(p + n, old + 1 + n, pos * 8);
  memcpy(p + n + pos, old + 2 + n + pos, (n - pos - 1) * 8);
  return box_term(p);
}
