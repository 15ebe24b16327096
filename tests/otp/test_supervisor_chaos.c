/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The acceptance chaos test of issue 6: a three-level tree (a top
 * one_for_one supervisor, three middle supervisors, one per strategy, four
 * workers each with mixed restart types) under random kills, crashes,
 * normal exits and shutdowns of workers, and now and then of a whole
 * middle supervisor or a burst that exhausts a middle supervisor's
 * intensity.  Deterministic under the run's seed (COTP_TEST_SEED).
 *
 * Checked after every step, once the tree has settled:
 *  - the victim's restart type was obeyed: permanent always back (a new
 *    pid), transient back unless it exited normal or shutdown (then
 *    :undefined), temporary gone from which_children;
 *  - a burst of intensity + 1 crashes makes the middle supervisor exit
 *    (a new pid under the top one), and the top one lives on;
 * and at the end: which_children matches reality at every level (each
 * listed pid alive and linked to its supervisor, count_children agrees),
 * and once the top supervisor is stopped every process ever started is
 * gone.  A minute under load, in the words: two processes burn
 * CPU (yielding now and then, as runtime calls would) on both schedulers
 * while the steps run; 15 seconds under the sanitizers.
 * COTP_CHAOS_SECONDS=N sets another duration.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static cotp_heap *h(void) { return cotp_self_heap(); }
static cotp_server S(cotp_pid p) { return cotp_server_pid(p); }

#define MAX_STARTED 400000
static cotp_pid started_pids[MAX_STARTED];
static _Atomic size_t nstarted;

static void worker(void *arg) {
  (void)arg;
  for (;;) {
    cotp_term m;
    cotp_receive(COTP_INFINITY, &m);
    if (cotp_test_is_cmd(m, "die", 2))
      cotp_exit(cotp_tuple_get(m, 1));
  }
}

static cotp_term worker_start(cotp_term args, void *ctx) {
  (void)args, (void)ctx;
  cotp_pid pid;
  if (cotp_spawn_link(worker, NULL, &pid) != 0)
    return cotp_format(h(), "{:error, :spawn}");
  size_t k = atomic_fetch_add(&nstarted, 1);
  if (k < MAX_STARTED)
    started_pids[k] = pid;
  return COTP_TUPLE(h(), COTP_ATOM_OK, cotp_pid_term(pid));
}

#define NMID 3
#define NWORK 4
#define MID_INTENSITY 50
static const cotp_restart restarts[NWORK] = {COTP_PERMANENT, COTP_TRANSIENT, COTP_TEMPORARY,
                                             COTP_PERMANENT};

static cotp_term mid_init(cotp_term arg) {
  cotp_supervisor_flags f = COTP_SUPERVISOR_FLAGS_INIT;
  f.strategy = (cotp_strategy)cotp_int_value(arg);
  f.max_restarts = MID_INTENSITY;
  f.max_seconds = 1;
  cotp_child_spec w[NWORK];
  for (int i = 0; i < NWORK; i++) {
    w[i] = (cotp_child_spec)COTP_CHILD_SPEC_INIT;
    w[i].id = cotp_int(h(), i);
    w[i].start = worker_start;
    w[i].restart = restarts[i];
    w[i].shutdown = i == 3 ? COTP_SHUTDOWN_BRUTAL_KILL : 1000;
  }
  return cotp_supervisor_init(h(), &f, w, NWORK);
}
static const cotp_supervisor_module mid_mod = {"Chaos.Mid", mid_init};

/* The {id, pid | :undefined} of the children of sup, by id (NONE: gone). */
struct which {
  cotp_pid sup;
  cotp_term list;
};
static void which(void *arg) {
  struct which *w = arg;
  w->list = cotp_supervisor_which_children(S(w->sup));
}

/* A supervisor going down mid-burst exits a caller of which_children; it
 * then has no children, as far as this test is concerned. */
static void children_of(cotp_pid sup, cotp_term out[], int n) {
  for (int i = 0; i < n; i++)
    out[i] = COTP_NONE;
  struct which w = {sup, COTP_NIL};
  cotp_term why;
  if (cotp_catch_exit(which, &w, &why) != 0)
    return;
  for (cotp_term l = w.list; cotp_is_cons(l); l = cotp_tail(l)) {
    cotp_term c = cotp_head(l);
    out[cotp_int_value(cotp_tuple_get(c, 0))] = cotp_tuple_get(c, 1);
  }
}

static cotp_pid child(cotp_pid sup, int id) {
  cotp_term kids[NWORK > NMID ? NWORK : NMID];
  children_of(sup, kids, NWORK > NMID ? NWORK : NMID);
  return cotp_is_pid(kids[id]) ? cotp_get_pid(kids[id]) : (cotp_pid){0};
}

static void wait_dead(cotp_pid pid) {
  cotp_term ref;
  if (cotp_monitor(pid, &ref) != 0)
    return;
  cotp_test_down_of(ref, pid);
}

/* Polls until id under sup is what want says: 'n' a new pid (not old),
 * 'u' :undefined, 'g' gone.  Fails after 5 s. */
static void settle(cotp_pid sup, int id, cotp_pid old, char want) {
  for (int i = 0; i < 5000; i++) {
    cotp_term kids[NWORK];
    children_of(sup, kids, NWORK);
    cotp_term k = kids[id];
    if ((want == 'n' && cotp_is_pid(k) && cotp_get_pid(k).bits != old.bits) ||
        (want == 'u' && k.w == COTP_ATOM_UNDEFINED.w) || (want == 'g' && cotp_is_none(k)))
      return;
    cotp_sleep(1);
  }
  cr_assert_fail("child %d never became '%c'", id, want);
}

/* Every child listed is alive and linked to sup; count_children agrees. */
static void check_consistent(cotp_pid sup, int n) {
  cotp_term kids[NWORK > NMID ? NWORK : NMID];
  children_of(sup, kids, n);
  cotp_term links;
  cr_assert_eq(cotp_process_info(sup, COTP_ATOM(links), &links), 0);
  size_t active = 0, specs = 0;
  for (int i = 0; i < n; i++) {
    if (cotp_is_none(kids[i]))
      continue;
    specs++;
    if (!cotp_is_pid(kids[i]))
      continue;
    active++;
    cotp_pid p = cotp_get_pid(kids[i]);
    cr_assert(cotp_is_alive(p), "child %d of a supervisor is listed but dead", i);
    bool linked = false;
    for (cotp_term l = links; cotp_is_cons(l); l = cotp_tail(l))
      linked |= cotp_term_eq(cotp_head(l), kids[i]);
    cr_assert(linked, "child %d is not linked to its supervisor", i);
  }
  cotp_child_counts c;
  cr_assert_eq(cotp_supervisor_count_children(S(sup), &c), 0);
  cr_assert_eq(c.active, active);
  cr_assert_eq(c.specs, specs);
}

/* The test's own count of each middle supervisor's restarts, to keep the
 * random steps within its intensity (a group restart counts once): the
 * times it saw them, later than the supervisor's, in a window of the
 * period plus a margin, so the supervisor never counts more than it. */
static int64_t restart_log[NMID][MID_INTENSITY];
static int nlog[NMID];
static cotp_pid log_owner[NMID];

/* The load: CPU work that yields every 100,000 iterations. */
static _Atomic bool burning;
static void burn(void *arg) {
  (void)arg;
  volatile uint64_t x = 0;
  while (atomic_load(&burning)) {
    for (int i = 0; i < 100000; i++)
      x = x * 6364136223846793005u + 1442695040888963407u;
    cotp_yield();
  }
}

static void pace(int m, cotp_pid mid) {
  if (log_owner[m].bits != mid.bits) { /* a new supervisor counts afresh */
    log_owner[m] = mid;
    nlog[m] = 0;
  }
  for (;;) {
    int64_t now = cotp_monotonic_ms(), oldest = now;
    int kept = 0;
    for (int i = 0; i < nlog[m]; i++)
      if (restart_log[m][i] > now - 1100) {
        oldest = restart_log[m][i] < oldest ? restart_log[m][i] : oldest;
        restart_log[m][kept++] = restart_log[m][i];
      }
    nlog[m] = kept;
    if (kept < MID_INTENSITY)
      break;
    cotp_sleep(oldest + 1101 - now);
  }
  restart_log[m][nlog[m]++] = cotp_monotonic_ms() + 5; /* seen a little later */
}

COTP_TEST(supervisor, chaos_three_level_tree_under_random_kills, .timeout = 240) {
  cotp_test_rng rng = cotp_test_rng_new();
  atomic_store(&nstarted, 0);
  cotp_child_spec mids[NMID];
  for (int i = 0; i < NMID; i++) {
    mids[i] = cotp_supervisor_child_spec(cotp_int(h(), i), &mid_mod, cotp_int(h(), i));
  }
  cotp_supervisor_flags top_flags = COTP_SUPERVISOR_FLAGS_INIT;
  top_flags.max_restarts = 1000; /* the bursts below take a middle one down */
  top_flags.max_seconds = 1;
  cotp_pid top;
  cotp_assert_rc(cotp_supervisor_start_link_children(mids, NMID, &top_flags, NULL, &top, NULL), 0);

  const char *env = getenv("COTP_CHAOS_SECONDS");
  int64_t seconds = env ? atoll(env) : cotp_test_sanitized() ? 15 : 60;
  int64_t until = cotp_monotonic_ms() + 1000 * seconds;
  atomic_store(&burning, true);
  for (int i = 0; i < 2; i++)
    cotp_assert_rc(cotp_spawn(burn, NULL, NULL), 0);
  memset(nlog, 0, sizeof nlog);
  memset(log_owner, 0, sizeof log_owner);
  int step = 0;
  for (; cotp_monotonic_ms() < until &&
         atomic_load(&nstarted) < MAX_STARTED - 64; step++) {
    int m = (int)cotp_test_below(&rng, NMID);
    cotp_pid mid = child(top, m);
    cr_assert(mid.bits, "middle supervisor %d missing", m);
    uint64_t what = cotp_test_below(&rng, 100);
    if (what < 2) { /* a burst: intensity + 1 crashes of the permanent worker 0 */
      for (int k = 0; k <= MID_INTENSITY; k++) {
        cotp_pid w = child(mid, 0);
        if (!w.bits) /* restarting, or its supervisor is already going */
          break;
        cotp_exit_signal(w, COTP_ATOM_KILL);
        wait_dead(w);
      }
      wait_dead(mid); /* escalated: the middle supervisor exits :shutdown */
      for (int i = 0; i < 5000 && (!child(top, m).bits || child(top, m).bits == mid.bits); i++)
        cotp_sleep(1);
      cr_assert_neq(child(top, m).bits, mid.bits);
      cr_assert(child(top, m).bits);
      continue;
    }
    if (what < 4) { /* the middle supervisor itself is killed: top restarts it */
      cotp_exit_signal(mid, COTP_ATOM_KILL);
      wait_dead(mid);
      for (int i = 0; i < 5000 && (!child(top, m).bits || child(top, m).bits == mid.bits); i++)
        cotp_sleep(1);
      cr_assert(child(top, m).bits && child(top, m).bits != mid.bits);
      continue;
    }
    int id = (int)cotp_test_below(&rng, NWORK);
    cotp_pid w = child(mid, id);
    if (!w.bits) { /* temporary gone, transient left undefined: start again */
      if (cotp_supervisor_restart_child(S(mid), cotp_int(h(), id), NULL, NULL) != 0 &&
          restarts[id] == COTP_TEMPORARY) {
        cotp_child_spec s = COTP_CHILD_SPEC_INIT;
        s.id = cotp_int(h(), id);
        s.start = worker_start;
        s.restart = COTP_TEMPORARY;
        cotp_supervisor_start_child(S(mid), &s, NULL, NULL);
      }
      continue;
    }
    cotp_term reasons[] = {COTP_ATOM_KILL, COTP_ATOM(boom), COTP_ATOM_NORMAL,
                           COTP_ATOM(shutdown)};
    int r = (int)cotp_test_below(&rng, 4);
    bool normal = r >= 2;
    bool counts = restarts[id] == COTP_PERMANENT || (restarts[id] == COTP_TRANSIENT && !normal);
    if (counts) /* stay within the intensity: at most MID_INTENSITY a second */
      pace(m, mid);
    if (r == 0)
      cotp_exit_signal(w, COTP_ATOM_KILL);
    else
      cotp_send(w, COTP_TUPLE(h(), COTP_ATOM(die), reasons[r]));
    wait_dead(w);
    if (restarts[id] == COTP_TEMPORARY)
      settle(mid, id, w, 'g');
    else if (restarts[id] == COTP_TRANSIENT && normal)
      settle(mid, id, w, 'u');
    else
      settle(mid, id, w, 'n');
    cr_assert_eq(child(top, m).bits, mid.bits, "step %d escalated unexpectedly", step);
  }
  atomic_store(&burning, false);
  fprintf(stderr, "chaos: %d steps, %zu workers started, in %lld s\n", step,
          (size_t)atomic_load(&nstarted), (long long)seconds);
  cr_assert_gt(step, 100, "too few steps in %lld s", (long long)seconds);

  check_consistent(top, NMID);
  for (int m = 0; m < NMID; m++)
    check_consistent(child(top, m), NWORK);
  cotp_supervisor_stop(S(top), COTP_ATOM_NORMAL, COTP_INFINITY);
  size_t n = atomic_load(&nstarted);
  cr_assert_lt(n, (size_t)MAX_STARTED);
  for (size_t i = 0; i < n; i++)
    cr_assert(!cotp_is_alive(started_pids[i]), "worker %zu outlived the tree", i);
}
