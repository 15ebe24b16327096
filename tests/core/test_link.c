/* SPDX-License-Identifier: Apache-2.0 */
/* Links: unlink, the unlink handshake, noproc, cleanup (A14-A18, A28). */
#include <stdatomic.h>

#include "core/ext.h"
#include "harness.h"

static cotp_pid root;

/* A message from a child: the first one matching src, its captures. */
static void await(const char *src, cotp_term *caps, int64_t ms) {
  cotp_assert_rc(cotp_receive_match(&(cotp_clause){cotp_test_pattern(src), NULL, caps}, 1, ms, 0, NULL), 0);
}

/* Waits for :die, then exits with :boom. */
static void dies_when_told(void *arg) {
  (void)arg;
  cotp_clause c = {cotp_pattern_cached(":die", NULL), NULL, NULL};
  cotp_receive_match(&c, 1, COTP_INFINITY, 0, NULL);
  cotp_exit(COTP_ATOM(boom));
}

static cotp_term info(cotp_pid pid, const char *item) {
  cotp_term out;
  cotp_assert_rc(cotp_process_info(pid, cotp_atom(item), &out), 0);
  return out;
}

static cotp_term list1(cotp_pid pid) {
  return COTP_LIST(cotp_self_heap(), cotp_pid_term(pid));
}

/* process_info(pid, item) becomes want within a second (for what another
 * process does on its own time, like forgetting a dead monitor). */
static void eventually_info(cotp_pid pid, const char *item, cotp_term want) {
  cotp_term got = COTP_NONE;
  for (int i = 0; i < 1000; i++) {
    got = info(pid, item);
    if (cotp_term_eq(got, want))
      return;
    cotp_sleep(1);
  }
  cotp_assert_term_eq(got, want);
}

/* A14: an exit signal from a link that is gone is dropped: after unlink,
 * the other side's death, normal or not, does nothing to the caller. */
static void unlinks_then_outlives(void *arg) {
  bool traps = arg != NULL;
  cotp_trap_exit(traps, NULL);
  cotp_pid b;
  cotp_term ref;
  cotp_spawn_link(dies_when_told, NULL, &b);
  cotp_monitor(b, &ref);
  cotp_unlink(b);
  cotp_send(b, COTP_ATOM(die));
  /* the DOWN comes after any exit signal b sent us (same channel) */
  cotp_term pins[2] = {ref, cotp_pid_term(b)};
  cotp_clause c = {cotp_pattern_cached("{:DOWN, ^ref, :process, ^pid, _}", NULL), pins, NULL};
  cotp_receive_match(&c, 1, 10000, 0, NULL);
  cotp_send(root, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(survived),
                             cotp_int(cotp_self_heap(), (int64_t)cotp_mailbox_length())));
  cotp_test_idle(NULL);
}

COTP_TEST(link, a14_exit_from_a_removed_link_is_dropped) {
  root = cotp_self();
  for (int traps = 0; traps < 2; traps++) {
    cotp_pid a;
    cotp_term ref, n;
    cotp_assert_rc(cotp_spawn_monitor(unlinks_then_outlives, traps ? (void *)1 : NULL,
                                      &a, &ref), 0);
    await("{:survived, n}", &n, 5000);
    cr_assert_eq(cotp_int_value(n), 0, "no {:EXIT, b, _} for a trapper either");
    cr_assert(cotp_is_alive(a));
    cotp_exit_signal(a, COTP_ATOM_KILL);
    cotp_assert_term_eq(cotp_test_down_of(ref, a), COTP_ATOM_KILLED);
  }
}

/* The other side of A14: the process that was unlinked outlives the
 * unlinker's death. */
static void links_unlinks_and_dies(void *arg) {
  cotp_pid b = *(cotp_pid *)arg;
  cotp_link(b);
  cotp_unlink(b);
  cotp_exit(COTP_ATOM(boom));
}

COTP_TEST(link, a14_unlinked_side_outlives_the_unlinker) {
  root = cotp_self();
  static cotp_pid b;
  cotp_term bref, aref;
  cotp_assert_rc(cotp_spawn_monitor(cotp_test_idle, NULL, &b, &bref), 0);
  for (int i = 0; i < 100; i++) {
    cotp_pid a;
    cotp_assert_rc(cotp_spawn_monitor(links_unlinks_and_dies, &b, &a, &aref), 0);
    cotp_assert_term_eq(cotp_test_down_of(aref, a), COTP_ATOM(boom));
  }
  cotp_test_refute_received("{:DOWN, _, _, _, _}", 20);
  cr_assert(cotp_is_alive(b));
  cotp_assert_term_eq(info(b, "links"), COTP_NIL);
}

/* A15 race: a (non-trapping or trapping) process links b, tells it to
 * die and unlinks at once.  The exit may come before unlink (then a dies,
 * or a trapper finds the {:EXIT, b, _} queued), never after it returns. */
static _Atomic bool unlink_returned;

/* How many {:EXIT, b, _} the caller has in its mailbox. */
static int64_t exits_queued(cotp_pid b) {
  cotp_term msgs, pin = cotp_pid_term(b);
  cotp_process_info(cotp_self(), COTP_ATOM(messages), &msgs);
  int64_t n = 0;
  for (; cotp_is_cons(msgs); msgs = cotp_tail(msgs))
    n += cotp_match(cotp_pattern_cached("{:EXIT, ^b, _}", NULL), cotp_head(msgs), &pin, NULL);
  return n;
}

static void races_unlink(void *arg) {
  bool traps = arg != NULL;
  cotp_trap_exit(traps, NULL);
  cotp_heap *h = cotp_self_heap();
  cotp_pid b;
  cotp_term ref;
  cotp_spawn_link(dies_when_told, NULL, &b);
  cotp_monitor(b, &ref);
  cotp_send(b, COTP_ATOM(die));
  for (int i = 0; i < (int)(cotp_self().bits % 7); i++)
    cotp_yield(); /* vary the moment */
  cotp_unlink(b);
  atomic_store(&unlink_returned, true);
  int64_t before = exits_queued(b); /* one here was queued before */
  cotp_term pins[2] = {ref, cotp_pid_term(b)};
  cotp_clause c = {cotp_pattern_cached("{:DOWN, ^ref, :process, ^pid, _}", NULL), pins, NULL};
  cotp_receive_match(&c, 1, 10000, 0, NULL);
  int64_t after = exits_queued(b);
  cotp_send(root, COTP_TUPLE(h, COTP_ATOM(survived), cotp_int(h, before),
                             cotp_int(h, after)));
}

COTP_TEST(link, a15_no_exit_takes_effect_after_unlink_returns) {
  root = cotp_self();
  cotp_heap *h = cotp_self_heap();
  int died_before = 0, queued_before = 0;
  for (int i = 0; i < 400; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    bool traps = i % 2;
    atomic_store(&unlink_returned, false);
    cotp_pid a;
    cotp_term ref, caps[2], msg;
    cotp_assert_rc(cotp_spawn_monitor(races_unlink, traps ? (void *)1 : NULL, &a, &ref), 0);
    cotp_term pins[2] = {ref, cotp_pid_term(a)};
    cotp_clause c[2] = {{cotp_test_pattern("{:survived, before, after}"), NULL, caps},
                        {cotp_test_pattern("{:DOWN, ^ref, :process, ^pid, _}"), pins, NULL}};
    int which = cotp_receive_match(c, 2, 10000, 0, &msg);
    cr_assert_geq(which, 0);
    if (which == 1) {
      /* killed by b's exit: only possible before unlink returned */
      cr_assert(!traps);
      cotp_assert_term_eq(cotp_tuple_get(msg, 4), COTP_ATOM(boom));
      cr_assert(!atomic_load(&unlink_returned), "iteration %d: {:EXIT, b, :boom} took "
                "effect after unlink returned", i);
      died_before++;
    } else {
      int64_t before = cotp_int_value(caps[0]), after = cotp_int_value(caps[1]);
      cr_assert(before <= (traps ? 1 : 0));
      cr_assert_eq(after, before, "iteration %d: an {:EXIT, b, _} arrived after unlink", i);
      queued_before += (int)before;
      cotp_test_down_of(ref, a);
    }
    cotp_heap_release(h, m);
  }
  cr_log_info("a15: %d died before unlink, %d found it queued", died_before, queued_before);
}

/* A16: linking to a process that is not there: a trapper gets
 * {:EXIT, pid, :noproc}; any other caller gets COTP_ENOPROC (Erlang
 * raises noproc) and nothing else happens.  No link is left either way. */
static void return_at_once(void *arg) { (void)arg; }

static void return_after_yields(void *arg) {
  for (intptr_t i = 0; i < (intptr_t)arg; i++)
    cotp_yield();
}

COTP_TEST(link, a16_link_to_a_dead_process) {
  root = cotp_self();
  cotp_pid dead;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn_monitor(return_at_once, NULL, &dead, &ref), 0);
  cotp_test_down_of(ref, dead);
  cotp_assert_rc(cotp_link(dead), COTP_ENOPROC);
  cotp_test_refute_received("_", 20);
  cotp_assert_term_eq(info(root, "links"), COTP_NIL);
  cotp_assert_rc(cotp_trap_exit(true, NULL), 0);
  cotp_assert_rc(cotp_link(dead), 0);
  cotp_assert_term_eq(cotp_test_exit_from(dead, 1000), COTP_ATOM_NOPROC);
  cotp_test_refute_received("_", 20);
  cotp_assert_term_eq(info(root, "links"), COTP_NIL);
  cotp_pid never = cotp_pid_make(0, 1u << 20, 5); /* never handed out */
  cotp_assert_rc(cotp_link(never), 0);
  cotp_assert_term_eq(cotp_test_exit_from(never, 1000), COTP_ATOM_NOPROC);
}

/* A16, after the DOWN: a process whose DOWN has arrived is dead, so a
 * caller that does not trap exits gets COTP_ENOPROC from link at once
 * (Erlang raises noproc), never 0 followed by a {:EXIT, pid, :noproc}
 * signal that kills it.  The caller polls for the DOWN, so that it links
 * as early as it can. */
static void links_right_after_down(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  cotp_pid p;
  cotp_term ref;
  cotp_spawn_monitor(return_at_once, NULL, &p, &ref);
  cotp_term pins[2] = {ref, cotp_pid_term(p)};
  cotp_clause c = {cotp_pattern_cached("{:DOWN, ^ref, :process, ^pid, _}", NULL), pins, NULL};
  while (cotp_receive_match(&c, 1, 0, 0, NULL) != 0)
    ;
  int rc = cotp_link(p);
  cotp_send(root, COTP_TUPLE(h, COTP_ATOM(linked), cotp_int(h, rc)));
}

COTP_TEST(link, a16_link_after_down_is_noproc) {
  root = cotp_self();
  cotp_heap *h = cotp_self_heap();
  int n = cotp_test_sanitized() ? 2000 : 20000;
  for (int i = 0; i < n; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_term rc;
    cotp_assert_rc(cotp_spawn(links_right_after_down, NULL, NULL), 0);
    await("{:linked, rc}", &rc, 5000);
    cr_assert_eq(cotp_int_value(rc), COTP_ENOPROC,
                 "iteration %d: link to a process whose DOWN had arrived returned %s", i,
                 cotp_err_name((int)cotp_int_value(rc)));
    cotp_heap_release(h, m);
  }
}

/* A16 race: linking to a process as it exits gives exactly one EXIT:
 * its reason if the link was made in time, noproc if not. */
COTP_TEST(link, a16_link_to_an_exiting_process_gives_one_exit) {
  root = cotp_self();
  cotp_trap_exit(true, NULL);
  cotp_heap *h = cotp_self_heap();
  int noprocs = 0;
  for (int i = 0; i < 500; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_pid p;
    cotp_assert_rc(cotp_spawn(return_after_yields, (void *)(intptr_t)(i % 4), &p), 0);
    for (int y = 0; y < i % 3; y++)
      cotp_yield();
    cotp_assert_rc(cotp_link(p), 0);
    cotp_term r = cotp_test_exit_from(p, 5000);
    cr_assert(cotp_term_eq(r, COTP_ATOM_NORMAL) || cotp_term_eq(r, COTP_ATOM_NOPROC));
    noprocs += r.w == COTP_ATOM_NOPROC.w;
    cotp_heap_release(h, m);
  }
  cotp_test_refute_received("{:EXIT, _, _}", 20);
  cotp_assert_term_eq(info(root, "links"), COTP_NIL);
  cr_log_info("a16: %d of 500 noproc", noprocs);
}

/* A17 (signal_SUITE unlink_exit, OTP-18177): parent b unlinks child a,
 * tells it go and exits with bye, probably before a's unlink ack reached
 * it; a, trapping, links to b again when it gets go.  If b already looked
 * dead, a must see noproc, never bye; if not, either.  1,000 times; in a
 * quarter of them b lingers before exiting, so that a's link reaches it
 * alive and a gets bye. */
static cotp_pid a17_tester;
static _Atomic int a17_spin;

static void a17_busy_cleanup(void *arg) {
  (void)arg;
  /* b's termination takes a little while, so that a's link has a chance
   * to arrive during it */
  for (int i = 0; i < 2000; i++)
    atomic_fetch_add_explicit(&a17_spin, 1, memory_order_relaxed);
}

static void a17_child(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  cotp_set_priority(COTP_PRIORITY_HIGH, NULL);
  cotp_trap_exit(true, NULL);
  cotp_send(a17_tester, COTP_TUPLE(h, COTP_ATOM(child), cotp_pid_term(cotp_self())));
  cotp_term parent_t, tpin = cotp_pid_term(a17_tester);
  cotp_clause tp = {cotp_pattern_cached("{:tester_parent, ^t, pid}", NULL), &tpin, &parent_t};
  cotp_receive_match(&tp, 1, COTP_INFINITY, 0, NULL);
  cotp_pid parent = cotp_get_pid(parent_t);
  cotp_send(parent, COTP_TUPLE(h, COTP_ATOM(go), cotp_pid_term(cotp_self())));
  cotp_clause go = {cotp_pattern_cached("{:go, ^p}", NULL), &parent_t, NULL};
  while (cotp_receive_match(&go, 1, 0, 0, NULL) != 0)
    ; /* busy wait, as the original */
  bool alive = cotp_is_alive(parent);
  int rc = cotp_link(parent);
  if (rc != 0)
    cotp_exit(COTP_TUPLE(h, COTP_ATOM(link_failed), cotp_int(h, rc)));
  cotp_term reason;
  cotp_clause ex = {cotp_pattern_cached("{:EXIT, ^p, r}", NULL), &parent_t, &reason};
  if (cotp_receive_match(&ex, 1, 5000, 0, NULL) != 0)
    cotp_exit(alive ? COTP_ATOM(alive_missing_exit) : COTP_ATOM(not_alive_missing_exit));
  bool noproc = reason.w == COTP_ATOM_NOPROC.w;
  if (!alive && !noproc)
    cotp_exit(COTP_TUPLE(h, COTP_ATOM(not_alive_unexpected_exit_reason), reason));
  if (alive && !noproc && reason.w != COTP_ATOM(bye).w)
    cotp_exit(COTP_TUPLE(h, COTP_ATOM(alive_unexpected_exit_reason), reason));
  cotp_exit(COTP_TUPLE(h, COTP_ATOM_OK, cotp_bool(alive), reason));
}

static void a17_parent(void *arg) {
  intptr_t yields = (intptr_t)arg;
  cotp_set_priority(COTP_PRIORITY_HIGH, NULL);
  cotp_on_exit(a17_busy_cleanup, NULL);
  cotp_pid child;
  cotp_spawn_link(a17_child, NULL, &child);
  cotp_term cpin = cotp_pid_term(child);
  cotp_clause go = {cotp_pattern_cached("{:go, ^c}", NULL), &cpin, NULL};
  cotp_receive_match(&go, 1, COTP_INFINITY, 0, NULL);
  cotp_unlink(child);
  cotp_send(child, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(go), cotp_pid_term(cotp_self())));
  for (intptr_t i = 0; i < yields; i++)
    cotp_yield(); /* handles what comes meanwhile: a link, the ack */
  cotp_exit(COTP_ATOM(bye));
}

COTP_TEST(link, a17_unlink_then_relink_race_sees_noproc, .timeout = 60) {
  root = a17_tester = cotp_self();
  cotp_heap *h = cotp_self_heap();
  int counts[2][2] = {{0}}; /* [parent looked alive][reason was noproc] */
  for (int i = 0; i < 1000; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_pid parent, child;
    cotp_term pref, cref, c;
    /* most exit at once, as the original; some linger, handling signals */
    intptr_t yields = i % 4 == 3 ? 20 * (i % 16) : 0;
    cotp_assert_rc(cotp_spawn_monitor(a17_parent, (void *)yields, &parent, &pref), 0);
    await("{:child, c}", &c, 10000);
    child = cotp_get_pid(c);
    cotp_assert_rc(cotp_monitor(child, &cref), 0);
    cotp_send(child, COTP_TUPLE(h, COTP_ATOM(tester_parent), cotp_pid_term(root),
                                cotp_pid_term(parent)));
    cotp_assert_term_eq(cotp_test_down_of(pref, parent), COTP_ATOM(bye));
    cotp_term r = cotp_test_down_of(cref, child);
    if (!(cotp_tuple_size(r) == 3 && cotp_tuple_get(r, 0).w == COTP_ATOM_OK.w)) {
      char *s = cotp_term_to_string(r);
      cr_assert_fail("iteration %d: the child exited with %s", i, s ? s : "?");
    }
    bool alive = cotp_tuple_get(r, 1).w == COTP_ATOM_TRUE.w;
    bool noproc = cotp_tuple_get(r, 2).w == COTP_ATOM_NOPROC.w;
    counts[alive][noproc]++;
    cotp_heap_release(h, m);
  }
  cr_log_info("a17: looked dead: %d noproc; looked alive: %d noproc, %d bye",
              counts[0][1], counts[1][1], counts[1][0]);
}

/* A18: links are bidirectional and there is at most one per pair: linking
 * again does nothing, linking to oneself does nothing, one unlink removes
 * it from both sides. */
static void links_to_root(void *arg) {
  (void)arg;
  cotp_link(root);
  cotp_send(root, COTP_ATOM(linked));
  dies_when_told(NULL);
}

COTP_TEST(link, a18_one_bidirectional_link_per_pair) {
  root = cotp_self();
  cotp_trap_exit(true, NULL);
  cotp_pid p;
  cotp_assert_rc(cotp_spawn(cotp_test_idle, NULL, &p), 0);
  for (int i = 0; i < 3; i++)
    cotp_assert_rc(cotp_link(p), 0);
  cotp_assert_rc(cotp_link(root), 0); /* to oneself */
  cotp_assert_term_eq(info(root, "links"), list1(p));
  cotp_assert_term_eq(info(p, "links"), list1(root));
  cotp_assert_rc(cotp_unlink(p), 0);
  cotp_assert_term_eq(info(root, "links"), COTP_NIL);
  cotp_assert_term_eq(info(p, "links"), COTP_NIL);
  cotp_assert_rc(cotp_unlink(p), 0); /* no link: fine too */
  cotp_assert_rc(cotp_unlink(root), 0);

  /* linked from the other side, twice (both ways): one EXIT */
  cotp_pid q;
  cotp_assert_rc(cotp_spawn(links_to_root, NULL, &q), 0);
  await(":linked", NULL, 5000);
  cotp_assert_rc(cotp_link(q), 0);
  cotp_assert_term_eq(info(root, "links"), list1(q));
  cotp_assert_term_eq(info(q, "links"), list1(root));
  cotp_send(q, COTP_ATOM(die));
  cotp_assert_term_eq(cotp_test_exit_from(q, 5000), COTP_ATOM(boom));
  cotp_test_refute_received("{:EXIT, _, _}", 30);
  cotp_assert_term_eq(info(root, "links"), COTP_NIL);
  cotp_exit_signal(p, COTP_ATOM_KILL);
}

/* A28: a process that terminates leaves no trace: links, monitors and
 * monitored_by are cleaned up on both sides. */
static void monitors_root_and_dies(void *arg) {
  (void)arg;
  cotp_term ref;
  cotp_monitor(root, &ref);
  cotp_send(root, COTP_ATOM(monitoring));
  dies_when_told(NULL);
}

static void links_monitors_then_returns(void *arg) {
  cotp_pid s = *(cotp_pid *)arg;
  cotp_term ref;
  cotp_link(s);
  cotp_monitor(s, &ref);
  cotp_send(root, COTP_ATOM(ready));
  cotp_clause c = {cotp_pattern_cached(":die", NULL), NULL, NULL};
  cotp_receive_match(&c, 1, COTP_INFINITY, 0, NULL);
}

COTP_TEST(link, a28_terminated_process_leaves_no_links_or_monitors) {
  root = cotp_self();
  cotp_trap_exit(true, NULL);
  cotp_heap *h = cotp_self_heap();
  cotp_pid p;
  cotp_term ref;
  cotp_assert_term_eq(info(root, "monitors"), COTP_NIL);
  cotp_assert_term_eq(info(root, "monitored_by"), COTP_NIL);
  cotp_assert_rc(cotp_spawn_link(monitors_root_and_dies, NULL, &p), 0);
  cotp_assert_rc(cotp_monitor(p, &ref), 0);
  await(":monitoring", NULL, 5000);
  cotp_assert_term_eq(info(root, "links"), list1(p));
  cotp_assert_term_eq(info(root, "monitors"),
                      COTP_LIST(h, COTP_TUPLE(h, COTP_ATOM_PROCESS, cotp_pid_term(p))));
  cotp_assert_term_eq(info(root, "monitored_by"), list1(p));
  cotp_assert_term_eq(info(p, "links"), list1(root));
  cotp_assert_term_eq(info(p, "monitored_by"), list1(root));
  cotp_assert_term_eq(info(p, "monitors"),
                      COTP_LIST(h, COTP_TUPLE(h, COTP_ATOM_PROCESS, cotp_pid_term(root))));
  cotp_send(p, COTP_ATOM(die));
  cotp_assert_term_eq(cotp_test_exit_from(p, 5000), COTP_ATOM(boom));
  cotp_assert_term_eq(cotp_test_down_of(ref, p), COTP_ATOM(boom));
  cotp_assert_term_eq(info(root, "links"), COTP_NIL);
  cotp_assert_term_eq(info(root, "monitors"), COTP_NIL);
  eventually_info(root, "monitored_by", COTP_NIL);

  /* the other side is a third process, which never receives anything:
   * q links to it and monitors it, then exits normally */
  static cotp_pid survivor;
  cotp_pid q;
  cotp_assert_rc(cotp_spawn(cotp_test_idle, NULL, &survivor), 0);
  cotp_assert_rc(cotp_spawn_monitor(links_monitors_then_returns, &survivor, &q, &ref), 0);
  await(":ready", NULL, 5000);
  cotp_assert_term_eq(info(survivor, "links"), list1(q));
  cotp_assert_term_eq(info(survivor, "monitored_by"), list1(q));
  cotp_send(q, COTP_ATOM(die));
  cotp_assert_term_eq(cotp_test_down_of(ref, q), COTP_ATOM_NORMAL);
  eventually_info(survivor, "links", COTP_NIL);
  eventually_info(survivor, "monitored_by", COTP_NIL);
  cr_assert(cotp_is_alive(survivor));
  cotp_exit_signal(survivor, COTP_ATOM_KILL);
}

/* An unlink whose peer dies before handling it leaves nothing behind: the
 * dead peer acknowledges it (as every request to the dead is answered),
 * and the peer's exit signal, dropped as unlink promises, takes the entry
 * with it. */
COTP_TEST(link, unlink_of_a_dying_peer_leaves_no_entry) {
  struct cotp__proc *self = cotp__proc_lookup(cotp_self());
  /* The peer may die on the other scheduler and its exit signal reach us
   * before the unlink (which honours it first, A21): trapped, that is a
   * message, flushed below; what matters is the entry. */
  cotp_trap_exit(true, NULL);
  for (int round = 0; round < 20; round++) {
    cotp_pid p;
    cotp_assert_rc(cotp_spawn_link(cotp_test_idle, NULL, &p), 0);
    cotp_exit_signal(p, COTP_ATOM_KILL); /* queued before the unlink */
    cotp_assert_rc(cotp_unlink(p), 0);
    cotp_term msg;
    while (cotp_receive(5, &msg) == 0)
      cotp_assert_prints(cotp_tuple_get(msg, 0), ":EXIT");
    for (int i = 0; i < 1000 && self->ext->links.n; i++)
      cotp_sleep(1);
    cr_assert_eq(self->ext->links.n, 0, "round %d: a link entry left", round);
  }
}

/* --- a spawner that both links and monitors (a Task's owner) --- */

/* The child's exit signal to such a spawner travels inside its DOWN
 * (core/ext.h).  What the spawner sees must not change: the exit signal
 * acts first, as Erlang's decision table says, then the DOWN. */

/* Exits with the first message it gets as its reason. */
static void exits_with_what_it_gets(void *arg) {
  (void)arg;
  cotp_term reason;
  cotp_receive(COTP_INFINITY, &reason);
  cotp_exit(reason);
}

/* Spawns exits_with_what_it_gets linked and monitored, in one spawn. */
static cotp_pid spawn_linked_monitored(cotp_term *ref) {
  cotp_spawn_opts o = {.link = true, .monitor = true, .monitor_ref = ref};
  cotp_pid child;
  cotp_assert_rc(cotp_spawn_opt(exits_with_what_it_gets, NULL, &o, &child), 0);
  return child;
}

/* Trapping: {:EXIT, child, reason} arrives, then the DOWN, and the link is
 * gone; reason :normal too. */
COTP_TEST(link, spawner_that_links_and_monitors_gets_the_exit_then_the_down) {
  cotp_trap_exit(true, NULL);
  for (int normal = 0; normal < 2; normal++) {
    cotp_term ref;
    cotp_pid child = spawn_linked_monitored(&ref);
    cotp_assert_term_eq(info(cotp_self(), "links"), list1(child));
    cotp_term reason = normal ? COTP_ATOM_NORMAL : COTP_ATOM(boom);
    cotp_send(child, reason);
    cotp_term first, second;
    cotp_assert_rc(cotp_receive(5000, &first), 0);
    cotp_assert_rc(cotp_receive(5000, &second), 0);
    cotp_term want[2] = {
        COTP_TUPLE(cotp_self_heap(), COTP_ATOM_EXIT, cotp_pid_term(child), reason),
        COTP_TUPLE(cotp_self_heap(), COTP_ATOM_DOWN, ref, COTP_ATOM_PROCESS,
                   cotp_pid_term(child), reason)};
    cotp_assert_term_eq(first, want[0]);
    cotp_assert_term_eq(second, want[1]);
    cotp_assert_term_eq(info(cotp_self(), "links"), COTP_NIL);
    cotp_assert_term_eq(info(cotp_self(), "monitors"), COTP_NIL);
  }
}

/* Spawns a child linked and monitored and tells it to die; reports
 * {:survived, down_reason, links} to root if the exit signal spares it.
 * arg: 1 to unlink first. */
static void links_monitors_child_dies(void *arg) {
  bool unlink = arg != NULL;
  cotp_term ref;
  cotp_pid child = spawn_linked_monitored(&ref);
  if (unlink)
    cotp_unlink(child);
  cotp_send(child, COTP_ATOM(boom));
  cotp_term reason = cotp_test_down_of(ref, child);
  cotp_heap *h = cotp_self_heap();
  cotp_send(root, COTP_TUPLE(h, COTP_ATOM(survived), reason, info(cotp_self(), "links")));
  cotp_test_idle(NULL);
}

/* Not trapping: the child's :boom ends the spawner with :boom, before it
 * sees the DOWN; unlinked first (A14), it sees only the DOWN. */
COTP_TEST(link, spawner_that_links_and_monitors_dies_of_the_exit_first) {
  root = cotp_self();
  cotp_pid p;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn_monitor(links_monitors_child_dies, NULL, &p, &ref), 0);
  cotp_assert_term_eq(cotp_test_down_of(ref, p), COTP_ATOM(boom));
  cotp_test_refute_received("{:survived, _, _}", 50);

  cotp_assert_rc(cotp_spawn_monitor(links_monitors_child_dies, (void *)1, &p, &ref), 0);
  cotp_term caps[2];
  await("{:survived, reason, links}", caps, 5000);
  cotp_assert_term_eq(caps[0], COTP_ATOM(boom));
  cotp_assert_term_eq(caps[1], COTP_NIL);
  cotp_exit_signal(p, COTP_ATOM_KILL);
}

/* A child keeps its side of the link to its spawner in its control block
 * (core/link.c); it must behave as any other link: listed, unlinked from
 * either side, linked again, and carrying exits both ways. */
static void child_unlinks_relinks(void *arg) {
  cotp_pid parent = *(cotp_pid *)arg;
  cotp_heap *h = cotp_self_heap();
  cotp_send(parent, COTP_TUPLE(h, COTP_ATOM(links), info(cotp_self(), "links")));
  cotp_assert_rc(cotp_unlink(parent), 0);
  cotp_send(parent, COTP_TUPLE(h, COTP_ATOM(links), info(cotp_self(), "links")));
  cotp_term cmd;
  cotp_receive(COTP_INFINITY, &cmd); /* :relink */
  cotp_assert_rc(cotp_link(parent), 0);
  cotp_send(parent, COTP_TUPLE(h, COTP_ATOM(links), info(cotp_self(), "links")));
  cotp_receive(COTP_INFINITY, &cmd); /* the reason to exit with */
  cotp_exit(cmd);
}

COTP_TEST(link, a_childs_link_to_its_spawner_is_a_link_like_any_other) {
  cotp_trap_exit(true, NULL);
  cotp_pid me = cotp_self(), child;
  cotp_spawn_opts o = {.link = true, .arg_size = sizeof me};
  cotp_assert_rc(cotp_spawn_opt(child_unlinks_relinks, &me, &o, &child), 0);
  cotp_term caps[1];
  await("{:links, l}", caps, 5000);
  cotp_assert_term_eq(caps[0], list1(me));
  await("{:links, l}", caps, 5000);
  cotp_assert_term_eq(caps[0], COTP_NIL);
  eventually_info(me, "links", COTP_NIL); /* the child's unlink reached us */
  cotp_send(child, COTP_ATOM(relink));
  await("{:links, l}", caps, 5000);
  cotp_assert_term_eq(caps[0], list1(me));
  cotp_assert_term_eq(info(me, "links"), list1(child));
  cotp_send(child, COTP_ATOM(boom));
  cotp_assert_term_eq(cotp_test_exit_from(child, 5000), COTP_ATOM(boom));
  cotp_assert_term_eq(info(me, "links"), COTP_NIL);

  /* the spawner unlinks: the child's inline side goes; an exit of the
   * spawner's then no longer reaches it */
  cotp_pid idle;
  cotp_assert_rc(cotp_spawn_link(cotp_test_idle, NULL, &idle), 0);
  cotp_assert_term_eq(info(idle, "links"), list1(me));
  cotp_assert_rc(cotp_unlink(idle), 0);
  eventually_info(idle, "links", COTP_NIL);
  cotp_assert_rc(cotp_link(idle), 0);
  cotp_assert_term_eq(info(idle, "links"), list1(me));
  cotp_term ref;
  cotp_assert_rc(cotp_monitor(idle, &ref), 0);
  cotp_exit_signal(idle, COTP_ATOM(bye)); /* not from the link: it dies */
  cotp_assert_term_eq(cotp_test_down_of(ref, idle), COTP_ATOM(bye));
  cotp_assert_term_eq(cotp_test_exit_from(idle, 5000), COTP_ATOM(bye));
}
