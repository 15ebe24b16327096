/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timers.c: starting and cancelling timers, twin of bench/beam/timers.exs.
 *
 * The root starts N (1,000,000) timers that would send it :x after a long
 * time (100,000,000 ms, so none fires), keeping their references, then
 * cancels each one; the time of both loops divided by N is the cost of a
 * start plus a cancel.  A million pending timers at once is the point: it
 * exercises the timer heap and the reference table at that size.
 *
 *   timers <ns per start+cancel> ns
 */
#include "bench.h"

#define LONG_MS 100000000

static void root(void *arg) {
  long n = *(long *)arg;
  cotp_term *refs = malloc((size_t)n * sizeof *refs);
  if (!refs)
    bench_die("out of memory");
  cotp_term x = cotp_atom("x");
  cotp_pid me = cotp_self();
  int64_t t0 = bench_now_ns();
  for (long i = 0; i < n; i++)
    bench_check(cotp_send_after(LONG_MS, me, x, &refs[i]), "send_after");
  for (long i = 0; i < n; i++)
    if (cotp_cancel_timer(refs[i], NULL) != 0)
      bench_die("timers: timer %ld was not pending", i);
  int64_t t1 = bench_now_ns();
  free(refs);
  if (cotp_mailbox_length() != 0)
    bench_die("timers: a timer fired");
  bench_figure("timers", (double)(t1 - t0) / (double)n, "ns");
}

int main(void) {
  long n = bench_env("N", 1000000);
  bench_run(root, &n);
  return 0;
}
