/* SPDX-License-Identifier: Apache-2.0 */
/* cotp_catch_exit: the exits a process raises itself are caught; exit
 * signals are not (A5). */
#include "harness.h"

static void exits_with(void *arg) { cotp_exit(*(cotp_term *)arg); }
static void exits_normal(void *arg) {
  (void)arg;
  cotp_exit_normal();
}
static void returns(void *arg) { *(int *)arg = 42; }

COTP_TEST(catch, returns_zero_when_fn_returns) {
  int got = 0;
  cotp_term reason = COTP_ATOM(untouched);
  cotp_assert_rc(cotp_catch_exit(returns, &got, &reason), 0);
  cr_assert_eq(got, 42);
  cotp_assert_term_eq(reason, COTP_ATOM(untouched));
}

COTP_TEST(catch, catches_an_exit_with_its_reason) {
  cotp_term want = cotp_test_parse("{:boom, [1, 2], \"big reason\"}");
  cotp_term reason;
  cotp_assert_rc(cotp_catch_exit(exits_with, &want, &reason), 1);
  cotp_assert_term_eq(reason, want);
  cotp_assert_rc(cotp_catch_exit(exits_normal, NULL, &reason), 1);
  cotp_assert_term_eq(reason, COTP_ATOM_NORMAL);
  /* the process goes on: it can still receive */
  cotp_send(cotp_self(), COTP_ATOM(still_here));
  cotp_term msg;
  cotp_assert_rc(cotp_receive(1000, &msg), 0);
  cotp_assert_term_eq(msg, COTP_ATOM(still_here));
}

static void nested_inner(void *arg) {
  cotp_term reason;
  cotp_term inner = COTP_ATOM(inner);
  cotp_assert_rc(cotp_catch_exit(exits_with, &inner, &reason), 1);
  cotp_assert_term_eq(reason, COTP_ATOM(inner));
  cotp_exit(*(cotp_term *)arg); /* the outer catch gets this one */
}

COTP_TEST(catch, nests_innermost_first) {
  cotp_term outer = COTP_ATOM(outer), reason;
  cotp_assert_rc(cotp_catch_exit(nested_inner, &outer, &reason), 1);
  cotp_assert_term_eq(reason, COTP_ATOM(outer));
  /* no catch left: an exit now ends the process (tested in a child) */
  cotp_pid p;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn_monitor(exits_with, &outer, &p, &ref), 0);
  cotp_assert_term_eq(cotp_test_down_of(ref, p), COTP_ATOM(outer));
}

/* A5: an exit signal, even one a process sends itself, is not caught. */
static void signals_self(void *arg) {
  (void)arg;
  cotp_exit_signal(cotp_self(), COTP_ATOM(die));
}

static void catches_then_reports(void *arg) {
  (void)arg;
  cotp_catch_exit(signals_self, NULL, NULL);
  cotp_exit(COTP_ATOM(caught_it)); /* not reached */
}

COTP_TEST(catch, a5_exit_signal_to_self_is_not_caught) {
  cotp_pid p;
  cotp_term ref, down;
  cotp_assert_rc(cotp_spawn_monitor(catches_then_reports, NULL, &p, &ref), 0);
  cotp_assert_rc(cotp_receive(5000, &down), 0);
  cotp_assert_term_eq(down, COTP_TUPLE(cotp_self_heap(), COTP_ATOM_DOWN, ref,
                                       COTP_ATOM_PROCESS, cotp_pid_term(p),
                                       COTP_ATOM(die)));
}

/* An accept function that exits in the middle of a timed receive: the
 * receive's deadline goes with it, and the next wait is not cut short. */
static bool exit_on_poison(cotp_term msg, void *ctx) {
  (void)ctx;
  if (cotp_term_eq(msg, COTP_ATOM(poison)))
    cotp_exit(COTP_ATOM(poisoned));
  return false;
}

static void receive_with_accept(void *arg) {
  (void)arg;
  cotp_receive_if(exit_on_poison, NULL, 30, 0, NULL);
}

static void sends_poison_later(void *arg) {
  cotp_sleep(5);
  cotp_send(*(cotp_pid *)arg, COTP_ATOM(poison));
}

COTP_TEST(catch, exit_inside_receive_cancels_its_deadline) {
  cotp_pid me = cotp_self();
  cotp_assert_rc(cotp_spawn(sends_poison_later, &me, NULL), 0);
  cotp_term reason;
  cotp_assert_rc(cotp_catch_exit(receive_with_accept, NULL, &reason), 1);
  cotp_assert_term_eq(reason, COTP_ATOM(poisoned));
  /* the poison stays queued, as a message a guard failed on does; a fresh
   * 100 ms wait lasts about 100 ms, not what was left of 30 */
  int64_t t0 = cotp_monotonic_ms();
  cotp_clause c = {cotp_test_pattern(":other"), NULL, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 100, 0, NULL), COTP_ETIMEDOUT);
  cr_assert_geq(cotp_monotonic_ms() - t0, 100);
}

COTP_TEST(catch, bad_arguments) {
  cotp_assert_rc(cotp_catch_exit(NULL, NULL, NULL), COTP_EINVAL);
}

Test(catch, outside_a_process) {
  cr_assert_eq(cotp_catch_exit(returns, NULL, NULL), COTP_ENOTPROC);
}
