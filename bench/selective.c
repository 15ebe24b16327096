/* SPDX-License-Identifier: Apache-2.0 */
/*
 * selective.c: request/reply while unrelated messages sit in the caller's
 * mailbox, twin of bench/beam/selective.exs.
 *
 * A call is Erlang's: mark the mailbox, send {self(), ref, k} with a fresh
 * reference to a server, and receive {^ref, _} looking only after the
 * mark (the BEAM compiler's receive-marker optimisation, explicit here).
 * With the mark, the K (10,000) older messages are never scanned, so a call
 * should cost what it costs with an empty mailbox.  M (100,000) calls,
 * first with an empty mailbox, then with the K messages queued.
 *
 *   selective_empty <ns per call, empty mailbox> ns
 *   selective <ns per call, K messages queued> ns
 */
#include "bench.h"

static void server(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  for (;;) {
    cotp_term msg;
    bench_check(cotp_receive(COTP_INFINITY, &msg), "receive");
    if (cotp_term_eq(msg, COTP_ATOM_STOP))
      return;
    cotp_term reply =
        COTP_TUPLE(h, cotp_tuple_get(msg, 1), cotp_tuple_get(msg, 2));
    bench_check(cotp_send(cotp_get_pid(cotp_tuple_get(msg, 0)), reply),
                "send");
    cotp_heap_release(h, mark);
  }
}

/* ns per call of m calls to s. */
static double calls(cotp_pid s, long m) {
  cotp_error err;
  const cotp_pattern *reply = cotp_pattern_cached("{^ref, _}", &err);
  if (!reply)
    bench_die("pattern: %s", err.message);
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  cotp_term me = cotp_pid_term(cotp_self());
  int64_t t0 = bench_now_ns();
  for (long k = m; k > 0; k--) {
    cotp_receive_mark();
    cotp_term ref = cotp_make_ref();
    bench_check(cotp_send(s, COTP_TUPLE(h, me, ref, cotp_int(h, k))), "send");
    cotp_clause clause = {reply, &ref, NULL};
    bench_check(cotp_receive_match(&clause, 1, COTP_INFINITY,
                                   COTP_RECV_AFTER_MARK, NULL),
                "receive");
    cotp_heap_release(h, mark);
  }
  return (double)(bench_now_ns() - t0) / (double)m;
}

static void root(void *arg) {
  const long *km = arg;
  long k = km[0], m = km[1];
  cotp_heap *h = cotp_self_heap();
  cotp_pid s;
  bench_check(cotp_spawn(server, NULL, &s), "spawn");

  double empty = calls(s, m);

  cotp_heap_mark mark = cotp_heap_mark_now(h);
  cotp_term junk = cotp_atom("junk");
  for (long i = 1; i <= k; i++) {
    bench_check(cotp_send(cotp_self(), COTP_TUPLE(h, junk, cotp_int(h, i))),
                "send");
    cotp_heap_release(h, mark);
  }
  double full = calls(s, m);
  if (cotp_mailbox_length() != (size_t)k)
    bench_die("selective: %zu messages queued, expected %ld",
              cotp_mailbox_length(), k);
  bench_check(cotp_send(s, COTP_ATOM_STOP), "send");

  bench_figure("selective_empty", empty, "ns");
  bench_figure("selective", full, "ns");
}

int main(void) {
  long km[2] = {bench_env("K", 10000), bench_env("M", 100000)};
  bench_run(root, km);
  return 0;
}
