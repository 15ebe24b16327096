/* SPDX-License-Identifier: Apache-2.0 */
/*
 * idle_genserver.c: starting idle GenServers and what each costs, twin of
 * bench/beam/idle_genserver.exs.
 *
 * The root starts N (200,000) servers one at a time with
 * cotp_genserver_start (synchronous: it returns once init has run), each
 * with the twin's trivial init.  The growth of the resident set divided by
 * N is what an idle server costs: its control block, the struct the
 * behaviour keeps, and what the runtime allocated for it (see
 * docs/benchmarks.md for the breakdown).
 *
 *   idle_genserver <ns per start> ns
 *   idle_genserver_memory <bytes per idle server> B
 */
#include <string.h>

#include "bench.h"

static cotp_gs_ret init(cotp_term arg, void **state) {
  *state = (void *)(intptr_t)cotp_int_value(arg);
  return cotp_gs_ok();
}

static const cotp_genserver_callbacks idle = {.name = "Idle", .init = init};

static void root(void *arg) {
  long n = *(long *)arg;
  /* the pids are not the servers' memory: allocate and touch them before
   * the first measurement */
  cotp_pid *pids = malloc((size_t)n * sizeof *pids);
  if (!pids)
    bench_die("out of memory");
  memset(pids, 0xff, (size_t)n * sizeof *pids);
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  cotp_term zero = cotp_int(NULL, 0);

  long rss0 = bench_rss_bytes();
  int64_t t0 = bench_now_ns();
  for (long i = 0; i < n; i++) {
    bench_check(cotp_genserver_start(&idle, zero, NULL, &pids[i], NULL), "start");
    cotp_heap_release(h, mark);
  }
  int64_t t1 = bench_now_ns();
  cotp_sleep(50); /* the last server answered before it went idle */
  long rss1 = bench_rss_bytes();
  for (long i = 0; i < n; i++)
    if (!cotp_is_alive(pids[i]))
      bench_die("idle_genserver: server %ld is not alive", i);
  free(pids);

  bench_figure("idle_genserver", (double)(t1 - t0) / (double)n, "ns");
  bench_figure("idle_genserver_memory", (double)(rss1 - rss0) / (double)n, "B");
}

int main(void) {
  long n = bench_env("N", 200000);
  bench_run(root, &n);
  return 0;
}
