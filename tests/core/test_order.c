/* SPDX-License-Identifier: Apache-2.0 */
/* Signal ordering: between one pair, and what a receiver sees of
 * several senders (B12, B13, C1, C2, C4, C5).  Signals to a busy or
 * switching process are test_order_busy.c. */
#include <stdatomic.h>
#include <unistd.h>

#include "cotp/io.h"
#include "harness.h"

static bool is_down(cotp_term msg) { return cotp_test_is_cmd(msg, "DOWN", 5); }

/* ------------------------------------------------------------------------ */

/* Waits for {:go, k, reason, y}, sends {:m, self, i} for i < k, exits with
 * reason; with k negative, sends until it is killed, yielding every y. */
static void b12_child(void *arg) {
  cotp_pid root = cotp_test_arg_pid(arg);
  cotp_heap *h = cotp_self_heap();
  cotp_term go;
  cotp_receive(COTP_INFINITY, &go);
  int64_t k = cotp_int_value(cotp_tuple_get(go, 1));
  int64_t yield_every = cotp_int_value(cotp_tuple_get(go, 3));
  cotp_term me = cotp_pid_term(cotp_self());
  for (int64_t i = 0; k < 0 || i < k; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_send(root, COTP_TUPLE(h, COTP_ATOM(m), me, cotp_int(h, i)));
    cotp_heap_release(h, m);
    if (k < 0 && i % yield_every == yield_every - 1)
      cotp_yield(); /* a kill on its way takes effect here, if not before */
  }
  cotp_exit(cotp_tuple_get(go, 2));
}

/* B12: a DOWN never overtakes the messages its process sent before it
 * died, whether it exits by itself or is killed mid-stream (no message
 * from it after its DOWN either).  1,000 rounds, sender and receiver on
 * two schedulers. */
COTP_TEST(order, b12_down_never_overtakes_messages, .timeout = 120) {
  cotp_heap *h = cotp_self_heap();
  for (int round = 0; round < 1000; round++) {
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    cotp_pid child;
    cotp_term ref;
    cotp_assert_rc(cotp_spawn(b12_child, cotp_test_pid_arg(cotp_self()), &child), 0);
    cotp_assert_rc(cotp_monitor(child, &ref), 0);
    bool killed = round % 2;
    int64_t k = killed ? -1 : 1 + round % 8;
    cotp_term reason = round % 4 == 0 ? COTP_ATOM_NORMAL
                       : round % 4 == 2 ? COTP_ATOM_KILL
                                        : COTP_TUPLE(h, COTP_ATOM(bye), cotp_int(h, round));
    cotp_send(child, COTP_TUPLE(h, COTP_ATOM(go), cotp_int(h, k), reason,
                                cotp_int(h, 1 + round % 13)));
    cotp_term cpid = cotp_pid_term(child);
    int64_t next = 0;
    for (;;) {
      cotp_term msg;
      cotp_assert_rc(cotp_receive(10000, &msg), 0);
      if (is_down(msg)) {
        cotp_assert_term_eq(cotp_tuple_get(msg, 1), ref);
        if (killed) {
          cotp_assert_term_eq(cotp_tuple_get(msg, 4), COTP_ATOM_KILLED);
        } else {
          cr_assert_eq(next, k, "round %d: DOWN before message %lld of %lld",
                       round, (long long)next, (long long)k);
          cotp_assert_term_eq(cotp_tuple_get(msg, 4), reason);
        }
        break;
      }
      cr_assert(cotp_test_is_cmd(msg, "m", 3) && cotp_term_eq(cotp_tuple_get(msg, 1), cpid),
                "round %d: unexpected %s (a message after its sender's DOWN?)",
                round, cotp_test_show(msg));
      cr_assert_eq(cotp_int_value(cotp_tuple_get(msg, 2)), next, "round %d", round);
      if (killed && next == 0)
        cotp_exit_signal(child, COTP_ATOM_KILL);
      next++;
    }
    cotp_heap_release(h, mark);
  }
  cotp_term msg;
  cotp_assert_rc(cotp_receive(5, &msg), COTP_ETIMEDOUT);
}

/* ------------------------------------------------------------------------ */

struct b13_ctx {
  cotp_pid root;
  cotp_term root_name;
};

/* Sends {:n, self, i} for i < k, by pid, by the root's name and by an
 * alias, interleaved, then exits {:done, k}. */
static void b13_child(void *arg) {
  struct b13_ctx *ctx = arg;
  cotp_heap *h = cotp_self_heap();
  cotp_term go;
  cotp_receive(COTP_INFINITY, &go); /* {:go, alias, k} */
  cotp_term alias = cotp_tuple_get(go, 1);
  int64_t k = cotp_int_value(cotp_tuple_get(go, 2));
  cotp_term me = cotp_pid_term(cotp_self());
  for (int64_t i = 0; i < k; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_term msg = COTP_TUPLE(h, COTP_ATOM(n), me, cotp_int(h, i));
    switch (i % 3) {
    case 0:
      cotp_send(ctx->root, msg);
      break;
    case 1:
      cotp_send_name(ctx->root_name, msg);
      break;
    default:
      cotp_send_alias(alias, msg);
      break;
    }
    cotp_heap_release(h, m);
  }
  cotp_exit(COTP_TUPLE(h, COTP_ATOM(done), cotp_int(h, k)));
}

/* B13: monitored by name, a process's messages sent by pid, by registered
 * name and by alias all arrive, in order, before its DOWN.  Each round
 * registers the name again, which also needs the name freed before the
 * DOWN (A19). */
COTP_TEST(order, b13_named_monitor_down_after_pid_name_and_alias_sends, .timeout = 60) {
  static struct b13_ctx ctx;
  ctx.root = cotp_self();
  ctx.root_name = cotp_atom("b13_root");
  cotp_term child_name = cotp_atom("b13_child");
  cotp_assert_rc(cotp_register(ctx.root_name, cotp_self()), 0);
  cotp_term alias;
  cotp_assert_rc(cotp_alias(0, &alias), 0);
  cotp_heap *h = cotp_self_heap();
  for (int round = 0; round < 300; round++) {
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    cotp_pid child;
    cotp_term ref;
    cotp_assert_rc(cotp_spawn(b13_child, &ctx, &child), 0);
    cotp_assert_rc(cotp_register(child_name, child), 0);
    cotp_assert_rc(cotp_monitor_name(child_name, &ref), 0);
    int64_t k = 3 + round % 7;
    cotp_send(child, COTP_TUPLE(h, COTP_ATOM(go), alias, cotp_int(h, k)));
    int64_t next = 0;
    for (;;) {
      cotp_term msg;
      cotp_assert_rc(cotp_receive(10000, &msg), 0);
      if (is_down(msg)) {
        cr_assert_eq(next, k, "round %d: DOWN before message %lld of %lld",
                     round, (long long)next, (long long)k);
        cotp_assert_term_eq(msg, cotp_format(h, "{:DOWN, ~t, :process, {:b13_child, "
                                                ":nonode@nohost}, {:done, ~L}}",
                                             ref, (long long)k));
        break;
      }
      cr_assert(cotp_test_is_cmd(msg, "n", 3) &&
                    cotp_term_eq(cotp_tuple_get(msg, 1), cotp_pid_term(child)),
                "round %d: unexpected %s", round, cotp_test_show(msg));
      cr_assert_eq(cotp_int_value(cotp_tuple_get(msg, 2)), next, "round %d", round);
      next++;
    }
    cotp_heap_release(h, mark);
  }
  cotp_assert_rc(cotp_unalias(alias), 0);
}

/* ------------------------------------------------------------------------ */

/* Traps exits; on {:dump, to, n} sends `to` the n messages it got before,
 * in order, as {:dump, list}. */
static void recorder(void *arg) {
  cotp_trap_exit(true, NULL);
  cotp_send(cotp_test_arg_pid(arg), COTP_ATOM(trapping));
  cotp_heap *h = cotp_self_heap();
  cotp_term got[64];
  size_t n = 0;
  for (;;) {
    cotp_term msg;
    cotp_receive(COTP_INFINITY, &msg);
    if (cotp_test_is_cmd(msg, "dump", 2)) {
      cotp_send(cotp_get_pid(cotp_tuple_get(msg, 1)),
                COTP_TUPLE(h, COTP_ATOM(dump), cotp_list(h, n, got)));
      return;
    }
    if (n < 64)
      got[n++] = msg;
  }
}

/* On {:check, from, item}, answers {:checked, item, info(self, item)}. */
static void checker(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  for (;;) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_term msg;
    cotp_receive(COTP_INFINITY, &msg);
    if (!cotp_test_is_cmd(msg, "check", 3))
      return;
    cotp_term item = cotp_tuple_get(msg, 2), info;
    cotp_process_info(cotp_self(), item, &info);
    cotp_send(cotp_get_pid(cotp_tuple_get(msg, 1)),
              COTP_TUPLE(h, COTP_ATOM(checked), item, info));
    cotp_heap_release(h, m);
  }
}

static bool has_pid(cotp_term list, cotp_pid p) {
  for (; cotp_is_cons(list); list = cotp_tail(list))
    if (cotp_term_eq(cotp_head(list), cotp_pid_term(p)))
      return true;
  return false;
}

/* Asks the checker, by message, what it sees of us under item. */
static bool checker_sees_me(cotp_pid checker_pid, const char *item) {
  cotp_heap *h = cotp_self_heap();
  cotp_term it = cotp_atom(item), caps[1];
  cotp_send(checker_pid, COTP_TUPLE(h, COTP_ATOM(check), cotp_pid_term(cotp_self()), it));
  cotp_clause c = {cotp_test_pattern("{:checked, ^item, list}"), &it, caps};
  cotp_assert_rc(cotp_receive_match(&c, 1, 10000, 0, NULL), 0);
  return has_pid(caps[0], cotp_self());
}

static void wait_for_go_then_exit(void *arg) {
  (void)arg;
  cotp_term msg;
  cotp_receive(COTP_INFINITY, &msg);
  cotp_exit(msg);
}

/* C1: from one sender to one receiver, every kind of signal keeps its
 * order: messages and exit signals (seen by a trapping receiver), link,
 * unlink, monitor and demonitor before a message (seen by the receiver
 * looking at itself when the message comes), monitor before the message
 * that makes the target exit (never noproc).  DOWN after messages is B12. */
COTP_TEST(order, c1_pairwise_fifo_for_every_signal_kind, .timeout = 60) {
  cotp_heap *h = cotp_self_heap();
  /* messages and exit signals */
  for (int round = 0; round < 100; round++) {
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    cotp_pid rec;
    cotp_assert_rc(cotp_spawn(recorder, cotp_test_pid_arg(cotp_self()), &rec), 0);
    cotp_clause ready = {cotp_test_pattern(":trapping"), NULL, NULL};
    cotp_assert_rc(cotp_receive_match(&ready, 1, 10000, 0, NULL), 0);
    cotp_send(rec, COTP_ATOM(m1));
    cotp_exit_signal(rec, COTP_ATOM(r1));
    cotp_send(rec, COTP_ATOM(m2));
    cotp_exit_signal(rec, COTP_ATOM_NORMAL); /* trapped, so a message too */
    cotp_send(rec, COTP_ATOM(m3));
    cotp_send(rec, COTP_TUPLE(h, COTP_ATOM(dump), cotp_pid_term(cotp_self())));
    cotp_term caps[1];
    cotp_clause c = {cotp_test_pattern("{:dump, list}"), NULL, caps};
    cotp_assert_rc(cotp_receive_match(&c, 1, 10000, 0, NULL), 0);
    cotp_term me = cotp_pid_term(cotp_self());
    cotp_assert_term_eq(caps[0], cotp_format(h, "[:m1, {:EXIT, ~t, :r1}, :m2, "
                                                "{:EXIT, ~t, :normal}, :m3]", me, me));
    cotp_heap_release(h, mark);
  }
  /* link, unlink, monitor, demonitor, each then a message */
  cotp_pid chk;
  cotp_assert_rc(cotp_spawn(checker, NULL, &chk), 0);
  for (int round = 0; round < 300; round++) {
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    cotp_assert_rc(cotp_link(chk), 0);
    cr_assert(checker_sees_me(chk, "links"), "round %d: message overtook link", round);
    cotp_assert_rc(cotp_unlink(chk), 0);
    cr_assert(!checker_sees_me(chk, "links"), "round %d: message overtook unlink", round);
    cotp_term ref;
    cotp_assert_rc(cotp_monitor(chk, &ref), 0);
    cr_assert(checker_sees_me(chk, "monitored_by"), "round %d: message overtook monitor",
              round);
    cotp_assert_rc(cotp_demonitor(ref, 0), 0);
    cr_assert(!checker_sees_me(chk, "monitored_by"), "round %d: message overtook demonitor",
              round);
    cotp_heap_release(h, mark);
  }
  cotp_send(chk, COTP_ATOM_STOP);
  /* monitor, then the message that ends the target: the real reason */
  for (int round = 0; round < 300; round++) {
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    cotp_pid p;
    cotp_term ref;
    cotp_assert_rc(cotp_spawn(wait_for_go_then_exit, NULL, &p), 0);
    cotp_assert_rc(cotp_monitor(p, &ref), 0);
    cotp_term reason = COTP_TUPLE(h, COTP_ATOM(died), cotp_int(h, round));
    cotp_send(p, reason);
    cotp_term caps[1];
    cotp_clause c = {cotp_test_pattern("{:DOWN, ^ref, :process, _, reason}"), &ref, caps};
    cotp_assert_rc(cotp_receive_match(&c, 1, 10000, 0, NULL), 0);
    cotp_assert_term_eq(caps[0], reason);
    cotp_heap_release(h, mark);
  }
}

/* ------------------------------------------------------------------------ */

/* OTP's xm_sig_order_proc: poll for may_reach / may_not_reach, yield. */
static void xm_sig_order_proc(void *arg) {
  (void)arg;
  cotp_clause c[2] = {{cotp_test_pattern(":may_not_reach"), NULL, NULL}, {cotp_test_pattern(":may_reach"), NULL, NULL}};
  for (;;) {
    if (cotp_receive_match(c, 2, 0, 0, NULL) == 0)
      cotp_exit(COTP_ATOM(may_not_reach));
    cotp_yield();
  }
}

/* C2: messages sent after exit(P, R) by the same sender are never seen by
 * P (it would exit may_not_reach); those before may be.  1,000 rounds. */
COTP_TEST(order, c2_nothing_sent_after_exit_signal_is_seen, .timeout = 120) {
  cotp_heap *h = cotp_self_heap();
  for (int round = 0; round < 1000; round++) {
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    cotp_pid p;
    cotp_term ref;
    cotp_assert_rc(cotp_spawn(xm_sig_order_proc, NULL, &p), 0);
    cotp_assert_rc(cotp_monitor(p, &ref), 0);
    for (int i = 0; i < round % 4; i++) {
      cotp_send(p, COTP_ATOM(may_reach));
      cotp_make_ref(); /* as OTP: a little work in between */
    }
    cotp_term victim = COTP_TUPLE(h, COTP_ATOM(victim), cotp_int(h, round));
    cotp_assert_rc(cotp_exit_signal(p, victim), 0);
    for (int i = 0; i < 3; i++)
      cotp_send(p, COTP_ATOM(may_not_reach));
    cotp_term caps[1];
    cotp_clause c = {cotp_test_pattern("{:DOWN, ^ref, :process, _, reason}"), &ref, caps};
    cotp_assert_rc(cotp_receive_match(&c, 1, 10000, 0, NULL), 0);
    cotp_assert_term_eq(caps[0], victim);
    cotp_heap_release(h, mark);
  }
}

/* ------------------------------------------------------------------------ */

static void say_hello(void *arg) {
  cotp_send(cotp_test_arg_pid(arg), COTP_TUPLE(cotp_self_heap(), COTP_ATOM(spawned),
                                    cotp_pid_term(cotp_self())));
}

/* C4: messages from runtime services (timers, name sends, spawned
 * processes) are ordinary messages with no order among them or with a
 * sender's own: each arrives exactly once, in whatever order; only the
 * direct sends of one sender keep their order. */
COTP_TEST(order, c4_runtime_service_messages_are_unordered_but_all_arrive) {
  enum { N = 100 };
  cotp_heap *h = cotp_self_heap();
  cotp_term name = cotp_atom("c4_me");
  cotp_assert_rc(cotp_register(name, cotp_self()), 0);
  for (int i = 0; i < N; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_term timer = COTP_TUPLE(h, COTP_ATOM(timer), cotp_int(h, i));
    cotp_assert_rc(cotp_send_after(i % 3, cotp_self(), timer, NULL), 0);
    cotp_assert_rc(cotp_send(cotp_self(), COTP_TUPLE(h, COTP_ATOM(direct), cotp_int(h, i))), 0);
    cotp_assert_rc(cotp_send_name(name, COTP_TUPLE(h, COTP_ATOM(named), cotp_int(h, i))), 0);
    cotp_assert_rc(cotp_spawn(say_hello, cotp_test_pid_arg(cotp_self()), NULL), 0);
    cotp_heap_release(h, m);
  }
  int timers[N] = {0}, spawned = 0, next_direct = 0;
  /* direct and named sends are both ours: one channel, one order */
  int next_named = 0;
  for (int k = 0; k < 4 * N; k++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_term msg;
    cotp_assert_rc(cotp_receive(10000, &msg), 0);
    int64_t i = cotp_int_value(cotp_tuple_get(msg, 1));
    if (cotp_test_is_cmd(msg, "timer", 2)) {
      cr_assert_eq(timers[i]++, 0, "timer %lld twice", (long long)i);
    } else if (cotp_test_is_cmd(msg, "direct", 2)) {
      cr_assert_eq(i, next_direct++);
    } else if (cotp_test_is_cmd(msg, "named", 2)) {
      cr_assert_eq(i, next_named++);
    } else {
      cr_assert(cotp_test_is_cmd(msg, "spawned", 2), "unexpected %s", cotp_test_show(msg));
      spawned++;
    }
    cotp_heap_release(h, m);
  }
  cr_assert_eq(spawned, N);
  for (int i = 0; i < N; i++)
    cr_assert_eq(timers[i], 1);
  cotp_term msg;
  cotp_assert_rc(cotp_receive(20, &msg), COTP_ETIMEDOUT);
}

/* ------------------------------------------------------------------------ */

/* Answers {:req, from, ref[, gate]} with {:reply, ref, self}; with a gate,
 * only after a :go from it. */
static void server(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  for (;;) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_term msg;
    cotp_receive(COTP_INFINITY, &msg);
    if (cotp_test_is_cmd(msg, "req", 3) || cotp_test_is_cmd(msg, "req", 4)) {
      if (cotp_tuple_size(msg) == 4) {
        cotp_clause c = {cotp_test_pattern(":go"), NULL, NULL};
        cotp_receive_match(&c, 1, COTP_INFINITY, 0, NULL);
      }
      cotp_send(cotp_get_pid(cotp_tuple_get(msg, 1)),
                COTP_TUPLE(h, COTP_ATOM(reply), cotp_tuple_get(msg, 2),
                           cotp_pid_term(cotp_self())));
    } else if (cotp_test_is_cmd(msg, "req_then_go", 4)) {
      cotp_send(cotp_get_pid(cotp_tuple_get(msg, 1)),
                COTP_TUPLE(h, COTP_ATOM(reply), cotp_tuple_get(msg, 2),
                           cotp_pid_term(cotp_self())));
      cotp_send(cotp_get_pid(cotp_tuple_get(msg, 3)), COTP_ATOM(go));
    } else {
      return;
    }
    cotp_heap_release(h, m);
  }
}

/* C5: replies may come back in another order than the requests went out,
 * when the work behind them is scheduled so; a caller that matches each
 * reply by its reference gets both. */
COTP_TEST(order, c5_replies_may_come_in_another_order_than_requests) {
  cotp_heap *h = cotp_self_heap();
  cotp_pid slow, fast;
  cotp_assert_rc(cotp_spawn(server, NULL, &slow), 0);
  cotp_assert_rc(cotp_spawn(server, NULL, &fast), 0);
  for (int round = 0; round < 50; round++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_receive_mark();
    cotp_term r1 = cotp_make_ref(), r2 = cotp_make_ref(), me = cotp_pid_term(cotp_self());
    /* the first request waits for the second one's work to be done */
    cotp_send(slow, COTP_TUPLE(h, COTP_ATOM(req), me, r1, COTP_ATOM(gated)));
    cotp_send(fast, COTP_TUPLE(h, COTP_ATOM(req_then_go), me, r2, cotp_pid_term(slow)));
    cotp_term first;
    cotp_assert_rc(cotp_receive(10000, &first), 0);
    cotp_assert_term_eq(first, COTP_TUPLE(h, COTP_ATOM(reply), r2, cotp_pid_term(fast)));
    cotp_clause c = {cotp_test_pattern("{:reply, ^r, _}"), &r1, NULL};
    cotp_assert_rc(cotp_receive_match(&c, 1, 10000, COTP_RECV_AFTER_MARK, NULL), 0);
    cotp_heap_release(h, m);
  }
  cotp_send(slow, COTP_ATOM_STOP);
  cotp_send(fast, COTP_ATOM_STOP);
  cr_assert_eq(cotp_mailbox_length(), 0);
}
