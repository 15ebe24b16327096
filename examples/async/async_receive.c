/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seed 000, first version: Async with spawn, send and receive only.
 *
 *   Async.perform(fn -> 1 + 1 end) |> Async.resolve()   # => 2
 *
 * resolve waits for {:ok, result}; if the task fails it would wait
 * forever, which is what the next versions fix.
 */
#include "async.h"

static cotp_pid perform(task_fn *task) {
  cotp_pid pid;
  cotp_spawn(runner, runner_args(task), &pid);
  return pid;
}

static cotp_term resolve(void) {
  cotp_term caps[1];
  cotp_clause ok = {cotp_pattern_cached("{:ok, result}", NULL), NULL, caps};
  cotp_receive_match(&ok, 1, COTP_INFINITY, 0, NULL);
  return caps[0];
}

static void root(void *arg) {
  (void)arg;
  printf("Async.perform(fn -> 1 + 1 end) |> Async.resolve()\n");
  perform(one_plus_one);
  show(resolve());
}

int main(void) { return cotp_run(root, NULL, NULL, NULL, NULL); }
