/* SPDX-License-Identifier: Apache-2.0 */
/* Scheduling: priorities, yield, hogs, handlers, hibernation, overflow. */
#include "core/proc.h"
#include "core/sched.h"
#include "harness.h"

static cotp_pid root;

static void say(void *arg) {
  cotp_send(root, cotp_atom((const char *)arg));
}

static void spawn_with(cotp_priority prio, const char *name) {
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  o.priority = prio;
  cr_assert_eq(cotp_spawn_opt(say, (void *)name, &o, NULL), 0);
}

static void priorities(void *arg) {
  (void)arg;
  root = cotp_self();
  /* The harness perturbs budgets, so a spawn may yield: at max priority
   * the spawner still runs before any child but the max one. */
  cotp_assert_rc(cotp_set_priority(COTP_PRIORITY_MAX, NULL), 0);
  for (int i = 0; i < 5; i++)
    spawn_with(COTP_PRIORITY_NORMAL, "normal");
  spawn_with(COTP_PRIORITY_LOW, "low");
  spawn_with(COTP_PRIORITY_HIGH, "high");
  spawn_with(COTP_PRIORITY_MAX, "max");
  const char *order[8];
  for (int i = 0; i < 8; i++) {
    cotp_term msg;
    cr_assert_eq(cotp_receive(5000, &msg), 0);
    order[i] = cotp_atom_name(msg, NULL);
  }
  cr_assert_str_eq(order[0], "max");
  cr_assert_str_eq(order[1], "high");
  cr_assert_str_eq(order[7], "low"); /* normal work goes first */
}

/* The BEAM's rules, on one scheduler where the order is observable: max
 * before high before normal, and low after the normal work queued with it. */
Test(sched, priorities_max_high_normal_low) {
  cotp_test_run(priorities, NULL, 1);
}

static _Atomic int normal_ran;

static void mark_normal(void *arg) {
  (void)arg;
  atomic_fetch_add(&normal_ran, 1);
}

static void high_yielder(void *arg) {
  (void)arg;
  cotp_assert_rc(cotp_set_priority(COTP_PRIORITY_HIGH, NULL), 0);
  atomic_store(&normal_ran, 0);
  for (int i = 0; i < 3; i++)
    cotp_spawn(mark_normal, NULL, NULL);
  for (int i = 0; i < 1000; i++)
    cotp_yield();
  cr_assert_eq(atomic_load(&normal_ran), 0, "normal work ran while a high process was runnable");
  cotp_sleep(10);
  cr_assert_eq(atomic_load(&normal_ran), 3);
}

/* A high process that yields stays ahead of normal work: the BEAM runs
 * normal processes only when no high or max one is runnable. */
Test(sched, a_yielding_high_process_stays_ahead_of_normal_work) {
  cotp_test_run(high_yielder, NULL, 1);
}

#define SPAWNER_CHILDREN 20000

static void quick_child(void *arg) { (void)arg; }

static void spawner(void *arg) {
  (void)arg;
  static cotp_pid kids[SPAWNER_CHILDREN];
  for (int i = 0; i < SPAWNER_CHILDREN; i++)
    cotp_assert_rc(cotp_spawn(quick_child, NULL, &kids[i]), 0);
  int alive = 0;
  for (int i = 0; i < SPAWNER_CHILDREN; i++)
    alive += cotp_is_alive_now(kids[i]);
  /* each budget's spawns run before the spawner's next budget: at most
   * one budget's worth (400 spawns of 10 reductions) are still waiting */
  cr_assert_leq(alive, 1000, "%d of %d children never ran", alive,
                SPAWNER_CHILDREN);
}

/* A process that keeps spawning, on one scheduler, gives way to the
 * children it spawned first each time its budget runs out: they overflow
 * the scheduler's ring into its overflow queue, and the spawner goes behind
 * them, not back onto the ring ahead of them (BEAM: a yielder goes to the
 * end of its run queue). */
Test(sched, a_yielder_goes_behind_work_that_overflowed_the_ring) {
  cotp_test_run(spawner, NULL, 1);
}

/* A tree of processes, each inner node spawning TREE_FANOUT children and
 * waiting for their sums: `spawned` counts the processes spawned and not
 * yet finished, `most` the highest it reached. */
#define TREE_FANOUT 10
static _Atomic long spawned, most;

struct tree_node {
  cotp_pid parent;
  int depth;
};

static void tree_node(void *arg) {
  struct tree_node n = *(struct tree_node *)arg;
  long sum = 1;
  if (n.depth > 0) {
    struct tree_node child = {cotp_self(), n.depth - 1};
    cotp_spawn_opts opts = {.priority = COTP_PRIORITY_NORMAL,
                            .arg_size = sizeof child};
    for (int i = 0; i < TREE_FANOUT; i++) {
      long now = atomic_fetch_add(&spawned, 1) + 1;
      long seen = atomic_load(&most);
      while (now > seen && !atomic_compare_exchange_weak(&most, &seen, now))
        ;
      cotp_assert_rc(cotp_spawn_opt(tree_node, &child, &opts, NULL), 0);
    }
    for (int i = 0; i < TREE_FANOUT; i++) {
      cotp_term x;
      cotp_assert_rc(cotp_receive(5000, &x), 0);
      sum += cotp_int_value(x);
    }
  }
  atomic_fetch_sub(&spawned, 1);
  cotp_send(n.parent, cotp_int(NULL, sum));
}

static void unfold(void *arg) {
  (void)arg;
  atomic_store(&spawned, 1);
  atomic_store(&most, 1);
  struct tree_node top = {cotp_self(), 4}; /* 11,111 processes */
  cotp_spawn_opts opts = {.priority = COTP_PRIORITY_NORMAL,
                          .arg_size = sizeof top};
  cotp_assert_rc(cotp_spawn_opt(tree_node, &top, &opts, NULL), 0);
  cotp_term x;
  cotp_assert_rc(cotp_receive(10000, &x), 0);
  cr_assert_eq(cotp_int_value(x), 11111);
  /* depth first, at most the pending siblings along one path are alive
   * (4 levels of 10, and the path); breadth first, the 10,000 leaves */
  cr_assert_leq(atomic_load(&most), 100, "%ld processes alive at once",
                atomic_load(&most));
}

/* A tree of processes unfolds depth first: a parent's newest child runs
 * first, then that child's children, before its older siblings, so few
 * processes are alive at once (what a spawn pushes out of runnext goes to
 * the scheduler's deque, taken newest first).  One scheduler, and the
 * order unperturbed: the test seed's shuffles are what this checks is
 * not the default. */
Test(sched, a_tree_of_spawns_unfolds_depth_first) {
  cotp_config c = COTP_CONFIG_INIT;
  c.schedulers = 1;
  cr_assert_eq(cotp_run(unfold, NULL, &c, NULL, NULL), 0);
}

static void set_priority(void *arg) {
  (void)arg;
  cotp_priority old;
  cotp_assert_rc(cotp_set_priority(COTP_PRIORITY_HIGH, &old), 0);
  cr_assert_eq(old, COTP_PRIORITY_NORMAL);
  cotp_assert_rc(cotp_set_priority((cotp_priority)7, NULL), COTP_EINVAL);
  cotp_yield(); /* runs on at high priority */
  cotp_assert_rc(cotp_set_priority(COTP_PRIORITY_NORMAL, &old), 0);
  cr_assert_eq(old, COTP_PRIORITY_HIGH);
}

Test(sched, set_priority) { cotp_test_run(set_priority, NULL, 0); }

static _Atomic int turns;

static void taker(void *arg) {
  int me = (int)(intptr_t)arg;
  for (int i = 0; i < 100; i++) {
    while (atomic_load(&turns) % 2 != me)
      cotp_yield();
    atomic_fetch_add(&turns, 1);
  }
  cotp_send(root, COTP_ATOM_OK);
}

static void yields(void *arg) {
  (void)arg;
  root = cotp_self();
  atomic_store(&turns, 0);
  cotp_spawn(taker, (void *)(intptr_t)0, NULL);
  cotp_spawn(taker, (void *)(intptr_t)1, NULL);
  cotp_term msg;
  cotp_assert_rc(cotp_receive(5000, &msg), 0);
  cotp_assert_rc(cotp_receive(5000, &msg), 0);
  cr_assert_eq(atomic_load(&turns), 200);
}

/* yield lets the other process run, even on one scheduler */
Test(sched, yield_lets_others_run) { cotp_test_run(yields, NULL, 1); }

COTP_TEST(sched, schedulers_are_counted) {
  cr_assert_eq(cotp_schedulers(), cotp_test_sanitized() ? cotp_schedulers() : 2);
  cr_assert_eq(cotp_schedulers_online(), cotp_schedulers());
}

static _Atomic bool hog_stop;

static void hog(void *arg) {
  (void)arg;
  /* computes without calling into the runtime: C cannot be preempted */
  while (!atomic_load_explicit(&hog_stop, memory_order_relaxed))
    ;
}

static void pinger(void *arg) {
  cotp_pid other = *(cotp_pid *)arg;
  cotp_heap *h = cotp_self_heap();
  for (int i = 0; i < 10000; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_send(other, cotp_pid_term(cotp_self()));
    cotp_term msg;
    cotp_receive(COTP_INFINITY, &msg);
    cotp_heap_release(h, m);
  }
  cotp_send(other, COTP_ATOM_STOP);
  cotp_send(root, COTP_ATOM_OK);
}

static void ponger(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  for (;;) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_term msg;
    cotp_receive(COTP_INFINITY, &msg);
    if (!cotp_is_pid(msg))
      return;
    cotp_send(cotp_get_pid(msg), COTP_ATOM_OK);
    cotp_heap_release(h, m);
  }
}

static void hogged(void *arg) {
  (void)arg;
  root = cotp_self();
  atomic_store(&hog_stop, false);
  cotp_pid pong;
  cotp_spawn(hog, NULL, NULL);
  cotp_sleep(50); /* the hog is now running on one of the two schedulers */
  cotp_spawn(ponger, NULL, &pong);
  static cotp_pid pong_pid;
  pong_pid = pong;
  cotp_spawn(pinger, &pong_pid, NULL);
  cotp_term msg;
  int rc = cotp_receive(20000, &msg);
  atomic_store(&hog_stop, true);
  cotp_assert_rc(rc, 0);
}

/* A process that never calls the runtime keeps one scheduler, but a
 * ping-pong pair keeps running on the other. */
Test(sched, cpu_hog_does_not_stop_a_ping_pong_pair, .timeout = 60) {
  cotp_test_run(hogged, NULL, 2);
}

/* The hog of the next test spawns these; each reports when it ran. */
static _Atomic int64_t hog_started_ms;

static void queued_behind(void *arg) {
  (void)arg;
  int64_t waited = cotp_monotonic_ms() - atomic_load(&hog_started_ms);
  cotp_send(root, cotp_int(NULL, waited));
}

static void hog_with_a_queue(void *arg) {
  (void)arg;
  atomic_store(&hog_started_ms, cotp_monotonic_ms());
  /* the first goes to runnext, and the second pushes it into the queue
   * that an idle scheduler may take from */
  cotp_spawn(queued_behind, NULL, NULL);
  cotp_spawn(queued_behind, NULL, NULL);
  while (!atomic_load_explicit(&hog_stop, memory_order_relaxed))
    ;
}

static void queued_behind_a_hog(void *arg) {
  (void)arg;
  root = cotp_self();
  atomic_store(&hog_stop, false);
  cotp_spawn(hog_with_a_queue, NULL, NULL);
  cotp_term waited;
  int rc = cotp_receive(5000, &waited);
  atomic_store(&hog_stop, true);
  cotp_assert_rc(rc, 0);
  cr_assert_lt(cotp_int_value(waited), 100,
               "the first process queued behind a hog waited %lld ms",
               (long long)cotp_int_value(waited));
  cotp_assert_rc(cotp_receive(5000, &waited), 0);
}

/* A short queue is left to its own scheduler only while that one gets on
 * with its work (idle.c, queued_at): behind a process that keeps its
 * scheduler, the queue goes to the idle one within a doze (1 ms), not when
 * the hog ends (here, after the first report) or when the watchdog
 * notices it (500 ms).  Stealing by age alone is what the test checks:
 * without it, the first report came after 605 ms. */
Test(sched, a_short_queue_behind_a_hog_goes_to_the_idle_scheduler, .timeout = 60) {
  cotp_test_run(queued_behind_a_hog, NULL, 2);
}

static void wait_a_second(void *arg) {
  (void)arg;
  cotp_term msg;
  cotp_receive(TIMER_DEFER_MS, &msg);
}

/* Whether scheduler v's deferred list holds a wait still deferred. */
static bool still_deferred(struct cotp__sched *v) {
  uint32_t n = atomic_load(&v->timers.nlater);
  for (uint32_t i = 0; i < n; i++)
    if (atomic_load(&atomic_load(&v->timers.later[i])->wheel) == TIMER_DEFERRED)
      return true;
  return false;
}

/* Spawns waiters, lets those left on its scheduler defer their waits
 * there, and hogs that scheduler straight after: well within the
 * TIMER_LATER_MS by which the scheduler would move them itself, even under
 * a sanitizer (spawning all the waiters first and then a hog was not). */
static void hog_after_waiters(void *arg) {
  (void)arg;
  for (int i = 0; i < 32; i++)
    cotp_assert_rc(cotp_spawn(wait_a_second, NULL, NULL), 0);
  cotp_yield(); /* the waiters still here run, and defer, before we go on */
  hog(NULL);
}

/* One try: 1 when v's deferred waits were moved, 0 when there were none
 * to move (every waiter was stolen, or v moved them first). */
static int hog_over_deferred_waits(void) {
  atomic_store(&hog_stop, false);
  cotp_assert_rc(cotp_spawn(hog_after_waiters, NULL, NULL), 0);
  struct cotp__sched *v = NULL;
  for (int64_t t0 = cotp_monotonic_ms(); !v && cotp_monotonic_ms() - t0 < 10000;) {
    for (unsigned i = 0; i < cotp__rt->nsched; i++)
      if (atomic_load(&cotp__rt->scheds[i].hogged))
        v = &cotp__rt->scheds[i];
    cotp_sleep(10);
  }
  cotp_sleep(100); /* the other scheduler has looked at v's timers since */
  /* its own moves empty the list; a thief's leave the entries */
  uint32_t n = v ? atomic_load(&v->timers.nlater) : 0;
  bool stuck = v && still_deferred(v);
  atomic_store(&hog_stop, true);
  cr_assert_not_null(v, "the watchdog never saw the hog");
  cr_assert(!stuck, "waits deferred on the hogged scheduler stay deferred");
  cotp_sleep(TIMER_DEFER_MS + 100); /* the waiters are gone */
  return n > 0;
}

static void hogged_waits(void *arg) {
  (void)arg;
  int moved = 0;
  for (int i = 0; i < 5 && !moved; i++)
    moved = hog_over_deferred_waits();
  cr_assert(moved, "the hogged scheduler never had deferred waits");
}

/* Waits deferred on a scheduler that a hog then holds (timer.h) are moved
 * into its heap by the scheduler that fires its timers: they time out,
 * unless their own frames wait for the hog's stack (design.md). */
Test(sched, a_hogged_schedulers_deferred_waits_are_moved, .timeout = 60) {
  cotp_test_run(hogged_waits, NULL, 2);
}

struct count_state {
  int n;
  cotp_pid reply_to;
};

static bool count(void *state, cotp_term msg) {
  struct count_state *s = state;
  if (cotp_term_eq(msg, COTP_ATOM_STOP))
    return false;
  s->n++;
  cotp_send(s->reply_to, cotp_int(cotp_self_heap(), s->n));
  return true;
}

/* A handler process keeps no stack between messages. */
COTP_TEST(sched, handler_processes_have_no_stack_when_idle) {
  static struct count_state st;
  st = (struct count_state){0, cotp_self()};
  cotp_pid h;
  cotp_assert_rc(cotp_spawn_handler(count, &st, NULL, &h), 0);
  for (int i = 1; i <= 10; i++) {
    cotp_send(h, COTP_ATOM(tick));
    cotp_term msg;
    cotp_assert_rc(cotp_receive(5000, &msg), 0);
    cr_assert_eq(cotp_int_value(msg), i);
  }
  cotp_sleep(10);
  struct cotp__proc *p = cotp__proc_lookup(h);
  cr_assert_not_null(p);
  cr_assert_null(p->home);
  cr_assert_null(p->saved);
  cotp_send(h, COTP_ATOM_STOP);
  while (cotp_is_alive(h))
    cotp_yield();
  cotp_assert_rc(cotp_spawn_handler(NULL, NULL, NULL, NULL), COTP_EINVAL);
}

static void after_hibernation(void *arg) {
  cotp_pid to = *(cotp_pid *)arg;
  cotp_term msg;
  cotp_receive(COTP_INFINITY, &msg);
  cotp_send(to, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(woke), msg));
}

static void sleeper(void *arg) {
  cotp_hibernate(after_hibernation, arg);
}

COTP_TEST(sched, hibernate_drops_the_stack_and_resumes_in_fn) {
  static cotp_pid me;
  me = cotp_self();
  cotp_pid p;
  cotp_spawn(sleeper, &me, &p);
  cotp_sleep(20);
  struct cotp__proc *pcb = cotp__proc_lookup(p);
  cr_assert_not_null(pcb);
  cr_assert_null(pcb->home); /* hibernated: no stack */
  cotp_send(p, COTP_ATOM(hello));
  cotp_term msg;
  cotp_assert_rc(cotp_receive(5000, &msg), 0);
  cotp_assert_prints(msg, "{:woke, :hello}");
}

static volatile int forever = 1;

static int recurse(int depth) {
  volatile char pad[512];
  pad[0] = (char)depth;
  return forever ? recurse(depth + 1) + pad[0] : 0;
}

static void overflow(void *arg) {
  (void)arg;
  recurse(0);
}

static void overflow_then_run_on(void *arg) {
  (void)arg;
  static cotp_pid pong_pid;
  cotp_spawn(ponger, NULL, &pong_pid);
  cotp_pid bad;
  cotp_spawn(overflow, NULL, &bad);
  while (cotp_is_alive(bad))
    cotp_sleep(1);
  for (int i = 0; i < 100; i++) {
    cotp_send(pong_pid, cotp_pid_term(cotp_self()));
    cotp_term msg;
    cotp_assert_rc(cotp_receive(5000, &msg), 0);
  }
  cotp_pid again;
  cotp_spawn(overflow, NULL, &again); /* and the stack is reusable */
  while (cotp_is_alive(again))
    cotp_sleep(1);
  cotp_send(pong_pid, COTP_ATOM_STOP);
}

/* A stack overflow kills the process that overflowed; others run on.  The
 * skip comes before the runtime starts: skipping from inside a process
 * would abandon a running runtime. */
Test(sched, stack_overflow_kills_only_that_process) {
#if defined(COTP_ASAN) || defined(COTP_TSAN)
  cr_skip_test("the sanitizers take over SIGSEGV; the plain build tests this");
#endif
  cotp_test_run(overflow_then_run_on, NULL, 0);
}

static void chatty(void *arg) {
  (void)arg;
  char local[200];
  for (int i = 0; i < 1000; i++) {
    snprintf(local, sizeof local, "iteration %d", i);
    cotp_yield();
    cr_assert(strncmp(local, "iteration ", 10) == 0);
  }
  cotp_send(root, COTP_ATOM_OK);
}

/* Many more processes with live frames than run stacks: their frames are
 * copied out and back in, and survive intact. */
COTP_TEST(sched, frames_survive_eviction) {
  root = cotp_self();
  enum { N = 300 };
  for (int i = 0; i < N; i++)
    cotp_spawn(chatty, NULL, NULL);
  for (int i = 0; i < N; i++) {
    cotp_term msg;
    cotp_assert_rc(cotp_receive(30000, &msg), 0);
  }
}

/* A ring member whose frame is 16 * (1 + index % 9) bytes of pattern deeper
 * than the others': neighbours park with frames of different lengths, some
 * in one size class of saved chunks (their frames trade places in one
 * swap, stacks.c) and some not (copied out and in).  Every wait must give
 * back the pattern intact, at the same addresses. */
static void deep_member(void *arg) {
  int64_t index = *(int64_t *)arg;
  size_t n = 2 * (size_t)(1 + index % 9);
  volatile uint64_t pattern[n];
  for (size_t i = 0; i < n; i++)
    pattern[i] = (uint64_t)index * 1000003u + i;
  cotp_term msg;
  cotp_assert_rc(cotp_receive(30000, &msg), 0); /* the next member's pid */
  cotp_pid next = cotp_get_pid(msg);
  for (;;) {
    cotp_assert_rc(cotp_receive(30000, &msg), 0);
    for (size_t i = 0; i < n; i++)
      cr_assert_eq(pattern[i], (uint64_t)index * 1000003u + i,
                   "member %lld lost word %zu of its frame", (long long)index, i);
    int64_t left = cotp_int_value(msg);
    cotp_send(left > 0 ? next : root, cotp_int(NULL, left - 1));
    if (left <= 0)
      return;
  }
}

COTP_TEST(sched, frames_of_different_lengths_trade_places_intact) {
  root = cotp_self();
  enum { N = 200, HOPS = 20000 };
  cotp_pid members[N];
  cotp_spawn_opts opts = COTP_SPAWN_OPTS_INIT;
  opts.arg_size = sizeof(int64_t);
  for (int64_t i = 0; i < N; i++)
    cotp_assert_rc(cotp_spawn_opt(deep_member, &i, &opts, &members[i]), 0);
  for (int i = 0; i < N; i++)
    cotp_send(members[i], cotp_pid_term(members[(i + 1) % N]));
  cotp_send(members[0], cotp_int(NULL, HOPS));
  cotp_term msg;
  cotp_assert_rc(cotp_receive(60000, &msg), 0);
  cr_assert_eq(cotp_int_value(msg), -1);
  /* the token ended at one member; the rest wait: stop them */
  for (int i = 0; i < N; i++)
    cotp_exit_signal(members[i], COTP_ATOM_KILL);
}
