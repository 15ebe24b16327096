/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dynamic_start_child.c: DynamicSupervisor.start_child of N (100,000)
 * children, one after the other, twin of
 * bench/beam/dynamic_start_child.exs.
 *
 * The root starts a DynamicSupervisor (no limits) and asks it for N
 * GenServer children, each the spec {Worker, i}: an unnamed server whose
 * init keeps i.  Each start_child returns once the child's init has run.
 * The figure is the time of the loop divided by N: the request, the spec's
 * validation and copy, the spawn, the init handshake and the
 * supervisor's bookkeeping, with the supervisor holding more children at
 * every step (up to N).  Afterwards count_children must say N active.
 * Then the supervisor is stopped (DynamicSupervisor.stop), which shuts the
 * N children down concurrently; that time divided by N is the second
 * figure.
 *
 *   dynamic_start_child <ns per child> ns
 *   dynamic_stop <ns per child> ns
 */
#include "bench.h"

static cotp_gs_ret worker_init(cotp_term i, void **state) {
  *state = (void *)(intptr_t)cotp_int_value(i);
  return cotp_gs_ok();
}

static const cotp_genserver_callbacks worker = {.name = "Worker", .init = worker_init};

static void root(void *arg) {
  long n = *(long *)arg;
  cotp_heap *h = cotp_self_heap();
  cotp_dynamic_supervisor_opts o = COTP_DYNAMIC_SUPERVISOR_OPTS_INIT;
  cotp_pid sup;
  bench_check(cotp_dynamic_supervisor_start_link(&o, &sup, NULL), "supervisor start");
  cotp_server s = cotp_server_pid(sup);
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  cotp_term id = COTP_ATOM(Worker); /* looked up once, a literal in Elixir */

  int64_t t0 = bench_now_ns();
  for (long i = 0; i < n; i++) {
    cotp_child_spec spec =
        cotp_genserver_child_spec(id, &worker, cotp_int(h, i), COTP_NIL);
    cotp_pid pid;
    if (cotp_dynamic_supervisor_start_child(s, &spec, &pid, NULL) != 0 || !pid.bits)
      bench_die("dynamic_start_child: child %ld did not start", i);
    cotp_heap_release(h, mark);
  }
  int64_t t1 = bench_now_ns();

  cotp_child_counts c;
  bench_check(cotp_supervisor_count_children(s, &c), "count_children");
  if (c.active != (size_t)n)
    bench_die("dynamic_start_child: %zu children active, not %ld", c.active, n);
  bench_figure("dynamic_start_child", (double)(t1 - t0) / (double)n, "ns");

  int64_t t2 = bench_now_ns();
  bench_check(cotp_supervisor_stop(s, COTP_ATOM_NORMAL, COTP_INFINITY), "stop");
  bench_figure("dynamic_stop", (double)(bench_now_ns() - t2) / (double)n, "ns");
}

int main(void) {
  long n = bench_env("N", 100000);
  bench_run(root, &n);
  return 0;
}
