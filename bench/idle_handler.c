/* SPDX-License-Identifier: Apache-2.0 */
/*
 * idle_handler.c: memory of idle handler processes, twin of
 * bench/beam/idle_genserver.exs.
 *
 * The root starts N (200,000) handler processes one at a time, each as
 * GenServer.start does: spawn, hand over an init message, wait for the
 * acknowledgement.  Each handler has then handled that one message and is
 * idle, holding no stack.  The growth of the resident set divided by N is
 * the memory an idle handler costs.
 *
 *   idle_handler_start <ns per start> ns
 *   idle_handler_memory <bytes per idle handler> B
 */
#include <string.h>

#include "bench.h"

/* The init message is the starter's pid; the reply acknowledges it. */
static bool handle(void *state, cotp_term msg) {
  (void)state;
  bench_check(cotp_send(cotp_get_pid(msg), COTP_ATOM_OK), "send");
  return true;
}

static void root(void *arg) {
  long n = *(long *)arg;
  /* the pids are not the handlers' memory: allocate and touch them before
   * the first measurement */
  cotp_pid *pids = malloc((size_t)n * sizeof *pids);
  if (!pids)
    bench_die("out of memory");
  memset(pids, 0xff, (size_t)n * sizeof *pids);
  cotp_term me = cotp_pid_term(cotp_self());
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);

  long rss0 = bench_rss_bytes();
  int64_t t0 = bench_now_ns();
  for (long i = 0; i < n; i++) {
    bench_check(cotp_spawn_handler(handle, NULL, NULL, &pids[i]), "spawn");
    bench_check(cotp_send(pids[i], me), "send");
    bench_check(cotp_receive(COTP_INFINITY, NULL), "receive");
    cotp_heap_release(h, mark);
  }
  int64_t t1 = bench_now_ns();
  cotp_sleep(50); /* the last handler acked before it went idle */
  long rss1 = bench_rss_bytes();
  for (long i = 0; i < n; i++)
    if (!cotp_is_alive(pids[i]))
      bench_die("idle_handler: handler %ld is not alive", i);
  free(pids);

  bench_figure("idle_handler_start", (double)(t1 - t0) / (double)n, "ns");
  bench_figure("idle_handler_memory", (double)(rss1 - rss0) / (double)n, "B");
}

int main(void) {
  long n = bench_env("N", 200000);
  bench_run(root, &n);
  return 0;
}
