/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pingpong.c: round trips between two processes, twin of
 * bench/beam/pingpong.exs.
 *
 * The root sends {:ping, self()} and waits for :pong, M (1,000,000)
 * times; the other process answers each ping and stops on :stop.
 *
 *   pingpong <ns per round trip> ns
 */
#include "bench.h"

static cotp_term ping, pong;

static void ponger(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  for (;;) {
    cotp_term msg;
    bench_check(cotp_receive(COTP_INFINITY, &msg), "receive");
    if (cotp_term_eq(msg, COTP_ATOM_STOP))
      return;
    bench_check(cotp_send(cotp_get_pid(cotp_tuple_get(msg, 1)), pong), "send");
    cotp_heap_release(h, mark);
  }
}

static void root(void *arg) {
  long m = *(long *)arg;
  cotp_heap *h = cotp_self_heap();
  cotp_pid p;
  bench_check(cotp_spawn(ponger, NULL, &p), "spawn");
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  int64_t t0 = bench_now_ns();
  for (long k = 0; k < m; k++) {
    /* built every time, as the twin does: it is what a real caller pays */
    cotp_term req = COTP_TUPLE(h, ping, cotp_pid_term(cotp_self()));
    bench_check(cotp_send(p, req), "send");
    cotp_term got;
    bench_check(cotp_receive(COTP_INFINITY, &got), "receive");
    if (!cotp_term_eq(got, pong))
      bench_die("pingpong: unexpected message");
    cotp_heap_release(h, mark);
  }
  int64_t t1 = bench_now_ns();
  bench_check(cotp_send(p, COTP_ATOM_STOP), "send");
  bench_figure("pingpong", (double)(t1 - t0) / (double)m, "ns");
}

int main(void) {
  ping = cotp_atom("ping");
  pong = cotp_atom("pong");
  long m = bench_env("M", 1000000);
  bench_run(root, &m);
  return 0;
}
