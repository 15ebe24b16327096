/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 3.3, "Cron Job": a GenServer that does its work periodically,
 * rescheduling itself with Process.send_after.
 *
 *   def init(state), do: (schedule_work(); {:ok, state})
 *   def handle_info(:work, state), do: (work(); schedule_work(); {:noreply, state})
 *   defp schedule_work(), do: Process.send_after(self(), :work, @interval)
 *
 * The book's job runs every 10 seconds forever.  This one takes its
 * interval from CRON_INTERVAL_MS (default 1000) and stops, with reason
 * normal, after CRON_RUNS runs (default 3), so that the program ends.
 */
#include <cotp.h>
#include <stdio.h>
#include <stdlib.h>

static int64_t interval_ms = 1000;
static long runs = 3;

static void schedule_work(void) {
  cotp_term ref;
  cotp_send_after(interval_ms, cotp_self(), COTP_ATOM(work), &ref);
}

static void work(void) { printf("\"Working...\"\n"); }

static cotp_gs_ret init(cotp_term arg, void **state) {
  (void)arg;
  *state = (void *)0; /* runs so far */
  schedule_work();
  return cotp_gs_ok();
}

static cotp_gs_ret handle_info(cotp_term msg, void **state) {
  if (msg.w != COTP_ATOM(work).w)
    return cotp_gs_noreply();
  work();
  intptr_t done = (intptr_t)*state + 1;
  *state = (void *)done;
  if (done >= runs)
    return cotp_gs_stop(COTP_ATOM_NORMAL);
  schedule_work();
  return cotp_gs_noreply();
}

static const cotp_genserver_callbacks cron_job = {
    .name = "CronJob",
    .init = init,
    .handle_info = handle_info,
};

static void root(void *arg) {
  (void)arg;
  setvbuf(stdout, NULL, _IOLBF, 0);
  cotp_pid pid;
  if (cotp_genserver_start_link(&cron_job, COTP_NIL, NULL, &pid, NULL) != 0)
    cotp_exit(COTP_ATOM(start_failed));
  cotp_term ref; /* wait for the job to finish its runs */
  cotp_monitor(pid, &ref);
  cotp_term pins[1] = {ref};
  cotp_clause c = {cotp_pattern_cached("{:DOWN, ^ref, _, _, _}", NULL), pins, NULL};
  cotp_receive_match(&c, 1, COTP_INFINITY, 0, NULL);
}

int main(void) {
  const char *ms = getenv("CRON_INTERVAL_MS"), *n = getenv("CRON_RUNS");
  if (ms)
    interval_ms = atol(ms);
  if (n)
    runs = atol(n);
  return cotp_run(root, NULL, NULL, NULL, NULL);
}
