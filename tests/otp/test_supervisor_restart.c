/* SPDX-License-Identifier: Apache-2.0 */
/* Supervisor restart types, strategies and intensity (I15-I30, I39, I40). */
#include "sup_util.h"

static cotp_heap *h(void) { return cotp_self_heap(); }
static cotp_server S(cotp_pid p) { return cotp_server_pid(p); }

static void die(cotp_pid p, const char *reason) {
  cotp_term ref;
  cotp_monitor(p, &ref);
  cotp_send(p, cotp_format(h(), "{:die, ~t}", cotp_test_parse(reason)));
  cotp_test_down_of(ref, p);
}

static cotp_pid sup_with(cotp_restart r, int tag) {
  test_root = cotp_self();
  cotp_child_spec s = worker_spec(tag);
  s.restart = r;
  cotp_pid sup;
  cotp_assert_rc(cotp_supervisor_start_link_children(&s, 1, NULL, NULL, &sup, NULL), 0);
  return sup;
}

COTP_TEST(supervisor, i15_permanent_restarts_on_any_reason) {
  cotp_pid sup = sup_with(COTP_PERMANENT, 0);
  const char *reasons[] = {":normal", ":shutdown", "{:shutdown, :x}"};
  cotp_pid p = started(0);
  for (int i = 0; i < 3; i++) {
    die(p, reasons[i]);
    p = started(0);
  }
  (void)sup;
}

COTP_TEST(supervisor, i16_transient_restarts_only_on_abnormal_exit) {
  cotp_pid sup = sup_with(COTP_TRANSIENT, 0);
  die(started(0), ":crash");
  cotp_pid p = started(0);
  const char *reasons[] = {":normal", ":shutdown", "{:shutdown, :x}"};
  for (int i = 0; i < 3; i++) {
    die(p, reasons[i]);
    refute_started(0, 50);
    cotp_assert_term_eq(child_status(sup, wid(0)), COTP_ATOM_UNDEFINED);
    cotp_assert_rc(cotp_supervisor_restart_child(S(sup), wid(0), &p, NULL), 0);
    started(0);
  }
}

COTP_TEST(supervisor, i17_i19_temporary_never_restarts_and_its_spec_goes) {
  cotp_pid sup = sup_with(COTP_TEMPORARY, 0);
  die(started(0), ":crash");
  refute_started(0, 50);
  cr_assert(cotp_is_none(child_status(sup, wid(0))));
  cr_assert_eq(counts(sup).specs, 0);
  cotp_child_spec s = worker_spec(0);
  s.restart = COTP_TEMPORARY;
  cotp_assert_rc(cotp_supervisor_start_child(S(sup), &s, NULL, NULL), 0); /* I19 */
  started(0);
}

COTP_TEST(supervisor, i18_temporary_bystander_is_not_restarted_nor_counted) {
  test_root = cotp_self();
  cotp_child_spec specs[2] = {worker_spec(0), worker_spec(1)};
  specs[1].restart = COTP_TEMPORARY;
  cotp_supervisor_flags f = COTP_SUPERVISOR_FLAGS_INIT;
  f.strategy = COTP_ONE_FOR_ALL;
  f.max_restarts = 1;
  cotp_pid sup;
  cotp_assert_rc(cotp_supervisor_start_link_children(specs, 2, &f, NULL, &sup, NULL), 0);
  cotp_pid w0 = started(0), w1 = started(1);
  cotp_term ref;
  cotp_monitor(w1, &ref);
  die(w0, ":crash");
  cotp_assert_term_eq(cotp_test_down_of(ref, w1), COTP_ATOM_SHUTDOWN);
  started(0);
  refute_started(1, 50);
  cr_assert_eq(counts(sup).specs, 1);
  cr_assert(cotp_is_alive(sup));
}

COTP_TEST(supervisor, i20_intensity_is_a_sliding_window) {
  int tags[] = {0};
  cotp_pid sup = sup_of(COTP_ONE_FOR_ONE, 1, 1, tags, 1);
  cotp_pid p = started(0);
  for (int i = 0; i < 3; i++) {
    cotp_sleep(1100);
    die(p, ":crash");
    p = started(0);
  }
  cr_assert(cotp_is_alive(sup));
}

COTP_TEST(supervisor, i21_more_than_max_restarts_stops_with_shutdown) {
  cotp_trap_exit(true, NULL);
  int tags[] = {0, 1};
  cotp_pid sup = sup_of(COTP_ONE_FOR_ONE, 2, 10, tags, 2);
  cotp_pid w1 = started(1);
  cotp_term r1;
  cotp_monitor(w1, &r1);
  die(started(0), ":crash");
  die(started(0), ":crash");
  cotp_pid last = started(0);
  cr_assert(cotp_is_alive(sup));
  die(last, ":crash"); /* the third */
  refute_started(0, 50);
  cotp_assert_term_eq(cotp_test_down_of(r1, w1), COTP_ATOM_SHUTDOWN);
  cotp_assert_term_eq(cotp_test_exit_from(sup, 5000), COTP_ATOM_SHUTDOWN);
}

COTP_TEST(supervisor, i22_failed_restarts_count_and_escalate) {
  for (int st = 0; st < 3; st++) {
    cotp_trap_exit(true, NULL);
    int tags[] = {0, 1};
    atomic_store(&mode[0], W_OK);
    cotp_pid sup = sup_of((cotp_strategy)st, 3, 10, tags, 2);
    cotp_pid w0 = started(0), w1 = started(1);
    cotp_term r1;
    cotp_monitor(w1, &r1);
    atomic_store(&mode[1], W_ERROR);
    atomic_store(&starts[1], 0);
    cotp_send(w1, cotp_test_parse("{:die, :crash}"));
    cotp_assert_term_eq(cotp_test_exit_from(sup, 5000), COTP_ATOM_SHUTDOWN);
    cr_assert(atomic_load(&starts[1]) >= 1 && atomic_load(&starts[1]) <= 3);
    cr_assert(!cotp_is_alive(w0));
    atomic_store(&mode[1], W_OK);
    cotp_test_down_of(r1, w1);
    cotp_term junk;
    while (cotp_receive(0, &junk) == 0) {
    }
  }
}

COTP_TEST(supervisor, i23_one_for_one_restarts_only_the_crashed_child) {
  int tags[] = {0, 1, 2};
  cotp_pid sup = sup_of(COTP_ONE_FOR_ONE, 3, 5, tags, 3);
  cotp_pid w0 = started(0), w1 = started(1), w2 = started(2);
  die(w1, ":crash");
  cotp_pid n1 = started(1);
  cr_assert_eq(child_pid(sup, wid(0)).bits, w0.bits);
  cr_assert_eq(child_pid(sup, wid(1)).bits, n1.bits);
  cr_assert_eq(child_pid(sup, wid(2)).bits, w2.bits);
}

COTP_TEST(supervisor, i24_one_for_all_restarts_everyone) {
  int tags[] = {0, 1, 2};
  cotp_pid sup = sup_of(COTP_ONE_FOR_ALL, 3, 5, tags, 3);
  cotp_pid w[3] = {started(0), started(1), started(2)};
  cotp_term r0, r2;
  cotp_monitor(w[0], &r0);
  cotp_monitor(w[2], &r2);
  die(w[1], ":crash");
  cotp_assert_term_eq(cotp_test_down_of(r0, w[0]), COTP_ATOM_SHUTDOWN);
  cotp_assert_term_eq(cotp_test_down_of(r2, w[2]), COTP_ATOM_SHUTDOWN);
  for (int i = 0; i < 3; i++) {
    cotp_pid n = started(i);
    cr_assert_neq(n.bits, w[i].bits);
    cr_assert_eq(child_pid(sup, wid(i)).bits, n.bits);
  }
}

COTP_TEST(supervisor, i25_one_for_all_sibling_failing_to_start_retries_group) {
  int tags[] = {0, 1, 2};
  cotp_pid sup = sup_of(COTP_ONE_FOR_ALL, 10, 10, tags, 3);
  cotp_pid w[3] = {started(0), started(1), started(2)};
  atomic_store(&mode[2], W_FAIL_ONCE);
  die(w[0], ":crash");
  /* round one: 0 and 1 restart, 2 fails, so 0 and 1 go again */
  cotp_pid a0 = started(0), a1 = started(1);
  cotp_pid b0 = started(0), b1 = started(1);
  started(2);
  cr_assert_neq(b0.bits, a0.bits);
  cr_assert(!cotp_is_alive(a0) && !cotp_is_alive(a1) && cotp_is_alive(b1));
  cr_assert_eq(counts(sup).active, 3);
}

COTP_TEST(supervisor, i26_i28_rest_for_one_restarts_later_children_in_order) {
  int tags[] = {0, 1, 2, 3};
  cotp_pid sup = sup_of(COTP_REST_FOR_ONE, 3, 5, tags, 4);
  cotp_pid w[4] = {started(0), started(1), started(2), started(3)};
  cotp_term r2, r3;
  cotp_monitor(w[2], &r2);
  cotp_monitor(w[3], &r3);
  die(w[1], ":crash");
  /* terminated in reverse start order: 3's DOWN before 2's */
  cotp_assert_term_eq(cotp_test_down_of(r3, w[3]), COTP_ATOM_SHUTDOWN);
  cotp_assert_term_eq(cotp_test_down_of(r2, w[2]), COTP_ATOM_SHUTDOWN);
  /* restarted in start order */
  for (int i = 1; i < 4; i++)
    started(i);
  for (int i = 1; i < 4; i++)
    cr_assert_eq(atomic_load(&start_log[3 + i]), i);
  cr_assert_eq(child_pid(sup, wid(0)).bits, w[0].bits);
}

COTP_TEST(supervisor, i28_supervisor_stops_children_in_reverse_order) {
  cotp_trap_exit(true, NULL);
  int tags[] = {0, 1, 2};
  cotp_pid sup = sup_of(COTP_ONE_FOR_ONE, 3, 5, tags, 3);
  cotp_pid w[3] = {started(0), started(1), started(2)};
  cotp_term r[3];
  for (int i = 0; i < 3; i++)
    cotp_monitor(w[i], &r[i]);
  cotp_assert_rc(cotp_supervisor_stop(S(sup), COTP_ATOM_NORMAL, 5000), 0);
  cotp_term msg;
  for (int i = 2; i >= 0; i--) {
    cotp_assert_rc(cotp_receive_match(
                       &(cotp_clause){cotp_test_pattern("{:DOWN, _, _, _, _}"), NULL, NULL},
                       1, 5000, 0, &msg),
                   0);
    cotp_assert_term_eq(cotp_tuple_get(msg, 1), r[i]);
  }
}

COTP_TEST(supervisor, i27_rest_for_one_retry_resumes_from_the_failed_child) {
  int tags[] = {0, 1, 2};
  cotp_pid sup = sup_of(COTP_REST_FOR_ONE, 10, 10, tags, 3);
  cotp_pid w[3] = {started(0), started(1), started(2)};
  atomic_store(&mode[2], W_FAIL_ONCE);
  die(w[1], ":crash");
  cotp_pid a1 = started(1);
  started(2);
  refute_started(1, 50); /* 1 was not restarted again */
  cr_assert_eq(child_pid(sup, wid(1)).bits, a1.bits);
  cr_assert_eq(child_pid(sup, wid(0)).bits, w[0].bits);
}

COTP_TEST(supervisor, i29_one_for_all_restarts_a_manually_terminated_child) {
  int tags[] = {0, 1, 2};
  cotp_pid sup = sup_of(COTP_ONE_FOR_ALL, 3, 5, tags, 3);
  cotp_pid w0 = started(0);
  started(1);
  started(2);
  cotp_assert_rc(cotp_supervisor_terminate_child(S(sup), wid(1), NULL), 0);
  cotp_child_counts c = counts(sup);
  cr_assert(c.active == 2 && c.specs == 3);
  die(w0, ":crash");
  started(0);
  started(1);
  started(2);
  c = counts(sup);
  cr_assert(c.active == 3 && c.specs == 3);
}

/* A supervisor module for nested trees: one worker, tag from arg */
static cotp_term tree_init(cotp_term arg) {
  cotp_child_spec s = worker_spec((int)cotp_int_value(arg));
  return cotp_supervisor_init(cotp_self_heap(), NULL, &s, 1);
}
static const cotp_supervisor_module tree_mod = {"Tree", tree_init};

COTP_TEST(supervisor, i30_restarted_subsupervisor_has_only_static_children) {
  test_root = cotp_self();
  cotp_child_spec s = cotp_supervisor_child_spec(COTP_ATOM(sub), &tree_mod,
                                                 cotp_int(h(), 0));
  cotp_pid top;
  cotp_assert_rc(cotp_supervisor_start_link_children(&s, 1, NULL, NULL, &top, NULL), 0);
  started(0);
  cotp_pid sub = child_pid(top, COTP_ATOM(sub));
  cotp_child_spec extra = worker_spec(1);
  cotp_assert_rc(cotp_supervisor_start_child(S(sub), &extra, NULL, NULL), 0);
  started(1);
  cr_assert_eq(counts(sub).specs, 2);
  cotp_assert_term_eq(cotp_supervisor_which_children(S(top)),
                      cotp_format(h(), "[{:sub, ~p, :supervisor, [Tree]}]", sub));
  kill_and_wait(sub, COTP_ATOM_KILL);
  started(0);
  refute_started(1, 50);
  cotp_pid sub2 = child_pid(top, COTP_ATOM(sub));
  cr_assert_neq(sub2.bits, sub.bits);
  cr_assert_eq(counts(sub2).specs, 1);
}

COTP_TEST(supervisor, i39_i40_restart_loop_keeps_the_supervisor_responsive) {
  int tags[] = {0, 1};
  cotp_pid sup = sup_of(COTP_ONE_FOR_ONE, 100000, 3600, tags, 2);
  cotp_pid w0 = started(0);
  started(1);
  atomic_store(&mode[0], W_ERROR);
  die(w0, ":crash");
  while (atomic_load(&starts[0]) < 5)
    cotp_sleep(1);
  cotp_assert_term_eq(child_status(sup, wid(0)), COTP_ATOM(restarting));
  cotp_child_counts c = counts(sup); /* I39 */
  cr_assert(c.specs == 2 && c.active == 1 && c.workers == 2);
  cotp_term r;
  cotp_child_spec s = worker_spec(0);
  cotp_assert_rc(cotp_supervisor_start_child(S(sup), &s, NULL, &r),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(r, cotp_test_parse("{:error, :already_present}"));
  cotp_assert_rc(cotp_supervisor_restart_child(S(sup), wid(0), NULL, &r),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(r, cotp_test_parse("{:error, :restarting}"));
  cotp_assert_rc(cotp_supervisor_delete_child(S(sup), wid(0), &r),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(r, COTP_ATOM(restarting));
  cotp_assert_rc(cotp_supervisor_terminate_child(S(sup), wid(0), NULL), 0);
  cotp_assert_term_eq(child_status(sup, wid(0)), COTP_ATOM_UNDEFINED);
  int n = atomic_load(&starts[0]);
  cotp_sleep(50);
  cr_assert_eq(atomic_load(&starts[0]), n, "the loop went on");
  /* and a shutdown during a loop does not hang */
  cotp_assert_rc(cotp_supervisor_restart_child(S(sup), wid(0), NULL, &r),
                 COTP_SUPERVISOR_ERROR);
  cotp_send(child_pid(sup, wid(1)), cotp_test_parse("{:die, :crash}"));
  atomic_store(&mode[1], W_ERROR);
  cotp_trap_exit(true, NULL);
  cotp_assert_rc(cotp_supervisor_stop(S(sup), COTP_ATOM_NORMAL, 5000), 0);
}

COTP_TEST(supervisor, backoff_delays_restarts_of_a_crashing_child) {
  test_root = cotp_self();
  cotp_child_spec s = worker_spec(0);
  cotp_supervisor_flags f = COTP_SUPERVISOR_FLAGS_INIT;
  f.max_restarts = 100;
  f.backoff_ms = 100;
  f.backoff_max_ms = 400;
  cotp_pid sup;
  cotp_assert_rc(cotp_supervisor_start_link_children(&s, 1, &f, NULL, &sup, NULL), 0);
  cotp_pid p = started(0);
  int64_t t0 = cotp_monotonic_ms();
  die(p, ":crash");
  cotp_assert_term_eq(child_status(sup, wid(0)), COTP_ATOM(restarting));
  p = started(0);
  int64_t t1 = cotp_monotonic_ms();
  cr_assert_geq(t1 - t0, 100);
  die(p, ":crash");
  started(0);
  cr_assert_geq(cotp_monotonic_ms() - t1, 200); /* doubled */
}
