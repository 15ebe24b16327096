/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry.c: Registry.lookup and register/unregister from 2 processes at
 * once, twin of bench/beam/registry.exs.
 *
 * A unique registry with 2 partitions holds K (1,000) keys, the integers
 * 0..K-1, registered by the root.  Two processes then each look up M
 * (1,000,000) keys in turn, at the same time; then each registers and
 * unregisters a key of its own M / 4 times (each keeps one more key
 * registered throughout, so the link to its partition stays, as an
 * Elixir process that owns keys would).  A figure is the wall time of the
 * phase over the operations one process made: what an operation costs
 * while another process does the same.
 *
 *   registry_lookup <ns per lookup> ns
 *   registry_register <ns per register+unregister> ns
 */
#include "bench.h"

struct job {
  cotp_registry *reg;
  cotp_pid root;
  long m, k;
  int id;
  bool registering;
};

static void worker(void *arg) {
  struct job *j = arg;
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  long found = 0;
  if (!j->registering) {
    for (long i = 0; i < j->m; i++) {
      cotp_term l = cotp_registry_lookup(j->reg, cotp_int(NULL, i % j->k));
      found += cotp_is_cons(l);
      cotp_heap_release(h, mark);
    }
    if (found != j->m)
      bench_die("lookup found %ld of %ld", found, j->m);
  } else {
    cotp_term mine = cotp_int(NULL, -1 - 2 * j->id), key = cotp_int(NULL, -2 - 2 * j->id);
    bench_check(cotp_registry_register(j->reg, mine, COTP_NIL, NULL), "register");
    for (long i = 0; i < j->m; i++) {
      bench_check(cotp_registry_register(j->reg, key, COTP_ATOM_OK, NULL), "register");
      bench_check(cotp_registry_unregister(j->reg, key), "unregister");
    }
  }
  cotp_send(j->root, COTP_ATOM(done));
}

static double phase(cotp_registry *reg, long m, long k, bool registering) {
  cotp_clause done = {cotp_pattern_cached(":done", NULL), NULL, NULL};
  int64_t t0 = bench_now_ns();
  for (int i = 0; i < 2; i++) {
    struct job j = {reg, cotp_self(), m, k, i, registering};
    cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
    o.arg_size = sizeof j;
    bench_check(cotp_spawn_opt(worker, &j, &o, NULL), "spawn");
  }
  for (int i = 0; i < 2; i++)
    cotp_receive_match(&done, 1, COTP_INFINITY, 0, NULL);
  return (double)(bench_now_ns() - t0) / (double)m;
}

static void root(void *arg) {
  long *mk = arg;
  cotp_registry_opts o = COTP_REGISTRY_OPTS_INIT;
  o.name = COTP_ATOM(BenchRegistry);
  o.partitions = 2;
  cotp_registry *reg;
  bench_check(cotp_registry_start_link(&o, &reg, NULL), "start");
  for (long i = 0; i < mk[1]; i++)
    bench_check(cotp_registry_register(reg, cotp_int(NULL, i), COTP_NIL, NULL), "register");
  bench_figure("registry_lookup", phase(reg, mk[0], mk[1], false), "ns");
  bench_figure("registry_register", phase(reg, mk[0] / 4, mk[1], true), "ns");
  cotp_registry_release(reg);
}

int main(void) {
  long mk[2] = {bench_env("M", 1000000), bench_env("K", 1000)};
  bench_run(root, mk);
  return 0;
}
