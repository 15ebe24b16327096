/* SPDX-License-Identifier: Apache-2.0 */
/* Task.Supervisor (G1, G3-G15, G17), also through a PartitionSupervisor. */
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

COTP_TEST(task_supervisor, g15_nolink_stream_emits_exits) {
  cotp_pid sup = tsup(COTP_INFINITY);
  cotp_server s = S(sup);
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
