/* SPDX-License-Identifier: Apache-2.0 */
/* Bare messages (proc.h): a DOWN for a normal exit and a reply {alias, v}
 * with v an immediate travel as their parts, and read everywhere as the
 * whole tuples; the others travel as they always did. */
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

/* What the oldest message in the caller's private queue that is a DOWN of
 * ref (size 5) or a reply {ref, _} (size 2) is: 1 bare, 0 whole, -1 none
 * there.  A receive that matches nothing drains the inbox into that queue
 * first. */
static bool match_nothing(cotp_term msg, void *ctx) {
  (void)msg, (void)ctx;
  return false;
}
static int queued(size_t size, cotp_term ref) {
  cotp_receive_if(match_nothing, NULL, 0, 0, NULL);
  uint64_t buf[BARE_MAX_WORDS];
  for (struct cotp__sig *s = cotp__proc_self()->mq_head; s; s = s->next) {
    cotp_term t = msg_term((struct cotp__msg *)s, buf);
    if (cotp_tuple_size(t) == size && cotp_tuple_get(t, size == 5).w == ref.w &&
        (size == 2 || cotp_tuple_get(t, 0).w == COTP_ATOM_DOWN.w))
      return is_bare(s);
  }
  return -1;
}
static int queued_down(cotp_term ref) { return queued(5, ref); }

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

COTP_TEST(bare, a_normal_down_travels_bare_and_reads_whole) {
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
COTP_TEST(bare, other_downs_travel_whole) {
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

COTP_TEST(bare, demonitor_flush_takes_a_bare_down_out) {
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
COTP_TEST(bare, a_bare_down_carries_the_links_exit) {
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
static cotp_pid reply_to; /* the test's process */
static cotp_term held;

/* Spawns handler, and peer, and tells handler peer's pid. */
static cotp_pid handler_told_of(cotp_handler_fn *handler, cotp_entry *peer,
                                cotp_pid *peer_pid) {
  reply_to = cotp_self();
  cotp_pid h;
  cotp_assert_rc(cotp_spawn_handler(handler, NULL, NULL, &h), 0);
  cotp_assert_rc(cotp_spawn(peer, NULL, peer_pid), 0);
  cotp_send(h, cotp_pid_term(*peer_pid));
  return h;
}

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

COTP_TEST(bare, a_handler_reads_a_bare_down_and_may_hibernate_on_it) {
  cotp_pid watched, handler = handler_told_of(watch_then_hibernate, returns, &watched);
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

COTP_TEST(bare, bare_downs_left_in_a_mailbox_are_freed) {
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

/* --- replies --- */

/* Replies {alias, v} through the alias the message names, then waits. */
static void replier(void *arg) {
  (void)arg;
  cotp_term msg;
  cotp_receive(COTP_INFINITY, &msg);
  cotp_send_alias(cotp_tuple_get(msg, 0), msg);
  cotp_receive(COTP_INFINITY, NULL);
}

static cotp_term reply_through(cotp_pid pid, cotp_term alias, cotp_term v) {
  cotp_send(pid, COTP_TUPLE(cotp_self_heap(), alias, v));
  for (int i = 0; i < 10000 && queued(2, alias) < 0; i++)
    cotp_sleep(1);
  return alias;
}

COTP_TEST(bare, a_reply_of_an_immediate_travels_bare_and_reads_whole) {
  cotp_heap *h = cotp_self_heap();
  cotp_pid pid;
  cotp_assert_rc(cotp_spawn(replier, NULL, &pid), 0);
  cotp_term alias;
  cotp_assert_rc(cotp_alias(0, &alias), 0);
  reply_through(pid, alias, cotp_int(h, 42));
  cr_assert_eq(queued(2, alias), 1);
  cotp_term want = COTP_TUPLE(h, alias, cotp_int(h, 42));
  cotp_term msgs, got;
  cotp_assert_rc(cotp_process_info(cotp_self(), COTP_ATOM(messages), &msgs), 0);
  cotp_assert_term_eq(msgs, COTP_LIST(h, want));
  cotp_term bind[1] = {alias};
  cotp_clause c = {cotp_test_pattern("{^ref, 42}"), bind, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 0, 0, &got), 0);
  cotp_assert_term_eq(got, want);
  cotp_send(pid, COTP_ATOM(stop));
  cotp_unalias(alias);
}

/* A reply of anything else, or a message that does not start with the
 * alias it goes through, is whole. */
COTP_TEST(bare, other_alias_messages_travel_whole) {
  cotp_heap *h = cotp_self_heap();
  cotp_term alias, other, got;
  cotp_assert_rc(cotp_alias(0, &alias), 0);
  cotp_assert_rc(cotp_alias(0, &other), 0);
  cotp_term boxed = cotp_test_parse("{:a, [1, 2]}");
  cotp_term msgs[3] = {COTP_TUPLE(h, alias, boxed), COTP_TUPLE(h, other, cotp_int(h, 1)),
                       COTP_TUPLE(h, alias, cotp_int(h, 1), cotp_int(h, 2))};
  for (int i = 0; i < 3; i++) {
    cotp_assert_rc(cotp_send_alias(alias, msgs[i]), 0);
    cotp_receive_if(match_nothing, NULL, 0, 0, NULL);
    cr_assert(!is_bare(cotp__proc_self()->mq_head), "message %d", i);
    cotp_assert_rc(cotp_receive(0, &got), 0);
    cotp_assert_term_eq(got, msgs[i]);
  }
  cotp_unalias(alias);
  cotp_unalias(other);
}

/* A monitor with reply_demonitor ends with a bare reply from the
 * monitored process, and no DOWN follows it (B17). */
COTP_TEST(bare, a_bare_reply_ends_a_reply_demonitor_monitor) {
  cotp_heap *h = cotp_self_heap();
  cotp_pid pid;
  cotp_term ref, got;
  cotp_assert_rc(cotp_spawn(replier, NULL, &pid), 0);
  cotp_assert_rc(cotp_monitor_alias(pid, COTP_ALIAS_REPLY_DEMONITOR, &ref), 0);
  reply_through(pid, ref, COTP_ATOM(done));
  cr_assert_eq(queued(2, ref), 1);
  cotp_assert_rc(cotp_receive(0, &got), 0);
  cotp_assert_term_eq(got, COTP_TUPLE(h, ref, COTP_ATOM(done)));
  cotp_send(pid, COTP_ATOM(stop));
  cr_assert_eq(cotp_receive(100, &got), COTP_ETIMEDOUT, "no DOWN");
  /* and the alias is off: a second reply is dropped */
  cotp_assert_rc(cotp_send_alias(ref, COTP_TUPLE(h, ref, cotp_int(h, 2))), 0);
  cr_assert_eq(cotp_receive(50, &got), COTP_ETIMEDOUT);
}

/* A handler gets a bare reply whole: told a replier's pid, it makes an
 * alias and has the replier answer through it; the answer it forwards. */
static bool ask_and_forward(void *state, cotp_term msg) {
  (void)state;
  cotp_heap *h = cotp_self_heap();
  if (cotp_is_pid(msg)) {
    cotp_term alias;
    cotp_alias(0, &alias);
    cotp_send(cotp_get_pid(msg), COTP_TUPLE(h, alias, cotp_int(h, -7)));
    return true;
  }
  cotp_send(reply_to, COTP_TUPLE(h, COTP_ATOM(seen), msg));
  return true;
}

COTP_TEST(bare, a_handler_reads_a_bare_reply) {
  cotp_pid pid, handler = handler_told_of(ask_and_forward, replier, &pid);
  cotp_term got;
  cotp_assert_rc(cotp_receive(10000, &got), 0);
  cotp_term reply = cotp_tuple_get(got, 1);
  cotp_assert_term_eq(cotp_tuple_get(got, 0), COTP_ATOM(seen));
  cr_assert(cotp_is_ref(cotp_tuple_get(reply, 0)));
  cotp_assert_term_eq(cotp_tuple_get(reply, 1), cotp_int(NULL, -7));
  cotp_send(pid, COTP_ATOM(stop));
  cotp_exit_signal(handler, COTP_ATOM_KILL);
}
