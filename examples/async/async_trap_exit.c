/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seed 000, fourth version: Async with a link, trapping exits.  The
 * failure arrives as an {:EXIT, pid, msg} message instead of taking the
 * caller down.
 *
 *   Async.perform(fn -> 1 + 1 end); Async.resolve()   # 2
 *   Async.perform(fn -> raise "boom!" end); Async.resolve()
 *   # => I'm sorry, the process failed!
 */
#include "async.h"

static void perform(task_fn *task) {
  cotp_trap_exit(true, NULL);
  cotp_spawn_link(runner, runner_args(task), NULL);
}

static cotp_term resolve(void) {
  cotp_term caps[1];
  cotp_clause clauses[2] = {
      {cotp_pattern_cached("{:ok, response}", NULL), NULL, caps},
      {cotp_pattern_cached("{:EXIT, _pid, msg} when msg != :normal", NULL), NULL,
       NULL}};
  if (cotp_receive_match(clauses, 2, COTP_INFINITY, 0, NULL) == 0)
    return caps[0];
  return cotp_string(cotp_self_heap(), "I'm sorry, the process failed!");
}

static void root(void *arg) {
  (void)arg;
  cotp_set_log_level(COTP_LOG_ERROR + 1); /* the crash is the example */
  printf("Async.perform(fn -> 1 + 1 end); Async.resolve()\n");
  perform(one_plus_one);
  show(resolve());
  printf("Async.perform(fn -> raise \"boom!\" end); Async.resolve()\n");
  perform(boom);
  show(resolve());
}

int main(void) { return cotp_run(root, NULL, NULL, NULL, NULL); }
