/* SPDX-License-Identifier: Apache-2.0 */
/*
 * demo.c: what `make demo` runs until the download manager lands: a
 * parallel job that spawns, links, monitors and awaits.
 *
 * The root process splits a prime count over eight workers, each spawned
 * with a monitor and answering {:result, ref, count}.  One worker is given
 * a range it rejects and exits with {:bad_range, ...}: the root learns of it
 * from the DOWN, not by waiting forever.  One is too slow: the root stops
 * waiting after a deadline, kills it and flushes its monitor.  Then a
 * linked helper crashes while the root traps exits, and the root gets the
 * {:EXIT, pid, reason} message instead of dying with it.
 */
#include <cotp.h>
#include <stdio.h>
#include <stdlib.h>

#define WORKERS 8
#define SPAN 200000

struct job {
  cotp_pid owner;
  int64_t from, to;
  int64_t slow_ms;
};

static bool prime(int64_t n) {
  if (n < 2)
    return false;
  for (int64_t d = 2; d * d <= n; d++)
    if (n % d == 0)
      return false;
  return true;
}

static void worker(void *arg) {
  struct job *j = arg;
  cotp_heap *h = cotp_self_heap();
  if (j->from > j->to) /* a bad job: say why, by exiting with a reason */
    cotp_exit(cotp_format(h, "{:bad_range, ~L, ~L}", (long long)j->from,
                          (long long)j->to));
  if (j->slow_ms)
    cotp_sleep(j->slow_ms);
  int64_t count = 0;
  for (int64_t n = j->from; n <= j->to; n++) {
    count += prime(n);
    if (n % 4096 == 0)
      cotp_yield(); /* long loops let the others run */
  }
  cotp_send(j->owner, cotp_format(h, "{:result, ~p, ~L}", cotp_self(), (long long)count));
}

static void crasher(void *arg) {
  (void)arg;
  cotp_sleep(10);
  cotp_exit(cotp_atom("something_broke"));
}

static void root(void *arg) {
  (void)arg;
  cotp_set_log_level(COTP_LOG_ERROR + 1); /* the crashes below are on purpose */
  static struct job jobs[WORKERS];
  cotp_pid pids[WORKERS];
  cotp_term refs[WORKERS];
  printf("spawning %d monitored workers on %u schedulers\n", WORKERS,
         cotp_schedulers());
  for (int i = 0; i < WORKERS; i++) {
    jobs[i] = (struct job){cotp_self(), i * SPAN, (i + 1) * SPAN - 1, 0};
    if (i == 3) /* a job the worker rejects */
      jobs[i].from = jobs[i].to + 1;
    if (i == 6) /* a worker that will not make the deadline */
      jobs[i].slow_ms = 5000;
    cotp_spawn_monitor(worker, &jobs[i], &pids[i], &refs[i]);
  }

  /* await every answer or DOWN, until a deadline */
  const cotp_pattern *result = cotp_pattern_cached("{:result, pid, count}", NULL);
  const cotp_pattern *down = cotp_pattern_cached(
      "{:DOWN, _, :process, pid, reason} when reason != :normal", NULL);
  int64_t total = 0, deadline = cotp_monotonic_ms() + 2000;
  int pending = WORKERS;
  while (pending > 0) {
    cotp_term caps[2], dcaps[2];
    cotp_clause clauses[2] = {{result, NULL, caps}, {down, NULL, dcaps}};
    int64_t left = deadline - cotp_monotonic_ms();
    int which = cotp_receive_match(clauses, 2, left > 0 ? left : 0, 0, NULL);
    if (which == COTP_ETIMEDOUT)
      break;
    int i = 0;
    cotp_pid who = cotp_get_pid(which == 0 ? caps[0] : dcaps[0]);
    while (i < WORKERS && !cotp_pid_eq(pids[i], who))
      i++;
    if (which == 0) {
      total += cotp_int_value(caps[1]);
      cotp_demonitor(refs[i], COTP_DEMONITOR_FLUSH); /* its normal DOWN */
      printf("  worker %d: %lld primes\n", i, (long long)cotp_int_value(caps[1]));
    } else {
      char *why = cotp_term_to_string(dcaps[1]);
      printf("  worker %d: DOWN, reason %s\n", i, why);
      free(why);
    }
    refs[i] = COTP_NONE;
    pending--;
  }
  for (int i = 0; i < WORKERS; i++) {
    if (cotp_is_none(refs[i]))
      continue;
    printf("  worker %d: no answer by the deadline: killed\n", i);
    cotp_demonitor(refs[i], COTP_DEMONITOR_FLUSH);
    cotp_exit_signal(pids[i], COTP_ATOM_KILL);
  }
  printf("primes found by the workers that answered: %lld\n", (long long)total);

  /* a linked crash, with exits trapped: a message, not a death */
  cotp_trap_exit(true, NULL);
  cotp_pid helper;
  cotp_spawn_link(crasher, NULL, &helper);
  cotp_term caps[2];
  cotp_clause exit_clause = {cotp_pattern_cached("{:EXIT, pid, reason}", NULL),
                             NULL, caps};
  if (cotp_receive_match(&exit_clause, 1, 5000, 0, NULL) == 0) {
    char *who = cotp_term_to_string(caps[0]), *why = cotp_term_to_string(caps[1]);
    printf("linked helper %s exited with %s; trapped, so we carry on\n", who, why);
    free(who);
    free(why);
  }
}

int main(void) {
  int rc = cotp_run(root, NULL, NULL, NULL, NULL);
  printf("root exited %s\n", rc == 0 ? "normally" : "abnormally");
  return rc;
}
