/* SPDX-License-Identifier: Apache-2.0 */
/* Iterators (cotp/iter.h): the range and list iterators, and the calls. */
#include "harness.h"

static cotp_term drain(cotp_iter *it, int *last_rc) {
  cotp_heap *h = cotp_heap_new();
  cotp_term items[64], x;
  size_t n = 0;
  int rc;
  while (n < 64 && (rc = cotp_iter_next(it, h, &x)) == 1)
    items[n++] = x;
  *last_rc = rc;
  char *text = cotp_term_to_string(cotp_list(h, n, items));
  cotp_term out = cotp_parse(cotp_self_heap(), text);
  free(text);
  cotp_heap_free(h);
  return out;
}

COTP_TEST(iter, range_counts_up_down_and_by_steps) {
  cotp_iter_range r;
  int rc;
  cotp_assert_prints(drain(cotp_iter_range_init(&r, 1, 5, 1), &rc), "[1, 2, 3, 4, 5]");
  cotp_assert_rc(rc, 0);
  cotp_assert_rc(cotp_iter_next(&r.it, cotp_self_heap(), &(cotp_term){0}), 0); /* stays done */
  cotp_assert_prints(drain(cotp_iter_range_init(&r, 5, 1, -2), &rc), "[5, 3, 1]");
  cotp_assert_prints(drain(cotp_iter_range_init(&r, 1, 10, 4), &rc), "[1, 5, 9]");
  cotp_assert_prints(drain(cotp_iter_range_init(&r, 3, 3, 1), &rc), "[3]");
}

COTP_TEST(iter, empty_ranges_and_step_zero) {
  cotp_iter_range r;
  int rc;
  cotp_assert_prints(drain(cotp_iter_range_init(&r, 5, 1, 1), &rc), "[]");
  cotp_assert_prints(drain(cotp_iter_range_init(&r, 1, 5, -1), &rc), "[]");
  cotp_assert_prints(drain(cotp_iter_range_init(&r, 1, 5, 0), &rc), "[]");
}

COTP_TEST(iter, range_stops_at_the_ends_of_int64_without_overflow) {
  cotp_iter_range r;
  int rc;
  cotp_assert_prints(drain(cotp_iter_range_init(&r, INT64_MAX - 1, INT64_MAX, 1), &rc),
                     "[9223372036854775806, 9223372036854775807]");
  cotp_assert_prints(drain(cotp_iter_range_init(&r, INT64_MIN + 1, INT64_MIN, -1), &rc),
                     "[-9223372036854775807, -9223372036854775808]");
}

COTP_TEST(iter, list_iterates_and_refuses_an_improper_tail) {
  cotp_iter_list l;
  int rc;
  cotp_assert_prints(drain(cotp_iter_list_init(&l, cotp_test_parse("[:a, {1, 2}, \"c\"]")), &rc),
                     "[:a, {1, 2}, \"c\"]");
  cotp_assert_rc(rc, 0);
  cotp_assert_prints(drain(cotp_iter_list_init(&l, cotp_test_parse("[1, 2 | 3]")), &rc), "[1, 2]");
  cotp_assert_rc(rc, COTP_EBADTYPE);
  cotp_assert_prints(drain(cotp_iter_list_init(&l, COTP_NIL), &rc), "[]");
}

COTP_TEST(iter, calls_check_their_arguments) {
  cotp_term x;
  cotp_assert_rc(cotp_iter_next(NULL, cotp_self_heap(), &x), COTP_EINVAL);
  cotp_iter_range r;
  cotp_assert_rc(cotp_iter_next(cotp_iter_range_init(&r, 1, 2, 1), cotp_self_heap(), NULL),
                 COTP_EINVAL);
  cotp_iter_close(NULL);
  cotp_iter_close(&r.it); /* no close function: nothing to do */
}
