/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent.c: Agent.get + Agent.update, twin of bench/beam/agent.exs.
 *
 * An agent keeps a count.  The root does M (1,000,000) rounds of a get
 * (the count) and an update (the count plus one), and checks the count.
 *
 *   agent <ns per get+update> ns
 */
#include "bench.h"

static void *zero(cotp_term arg) {
  (void)arg;
  return (void *)0;
}

static cotp_term get(void *state, cotp_term arg) {
  (void)arg;
  return cotp_int(NULL, (intptr_t)state);
}

static void *increment(void *state, cotp_term arg) {
  (void)arg;
  return (void *)((intptr_t)state + 1);
}

static void root(void *arg) {
  long m = *(long *)arg;
  cotp_pid pid;
  bench_check(cotp_agent_start_link(zero, COTP_NIL, NULL, &pid, NULL), "start");
  cotp_server agent = cotp_server_pid(pid);
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  int64_t t0 = bench_now_ns();
  for (long i = 0; i < m; i++) {
    cotp_agent_get(agent, get, COTP_NIL, COTP_GENSERVER_TIMEOUT);
    cotp_agent_update(agent, increment, COTP_NIL, COTP_GENSERVER_TIMEOUT);
    cotp_heap_release(h, mark);
  }
  int64_t t1 = bench_now_ns();
  cotp_term count = cotp_agent_get(agent, get, COTP_NIL, COTP_GENSERVER_TIMEOUT);
  if (cotp_int_value(count) != m)
    bench_die("agent: the count is %lld, not %ld", (long long)cotp_int_value(count), m);
  bench_figure("agent", (double)(t1 - t0) / (double)m, "ns");
  cotp_unlink(pid);
}

int main(void) {
  long m = bench_env("M", 1000000);
  bench_run(root, &m);
  return 0;
}
