/* SPDX-License-Identifier: Apache-2.0 */
/*
 * async.h: what the four Async examples share: a task is a C function
 * that computes a term in the heap of the process running it, and "raising"
 * is exiting with a reason, which is how a C process fails.
 */
#ifndef ASYNC_EXAMPLE_H
#define ASYNC_EXAMPLE_H

#include <cotp.h>
#include <stdio.h>
#include <stdlib.h>

typedef cotp_term task_fn(cotp_heap *h);

/* fn -> 1 + 1 end */
static inline cotp_term one_plus_one(cotp_heap *h) { return cotp_int(h, 1 + 1); }

/* fn -> raise "boom!" end: C has no exceptions, a process fails by
 * exiting with a reason */
static inline cotp_term boom(cotp_heap *h) {
  cotp_exit(cotp_format(h, "{:runtime_error, \"boom!\"}"));
}

/* Runner.run(owner, task): compute and send {:ok, result} to the owner. */
struct runner_args {
  cotp_pid owner;
  task_fn *task;
};

static inline void runner(void *arg) {
  struct runner_args a = *(struct runner_args *)arg;
  free(arg);
  cotp_heap *h = cotp_self_heap();
  cotp_term result = a.task(h);
  cotp_send(a.owner, COTP_TUPLE(h, COTP_ATOM_OK, result));
}

static inline struct runner_args *runner_args(task_fn *task) {
  struct runner_args *a = malloc(sizeof *a);
  a->owner = cotp_self();
  a->task = task;
  return a;
}

static inline void show(cotp_term t) {
  printf("# => ");
  cotp_term_fprint(stdout, t);
  putchar('\n');
}

#endif
