/* SPDX-License-Identifier: Apache-2.0 */
/*
 * genserver.c: GenServer.call, twin of bench/beam/genserver.exs.
 *
 * A Counter server answers :inc with its count plus one.  The root calls
 * it M (1,000,000) times, then 100 client processes call it M / 100 times
 * each, all at once; the root waits for all of them (the twin's
 * Task.async + await_many, whose cost is in its figure too).
 *
 *   genserver_call <ns per call, one client> ns
 *   genserver_call_100 <ns per call, 100 clients> ns
 */
#include "bench.h"

static cotp_term inc;

static cotp_gs_ret init(cotp_term arg, void **state) {
  *state = (void *)(intptr_t)cotp_int_value(arg);
  return cotp_gs_ok();
}

static cotp_gs_ret handle_call(cotp_term request, cotp_genserver_from from,
                               void **state) {
  (void)request, (void)from;
  intptr_t n = (intptr_t)*state + 1;
  *state = (void *)n;
  return cotp_gs_reply(cotp_int(NULL, n));
}

static const cotp_genserver_callbacks counter = {
    .name = "Counter", .init = init, .handle_call = handle_call};

static void loop(cotp_server server, long k) {
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  for (long i = 0; i < k; i++) {
    cotp_genserver_call(server, inc, COTP_GENSERVER_TIMEOUT);
    cotp_heap_release(h, mark);
  }
}

struct client {
  cotp_server server;
  long calls;
  cotp_pid owner;
};

static void client(void *arg) {
  struct client *c = arg;
  loop(c->server, c->calls);
  bench_check(cotp_send(c->owner, COTP_ATOM_OK), "send");
}

static void root(void *arg) {
  long m = *(long *)arg;
  cotp_pid pid;
  bench_check(cotp_genserver_start_link(&counter, cotp_int(NULL, 0), NULL, &pid, NULL),
              "start");
  cotp_server server = cotp_server_pid(pid);

  int64_t t0 = bench_now_ns();
  loop(server, m);
  int64_t t1 = bench_now_ns();

  enum { CLIENTS = 100 };
  long per = m / CLIENTS;
  static struct client clients[CLIENTS];
  int64_t t2 = bench_now_ns();
  for (int i = 0; i < CLIENTS; i++) {
    clients[i] = (struct client){server, per, cotp_self()};
    bench_check(cotp_spawn(client, &clients[i], NULL), "spawn");
  }
  for (int i = 0; i < CLIENTS; i++)
    bench_check(cotp_receive(COTP_INFINITY, NULL), "receive");
  int64_t t3 = bench_now_ns();

  cotp_term count = cotp_genserver_call(server, inc, COTP_GENSERVER_TIMEOUT);
  if (cotp_int_value(count) != m + per * CLIENTS + 1)
    bench_die("genserver: the count is %lld, not %ld",
              (long long)cotp_int_value(count), m + per * CLIENTS + 1);
  bench_figure("genserver_call", (double)(t1 - t0) / (double)m, "ns");
  bench_figure("genserver_call_100", (double)(t3 - t2) / (double)(per * CLIENTS), "ns");
  cotp_unlink(pid);
}

int main(void) {
  inc = cotp_atom("inc");
  long m = bench_env("M", 1000000);
  bench_run(root, &m);
  return 0;
}
