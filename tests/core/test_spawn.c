/* SPDX-License-Identifier: Apache-2.0 */
/* Spawning, reaping, pids, functions by name. */
#include "harness.h"
#include <pthread.h>
#include <stdio.h>

static void wait_and_report(void *arg) {
  cotp_pid parent = {(uint64_t)(uintptr_t)arg};
  cotp_term msg;
  cotp_receive(COTP_INFINITY, &msg); /* blocked until told to go */
  cotp_send(parent, COTP_ATOM_OK);
}

/* A million processes blocked in receive at once, then reaped. */
COTP_TEST(spawn, million_blocked_processes_spawn_and_reap, .timeout = 120) {
  size_t n = cotp_test_max_alive(1000000);
  cotp_pid *pids = malloc(n * sizeof *pids);
  cr_assert_not_null(pids);
  void *me = (void *)(uintptr_t)cotp_self().bits;
  for (size_t i = 0; i < n; i++)
    cr_assert_eq(cotp_spawn(wait_and_report, me, &pids[i]), 0);
  for (size_t i = 0; i < n; i += n / 10)
    cr_assert(cotp_is_alive(pids[i]));
  for (size_t i = 0; i < n; i++)
    cotp_send(pids[i], COTP_ATOM_STOP);
  cotp_heap *h = cotp_self_heap();
  for (size_t i = 0; i < n; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_term msg;
    cr_assert_eq(cotp_receive(30000, &msg), 0, "reply %zu of %zu", i, n);
    cotp_heap_release(h, m);
  }
  cotp_yield();
  size_t alive = 0;
  for (size_t i = 0; i < n; i++)
    alive += cotp_is_alive(pids[i]);
  cr_assert_leq(alive, 2); /* the last ones may still be on their way out */
  free(pids);
}

static void nothing(void *arg) { (void)arg; }

COTP_TEST(spawn, pids_are_unique_and_stale_pids_stay_dead) {
  cotp_pid a, b;
  cr_assert_eq(cotp_spawn(nothing, NULL, &a), 0);
  while (cotp_is_alive(a))
    cotp_yield();
  cr_assert_eq(cotp_spawn(nothing, NULL, &b), 0);
  cr_assert(!cotp_pid_eq(a, b));
  /* the block may be reused: the old pid still names nothing */
  cr_assert(!cotp_is_alive(a));
  cr_assert_eq(cotp_send(a, COTP_ATOM_OK), 0); /* silent, as in Erlang */
  cr_assert(!cotp_pid_eq(cotp_self(), a));
  cr_assert_neq(cotp_self().bits, 0);
}

COTP_TEST(spawn, bad_arguments_are_errors) {
  cotp_assert_rc(cotp_spawn(NULL, NULL, NULL), COTP_EINVAL);
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  o.priority = (cotp_priority)9;
  cotp_assert_rc(cotp_spawn_opt(nothing, NULL, &o, NULL), COTP_EINVAL);
  cotp_assert_rc(cotp_send(cotp_self(), COTP_NONE), COTP_EINVAL);
  cotp_assert_rc(cotp_receive(-5, NULL), COTP_EINVAL);
  cotp_assert_rc(cotp_sleep(-2), COTP_EINVAL);
}

Test(spawn, calls_outside_a_process_say_so) {
  cotp_assert_rc(cotp_spawn(nothing, NULL, NULL), COTP_ENOTPROC);
  cotp_assert_rc(cotp_receive(0, NULL), COTP_ENOTPROC);
  cotp_assert_rc(cotp_yield(), COTP_ENOTPROC);
  cotp_assert_rc(cotp_sleep(1), COTP_ENOTPROC);
  cr_assert_eq(cotp_self().bits, 0);
  cr_assert_null(cotp_self_heap());
  cr_assert_eq(cotp_schedulers(), 0);
  cotp_assert_rc(cotp_run(NULL, NULL, NULL, NULL, NULL), COTP_EINVAL);
  cotp_config c = COTP_CONFIG_INIT;
  c.stack_size = 100; /* too small to run anything */
  cotp_assert_rc(cotp_run(nothing, NULL, &c, NULL, NULL), COTP_EINVAL);
}

static void adder(cotp_term args) {
  cotp_pid to = cotp_get_pid(cotp_head(args));
  int64_t a = cotp_int_value(cotp_head(cotp_tail(args)));
  int64_t b = cotp_int_value(cotp_head(cotp_tail(cotp_tail(args))));
  cotp_send(to, cotp_int(cotp_self_heap(), a + b));
}

COTP_TEST(spawn, functions_by_module_and_function_name) {
  cotp_term mod = cotp_atom("Elixir.Math"), fun = cotp_atom("add");
  cotp_assert_rc(cotp_register_function(mod, fun, adder), 0);
  cr_assert_eq(cotp_lookup_function(mod, fun), adder);
  cotp_heap *h = cotp_self_heap();
  cotp_term args = cotp_format(h, "[~p, 40, 2]", cotp_self());
  cotp_pid pid;
  cotp_assert_rc(cotp_spawn_mfa(mod, fun, args, NULL, &pid), 0);
  cotp_term msg;
  cotp_assert_rc(cotp_receive(5000, &msg), 0);
  cr_assert_eq(cotp_int_value(msg), 42);
  cotp_assert_rc(cotp_spawn_mfa(mod, cotp_atom("nope"), args, NULL, NULL),
                 COTP_ENOTFOUND);
  cotp_assert_rc(cotp_spawn_mfa(mod, fun, cotp_int(h, 1), NULL, NULL),
                 COTP_EINVAL);
  cotp_assert_rc(cotp_register_function(cotp_int(h, 1), fun, adder), COTP_EINVAL);
}

static void deep(void *arg) {
  /* 1 MB of locals: more than a shared run stack, fine on its own stack */
  volatile char buf[1 << 20];
  buf[0] = 1;
  buf[sizeof buf - 1] = 2;
  cotp_send((cotp_pid){(uint64_t)(uintptr_t)arg}, cotp_int(NULL, buf[0] + buf[sizeof buf - 1]));
}

COTP_TEST(spawn, dedicated_stack_for_deep_code) {
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  o.stack_size = 2 << 20;
  cotp_assert_rc(cotp_spawn_opt(deep, (void *)(uintptr_t)cotp_self().bits, &o, NULL), 0);
  cotp_term msg;
  cotp_assert_rc(cotp_receive(5000, &msg), 0);
  cr_assert_eq(cotp_int_value(msg), 3);
}

static void quick_root(void *arg) { (void)arg; }

Test(spawn, runtime_starts_and_stops_many_times_without_leaking, .timeout = 120) {
  int n = cotp_test_sanitized() ? 100 : 1000;
  cotp_config c = COTP_CONFIG_INIT;
  c.schedulers = 2;
  for (int i = 0; i < n; i++)
    cr_assert_eq(cotp_run(quick_root, NULL, &c, NULL, NULL), 0, "run %d", i);
}

static void spawn_some_then_exit(void *arg) {
  (void)arg;
  void *me = (void *)(uintptr_t)cotp_self().bits;
  /* processes left blocked, with messages queued, when the root exits */
  for (int i = 0; i < 100; i++) {
    cotp_pid p;
    cotp_spawn(wait_and_report, me, &p);
    if (i % 2)
      cotp_send(p, cotp_string(cotp_self_heap(), "a message left unread"));
  }
  cotp_send_after(100000, cotp_self(), COTP_ATOM_OK, NULL);
}

Test(spawn, stopping_frees_what_other_processes_hold, .timeout = 60) {
  cotp_config c = COTP_CONFIG_INIT;
  c.schedulers = 2;
  for (int i = 0; i < 20; i++)
    cr_assert_eq(cotp_run(spawn_some_then_exit, NULL, &c, NULL, NULL), 0);
}

Test(spawn, root_exit_reason_is_returned) {
  cotp_config c = COTP_CONFIG_INIT;
  cotp_heap *h = cotp_heap_new();
  cotp_term reason;
  cr_assert_eq(cotp_run(quick_root, NULL, &c, h, &reason), 0);
  cotp_assert_term_eq(reason, COTP_ATOM_NORMAL);
  cotp_heap_free(h);
}

/* arg_size: the child gets its own copy of the argument, taken when it is
 * spawned, so the parent may pass a struct on its stack and change it. */
struct orders {
  cotp_pid reply_to;
  int64_t values[3];
};

static void sum_orders(void *arg) {
  struct orders *o = arg;
  cotp_sleep(5); /* the parent has changed its struct by now */
  cotp_send(o->reply_to,
            cotp_int(NULL, o->values[0] + o->values[1] + o->values[2]));
}

COTP_TEST(spawn, argument_copied_for_the_child) {
  cotp_spawn_opts opts = COTP_SPAWN_OPTS_INIT;
  struct orders o = {cotp_self(), {1, 2, 3}};
  opts.arg_size = sizeof o;
  for (int64_t i = 0; i < 100; i++) {
    o.values[0] = i;
    cotp_assert_rc(cotp_spawn_opt(sum_orders, &o, &opts, NULL), 0);
  }
  o.values[1] = 1000; /* after every spawn: no child may see it */
  int64_t total = 0;
  for (int i = 0; i < 100; i++) {
    cotp_term x;
    cotp_assert_rc(cotp_receive(5000, &x), 0);
    total += cotp_int_value(x);
  }
  cr_assert_eq(total, 99 * 100 / 2 + 100 * 5);
  /* a copy needs something to copy */
  cotp_assert_rc(cotp_spawn_opt(sum_orders, NULL, &opts, NULL), COTP_EINVAL);
}

/* spawn_opt with link and a monitor whose reference is an alias (Erlang's
 * spawn_opt(F, [link, {monitor, [{alias, reply_demonitor}]}])): both are
 * in place before the child runs, and the child can answer through the
 * alias, which ends the monitor. */
static void answer_through(void *arg) {
  cotp_term alias = *(cotp_term *)arg;
  cotp_send_alias(alias, COTP_TUPLE(cotp_self_heap(), alias, COTP_ATOM(result)));
}

static void dies_at_once(void *arg) {
  (void)arg;
  cotp_exit(COTP_ATOM(at_once));
}

COTP_TEST(spawn, spawn_opt_links_and_monitors_with_an_alias) {
  cotp_trap_exit(true, NULL);
  cotp_heap *h = cotp_self_heap();
  cotp_term ref;
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  o.link = true;
  o.monitor = true;
  o.monitor_alias = COTP_ALIAS_REPLY_DEMONITOR;
  o.monitor_ref = &ref;
  o.arg_size = sizeof ref;
  /* the reference is written before the argument is copied: the child
   * gets it as its argument */
  cotp_pid p;
  cotp_assert_rc(cotp_spawn_opt(answer_through, &ref, &o, &p), 0);
  cotp_term msg;
  cotp_assert_rc(cotp_receive(5000, &msg), 0);
  cotp_assert_term_eq(msg, COTP_TUPLE(h, ref, COTP_ATOM(result)));
  /* the reply ended the monitor and the alias: no DOWN, only the EXIT */
  cotp_assert_term_eq(cotp_test_exit_from(p, 5000), COTP_ATOM_NORMAL);
  cotp_test_refute_received("{:DOWN, _, _, _, _}", 20);
  cotp_assert_rc(cotp_unalias(ref), COTP_ENOTFOUND);

  /* a child that dies at once is seen both ways (A8, A27) */
  o.arg_size = 0;
  o.monitor_alias = COTP_ALIAS_NONE;
  cotp_assert_rc(cotp_spawn_opt(dies_at_once, NULL, &o, &p), 0);
  cotp_assert_term_eq(cotp_test_down_of(ref, p), COTP_ATOM(at_once));
  cotp_assert_term_eq(cotp_test_exit_from(p, 5000), COTP_ATOM(at_once));

  /* bad options */
  o.monitor_ref = NULL;
  cotp_assert_rc(cotp_spawn_opt(dies_at_once, NULL, &o, &p), COTP_EINVAL);
  o.monitor_ref = &ref;
  o.monitor_alias = 17;
  cotp_assert_rc(cotp_spawn_opt(dies_at_once, NULL, &o, &p), COTP_EINVAL);
}

/* arg_free hands the argument to the process: it is called once, with the
 * spawn argument, however the process ends, after the process's own
 * cleanups and before its monitors fire. */
#include <stdatomic.h>

struct owned {
  _Atomic int freed;
  _Atomic int cleanup_first; /* the process's cleanup ran before */
  _Atomic int cleaned;
};

static void owned_free(void *arg) {
  struct owned *o = arg;
  atomic_store(&o->cleanup_first, atomic_load(&o->cleaned));
  atomic_fetch_add(&o->freed, 1);
}

static void mark_cleaned(void *arg) { atomic_store(&((struct owned *)arg)->cleaned, 1); }

static void other_life(void *arg) { (void)arg; cotp_receive(COTP_INFINITY, NULL); }

static void owning(void *arg) {
  cotp_on_exit(mark_cleaned, arg);
  cotp_term msg;
  cotp_receive(COTP_INFINITY, &msg);
  if (msg.w == COTP_ATOM(hibernate).w) /* arg changes; arg_free's does not */
    cotp_hibernate(other_life, NULL);
}

static void spawn_owning(struct owned *o, cotp_pid *pid, cotp_term *ref) {
  cotp_spawn_opts opts = COTP_SPAWN_OPTS_INIT;
  opts.arg_free = owned_free;
  opts.monitor = true;
  opts.monitor_ref = ref;
  cotp_assert_rc(cotp_spawn_opt(owning, o, &opts, pid), 0);
}

static void await_down(cotp_term ref, struct owned *o) {
  cotp_term down;
  cotp_clause c = {cotp_test_pattern("{:DOWN, ^ref, _, _, _}"), &ref, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, &down), 0);
  cr_assert_eq(atomic_load(&o->freed), 1, "freed once before the DOWN");
}

COTP_TEST(spawn, arg_free_runs_once_however_the_process_ends) {
  cotp_pid pid;
  cotp_term ref;
  /* a normal exit, with the process's own cleanup first */
  struct owned a = {0};
  spawn_owning(&a, &pid, &ref);
  cotp_yield();
  cotp_send(pid, COTP_ATOM(go));
  await_down(ref, &a);
  cr_assert_eq(atomic_load(&a.cleanup_first), 1);
  /* killed before it ever ran */
  struct owned b = {0};
  spawn_owning(&b, &pid, &ref);
  cotp_exit_signal(pid, COTP_ATOM_KILL);
  await_down(ref, &b);
  /* hibernated with another argument, then killed */
  struct owned c = {0};
  spawn_owning(&c, &pid, &ref);
  cotp_send(pid, COTP_ATOM(hibernate));
  cotp_sleep(10);
  cotp_exit_signal(pid, COTP_ATOM_KILL);
  await_down(ref, &c);
  /* a spawn that fails does not take the argument */
  struct owned d = {0};
  cotp_spawn_opts opts = COTP_SPAWN_OPTS_INIT;
  opts.arg_free = owned_free;
  opts.monitor = true; /* without monitor_ref: EINVAL */
  cotp_assert_rc(cotp_spawn_opt(owning, &d, &opts, NULL), COTP_EINVAL);
  cr_assert_eq(atomic_load(&d.freed), 0);
}

static void code_a(void) {}
static void code_b(void) {}

/* One name means one thing per kind: a process function, a Task's and a
 * supervisor's start function may share module:function. */
COTP_TEST(spawn, code_by_name_is_kept_per_kind) {
  cotp_term m = COTP_ATOM(MyMod), f = COTP_ATOM(run);
  cotp_assert_rc(cotp_register_code(COTP_ATOM(kind_a), m, f, code_a), 0);
  cotp_assert_rc(cotp_register_code(COTP_ATOM(kind_b), m, f, code_b), 0);
  cr_assert_eq(cotp_lookup_code(COTP_ATOM(kind_a), m, f), code_a);
  cr_assert_eq(cotp_lookup_code(COTP_ATOM(kind_b), m, f), code_b);
  cr_assert_null(cotp_lookup_code(COTP_ATOM(kind_c), m, f));
  cr_assert_null(cotp_lookup_function(m, f)); /* :process is a kind too */
  cotp_assert_rc(cotp_register_code(COTP_ATOM(kind_a), m, f, code_b), 0);
  cr_assert_eq(cotp_lookup_code(COTP_ATOM(kind_a), m, f), code_b, "replaced");
  cotp_assert_rc(cotp_register_code(cotp_int(NULL, 1), m, f, code_a), COTP_EINVAL);
  cotp_assert_rc(cotp_register_code(COTP_ATOM(kind_a), m, f, NULL), COTP_EINVAL);
}

/* Lookups take no lock: a thread that looks names up while another
 * registers enough of them to grow the table several times finds each
 * one missing or right, never another name's function or a torn entry. */
enum { NAMES = 3000 };
static cotp_term lookup_names[NAMES];
static _Atomic int registered_names;

/* The number of wrong answers, asserted on by the test's own thread. */
static void *look_up_all(void *arg) {
  (void)arg;
  uintptr_t wrong = 0;
  while (atomic_load(&registered_names) < NAMES)
    for (int i = 0; i < NAMES; i++) {
      cotp_code_fn *fn =
          cotp_lookup_code(COTP_ATOM(kind_lockfree), COTP_ATOM(Mod), lookup_names[i]);
      if (fn && fn != (i % 2 ? code_b : code_a))
        wrong++;
    }
  return (void *)wrong;
}

Test(spawn, code_by_name_is_found_while_the_table_grows) {
  char name[32];
  for (int i = 0; i < NAMES; i++) {
    snprintf(name, sizeof name, "lockfree_%d", i);
    lookup_names[i] = cotp_atom(name);
  }
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, look_up_all, NULL), 0);
  for (int i = 0; i < NAMES; i++) {
    cotp_assert_rc(cotp_register_code(COTP_ATOM(kind_lockfree), COTP_ATOM(Mod),
                                      lookup_names[i], i % 2 ? code_b : code_a),
                   0);
    atomic_fetch_add(&registered_names, 1);
  }
  void *wrong;
  cr_assert_eq(pthread_join(t, &wrong), 0);
  cr_assert_eq((uintptr_t)wrong, 0, "lookups found another name's function");
  for (int i = 0; i < NAMES; i++)
    cr_assert_eq(cotp_lookup_code(COTP_ATOM(kind_lockfree), COTP_ATOM(Mod), lookup_names[i]),
                 i % 2 ? code_b : code_a);
}

/* cotp_is_alive_now never waits: true until the process begins to exit;
 * an exit signal on its way does not count yet, as it does for
 * cotp_is_alive (A20). */
COTP_TEST(spawn, is_alive_now_reads_the_state_without_waiting) {
  cotp_pid pid;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn_monitor(cotp_test_idle, NULL, &pid, &ref), 0);
  cr_assert(cotp_is_alive_now(pid));
  cr_assert(cotp_is_alive_now(cotp_self()));
  cotp_exit_signal(pid, COTP_ATOM_KILL);
  cr_assert(!cotp_is_alive(pid), "the kill sent first counts");
  cotp_test_down_of(ref, pid);
  cr_assert(!cotp_is_alive_now(pid));
  cr_assert(!cotp_is_alive_now((cotp_pid){0}));
}

/* spawn_opts.message: a copy of the term is the new process's first
 * message, ahead of one sent right after the spawn, for a plain process
 * as for a handler; the spawner's heap may go at once. */
static void report_two(void *arg) {
  cotp_pid to = {(uint64_t)(uintptr_t)arg};
  cotp_heap *h = cotp_self_heap();
  cotp_term a, b;
  cotp_receive(5000, &a);
  cotp_receive(5000, &b);
  cotp_send(to, COTP_TUPLE(h, a, b));
}

static bool relay_to_owner(void *state, cotp_term msg) {
  cotp_pid to = {(uint64_t)(uintptr_t)state};
  cotp_send(to, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(handled), msg));
  return true;
}

COTP_TEST(spawn, a_message_given_to_the_spawn_comes_first) {
  cotp_heap *h = cotp_self_heap();
  for (int i = 0; i < 200; i++) {
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
    o.message = COTP_TUPLE(h, COTP_ATOM(first), cotp_binary(h, "made by the spawner", 19),
                           COTP_LIST(h, cotp_int(h, i), cotp_int(h, 1000)));
    cotp_pid p;
    void *me = (void *)(uintptr_t)cotp_self().bits;
    cotp_assert_rc(cotp_spawn_opt(report_two, me, &o, &p), 0);
    cotp_heap_release(h, mark); /* the message is the child's copy */
    cotp_assert_rc(cotp_send(p, COTP_ATOM(second)), 0);
    cotp_term got;
    cotp_assert_rc(cotp_receive(5000, &got), 0);
    char want[96];
    snprintf(want, sizeof want, "{{:first, \"made by the spawner\", [%d, 1000]}, :second}", i);
    cotp_assert_prints(got, want);

    cotp_pid q;
    o.message = cotp_int(NULL, i);
    cotp_assert_rc(cotp_spawn_handler(relay_to_owner, me, &o, &q), 0);
    cotp_assert_rc(cotp_send(q, COTP_ATOM(later)), 0);
    cotp_assert_rc(cotp_receive(5000, &got), 0);
    snprintf(want, sizeof want, "{:handled, %d}", i);
    cotp_assert_prints(got, want);
    cotp_assert_rc(cotp_receive(5000, &got), 0);
    cotp_assert_prints(got, "{:handled, :later}");
    cotp_exit_signal(q, COTP_ATOM_KILL);
  }
}

/* spawn_opts.monitor_alias_private: the child answers through the alias
 * as through any, and its answer ends the monitor; anyone else's message
 * through it is dropped, as through an inactive alias; only with
 * reply_demonitor. */
static void answer_when_told(void *arg) {
  cotp_term alias = *(cotp_term *)arg;
  cotp_receive(5000, NULL);
  cotp_send_alias(alias, COTP_TUPLE(cotp_self_heap(), alias, COTP_ATOM(result)));
  cotp_receive(5000, NULL); /* then it waits to be told to go */
}

static void send_through(void *arg) {
  cotp_term alias = *(cotp_term *)arg;
  cotp_send_alias(alias, COTP_TUPLE(cotp_self_heap(), alias, COTP_ATOM(intruder)));
}

COTP_TEST(spawn, a_private_alias_takes_only_the_childs_answer) {
  cotp_heap *h = cotp_self_heap();
  cotp_term ref = cotp_make_ref();
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  o.monitor = true;
  o.monitor_alias = COTP_ALIAS_REPLY_DEMONITOR;
  o.monitor_alias_private = true;
  o.monitor_ref = &ref;
  o.monitor_ref_given = true;
  o.arg_size = sizeof ref;
  cotp_pid p, q;
  cotp_assert_rc(cotp_spawn_opt(answer_when_told, &ref, &o, &p), 0);
  /* someone else who has the reference */
  cotp_spawn_opts copy = COTP_SPAWN_OPTS_INIT;
  copy.arg_size = sizeof ref;
  cotp_assert_rc(cotp_spawn_opt(send_through, &ref, &copy, &q), 0);
  cotp_test_refute_received("{_, :intruder}", 50);
  cotp_assert_rc(cotp_send(p, COTP_ATOM(now)), 0);
  cotp_term msg;
  cotp_assert_rc(cotp_receive(5000, &msg), 0);
  cotp_assert_term_eq(msg, COTP_TUPLE(h, ref, COTP_ATOM(result)));
  /* the answer ended the monitor: no DOWN when the child goes */
  cotp_assert_rc(cotp_send(p, COTP_ATOM(go)), 0);
  cotp_test_refute_received("{:DOWN, _, _, _, _}", 50);
  cotp_assert_rc(cotp_unalias(ref), COTP_ENOTFOUND);

  o.monitor_ref_given = false;
  o.arg_size = 0;
  o.monitor_alias = COTP_ALIAS_DEMONITOR;
  cotp_assert_rc(cotp_spawn_opt(dies_at_once, NULL, &o, &p), COTP_EINVAL);
  o.monitor_alias = COTP_ALIAS_EXPLICIT_UNALIAS;
  cotp_assert_rc(cotp_spawn_opt(dies_at_once, NULL, &o, &p), COTP_EINVAL);
}
