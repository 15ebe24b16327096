/* SPDX-License-Identifier: Apache-2.0 */
/* Supervisor shutdown, scaling and significant children (I31-I35, I41-I43). */
#include <stdlib.h>

#include "sup_util.h"

static cotp_server S(cotp_pid p) { return cotp_server_pid(p); }

static cotp_pid sup_shutdown(int tag, int64_t shutdown, int slowness) {
  test_root = cotp_self();
  atomic_store(&slow[tag], slowness);
  cotp_child_spec s = worker_spec(tag);
  s.shutdown = shutdown;
  cotp_pid sup;
  cotp_assert_rc(cotp_supervisor_start_link_children(&s, 1, NULL, NULL, &sup, NULL), 0);
  return sup;
}

COTP_TEST(supervisor, i31_shutdown_infinity_waits) {
  cotp_pid sup = sup_shutdown(0, COTP_INFINITY, 300);
  cotp_pid w = started(0);
  cotp_term ref;
  cotp_monitor(w, &ref);
  cotp_assert_rc(cotp_supervisor_terminate_child(S(sup), wid(0), NULL), 0);
  cotp_assert_term_eq(cotp_test_down_of(ref, w), COTP_ATOM_SHUTDOWN);
}

COTP_TEST(supervisor, i32_integer_shutdown_kills_after_the_timeout) {
  cotp_pid sup = sup_shutdown(0, 50, -1);
  cotp_pid w = started(0);
  cotp_term ref;
  cotp_monitor(w, &ref);
  cotp_assert_rc(cotp_supervisor_terminate_child(S(sup), wid(0), NULL), 0);
  cotp_assert_term_eq(cotp_test_down_of(ref, w), COTP_ATOM_KILLED);
  cotp_assert_rc(cotp_supervisor_restart_child(S(sup), wid(0), NULL, NULL), 0);
  w = started(0);
  cotp_monitor(w, &ref);
  atomic_store(&slow[0], 0);
  cotp_assert_rc(cotp_supervisor_restart_child(S(sup), wid(0), NULL, NULL),
                 COTP_SUPERVISOR_ERROR);
  cotp_child_spec s = worker_spec(1);
  cotp_assert_rc(cotp_supervisor_start_child(S(sup), &s, NULL, NULL), 0);
  cotp_pid w1 = started(1);
  cotp_term r1;
  cotp_monitor(w1, &r1);
  cotp_assert_rc(cotp_supervisor_terminate_child(S(sup), wid(1), NULL), 0);
  cotp_assert_term_eq(cotp_test_down_of(r1, w1), COTP_ATOM_SHUTDOWN);
}

COTP_TEST(supervisor, i33_brutal_kill) {
  cotp_pid sup = sup_shutdown(0, COTP_SHUTDOWN_BRUTAL_KILL, 1000);
  cotp_pid w = started(0);
  cotp_term ref;
  cotp_monitor(w, &ref);
  cotp_assert_rc(cotp_supervisor_terminate_child(S(sup), wid(0), NULL), 0);
  cotp_assert_term_eq(cotp_test_down_of(ref, w), COTP_ATOM_KILLED);
}

COTP_TEST(supervisor, i34_dynamic_children_shut_down_concurrently) {
  test_root = cotp_self();
  cotp_trap_exit(true, NULL);
  cotp_pid sup;
  cotp_assert_rc(cotp_dynamic_supervisor_start_link(NULL, &sup, NULL), 0);
  for (int i = 0; i < 8; i++) {
    atomic_store(&slow[i], 200);
    cotp_child_spec s = worker_spec(i);
    cotp_assert_rc(cotp_dynamic_supervisor_start_child(S(sup), &s, NULL, NULL), 0);
    started(i);
  }
  int64_t t0 = cotp_monotonic_ms();
  cotp_assert_rc(cotp_supervisor_stop(S(sup), COTP_ATOM_NORMAL, COTP_INFINITY), 0);
  int64_t took = cotp_monotonic_ms() - t0;
  cr_assert_geq(took, 200);
  cr_assert_lt(took, 1200, "took %lld ms: not concurrent", (long long)took);
}

COTP_TEST(supervisor, i35_child_that_unlinked_does_not_hang_termination) {
  cotp_pid sup = sup_shutdown(0, 5000, 0);
  cotp_pid w = started(0);
  cotp_send(w, COTP_ATOM(unlink));
  cotp_assert_rc(cotp_receive_match(
                     &(cotp_clause){cotp_test_pattern("{:unlinked, 0}"), NULL, NULL},
                     1, 5000, 0, NULL),
                 0);
  cotp_term ref;
  cotp_monitor(w, &ref);
  cotp_assert_rc(cotp_supervisor_terminate_child(S(sup), wid(0), NULL), 0);
  cotp_assert_term_eq(cotp_test_down_of(ref, w), COTP_ATOM_SHUTDOWN);
}

static cotp_term idle_start(cotp_term args, void *ctx) {
  (void)args;
  (void)ctx;
  cotp_pid p;
  cotp_spawn_link(cotp_test_idle, NULL, &p);
  return COTP_TUPLE(cotp_self_heap(), COTP_ATOM_OK, cotp_pid_term(p));
}

static int64_t start_stop_many(cotp_pid sup, size_t n) {
  cotp_child_spec s = COTP_CHILD_SPEC_INIT;
  s.id = COTP_ATOM(x);
  s.start = idle_start;
  s.restart = COTP_TEMPORARY;
  cotp_pid *pids = malloc(n * sizeof *pids);
  for (size_t i = 0; i < n; i++)
    cotp_assert_rc(cotp_dynamic_supervisor_start_child(S(sup), &s, &pids[i], NULL), 0);
  int64_t t0 = cotp_monotonic_ms();
  for (size_t i = 0; i < n; i++)
    cotp_assert_rc(cotp_dynamic_supervisor_terminate_child(S(sup), pids[i]), 0);
  free(pids);
  cr_assert_eq(counts(sup).specs, 0);
  return cotp_monotonic_ms() - t0 + 1;
}

COTP_TEST(supervisor, i41_terminating_many_dynamic_children_scales, .timeout = 120) {
  cotp_pid sup;
  cotp_assert_rc(cotp_dynamic_supervisor_start_link(NULL, &sup, NULL), 0);
  size_t big = cotp_test_max_alive(10000);
  int64_t small = start_stop_many(sup, big / 10);
  int64_t large = start_stop_many(sup, big);
  cr_assert_lt(large, 50 * 10 * small + 100, "%lld vs %lld ms", (long long)large,
               (long long)small);
}

/* Starts a Supervisor with n static children and stops it: ms taken. */
static int64_t static_start_stop(size_t n) {
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  cotp_child_spec *specs = malloc(n * sizeof *specs);
  cr_assert_not_null(specs);
  for (size_t i = 0; i < n; i++) {
    specs[i] = (cotp_child_spec)COTP_CHILD_SPEC_INIT;
    specs[i].id = cotp_int(h, (int64_t)i);
    specs[i].start = idle_start;
  }
  int64_t t0 = cotp_monotonic_ms();
  cotp_pid sup;
  cotp_term reason;
  cotp_assert_rc(cotp_supervisor_start_link_children(specs, n, NULL, NULL, &sup, &reason), 0);
  cr_assert_eq((size_t)counts(sup).active, n);
  cotp_unlink(sup);
  cotp_assert_rc(cotp_supervisor_stop(S(sup), COTP_ATOM_NORMAL, COTP_INFINITY), 0);
  int64_t ms = cotp_monotonic_ms() - t0 + 1;
  free(specs);
  cotp_heap_release(h, mark);
  return ms;
}

/* The static half of I41: 30 times the children take at most 10 times
 * linear (300 times as long); quadratic work (a duplicate id check
 * against every earlier child, a list walked per child) would take 900. */
COTP_TEST(supervisor, i41_starting_and_stopping_many_static_children_scales,
          .timeout = 120) {
  size_t big = cotp_test_max_alive(30000);
  int64_t small = static_start_stop(big / 30);
  int64_t large = static_start_stop(big);
  cr_assert_lt(large, 10 * 30 * small + 200, "%lld vs %lld ms", (long long)large,
               (long long)small);
}

static cotp_pid sig_sup(cotp_auto_shutdown a, cotp_restart r0, cotp_restart r1) {
  test_root = cotp_self();
  cotp_child_spec s[2] = {worker_spec(0), worker_spec(1)};
  s[0].restart = r0;
  s[1].restart = r1;
  s[0].significant = s[1].significant = true;
  cotp_supervisor_flags f = COTP_SUPERVISOR_FLAGS_INIT;
  f.auto_shutdown = a;
  cotp_pid sup;
  cotp_term reason;
  cotp_assert_rc(cotp_supervisor_start_link_children(s, 2, &f, NULL, &sup, &reason), 0);
  return sup;
}

COTP_TEST(supervisor, i42_significant_children_and_auto_shutdown) {
  cotp_trap_exit(true, NULL);
  /* rejected with auto_shutdown never, and for permanent children */
  cotp_child_spec s = worker_spec(0);
  s.significant = true;
  s.restart = COTP_TRANSIENT;
  cotp_term reason;
  cotp_assert_rc(cotp_supervisor_start_link_children(&s, 1, NULL, NULL, NULL, &reason),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reason,
                      cotp_test_parse("{:start_spec, {:invalid_significant, true}}"));
  /* any_significant: a transient one exiting normally stops the supervisor */
  cotp_pid sup = sig_sup(COTP_AUTO_SHUTDOWN_ANY_SIGNIFICANT, COTP_TRANSIENT,
                         COTP_TRANSIENT);
  cotp_pid w0 = started(0);
  started(1);
  cotp_send(w0, cotp_test_parse("{:die, :normal}"));
  cotp_assert_term_eq(cotp_test_exit_from(sup, 5000), COTP_ATOM_SHUTDOWN);
  /* all_significant: only when the last one has exited */
  sup = sig_sup(COTP_AUTO_SHUTDOWN_ALL_SIGNIFICANT, COTP_TEMPORARY,
                COTP_TEMPORARY);
  w0 = started(0);
  cotp_pid w1 = started(1);
  cotp_send(w0, cotp_test_parse("{:die, :crash}"));
  cotp_sleep(50);
  cr_assert(cotp_is_alive(sup));
  cotp_send(w1, cotp_test_parse("{:die, :crash}"));
  cotp_assert_term_eq(cotp_test_exit_from(sup, 5000), COTP_ATOM_SHUTDOWN);
}

COTP_TEST(supervisor, i43_terminate_child_does_not_trigger_auto_shutdown) {
  cotp_pid sup = sig_sup(COTP_AUTO_SHUTDOWN_ANY_SIGNIFICANT, COTP_TRANSIENT,
                         COTP_TRANSIENT);
  started(0);
  started(1);
  cotp_assert_rc(cotp_supervisor_terminate_child(S(sup), wid(0), NULL), 0);
  cotp_sleep(50);
  cr_assert(cotp_is_alive(sup));
  /* nor is it allowed on a DynamicSupervisor */
  cotp_pid dyn;
  cotp_assert_rc(cotp_dynamic_supervisor_start_link(NULL, &dyn, NULL), 0);
  cotp_child_spec s = worker_spec(2);
  s.significant = true;
  cotp_term reply;
  cotp_assert_rc(cotp_dynamic_supervisor_start_child(S(dyn), &s, NULL, &reply),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reply, cotp_test_parse("{:error, {:invalid_significant, true}}"));
}

/* I43, the bystander half: a significant child that a one_for_all or
 * rest_for_one restart terminates as a bystander has not exited by itself,
 * so auto_shutdown does not stop the supervisor.  w0 (permanent, not
 * significant) crashes; w1 (significant) is the bystander: restarted when
 * transient, removed when temporary (I18), and the supervisor lives on. */
static void i43_bystander(cotp_strategy st, cotp_auto_shutdown a, cotp_restart r1) {
  test_root = cotp_self();
  cotp_child_spec s[2] = {worker_spec(0), worker_spec(1)};
  s[1].restart = r1;
  s[1].significant = true;
  cotp_supervisor_flags f = COTP_SUPERVISOR_FLAGS_INIT;
  f.strategy = st;
  f.auto_shutdown = a;
  cotp_pid sup;
  cotp_assert_rc(cotp_supervisor_start_link_children(s, 2, &f, NULL, &sup, NULL), 0);
  cotp_pid w0 = started(0), w1 = started(1);
  cotp_term ref;
  cotp_monitor(w1, &ref);
  cotp_send(w0, cotp_test_parse("{:die, :crash}"));
  cotp_assert_term_eq(cotp_test_down_of(ref, w1), COTP_ATOM_SHUTDOWN);
  cr_assert(cotp_pid_eq(started(0), child_pid(sup, wid(0))));
  if (r1 == COTP_TRANSIENT) {
    cotp_pid again = started(1);
    cr_assert(!cotp_pid_eq(again, w1));
    cr_assert(cotp_pid_eq(again, child_pid(sup, wid(1))));
  } else {
    refute_started(1, 50);
    cr_assert(cotp_is_none(child_status(sup, wid(1))), "the temporary bystander is still listed");
  }
  cotp_sleep(50);
  cr_assert(cotp_is_alive(sup));
  cr_assert_eq(counts(sup).active, r1 == COTP_TRANSIENT ? 2u : 1u);
}

COTP_TEST(supervisor, i43_one_for_all_bystander_does_not_trigger_auto_shutdown) {
  i43_bystander(COTP_ONE_FOR_ALL, COTP_AUTO_SHUTDOWN_ANY_SIGNIFICANT, COTP_TRANSIENT);
  i43_bystander(COTP_ONE_FOR_ALL, COTP_AUTO_SHUTDOWN_ANY_SIGNIFICANT, COTP_TEMPORARY);
}

COTP_TEST(supervisor, i43_rest_for_one_bystander_does_not_trigger_auto_shutdown) {
  i43_bystander(COTP_REST_FOR_ONE, COTP_AUTO_SHUTDOWN_ANY_SIGNIFICANT, COTP_TRANSIENT);
  i43_bystander(COTP_REST_FOR_ONE, COTP_AUTO_SHUTDOWN_ALL_SIGNIFICANT, COTP_TEMPORARY);
}
