/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seed 000, third version: Async with a link.  A failing task takes the
 * process that performed it down with it.
 *
 *   Async.perform(fn -> 1 + 1 end); Async.resolve()   # 2
 *   Async.perform(fn -> raise "boom!" end)
 *   # the process we're in fails
 *
 * Here "the process we're in" is a caller process; the root watches it
 * with a monitor to show how it went.
 *
 * The seed spawns and then links.  That races with a task that finishes
 * before the link is made (Erlang's link then fails with noproc too); on
 * two schedulers the task often wins, so this uses spawn_link, the atomic
 * form of the same two steps.
 */
#include "async.h"

static void perform(task_fn *task) {
  cotp_spawn_link(runner, runner_args(task), NULL);
}

static cotp_term resolve(void) {
  cotp_term caps[1];
  cotp_clause ok = {cotp_pattern_cached("{:ok, response}", NULL), NULL, caps};
  cotp_receive_match(&ok, 1, COTP_INFINITY, 0, NULL);
  return caps[0];
}

static void good_caller(void *arg) {
  (void)arg;
  printf("Async.perform(fn -> 1 + 1 end); Async.resolve()\n");
  perform(one_plus_one);
  show(resolve());
}

static void bad_caller(void *arg) {
  (void)arg;
  printf("Async.perform(fn -> raise \"boom!\" end)\n");
  perform(boom);
  resolve(); /* never answered: the link brings the failure here first */
  printf("not reached\n");
}

static void run_caller(cotp_entry *caller) {
  cotp_pid pid;
  cotp_term ref, caps[1];
  cotp_spawn_monitor(caller, NULL, &pid, &ref);
  cotp_clause down = {cotp_pattern_cached("{:DOWN, ^ref, _, _, reason}", NULL),
                      &ref, caps};
  cotp_receive_match(&down, 1, COTP_INFINITY, 0, NULL);
  if (!cotp_term_eq(caps[0], COTP_ATOM_NORMAL)) {
    printf("# the process we're in fails: ");
    cotp_term_fprint(stdout, caps[0]);
    putchar('\n');
  }
}

static void root(void *arg) {
  (void)arg;
  cotp_set_log_level(COTP_LOG_ERROR + 1); /* the crashes are the example */
  run_caller(good_caller);
  run_caller(bad_caller);
}

int main(void) { return cotp_run(root, NULL, NULL, NULL, NULL); }
