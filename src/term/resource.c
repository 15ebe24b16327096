/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resource.c: native objects carried by terms.
 *
 * A resource is a reference-counted handle to a C object with a destructor.
 * The creator holds one reference; each heap holding a RESOURCE term of it
 * holds one more (the term is on the heap's offheap list, like a shared
 * binary).  The destructor runs exactly once, on whichever thread drops the
 * last reference, so it must not assume the creating thread or process.
 */
#include <stdlib.h>

#include "layout.h"

static _Atomic uint64_t next_id = 1;

cotp_resource *cotp_resource_new(void *object, cotp_resource_dtor *dtor) {
  cotp_resource *r = malloc(sizeof *r);
  if (!r)
    return NULL;
  atomic_init(&r->refs, 1);
  r->object = object;
  r->dtor = dtor;
  r->id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
  return r;
}

void cotp_resource_retain(cotp_resource *r) {
  if (r)
    atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
}

void cotp_resource_release(cotp_resource *r) {
  if (!r)
    return;
  /* acq_rel: every holder's use happens before the destructor (and is
   * the form ThreadSanitizer models, unlike release plus a fence) */
  if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1) {
    if (r->dtor)
      r->dtor(r->object);
    free(r);
  }
}

void *cotp_resource_object(const cotp_resource *r) {
  return r ? r->object : NULL;
}

cotp_term cotp_resource_term(cotp_heap *h, cotp_resource *r) {
  if (!r) {
    cotp__heap_fail(h, COTP_EINVAL, "resource is NULL");
    return COTP_NONE;
  }
  uint64_t *p = cotp__heap_alloc(h, RESOURCE_WORDS);
  if (!p)
    return COTP_NONE;
  cotp_resource_retain(r);
  p[0] = HDR_MAKE(BOX_RESOURCE, 0);
  p[2] = (uint64_t)(uintptr_t)r;
  cotp__heap_link_offheap(h, p);
  return box_term(p);
}

cotp_resource *cotp_get_resource(cotp_term t) {
  return is_box_of(t, BOX_RESOURCE) ? resource_of(box_ptr(t)) : NULL;
}
