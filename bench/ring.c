/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ring.c: a token passed around a ring of processes, twin of
 * bench/beam/ring.exs.
 *
 * N (10,000) processes in a ring pass a token {:tok, k, main} M
 * (1,000,000) hops, k counting down; the process that gets k = 0 tells
 * the root.  Same messages as the twin: a 3-tuple copied at every hop.
 *
 * The ring runs twice: as the twin is written, each process a receive
 * loop (its frames stay live while it waits, so with 10,000 of them the
 * run stacks are copied in and out at every hop: stacks.h); then as
 * handler processes (cotp_spawn_handler), the form cotp offers for a
 * process whose life is "for each message, do this", which waits with no
 * frames at all.  Both are compared with the twin's one figure.
 *
 *   ring <ns per hop> ns
 *   ring_handler <ns per hop> ns
 */
#include "bench.h"

static cotp_term tok, next_atom, done;

/* Passes the token on to nxt until it is the one to see k = 0. */
static void hop_loop(cotp_pid nxt) {
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  for (;;) {
    cotp_term msg;
    bench_check(cotp_receive(COTP_INFINITY, &msg), "receive");
    int64_t k = cotp_int_value(cotp_tuple_get(msg, 1));
    cotp_term main_pid = cotp_tuple_get(msg, 2);
    if (k == 0) {
      bench_check(cotp_send(cotp_get_pid(main_pid), done), "send");
      return;
    }
    cotp_term fwd = COTP_TUPLE(h, tok, cotp_int(h, k - 1), main_pid);
    bench_check(cotp_send(nxt, fwd), "send");
    cotp_heap_release(h, mark);
  }
}

static void hop(void *arg) { hop_loop(bench_arg_pid(arg)); }

/* The first process learns its successor, the last one spawned, by
 * message: it is spawned before it. */
static void first(void *arg) {
  (void)arg;
  cotp_term msg;
  bench_check(cotp_receive(COTP_INFINITY, &msg), "receive");
  hop_loop(cotp_get_pid(cotp_tuple_get(msg, 1)));
}

/* The same hop as a handler: its state is the next pid. */
static bool hop_handler(void *state, cotp_term msg) {
  cotp_pid *nxt = state;
  int64_t k = cotp_int_value(cotp_tuple_get(msg, 1));
  cotp_term main_pid = cotp_tuple_get(msg, 2);
  if (k == 0) {
    bench_check(cotp_send(cotp_get_pid(main_pid), done), "send");
    return true;
  }
  cotp_heap *h = cotp_self_heap();
  bench_check(cotp_send(*nxt, COTP_TUPLE(h, tok, cotp_int(h, k - 1), main_pid)),
              "send");
  return true;
}

static cotp_pid *next; /* the handlers' states: freed once the runtime stops */

static void handler_ring(long n, long m) {
  cotp_heap *h = cotp_self_heap();
  next = malloc((size_t)n * sizeof *next);
  if (!next)
    bench_die("out of memory");
  /* handler i sends to handler i - 1, as in the receive ring */
  cotp_pid first, prev;
  bench_check(cotp_spawn_handler(hop_handler, &next[0], NULL, &first), "spawn");
  prev = first;
  for (long i = 1; i < n; i++) {
    next[i] = prev;
    bench_check(cotp_spawn_handler(hop_handler, &next[i], NULL, &prev), "spawn");
  }
  next[0] = prev;
  int64_t t0 = bench_now_ns();
  bench_check(cotp_send(first, COTP_TUPLE(h, tok, cotp_int(h, m),
                                          cotp_pid_term(cotp_self()))),
              "send");
  cotp_term got;
  bench_check(cotp_receive(COTP_INFINITY, &got), "receive");
  int64_t t1 = bench_now_ns();
  if (!cotp_term_eq(got, done))
    bench_die("ring: unexpected message");
  bench_figure("ring_handler", (double)(t1 - t0) / (double)m, "ns");
}

static void root(void *arg) {
  const long *nm = arg;
  long n = nm[0], m = nm[1];
  cotp_heap *h = cotp_self_heap();
  cotp_pid f, last;
  bench_check(cotp_spawn(first, NULL, &f), "spawn");
  last = f;
  for (long i = 2; i <= n; i++)
    bench_check(cotp_spawn(hop, bench_pid_arg(last), &last), "spawn");
  bench_check(cotp_send(f, COTP_TUPLE(h, next_atom, cotp_pid_term(last))),
              "send");

  int64_t t0 = bench_now_ns();
  bench_check(cotp_send(f, COTP_TUPLE(h, tok, cotp_int(h, m),
                                      cotp_pid_term(cotp_self()))),
              "send");
  cotp_term got;
  bench_check(cotp_receive(COTP_INFINITY, &got), "receive");
  int64_t t1 = bench_now_ns();
  if (!cotp_term_eq(got, done))
    bench_die("ring: unexpected message");
  bench_figure("ring", (double)(t1 - t0) / (double)m, "ns");
  handler_ring(n, m);
}

int main(void) {
  tok = cotp_atom("tok");
  next_atom = cotp_atom("next");
  done = cotp_atom("done");
  long nm[2] = {bench_env("N", 10000), bench_env("M", 1000000)};
  if (nm[0] < 2)
    bench_die("ring: N must be at least 2");
  bench_run(root, nm);
  free(next);
  return 0;
}
