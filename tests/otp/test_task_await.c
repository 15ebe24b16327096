/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Awaiting tasks: await (F10-F14), only by the owner (F15), the C variant
 * that returns failures, and await_many (F16-F21).
 */
#include <stdio.h>

#include "task_util.h"

static cotp_term down_msg(cotp_term ref, cotp_term object, cotp_term reason) {
  return COTP_TUPLE(cotp_self_heap(), COTP_ATOM_DOWN, ref, COTP_ATOM_PROCESS, object,
                    reason);
}

/* --- await --- */

COTP_TEST(task, f10_await_timeout_exits_and_demonitors_and_unaliases) {
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_wait_go, TU_ARG(COTP_ATOM(done)), &t), 0);
  cotp_assert_term_eq(tu_catch_op(tu_do_await, &t, 1, 0),
                      tu_reason(COTP_ATOM_TIMEOUT, "await", &t, cotp_int(NULL, 0)));
  /* the monitor is gone: no monitors left, and the alias drops the reply */
  cotp_term monitors;
  cotp_process_info(cotp_self(), COTP_ATOM(monitors), &monitors);
  cotp_assert_term_eq(monitors, COTP_NIL);
  cotp_send(t.pid, COTP_ATOM(go));
  tu_wait_down(t.pid);
  tu_refute_any(30);
}

COTP_TEST(task, f10_await_of_a_task_that_never_replies_exits_with_timeout) {
  cotp_task t = tu_fake_task();
  cotp_assert_term_eq(tu_catch_op(tu_do_await, &t, 1, 0),
                      tu_reason(COTP_ATOM_TIMEOUT, "await", &t, cotp_int(NULL, 0)));
}

COTP_TEST(task, f11_normal_exit_without_reply_exits_the_awaiter) {
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_exit, TU_ARG(COTP_ATOM_NORMAL), &t), 0);
  cotp_assert_term_eq(tu_catch_op(tu_do_await, &t, 1, 5000),
                      tu_reason(COTP_ATOM_NORMAL, "await", &t, cotp_int(NULL, 5000)));
}

COTP_TEST(task, f12_task_exit_reason_reaches_a_trapping_awaiter) {
  cotp_trap_exit(true, NULL);
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_exit, TU_ARG(COTP_ATOM(unknown)), &t), 0);
  cotp_assert_term_eq(tu_catch_op(tu_do_await, &t, 1, 5000),
                      tu_reason(COTP_ATOM(unknown), "await", &t, cotp_int(NULL, 5000)));
  cotp_assert_term_eq(cotp_test_exit_from(t.pid, 5000), COTP_ATOM(unknown));
}

static cotp_term raise_runtime_error(void *arg) {
  (void)arg;
  /* C cannot raise: a task fails by exiting, here with what an Elixir
   * raise would give, {%RuntimeError{message: "oops"}, []} */
  cotp_heap *h = cotp_self_heap();
  cotp_exit(cotp_format(h, "{%{__struct__: RuntimeError, __exception__: true, message: \"oops\"}, []}"));
}

COTP_TEST(task, f12_task_error_reason_reaches_a_trapping_awaiter) {
  cotp_trap_exit(true, NULL);
  cotp_task t;
  cotp_assert_rc(cotp_task_async(raise_runtime_error, NULL, &t), 0);
  cotp_term reason = tu_catch_op(tu_do_await, &t, 1, 5000);
  cotp_term error = cotp_tuple_get(tu_first(reason), 0);
  cotp_assert_term_eq(cotp_map_get(error, cotp_atom("__struct__")), cotp_atom("Elixir.RuntimeError"));
  cotp_assert_term_eq(cotp_tuple_get(reason, 1),
                      cotp_tuple_get(tu_reason(COTP_NIL, "await", &t, cotp_int(NULL, 5000)), 1));
}

static void owner_awaiting_a_crash(void *arg) {
  (void)arg;
  cotp_task t;
  cotp_task_async(tu_exit, TU_ARG(COTP_ATOM(boom)), &t);
  cotp_task_await(&t, 5000);
  cotp_exit(COTP_ATOM(await_returned));
}

COTP_TEST(task, f12_untrapped_task_crash_kills_the_owner_through_the_link) {
  /* an owner that does not trap exits dies of the link, with the task's
   * reason, before await could say anything */
  cotp_pid owner;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn_monitor(owner_awaiting_a_crash, NULL, &owner, &ref), 0);
  cotp_assert_term_eq(cotp_test_down_of(ref, owner), COTP_ATOM(boom));
}

COTP_TEST(task, f14_noconnection_becomes_nodedown) {
  cotp_task t = tu_fake_task();
  t.pid = cotp_self();
  tu_send_self(down_msg(t.ref, cotp_pid_term(cotp_self()), COTP_ATOM_NOCONNECTION));
  cotp_assert_prints(tu_first(tu_catch_op(tu_do_await, &t, 1, 5000)),
                     "{:nodedown, :nonode@nohost}");
}

COTP_TEST(task, f14_noconnection_from_named_monitor_names_its_node) {
  cotp_heap *h = cotp_self_heap();
  cotp_task t = tu_fake_task();
  tu_send_self(down_msg(t.ref, COTP_TUPLE(h, COTP_ATOM(name), COTP_ATOM(node)),
                        COTP_ATOM_NOCONNECTION));
  cotp_assert_prints(tu_first(tu_catch_op(tu_do_await, &t, 1, 5000)), "{:nodedown, :node}");
}

/* --- F15: only the owner --- */

static void make_task_for(void *arg) {
  cotp_pid to = cotp_get_pid(tu_term(arg));
  cotp_task t;
  cotp_task_async(tu_wait_go, TU_ARG(COTP_ATOM(done)), &t);
  cotp_send(to, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(task), tu_task_term(&t)));
  cotp_clause c = {cotp_test_pattern(":stop"), NULL, NULL};
  cotp_receive_match(&c, 1, COTP_INFINITY, 0, NULL);
}

/* A task made by another process, which waits for :stop. */
static cotp_task other_task(cotp_pid *other) {
  cotp_assert_rc(cotp_spawn(make_task_for, TU_ARG(cotp_pid_term(cotp_self())), other), 0);
  cotp_term term;
  cotp_clause c = {cotp_test_pattern("{:task, t}"), NULL, &term};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
  cotp_task t;
  cotp_assert_rc(cotp_task_from_term(term, &t), 0);
  return t;
}

COTP_TEST(task, f15_only_the_owner_may_await_yield_ignore_or_shut_down) {
  cotp_pid other;
  cotp_task theirs = other_task(&other);
  cotp_task mine;
  cotp_assert_rc(cotp_task_async(tu_value, TU_ARG(COTP_ATOM_OK), &mine), 0);
  cotp_task both[2] = {mine, theirs};
  char want[512];
  tu_owner_message(want, sizeof want, &theirs, cotp_self());
  tu_assert_argument_error(tu_catch_op(tu_do_await, &theirs, 1, 1), want);
  tu_assert_argument_error(tu_catch_op(tu_do_await_many, both, 2, 1), want);
  tu_assert_argument_error(tu_catch_op(tu_do_yield, &theirs, 1, 1), want);
  tu_assert_argument_error(tu_catch_op(tu_do_yield_many, both, 2, 1), want);
  tu_assert_argument_error(tu_catch_op(tu_do_ignore, &theirs, 1, 1), want);
  tu_assert_argument_error(tu_catch_op(tu_do_shutdown, &theirs, 1, 5000), want);
  cotp_term out;
  cotp_assert_rc(cotp_task_await_result(&theirs, 1, &out), COTP_EINVAL);
  /* nothing happened to their task or ours */
  cr_assert(cotp_is_alive(theirs.pid));
  cotp_assert_term_eq(cotp_task_await(&mine, 5000), COTP_ATOM_OK);
  cotp_send(other, COTP_ATOM(stop));
}

/* --- the C variant --- */

COTP_TEST(task, await_result_returns_reply_exit_and_timeout) {
  cotp_trap_exit(true, NULL);
  cotp_task t;
  cotp_term out;
  cotp_assert_rc(cotp_task_async(tu_value, TU_ARG(COTP_ATOM(fine)), &t), 0);
  cotp_assert_rc(cotp_task_await_result(&t, 5000, &out), 0);
  cotp_assert_term_eq(out, COTP_ATOM(fine));
  cotp_assert_rc(cotp_task_async(tu_exit, TU_ARG(COTP_ATOM(oops)), &t), 0);
  cotp_assert_rc(cotp_task_await_result(&t, 5000, &out), 1);
  cotp_assert_term_eq(out, COTP_ATOM(oops));
  cotp_assert_rc(cotp_task_async(tu_wait_go, TU_ARG(COTP_ATOM(late)), &t), 0);
  cotp_assert_rc(cotp_task_await_result(&t, 0, &out), COTP_ETIMEDOUT);
  cotp_send(t.pid, COTP_ATOM(go));
  tu_wait_down(t.pid);
  cotp_test_refute_received("{_, :late}", 30); /* the alias went with the monitor */
  cotp_assert_rc(cotp_task_await_result(&t, -3, &out), COTP_EINVAL);
  cotp_assert_rc(cotp_task_await_result(NULL, 0, &out), COTP_EINVAL);
}

/* --- await_many --- */

COTP_TEST(task, f16_await_many_returns_replies_in_input_order) {
  cotp_heap *h = cotp_self_heap();
  cotp_task t[3] = {tu_fake_task(), tu_fake_task(), tu_fake_task()};
  tu_send_self(COTP_TUPLE(h, t[1].ref, cotp_int(h, 3)));
  tu_send_self(COTP_TUPLE(h, t[2].ref, cotp_int(h, 9)));
  tu_send_self(COTP_TUPLE(h, t[0].ref, cotp_int(h, 1)));
  cotp_term r[3];
  cotp_assert_rc(cotp_task_await_many(t, 3, 5000, r), 0);
  cotp_assert_term_eq(cotp_list(h, 3, r), COTP_LIST(h, cotp_int(h, 1), cotp_int(h, 3), cotp_int(h, 9)));
}

COTP_TEST(task, f16_await_many_of_real_tasks) {
  cotp_heap *h = cotp_self_heap();
  cotp_task t[3];
  int64_t vals[3] = {1, 3, 9};
  for (int i = 0; i < 3; i++)
    cotp_assert_rc(cotp_task_async(tu_value, TU_ARG(cotp_int(h, vals[i])), &t[i]), 0);
  cotp_term r[3];
  cotp_assert_rc(cotp_task_await_many(t, 3, 5000, r), 0);
  cotp_assert_term_eq(cotp_list(h, 3, r), COTP_LIST(h, cotp_int(h, 1), cotp_int(h, 3), cotp_int(h, 9)));
  tu_refute_any(20); /* no DOWN, no monitor left behind */
  cotp_term monitors;
  cotp_process_info(cotp_self(), COTP_ATOM(monitors), &monitors);
  cotp_assert_term_eq(monitors, COTP_NIL);
}

COTP_TEST(task, f17_await_many_of_nothing_returns_at_once) {
  cotp_assert_rc(cotp_task_await_many(NULL, 0, 5000, NULL), 0);
}

COTP_TEST(task, f18_await_many_leaves_unrelated_and_extra_messages) {
  cotp_heap *h = cotp_self_heap();
  cotp_term other = cotp_make_ref();
  cotp_task t[2];
  cotp_assert_rc(cotp_task_async(tu_value, TU_ARG(COTP_ATOM(a)), &t[0]), 0);
  cotp_assert_rc(cotp_task_async(tu_value, TU_ARG(COTP_ATOM(b)), &t[1]), 0);
  tu_send_self(other);
  tu_send_self(COTP_TUPLE(h, other, COTP_ATOM(z)));
  tu_send_self(down_msg(other, cotp_int(h, 1), COTP_ATOM(goodbye)));
  cotp_term r[2];
  cotp_assert_rc(cotp_task_await_many(t, 2, 5000, r), 0);
  cotp_assert_term_eq(COTP_LIST(h, r[0], r[1]), COTP_LIST(h, COTP_ATOM(a), COTP_ATOM(b)));
  cotp_term msg;
  cotp_assert_rc(cotp_receive(0, &msg), 0);
  cotp_assert_term_eq(msg, other);
  cotp_assert_rc(cotp_receive(0, &msg), 0);
  cotp_assert_term_eq(msg, COTP_TUPLE(h, other, COTP_ATOM(z)));
  cotp_assert_rc(cotp_receive(0, &msg), 0);
  cotp_assert_term_eq(msg, down_msg(other, cotp_int(h, 1), COTP_ATOM(goodbye)));
  tu_refute_any(0);
}

COTP_TEST(task, f18_await_many_leaves_messages_after_the_first_reply) {
  cotp_heap *h = cotp_self_heap();
  cotp_task t[2] = {tu_fake_task(), tu_fake_task()};
  tu_send_self(COTP_TUPLE(h, t[1].ref, COTP_ATOM(b)));
  tu_send_self(COTP_TUPLE(h, t[1].ref, COTP_ATOM(other)));
  tu_send_self(COTP_TUPLE(h, t[0].ref, COTP_ATOM(a)));
  cotp_term r[2];
  cotp_assert_rc(cotp_task_await_many(t, 2, 5000, r), 0);
  cotp_assert_term_eq(COTP_LIST(h, r[0], r[1]), COTP_LIST(h, COTP_ATOM(a), COTP_ATOM(b)));
  cotp_term msg;
  cotp_assert_rc(cotp_receive(0, &msg), 0);
  cotp_assert_term_eq(msg, COTP_TUPLE(h, t[1].ref, COTP_ATOM(other)));
}

static cotp_term many_reason(cotp_term reason, const cotp_task *t, size_t n,
                             cotp_term timeout) {
  cotp_heap *h = cotp_self_heap();
  cotp_term tasks = COTP_NIL;
  for (size_t i = n; i > 0; i--)
    tasks = cotp_cons(h, tu_task_term(&t[i - 1]), tasks);
  return COTP_TUPLE(h, reason, COTP_TUPLE(h, cotp_atom("Elixir.Task"),
                                          COTP_ATOM(await_many), COTP_LIST(h, tasks, timeout)));
}

COTP_TEST(task, f19_await_many_timeout_exits) {
  cotp_task t[1];
  cotp_assert_rc(cotp_task_async(tu_sleep, TU_ARG(COTP_ATOM_INFINITY), &t[0]), 0);
  cotp_assert_term_eq(tu_catch_op(tu_do_await_many, t, 1, 0),
                      many_reason(COTP_ATOM_TIMEOUT, t, 1, cotp_int(NULL, 0)));
  cotp_assert_rc(cotp_unlink(t[0].pid), 0);
  cotp_exit_signal(t[0].pid, COTP_ATOM_KILL);
  tu_refute_any(20);
}

COTP_TEST(task, f20_await_many_exits_as_soon_as_any_task_exits_normally) {
  cotp_task t[2];
  cotp_assert_rc(cotp_task_async(tu_sleep, TU_ARG(COTP_ATOM_INFINITY), &t[0]), 0);
  cotp_assert_rc(cotp_task_async(tu_exit, TU_ARG(COTP_ATOM_NORMAL), &t[1]), 0);
  cotp_assert_term_eq(tu_catch_op(tu_do_await_many, t, 2, 5000),
                      many_reason(COTP_ATOM_NORMAL, t, 2, cotp_int(NULL, 5000)));
  cotp_unlink(t[0].pid);
  cotp_exit_signal(t[0].pid, COTP_ATOM_KILL);
}

COTP_TEST(task, f20_await_many_exits_on_a_crash_and_clears_every_monitor) {
  cotp_trap_exit(true, NULL);
  cotp_task t[2];
  cotp_assert_rc(cotp_task_async(tu_sleep, TU_ARG(COTP_ATOM_INFINITY), &t[0]), 0);
  cotp_assert_rc(cotp_task_async(tu_exit, TU_ARG(COTP_ATOM(unknown)), &t[1]), 0);
  cotp_assert_term_eq(tu_catch_op(tu_do_await_many, t, 2, 5000),
                      many_reason(COTP_ATOM(unknown), t, 2, cotp_int(NULL, 5000)));
  cotp_exit_signal(t[0].pid, COTP_ATOM_KILL);
  cotp_exit_signal(t[1].pid, COTP_ATOM_KILL);
  cotp_test_exit_from(t[0].pid, 5000);
  cotp_test_refute_received("{:DOWN, _, _, _, _}", 30);
}

COTP_TEST(task, f21_await_many_noconnection_becomes_nodedown) {
  cotp_heap *h = cotp_self_heap();
  cotp_task t[2];
  cotp_assert_rc(cotp_task_async(tu_sleep, TU_ARG(COTP_ATOM_INFINITY), &t[0]), 0);
  t[1] = tu_fake_task();
  t[1].pid = cotp_self();
  tu_send_self(down_msg(t[1].ref, cotp_pid_term(cotp_self()), COTP_ATOM_NOCONNECTION));
  cotp_assert_prints(tu_first(tu_catch_op(tu_do_await_many, t, 2, 5000)),
                     "{:nodedown, :nonode@nohost}");
  t[1] = tu_fake_task();
  tu_send_self(down_msg(t[1].ref, COTP_TUPLE(h, COTP_ATOM(name), COTP_ATOM(node)),
                        COTP_ATOM_NOCONNECTION));
  cotp_assert_prints(tu_first(tu_catch_op(tu_do_await_many, &t[1], 1, 5000)),
                     "{:nodedown, :node}");
  cotp_unlink(t[0].pid);
  cotp_exit_signal(t[0].pid, COTP_ATOM_KILL);
}

COTP_TEST(task, await_many_of_many_tasks_with_duplicates) {
  cotp_heap *h = cotp_self_heap();
  enum { N = 300 };
  static cotp_task t[N + 1];
  static cotp_term r[N + 1];
  for (int i = 0; i < N; i++)
    cotp_assert_rc(cotp_task_async(tu_value, TU_ARG(cotp_int(h, i)), &t[i]), 0);
  t[N] = t[7]; /* the same task twice: its one reply twice */
  cotp_assert_rc(cotp_task_await_many(t, N + 1, 5000, r), 0);
  for (int i = 0; i < N; i++)
    cotp_assert_term_eq(r[i], cotp_int(h, i));
  cotp_assert_term_eq(r[N], cotp_int(h, 7));
  tu_refute_any(20);
}

/* Replies of every kind, immediates (whose message copies await_many
 * gives back at once) between terms that live in the heap, each at its
 * task's index */
COTP_TEST(task, await_many_returns_replies_of_every_kind) {
  cotp_heap *h = cotp_self_heap();
  enum { N = 6 };
  cotp_task t[N];
  for (int i = 0; i < N; i++)
    t[i] = tu_fake_task();
  cotp_term want[N] = {
      COTP_TUPLE(h, COTP_ATOM(boxed), cotp_int(h, 1)), cotp_int(h, 5),
      cotp_binary(h, "a binary of some length", 23), COTP_ATOM(plain),
      COTP_LIST(h, cotp_int(h, 1), COTP_TUPLE(h, cotp_int(h, 2), cotp_int(h, 3))),
      cotp_int(h, -7)};
  for (int i = 0; i < N; i++)
    tu_send_self(COTP_TUPLE(h, t[i].ref, want[i]));
  cotp_term r[N];
  cotp_assert_rc(cotp_task_await_many(t, N, 5000, r), 0);
  for (int i = 0; i < N; i++)
    cotp_assert_term_eq(r[i], want[i]);
}
