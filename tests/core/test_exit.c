/* SPDX-License-Identifier: Apache-2.0 */
/* Exits, exit signals and their reasons (behaviours A1-A13, A35). */
#include <stdatomic.h>

#include "harness.h"

static cotp_pid root;

/* Tells the root it has started (and set what it needed to). */
static void ready(void) {
  cotp_send(root, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(ready),
                             cotp_pid_term(cotp_self())));
}

static void await_ready(cotp_pid pid) {
  cotp_term pin = cotp_pid_term(pid);
  cotp_clause c = {cotp_test_pattern("{:ready, ^pid}"), &pin, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 10000, 0, NULL), 0);
}

/* Traps exits, then sends every message it gets to the root as
 * {:got, self, msg}. */
static void forwarder(void *arg) {
  (void)arg;
  cotp_trap_exit(true, NULL);
  ready();
  cotp_heap *h = cotp_self_heap();
  for (;;) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_term msg;
    cotp_receive(COTP_INFINITY, &msg);
    cotp_send(root, COTP_TUPLE(h, COTP_ATOM(got), cotp_pid_term(cotp_self()), msg));
    cotp_heap_release(h, m);
  }
}

/* The next message forwarder pid got. */
static cotp_term forwarded_by(cotp_pid pid) {
  cotp_term pin = cotp_pid_term(pid), msg;
  cotp_clause c = {cotp_test_pattern("{:got, ^pid, msg}"), &pin, &msg};
  cotp_assert_rc(cotp_receive_match(&c, 1, 10000, 0, NULL), 0);
  return msg;
}

/* A reason no shortcut can carry: a 1 MB binary, a sub-binary of it, a
 * tuple nested 10,000 deep and a long list (A3, A6). */
enum { BIG_BYTES = 1 << 20, BIG_DEPTH = 10000, BIG_LIST = 10000 };

static cotp_term big_reason(cotp_heap *h) {
  uint8_t *data;
  cotp_term bin = cotp_binary_alloc(h, BIG_BYTES, &data);
  for (size_t i = 0; i < BIG_BYTES; i++)
    data[i] = (uint8_t)(i * 7 % 251);
  cotp_term sub = cotp_binary_part(h, bin, 1000, 100000);
  cotp_term deep = COTP_ATOM(bottom);
  for (int i = 0; i < BIG_DEPTH; i++)
    deep = COTP_TUPLE(h, cotp_int(h, i), deep);
  cotp_term list = COTP_NIL;
  for (int i = 0; i < BIG_LIST; i++)
    list = cotp_cons(h, cotp_int(h, i), list);
  return COTP_TUPLE(h, COTP_ATOM(big), bin, sub, deep, list);
}

/* A1: exit(P, normal) from another process is dropped by a process that
 * does not trap exits: it lives on and nothing is sent.  A trapper gets it
 * as a message. */
COTP_TEST(exit, a1_exit_normal_to_other_is_dropped) {
  root = cotp_self();
  cotp_trap_exit(true, NULL);
  cotp_pid p;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn_link(cotp_test_idle, NULL, &p), 0);
  cotp_assert_rc(cotp_monitor(p, &ref), 0);
  cotp_assert_rc(cotp_exit_signal(p, COTP_ATOM_NORMAL), 0);
  /* asked after the exit signal, on the same channel: it was handled */
  cr_assert(cotp_is_alive(p));
  cotp_test_refute_received("{:EXIT, _, _}", 50);
  cotp_test_refute_received("{:DOWN, _, _, _, _}", 0);
  cotp_pid busy_pid;
  cotp_assert_rc(cotp_spawn(cotp_test_busy, NULL, &busy_pid), 0);
  cotp_assert_rc(cotp_exit_signal(busy_pid, COTP_ATOM_NORMAL), 0);
  cr_assert(cotp_is_alive(busy_pid));
  cotp_exit_signal(busy_pid, COTP_ATOM_KILL);

  cotp_pid t;
  cotp_assert_rc(cotp_spawn(forwarder, NULL, &t), 0);
  await_ready(t);
  cotp_assert_rc(cotp_exit_signal(t, COTP_ATOM_NORMAL), 0);
  cotp_term msg = forwarded_by(t);
  cotp_assert_term_eq(msg, COTP_TUPLE(cotp_self_heap(), COTP_ATOM_EXIT,
                                      cotp_pid_term(root), COTP_ATOM_NORMAL));
  cr_assert(cotp_is_alive(t));

  cotp_exit_signal(p, COTP_ATOM_KILL);
  cotp_assert_term_eq(cotp_test_exit_from(p, 5000), COTP_ATOM_KILLED);
  cotp_assert_term_eq(cotp_test_down_of(ref, p), COTP_ATOM_KILLED);
}

static void exit_self_normal(void *arg) {
  (void)arg;
  cotp_exit_signal(cotp_self(), COTP_ATOM_NORMAL);
  cotp_send(root, COTP_ATOM(not_reached));
}

/* A2: exit(self(), normal) does end the caller, with reason normal; a
 * linked trapper gets {:EXIT, p, :normal}. */
COTP_TEST(exit, a2_exit_self_normal_terminates_the_caller) {
  root = cotp_self();
  cotp_trap_exit(true, NULL);
  cotp_pid p;
  cotp_assert_rc(cotp_spawn_link(exit_self_normal, NULL, &p), 0);
  cotp_assert_term_eq(cotp_test_exit_from(p, 5000), COTP_ATOM_NORMAL);
  cotp_test_refute_received(":not_reached", 50);
  cr_assert(!cotp_is_alive(p));
}

static void exit_self_big(void *arg) {
  bool by_signal = arg != NULL;
  cotp_term r = big_reason(cotp_self_heap());
  if (by_signal)
    cotp_exit_signal(cotp_self(), r);
  else
    cotp_exit(r);
  cotp_send(root, COTP_ATOM(not_reached));
}

/* A3: for a process that does not trap exits, exit(self(), R) is exit(R):
 * a linked trapper gets {:EXIT, p, R}, R intact although large. */
COTP_TEST(exit, a3_exit_self_reason_is_exit_reason) {
  root = cotp_self();
  cotp_trap_exit(true, NULL);
  cotp_term want = big_reason(cotp_self_heap());
  for (int by_signal = 0; by_signal < 2; by_signal++) {
    cotp_pid p;
    cotp_assert_rc(cotp_spawn_link(exit_self_big, by_signal ? (void *)1 : NULL, &p), 0);
    cotp_assert_term_eq(cotp_test_exit_from(p, 5000), want);
  }
  cotp_test_refute_received(":not_reached", 20);
}

static void exit_self_trapping(void *arg) {
  (void)arg;
  cotp_trap_exit(true, NULL);
  cotp_heap *h = cotp_self_heap();
  cotp_exit_signal(cotp_self(), cotp_parse(h, "{:my, \"reason\"}"));
  cotp_term msg;
  int rc = cotp_receive(0, &msg);
  cotp_send(root, COTP_TUPLE(h, COTP_ATOM(got), cotp_int(h, rc),
                             rc == 0 ? msg : COTP_NIL));
}

/* A4: a trapper that calls exit(self(), R) gets {:EXIT, self, R} before
 * the call returns, and lives on. */
COTP_TEST(exit, a4_exit_self_while_trapping_is_a_message) {
  root = cotp_self();
  cotp_pid p;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn_monitor(exit_self_trapping, NULL, &p, &ref), 0);
  cotp_term msg;
  cotp_clause c = {cotp_test_pattern("{:got, _, _}"), NULL, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, &msg), 0);
  cotp_assert_term_eq(msg, cotp_format(cotp_self_heap(),
                                       "{:got, 0, {:EXIT, ~p, {:my, \"reason\"}}}", p));
  cotp_assert_term_eq(cotp_test_down_of(ref, p), COTP_ATOM_NORMAL);
}

static void exit_self_die(void *arg) {
  (void)arg;
  cotp_term die = COTP_ATOM(die);
  int rc = cotp_exit_signal(cotp_self(), die);
  cotp_send(root, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(not_reached),
                             cotp_int(cotp_self_heap(), rc)));
}

/* A5: exit(self(), die) is a signal, not an exception: the call does not
 * return, and the process dies with die.  (C has no catch to try.) */
COTP_TEST(exit, a5_exit_self_die_does_not_return) {
  root = cotp_self();
  cotp_pid p;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn_monitor(exit_self_die, NULL, &p, &ref), 0);
  cotp_assert_term_eq(cotp_test_down_of(ref, p), COTP_ATOM(die));
  cotp_test_refute_received("{:not_reached, _}", 50);
}

/* A6: large reasons, binaries and sub-binaries included, are copied
 * intact into EXIT and DOWN messages, whether the process exits with them
 * or is sent them with exit/2. */
COTP_TEST(exit, a6_large_reasons_arrive_intact) {
  root = cotp_self();
  cotp_trap_exit(true, NULL);
  cotp_heap *h = cotp_self_heap();
  cotp_term want = big_reason(h);

  /* exit/1: EXIT and DOWN */
  cotp_pid p;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn_link(exit_self_big, NULL, &p), 0);
  cotp_assert_term_eq(cotp_test_exit_from(p, 5000), want);
  for (int i = 0; i < 5; i++) {
    cotp_assert_rc(cotp_spawn_monitor(exit_self_big, NULL, &p, &ref), 0);
    cotp_assert_term_eq(cotp_test_down_of(ref, p), want);
  }

  /* exit/2 to a process that does not trap: its DOWN, and its links */
  cotp_assert_rc(cotp_spawn_link(cotp_test_idle, NULL, &p), 0);
  cotp_assert_rc(cotp_monitor(p, &ref), 0);
  cotp_assert_rc(cotp_exit_signal(p, want), 0);
  cotp_assert_term_eq(cotp_test_down_of(ref, p), want);
  cotp_assert_term_eq(cotp_test_exit_from(p, 5000), want);

  /* exit/2 to a trapper: the message */
  cotp_pid t;
  cotp_assert_rc(cotp_spawn(forwarder, NULL, &t), 0);
  await_ready(t);
  cotp_assert_rc(cotp_exit_signal(t, want), 0);
  cotp_term msg = forwarded_by(t);
  cotp_assert_term_eq(msg, COTP_TUPLE(h, COTP_ATOM_EXIT, cotp_pid_term(root), want));
  size_t len;
  cr_assert_eq(cotp_binary_data(cotp_tuple_get(cotp_tuple_get(msg, 2), 2), &len) != NULL, true);
  cr_assert_eq(len, 100000u);
  cotp_exit_signal(t, COTP_ATOM_KILL);
}

static void exit_deep(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  cotp_term deep = COTP_ATOM(bottom);
  for (int i = 0; i < BIG_DEPTH; i++)
    deep = COTP_TUPLE(h, cotp_int(h, i), deep);
  cotp_exit(deep);
}

/* A6, with the process that gets the DOWN busy (yielding) rather than
 * waiting in receive, so that it runs right after the dying process: the
 * deep reason reaches it intact, and it is not harmed by the other's
 * exit.  One scheduler and two: both orders of events. */
static void deep_reason_to_a_busy_monitor(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  cotp_term want = COTP_ATOM(bottom);
  for (int i = 0; i < BIG_DEPTH; i++)
    want = COTP_TUPLE(h, cotp_int(h, i), want);
  for (int i = 0; i < 5; i++) {
    cotp_pid p;
    cotp_term ref;
    cotp_assert_rc(cotp_spawn_monitor(exit_deep, NULL, &p, &ref), 0);
    while (cotp_mailbox_length() == 0)
      cotp_yield();
    cotp_assert_term_eq(cotp_test_down_of(ref, p), want);
  }
}

Test(exit, a6_deep_reason_reaches_a_busy_monitor_one_scheduler) {
  cotp_test_run(deep_reason_to_a_busy_monitor, NULL, 1);
}

Test(exit, a6_deep_reason_reaches_a_busy_monitor_two_schedulers) {
  cotp_test_run(deep_reason_to_a_busy_monitor, NULL, 2);
}

/* A7 (runtime errors give {reason, stacktrace}) cannot apply: C has no
 * exceptions, a C function that fails does not exit its process.  What
 * can be pinned is that an explicit exit with such a tuple arrives as is. */
static void exit_with_error_tuple(void *arg) {
  (void)arg;
  cotp_exit(cotp_parse(cotp_self_heap(),
                       "{:badarg, [{:erlang, :abs, [:x], [file: 'erl.c', line: 7]}]}"));
}

COTP_TEST(exit, a7_error_tuple_reason_arrives_intact) {
  root = cotp_self();
  cotp_trap_exit(true, NULL);
  cotp_term want = cotp_test_parse("{:badarg, [{:erlang, :abs, [:x], [file: 'erl.c', line: 7]}]}");
  cotp_pid p;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn_link(exit_with_error_tuple, NULL, &p), 0);
  cotp_assert_term_eq(cotp_test_exit_from(p, 5000), want);
  cotp_assert_rc(cotp_spawn_monitor(exit_with_error_tuple, NULL, &p, &ref), 0);
  cotp_assert_term_eq(cotp_test_down_of(ref, p), want);
}

static void fail_at_once(void *arg) {
  (void)arg;
  cotp_exit(COTP_ATOM(boom));
}

static void return_at_once(void *arg) { (void)arg; }

static void spawn_link_failing_child(void *arg) {
  (void)arg;
  cotp_spawn_link(fail_at_once, NULL, NULL);
  cotp_test_idle(NULL);
}

/* A8: spawn_link is atomic: a child that dies at once still delivers its
 * EXIT, to a trapping parent as a message and to any other by dying. */
COTP_TEST(exit, a8_spawn_link_is_atomic) {
  root = cotp_self();
  cotp_trap_exit(true, NULL);
  cotp_heap *h = cotp_self_heap();
  for (int i = 0; i < 1000; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_pid p;
    bool fails = i % 2 == 0;
    cotp_assert_rc(cotp_spawn_link(fails ? fail_at_once : return_at_once, NULL, &p), 0);
    cotp_assert_term_eq(cotp_test_exit_from(p, 5000), fails ? COTP_ATOM(boom) : COTP_ATOM_NORMAL);
    cotp_heap_release(h, m);
  }
  for (int i = 0; i < 100; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_pid p;
    cotp_term ref;
    cotp_assert_rc(cotp_spawn_monitor(spawn_link_failing_child, NULL, &p, &ref), 0);
    cotp_assert_term_eq(cotp_test_down_of(ref, p), COTP_ATOM(boom));
    cotp_heap_release(h, m);
  }
}

/* A9: of two exit signals, the first takes effect: the reason is the
 * first one's, whether the target waits in receive or is busy. */
COTP_TEST(exit, a9_first_of_two_exit_signals_wins) {
  root = cotp_self();
  cotp_heap *h = cotp_self_heap();
  for (int i = 0; i < 200; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_pid p;
    cotp_term ref;
    cotp_assert_rc(cotp_spawn_monitor(i % 2 ? cotp_test_busy : cotp_test_idle, NULL, &p, &ref), 0);
    if (i % 3 == 0)
      cotp_yield(); /* sometimes it has started, sometimes not */
    cotp_term first = i % 4 < 2 ? COTP_ATOM(first) : COTP_ATOM_KILL;
    cotp_assert_rc(cotp_exit_signal(p, first), 0);
    cotp_assert_rc(cotp_exit_signal(p, COTP_ATOM(second)), 0);
    cotp_term want = first.w == COTP_ATOM_KILL.w ? COTP_ATOM_KILLED : first;
    cotp_assert_term_eq(cotp_test_down_of(ref, p), want);
    cotp_heap_release(h, m);
  }
}

/* Waits for messages that never come, with short timeouts: receive
 * (arg 0) or sleep (arg 1). */
static void waits_with_timeouts(void *arg) {
  bool sleeps = arg != NULL;
  cotp_clause c = {cotp_pattern_cached(":never", NULL), NULL, NULL};
  for (int i = 0;; i++) {
    if (sleeps)
      cotp_sleep(1 + i % 2);
    else
      cotp_receive_match(&c, 1, i % 3, 0, NULL);
  }
}

/* A10: an exit signal that comes while the target waits with a timeout
 * ends it cleanly with that reason, whatever the timer is doing. */
COTP_TEST(exit, a10_exit_while_waiting_with_a_timeout) {
  root = cotp_self();
  enum { N = 300 };
  static cotp_pid pids[N];
  static cotp_term refs[N];
  cotp_heap *h = cotp_self_heap();
  cotp_test_rng rng = cotp_test_rng_new();
  for (int i = 0; i < N; i++)
    cotp_assert_rc(cotp_spawn_monitor(waits_with_timeouts, i % 2 ? (void *)1 : NULL,
                                      &pids[i], &refs[i]), 0);
  for (int i = 0; i < N; i++) {
    switch (cotp_test_below(&rng, 3)) {
    case 0:
      cotp_sleep((int64_t)cotp_test_below(&rng, 3));
      break;
    case 1:
      cotp_yield();
      break;
    default:
      break;
    }
    cotp_assert_rc(cotp_exit_signal(pids[i], COTP_TUPLE(h, COTP_ATOM(boom), cotp_int(h, i))), 0);
  }
  for (int i = 0; i < N; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_assert_term_eq(cotp_test_down_of(refs[i], pids[i]),
                        COTP_TUPLE(h, COTP_ATOM(boom), cotp_int(h, i)));
    cotp_heap_release(h, m);
  }
}

/* A11: exit(p, kill) cannot be trapped: the victim dies with killed, and
 * that is what its links get. */
COTP_TEST(exit, a11_kill_cannot_be_trapped) {
  root = cotp_self();
  cotp_trap_exit(true, NULL);
  cotp_pid t;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn_link(forwarder, NULL, &t), 0);
  await_ready(t);
  cotp_assert_rc(cotp_monitor(t, &ref), 0);
  cotp_assert_rc(cotp_exit_signal(t, COTP_ATOM_KILL), 0);
  cotp_assert_term_eq(cotp_test_exit_from(t, 5000), COTP_ATOM_KILLED);
  cotp_assert_term_eq(cotp_test_down_of(ref, t), COTP_ATOM_KILLED);
  cotp_test_refute_received("{:got, _, _}", 20);
}

static void exit_kill_itself(void *arg) {
  (void)arg;
  cotp_exit(COTP_ATOM_KILL);
}

static void exit_signal_kill_itself(void *arg) {
  (void)arg;
  cotp_trap_exit(true, NULL); /* does not help */
  cotp_exit_signal(cotp_self(), COTP_ATOM_KILL);
  cotp_send(root, COTP_ATOM(not_reached));
}

/* Not trapping, linked to a process that exits with kill by itself; it
 * waits for :go, so that the root's monitor is in place (a MONITOR signal
 * still pending when a process dies gets noproc, in ERTS too). */
static void linked_to_self_killer(void *arg) {
  (void)arg;
  cotp_clause go = {cotp_pattern_cached(":go", NULL), NULL, NULL};
  cotp_receive_match(&go, 1, COTP_INFINITY, 0, NULL);
  cotp_spawn_link(exit_kill_itself, NULL, NULL);
  cotp_test_idle(NULL);
}

/* A12: a process that exits by itself with kill sends kill over its
 * links: a trapper gets {:EXIT, p, :kill}, not killed, and a process that
 * does not trap dies with kill and passes kill on.  exit(self(), kill)
 * instead gives killed, even to a trapper.  (erl: {kill, kill, killed}.) */
COTP_TEST(exit, a12_exit_kill_by_itself_propagates_kill) {
  root = cotp_self();
  cotp_trap_exit(true, NULL);
  cotp_pid p;
  cotp_assert_rc(cotp_spawn_link(exit_kill_itself, NULL, &p), 0);
  cotp_assert_term_eq(cotp_test_exit_from(p, 5000), COTP_ATOM_KILL);

  cotp_term ref;
  cotp_assert_rc(cotp_spawn_link(linked_to_self_killer, NULL, &p), 0);
  cotp_assert_rc(cotp_monitor(p, &ref), 0);
  cotp_send(p, COTP_ATOM(go));
  cotp_assert_term_eq(cotp_test_down_of(ref, p), COTP_ATOM_KILL);
  cotp_assert_term_eq(cotp_test_exit_from(p, 5000), COTP_ATOM_KILL);

  cotp_assert_rc(cotp_spawn_link(exit_signal_kill_itself, NULL, &p), 0);
  cotp_assert_term_eq(cotp_test_exit_from(p, 5000), COTP_ATOM_KILLED);
  cotp_test_refute_received(":not_reached", 20);
}

/* A line of linked processes, as signal_SUITE's spawn_link_line: each
 * spawn_links the next; the last one, at the end of the line, either
 * reports itself and waits (LINE_WAITS), exits with kill (LINE_EXIT1) or
 * sends itself kill (LINE_EXIT2).  arg: (links still to make << 2) | how. */
enum { LINE_WAITS, LINE_EXIT1, LINE_EXIT2 };
static cotp_pid *line_pids; /* when set, where each process writes its pid */

static void line(void *arg) {
  uintptr_t a = (uintptr_t)arg;
  uintptr_t left = a >> 2;
  int how = (int)(a & 3);
  if (line_pids)
    line_pids[left] = cotp_self();
  if (left > 0) {
    cotp_spawn_link(line, (void *)(((left - 1) << 2) | (uintptr_t)how), NULL);
    cotp_test_idle(NULL);
    return;
  }
  switch (how) {
  case LINE_EXIT1:
    cotp_exit(COTP_ATOM_KILL);
  case LINE_EXIT2:
    cotp_exit_signal(cotp_self(), COTP_ATOM_KILL);
    break;
  default:
    cotp_send(root, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(end_of_line),
                               cotp_pid_term(cotp_self())));
    cotp_test_idle(NULL);
  }
}

static cotp_pid end_of_line(int64_t timeout_ms) {
  cotp_term eol;
  cotp_clause c = {cotp_test_pattern("{:end_of_line, eol}"), NULL, &eol};
  cotp_assert_rc(cotp_receive_match(&c, 1, timeout_ms, 0, NULL), 0);
  return cotp_get_pid(eol);
}

/* A13 (signal_SUITE kill2killed): exit(end, kill) on a line of N linked
 * processes makes the end die with killed, and killed, not kill, travels
 * down the line; exit(kill) at the end sends kill all the way (A12), and
 * exit(self(), kill) killed. */
COTP_TEST(exit, a13_kill2killed_on_lines_of_1_2_9_10) {
  root = cotp_self();
  cotp_trap_exit(true, NULL);
  static const int lengths[] = {1, 2, 9, 10};
  for (int how = LINE_WAITS; how <= LINE_EXIT2; how++) {
    for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
      cotp_pid first;
      uintptr_t arg = ((uintptr_t)(lengths[i] - 1) << 2) | (uintptr_t)how;
      cotp_assert_rc(cotp_spawn_link(line, (void *)arg, &first), 0);
      if (how == LINE_WAITS)
        cotp_assert_rc(cotp_exit_signal(end_of_line(5000), COTP_ATOM_KILL), 0);
      cotp_term want = how == LINE_EXIT1 ? COTP_ATOM_KILL : COTP_ATOM_KILLED;
      cotp_term got = cotp_test_exit_from(first, 5000);
      cr_assert(cotp_term_eq(got, want), "line of %d (end %d): got %s", lengths[i],
                how, cotp_atom_name(got, NULL));
    }
  }
}

/* A13, at scale: a line of 100,000 linked processes killed at one end dies
 * completely, each process handling its own exit (no deep stack). */
COTP_TEST(exit, a13_line_of_100000_dies_from_one_end, .timeout = 120) {
  root = cotp_self();
  cotp_trap_exit(true, NULL);
  size_t n = cotp_test_max_alive(100000);
  line_pids = calloc(n, sizeof *line_pids);
  cr_assert_not_null(line_pids);
  cotp_pid first;
  cotp_assert_rc(cotp_spawn_link(line, (void *)((uintptr_t)(n - 1) << 2), &first), 0);
  cotp_pid end = end_of_line(60000);
  cr_assert(cotp_pid_eq(end, line_pids[0]));
  cr_assert(cotp_pid_eq(first, line_pids[n - 1]));
  cotp_assert_rc(cotp_exit_signal(end, COTP_ATOM_KILL), 0);
  cotp_assert_term_eq(cotp_test_exit_from(first, 60000), COTP_ATOM_KILLED);
  size_t alive = 0;
  for (size_t i = 0; i < n; i++)
    alive += cotp_is_alive(line_pids[i]);
  cr_assert_eq(alive, 0u, "%zu of %zu still alive", alive, n);
  free(line_pids);
  line_pids = NULL;
}

/* Not trapping, linked to an idle process it reports to the root. */
static void linked_to_idle(void *arg) {
  (void)arg;
  cotp_pid t;
  cotp_spawn_link(cotp_test_idle, NULL, &t);
  cotp_send(root, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(target), cotp_pid_term(t)));
  cotp_test_idle(NULL);
}

/* A35: a non-normal exit signal kills a process that does not trap exits
 * with that same reason, and its links pass the reason on. */
COTP_TEST(exit, a35_exit_signal_reason_propagates_over_links) {
  root = cotp_self();
  cotp_trap_exit(true, NULL);
  static const char *const reasons[] = {"{:shutdown, :x}", ":shutdown", "\"text\"",
                                        "{:error, [1, 2.5, %{a: 1}]}"};
  for (size_t i = 0; i < sizeof reasons / sizeof *reasons; i++) {
    cotp_pid middle, target;
    cotp_term ref, t;
    cotp_assert_rc(cotp_spawn_link(linked_to_idle, NULL, &middle), 0);
    cotp_clause c = {cotp_test_pattern("{:target, t}"), NULL, &t};
    cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
    target = cotp_get_pid(t);
    cotp_assert_rc(cotp_monitor(target, &ref), 0);
    cotp_term reason = cotp_test_parse(reasons[i]);
    cotp_assert_rc(cotp_exit_signal(target, reason), 0);
    cotp_assert_term_eq(cotp_test_down_of(ref, target), reason);
    cotp_assert_term_eq(cotp_test_exit_from(middle, 5000), reason);
  }
}
