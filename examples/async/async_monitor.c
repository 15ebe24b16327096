/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seed 000, second version: Async with a monitor.  perform returns
 * %{ref: ref}; resolve waits for the answer or the DOWN of the task.
 *
 *   Async.perform(fn -> 1 + 1 end) |> Async.resolve()        # => 2
 *   Async.perform(fn -> raise "boom!" end) |> Async.resolve()
 *   # => I'm sorry, the process has failed!
 */
#include "async.h"

static cotp_term perform(task_fn *task) {
  cotp_pid pid;
  cotp_term ref;
  cotp_spawn_monitor(runner, runner_args(task), &pid, &ref);
  return cotp_format(cotp_self_heap(), "%{ref: ~t}", ref);
}

static cotp_term resolve(cotp_term async) {
  cotp_term ref = cotp_map_get(async, COTP_ATOM(ref));
  cotp_term caps[1];
  cotp_clause clauses[2] = {
      {cotp_pattern_cached("{:ok, response}", NULL), NULL, caps},
      {cotp_pattern_cached("{:DOWN, ^ref, :process, _from_pid, _exit_reason}",
                           NULL),
       &ref, NULL}};
  int which = cotp_receive_match(clauses, 2, COTP_INFINITY, 0, NULL);
  if (which == 0) {
    cotp_demonitor(ref, COTP_DEMONITOR_FLUSH);
    return caps[0];
  }
  return cotp_string(cotp_self_heap(), "I'm sorry, the process has failed!");
}

static void root(void *arg) {
  (void)arg;
  cotp_set_log_level(COTP_LOG_ERROR + 1); /* the crash is the example */
  printf("Async.perform(fn -> 1 + 1 end) |> Async.resolve()\n");
  show(resolve(perform(one_plus_one)));
  printf("Async.perform(fn -> raise \"boom!\" end) |> Async.resolve()\n");
  show(resolve(perform(boom)));
}

int main(void) { return cotp_run(root, NULL, NULL, NULL, NULL); }
