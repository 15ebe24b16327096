/* SPDX-License-Identifier: Apache-2.0 */
/* Timers (behaviours E1-E5, A30) and receive timeouts. */
#include "harness.h"
#include "platform/clock.h"

/* E1: send_after delivers after the delay; so does the absolute form. */
COTP_TEST(timer, e1_send_after_and_send_at) {
  int64_t t0 = cotp_monotonic_ms();
  cotp_term ref;
  cotp_assert_rc(cotp_send_after(50, cotp_self(), COTP_ATOM(late), &ref), 0);
  cr_assert(cotp_is_ref(ref));
  cotp_term msg;
  cotp_assert_rc(cotp_receive(10, &msg), COTP_ETIMEDOUT); /* not yet */
  cotp_assert_rc(cotp_receive(5000, &msg), 0);
  cotp_assert_term_eq(msg, COTP_ATOM(late));
  cr_assert_geq(cotp_monotonic_ms() - t0, 50);
  cotp_assert_rc(cotp_send_at(cotp_monotonic_ms() + 20, cotp_self(), COTP_ATOM(abs), NULL), 0);
  cotp_assert_rc(cotp_receive(5000, &msg), 0);
  cotp_assert_term_eq(msg, COTP_ATOM(abs));
  cotp_assert_rc(cotp_send_at(0, cotp_self(), COTP_ATOM(past), NULL), 0);
  cotp_assert_rc(cotp_receive(5000, &msg), 0);
  cotp_assert_term_eq(msg, COTP_ATOM(past));
}

/* E2, E3: read and cancel give the time left while active, false after;
 * cancelling a fired timer leaves its message alone. */
COTP_TEST(timer, e2_e3_read_and_cancel) {
  cotp_term ref;
  cotp_assert_rc(cotp_send_after(10000, cotp_self(), COTP_ATOM(x), &ref), 0);
  int64_t left = -1;
  cotp_assert_rc(cotp_read_timer(ref, &left), 0);
  cr_assert(left > 9000 && left <= 10000, "left %lld", (long long)left);
  cotp_assert_rc(cotp_cancel_timer(ref, &left), 0);
  cr_assert(left > 9000 && left <= 10000);
  cotp_assert_rc(cotp_cancel_timer(ref, &left), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_read_timer(ref, &left), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_send_after(0, cotp_self(), COTP_ATOM(fired), &ref), 0);
  cotp_term msg;
  cotp_clause c = {cotp_test_pattern(":fired"), NULL, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
  cotp_assert_rc(cotp_send_after(0, cotp_self(), COTP_ATOM(fired), &ref), 0);
  cotp_sleep(20); /* it fires into the mailbox */
  cotp_assert_rc(cotp_cancel_timer(ref, NULL), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_receive(0, &msg), 0); /* E3: still there */
  cotp_assert_term_eq(msg, COTP_ATOM(fired));
  cotp_assert_rc(cotp_cancel_timer(cotp_int(NULL, 1), NULL), COTP_EINVAL);
}

/* E4: the asynchronous cancel answers with a message. */
COTP_TEST(timer, e4_async_cancel) {
  cotp_term ref;
  cotp_assert_rc(cotp_send_after(10000, cotp_self(), COTP_ATOM(x), &ref), 0);
  cotp_assert_rc(cotp_cancel_timer_async(ref), 0);
  cotp_term caps[1];
  cotp_clause c = {cotp_test_pattern("{:cancel_timer, ^ref, left}"), &ref, caps};
  cotp_assert_rc(cotp_receive_match(&c, 1, 1000, 0, NULL), 0);
  cr_assert(cotp_is_integer(caps[0]));
  cotp_assert_rc(cotp_cancel_timer_async(ref), 0);
  cotp_assert_rc(cotp_receive_match(&c, 1, 1000, 0, NULL), 0);
  cotp_assert_term_eq(caps[0], COTP_ATOM_FALSE);
}

/* Timers fire in deadline order, whatever order they were started in. */
COTP_TEST(timer, fire_in_order) {
  int delays[] = {40, 10, 30, 0, 20, 50, 5};
  for (int i = 0; i < 7; i++)
    cotp_send_after(delays[i], cotp_self(), cotp_int(NULL, delays[i]), NULL);
  int64_t last = -1;
  for (int i = 0; i < 7; i++) {
    cotp_term msg;
    cotp_assert_rc(cotp_receive(5000, &msg), 0);
    cr_assert_gt(cotp_int_value(msg), last);
    last = cotp_int_value(msg);
  }
}

COTP_TEST(timer, cancelled_timers_never_fire) {
  cotp_term refs[100];
  for (int i = 0; i < 100; i++)
    cotp_send_after(i % 10, cotp_self(), COTP_ATOM(no), &refs[i]);
  for (int i = 0; i < 100; i++)
    cotp_cancel_timer(refs[i], NULL); /* some may fire first: that is fine */
  cotp_sleep(30);
  size_t n = cotp_mailbox_length();
  cr_assert_leq(n, 100);
  cotp_send_after(5, cotp_self(), COTP_ATOM(yes), NULL);
  cotp_clause c = {cotp_test_pattern(":yes"), NULL, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 1000, 0, NULL), 0);
}

/* A million timers pending at once. */
COTP_TEST(timer, a_million_timers, .timeout = 120) {
  size_t n = cotp_test_sanitized() ? 100000 : 1000000;
  cotp_term *refs = malloc(n * sizeof *refs);
  for (size_t i = 0; i < n; i++)
    cotp_assert_rc(cotp_send_after(1000000 + (int64_t)i, cotp_self(), COTP_ATOM(x), &refs[i]), 0);
  for (size_t i = 0; i < n; i++)
    cotp_assert_rc(cotp_cancel_timer(refs[i], NULL), 0);
  free(refs);
  cr_assert_eq(cotp_mailbox_length(), 0);
}

/* A30: timeouts of 2^32 ms and more are valid. */
COTP_TEST(timer, a30_timeouts_beyond_32_bits) {
  cotp_term ref;
  cotp_assert_rc(cotp_send_after((int64_t)1 << 32, cotp_self(), COTP_ATOM(x), &ref), 0);
  int64_t left;
  cotp_assert_rc(cotp_read_timer(ref, &left), 0);
  cr_assert_gt(left, (int64_t)1 << 31);
  cotp_cancel_timer(ref, NULL);
  cotp_send(cotp_self(), COTP_ATOM(wake));
  cotp_term msg;
  cotp_assert_rc(cotp_receive((int64_t)1 << 40, &msg), 0);
  cotp_assert_rc(cotp_send_after(INT64_MAX, cotp_self(), COTP_ATOM(x), &ref), 0);
  cotp_assert_rc(cotp_cancel_timer(ref, NULL), 0);
}

COTP_TEST(timer, receive_timeout_and_sleep) {
  int64_t t0 = cotp_monotonic_ms();
  cotp_term msg;
  cotp_assert_rc(cotp_receive(30, &msg), COTP_ETIMEDOUT);
  cr_assert_geq(cotp_monotonic_ms() - t0, 30);
  t0 = cotp_monotonic_ms();
  /* messages arriving during a sleep neither end it nor get lost */
  cotp_send_after(5, cotp_self(), COTP_ATOM(during), NULL);
  cotp_assert_rc(cotp_sleep(40), 0);
  cr_assert_geq(cotp_monotonic_ms() - t0, 40);
  cotp_assert_rc(cotp_receive(0, &msg), 0);
  cotp_assert_term_eq(msg, COTP_ATOM(during));
  /* a message that does not match does not restart the timeout */
  t0 = cotp_monotonic_ms();
  cotp_send_after(10, cotp_self(), COTP_ATOM(noise), NULL);
  cotp_clause c = {cotp_test_pattern(":never"), NULL, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 50, 0, NULL), COTP_ETIMEDOUT);
  cr_assert_lt(cotp_monotonic_ms() - t0, 1000);
}
