/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Waiting without giving up: ignore (F6-F9), yield (F22-F25) and
 * yield_many with its options (F26-F31).
 */
#include "task_util.h"

static cotp_term down_msg(cotp_term ref, cotp_term reason) {
  return COTP_TUPLE(cotp_self_heap(), COTP_ATOM_DOWN, ref, COTP_ATOM_PROCESS,
                    cotp_pid_term(cotp_self()), reason);
}

static cotp_term ok(cotp_term v) { return COTP_TUPLE(cotp_self_heap(), COTP_ATOM_OK, v); }
static cotp_term ex(cotp_term r) { return COTP_TUPLE(cotp_self_heap(), COTP_ATOM(exit), r); }

/* --- ignore --- */

COTP_TEST(task, f6_ignore_returns_a_reply_already_there) {
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_value, TU_ARG(COTP_ATOM_OK), &t), 0);
  tu_wait_down(t.pid);
  cotp_assert_term_eq(cotp_task_ignore(&t), ok(COTP_ATOM_OK));
  cotp_assert_term_eq(tu_catch_op(tu_do_await, &t, 1, 0),
                      tu_reason(COTP_ATOM_TIMEOUT, "await", &t, cotp_int(NULL, 0)));
}

COTP_TEST(task, f7_ignore_before_the_reply_lets_the_task_run_alone) {
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_wait_go, TU_ARG(COTP_ATOM_OK), &t), 0);
  cotp_assert_term_eq(cotp_task_ignore(&t), COTP_ATOM_NIL);
  cr_assert(!tu_linked(t.pid));
  cr_assert(cotp_is_alive(t.pid));
  cotp_send(t.pid, COTP_ATOM(go));
  tu_wait_down(t.pid);
  tu_refute_any(30); /* neither the reply nor the DOWN */
  cotp_assert_term_eq(tu_catch_op(tu_do_await, &t, 1, 0),
                      tu_reason(COTP_ATOM_TIMEOUT, "await", &t, cotp_int(NULL, 0)));
}

COTP_TEST(task, f8_ignore_after_the_task_died_returns_its_exit) {
  cotp_trap_exit(true, NULL);
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_exit, TU_ARG(COTP_ATOM(oops)), &t), 0);
  tu_wait_down(t.pid);
  cotp_assert_term_eq(cotp_task_ignore(&t), ex(COTP_ATOM(oops)));
  cotp_assert_term_eq(tu_catch_op(tu_do_await, &t, 1, 0),
                      tu_reason(COTP_ATOM_TIMEOUT, "await", &t, cotp_int(NULL, 0)));
}

COTP_TEST(task, f9_ignored_task_crashing_later_does_not_reach_the_owner) {
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_wait_go_exit, TU_ARG(COTP_ATOM(oops)), &t), 0);
  cotp_assert_term_eq(cotp_task_ignore(&t), COTP_ATOM_NIL);
  cotp_send(t.pid, COTP_ATOM(go));
  tu_wait_down(t.pid);
  tu_refute_any(30); /* still alive (not trapping), nothing leaked */
  cotp_assert_term_eq(tu_catch_op(tu_do_await, &t, 1, 0),
                      tu_reason(COTP_ATOM_TIMEOUT, "await", &t, cotp_int(NULL, 0)));
}

COTP_TEST(task, ignore_noconnection_exits_with_nodedown) {
  cotp_task t = tu_fake_task();
  t.pid = cotp_self();
  tu_send_self(down_msg(t.ref, COTP_ATOM_NOCONNECTION));
  cotp_term reason = tu_catch_op(tu_do_ignore, &t, 1, 0);
  cotp_heap *h = cotp_self_heap();
  cotp_assert_term_eq(reason, COTP_TUPLE(h, cotp_format(h, "{:nodedown, :nonode@nohost}"),
                                         COTP_TUPLE(h, cotp_atom("Elixir.Task"), COTP_ATOM(ignore),
                                                    COTP_LIST(h, tu_task_term(&t)))));
}

/* --- yield --- */

COTP_TEST(task, f22_yield_prefers_the_reply_over_a_queued_down) {
  cotp_task t = tu_fake_task();
  tu_send_self(COTP_TUPLE(cotp_self_heap(), t.ref, COTP_ATOM(result)));
  tu_send_self(down_msg(t.ref, COTP_ATOM(abnormal)));
  cotp_assert_term_eq(cotp_task_yield(&t, 0), ok(COTP_ATOM(result)));
  cotp_test_refute_received("{:DOWN, _, _, _, _}", 0);
}

COTP_TEST(task, f23_yield_timeout_keeps_the_monitor_for_another_try) {
  cotp_task t = tu_fake_task();
  cotp_assert_term_eq(cotp_task_yield(&t, 0), COTP_ATOM_NIL);
  cotp_task real;
  cotp_assert_rc(cotp_task_async(tu_wait_go, TU_ARG(COTP_ATOM(done)), &real), 0);
  cotp_assert_term_eq(cotp_task_yield(&real, 10), COTP_ATOM_NIL);
  cotp_term monitors;
  cotp_process_info(cotp_self(), COTP_ATOM(monitors), &monitors);
  cr_assert(!cotp_is_nil(monitors));
  cotp_assert_term_eq(cotp_task_yield(&real, 0), COTP_ATOM_NIL);
  cotp_send(real.pid, COTP_ATOM(go));
  cotp_assert_term_eq(cotp_task_yield(&real, 5000), ok(COTP_ATOM(done)));
  tu_refute_any(20);
}

COTP_TEST(task, f24_yield_reports_a_normal_exit) {
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_exit, TU_ARG(COTP_ATOM_NORMAL), &t), 0);
  cotp_assert_term_eq(cotp_task_yield(&t, 5000), ex(COTP_ATOM_NORMAL));
}

COTP_TEST(task, f25_yield_noconnection_exits_with_nodedown) {
  cotp_task t = tu_fake_task();
  t.pid = cotp_self();
  tu_send_self(down_msg(t.ref, COTP_ATOM_NOCONNECTION));
  cotp_term reason = tu_catch_op(tu_do_yield, &t, 1, 5000);
  cotp_assert_term_eq(reason, tu_reason(cotp_format(cotp_self_heap(), "{:nodedown, :nonode@nohost}"),
                                        "yield", &t, cotp_int(NULL, 5000)));
}

/* --- yield_many --- */

static int yield_many(cotp_task *t, size_t n, int64_t timeout, size_t limit,
                      cotp_task_on_timeout on_timeout, cotp_term *r) {
  cotp_task_yield_opts o = COTP_TASK_YIELD_OPTS_INIT;
  o.timeout_ms = timeout;
  o.limit = limit;
  o.on_timeout = on_timeout;
  return cotp_task_yield_many(t, n, &o, r);
}

COTP_TEST(task, f26_yield_many_answers_each_task_in_input_order) {
  cotp_task t[3] = {tu_fake_task(), tu_fake_task(), tu_fake_task()};
  tu_send_self(COTP_TUPLE(cotp_self_heap(), t[0].ref, COTP_ATOM(result)));
  tu_send_self(down_msg(t[2].ref, COTP_ATOM_NORMAL));
  cotp_term r[3];
  cotp_assert_rc(yield_many(t, 3, 0, 0, COTP_TASK_ON_TIMEOUT_NOTHING, r), 0);
  cotp_assert_term_eq(r[0], ok(COTP_ATOM(result)));
  cotp_assert_term_eq(r[1], COTP_ATOM_NIL);
  cotp_assert_term_eq(r[2], ex(COTP_ATOM_NORMAL));
}

COTP_TEST(task, f26_yield_many_reply_wins_over_a_queued_down) {
  cotp_task t = tu_fake_task();
  tu_send_self(COTP_TUPLE(cotp_self_heap(), t.ref, COTP_ATOM(result)));
  tu_send_self(down_msg(t.ref, COTP_ATOM(abnormal)));
  cotp_term r;
  cotp_assert_rc(cotp_task_yield_many(&t, 1, NULL, &r), 0);
  cotp_assert_term_eq(r, ok(COTP_ATOM(result)));
  cotp_test_refute_received("{:DOWN, _, _, _, _}", 0);
}

COTP_TEST(task, f26_yield_many_of_real_tasks_with_infinite_timeout) {
  cotp_task t[3];
  cotp_assert_rc(cotp_task_async(tu_value, TU_ARG(COTP_ATOM(a)), &t[0]), 0);
  cotp_assert_rc(cotp_task_async(tu_exit, TU_ARG(COTP_ATOM_NORMAL), &t[1]), 0);
  cotp_assert_rc(cotp_task_async(tu_value, TU_ARG(COTP_ATOM(c)), &t[2]), 0);
  cotp_term r[3];
  cotp_assert_rc(yield_many(t, 3, COTP_INFINITY, 0, COTP_TASK_ON_TIMEOUT_NOTHING, r), 0);
  cotp_assert_term_eq(r[0], ok(COTP_ATOM(a)));
  cotp_assert_term_eq(r[1], ex(COTP_ATOM_NORMAL));
  cotp_assert_term_eq(r[2], ok(COTP_ATOM(c)));
  tu_refute_any(20);
}

COTP_TEST(task, f27_yield_many_returns_at_the_limit) {
  cotp_task t[3] = {tu_fake_task(), tu_fake_task(), tu_fake_task()};
  tu_send_self(COTP_TUPLE(cotp_self_heap(), t[0].ref, COTP_ATOM(result)));
  tu_send_self(down_msg(t[2].ref, COTP_ATOM_NORMAL));
  cotp_term r[3];
  cotp_assert_rc(yield_many(t, 3, COTP_INFINITY, 1, COTP_TASK_ON_TIMEOUT_NOTHING, r), 0);
  cotp_assert_term_eq(r[0], ok(COTP_ATOM(result)));
  cotp_assert_term_eq(r[1], COTP_ATOM_NIL);
  cotp_assert_term_eq(r[2], COTP_ATOM_NIL);
  cotp_assert_rc(yield_many(&t[1], 2, COTP_INFINITY, 1, COTP_TASK_ON_TIMEOUT_NOTHING, r), 0);
  cotp_assert_term_eq(r[0], COTP_ATOM_NIL);
  cotp_assert_term_eq(r[1], ex(COTP_ATOM_NORMAL));
}

static void yield_above_limit(void *arg) {
  cotp_pid parent = cotp_get_pid(tu_term(arg));
  cotp_task t;
  cotp_task_async(tu_value, TU_ARG(COTP_ATOM(done)), &t);
  cotp_term r;
  yield_many(&t, 1, COTP_INFINITY, 2, COTP_TASK_ON_TIMEOUT_NOTHING, &r);
  cotp_send(parent, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(yielded), r));
}

COTP_TEST(task, f28_yield_many_clamps_a_limit_above_the_task_count) {
  cotp_pid pid;
  cotp_assert_rc(cotp_spawn(yield_above_limit, TU_ARG(cotp_pid_term(cotp_self())), &pid), 0);
  cotp_term r;
  cotp_clause c = {cotp_test_pattern("{:yielded, r}"), NULL, &r};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
  cotp_assert_term_eq(r, ok(COTP_ATOM(done)));
}

COTP_TEST(task, f29_yield_many_kill_task_shuts_down_the_late_ones) {
  cotp_trap_exit(true, NULL);
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_sleep, TU_ARG(COTP_ATOM_INFINITY), &t), 0);
  cotp_term r;
  cotp_assert_rc(yield_many(&t, 1, 0, 0, COTP_TASK_ON_TIMEOUT_KILL_TASK, &r), 0);
  cotp_assert_term_eq(r, COTP_ATOM_NIL);
  cr_assert(!cotp_is_alive(t.pid));
}

COTP_TEST(task, f29_yield_many_limit_reached_first_is_not_a_timeout) {
  cotp_trap_exit(true, NULL);
  cotp_task t[2];
  cotp_assert_rc(cotp_task_async(tu_sleep, TU_ARG(COTP_ATOM_INFINITY), &t[0]), 0);
  cotp_assert_rc(cotp_task_async(tu_value, TU_ARG(COTP_ATOM(done)), &t[1]), 0);
  cotp_term r[2];
  cotp_assert_rc(yield_many(t, 2, COTP_INFINITY, 1, COTP_TASK_ON_TIMEOUT_KILL_TASK, r), 0);
  cotp_assert_term_eq(r[0], COTP_ATOM_NIL);
  cotp_assert_term_eq(r[1], ok(COTP_ATOM(done)));
  cr_assert(cotp_is_alive(t[0].pid));
  cotp_assert_rc(yield_many(t, 1, 0, 1, COTP_TASK_ON_TIMEOUT_KILL_TASK, r), 0);
  cotp_assert_term_eq(r[0], COTP_ATOM_NIL);
  cr_assert(!cotp_is_alive(t[0].pid));
}

COTP_TEST(task, f30_yield_many_ignore_lets_the_late_ones_run_unlinked) {
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_wait_go, TU_ARG(COTP_ATOM_OK), &t), 0);
  cotp_term r;
  cotp_assert_rc(yield_many(&t, 1, 0, 0, COTP_TASK_ON_TIMEOUT_IGNORE, &r), 0);
  cotp_assert_term_eq(r, COTP_ATOM_NIL);
  cr_assert(cotp_is_alive(t.pid));
  cr_assert(!tu_linked(t.pid));
  cotp_send(t.pid, COTP_ATOM(go));
  tu_wait_down(t.pid);
  cotp_assert_term_eq(cotp_task_yield(&t, 0), COTP_ATOM_NIL);
  tu_refute_any(20);
}

COTP_TEST(task, f31_yield_many_by_default_leaves_late_tasks_to_the_owner) {
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_wait_go, TU_ARG(COTP_ATOM(late)), &t), 0);
  cotp_term r;
  cotp_assert_rc(yield_many(&t, 1, 0, 0, COTP_TASK_ON_TIMEOUT_NOTHING, &r), 0);
  cotp_assert_term_eq(r, COTP_ATOM_NIL);
  cr_assert(tu_linked(t.pid));
  cotp_send(t.pid, COTP_ATOM(go));
  cotp_assert_term_eq(cotp_task_await(&t, 5000), COTP_ATOM(late));
}

COTP_TEST(task, yield_many_noconnection_exits_with_nodedown) {
  cotp_heap *h = cotp_self_heap();
  cotp_task t = tu_fake_task();
  t.pid = cotp_self();
  tu_send_self(down_msg(t.ref, COTP_ATOM_NOCONNECTION));
  cotp_term reason = tu_catch_op(tu_do_yield_many, &t, 1, 5000);
  cotp_assert_term_eq(reason, COTP_TUPLE(h, cotp_format(h, "{:nodedown, :nonode@nohost}"),
                                         COTP_TUPLE(h, cotp_atom("Elixir.Task"), COTP_ATOM(yield_many),
                                                    COTP_LIST(h, COTP_LIST(h, tu_task_term(&t)),
                                                              cotp_int(h, 5000)))));
}

static void yield_many_bad_opts(void *arg) {
  (void)arg;
  cotp_task t = tu_fake_task();
  cotp_term r;
  cotp_task_yield_opts o = COTP_TASK_YIELD_OPTS_INIT;
  o.on_timeout = COTP_TASK_ON_TIMEOUT_EXIT;
  cotp_task_yield_many(&t, 1, &o, &r);
}

COTP_TEST(task, yield_many_bad_on_timeout_raises_argument_error) {
  tu_assert_argument_error(tu_catch(yield_many_bad_opts, NULL),
                           "cotp_task_yield_many: on_timeout must be "
                           "COTP_TASK_ON_TIMEOUT_NOTHING, _IGNORE or _KILL_TASK, got 3");
}
