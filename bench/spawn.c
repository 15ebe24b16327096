/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spawn.c: spawning processes that block in receive, twin of
 * bench/beam/spawn.exs.
 *
 * The root spawns N (1,000,000) processes that each wait for one message,
 * timing the spawn loop alone, as the twin does.  Once every one of them
 * is parked in receive, the growth of the resident set divided by N is the
 * memory a blocked process costs (control block, heap, the frames it
 * parked with).  Then each is sent :go, exits, and tells the root so, and
 * the root waits for all of them (the twin monitors them and waits for
 * the :DOWN messages; cotp has no monitors yet, so the exit notice is an
 * ordinary message).
 *
 *   spawn <ns per spawn> ns
 *   spawn_memory <bytes per blocked process> B
 */
#include <stdatomic.h>
#include <string.h>

#include "bench.h"

/* Processes that have started and are about to block: the root waits for
 * all of them before it measures memory, so it measures blocked processes
 * (the twin's processes hold their whole initial heap from the spawn on;
 * a cotp process holds its frames only once it has run). */
static _Atomic long started;
static cotp_term go;

static void waiter(void *arg) {
  cotp_pid root = bench_arg_pid(arg);
  atomic_fetch_add_explicit(&started, 1, memory_order_relaxed);
  bench_check(cotp_receive(COTP_INFINITY, NULL), "receive");
  bench_check(cotp_send(root, COTP_ATOM_OK), "send");
}

static void root(void *arg) {
  long n = *(long *)arg;
  /* the pids are not the processes' memory: allocate and touch them
   * before the first measurement */
  cotp_pid *pids = malloc((size_t)n * sizeof *pids);
  if (!pids)
    bench_die("out of memory");
  memset(pids, 0xff, (size_t)n * sizeof *pids);
  void *me = bench_pid_arg(cotp_self());

  long rss0 = bench_rss_bytes();
  int64_t t0 = bench_now_ns();
  for (long i = 0; i < n; i++)
    bench_check(cotp_spawn(waiter, me, &pids[i]), "spawn");
  int64_t t1 = bench_now_ns();
  while (atomic_load_explicit(&started, memory_order_relaxed) < n)
    cotp_sleep(1);
  cotp_sleep(50); /* the last ones counted themselves; let them park */
  long rss1 = bench_rss_bytes();

  int64_t t2 = bench_now_ns();
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  for (long i = 0; i < n; i++)
    bench_check(cotp_send(pids[i], go), "send");
  for (long i = 0; i < n; i++) {
    bench_check(cotp_receive(COTP_INFINITY, NULL), "receive");
    cotp_heap_release(h, mark);
  }
  int64_t t3 = bench_now_ns();
  free(pids);

  bench_figure("spawn", (double)(t1 - t0) / (double)n, "ns");
  bench_figure("spawn_memory", (double)(rss1 - rss0) / (double)n, "B");
  /* not compared (the twin's figure includes monitoring): on stderr */
  fprintf(stderr, "spawn: wake and reap %ld processes: %.1f ms\n", n,
          (double)(t3 - t2) / 1e6);
}

int main(void) {
  go = cotp_atom("go");
  long n = bench_env("N", 1000000);
  bench_run(root, &n);
  return 0;
}
