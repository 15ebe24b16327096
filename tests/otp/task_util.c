/* SPDX-License-Identifier: Apache-2.0 */
/* task_util.c: helpers of the Task tests (task_util.h). */
#include <stdio.h>
#include <string.h>

#include "task_util.h"

cotp_term tu_value(void *arg) { return tu_term(arg); }

static void receive_go(void) {
  cotp_clause c = {cotp_test_pattern(":go"), NULL, NULL};
  cotp_receive_match(&c, 1, COTP_INFINITY, 0, NULL);
}

cotp_term tu_wait_go(void *arg) {
  receive_go();
  return tu_term(arg);
}

cotp_term tu_exit(void *arg) { cotp_exit(tu_term(arg)); }

cotp_term tu_wait_go_exit(void *arg) {
  receive_go();
  cotp_exit(tu_term(arg));
}

cotp_term tu_sleep(void *arg) {
  cotp_term t = tu_term(arg);
  cotp_sleep(t.w == COTP_ATOM_INFINITY.w ? COTP_INFINITY : cotp_int_value(t));
  return t;
}

static cotp_pid owner_of_task(void) {
  return cotp_get_pid(cotp_head(cotp_dict_get(cotp_atom("$callers"))));
}

cotp_term tu_trap_forever(void *arg) {
  (void)arg;
  cotp_trap_exit(true, NULL);
  cotp_send(owner_of_task(), COTP_ATOM(ready));
  cotp_sleep(COTP_INFINITY);
  return COTP_ATOM_OK;
}

cotp_term tu_lineage(void *arg) {
  (void)arg;
  return COTP_TUPLE(cotp_self_heap(), cotp_dict_get(cotp_atom("$callers")),
                    cotp_dict_get(cotp_atom("$ancestors")),
                    cotp_dict_get(cotp_atom("$initial_call")));
}

cotp_term tu_stream_sleep(cotp_term x, void *ctx) {
  (void)ctx;
  cotp_sleep(x.w == COTP_ATOM_INFINITY.w ? COTP_INFINITY : cotp_int_value(x));
  return x;
}

cotp_term tu_stream_exit(cotp_term x, void *ctx) {
  (void)ctx;
  cotp_exit(x);
}

static cotp_term mfa_sleep(cotp_term args) {
  cotp_term x = cotp_head(args);
  return tu_stream_sleep(x, NULL);
}

static cotp_term mfa_lineage(cotp_term args) {
  (void)args;
  return tu_lineage(NULL);
}

static cotp_term mfa_wait_go(cotp_term args) { return tu_wait_go(TU_ARG(cotp_head(args))); }

void tu_register(void) {
  cotp_task_register(COTP_ATOM(tu), COTP_ATOM(wait_go), mfa_wait_go);
  cotp_task_register(COTP_ATOM(tu), COTP_ATOM(sleep), mfa_sleep);
  cotp_task_register(COTP_ATOM(tu), COTP_ATOM(lineage), mfa_lineage);
}

cotp_term tu_catch(cotp_entry *fn, void *arg) {
  cotp_term reason = COTP_NONE;
  int rc = cotp_catch_exit(fn, arg, &reason);
  cr_assert_eq(rc, 1, "expected an exit, got return code %d", rc);
  return reason;
}

void tu_do_await(void *op) {
  struct tu_op *o = op;
  o->result = cotp_task_await(o->tasks, o->timeout);
}

void tu_do_await_many(void *op) {
  struct tu_op *o = op;
  cotp_term scratch[16];
  cotp_task_await_many(o->tasks, o->n, o->timeout, o->results ? o->results : scratch);
}

void tu_do_yield(void *op) {
  struct tu_op *o = op;
  o->result = cotp_task_yield(o->tasks, o->timeout);
}

void tu_do_yield_many(void *op) {
  struct tu_op *o = op;
  cotp_term scratch[16];
  cotp_task_yield_opts opts = COTP_TASK_YIELD_OPTS_INIT;
  opts.timeout_ms = o->timeout;
  cotp_task_yield_many(o->tasks, o->n, o->yield_opts ? o->yield_opts : &opts,
                       o->results ? o->results : scratch);
}

void tu_do_ignore(void *op) {
  struct tu_op *o = op;
  o->result = cotp_task_ignore(o->tasks);
}

void tu_do_shutdown(void *op) {
  struct tu_op *o = op;
  o->result = cotp_task_shutdown(o->tasks, o->timeout);
}

cotp_term tu_catch_op(cotp_entry *op, const cotp_task *tasks, size_t n,
                      int64_t timeout) {
  struct tu_op o = {tasks, n, timeout, NULL, COTP_NONE, NULL};
  return tu_catch(op, &o);
}

cotp_term tu_reason(cotp_term reason, const char *fun, const cotp_task *t,
                    cotp_term timeout) {
  cotp_heap *h = cotp_self_heap();
  return COTP_TUPLE(h, reason,
                    COTP_TUPLE(h, cotp_atom("Elixir.Task"), cotp_atom(fun),
                               COTP_LIST(h, tu_task_term(t), timeout)));
}

cotp_term tu_first(cotp_term t) { return cotp_tuple_get(t, 0); }

cotp_term tu_task_term(const cotp_task *t) {
  return cotp_task_term(cotp_self_heap(), t);
}

cotp_task tu_fake_task(void) {
  return (cotp_task){cotp_self(), {0}, cotp_make_ref(), COTP_ATOM(tu), COTP_ATOM(test), 1};
}

static void exit_with(void *arg) { cotp_exit(tu_term(arg)); }

cotp_task tu_dummy_task(cotp_term reason) {
  cotp_pid pid;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn_monitor(exit_with, TU_ARG(reason), &pid, &ref), 0);
  cotp_test_down_of(ref, pid);
  return (cotp_task){cotp_self(), pid, ref, COTP_ATOM(tu), COTP_ATOM(create_dummy_task), 1};
}

void tu_wait_down(cotp_pid pid) {
  cotp_term ref;
  cotp_assert_rc(cotp_monitor(pid, &ref), 0);
  cotp_test_down_of(ref, pid);
}

void tu_send_self(cotp_term msg) { cotp_assert_rc(cotp_send(cotp_self(), msg), 0); }

void tu_assert_argument_error(cotp_term reason, const char *text) {
  cotp_term error = cotp_tuple_get(reason, 0);
  cotp_assert_term_eq(cotp_map_get(error, cotp_atom("__struct__")),
                      cotp_atom("Elixir.ArgumentError"));
  cotp_assert_term_eq(cotp_map_get(error, cotp_atom("__exception__")), COTP_ATOM_TRUE);
  cotp_assert_term_eq(cotp_tuple_get(reason, 1), COTP_NIL);
  size_t len;
  const uint8_t *msg = cotp_binary_data(cotp_map_get(error, cotp_atom("message")), &len);
  cr_assert_not_null(msg);
  cr_assert(len == strlen(text) && memcmp(msg, text, len) == 0,
            "message\n  got:  %.*s\n  want: %s", (int)len, (const char *)msg, text);
}

void tu_owner_message(char *buf, size_t cap, const cotp_task *t, cotp_pid by) {
  cotp_heap *h = cotp_self_heap();
  char mfa[128], owner[64], pid[64], ref[64], me[64];
  cotp_term_print(mfa, sizeof mfa,
                  COTP_TUPLE(h, t->module, t->function, cotp_int(h, t->arity)));
  cotp_term_print(owner, sizeof owner, t->owner.bits ? cotp_pid_term(t->owner) : COTP_ATOM_NIL);
  cotp_term_print(pid, sizeof pid, t->pid.bits ? cotp_pid_term(t->pid) : COTP_ATOM_NIL);
  cotp_term_print(ref, sizeof ref, t->ref);
  cotp_term_print(me, sizeof me, cotp_pid_term(by));
  snprintf(buf, cap,
           "task %%Task{mfa: %s, owner: %s, pid: %s, ref: %s} must be queried "
           "from the owner but was queried from %s",
           mfa, owner, pid, ref, me);
}

bool tu_linked(cotp_pid pid) {
  cotp_term links;
  cotp_assert_rc(cotp_process_info(cotp_self(), COTP_ATOM(links), &links), 0);
  for (cotp_term l = links; cotp_is_cons(l); l = cotp_tail(l))
    if (cotp_pid_eq(cotp_get_pid(cotp_head(l)), pid))
      return true;
  return false;
}

void tu_refute_any(int64_t ms) { cotp_test_refute_received("_", ms); }
