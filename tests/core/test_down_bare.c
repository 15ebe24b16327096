/* SPDX-License-Identifier: Apache-2.0 */
/* Bare DOWNs (proc.h): a DOWN for a normal exit travels as its parts and
 * reads everywhere as the whole {:DOWN, ref, :process, pid, :normal}; the
 * others travel as they always did. */
#include "core/sched.h"
#include "harness.h"

/* Processes that wait for a message (the caller monitors them first),
 * then return or exit with the reason arg points to. */
static void returns(void *arg) {
  (void)arg;
  cotp_receive(COTP_INFINITY, NULL);
}

static void exits_with(void *arg) {
  cotp_receive(COTP_INFINITY, NULL);
  cotp_exit(*(cotp_term *)arg);
}

/* What the oldest DOWN of ref in the caller's private queue is: 1 bare, 0
 * whole, -1 none there.  A receive that matches nothing drains the inbox
 * into that queue first. */
static bool match_nothing(cotp_term msg, void *ctx) {
  (void)msg, (void)ctx;
  return false;
}
static int queued_down(cotp_term ref) {
  cotp_receive_if(match_nothing, NULL, 0, 0, NULL);
  uint64_t buf[BARE_DOWN_WORDS];
  for (struct cotp__sig *s = cotp__proc_self()->mq_head; s; s = s->next) {
    cotp_term t = msg_term((struct cotp__msg *)s, buf);
    if (cotp_tuple_size(t) == 5 && cotp_tuple_get(t, 0).w == COTP_ATOM_DOWN.w &&
        cotp_tuple_get(t, 1).w == ref.w)
      return is_bare_down(s);
  }
  return -1;
}

/* Waits until pid is gone, its DOWN of ref queued (not taken). */
static void await_down_queued(cotp_term ref) {
  for (int i = 0; i < 10000 && queued_down(ref) < 0; i++)
    cotp_sleep(1);
  cr_assert_geq(queued_down(ref), 0, "the DOWN came");
}

static cotp_term down_of(cotp_term ref, cotp_pid pid, cotp_term reason) {
  return COTP_TUPLE(cotp_self_heap(), COTP_ATOM_DOWN, ref, COTP_ATOM_PROCESS,
                    cotp_pid_term(pid), reason);
}

COTP_TEST(down_bare, a_normal_down_travels_bare_and_reads_whole) {
  cotp_pid pid;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn(returns, NULL, &pid), 0);
  cotp_assert_rc(cotp_monitor(pid, &ref), 0);
  cotp_send(pid, COTP_ATOM(go));
  await_down_queued(ref);
  cr_assert_eq(queued_down(ref), 1);
  cotp_term want = down_of(ref, pid, COTP_ATOM_NORMAL);
  /* process_info(self(), :messages) shows it whole */
  cotp_term msgs;
  cotp_assert_rc(cotp_process_info(cotp_self(), COTP_ATOM(messages), &msgs), 0);
  cotp_assert_term_eq(msgs, COTP_LIST(cotp_self_heap(), want));
  /* a pattern matches it as the tuple it stands for */
  cotp_term bind[2] = {ref, cotp_pid_term(pid)};
  cotp_clause c = {cotp_test_pattern("{:DOWN, ^ref, :process, ^pid, :normal}"), bind, NULL};
  cotp_term got;
  cotp_assert_rc(cotp_receive_match(&c, 1, 0, 0, &got), 0);
  cotp_assert_term_eq(got, want);
  cr_assert_eq(queued_down(ref), -1, "taken");
}

/* Every other DOWN is whole: another reason, a name's object, noproc. */
COTP_TEST(down_bare, other_downs_travel_whole) {
  cotp_heap *h = cotp_self_heap();
  cotp_term reasons[3] = {COTP_ATOM(shutdown), COTP_TUPLE(h, COTP_ATOM(shutdown), cotp_int(h, 7)),
                          COTP_ATOM_KILLED};
  for (int i = 0; i < 3; i++) {
    cotp_pid pid;
    cotp_term ref, got;
    cotp_assert_rc(cotp_spawn(exits_with, &reasons[i], &pid), 0);
    cotp_assert_rc(cotp_monitor(pid, &ref), 0);
    cotp_send(pid, COTP_ATOM(go));
    await_down_queued(ref);
    cr_assert_eq(queued_down(ref), 0, "reason %d", i);
    cotp_assert_rc(cotp_receive(0, &got), 0);
    cotp_assert_term_eq(got, down_of(ref, pid, reasons[i]));
  }
  /* monitored by name: the object is {name, node} */
  cotp_pid pid;
  cotp_term ref, got;
  cotp_assert_rc(cotp_spawn(returns, NULL, &pid), 0);
  cotp_assert_rc(cotp_register(COTP_ATOM(bare_down_named), pid), 0);
  cotp_assert_rc(cotp_monitor_name(COTP_ATOM(bare_down_named), &ref), 0);
  cotp_send(pid, COTP_ATOM(go));
  await_down_queued(ref);
  cr_assert_eq(queued_down(ref), 0);
  cotp_assert_rc(cotp_receive(0, &got), 0);
  cotp_assert_term_eq(cotp_tuple_get(got, 3),
                      cotp_test_parse("{:bare_down_named, :nonode@nohost}"));
  /* monitoring the dead: noproc */
  cotp_assert_rc(cotp_monitor(pid, &ref), 0);
  await_down_queued(ref);
  cr_assert_eq(queued_down(ref), 0);
  cotp_assert_rc(cotp_receive(0, &got), 0);
  cotp_assert_term_eq(got, down_of(ref, pid, COTP_ATOM_NOPROC));
}

COTP_TEST(down_bare, demonitor_flush_takes_a_bare_down_out) {
  cotp_pid pid;
  cotp_term ref, other, got;
  cotp_assert_rc(cotp_spawn(returns, NULL, &pid), 0);
  cotp_assert_rc(cotp_monitor(pid, &ref), 0);
  cotp_assert_rc(cotp_monitor(pid, &other), 0);
  cotp_send(pid, COTP_ATOM(go));
  await_down_queued(other);
  cr_assert_eq(queued_down(ref), 1);
  cotp_assert_rc(cotp_demonitor(ref, COTP_DEMONITOR_FLUSH), 0);
  cr_assert_eq(queued_down(ref), -1);
  cotp_assert_rc(cotp_receive(0, &got), 0);
  cotp_assert_term_eq(got, down_of(other, pid, COTP_ATOM_NORMAL));
  cr_assert_eq(cotp_receive(0, &got), COTP_ETIMEDOUT);
}

/* A child spawned linked and monitored by a parent that traps exits: the
 * bare DOWN carries the link's exit, which comes out first. */
COTP_TEST(down_bare, a_bare_down_carries_the_links_exit) {
  cotp_assert_rc(cotp_trap_exit(true, NULL), 0);
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  cotp_term ref, got;
  o.link = o.monitor = true;
  o.monitor_ref = &ref;
  cotp_pid pid;
  cotp_assert_rc(cotp_spawn_opt(returns, NULL, &o, &pid), 0);
  cotp_send(pid, COTP_ATOM(go));
  cotp_assert_rc(cotp_receive(10000, &got), 0);
  cotp_assert_term_eq(got, COTP_TUPLE(cotp_self_heap(), COTP_ATOM_EXIT, cotp_pid_term(pid),
                                      COTP_ATOM_NORMAL));
  cotp_assert_rc(cotp_receive(10000, &got), 0);
  cotp_assert_term_eq(got, down_of(ref, pid, COTP_ATOM_NORMAL));
  cotp_assert_rc(cotp_trap_exit(false, NULL), 0);
}

/* A handler gets a bare DOWN whole, and one that hibernates while handling
 * it keeps it valid (the tuple was made in the heap hibernation keeps). */
static cotp_pid reply_to;
static cotp_term held;

static void after_hibernating(void *arg) {
  (void)arg;
  cotp_term msg;
  cotp_receive(COTP_INFINITY, &msg);
  cotp_send(reply_to, COTP_TUPLE(cotp_self_heap(), held, msg));
}

static bool watch_then_hibernate(void *state, cotp_term msg) {
  (void)state;
  if (cotp_is_pid(msg)) { /* the process to watch */
    cotp_term ref;
    cotp_monitor(cotp_get_pid(msg), &ref);
    cotp_send(cotp_get_pid(msg), COTP_ATOM(go));
    return true;
  }
  cotp_send(reply_to, msg); /* the DOWN, as handle sees it */
  held = msg;
  cotp_hibernate(after_hibernating, NULL);
}

COTP_TEST(down_bare, a_handler_reads_a_bare_down_and_may_hibernate_on_it) {
  reply_to = cotp_self();
  cotp_pid handler, watched;
  cotp_assert_rc(cotp_spawn_handler(watch_then_hibernate, NULL, NULL, &handler), 0);
  cotp_assert_rc(cotp_spawn(returns, NULL, &watched), 0);
  cotp_send(handler, cotp_pid_term(watched));
  cotp_term down, pair;
  cotp_assert_rc(cotp_receive(10000, &down), 0);
  cr_assert_eq(cotp_tuple_size(down), 5);
  cotp_assert_term_eq(cotp_tuple_get(down, 0), COTP_ATOM_DOWN);
  cotp_assert_term_eq(cotp_tuple_get(down, 3), cotp_pid_term(watched));
  cotp_assert_term_eq(cotp_tuple_get(down, 4), COTP_ATOM_NORMAL);
  cotp_sleep(2);
  cotp_send(handler, COTP_ATOM(later));
  cotp_assert_rc(cotp_receive(10000, &pair), 0);
  cotp_assert_term_eq(pair, COTP_TUPLE(cotp_self_heap(), down, COTP_ATOM(later)));
}

/* A process that exits with bare DOWNs never taken frees them (the leak
 * check of the sanitizer builds runs over this). */
static void watches_and_leaves(void *arg) {
  cotp_pid *pids = arg;
  for (int i = 0; i < 8; i++) {
    cotp_term ref;
    cotp_monitor(pids[i], &ref);
  }
  for (int i = 0; i < 8; i++)
    cotp_send(pids[i], COTP_ATOM(go));
  cotp_sleep(5);
}

COTP_TEST(down_bare, bare_downs_left_in_a_mailbox_are_freed) {
  static cotp_pid pids[8];
  for (int i = 0; i < 8; i++)
    cotp_assert_rc(cotp_spawn(returns, NULL, &pids[i]), 0);
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  cotp_term ref, got;
  o.monitor = true;
  o.monitor_ref = &ref;
  cotp_assert_rc(cotp_spawn_opt(watches_and_leaves, pids, &o, NULL), 0);
  cotp_assert_rc(cotp_receive(10000, &got), 0);
  cotp_assert_term_eq(cotp_tuple_get(got, 4), COTP_ATOM_NORMAL);
}
