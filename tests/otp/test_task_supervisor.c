/* SPDX-License-Identifier: Apache-2.0 */
/* Task.Supervisor (G1-G17), its start_link options, and Task.Supervisor
 * through a PartitionSupervisor. */
#include "sup_util.h"

static cotp_heap *h(void) { return cotp_self_heap(); }
static cotp_server S(cotp_pid p) { return cotp_server_pid(p); }

static cotp_pid tsup(int64_t max_children) {
  cotp_task_supervisor_opts o = COTP_TASK_SUPERVISOR_OPTS_INIT;
  o.max_children = max_children;
  cotp_pid sup;
  cotp_assert_rc(cotp_task_supervisor_start_link(&o, &sup, NULL), 0);
  return sup;
}

static cotp_term forty_two(void *arg) {
  (void)arg;
  return cotp_int(cotp_self_heap(), 42);
}
static cotp_term sleeper(void *arg) {
  cotp_sleep((int64_t)(intptr_t)arg);
  return COTP_ATOM_OK;
}
static cotp_term crasher(void *arg) {
  (void)arg;
  cotp_exit(COTP_ATOM(boom));
}
static cotp_term reporter(void *arg) {
  (void)arg;
  cotp_send(test_root, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(started),
                                  cotp_int(cotp_self_heap(), 9),
                                  cotp_pid_term(cotp_self())));
  cotp_test_idle(NULL);
  return COTP_ATOM_OK;
}

static bool linked_to(cotp_pid a, cotp_pid b) {
  cotp_term links;
  cotp_assert_rc(cotp_process_info(a, COTP_ATOM(links), &links), 0);
  for (; cotp_is_cons(links); links = cotp_tail(links))
    if (cotp_get_pid(cotp_head(links)).bits == b.bits)
      return true;
  return false;
}

COTP_TEST(task_supervisor, g1_under_a_supervisor_with_names) {
  cotp_child_spec s[2] = {cotp_task_supervisor_child_spec(COTP_ATOM(a), COTP_ATOM(ts_a)),
                          cotp_task_supervisor_child_spec(COTP_ATOM(b), COTP_ATOM(ts_b))};
  cotp_pid top;
  cotp_assert_rc(cotp_supervisor_start_link_children(s, 2, NULL, NULL, &top, NULL), 0);
  cotp_task t;
  cotp_assert_rc(cotp_task_supervisor_async(cotp_server_name(COTP_ATOM(ts_b)), forty_two,
                                            NULL, NULL, &t),
                 0);
  cotp_assert_term_eq(cotp_task_await(&t, 5000), cotp_int(h(), 42));
  cotp_child_counts c = counts(top);
  cr_assert(c.supervisors == 2 && c.active == 2);
}

COTP_TEST(task_supervisor, g3_children_and_counts) {
  cotp_pid sup = tsup(COTP_INFINITY);
  cotp_child_counts c = counts(sup);
  cr_assert(c.specs == 0 && c.active == 0 && c.workers == 0 && c.supervisors == 0);
  cotp_pid p;
  cotp_assert_rc(cotp_task_supervisor_start_child(S(sup), sleeper, (void *)(intptr_t)5000,
                                                  NULL, &p),
                 0);
  cotp_assert_term_eq(cotp_task_supervisor_children(S(sup)),
                      COTP_LIST(h(), cotp_pid_term(p)));
  cr_assert_eq(counts(sup).active, 1);
}

COTP_TEST(task_supervisor, g4_async_is_a_child_linked_and_monitored) {
  cotp_pid sup = tsup(COTP_INFINITY);
  cotp_task t;
  cotp_assert_rc(cotp_task_supervisor_async(S(sup), sleeper, (void *)(intptr_t)50, NULL, &t), 0);
  cr_assert(linked_to(t.pid, cotp_self()));
  cr_assert(linked_to(t.pid, sup));
  cotp_assert_term_eq(cotp_task_supervisor_children(S(sup)),
                      COTP_LIST(h(), cotp_pid_term(t.pid)));
  cotp_term m;
  cotp_assert_rc(cotp_receive(5000, &m), 0);
  cotp_assert_term_eq(m, COTP_TUPLE(h(), t.ref, COTP_ATOM_OK));
  cotp_assert_rc(cotp_receive(5000, &m), 0);
  cotp_assert_term_eq(m, cotp_format(h(), "{:DOWN, ~t, :process, ~p, :normal}", t.ref,
                                     t.pid));
}

COTP_TEST(task_supervisor, g5_g10_brutal_kill_shutdown) {
  cotp_trap_exit(true, NULL);
  cotp_pid sup = tsup(COTP_INFINITY);
  cotp_task_child_opts o = COTP_TASK_CHILD_OPTS_INIT;
  o.shutdown = COTP_SHUTDOWN_BRUTAL_KILL;
  cotp_task t;
  cotp_assert_rc(cotp_task_supervisor_async(S(sup), sleeper, (void *)(intptr_t)5000, &o, &t),
                 0);
  cotp_pid p;
  cotp_assert_rc(cotp_task_supervisor_start_child(S(sup), sleeper, (void *)(intptr_t)5000,
                                                  &o, &p),
                 0);
  cotp_term ref;
  cotp_monitor(p, &ref);
  cotp_assert_rc(cotp_supervisor_stop(S(sup), COTP_ATOM_SHUTDOWN, 5000), 0);
  cotp_assert_term_eq(cotp_test_down_of(t.ref, t.pid), COTP_ATOM_KILLED);
  cotp_assert_term_eq(cotp_test_down_of(ref, p), COTP_ATOM_KILLED);
}

COTP_TEST(task_supervisor, g6_max_children) {
  cotp_pid sup = tsup(1);
  cotp_task t, u;
  cotp_assert_rc(cotp_task_supervisor_async(S(sup), sleeper, (void *)(intptr_t)200, NULL, &t),
                 0);
  cotp_assert_rc(cotp_task_supervisor_async(S(sup), forty_two, NULL, NULL, &u),
                 COTP_ESYSLIMIT);
  cotp_task_await(&t, 5000);
}

COTP_TEST(task_supervisor, g7_async_nolink_survives_a_crash) {
  cotp_pid sup = tsup(COTP_INFINITY);
  cotp_task t;
  cotp_assert_rc(cotp_task_supervisor_async_nolink(S(sup), crasher, NULL, NULL, &t), 0);
  cotp_term out;
  cotp_assert_rc(cotp_task_await_result(&t, 5000, &out), 1);
  cotp_assert_term_eq(out, COTP_ATOM(boom));
}

COTP_TEST(task_supervisor, g8_g9_start_child_is_unlinked_and_restartable) {
  test_root = cotp_self();
  cotp_pid sup = tsup(COTP_INFINITY);
  cotp_task_child_opts o = COTP_TASK_CHILD_OPTS_INIT;
  o.restart = COTP_PERMANENT;
  cotp_pid p;
  cotp_assert_rc(cotp_task_supervisor_start_child(S(sup), reporter, NULL, &o, &p), 0);
  started(9);
  cr_assert(!linked_to(p, cotp_self()));
  kill_and_wait(p, COTP_ATOM_SHUTDOWN);
  cotp_pid q = started(9);
  cr_assert_neq(q.bits, p.bits);
}

COTP_TEST(task_supervisor, g11_terminate_child) {
  cotp_pid sup = tsup(COTP_INFINITY);
  cotp_pid p;
  cotp_assert_rc(cotp_task_supervisor_start_child(S(sup), sleeper, (void *)(intptr_t)5000,
                                                  NULL, &p),
                 0);
  cotp_assert_rc(cotp_task_supervisor_terminate_child(S(sup), p), 0);
  cotp_assert_rc(cotp_task_supervisor_terminate_child(S(sup), p), COTP_ENOTFOUND);
  cotp_assert_term_eq(cotp_task_supervisor_children(S(sup)), COTP_NIL);
}

COTP_TEST(task_supervisor, g12_await_timeout_demonitors) {
  cotp_pid sup = tsup(COTP_INFINITY);
  cotp_task t;
  cotp_assert_rc(cotp_task_supervisor_async_nolink(S(sup), sleeper, (void *)(intptr_t)100,
                                                   NULL, &t),
                 0);
  cotp_term out;
  cotp_assert_rc(cotp_task_await_result(&t, 10, &out), COTP_ETIMEDOUT);
  cotp_test_refute_received("_", 200);
}

static cotp_term square(cotp_term x, void *ctx) {
  (void)ctx;
  int64_t v = cotp_int_value(x);
  if (v == 3)
    cotp_exit(COTP_ATOM(three));
  return cotp_int(cotp_self_heap(), v * v);
}

COTP_TEST(task_supervisor, g13_stream_take_one_leaves_only_the_supervisor_linked) {
  cotp_pid sup = tsup(COTP_INFINITY);
  cotp_server s = S(sup);
  cotp_iter_range r;
  cotp_iter *out;
  cotp_assert_rc(cotp_task_supervisor_async_stream(&s, cotp_iter_range_init(&r, 1, 2, 1),
                                                   square, NULL, NULL, &out, NULL),
                 0);
  cotp_term x;
  cr_assert_eq(cotp_iter_next(out, h(), &x), 1);
  cotp_assert_term_eq(x, cotp_test_parse("{:ok, 1}"));
  cotp_iter_close(out);
  cotp_term links;
  cotp_process_info(cotp_self(), COTP_ATOM(links), &links);
  cotp_assert_term_eq(links, COTP_LIST(h(), cotp_pid_term(sup)));
  cotp_test_refute_received("_", 50);
}

/* A nolink stream of 1..4 through s: 3's task exits, the rest square. */
static void nolink_stream_emits_exits(cotp_server s) {
  cotp_iter_range r;
  cotp_iter *out;
  cotp_assert_rc(cotp_task_supervisor_async_stream_nolink(
                     &s, cotp_iter_range_init(&r, 1, 4, 1), square, NULL, NULL, &out, NULL),
                 0);
  const char *want[] = {"{:ok, 1}", "{:ok, 4}", "{:exit, :three}", "{:ok, 16}"};
  for (int i = 0; i < 4; i++) {
    cotp_term x;
    cr_assert_eq(cotp_iter_next(out, h(), &x), 1);
    cotp_assert_term_eq(x, cotp_test_parse(want[i]));
  }
  cotp_iter_close(out);
}

COTP_TEST(task_supervisor, g15_nolink_stream_emits_exits) {
  cotp_pid sup = tsup(COTP_INFINITY);
  cotp_server s = S(sup);
  nolink_stream_emits_exits(s);
}

/* A stream task that never finishes in time: it sleeps for 10 s. */
static cotp_term stream_sleeper(cotp_term x, void *ctx) {
  (void)ctx;
  cotp_sleep(10000);
  return x;
}

/* G14: a stream that reaches max_children ends with COTP_ESYSLIMIT (Elixir
 * raises), its tasks are shut down, the consumer is linked only to the
 * supervisor, and no reply, DOWN or EXIT is left in its mailbox. */
static void g14_stream_hits_max_children(bool linked) {
  cotp_pid sup = tsup(1);
  cotp_server s = S(sup);
  cotp_iter_range r;
  cotp_iter *out;
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  o.max_concurrency = 2;
  int rc = linked ? cotp_task_supervisor_async_stream(&s, cotp_iter_range_init(&r, 1, 3, 1),
                                                      stream_sleeper, NULL, &o, &out, NULL)
                  : cotp_task_supervisor_async_stream_nolink(
                        &s, cotp_iter_range_init(&r, 1, 3, 1), stream_sleeper, NULL, &o,
                        &out, NULL);
  cotp_assert_rc(rc, 0);
  cotp_term x;
  cotp_assert_rc(cotp_iter_next(out, h(), &x), COTP_ESYSLIMIT);
  cotp_iter_close(out);
  /* the first task, started before the limit, is gone */
  cotp_term children = COTP_NIL;
  for (int i = 0; i < 100; i++) {
    children = cotp_task_supervisor_children(s);
    if (cotp_is_nil(children))
      break;
    cotp_sleep(10);
  }
  cotp_assert_term_eq(children, COTP_NIL);
  cotp_term links;
  cotp_process_info(cotp_self(), COTP_ATOM(links), &links);
  cotp_assert_term_eq(links, COTP_LIST(h(), cotp_pid_term(sup)));
  cotp_test_refute_received("_", 100);
  /* the supervisor takes new tasks again */
  cotp_task t;
  cotp_assert_rc(cotp_task_supervisor_async(s, forty_two, NULL, NULL, &t), 0);
  cotp_assert_term_eq(cotp_task_await(&t, 5000), cotp_int(h(), 42));
}

COTP_TEST(task_supervisor, g14_async_stream_max_children_shuts_the_stream_down) {
  g14_stream_hits_max_children(true);
}

COTP_TEST(task_supervisor, g14_async_stream_nolink_max_children_shuts_the_stream_down) {
  g14_stream_hits_max_children(false);
}

static void early_owner(void *arg) {
  cotp_pid sup = *(cotp_pid *)arg;
  /* start a task for itself through the supervisor, and die before the
   * go-ahead: the child spec's start is what async's first half does */
  cotp_child_spec s = COTP_CHILD_SPEC_INIT;
  (void)s;
  cotp_task t;
  cotp_task_supervisor_async_nolink(cotp_server_pid(sup), forty_two, NULL, NULL, &t);
  cotp_exit(COTP_ATOM(gone));
}

COTP_TEST(task_supervisor, g17_task_waits_for_its_owner) {
  /* the go-ahead comes at once in async; what G17 guards is the window
   * between the supervisor's start and the attach: an owner that dies in
   * it.  Covered in the Task layer (cotp_task_entry_owner); here the
   * supervised path must leave no task behind when the owner dies. */
  cotp_pid sup = tsup(COTP_INFINITY);
  cotp_pid o;
  cotp_spawn_opts so = COTP_SPAWN_OPTS_INIT;
  so.arg_size = sizeof sup;
  cotp_spawn_opt(early_owner, &sup, &so, &o);
  down_reason(o);
  for (int i = 0; i < 200 && counts(sup).active; i++)
    cotp_sleep(5);
  cr_assert_eq(counts(sup).active, 0);
}

/* --- through a PartitionSupervisor of Task.Supervisors (book ch 7.4) ---
 *
 * Every function above addressed as {:via, PartitionSupervisor, {name,
 * key}}: the key's partition runs the task, and the others do not see it. */

static cotp_pid task_partitions(cotp_term name) {
  cotp_partition_supervisor_opts o = COTP_PARTITION_SUPERVISOR_OPTS_INIT;
  o.name = name;
  o.partitions = 2;
  o.child = cotp_task_supervisor_child_spec(COTP_ATOM(ts), COTP_NONE);
  cotp_pid sup;
  cotp_assert_rc(cotp_partition_supervisor_start_link(&o, &sup, NULL, NULL), 0);
  return sup;
}

static cotp_server via(cotp_term name, int64_t key) {
  return cotp_server_via(&cotp_partition_supervisor_via,
                         COTP_TUPLE(h(), name, cotp_int(h(), key)));
}

static cotp_pid partition(cotp_server s) {
  cotp_pid p;
  cotp_assert_rc(cotp_genserver_whereis(s, &p), 0);
  return p;
}

COTP_TEST(task_supervisor, g4_async_through_a_partition_supervisor) {
  task_partitions(COTP_ATOM(tps4));
  cotp_server s1 = via(COTP_ATOM(tps4), 3), s0 = via(COTP_ATOM(tps4), 4);
  cotp_task t;
  cotp_assert_rc(cotp_task_supervisor_async(s1, sleeper, (void *)(intptr_t)50, NULL, &t), 0);
  cr_assert(linked_to(t.pid, cotp_self()));
  cr_assert(linked_to(t.pid, partition(s1)));
  cotp_assert_term_eq(cotp_task_supervisor_children(s1), COTP_LIST(h(), cotp_pid_term(t.pid)));
  cotp_assert_term_eq(cotp_task_supervisor_children(s0), COTP_NIL);
  cotp_assert_term_eq(cotp_task_await(&t, 5000), COTP_ATOM_OK);
  cotp_assert_rc(cotp_task_supervisor_async(s0, forty_two, NULL, NULL, &t), 0);
  cotp_assert_term_eq(cotp_task_await(&t, 5000), cotp_int(h(), 42));
}

COTP_TEST(task_supervisor, g7_async_nolink_through_a_partition_supervisor) {
  task_partitions(COTP_ATOM(tps7));
  cotp_server s = via(COTP_ATOM(tps7), 1);
  cotp_task t;
  cotp_assert_rc(cotp_task_supervisor_async_nolink(s, sleeper, (void *)(intptr_t)50, NULL, &t),
                 0);
  cr_assert(!linked_to(t.pid, cotp_self()));
  cr_assert(linked_to(t.pid, partition(s)));
  cotp_assert_term_eq(cotp_task_await(&t, 5000), COTP_ATOM_OK);
  cotp_assert_rc(cotp_task_supervisor_async_nolink(s, crasher, NULL, NULL, &t), 0);
  cotp_term out;
  cotp_assert_rc(cotp_task_await_result(&t, 5000, &out), 1);
  cotp_assert_term_eq(out, COTP_ATOM(boom));
}

COTP_TEST(task_supervisor, g3_g8_g11_start_child_children_terminate_child_through_a_partition_supervisor) {
  cotp_pid ps = task_partitions(COTP_ATOM(tps8));
  cotp_server s1 = via(COTP_ATOM(tps8), -1), s0 = via(COTP_ATOM(tps8), 0);
  cotp_pid p;
  cotp_assert_rc(cotp_task_supervisor_start_child(s1, sleeper, (void *)(intptr_t)5000, NULL, &p),
                 0);
  cr_assert(!linked_to(p, cotp_self()));
  cr_assert(linked_to(p, partition(s1)));
  cotp_assert_term_eq(cotp_task_supervisor_children(s1), COTP_LIST(h(), cotp_pid_term(p)));
  cotp_assert_term_eq(cotp_task_supervisor_children(s0), COTP_NIL);
  cotp_child_counts c;
  cotp_assert_rc(cotp_supervisor_count_children(s1, &c), 0);
  cr_assert(c.active == 1 && c.workers == 1);
  cr_assert_eq(counts(ps).supervisors, 2); /* the partitions are supervisors */
  cotp_assert_rc(cotp_task_supervisor_terminate_child(s0, p), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_task_supervisor_terminate_child(s1, p), 0);
  cotp_assert_rc(cotp_task_supervisor_terminate_child(s1, p), COTP_ENOTFOUND);
  cotp_assert_term_eq(cotp_task_supervisor_children(s1), COTP_NIL);
}

/* A stream task's answer: whether it is linked to the pid whose bits are
 * ctx (a value: a process must not read another's stack). */
static cotp_term linked_to_ctx(cotp_term x, void *ctx) {
  (void)x;
  return cotp_bool(linked_to(cotp_self(), (cotp_pid){(uint64_t)(uintptr_t)ctx}));
}

COTP_TEST(task_supervisor, g13_async_stream_through_a_partition_supervisor) {
  cotp_pid ps = task_partitions(COTP_ATOM(tps13));
  cotp_server s = via(COTP_ATOM(tps13), 1);
  cotp_pid part = partition(s);
  cotp_iter_range r;
  cotp_iter *out;
  cotp_assert_rc(cotp_task_supervisor_async_stream(&s, cotp_iter_range_init(&r, 1, 3, 1),
                                                   linked_to_ctx, (void *)(uintptr_t)part.bits, NULL,
                                                   &out, NULL),
                 0);
  cotp_term x;
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(cotp_iter_next(out, h(), &x), 1);
    cotp_assert_term_eq(x, cotp_test_parse("{:ok, true}"));
  }
  cr_assert_eq(cotp_iter_next(out, h(), &x), 0);
  cotp_iter_close(out);
  /* every task linked to the consumer is gone: its one link is the
   * PartitionSupervisor it started */
  cotp_term links;
  cotp_process_info(cotp_self(), COTP_ATOM(links), &links);
  cotp_assert_term_eq(links, COTP_LIST(h(), cotp_pid_term(ps)));
  cotp_test_refute_received("_", 50);
}

COTP_TEST(task_supervisor, g15_async_stream_nolink_through_a_partition_supervisor) {
  task_partitions(COTP_ATOM(tps15));
  cotp_server s = via(COTP_ATOM(tps15), 0);
  nolink_stream_emits_exits(s);
  /* the partition sees its tasks' exits after the stream has their
   * results: wait for it */
  cotp_term children = COTP_NIL;
  for (int i = 0; i < 200; i++) {
    children = cotp_task_supervisor_children(s);
    if (cotp_is_nil(children))
      break;
    cotp_sleep(5);
  }
  cotp_assert_term_eq(children, COTP_NIL);
}

/* --- start_link options (G1, G2, max_restarts, max_seconds) --- */

COTP_TEST(task_supervisor, g2_spawn_options_reach_the_supervisor_process) {
  /* Elixir's "start with spawn_opt": the supervisor's own priority */
  cotp_task_supervisor_opts o = COTP_TASK_SUPERVISOR_OPTS_INIT;
  o.spawn.priority = COTP_PRIORITY_HIGH;
  cotp_pid sup;
  cotp_assert_rc(cotp_task_supervisor_start_link(&o, &sup, NULL), 0);
  cotp_term prio;
  cotp_assert_rc(cotp_process_info(sup, COTP_ATOM(priority), &prio), 0);
  cotp_assert_term_eq(prio, COTP_ATOM(high));
  /* and the default is normal */
  cotp_pid plain = tsup(COTP_INFINITY);
  cotp_assert_rc(cotp_process_info(plain, COTP_ATOM(priority), &prio), 0);
  cotp_assert_term_eq(prio, COTP_ATOM(normal));
}

COTP_TEST(task_supervisor, g1_a_second_start_with_a_local_name_is_already_started) {
  cotp_task_supervisor_opts o = COTP_TASK_SUPERVISOR_OPTS_INIT;
  o.name = cotp_name_local(COTP_ATOM(g1_local));
  cotp_pid sup, again = {0};
  cotp_assert_rc(cotp_task_supervisor_start_link(&o, &sup, NULL), 0);
  cotp_pid found;
  cotp_assert_rc(cotp_whereis(COTP_ATOM(g1_local), &found), 0);
  cr_assert_eq(found.bits, sup.bits);
  cotp_term reason = COTP_NONE;
  cotp_assert_rc(cotp_task_supervisor_start_link(&o, &again, &reason), COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reason, COTP_TUPLE(h(), COTP_ATOM(already_started), cotp_pid_term(sup)));
  /* the name reaches the first one */
  cotp_task t;
  cotp_assert_rc(cotp_task_supervisor_async(cotp_server_name(COTP_ATOM(g1_local)), forty_two,
                                            NULL, NULL, &t),
                 0);
  cotp_assert_term_eq(cotp_task_await(&t, 5000), cotp_int(h(), 42));
  cotp_test_refute_received("{:EXIT, _, _}", 0);
}

COTP_TEST(task_supervisor, g1_a_second_start_with_a_via_name_is_already_started) {
  cotp_registry_opts ro = COTP_REGISTRY_OPTS_INIT;
  ro.name = COTP_ATOM(g1_reg);
  cotp_assert_rc(cotp_registry_start_link(&ro, NULL, NULL), 0);
  cotp_task_supervisor_opts o = COTP_TASK_SUPERVISOR_OPTS_INIT;
  cotp_term key = cotp_test_parse("{:g1_reg, \"via_name\"}");
  o.name = cotp_registry_name_via(key);
  cotp_pid sup, again = {0};
  cotp_assert_rc(cotp_task_supervisor_start_link(&o, &sup, NULL), 0);
  cotp_term reason = COTP_NONE;
  cotp_assert_rc(cotp_task_supervisor_start_link(&o, &again, &reason), COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reason, COTP_TUPLE(h(), COTP_ATOM(already_started), cotp_pid_term(sup)));
  cotp_task t;
  cotp_assert_rc(cotp_task_supervisor_async(cotp_server_via(&cotp_registry_via, key), forty_two, NULL, NULL,
                                            &t),
                 0);
  cotp_assert_term_eq(cotp_task_await(&t, 5000), cotp_int(h(), 42));
}

COTP_TEST(task_supervisor, g1_default_ids_a_second_unnamed_one_is_already_started) {
  /* the child spec's default id: the name, or Task.Supervisor unnamed */
  cotp_child_spec s[2] = {cotp_task_supervisor_child_spec(COTP_NONE, COTP_NONE),
                          cotp_task_supervisor_child_spec(COTP_NONE, COTP_ATOM(g1_named))};
  cotp_pid top;
  cotp_assert_rc(cotp_supervisor_start_link_children(s, 2, NULL, NULL, &top, NULL), 0);
  cotp_pid unnamed = child_pid(top, cotp_atom("Elixir.Task.Supervisor"));
  cotp_pid named = child_pid(top, COTP_ATOM(g1_named));
  cr_assert(unnamed.bits != 0 && named.bits != 0);
  cotp_pid found;
  cotp_assert_rc(cotp_whereis(COTP_ATOM(g1_named), &found), 0);
  cr_assert_eq(found.bits, named.bits);
  cotp_child_spec third = cotp_task_supervisor_child_spec(COTP_NONE, COTP_NONE);
  cotp_term reply;
  cotp_assert_rc(cotp_supervisor_start_child(S(top), &third, NULL, &reply),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reply, cotp_format(h(), "{:error, {:already_started, ~p}}", unnamed));
}

/* A task that crashes with its argument (an atom), or ends normally for
 * :normal, counting its starts. */
static _Atomic int task_starts;
static cotp_term count_and_exit(void *arg) {
  atomic_fetch_add(&task_starts, 1);
  cotp_term reason = {(uint64_t)(uintptr_t)arg};
  if (reason.w == COTP_ATOM_NORMAL.w)
    return COTP_ATOM_OK;
  cotp_exit(reason);
}

static cotp_pid tsup_intensity(int max_restarts, int max_seconds) {
  cotp_task_supervisor_opts o = COTP_TASK_SUPERVISOR_OPTS_INIT;
  o.max_restarts = max_restarts;
  o.max_seconds = max_seconds;
  cotp_pid sup;
  cotp_assert_rc(cotp_task_supervisor_start_link(&o, &sup, NULL), 0);
  return sup;
}

COTP_TEST(task_supervisor, max_restarts_permanent_tasks_past_the_limit_stop_the_supervisor) {
  /* a period no test run can outlast: only max_restarts decides */
  cotp_trap_exit(true, NULL);
  cotp_pid sup = tsup_intensity(2, 3600);
  cotp_task_child_opts o = COTP_TASK_CHILD_OPTS_INIT;
  o.restart = COTP_PERMANENT;
  cotp_assert_rc(cotp_task_supervisor_start_child(S(sup), count_and_exit,
                                                  (void *)(uintptr_t)COTP_ATOM(boom).w, &o,
                                                  NULL),
                 0);
  /* the first run and two restarts; the third crash is one too many */
  cotp_assert_term_eq(cotp_test_exit_from(sup, 5000), COTP_ATOM_SHUTDOWN);
  cr_assert_eq(atomic_load(&task_starts), 3);
}

COTP_TEST(task_supervisor, max_restarts_transient_tasks_count_only_abnormal_exits) {
  cotp_trap_exit(true, NULL);
  cotp_pid sup = tsup_intensity(0, 3600);
  cotp_task_child_opts o = COTP_TASK_CHILD_OPTS_INIT;
  o.restart = COTP_TRANSIENT;
  /* a normal end is no restart: the supervisor takes more tasks */
  cotp_pid p;
  cotp_assert_rc(cotp_task_supervisor_start_child(S(sup), count_and_exit,
                                                  (void *)(uintptr_t)COTP_ATOM_NORMAL.w, &o,
                                                  &p),
                 0);
  down_reason(p);
  for (int i = 0; i < 500 && counts(sup).active; i++)
    cotp_sleep(2);
  cr_assert_eq(counts(sup).active, 0);
  /* one crash, with max_restarts 0, is one restart too many */
  cotp_assert_rc(cotp_task_supervisor_start_child(S(sup), count_and_exit,
                                                  (void *)(uintptr_t)COTP_ATOM(boom).w, &o,
                                                  NULL),
                 0);
  cotp_assert_term_eq(cotp_test_exit_from(sup, 5000), COTP_ATOM_SHUTDOWN);
  cr_assert_eq(atomic_load(&task_starts), 2);
}

COTP_TEST(task_supervisor, max_restarts_and_max_seconds_are_checked_at_start) {
  /* the options reach the supervisor: bad values are its start errors */
  cotp_task_supervisor_opts o = COTP_TASK_SUPERVISOR_OPTS_INIT;
  o.max_seconds = 0;
  cotp_term reason = COTP_NONE;
  cotp_trap_exit(true, NULL);
  cotp_assert_rc(cotp_task_supervisor_start_link(&o, NULL, &reason), COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reason, cotp_test_parse("{:supervisor_data, {:invalid_period, 0}}"));
  o = (cotp_task_supervisor_opts)COTP_TASK_SUPERVISOR_OPTS_INIT;
  o.max_restarts = -1;
  cotp_assert_rc(cotp_task_supervisor_start_link(&o, NULL, &reason), COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reason, cotp_test_parse("{:supervisor_data, {:invalid_intensity, -1}}"));
}

/* --- stream shutdown (G16) --- */

static void g16_refuses(int64_t shutdown, bool linked) {
  cotp_pid sup = tsup(COTP_INFINITY);
  cotp_server s = S(sup);
  cotp_iter_range r;
  cotp_iter *out = NULL;
  cotp_error err = {0};
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  o.shutdown = shutdown;
  int rc = linked ? cotp_task_supervisor_async_stream(&s, cotp_iter_range_init(&r, 1, 3, 1),
                                                      square, NULL, &o, &out, &err)
                  : cotp_task_supervisor_async_stream_nolink(
                        &s, cotp_iter_range_init(&r, 1, 3, 1), square, NULL, &o, &out, &err);
  cotp_assert_rc(rc, COTP_EINVAL);
  cr_assert_str_eq(err.message,
                   ":shutdown must be either a positive integer or COTP_TASK_BRUTAL_KILL");
  cr_assert_null(out);
  cotp_assert_term_eq(cotp_task_supervisor_children(s), COTP_NIL);
}

COTP_TEST(task_supervisor, g16_async_stream_refuses_a_bad_shutdown) {
  g16_refuses(-5, true);
  g16_refuses(COTP_INFINITY, true);          /* Elixir refuses :infinity */
  g16_refuses(COTP_SHUTDOWN_DEFAULT, false); /* not a stream value */
  g16_refuses(INT64_MIN, false);
  /* Task.async_stream checks it too */
  cotp_iter_range r;
  cotp_iter *out = NULL;
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  o.shutdown = -7;
  cotp_assert_rc(cotp_task_async_stream(cotp_iter_range_init(&r, 1, 3, 1), square, NULL, &o,
                                        &out, NULL),
                 COTP_EINVAL);
}

/* A stream task that traps exits, tells the terminator its pid, and on
 * the supervisor's :shutdown tells the consumer it cleaned up and exits
 * with :shutdown. */
static cotp_pid g16_root;
static cotp_term trapping_item(cotp_term x, void *ctx) {
  cotp_pid terminator = *(cotp_pid *)ctx;
  cotp_trap_exit(true, NULL);
  cotp_send(terminator, cotp_pid_term(cotp_self()));
  cotp_clause c = {cotp_test_pattern("{:EXIT, _, :shutdown}"), NULL, NULL};
  cotp_receive_match(&c, 1, COTP_INFINITY, 0, NULL);
  cotp_send(g16_root, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(cleaned_up), x));
  cotp_exit(COTP_ATOM_SHUTDOWN);
}

/* Terminates the first task whose pid it is sent. */
static void terminator(void *arg) {
  cotp_pid sup = *(cotp_pid *)arg;
  cotp_term m;
  cotp_receive(COTP_INFINITY, &m);
  cotp_task_supervisor_terminate_child(S(sup), cotp_get_pid(m));
}

static void g16_terminated(int64_t shutdown, const char *want) {
  g16_root = cotp_self();
  cotp_pid sup = tsup(COTP_INFINITY);
  cotp_server s = S(sup);
  cotp_pid term;
  cotp_spawn_opts so = COTP_SPAWN_OPTS_INIT;
  so.arg_size = sizeof sup;
  cotp_assert_rc(cotp_spawn_opt(terminator, &sup, &so, &term), 0);
  cotp_iter_range r;
  cotp_iter *out;
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  o.shutdown = shutdown;
  o.timeout_ms = COTP_INFINITY;
  cotp_assert_rc(cotp_task_supervisor_async_stream_nolink(
                     &s, cotp_iter_range_init(&r, 7, 7, 1), trapping_item, &term, &o, &out,
                     NULL),
                 0);
  cotp_term x;
  cr_assert_eq(cotp_iter_next(out, h(), &x), 1);
  cotp_assert_term_eq(x, cotp_test_parse(want));
  cr_assert_eq(cotp_iter_next(out, h(), &x), 0);
  cotp_iter_close(out);
}

COTP_TEST(task_supervisor, g16_stream_task_shutdown_timeout_lets_a_trapping_task_clean_up) {
  /* the task gets :shutdown and the time to act on it; it cleaned up
   * before it exited, so its message is queued before its result */
  g16_terminated(5000, "{:exit, :shutdown}");
  cotp_clause c = {cotp_test_pattern("{:cleaned_up, 7}"), NULL, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 0, 0, NULL), 0);
}

COTP_TEST(task_supervisor, g16_stream_task_shutdown_brutal_kill_kills_at_once) {
  g16_terminated(COTP_TASK_BRUTAL_KILL, "{:exit, :killed}");
  cotp_test_refute_received("{:cleaned_up, _}", 0);
}

/* --- Task's child spec (F40, F41) --- */

/* Tells the root {:task_ran, pid}, then ends as its argument says (an
 * atom: :normal returns, anything else is the exit reason) after a :go. */
static cotp_term run_once(void *arg) {
  cotp_send(test_root, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(task_ran),
                                  cotp_pid_term(cotp_self())));
  cotp_clause c = {cotp_test_pattern(":go"), NULL, NULL};
  cotp_receive_match(&c, 1, COTP_INFINITY, 0, NULL);
  cotp_term reason = {(uint64_t)(uintptr_t)arg};
  if (reason.w == COTP_ATOM_NORMAL.w)
    return COTP_ATOM_OK;
  cotp_exit(reason);
}

static cotp_pid task_ran(void) {
  cotp_clause c = {cotp_test_pattern("{:task_ran, _}"), NULL, NULL};
  cotp_term m;
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, &m), 0);
  return cotp_get_pid(cotp_tuple_get(m, 1));
}

static void await_no_children(cotp_pid sup) {
  for (int i = 0; i < 500 && counts(sup).specs; i++)
    cotp_sleep(2);
  cr_assert_eq(counts(sup).specs, 0);
}

COTP_TEST(task_supervisor, f40_task_child_spec_is_temporary_under_a_supervisor) {
  test_root = cotp_self();
  cotp_child_spec spec = cotp_task_child_spec(COTP_NONE, run_once,
                                              (void *)(uintptr_t)COTP_ATOM(boom).w);
  cotp_pid sup;
  cotp_assert_rc(cotp_supervisor_start_link_children(&spec, 1, NULL, NULL, &sup, NULL), 0);
  /* Elixir's Task.child_spec(arg): id Task, restart :temporary */
  cotp_term map;
  cotp_assert_rc(cotp_supervisor_get_childspec(S(sup), cotp_atom("Elixir.Task"), &map), 0);
  cotp_assert_term_eq(cotp_map_get(map, COTP_ATOM(restart)), COTP_ATOM(temporary));
  cotp_assert_term_eq(cotp_map_get(map, COTP_ATOM(type)), COTP_ATOM(worker));
  cotp_assert_term_eq(cotp_map_get(map, COTP_ATOM(shutdown)), cotp_int(h(), 5000));
  /* it runs under the supervisor (F41) */
  cotp_pid p = task_ran();
  cr_assert_eq(child_pid(sup, cotp_atom("Elixir.Task")).bits, p.bits);
  cr_assert(linked_to(p, sup));
  /* a crash is not restarted, and the spec is forgotten */
  cotp_send(p, COTP_ATOM(go));
  down_reason(p);
  await_no_children(sup);
  cotp_test_refute_received("{:task_ran, _}", 50);
  cr_assert(cotp_is_alive(sup));
}

COTP_TEST(task_supervisor, f40_task_child_spec_restart_can_be_overridden) {
  /* `use Task, restart: :transient`: a crash is restarted, a normal end
   * is not */
  test_root = cotp_self();
  cotp_child_spec spec = cotp_task_child_spec(COTP_ATOM(worker_task), run_once,
                                              (void *)(uintptr_t)COTP_ATOM(boom).w);
  spec.restart = COTP_TRANSIENT;
  cotp_pid sup;
  cotp_assert_rc(cotp_supervisor_start_link_children(&spec, 1, NULL, NULL, &sup, NULL), 0);
  cotp_pid p = task_ran();
  cotp_send(p, COTP_ATOM(go));
  cotp_pid q = task_ran();
  cr_assert_neq(q.bits, p.bits);
  cr_assert_eq(child_pid(sup, COTP_ATOM(worker_task)).bits, q.bits);
  cotp_exit_signal(q, COTP_ATOM_SHUTDOWN);
  down_reason(q);
  cotp_test_refute_received("{:task_ran, _}", 50);
}

COTP_TEST(task_supervisor, f40_task_child_spec_without_a_function_is_refused) {
  cotp_child_spec spec = cotp_task_child_spec(COTP_NONE, NULL, NULL);
  cotp_term reason = COTP_NONE;
  cotp_trap_exit(true, NULL);
  cotp_assert_rc(cotp_supervisor_start_link_children(&spec, 1, NULL, NULL, NULL, &reason),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reason, cotp_test_parse("{:start_spec, :missing_start}"));
}
