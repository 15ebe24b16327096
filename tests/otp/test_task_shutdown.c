/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shutting tasks down (F32-F39): what shutdown returns for each way the
 * task can end, in timeout mode and with BRUTAL_KILL, and the enforcer
 * that keeps a task from being orphaned by a caller that dies in the
 * middle.
 */
#include "otp/task_int.h"
#include "task_util.h"

static cotp_term down_of(const cotp_task *t, cotp_term reason) {
  return COTP_TUPLE(cotp_self_heap(), COTP_ATOM_DOWN, t->ref, COTP_ATOM_PROCESS,
                    cotp_pid_term(t->pid), reason);
}

static cotp_term ok(cotp_term v) { return COTP_TUPLE(cotp_self_heap(), COTP_ATOM_OK, v); }
static cotp_term ex(cotp_term r) { return COTP_TUPLE(cotp_self_heap(), COTP_ATOM(exit), r); }

/* A dummy task (its process gone, its own DOWN consumed) with the reply
 * and a DOWN with reason queued, shut down in mode. */
static cotp_term shutdown_with_reply(cotp_term reason, int64_t mode) {
  cotp_task t = tu_dummy_task(reason);
  tu_send_self(COTP_TUPLE(cotp_self_heap(), t.ref, COTP_ATOM(result)));
  tu_send_self(down_of(&t, reason));
  cotp_term r = cotp_task_shutdown(&t, mode);
  cotp_test_refute_received("{:DOWN, _, _, _, _}", 0);
  return r;
}

/* A dummy task with a DOWN with reason queued, shut down in mode. */
static cotp_term shutdown_with_down(cotp_term reason, int64_t mode) {
  cotp_task t = tu_dummy_task(reason);
  tu_send_self(down_of(&t, reason));
  return cotp_task_shutdown(&t, mode);
}

COTP_TEST(task, f32_shutdown_returns_a_reply_that_raced_in_whatever_the_down) {
  cotp_term reasons[] = {COTP_ATOM(abnormal), COTP_ATOM_NORMAL, COTP_ATOM_SHUTDOWN};
  for (int i = 0; i < 3; i++) {
    cotp_assert_term_eq(shutdown_with_reply(reasons[i], 5000), ok(COTP_ATOM(result)));
    cotp_assert_term_eq(shutdown_with_reply(reasons[i], COTP_TASK_BRUTAL_KILL),
                        ok(COTP_ATOM(result)));
  }
}

COTP_TEST(task, f32_shutdown_unlinks_and_stops_a_running_task) {
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_sleep, TU_ARG(COTP_ATOM_INFINITY), &t), 0);
  cotp_assert_term_eq(cotp_task_shutdown(&t, 5000), COTP_ATOM_NIL); /* F33 */
  cr_assert(!cotp_is_alive(t.pid));
  cr_assert(!tu_linked(t.pid));
  tu_refute_any(20);
}

COTP_TEST(task, f33_brutal_shutdown_of_a_running_task_returns_nil) {
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_sleep, TU_ARG(COTP_ATOM_INFINITY), &t), 0);
  cotp_assert_term_eq(cotp_task_shutdown(&t, COTP_TASK_BRUTAL_KILL), COTP_ATOM_NIL);
  cr_assert(!cotp_is_alive(t.pid));
  tu_refute_any(20);
}

COTP_TEST(task, f34_timeout_mode_reads_each_down_reason) {
  cotp_assert_term_eq(shutdown_with_down(COTP_ATOM_SHUTDOWN, 5000), COTP_ATOM_NIL);
  cotp_assert_term_eq(shutdown_with_down(COTP_ATOM_KILLED, 5000), ex(COTP_ATOM_KILLED));
  cotp_assert_term_eq(shutdown_with_down(COTP_ATOM(abnormal), 5000), ex(COTP_ATOM(abnormal)));
  cotp_assert_term_eq(shutdown_with_down(COTP_ATOM_NORMAL, 5000), ex(COTP_ATOM_NORMAL));
}

COTP_TEST(task, f34_brutal_kill_mode_reads_each_down_reason) {
  int64_t b = COTP_TASK_BRUTAL_KILL;
  cotp_assert_term_eq(shutdown_with_down(COTP_ATOM_KILLED, b), COTP_ATOM_NIL);
  cotp_assert_term_eq(shutdown_with_down(COTP_ATOM_SHUTDOWN, b), ex(COTP_ATOM_SHUTDOWN));
  cotp_assert_term_eq(shutdown_with_down(COTP_ATOM(abnormal), b), ex(COTP_ATOM(abnormal)));
  cotp_assert_term_eq(shutdown_with_down(COTP_ATOM_NORMAL, b), ex(COTP_ATOM_NORMAL));
}

COTP_TEST(task, f35_shutdown_noconnection_exits_with_nodedown) {
  cotp_heap *h = cotp_self_heap();
  cotp_term nodedown = cotp_format(h, "{:nodedown, :nonode@nohost}");
  cotp_task t = tu_dummy_task(COTP_ATOM_NOCONNECTION);
  tu_send_self(down_of(&t, COTP_ATOM_NOCONNECTION));
  cotp_assert_term_eq(tu_catch_op(tu_do_shutdown, &t, 1, 5000),
                      tu_reason(nodedown, "shutdown", &t, cotp_int(h, 5000)));
  t = tu_dummy_task(COTP_ATOM_NOCONNECTION);
  tu_send_self(down_of(&t, COTP_ATOM_NOCONNECTION));
  cotp_assert_term_eq(tu_catch_op(tu_do_shutdown, &t, 1, COTP_TASK_BRUTAL_KILL),
                      tu_reason(nodedown, "shutdown", &t, COTP_ATOM(brutal_kill)));
}

static void wait_ready(void) {
  cotp_clause c = {cotp_test_pattern(":ready"), NULL, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
}

COTP_TEST(task, f36_task_ignoring_shutdown_is_killed_after_the_timeout) {
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_trap_forever, NULL, &t), 0);
  wait_ready();
  cotp_assert_term_eq(cotp_task_shutdown(&t, 1), ex(COTP_ATOM_KILLED));
  cr_assert(!cotp_is_alive(t.pid));
}

COTP_TEST(task, f37_brutal_shutdown_of_a_trapping_task_leaves_no_down) {
  cotp_task t;
  cotp_assert_rc(cotp_task_async(tu_trap_forever, NULL, &t), 0);
  wait_ready();
  cotp_assert_term_eq(cotp_task_shutdown(&t, COTP_TASK_BRUTAL_KILL), COTP_ATOM_NIL);
  cotp_test_refute_received("{:DOWN, _, _, _, _}", 20);
}

COTP_TEST(task, f38_shutdown_after_the_down_was_consumed_returns_noproc) {
  cotp_task t = tu_dummy_task(COTP_ATOM(noproc));
  cotp_assert_term_eq(cotp_task_shutdown(&t, 5000), ex(COTP_ATOM_NOPROC));
  t = tu_dummy_task(COTP_ATOM(noproc));
  cotp_assert_term_eq(cotp_task_shutdown(&t, COTP_TASK_BRUTAL_KILL), ex(COTP_ATOM_NOPROC));
}

/* --- F39: the enforcer --- */

/* A caller that has unlinked its task, and dies before its exit signal
 * went out: the enforcer sends it.  (The enforcer is started here the way
 * shutdown starts it; the caller is killed at the worst moment.) */
static void caller_dying_in_between(void *arg) {
  cotp_pid task = cotp_get_pid(tu_term(arg));
  cotp_link(task);
  cotp_heap *h = cotp_self_heap();
  const struct cotp__task_atoms *a = cotp__task_atoms();
  /* what cotp__task_unlink_exit does, stopped after the unlink */
  cotp_term args = COTP_LIST(h, cotp_pid_term(cotp_self()), COTP_LIST(h, cotp_pid_term(task)),
                             COTP_ATOM_SHUTDOWN, cotp_make_ref());
  cotp__task_unlink_exit(NULL, 0, COTP_ATOM_SHUTDOWN); /* registers the enforcer */
  cotp_pid enforcer;
  cotp_spawn_mfa(a->cotp_task, a->enforce_exit, args, NULL, &enforcer);
  cotp_unlink(task);
  cotp_exit(COTP_ATOM_KILLED); /* dies here: no exit signal, no "done" */
}

COTP_TEST(task, f39_enforcer_stops_a_task_whose_caller_died_after_unlinking) {
  cotp_pid task, caller;
  cotp_term ref, cref;
  cotp_assert_rc(cotp_spawn_monitor(cotp_test_idle, NULL, &task, &ref), 0);
  cotp_assert_rc(cotp_spawn_monitor(caller_dying_in_between, TU_ARG(cotp_pid_term(task)),
                                    &caller, &cref), 0);
  cotp_assert_term_eq(cotp_test_down_of(cref, caller), COTP_ATOM_KILLED);
  cotp_assert_term_eq(cotp_test_down_of(ref, task), COTP_ATOM_SHUTDOWN);
}

static void owner_shutting_down(void *arg) {
  (void)arg;
  cotp_task t;
  cotp_task_async(tu_sleep, TU_ARG(COTP_ATOM_INFINITY), &t);
  cotp_send(cotp_get_pid(cotp_head(cotp_dict_get(cotp_atom("$ancestors")))),
            COTP_TUPLE(cotp_self_heap(), COTP_ATOM(task), cotp_pid_term(t.pid)));
  for (;;)
    cotp_task_shutdown(&t, 5000);
}

static cotp_term owner_entry(void *arg) {
  owner_shutting_down(arg);
  return COTP_ATOM_OK;
}

COTP_TEST(task, f39_no_task_outlives_an_owner_killed_while_shutting_it_down) {
  /* owners killed at random points of shutdown: the task always ends (the
   * window between unlink and exit opens only when the unlink uses up the
   * budget, so this rarely reaches it; the test above does, directly) */
  cotp_test_rng rng = cotp_test_rng_new();
  int rounds = cotp_test_sanitized() ? 10 : 40;
  for (int i = 0; i < rounds; i++) {
    cotp_pid owner;
    cotp_assert_rc(cotp_task_start(owner_entry, NULL, &owner), 0);
    cotp_term pid;
    cotp_clause c = {cotp_test_pattern("{:task, pid}"), NULL, &pid};
    cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
    for (uint64_t k = cotp_test_below(&rng, 40); k > 0; k--)
      cotp_yield();
    cotp_exit_signal(owner, COTP_ATOM_KILL);
    tu_wait_down(cotp_get_pid(pid));
  }
}
