/* SPDX-License-Identifier: Apache-2.0 */
/*
 * binary.c: binaries, small ones inline in a heap and large ones shared.
 *
 * A binary shorter than COTP_REFC_BINARY_MIN bytes is copied into the heap
 * like any other term; copying it is as cheap as copying its handle would
 * be.  A longer one lives in a struct cotp__bin outside every heap, and a
 * heap holds a REFCBIN handle to it: (buffer, data pointer, size), so a part
 * of a shared binary (cotp_binary_part) is a handle into the same buffer.
 * The buffer's count is the number of handles, in all heaps of all
 * processes; the last handle to go frees it.  This is the BEAM's refc
 * binary, and it is why sending a megabyte costs the same as sending a byte.
 */
#include <stdlib.h>

#include "layout.h"

struct cotp__bin *cotp__bin_new(size_t size) {
  if (size > SIZE_MAX - sizeof(struct cotp__bin))
    return NULL;
  struct cotp__bin *b = malloc(sizeof *b + size);
  if (!b)
    return NULL;
  atomic_init(&b->refs, 1);
  b->size = size;
  return b;
}

void cotp__bin_retain(struct cotp__bin *b) {
  atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

void cotp__bin_release(struct cotp__bin *b) {
  /* acq_rel: every holder's use happens before the free.  Rather than a
   * release plus a fence, which is the same ordering but a form
   * ThreadSanitizer ignores (it does not model standalone fences). */
  if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
    free(b);
}

/* A REFCBIN handle in h for [data, data + size) of b; takes over one
 * reference to b (the caller's). */
static cotp_term refc_handle(cotp_heap *h, struct cotp__bin *b,
                             const uint8_t *data, size_t size) {
  uint64_t *p = cotp__heap_alloc(h, REFCBIN_WORDS);
  if (!p) {
    cotp__bin_release(b);
    return COTP_NONE;
  }
  p[0] = HDR_MAKE(BOX_REFCBIN, size);
  p[2] = (uint64_t)(uintptr_t)b;
  p[3] = (uint64_t)(uintptr_t)data;
  cotp__heap_link_offheap(h, p);
  return box_term(p);
}

cotp_term cotp_binary_alloc(cotp_heap *h, size_t len, uint8_t **data) {
  if (!data) {
    cotp__heap_fail(h, COTP_EINVAL, "binary: data pointer is NULL");
    return COTP_NONE;
  }
  if (len > HDR_COUNT_MAX) {
    cotp__heap_fail(h, COTP_ESYSLIMIT, "binary of %zu bytes is too big", len);
    return COTP_NONE;
  }
  if (len < COTP_REFC_BINARY_MIN) {
    uint64_t *p = cotp__heap_alloc(h, HEAPBIN_WORDS(len));
    if (!p)
      return COTP_NONE;
    p[0] = HDR_MAKE(BOX_HEAPBIN, len);
    if (len > 0)
      p[HEAPBIN_WORDS(len) - 1] = 0; /* padding is zero: hashing may read it */
    *data = (uint8_t *)(p + 1);
    return box_term(p);
  }
  struct cotp__bin *b = cotp__bin_new(len);
  if (!b) {
    cotp__heap_fail(h, COTP_ENOMEM, "binary: out of memory for %zu bytes", len);
    return COTP_NONE;
  }
  *data = b->data;
  return refc_handle(h, b, b->data, len);
}

cotp_term cotp_binary(cotp_heap *h, const void *data, size_t len) {
  if (!data && len > 0) {
    cotp__heap_fail(h, COTP_EINVAL, "binary: data is NULL");
    return COTP_NONE;
  }
  uint8_t *dst;
  cotp_term t = cotp_binary_alloc(h, len, &dst);
  if (!cotp_is_none(t) && len > 0)
    memcpy(dst, data, len);
  return t;
}

cotp_term cotp_string(cotp_heap *h, const char *s) {
  if (!s) {
    cotp__heap_fail(h, COTP_EINVAL, "string: text is NULL");
    return COTP_NONE;
  }
  return cotp_binary(h, s, strlen(s));
}

cotp_term cotp_binary_part(cotp_heap *h, cotp_term bin, size_t pos,
                           size_t len) {
  if (cotp_is_none(bin))
    return COTP_NONE;
  size_t size;
  const uint8_t *data = cotp_binary_data(bin, &size);
  if (!data) {
    cotp__heap_fail(h, COTP_EBADTYPE, "binary_part: not a binary");
    return COTP_NONE;
  }
  if (pos > size || len > size - pos) {
    cotp__heap_fail(h, COTP_ERANGE,
                    "binary_part: %zu bytes at %zu is outside a binary of %zu",
                    len, pos, size);
    return COTP_NONE;
  }
  if (box_kind(bin) == BOX_REFCBIN && len >= COTP_REFC_BINARY_MIN) {
    struct cotp__bin *b = refcbin_bin(box_ptr(bin));
    cotp__bin_retain(b);
    return refc_handle(h, b, data + pos, len);
  }
  return cotp_binary(h, data + pos, len);
}

const uint8_t *cotp_binary_data(cotp_term t, size_t *len) {
  if (!is_boxed(t))
    return NULL;
  const uint64_t *p = box_ptr(t);
  switch (HDR_KIND(p[0])) {
  case BOX_HEAPBIN:
    if (len)
      *len = HDR_COUNT(p[0]);
    return (const uint8_t *)(p + 1);
  case BOX_REFCBIN:
    if (len)
      *len = HDR_COUNT(p[0]);
    return refcbin_data(p);
  default:
    return NULL;
  }
}

void cotp__offheap_release(uint64_t *p) {
  if (HDR_KIND(p[0]) == BOX_REFCBIN)
    cotp__bin_release(refcbin_bin(p));
  else
    cotp_resource_release(resource_of(p));
}
