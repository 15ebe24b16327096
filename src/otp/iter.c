/* SPDX-License-Identifier: Apache-2.0 */
/*
 * iter.c: calling iterators, and the two the library provides: an integer
 * range and the elements of a list (cotp/iter.h).
 */
#include "cotp/iter.h"

int cotp_iter_next(cotp_iter *it, cotp_heap *h, cotp_term *out) {
  if (!it || !it->next || !out)
    return COTP_EINVAL;
  return it->next(it, h, out);
}

void cotp_iter_close(cotp_iter *it) {
  if (it && it->close)
    it->close(it);
}

/* --- first..last//step --- */

static int range_next(cotp_iter *it, cotp_heap *h, cotp_term *out) {
  cotp_iter_range *r = (cotp_iter_range *)it;
  if (r->done)
    return 0;
  int64_t v = r->next;
  cotp_term t = cotp_int(h, v);
  if (cotp_is_none(t))
    return COTP_ENOMEM;
  *out = t;
  /* the next one, unless it would pass last (or overflow) */
  int64_t next;
  if (__builtin_add_overflow(v, r->step, &next) ||
      (r->step > 0 ? next > r->last : next < r->last))
    r->done = true;
  else
    r->next = next;
  return 1;
}

cotp_iter *cotp_iter_range_init(cotp_iter_range *r, int64_t first, int64_t last,
                                int64_t step) {
  r->it = (cotp_iter){range_next, NULL, NULL};
  r->next = first;
  r->last = last;
  r->step = step;
  r->done = step == 0 || (step > 0 && first > last) || (step < 0 && first < last);
  return &r->it;
}

/* --- the elements of a list --- */

static int list_next(cotp_iter *it, cotp_heap *h, cotp_term *out) {
  (void)h;
  cotp_iter_list *l = (cotp_iter_list *)it;
  if (cotp_is_nil(l->rest))
    return 0;
  if (!cotp_is_cons(l->rest))
    return COTP_EBADTYPE;
  *out = cotp_head(l->rest);
  l->rest = cotp_tail(l->rest);
  return 1;
}

cotp_iter *cotp_iter_list_init(cotp_iter_list *l, cotp_term list) {
  l->it = (cotp_iter){list_next, NULL, NULL};
  l->rest = list;
  return &l->it;
}
