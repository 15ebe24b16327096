/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Restart backoff (cotp_supervisor_flags.backoff_ms, and the
 * DynamicSupervisor's options of the same name): delays that double up to
 * the maximum, the reset after a run of backoff_max_ms, and restarts that
 * still count toward the intensity.
 *
 * The start function notes the time of every attempt, and a delay is
 * measured from a moment before the crash was asked for, so each one is a
 * lower bound that load cannot break; the only upper bounds separate the
 * capped or reset delay from what it would have been otherwise, by
 * hundreds of milliseconds.
 */
#include "sup_util.h"

static cotp_server S(cotp_pid p) { return cotp_server_pid(p); }

static _Atomic int64_t attempt_ms[64];
static _Atomic int nattempts;

static cotp_term timed_start(cotp_term args, void *ctx) {
  int k = atomic_fetch_add(&nattempts, 1);
  if (k < 64)
    atomic_store(&attempt_ms[k], cotp_monotonic_ms());
  return worker_start(args, ctx);
}

static int64_t attempt(int k) {
  cr_assert_lt(k, atomic_load(&nattempts), "no attempt %d", k);
  return atomic_load(&attempt_ms[k]);
}

static cotp_pid dyn_with_backoff(int max_restarts, int64_t ms, int64_t max_ms,
                                 cotp_pid *child) {
  test_root = cotp_self();
  atomic_store(&nattempts, 0);
  atomic_store(&mode[0], W_OK);
  cotp_dynamic_supervisor_opts o = COTP_DYNAMIC_SUPERVISOR_OPTS_INIT;
  o.max_restarts = max_restarts;
  o.backoff_ms = ms;
  o.backoff_max_ms = max_ms;
  cotp_pid sup;
  cotp_term reason = COTP_NONE;
  cr_assert_eq(cotp_dynamic_supervisor_start_link(&o, &sup, &reason), 0, "%s",
               cotp_term_to_string(reason));
  cotp_child_spec s = worker_spec(0);
  s.start = timed_start;
  cotp_assert_rc(cotp_dynamic_supervisor_start_child(S(sup), &s, child, NULL), 0);
  cr_assert_eq(started(0).bits, child->bits);
  return sup;
}

/* Crashes the child p and waits for its successor; returns the delay from
 * before the crash to the next start attempt (attempt k). */
static int64_t crash_and_time(cotp_pid *p, int k) {
  int64_t before = cotp_monotonic_ms();
  kill_and_wait(*p, COTP_ATOM(crash));
  *p = started(0);
  return attempt(k) - before;
}

COTP_TEST(supervisor_backoff, dynamic_delays_double_up_to_the_maximum) {
  cotp_pid p;
  cotp_pid sup = dyn_with_backoff(100, 50, 120, &p);
  int64_t d1 = crash_and_time(&p, 1);
  int64_t d2 = crash_and_time(&p, 2);
  int64_t d3 = crash_and_time(&p, 3);
  /* the fourth: the child shows as restarting while it waits */
  int64_t before = cotp_monotonic_ms();
  kill_and_wait(p, COTP_ATOM(crash));
  cotp_assert_term_eq(cotp_supervisor_which_children(S(sup)),
                      cotp_test_parse("[{:undefined, :restarting, :worker, []}]"));
  p = started(0);
  int64_t d4 = attempt(4) - before;
  cr_assert_geq(d1, 50);
  cr_assert_geq(d2, 100, "not doubled: %lld", (long long)d2);
  cr_assert_geq(d3, 120);
  cr_assert_geq(d4, 120);
  cr_assert_lt(d4, 400, "not capped at 120 ms: %lld", (long long)d4);
  cr_assert_eq(counts(sup).active, 1);
}

COTP_TEST(supervisor_backoff, dynamic_delay_resets_after_a_run_of_the_maximum) {
  cotp_pid p;
  dyn_with_backoff(100, 20, 400, &p);
  cr_assert_geq(crash_and_time(&p, 1), 20);
  cr_assert_geq(crash_and_time(&p, 2), 40);
  cr_assert_geq(crash_and_time(&p, 3), 80);
  cr_assert_geq(crash_and_time(&p, 4), 160);
  cotp_sleep(450); /* a healthy run, longer than backoff_max_ms */
  int64_t d = crash_and_time(&p, 5);
  cr_assert_geq(d, 20);
  /* not reset, it would be 320: the margin is for a loaded CI machine */
  cr_assert_lt(d, 250, "not reset to 20 ms: %lld", (long long)d);
}

COTP_TEST(supervisor_backoff, dynamic_delayed_restarts_count_toward_intensity) {
  cotp_trap_exit(true, NULL);
  cotp_pid p;
  cotp_pid sup = dyn_with_backoff(2, 10, 20, &p);
  crash_and_time(&p, 1);
  crash_and_time(&p, 2);
  /* the third crash in the window is one too many, delay or not */
  kill_and_wait(p, COTP_ATOM(crash));
  cotp_assert_term_eq(cotp_test_exit_from(sup, 5000), COTP_ATOM_SHUTDOWN);
  refute_started(0, 50);
  cr_assert_eq(atomic_load(&nattempts), 3);
}

COTP_TEST(supervisor_backoff, dynamic_failed_starts_back_off_and_count_toward_intensity) {
  cotp_trap_exit(true, NULL);
  cotp_pid p;
  cotp_pid sup = dyn_with_backoff(2, 30, 1000, &p);
  atomic_store(&mode[0], W_ERROR);
  int64_t before = cotp_monotonic_ms();
  kill_and_wait(p, COTP_ATOM(crash));
  /* the crash counts (1), the first failed start after 30 ms, a retry that
   * counts (2) 60 ms later fails too, and the next retry is the third
   * restart: the supervisor gives up (I22, J11) */
  cotp_assert_term_eq(cotp_test_exit_from(sup, 5000), COTP_ATOM_SHUTDOWN);
  cr_assert_eq(atomic_load(&nattempts), 3, "attempts: %d", atomic_load(&nattempts));
  cr_assert_geq(attempt(1) - before, 30);
  cr_assert_geq(attempt(2) - attempt(1), 60, "not doubled after a failed start: %lld",
                (long long)(attempt(2) - attempt(1)));
}

COTP_TEST(supervisor_backoff, maximum_below_the_delay_is_rejected) {
  cotp_trap_exit(true, NULL);
  cotp_dynamic_supervisor_opts o = COTP_DYNAMIC_SUPERVISOR_OPTS_INIT;
  o.backoff_ms = 100;
  o.backoff_max_ms = 50;
  cotp_term reason = COTP_NONE;
  cotp_assert_rc(cotp_dynamic_supervisor_start_link(&o, NULL, &reason),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reason, cotp_test_parse(
                                  "{:supervisor_data, {:invalid_backoff, {100, 50}}}"));
  cotp_supervisor_flags f = COTP_SUPERVISOR_FLAGS_INIT;
  f.backoff_ms = 10;
  cotp_child_spec s = worker_spec(0);
  cotp_assert_rc(cotp_supervisor_start_link_children(&s, 1, &f, NULL, NULL, &reason),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reason, cotp_test_parse(
                                  "{:supervisor_data, {:invalid_backoff, {10, 0}}}"));
}
