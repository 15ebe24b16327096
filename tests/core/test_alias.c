/* SPDX-License-Identifier: Apache-2.0 */
/* Process aliases, alone and as monitor alias modes (B14-B19, B22, B23). */
#include "harness.h"

/* A process that sends for us, in the order it is told:
 *   {:alias, a, m}  cotp_send_alias(a, m)
 *   {:pid, p, m}    cotp_send(p, m)
 *   {:exit, r}      exits with r
 *   :return         returns */
static void relay(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  for (;;) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_term msg;
    cotp_receive(COTP_INFINITY, &msg);
    if (cotp_test_is_cmd(msg, "alias", 3))
      cotp_send_alias(cotp_tuple_get(msg, 1), cotp_tuple_get(msg, 2));
    else if (cotp_test_is_cmd(msg, "pid", 3))
      cotp_send(cotp_get_pid(cotp_tuple_get(msg, 1)), cotp_tuple_get(msg, 2));
    else if (cotp_test_is_cmd(msg, "exit", 2))
      cotp_exit(cotp_tuple_get(msg, 1));
    else if (cotp_term_eq(msg, COTP_ATOM(return)))
      return;
    cotp_heap_release(h, m);
  }
}

static cotp_pid spawn_relay(void) {
  cotp_pid p;
  cotp_assert_rc(cotp_spawn(relay, NULL, &p), 0);
  return p;
}

static void via_alias(cotp_pid r, cotp_term alias, cotp_term msg) {
  cotp_send(r, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(alias), alias, msg));
}

static void via_pid(cotp_pid r, cotp_term msg) {
  cotp_send(r, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(pid),
                          cotp_pid_term(cotp_self()), msg));
}

static void tell_exit(cotp_pid p, cotp_term reason) {
  cotp_send(p, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(exit), reason));
}

/* Has the relay send a fresh marker by pid, and returns the list of the
 * messages received before it, in order.  The relay's alias sends before
 * the marker have all been delivered or dropped by then (one sender, one
 * order). */
static cotp_term until_marker(cotp_pid r) {
  cotp_heap *h = cotp_self_heap();
  cotp_term marker = COTP_TUPLE(h, COTP_ATOM(marker), cotp_make_ref());
  via_pid(r, marker);
  cotp_term got[64];
  size_t n = 0;
  for (;;) {
    cotp_term msg;
    cotp_assert_rc(cotp_receive(10000, &msg), 0);
    if (cotp_term_eq(msg, marker))
      break;
    cr_assert_lt(n, 64);
    got[n++] = msg;
  }
  return cotp_list(h, n, got);
}

static void await_down(cotp_term ref, cotp_term caps[2]) {
  cotp_clause c = {cotp_test_pattern("{:DOWN, ^ref, :process, obj, reason}"), &ref, caps};
  cotp_assert_rc(cotp_receive_match(&c, 1, 10000, 0, NULL), 0);
}

static void wait_dead(cotp_pid p) {
  cotp_term ref, caps[2];
  cotp_assert_rc(cotp_monitor(p, &ref), 0);
  await_down(ref, caps);
}

static void nothing(void *arg) { (void)arg; }
static void exit_boom(void *arg) {
  (void)arg;
  cotp_exit(COTP_ATOM(boom));
}

static cotp_term monitors_of_self(void) {
  cotp_term mons;
  cotp_assert_rc(cotp_process_info(cotp_self(), cotp_atom("monitors"), &mons), 0);
  return mons;
}

/* B14: an active alias delivers like the pid, in the sender's order; after
 * unalias, messages through it are dropped before the queue, and those
 * already queued stay. */
COTP_TEST(alias, b14_alias_delivers_until_unalias) {
  cotp_heap *h = cotp_self_heap();
  cotp_pid r = spawn_relay();
  cotp_term a;
  cotp_assert_rc(cotp_alias(0, &a), 0);
  cr_assert(cotp_is_ref(a));
  via_alias(r, a, COTP_ATOM(a1));
  via_pid(r, COTP_ATOM(p2));
  via_alias(r, a, cotp_parse(h, "{:a3, [1, 2, 3], \"big enough to be on a heap\"}"));
  cotp_assert_prints(until_marker(r),
                     "[:a1, :p2, {:a3, [1, 2, 3], \"big enough to be on a heap\"}]");

  /* one message through the alias is queued (not yet received) */
  via_alias(r, a, COTP_ATOM(queued));
  cotp_term marker = COTP_ATOM(first_marker);
  via_pid(r, marker);
  cotp_clause c = {cotp_test_pattern(":first_marker"), NULL, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 10000, 0, NULL), 0);
  cr_assert_eq(cotp_mailbox_length(), 1);
  cotp_assert_rc(cotp_unalias(a), 0);
  via_alias(r, a, COTP_ATOM(late));
  cotp_assert_prints(until_marker(r), "[:queued]");
  cotp_assert_rc(cotp_unalias(a), COTP_ENOTFOUND);

  /* sent before unalias but not yet handled: dropped too (as in OTP 25,
   * where `A ! m, unalias(A)` loses m) */
  cotp_term b;
  cotp_assert_rc(cotp_alias(0, &b), 0);
  cotp_assert_rc(cotp_send_alias(b, COTP_ATOM(in_flight)), 0);
  cotp_assert_rc(cotp_unalias(b), 0);
  cotp_term msg;
  cotp_assert_rc(cotp_receive(0, &msg), COTP_ETIMEDOUT);

  /* an alias nobody made: silently nothing */
  cotp_assert_rc(cotp_send_alias(cotp_make_ref(), COTP_ATOM(nowhere)), 0);
  cotp_assert_rc(cotp_unalias(cotp_make_ref()), COTP_ENOTFOUND);
  cotp_assert_prints(until_marker(r), "[]");
  cotp_send(r, COTP_ATOM(return));
}

/* Makes an alias, hands it to the process whose pid bits are arg, and
 * returns: the alias dies with it. */
static void alias_maker(void *arg) {
  cotp_pid to = {(uint64_t)(uintptr_t)arg};
  cotp_term a;
  cotp_alias(0, &a);
  cotp_send(to, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(alias), a));
}

/* B14: an alias goes with its owner: sends through it are dropped, not
 * delivered to a process that reuses the slot. */
COTP_TEST(alias, b14_alias_of_a_dead_process_drops) {
  cotp_pid r = spawn_relay(), maker;
  cotp_term ref, caps[2];
  cotp_assert_rc(cotp_spawn_monitor(alias_maker, (void *)(uintptr_t)cotp_self().bits,
                                    &maker, &ref), 0);
  cotp_clause c = {cotp_test_pattern("{:alias, a}"), NULL, caps};
  cotp_assert_rc(cotp_receive_match(&c, 1, 10000, 0, NULL), 0);
  cotp_term theirs = caps[0];
  await_down(ref, caps);
  for (int i = 0; i < 50; i++) /* new processes, maybe in the same slot */
    cotp_assert_rc(cotp_spawn(nothing, NULL, NULL), 0);
  via_alias(r, theirs, COTP_ATOM(to_the_dead));
  cotp_assert_prints(until_marker(r), "[]");
  cotp_send(r, COTP_ATOM(return));
}

/* B15: alias mode demonitor: demonitor also deactivates the alias. */
COTP_TEST(alias, b15_demonitor_mode_demonitor_deactivates_alias) {
  cotp_pid r = spawn_relay(), target = spawn_relay();
  cotp_term ref;
  cotp_assert_rc(cotp_monitor_alias(target, COTP_ALIAS_DEMONITOR, &ref), 0);
  via_alias(r, ref, COTP_ATOM(before));
  cotp_assert_prints(until_marker(r), "[:before]");
  cotp_assert_rc(cotp_demonitor(ref, 0), 0);
  via_alias(r, ref, COTP_ATOM(after));
  cotp_assert_prints(until_marker(r), "[]");
  cotp_assert_rc(cotp_unalias(ref), COTP_ENOTFOUND); /* OTP 25: false */
  tell_exit(target, COTP_ATOM(bye));
  wait_dead(target);
  cotp_assert_prints(until_marker(r), "[]"); /* and no DOWN */
  cotp_send(r, COTP_ATOM(return));
}

/* B16: alias mode demonitor: the DOWN, once delivered, deactivates the
 * alias; later sends through it are dropped. */
COTP_TEST(alias, b16_demonitor_mode_down_deactivates_alias) {
  cotp_pid r = spawn_relay(), target = spawn_relay();
  cotp_term ref;
  cotp_assert_rc(cotp_monitor_alias(target, COTP_ALIAS_DEMONITOR, &ref), 0);
  via_alias(r, ref, COTP_ATOM(m1));
  cotp_assert_prints(until_marker(r), "[:m1]");
  tell_exit(target, COTP_ATOM(bye));
  for (int i = 0; i < 10000 && cotp_mailbox_length() == 0; i++)
    cotp_sleep(1);
  cr_assert_eq(cotp_mailbox_length(), 1, "the DOWN is queued, not received");
  via_alias(r, ref, COTP_ATOM(m2));
  cotp_term got = until_marker(r);
  size_t n;
  cotp_assert_rc(cotp_list_length(got, &n), 0);
  cr_assert_eq(n, 1);
  cotp_term down = cotp_head(got);
  cotp_assert_term_eq(down, COTP_TUPLE(cotp_self_heap(), COTP_ATOM_DOWN, ref,
                                       COTP_ATOM_PROCESS, cotp_pid_term(target),
                                       COTP_ATOM(bye)));
  cotp_assert_rc(cotp_unalias(ref), COTP_ENOTFOUND);
  cotp_send(r, COTP_ATOM(return));
}

/* B17: alias mode reply_demonitor: the first message through the alias
 * deactivates it and removes the monitor (no DOWN follows); if the DOWN
 * comes first, it deactivates the alias. */
COTP_TEST(alias, b17_reply_demonitor_first_reply_ends_alias_and_monitor) {
  cotp_heap *h = cotp_self_heap();
  cotp_pid r = spawn_relay(), target = spawn_relay();
  cotp_term ref, guard, caps[2];
  cotp_assert_rc(cotp_monitor_alias(target, COTP_ALIAS_REPLY_DEMONITOR, &ref), 0);
  cotp_assert_rc(cotp_monitor(target, &guard), 0);
  via_alias(r, ref, COTP_ATOM(r1));
  via_alias(r, ref, COTP_ATOM(r2));
  cotp_assert_prints(until_marker(r), "[:r1]");
  /* only the guard is left, on both ends */
  cotp_assert_term_eq(monitors_of_self(),
                      COTP_LIST(h, COTP_TUPLE(h, COTP_ATOM_PROCESS, cotp_pid_term(target))));
  cotp_term by;
  cotp_assert_rc(cotp_process_info(target, cotp_atom("monitored_by"), &by), 0);
  cotp_assert_term_eq(by, COTP_LIST(h, cotp_pid_term(cotp_self())));
  cotp_assert_rc(cotp_unalias(ref), COTP_ENOTFOUND);
  tell_exit(target, COTP_ATOM(bye));
  await_down(guard, caps);
  cotp_assert_prints(until_marker(r), "[]"); /* no DOWN for ref */

  /* the DOWN first: it deactivates the alias */
  cotp_pid t2 = spawn_relay();
  cotp_assert_rc(cotp_monitor_alias(t2, COTP_ALIAS_REPLY_DEMONITOR, &ref), 0);
  tell_exit(t2, COTP_ATOM(first));
  await_down(ref, caps);
  cotp_assert_term_eq(caps[1], COTP_ATOM(first));
  via_alias(r, ref, COTP_ATOM(late_reply));
  cotp_assert_prints(until_marker(r), "[]");
  cotp_assert_rc(cotp_unalias(ref), COTP_ENOTFOUND);
  cotp_send(r, COTP_ATOM(return));
}

/* B18: alias with reply and no monitor: only the first message through
 * it is delivered. */
COTP_TEST(alias, b18_reply_alias_delivers_only_the_first_message) {
  cotp_pid r = spawn_relay();
  cotp_term a;
  cotp_assert_rc(cotp_alias(COTP_ALIAS_REPLY, &a), 0);
  via_alias(r, a, COTP_ATOM(one));
  via_alias(r, a, COTP_ATOM(two));
  via_pid(r, COTP_ATOM(by_pid));
  via_alias(r, a, COTP_ATOM(three));
  cotp_assert_prints(until_marker(r), "[:one, :by_pid]");
  cotp_assert_rc(cotp_unalias(a), COTP_ENOTFOUND); /* OTP 25: false */
  cotp_send(r, COTP_ATOM(return));
}

/* B19: with explicit_unalias, the monitor going away (demonitor, or its
 * DOWN) leaves the alias that shares its reference active, until
 * unalias. */
COTP_TEST(alias, b19_explicit_unalias_survives_demonitor_and_down) {
  cotp_pid r = spawn_relay(), target = spawn_relay();
  cotp_term ref, caps[2];
  cotp_assert_rc(cotp_monitor_alias(target, COTP_ALIAS_EXPLICIT_UNALIAS, &ref), 0);
  cotp_assert_rc(cotp_demonitor(ref, COTP_DEMONITOR_FLUSH), 0);
  via_alias(r, ref, COTP_ATOM(still));
  cotp_assert_prints(until_marker(r), "[:still]");
  tell_exit(target, COTP_ATOM(bye));
  wait_dead(target);
  via_alias(r, ref, COTP_ATOM(still_after_exit));
  cotp_assert_prints(until_marker(r), "[:still_after_exit]"); /* and no DOWN */
  cotp_assert_rc(cotp_unalias(ref), 0);

  cotp_pid t2 = spawn_relay();
  cotp_assert_rc(cotp_monitor_alias(t2, COTP_ALIAS_EXPLICIT_UNALIAS, &ref), 0);
  tell_exit(t2, COTP_ATOM(fired));
  await_down(ref, caps);
  cotp_assert_term_eq(caps[1], COTP_ATOM(fired));
  via_alias(r, ref, COTP_ATOM(still2));
  cotp_assert_prints(until_marker(r), "[:still2]");
  cotp_assert_rc(cotp_unalias(ref), 0);
  cotp_assert_rc(cotp_unalias(ref), COTP_ENOTFOUND);
  via_alias(r, ref, COTP_ATOM(gone));
  cotp_assert_prints(until_marker(r), "[]");
  cotp_send(r, COTP_ATOM(return));
}

/* B22: a monitor with an alias mode that does not exist, or an alias with
 * options that do not exist, is badarg and creates nothing.  (Erlang's
 * "options not a list" has no C form; spawn_request's badopt: cotp has no
 * spawn_request.) */
COTP_TEST(alias, b22_unknown_alias_modes_and_options_are_badarg) {
  cotp_pid target = spawn_relay();
  cotp_term ref = COTP_NONE, a;
  cotp_assert_rc(cotp_monitor_alias(target, (cotp_alias_mode)4, &ref), COTP_EINVAL);
  cotp_assert_rc(cotp_monitor_alias(target, (cotp_alias_mode)99, &ref), COTP_EINVAL);
  cotp_assert_rc(cotp_monitor_alias(target, COTP_ALIAS_DEMONITOR, NULL), COTP_EINVAL);
  cotp_assert_rc(cotp_alias(2u, &a), COTP_EINVAL);
  cotp_assert_rc(cotp_alias(~0u, &a), COTP_EINVAL);
  cotp_assert_rc(cotp_alias(0, NULL), COTP_EINVAL);
  cotp_assert_rc(cotp_send_alias(COTP_ATOM(not_a_ref), COTP_ATOM(x)), COTP_EINVAL);
  cotp_assert_rc(cotp_send_alias(cotp_make_ref(), COTP_NONE), COTP_EINVAL);
  cotp_assert_prints(monitors_of_self(), "[]");
  cotp_term by;
  cotp_assert_rc(cotp_process_info(target, cotp_atom("monitored_by"), &by), 0);
  cotp_assert_prints(by, "[]");
  tell_exit(target, COTP_ATOM(bye));
  wait_dead(target);
  cr_assert_eq(cotp_mailbox_length(), 0);
}

Test(alias, b22_outside_a_process_is_enotproc) {
  cotp_term a;
  cotp_assert_rc(cotp_alias(0, &a), COTP_ENOTPROC);
  cotp_assert_rc(cotp_unalias(cotp_make_ref()), COTP_ENOTPROC);
  cotp_assert_rc(cotp_monitor_alias(cotp_pid_make(0, 1, 0), COTP_ALIAS_DEMONITOR, &a),
                 COTP_ENOTPROC);
}

/* B23: spawn with a monitor (cotp_spawn_monitor) behaves as monitor on an
 * existing process: the same DOWN, once, with the real reason even for a
 * child that dies at once, and the same demonitor.  cotp_spawn_monitor
 * takes no alias mode: spawning then cotp_monitor_alias is the way, and
 * the modes are the ones tested above. */
COTP_TEST(alias, b23_spawn_monitor_behaves_as_monitor) {
  cotp_heap *h = cotp_self_heap();
  for (int i = 0; i < 50; i++) {
    cotp_pid p;
    cotp_term ref, caps[2];
    cotp_assert_rc(cotp_spawn_monitor(i % 2 ? exit_boom : nothing, NULL, &p, &ref), 0);
    await_down(ref, caps);
    cotp_assert_term_eq(caps[0], cotp_pid_term(p));
    cotp_assert_term_eq(caps[1], i % 2 ? COTP_ATOM(boom) : COTP_ATOM_NORMAL);
  }
  cotp_pid p;
  cotp_term ref, caps[2];
  cotp_assert_rc(cotp_spawn_monitor(relay, NULL, &p, &ref), 0);
  cotp_assert_term_eq(monitors_of_self(),
                      COTP_LIST(h, COTP_TUPLE(h, COTP_ATOM_PROCESS, cotp_pid_term(p))));
  cotp_term by;
  cotp_assert_rc(cotp_process_info(p, cotp_atom("monitored_by"), &by), 0);
  cotp_assert_term_eq(by, COTP_LIST(h, cotp_pid_term(cotp_self())));
  cr_assert_eq(cotp_demonitor(ref, COTP_DEMONITOR_INFO), 1);
  cotp_assert_prints(monitors_of_self(), "[]");
  tell_exit(p, COTP_ATOM(bye));
  wait_dead(p);
  cr_assert_eq(cotp_mailbox_length(), 0, "a DOWN after demonitor");
  cotp_assert_rc(cotp_spawn_monitor(NULL, NULL, &p, &ref), COTP_EINVAL);
  cotp_assert_rc(cotp_spawn_monitor(nothing, NULL, &p, NULL), COTP_EINVAL);
  (void)caps;
}

/* Many aliases alive at once, deactivated in a scrambled order: messages
 * through the active ones arrive, through the others vanish.  (The alias
 * table is a hash table with backward-shift deletion: this is its test.) */
COTP_TEST(alias, many_aliases_in_any_order) {
  enum { N = 5000 };
  static cotp_term aliases[N];
  static bool active[N];
  for (int i = 0; i < N; i++) {
    cotp_assert_rc(cotp_alias(0, &aliases[i]), 0);
    active[i] = true;
  }
  cotp_test_rng rng = cotp_test_rng_new();
  for (int k = 0; k < N / 2; k++) {
    int i = (int)cotp_test_below(&rng, N);
    if (active[i]) {
      cotp_assert_rc(cotp_unalias(aliases[i]), 0);
      active[i] = false;
    }
  }
  int expected = 0;
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  for (int i = 0; i < N; i++) {
    cotp_assert_rc(cotp_send_alias(aliases[i], cotp_int(NULL, i)), 0);
    expected += active[i];
  }
  for (int i = 0; i < N; i++) {
    if (!active[i])
      continue;
    cotp_term got;
    cotp_assert_rc(cotp_receive(1000, &got), 0);
    cr_assert_eq(cotp_int_value(got), i);
    cotp_heap_release(h, mark);
    expected--;
  }
  cr_assert_eq(expected, 0);
  cotp_test_refute_received("_", 20);
  for (int i = 0; i < N; i++)
    if (active[i])
      cotp_unalias(aliases[i]);
}

/* B17, the call's case: the monitored process replies through the alias
 * itself.  Both sides drop the monitor (the server as it sends, without a
 * demonitor signal coming back), a second message through the alias is
 * dropped, and the server's exit gives no DOWN. */
static bool replies_twice(void *state, cotp_term msg) {
  (void)state;
  if (cotp_is_ref(msg)) {
    cotp_send_alias(msg, COTP_ATOM(reply));
    cotp_send_alias(msg, COTP_ATOM(again));
    return true;
  }
  return false; /* anything else: exit normally */
}

COTP_TEST(alias, b17_reply_from_the_monitored_process) {
  cotp_heap *h = cotp_self_heap();
  cotp_pid s;
  cotp_assert_rc(cotp_spawn_handler(replies_twice, NULL, NULL, &s), 0);
  cotp_term ref, guard, caps[2];
  cotp_assert_rc(cotp_monitor(s, &guard), 0);
  for (int round = 0; round < 3; round++) {
    cotp_assert_rc(cotp_monitor_alias(s, COTP_ALIAS_REPLY_DEMONITOR, &ref), 0);
    cotp_send(s, ref);
    cotp_term got;
    cotp_assert_rc(cotp_receive(5000, &got), 0);
    cotp_assert_term_eq(got, COTP_ATOM(reply));
    cotp_assert_term_eq(monitors_of_self(),
                        COTP_LIST(h, COTP_TUPLE(h, COTP_ATOM_PROCESS, cotp_pid_term(s))));
    cotp_term by;
    cotp_assert_rc(cotp_process_info(s, cotp_atom("monitored_by"), &by), 0);
    cotp_assert_term_eq(by, COTP_LIST(h, cotp_pid_term(cotp_self())));
    cotp_assert_rc(cotp_unalias(ref), COTP_ENOTFOUND);
  }
  cotp_send(s, COTP_ATOM(stop));
  await_down(guard, caps);
  cotp_test_refute_received("_", 20); /* neither :again nor a DOWN */
}

/* Unaliasing the alias of a demonitor or reply_demonitor monitor ends the
 * alias only: messages through it are dropped, the monitor stays and its
 * DOWN comes (erlang:unalias/1 leaves monitors alone). */
COTP_TEST(alias, unalias_of_a_monitor_alias_keeps_the_monitor) {
  cotp_alias_mode modes[] = {COTP_ALIAS_DEMONITOR, COTP_ALIAS_REPLY_DEMONITOR};
  for (size_t i = 0; i < 2; i++) {
    cotp_pid r = spawn_relay();
    cotp_term ref, caps[2];
    cotp_assert_rc(cotp_monitor_alias(r, modes[i], &ref), 0);
    cotp_assert_rc(cotp_unalias(ref), 0);
    cotp_assert_rc(cotp_unalias(ref), COTP_ENOTFOUND);
    via_alias(r, ref, COTP_ATOM(dropped));
    cotp_assert_prints(until_marker(r), "[]");
    tell_exit(r, COTP_ATOM(bye));
    await_down(ref, caps);
    cotp_assert_term_eq(caps[1], COTP_ATOM(bye));
    cotp_assert_rc(cotp_unalias(ref), COTP_ENOTFOUND);
  }
}

/* A monitored process that sends through the alias of a monitor on it
 * finds the owner on its own side of the monitor, not in the shared table
 * (monitor.c): what arrives and what is dropped is the same as from
 * anyone else, in each mode, before and after a demonitor.  A plain
 * monitor's reference is no alias at all. */
COTP_TEST(alias, the_monitored_process_sends_through_the_monitors_alias) {
  cotp_pid t = spawn_relay();
  cotp_term ref;
  cotp_assert_rc(cotp_monitor_alias(t, COTP_ALIAS_DEMONITOR, &ref), 0);
  via_alias(t, ref, COTP_ATOM(d1));
  via_alias(t, ref, COTP_ATOM(d2));
  cotp_assert_prints(until_marker(t), "[:d1, :d2]");
  cotp_assert_rc(cotp_demonitor(ref, 0), 0);
  via_alias(t, ref, COTP_ATOM(after_demonitor));
  cotp_assert_prints(until_marker(t), "[]");

  cotp_assert_rc(cotp_monitor_alias(t, COTP_ALIAS_EXPLICIT_UNALIAS, &ref), 0);
  via_alias(t, ref, COTP_ATOM(e1));
  cotp_assert_prints(until_marker(t), "[:e1]");
  cotp_assert_rc(cotp_demonitor(ref, 0), 0);
  via_alias(t, ref, COTP_ATOM(e2)); /* the alias outlives the monitor */
  cotp_assert_prints(until_marker(t), "[:e2]");
  cotp_assert_rc(cotp_unalias(ref), 0);
  via_alias(t, ref, COTP_ATOM(after_unalias));
  cotp_assert_prints(until_marker(t), "[]");

  cotp_assert_rc(cotp_monitor(t, &ref), 0);
  via_alias(t, ref, COTP_ATOM(plain));
  cotp_assert_prints(until_marker(t), "[]");
  cotp_assert_rc(cotp_demonitor(ref, 0), 0);
  cotp_send(t, COTP_ATOM(return));
}
