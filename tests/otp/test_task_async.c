/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Starting tasks: async and its messages (F1, F2), start and start_link
 * (F3, F41), lineage in the dictionary (F4), completed tasks (F5), undef
 * (F13), crash reports (F42), the %Task{} term, and bad input.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "task_util.h"

static cotp_term mfa_of(const cotp_task *t) {
  cotp_heap *h = cotp_self_heap();
  return COTP_TUPLE(h, t->module, t->function, cotp_int(h, t->arity));
}

static bool contains(cotp_term list, cotp_term x) {
  for (cotp_term l = list; cotp_is_cons(l); l = cotp_tail(l))
    if (cotp_term_eq(cotp_head(l), x))
      return true;
  return false;
}

/* --- F1, F2: async --- */

COTP_TEST(task, f1_async_links_monitors_and_replies_then_down) {
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_wait_go, TU_ARG(COTP_ATOM(done)), &t), 0);
  cr_assert(cotp_pid_eq(t.owner, cotp_self()));
  cr_assert(t.pid.bits != 0);
  cr_assert(cotp_is_ref(t.ref));
  cotp_assert_prints(mfa_of(&t), "{:erlang, :apply, 2}");
  /* linked, and monitored by the caller */
  cr_assert(tu_linked(t.pid));
  cotp_term monitors;
  cotp_assert_rc(cotp_process_info(cotp_self(), COTP_ATOM(monitors), &monitors), 0);
  cr_assert(contains(monitors, COTP_TUPLE(cotp_self_heap(), COTP_ATOM_PROCESS,
                                          cotp_pid_term(t.pid))));
  cotp_send(t.pid, COTP_ATOM(go));
  /* {ref, result}, then the DOWN with :normal, in that order */
  cotp_term msg;
  cotp_clause any[2] = {{cotp_test_pattern("{^ref, _}"), &t.ref, NULL},
                        {cotp_test_pattern("{:DOWN, ^ref, _, _, _}"), &t.ref, NULL}};
  cotp_assert_rc(cotp_receive_match(any, 2, 5000, 0, &msg), 0);
  cotp_assert_term_eq(msg, COTP_TUPLE(cotp_self_heap(), t.ref, COTP_ATOM(done)));
  cotp_assert_term_eq(cotp_test_down_of(t.ref, t.pid), COTP_ATOM_NORMAL);
}

COTP_TEST(task, f1_monitor_reference_is_an_alias_until_the_monitor_goes) {
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_wait_go, TU_ARG(COTP_ATOM(done)), &t), 0);
  cotp_assert_rc(cotp_send_alias(t.ref, COTP_ATOM(through_alias)), 0);
  cotp_clause c = {cotp_test_pattern(":through_alias"), NULL, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
  cotp_assert_rc(cotp_demonitor(t.ref, COTP_DEMONITOR_FLUSH), 0);
  cotp_send_alias(t.ref, COTP_ATOM(through_alias));
  cotp_test_refute_received(":through_alias", 50);
  cotp_send(t.pid, COTP_ATOM(go));
  tu_wait_down(t.pid);
  tu_refute_any(20);
}

COTP_TEST(task, f1_async_mfa_runs_registered_function) {
  tu_register();
  cotp_heap *h = cotp_self_heap();
  cotp_task t;
  cotp_assert_rc(cotp_task_async_mfa(COTP_ATOM(tu), COTP_ATOM(wait_go),
                                     COTP_LIST(h, cotp_int(h, 1)), &t), 0);
  cotp_assert_prints(mfa_of(&t), "{:tu, :wait_go, 1}");
  cr_assert(tu_linked(t.pid));
  cotp_send(t.pid, COTP_ATOM(go));
  cotp_assert_term_eq(cotp_task_await(&t, 5000), cotp_int(h, 1));
}

static void plain_mfa(cotp_term args) {
  cotp_send(cotp_get_pid(cotp_head(args)), COTP_ATOM(ran));
}

COTP_TEST(task, f1_async_mfa_of_core_function_replies_ok) {
  cotp_assert_rc(cotp_register_function(COTP_ATOM(tu_plain), COTP_ATOM(run), plain_mfa), 0);
  cotp_heap *h = cotp_self_heap();
  cotp_task t;
  cotp_assert_rc(cotp_task_async_mfa(COTP_ATOM(tu_plain), COTP_ATOM(run),
                                     COTP_LIST(h, cotp_pid_term(cotp_self())), &t), 0);
  cotp_assert_term_eq(cotp_task_await(&t, 5000), COTP_ATOM_OK);
  cotp_clause c = {cotp_test_pattern(":ran"), NULL, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
}

COTP_TEST(task, f2_late_reply_after_await_timeout_never_arrives) {
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_wait_go, TU_ARG(COTP_ATOM(done)), &t), 0);
  cotp_term reason = tu_catch_op(tu_do_await, &t, 1, 0);
  cotp_assert_term_eq(reason, tu_reason(COTP_ATOM_TIMEOUT, "await", &t, cotp_int(NULL, 0)));
  cotp_send(t.pid, COTP_ATOM(go));
  tu_wait_down(t.pid);
  cotp_term ref = t.ref;
  cotp_clause c[2] = {{cotp_test_pattern("{^ref, _}"), &ref, NULL},
                      {cotp_test_pattern("{:DOWN, ^ref, _, _, _}"), &ref, NULL}};
  cotp_assert_rc(cotp_receive_match(c, 2, 50, 0, NULL), COTP_ETIMEDOUT);
}

COTP_TEST(task, f2_late_reply_after_ignore_never_arrives) {
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_wait_go, TU_ARG(COTP_ATOM(done)), &t), 0);
  cotp_assert_term_eq(cotp_task_ignore(&t), COTP_ATOM_NIL);
  cotp_send(t.pid, COTP_ATOM(go));
  tu_wait_down(t.pid);
  tu_refute_any(50);
}

/* --- F3, F41: start, start_link --- */

static cotp_term report_initial_call(void *arg) {
  cotp_send(cotp_get_pid(tu_term(arg)),
            COTP_TUPLE(cotp_self_heap(), COTP_ATOM(initial_call),
                       cotp_dict_get(cotp_atom("$initial_call")), cotp_pid_term(cotp_self())));
  cotp_clause c = {cotp_test_pattern(":go"), NULL, NULL};
  cotp_receive_match(&c, 1, COTP_INFINITY, 0, NULL);
  return COTP_ATOM_OK;
}

static cotp_term report_initial_call_mfa(cotp_term args) {
  return report_initial_call(TU_ARG(cotp_head(args)));
}

/* The {:initial_call, ic, pid} the task sent. */
static cotp_term initial_call_from(cotp_pid pid) {
  cotp_term p = cotp_pid_term(pid), ic;
  cotp_clause c = {cotp_test_pattern("{:initial_call, ic, ^p}"), &p, &ic};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
  return ic;
}

COTP_TEST(task, f3_start_is_unlinked_and_reports_its_function) {
  cotp_pid pid;
  cotp_assert_rc(cotp_task_start(report_initial_call, TU_ARG(cotp_pid_term(cotp_self())), &pid), 0);
  cotp_term ic = initial_call_from(pid);
  cr_assert(!tu_linked(pid));
  /* a C function: {:c, name, 1}, the name when the symbol table has it */
  cr_assert_eq(cotp_tuple_size(ic), 3);
  cotp_assert_term_eq(cotp_tuple_get(ic, 0), COTP_ATOM(c));
  cr_assert(cotp_is_atom(cotp_tuple_get(ic, 1)));
  cotp_assert_term_eq(cotp_tuple_get(ic, 2), cotp_int(NULL, 1));
  cotp_send(pid, COTP_ATOM(go));
  tu_wait_down(pid);
}

COTP_TEST(task, f3_start_link_is_linked_and_reports_its_function) {
  cotp_pid pid;
  cotp_assert_rc(cotp_task_start_link(report_initial_call,
                                      TU_ARG(cotp_pid_term(cotp_self())), &pid), 0);
  initial_call_from(pid);
  cr_assert(tu_linked(pid));
  cotp_send(pid, COTP_ATOM(go));
  tu_wait_down(pid);
}

COTP_TEST(task, f3_start_mfa_and_start_link_mfa_report_module_function_arity) {
  cotp_assert_rc(cotp_task_register(COTP_ATOM(tu), COTP_ATOM(report), report_initial_call_mfa), 0);
  cotp_heap *h = cotp_self_heap();
  cotp_term args = COTP_LIST(h, cotp_pid_term(cotp_self()));
  cotp_pid a, b;
  cotp_assert_rc(cotp_task_start_mfa(COTP_ATOM(tu), COTP_ATOM(report), args, &a), 0);
  cotp_assert_prints(initial_call_from(a), "{:tu, :report, 1}");
  cr_assert(!tu_linked(a));
  cotp_assert_rc(cotp_task_start_link_mfa(COTP_ATOM(tu), COTP_ATOM(report), args, &b), 0);
  cotp_assert_prints(initial_call_from(b), "{:tu, :report, 1}");
  cr_assert(tu_linked(b));
  cotp_send(a, COTP_ATOM(go));
  cotp_send(b, COTP_ATOM(go));
  tu_wait_down(a);
  tu_wait_down(b);
}

COTP_TEST(task, f41_start_link_serves_as_a_child_start_function) {
  /* what a supervisor's start function needs: the pid, a link, errors as
   * codes (the child spec type comes with the supervision issue) */
  cotp_pid pid;
  cotp_assert_rc(cotp_task_start_link(tu_value, TU_ARG(COTP_ATOM_OK), &pid), 0);
  cr_assert(pid.bits != 0);
  cotp_assert_rc(cotp_task_start_link(NULL, NULL, &pid), COTP_EINVAL);
  tu_wait_down(pid);
}

/* --- F4: lineage --- */

static cotp_term nested_lineage(void *arg) {
  (void)arg;
  cotp_task inner;
  cotp_task_async(tu_lineage, NULL, &inner);
  cotp_heap *h = cotp_self_heap();
  return COTP_TUPLE(h, cotp_pid_term(cotp_self()), tu_lineage(NULL),
                    cotp_task_await(&inner, 5000));
}

COTP_TEST(task, f4_callers_and_ancestors_follow_the_owners) {
  cotp_heap *h = cotp_self_heap();
  cotp_term me = cotp_pid_term(cotp_self());
  cotp_task t;
  cotp_assert_rc(cotp_task_async(nested_lineage, NULL, &t), 0);
  cotp_term r = cotp_task_await(&t, 5000);
  cotp_term parent = cotp_tuple_get(r, 0);
  cotp_term outer = cotp_tuple_get(r, 1), inner = cotp_tuple_get(r, 2);
  cotp_assert_term_eq(cotp_tuple_get(outer, 0), COTP_LIST(h, me));
  cotp_assert_term_eq(cotp_tuple_get(outer, 1), COTP_LIST(h, me));
  cotp_assert_term_eq(cotp_tuple_get(inner, 0), COTP_LIST(h, parent, me));
  cotp_assert_term_eq(cotp_tuple_get(inner, 1), COTP_LIST(h, parent, me));
  /* the initial call of a C function: {:c, name, 1} */
  cotp_assert_term_eq(cotp_tuple_get(cotp_tuple_get(outer, 2), 0), COTP_ATOM(c));
}

COTP_TEST(task, f4_ancestors_name_a_registered_owner) {
  cotp_heap *h = cotp_self_heap();
  cotp_assert_rc(cotp_register(COTP_ATOM(tu_owner), cotp_self()), 0);
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_lineage, NULL, &t), 0);
  cotp_term r = cotp_task_await(&t, 5000);
  cotp_assert_term_eq(cotp_tuple_get(r, 0), COTP_LIST(h, cotp_pid_term(cotp_self())));
  cotp_assert_term_eq(cotp_tuple_get(r, 1), COTP_LIST(h, COTP_ATOM(tu_owner)));
}

static cotp_term lineage_to_root(void *arg) {
  cotp_send(cotp_get_pid(tu_term(arg)),
            COTP_TUPLE(cotp_self_heap(), COTP_ATOM(inner), tu_lineage(NULL)));
  return COTP_ATOM_OK;
}

static cotp_term start_link_nested(void *arg) {
  cotp_pid root = cotp_get_pid(tu_term(arg));
  cotp_send(root, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(outer),
                             cotp_pid_term(cotp_self()), tu_lineage(NULL)));
  cotp_task_start_link(lineage_to_root, arg, NULL);
  return COTP_ATOM_OK;
}

COTP_TEST(task, f4_start_link_callers_nest) {
  cotp_heap *h = cotp_self_heap();
  cotp_term me = cotp_pid_term(cotp_self()), caps[2];
  cotp_assert_rc(cotp_task_start_link(start_link_nested, TU_ARG(me), NULL), 0);
  cotp_clause outer = {cotp_test_pattern("{:outer, pid, lineage}"), NULL, caps};
  cotp_assert_rc(cotp_receive_match(&outer, 1, 5000, 0, NULL), 0);
  cotp_term parent = caps[0];
  cotp_assert_term_eq(cotp_tuple_get(caps[1], 0), COTP_LIST(h, me));
  cotp_clause inner = {cotp_test_pattern("{:inner, lineage}"), NULL, caps};
  cotp_assert_rc(cotp_receive_match(&inner, 1, 5000, 0, NULL), 0);
  cotp_assert_term_eq(cotp_tuple_get(caps[0], 0), COTP_LIST(h, parent, me));
}

/* --- F5: completed --- */

COTP_TEST(task, f5_completed_task_has_no_process_and_its_value) {
  cotp_heap *h = cotp_self_heap();
  cotp_task t;
  cotp_assert_rc(cotp_task_completed(COTP_ATOM(done), &t), 0);
  cr_assert_eq(t.pid.bits, 0);
  cotp_assert_prints(mfa_of(&t), "{Task, :completed, 1}");
  cotp_assert_term_eq(cotp_task_await(&t, 5000), COTP_ATOM(done));
  cotp_assert_rc(cotp_task_completed(cotp_int(h, 7), &t), 0);
  cotp_assert_term_eq(cotp_task_ignore(&t), COTP_TUPLE(h, COTP_ATOM_OK, cotp_int(h, 7)));
  cotp_assert_rc(cotp_task_completed(cotp_int(h, 8), &t), 0);
  cotp_assert_term_eq(cotp_task_shutdown(&t, 5000),
                      COTP_TUPLE(h, COTP_ATOM_OK, cotp_int(h, 8)));
  cotp_assert_rc(cotp_task_completed(cotp_int(h, 9), &t), 0);
  cotp_assert_term_eq(cotp_task_shutdown(&t, COTP_TASK_BRUTAL_KILL),
                      COTP_TUPLE(h, COTP_ATOM_OK, cotp_int(h, 9)));
  tu_refute_any(0);
}

COTP_TEST(task, f5_shutdown_of_a_task_without_process_ignores_it) {
  /* Elixir's "ignores if task PID is nil": a queued DOWN gives {:exit, r} */
  cotp_heap *h = cotp_self_heap();
  cotp_task t = tu_fake_task();
  tu_send_self(COTP_TUPLE(h, COTP_ATOM_DOWN, t.ref, COTP_ATOM_PROCESS,
                          cotp_pid_term(cotp_self()), COTP_ATOM(done)));
  cotp_assert_term_eq(cotp_task_shutdown(&t, 5000), COTP_TUPLE(h, COTP_ATOM(exit), COTP_ATOM(done)));
}

/* --- F13: undef --- */

COTP_TEST(task, f13_unknown_function_exits_with_undef) {
  cotp_trap_exit(true, NULL);
  cotp_heap *h = cotp_self_heap();
  cotp_term args = COTP_LIST(h, cotp_int(h, 1));
  cotp_task t;
  cotp_assert_rc(cotp_task_async_mfa(COTP_ATOM(module_does_not_exist), COTP_ATOM(undef),
                                     args, &t), 0);
  cotp_term reason = tu_catch_op(tu_do_await, &t, 1, 5000);
  cotp_term undef = COTP_TUPLE(h, COTP_ATOM(undef),
                               COTP_LIST(h, COTP_TUPLE(h, COTP_ATOM(module_does_not_exist),
                                                       COTP_ATOM(undef), args, COTP_NIL)));
  cotp_assert_term_eq(reason, tu_reason(undef, "await", &t, cotp_int(NULL, 5000)));
}

/* --- F42: crash reports --- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char logged[4096];

static void capture(cotp_log_level level, const char *message, void *ctx) {
  (void)level;
  (void)ctx;
  pthread_mutex_lock(&log_lock);
  strncat(logged, message, sizeof logged - strlen(logged) - 2);
  strcat(logged, "\n");
  pthread_mutex_unlock(&log_lock);
}

static bool logged_has(const char *text) {
  pthread_mutex_lock(&log_lock);
  bool has = strstr(logged, text) != NULL;
  pthread_mutex_unlock(&log_lock);
  return has;
}

static cotp_term exit_shutdown_bye(void *arg) {
  (void)arg;
  cotp_exit(COTP_TUPLE(cotp_self_heap(), COTP_ATOM_SHUTDOWN, COTP_ATOM(bye)));
}

COTP_TEST(task, f42_crashed_task_is_reported_normal_and_shutdown_are_not) {
  cotp_set_logger(capture, NULL);
  int old = cotp_set_log_level(COTP_LOG_ERROR);
  cotp_trap_exit(true, NULL);
  cotp_task q[3];
  cotp_assert_rc(cotp_task_async(tu_exit, TU_ARG(COTP_ATOM_NORMAL), &q[0]), 0);
  cotp_assert_rc(cotp_task_async(tu_exit, TU_ARG(COTP_ATOM_SHUTDOWN), &q[1]), 0);
  cotp_assert_rc(cotp_task_async(exit_shutdown_bye, NULL, &q[2]), 0);
  for (size_t i = 0; i < 3; i++)
    tu_wait_down(q[i].pid);
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_exit, TU_ARG(COTP_ATOM(boom_reported)), &t), 0);
  tu_wait_down(t.pid);
  char pid[64];
  cotp_term_print(pid, sizeof pid, cotp_pid_term(t.pid));
  cotp_set_log_level(old);
  cotp_set_logger(NULL, NULL);
  cr_assert(logged_has(":boom_reported"), "log: %s", logged);
  cr_assert(logged_has(pid), "log: %s", logged);
  cr_assert(!logged_has(":normal") && !logged_has(":shutdown") && !logged_has(":bye"),
            "log: %s", logged);
}

/* --- the %Task{} term --- */

COTP_TEST(task, task_term_is_elixirs_struct_and_converts_back) {
  cotp_heap *h = cotp_self_heap();
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_value, TU_ARG(COTP_ATOM_OK), &t), 0);
  cotp_term term = tu_task_term(&t);
  char want[256], pid[32], owner[32], ref[64];
  cotp_term_print(pid, sizeof pid, cotp_pid_term(t.pid));
  cotp_term_print(owner, sizeof owner, cotp_pid_term(t.owner));
  cotp_term_print(ref, sizeof ref, t.ref);
  snprintf(want, sizeof want,
           "%%{__struct__: Task, mfa: {:erlang, :apply, 2}, owner: %s, pid: %s, ref: %s}",
           owner, pid, ref);
  cotp_assert_prints(term, want);
  cotp_task back;
  cotp_assert_rc(cotp_task_from_term(term, &back), 0);
  cr_assert(cotp_pid_eq(back.pid, t.pid) && cotp_pid_eq(back.owner, t.owner));
  cotp_assert_term_eq(back.ref, t.ref);
  cotp_assert_term_eq(mfa_of(&back), mfa_of(&t));
  cotp_assert_rc(cotp_task_from_term(COTP_ATOM_OK, &back), COTP_EBADTYPE);
  cotp_assert_rc(cotp_task_from_term(cotp_map_put(h, term, COTP_ATOM(ref), COTP_ATOM_NIL), &back),
                 COTP_EBADTYPE);
  cotp_assert_term_eq(cotp_task_await(&t, 5000), COTP_ATOM_OK);
}

/* --- bad input --- */

COTP_TEST(task, bad_input_to_starting_functions_is_an_error_code) {
  cotp_heap *h = cotp_self_heap();
  cotp_task t;
  cotp_pid pid;
  cotp_assert_rc(cotp_task_async(NULL, NULL, &t), COTP_EINVAL);
  cotp_assert_rc(cotp_task_async(tu_value, NULL, NULL), COTP_EINVAL);
  cotp_assert_rc(cotp_task_async_mfa(cotp_int(h, 1), COTP_ATOM(f), COTP_NIL, &t), COTP_EINVAL);
  cotp_assert_rc(cotp_task_async_mfa(COTP_ATOM(m), COTP_ATOM(f), COTP_ATOM(x), &t), COTP_EINVAL);
  cotp_assert_rc(cotp_task_start(NULL, NULL, &pid), COTP_EINVAL);
  cotp_assert_rc(cotp_task_start_mfa(COTP_ATOM(m), COTP_ATOM(f), cotp_int(h, 3), &pid),
                 COTP_EINVAL);
  cotp_assert_rc(cotp_task_completed(COTP_NONE, &t), COTP_EINVAL);
  cotp_assert_rc(cotp_task_register(COTP_ATOM(m), COTP_ATOM(f), NULL), COTP_EINVAL);
  cotp_assert_rc(cotp_task_attach((cotp_pid){0}, false, tu_value, NULL, &t), COTP_EINVAL);
  /* nothing was started, nothing was sent */
  cotp_term links;
  cotp_process_info(cotp_self(), COTP_ATOM(links), &links);
  cotp_assert_term_eq(links, COTP_NIL);
  tu_refute_any(0);
}

static void outside(void *arg) {
  int *rc = arg;
  cotp_task t = {0};
  rc[0] = cotp_task_async(tu_value, NULL, &t);
  rc[1] = cotp_is_none(cotp_task_await(&t, 0)) ? 0 : 1;
  rc[2] = cotp_task_await_many(&t, 1, 0, NULL);
}

Test(task, outside_a_process_every_call_refuses) {
  int rc[3];
  outside(rc);
  cr_assert_eq(rc[0], COTP_ENOTPROC);
  cr_assert_eq(rc[1], 0);
  cr_assert_eq(rc[2], COTP_ENOTPROC);
}

COTP_TEST(task, awaiting_twice_times_out_as_in_elixir) {
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_value, TU_ARG(COTP_ATOM_OK), &t), 0);
  cotp_assert_term_eq(cotp_task_await(&t, 5000), COTP_ATOM_OK);
  cotp_term reason = tu_catch_op(tu_do_await, &t, 1, 10);
  cotp_assert_term_eq(reason, tu_reason(COTP_ATOM_TIMEOUT, "await", &t, cotp_int(NULL, 10)));
}

COTP_TEST(task, bad_timeout_and_null_task_raise_argument_error) {
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_value, TU_ARG(COTP_ATOM_OK), &t), 0);
  tu_assert_argument_error(tu_catch_op(tu_do_await, &t, 1, -5),
                           "cotp_task_await: the timeout must be COTP_INFINITY or "
                           "a non-negative number of milliseconds, got -5");
  tu_assert_argument_error(tu_catch_op(tu_do_await, NULL, 1, 10),
                           "cotp_task_await: the task is NULL");
  tu_assert_argument_error(tu_catch_op(tu_do_yield, NULL, 1, 10),
                           "cotp_task_yield: the task is NULL");
  tu_assert_argument_error(tu_catch_op(tu_do_shutdown, NULL, 1, 10),
                           "cotp_task_shutdown: the task is NULL");
  /* the runtime and the task carry on */
  cotp_assert_term_eq(cotp_task_await(&t, 5000), COTP_ATOM_OK);
}

/* --- building blocks for Task.Supervisor --- */

COTP_TEST(task, attach_makes_a_process_started_by_someone_else_our_task) {
  /* what Task.Supervisor.async will do: someone starts the process, the
   * owner attaches it (monitor with alias, optional link, go-ahead) */
  cotp_heap *h = cotp_self_heap();
  cotp_pid pid;
  cotp_assert_rc(cotp_spawn(cotp_task_entry, cotp_task_entry_owner(cotp_self()), &pid), 0);
  cotp_task t;
  cotp_assert_rc(cotp_task_attach(pid, true, tu_wait_go, TU_ARG(COTP_ATOM(attached)), &t), 0);
  cr_assert(tu_linked(pid));
  cotp_send(pid, COTP_ATOM(go));
  cotp_assert_term_eq(cotp_task_await(&t, 5000), COTP_ATOM(attached));
  /* nolink, module and function */
  tu_register();
  cotp_assert_rc(cotp_spawn(cotp_task_entry, NULL, &pid), 0);
  cotp_assert_rc(cotp_task_attach_mfa(pid, false, COTP_ATOM(tu), COTP_ATOM(sleep),
                                      COTP_LIST(h, cotp_int(h, 1)), &t), 0);
  cr_assert(!tu_linked(pid));
  cotp_assert_term_eq(cotp_task_await(&t, 5000), cotp_int(h, 1));
}

static void owner_that_dies(void *arg) {
  cotp_pid root = cotp_get_pid(tu_term(arg)), task;
  cotp_spawn(cotp_task_entry, cotp_task_entry_owner(cotp_self()), &task);
  cotp_send(root, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(task), cotp_pid_term(task)));
  cotp_clause c = {cotp_test_pattern(":die"), NULL, NULL};
  cotp_receive_match(&c, 1, COTP_INFINITY, 0, NULL);
  cotp_exit(COTP_ATOM(owner_gone));
}

COTP_TEST(task, task_waiting_for_its_owner_ends_when_the_owner_dies_first) {
  /* G17: the task exits {:shutdown, owner's reason} */
  cotp_pid owner;
  cotp_assert_rc(cotp_spawn(owner_that_dies, TU_ARG(cotp_pid_term(cotp_self())), &owner), 0);
  cotp_term pid, ref;
  cotp_clause c = {cotp_test_pattern("{:task, pid}"), NULL, &pid};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
  cotp_assert_rc(cotp_monitor(cotp_get_pid(pid), &ref), 0);
  /* once the owner is monitored by the task, its death is the task's
   * news (an owner already gone would give {:shutdown, :noproc}) */
  bool watched = false;
  for (int i = 0; i < 2000 && !watched; i++) {
    cotp_term by = COTP_NIL;
    cotp_process_info(owner, COTP_ATOM(monitored_by), &by);
    for (; cotp_is_cons(by); by = cotp_tail(by))
      watched |= cotp_term_eq(cotp_head(by), pid);
    if (!watched)
      cotp_sleep(1);
  }
  cr_assert(watched);
  cotp_send(owner, COTP_ATOM(die));
  cotp_assert_prints(cotp_test_down_of(ref, cotp_get_pid(pid)), "{:shutdown, :owner_gone}");
}

static cotp_term returns_none(void *arg) {
  (void)arg;
  return COTP_NONE;
}

COTP_TEST(task, function_returning_none_exits_with_bad_result) {
  cotp_trap_exit(true, NULL);
  cotp_task t;
  cotp_assert_rc(cotp_task_async(returns_none, NULL, &t), 0);
  cotp_term out;
  cotp_assert_rc(cotp_task_await_result(&t, 5000, &out), 1);
  cotp_assert_prints(out, "{:bad_result, :none}");
}
