/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor_restart.c: how long a Supervisor takes to replace a crashed
 * child, twin of bench/beam/supervisor_restart.exs.
 *
 * A one_for_one Supervisor (intensity 1,000,000 in 1 s, so it never gives
 * up) has one permanent GenServer child, Crashy, registered as :crashy.
 * Crashy's init sends the root {:up, self()}; a cast of :boom makes it exit
 * with :boom.  The root casts :boom to the child it knows and waits for
 * the {:up, pid} of its successor, M (20,000) times.  The time runs from
 * the cast to the successor's message: the crash, the EXIT to the
 * supervisor, the restart (spawn, register :crashy, init) and the one
 * message.  Init runs after the name is registered (on both sides), so the
 * message says the successor is registered; the root checks that
 * :crashy names it.  Crash reports are off on both sides (the log level
 * above error, Logger at :none), so no report is formatted.
 *
 *   supervisor_restart <ns per restart> ns
 */
#include "bench.h"

/* The atoms, looked up once as the BEAM's are literals in the code
 * (cotp_atom() hashes the name on every call). */
static cotp_term up, boom;

static cotp_gs_ret crashy_init(cotp_term root, void **state) {
  (void)state;
  cotp_send(cotp_get_pid(root),
            COTP_TUPLE(cotp_self_heap(), up, cotp_pid_term(cotp_self())));
  return cotp_gs_ok();
}

static cotp_gs_ret crashy_cast(cotp_term req, void **state) {
  (void)req, (void)state;
  cotp_exit(boom);
}

static const cotp_genserver_callbacks crashy = {
    .name = "Crashy", .init = crashy_init, .handle_cast = crashy_cast};

/* The pid in the next {:up, pid}. */
static cotp_pid wait_up(void) {
  cotp_term msg;
  bench_check(cotp_receive(COTP_INFINITY, &msg), "receive");
  if (cotp_tuple_size(msg) != 2 || cotp_tuple_get(msg, 0).w != up.w)
    bench_die("supervisor_restart: unexpected message");
  return cotp_get_pid(cotp_tuple_get(msg, 1));
}

static void root(void *arg) {
  long m = *(long *)arg;
  up = COTP_ATOM(up);
  boom = COTP_ATOM(boom);
  cotp_set_log_level(COTP_LOG_ERROR + 1);
  cotp_heap *h = cotp_self_heap();
  cotp_child_spec spec = cotp_genserver_child_spec(
      COTP_ATOM(Crashy), &crashy, cotp_pid_term(cotp_self()), COTP_ATOM(crashy));
  cotp_supervisor_flags f = COTP_SUPERVISOR_FLAGS_INIT;
  f.max_restarts = 1000000;
  f.max_seconds = 1;
  cotp_pid sup;
  bench_check(cotp_supervisor_start_link_children(&spec, 1, &f, NULL, &sup, NULL),
              "supervisor start");
  cotp_pid child = wait_up();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  cotp_server target = cotp_server_name(COTP_ATOM(crashy));

  int64_t t0 = bench_now_ns();
  for (long i = 0; i < m; i++) {
    bench_check(cotp_genserver_cast(cotp_server_pid(child), boom), "cast");
    cotp_pid next = wait_up();
    if (next.bits == child.bits)
      bench_die("supervisor_restart: the same child came up twice");
    child = next;
    cotp_heap_release(h, mark);
  }
  int64_t t1 = bench_now_ns();

  cotp_pid named;
  if (cotp_genserver_whereis(target, &named) != 0 || named.bits != child.bits)
    bench_die("supervisor_restart: :crashy does not name the last child");
  bench_figure("supervisor_restart", (double)(t1 - t0) / (double)m, "ns");
  bench_check(cotp_supervisor_stop(cotp_server_pid(sup), COTP_ATOM_NORMAL, COTP_INFINITY),
              "stop");
}

int main(void) {
  long m = bench_env("M", 20000);
  bench_run(root, &m);
  return 0;
}
