/* SPDX-License-Identifier: Apache-2.0 */
/*
 * task_util.h: what the Task tests share: task functions that do what
 * Elixir's Task tests do with anonymous functions, catching an exit, fake
 * and dummy tasks, and assertions on Elixir's reasons.
 *
 * Task functions take a void *; an immediate term (an atom, a small
 * integer) travels in it as its word: TU_ARG(COTP_ATOM(done)).
 */
#ifndef COTP_TEST_TASK_UTIL_H
#define COTP_TEST_TASK_UTIL_H

#include "harness.h"

#define TU_ARG(t) ((void *)(uintptr_t)(t).w)
static inline cotp_term tu_term(void *arg) {
  return (cotp_term){(uint64_t)(uintptr_t)arg};
}

/* --- task functions --- */

/* Returns its argument. */
cotp_term tu_value(void *arg);
/* Waits for :go, then returns its argument. */
cotp_term tu_wait_go(void *arg);
/* Exits with its argument as the reason. */
cotp_term tu_exit(void *arg);
/* Waits for :go, then exits with its argument. */
cotp_term tu_wait_go_exit(void *arg);
/* Sleeps its argument (ms, a small integer; :infinity forever) and
 * returns it. */
cotp_term tu_sleep(void *arg);
/* Traps exits, tells its owner :ready, sleeps forever. */
cotp_term tu_trap_forever(void *arg);
/* Returns {$callers, $ancestors, $initial_call} of the task. */
cotp_term tu_lineage(void *arg);
/* Stream functions: sleep x ms and return x; exit with x. */
cotp_term tu_stream_sleep(cotp_term x, void *ctx);
cotp_term tu_stream_exit(cotp_term x, void *ctx);

/* The module and function atoms tu_register() gives task functions:
 * :tu.sleep(ms), :tu.lineage() and :tu.wait_go(x) (waits for :go, returns
 * x; x an immediate). */
void tu_register(void);

/* --- running and catching --- */

/* Runs fn(arg) in the calling process and returns the reason it exited
 * with; fails the test if it returned. */
cotp_term tu_catch(cotp_entry *fn, void *arg);
/* One call of a waiting function, to run under tu_catch: */
struct tu_op {
  const cotp_task *tasks;
  size_t n;
  int64_t timeout;
  const cotp_task_yield_opts *yield_opts;
  cotp_term result; /* what the call returned, if it did */
  cotp_term *results;
};
void tu_do_await(void *op);      /* cotp_task_await(tasks, timeout) */
void tu_do_await_many(void *op); /* cotp_task_await_many(tasks, n, ...) */
void tu_do_yield(void *op);
void tu_do_yield_many(void *op);
void tu_do_ignore(void *op);
void tu_do_shutdown(void *op);
/* The exit reason of op(tasks, n, timeout), which must exit. */
cotp_term tu_catch_op(cotp_entry *op, const cotp_task *tasks, size_t n,
                      int64_t timeout);

/* {reason, {Task, fun, [task, timeout]}}, the reason await and friends
 * exit with (timeout: an integer, :infinity or :brutal_kill). */
cotp_term tu_reason(cotp_term reason, const char *fun, const cotp_task *t,
                    cotp_term timeout);

/* The first element of a 2-tuple reason. */
cotp_term tu_first(cotp_term t);

/* The task as a term, in the caller's heap. */
cotp_term tu_task_term(const cotp_task *t);

/* A task with a fresh reference and no process, owned by the caller
 * (Elixir's tests build %Task{ref: make_ref(), pid: nil, owner: self()}). */
cotp_task tu_fake_task(void);
/* A task whose process exited with reason and whose monitor's DOWN was
 * consumed (Elixir's create_dummy_task). */
cotp_task tu_dummy_task(cotp_term reason);
/* Waits until pid has exited (a monitor of its own). */
void tu_wait_down(cotp_pid pid);
/* Sends self() a message. */
void tu_send_self(cotp_term msg);
/* Asserts reason is {%ArgumentError{message: text}, []}. */
void tu_assert_argument_error(cotp_term reason, const char *text);
/* Elixir's message for a task queried by someone else. */
void tu_owner_message(char *buf, size_t cap, const cotp_task *t, cotp_pid by);
/* Whether pid is among the caller's links. */
bool tu_linked(cotp_pid pid);
/* The caller's message queue is empty. */
void tu_refute_any(int64_t ms);

#endif
