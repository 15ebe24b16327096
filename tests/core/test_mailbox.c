/* SPDX-License-Identifier: Apache-2.0 */
/* Mailboxes and selective receive (behaviours C3, C6, C7, C8, C12). */
#include <pthread.h>

#include "core/proc.h"
#include "harness.h"
#include "platform/clock.h"

/* C6: unmatched messages stay, in their order, for a later receive. */
COTP_TEST(mailbox, c6_selective_receive_keeps_unmatched_in_order) {
  cotp_pid me = cotp_self();
  for (int i = 1; i <= 5; i++)
    cotp_send(me, cotp_format(cotp_self_heap(), "{:n, ~i}", i));
  cotp_send(me, cotp_test_parse(":wanted"));
  cotp_send(me, cotp_test_parse("{:n, 6}"));
  cotp_clause c = {cotp_test_pattern(":wanted"), NULL, NULL};
  cotp_term msg;
  cotp_assert_rc(cotp_receive_match(&c, 1, 1000, 0, &msg), 0);
  cotp_assert_term_eq(msg, COTP_ATOM(wanted));
  cr_assert_eq(cotp_mailbox_length(), 6);
  for (int i = 1; i <= 6; i++) {
    cotp_assert_rc(cotp_receive(0, &msg), 0);
    cr_assert_eq(cotp_int_value(cotp_tuple_get(msg, 1)), i);
  }
  cotp_assert_rc(cotp_receive(0, &msg), COTP_ETIMEDOUT);
}

/* C12: after 0 returns at once when nothing matches. */
COTP_TEST(mailbox, c12_after_zero_polls) {
  cotp_term msg;
  int64_t t0 = cotp__now_ms();
  cotp_assert_rc(cotp_receive(0, &msg), COTP_ETIMEDOUT);
  cotp_send(cotp_self(), cotp_test_parse("{:other}"));
  cotp_clause c = {cotp_test_pattern("{:mine}"), NULL, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 0, 0, &msg), COTP_ETIMEDOUT);
  cr_assert_lt(cotp__now_ms() - t0, 1000);
  cr_assert_eq(cotp_mailbox_length(), 1);
}

COTP_TEST(mailbox, clauses_pins_and_captures) {
  cotp_pid me = cotp_self();
  cotp_term ref = cotp_make_ref(), other = cotp_make_ref();
  cotp_send(me, cotp_format(cotp_self_heap(), "{:reply, ~t, :wrong}", other));
  cotp_send(me, cotp_format(cotp_self_heap(), "{:reply, ~t, {:ok, 7}}", ref));
  cotp_term caps[1];
  cotp_clause c[2] = {{cotp_test_pattern("{:never}"), NULL, NULL},
                      {cotp_test_pattern("{:reply, ^ref, {:ok, value}}"), &ref, caps}};
  cotp_term msg;
  cotp_assert_rc(cotp_receive_match(c, 2, 1000, 0, &msg), 1);
  cr_assert_eq(cotp_int_value(caps[0]), 7);
  cotp_assert_rc(cotp_receive_match(c, 2, 0, 0, &msg), COTP_ETIMEDOUT);
  cotp_assert_rc(cotp_receive_match(NULL, 1, 0, 0, &msg), COTP_EINVAL);
  cotp_clause needs_pin = {cotp_test_pattern("{^x}"), NULL, NULL};
  cotp_assert_rc(cotp_receive_match(&needs_pin, 1, 0, 0, &msg), COTP_EINVAL);
}

static bool is_even(cotp_term msg, void *ctx) {
  (void)ctx;
  return cotp_is_integer(msg) && cotp_int_value(msg) % 2 == 0;
}

COTP_TEST(mailbox, receive_by_a_c_test) {
  cotp_send(cotp_self(), cotp_int(NULL, 3));
  cotp_send(cotp_self(), cotp_int(NULL, 4));
  cotp_term msg;
  cotp_assert_rc(cotp_receive_if(is_even, NULL, 100, 0, &msg), 0);
  cr_assert_eq(cotp_int_value(msg), 4);
  cotp_assert_rc(cotp_receive_if(is_even, NULL, 0, 0, &msg), COTP_ETIMEDOUT);
}

/* A message that comes later, from another process. */
static void send_later(void *arg) {
  cotp_sleep(20);
  cotp_send(*(cotp_pid *)arg, cotp_int(NULL, 8));
}

/* COTP_RECV_DEADLINE: the timeout is a time on cotp_monotonic_ms()'s clock. */
COTP_TEST(mailbox, receive_until_an_absolute_deadline) {
  cotp_term msg;
  /* already past: looks once, like after 0, and finds what is there */
  cotp_send(cotp_self(), cotp_int(NULL, 3));
  cotp_send(cotp_self(), cotp_int(NULL, 6));
  cotp_assert_rc(cotp_receive_if(is_even, NULL, 0, COTP_RECV_DEADLINE, &msg), 0);
  cr_assert_eq(cotp_int_value(msg), 6);
  int64_t t0 = cotp_monotonic_ms();
  cotp_assert_rc(cotp_receive_if(is_even, NULL, t0 - 5, COTP_RECV_DEADLINE, &msg),
                 COTP_ETIMEDOUT);
  /* ahead: waits until then, not for that many milliseconds */
  t0 = cotp_monotonic_ms();
  cotp_assert_rc(cotp_receive_if(is_even, NULL, t0 + 30, COTP_RECV_DEADLINE, &msg),
                 COTP_ETIMEDOUT);
  cr_assert_geq(cotp_monotonic_ms(), t0 + 30);
  cr_assert_lt(cotp_monotonic_ms() - t0, 5000);
  /* a message that comes before it ends the wait */
  cotp_pid me = cotp_self();
  cotp_assert_rc(cotp_spawn(send_later, &me, NULL), 0);
  cotp_assert_rc(cotp_receive_if(is_even, NULL, cotp_monotonic_ms() + 60000,
                                 COTP_RECV_DEADLINE, &msg), 0);
  cr_assert_eq(cotp_int_value(msg), 8);
  cotp_assert_rc(cotp_receive(COTP_INFINITY, &msg), 0); /* the 3 */
  cr_assert_eq(cotp_int_value(msg), 3);
  /* COTP_INFINITY is still no deadline; a negative time and an unknown
   * flag are errors */
  cotp_send(cotp_self(), cotp_int(NULL, 10));
  cotp_assert_rc(cotp_receive_if(is_even, NULL, COTP_INFINITY, COTP_RECV_DEADLINE, &msg), 0);
  cotp_assert_rc(cotp_receive_if(is_even, NULL, -5, COTP_RECV_DEADLINE, &msg), COTP_EINVAL);
  cotp_assert_rc(cotp_receive_if(is_even, NULL, 0, 1u << 7, &msg), COTP_EINVAL);
}

static void replier(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  for (;;) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_term msg;
    cotp_receive(COTP_INFINITY, &msg);
    if (!cotp_is_tuple(msg))
      return;
    /* {from, ref} -> {ref, :pong} */
    cotp_send(cotp_get_pid(cotp_tuple_get(msg, 0)),
              COTP_TUPLE(h, cotp_tuple_get(msg, 1), COTP_ATOM(pong)));
    cotp_heap_release(h, m);
  }
}

static int64_t calls(cotp_pid server, int n) {
  cotp_heap *h = cotp_self_heap();
  const cotp_pattern *reply = cotp_test_pattern("{^ref, :pong}");
  int64_t t0 = cotp__now_ns();
  for (int i = 0; i < n; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_receive_mark();
    cotp_term ref = cotp_make_ref();
    cotp_send(server, COTP_TUPLE(h, cotp_pid_term(cotp_self()), ref));
    cotp_clause c = {reply, &ref, NULL};
    cotp_assert_rc(cotp_receive_match(&c, 1, 5000, COTP_RECV_AFTER_MARK, NULL), 0);
    cotp_heap_release(h, m);
  }
  return cotp__now_ns() - t0;
}

/* C7: a call that waits for a fresh reference does not scan the queue:
 * 10,000 calls with 500,000 unrelated messages queued take less than 10x
 * the time of the same calls on an empty queue. */
COTP_TEST(mailbox, c7_call_with_huge_queue_is_not_o_queue, .timeout = 120) {
  cotp_pid server;
  cr_assert_eq(cotp_spawn(replier, NULL, &server), 0);
  int n = 10000, junk = cotp_test_sanitized() ? 50000 : 500000;
  calls(server, 500); /* warm up */
  int64_t empty = calls(server, n);
  for (int i = 0; i < junk; i++)
    cotp_send(cotp_self(), cotp_int(NULL, i));
  cr_assert_eq(cotp_mailbox_length(), (size_t)junk);
  int64_t full = calls(server, n);
  cr_assert_lt(full, 10 * empty, "empty queue: %lld ns, %d queued: %lld ns",
               (long long)empty, junk, (long long)full);
  cr_assert_eq(cotp_mailbox_length(), (size_t)junk);
  cotp_send(server, COTP_ATOM_STOP);
}

struct counter_arg {
  cotp_pid to;
  int id, n;
};

static void counter(void *arg) {
  struct counter_arg *a = arg;
  cotp_heap *h = cotp_self_heap();
  for (int i = 0; i < a->n; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_send(a->to, COTP_TUPLE(h, cotp_int(h, a->id), cotp_int(h, i)));
    cotp_heap_release(h, m);
  }
}

/* C8: 64 concurrent senders; each one's messages arrive in order. C3: the
 * senders interleave freely. */
COTP_TEST(mailbox, c8_per_sender_order_with_64_senders, .timeout = 60) {
  enum { SENDERS = 64 };
  int n = cotp_test_sanitized() ? 200 : 2000;
  static struct counter_arg args[SENDERS];
  for (int i = 0; i < SENDERS; i++) {
    args[i] = (struct counter_arg){cotp_self(), i, n};
    cr_assert_eq(cotp_spawn(counter, &args[i], NULL), 0);
  }
  int next[SENDERS] = {0};
  cotp_heap *h = cotp_self_heap();
  for (int k = 0; k < SENDERS * n; k++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_term msg;
    cotp_assert_rc(cotp_receive(10000, &msg), 0);
    int id = (int)cotp_int_value(cotp_tuple_get(msg, 0));
    int v = (int)cotp_int_value(cotp_tuple_get(msg, 1));
    cr_assert_eq(v, next[id], "sender %d: got %d, expected %d", id, v, next[id]);
    next[id]++;
    cotp_heap_release(h, m);
  }
}

static cotp_pid foreign_target;
static void *foreign_sender(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_heap_new();
  for (int i = 0; i < 1000; i++)
    cotp_send(foreign_target, cotp_int(h, i));
  cotp_heap_free(h);
  return NULL;
}

/* A thread that is not a process may send; its messages keep their order. */
COTP_TEST(mailbox, send_from_a_foreign_thread) {
  foreign_target = cotp_self();
  pthread_t t;
  pthread_create(&t, NULL, foreign_sender, NULL);
  for (int i = 0; i < 1000; i++) {
    cotp_term msg;
    cotp_assert_rc(cotp_receive(10000, &msg), 0);
    cr_assert_eq(cotp_int_value(msg), i);
  }
  pthread_join(t, NULL);
}

/* Large binaries are shared with the receiver, not copied. */
COTP_TEST(mailbox, large_binary_sent_is_not_copied) {
  cotp_heap *h = cotp_self_heap();
  uint8_t *data;
  cotp_term big = cotp_binary_alloc(h, 1 << 20, &data);
  memset(data, 9, 1 << 20);
  cotp_send(cotp_self(), COTP_TUPLE(h, COTP_ATOM(bin), big));
  cotp_term msg;
  cotp_assert_rc(cotp_receive(1000, &msg), 0);
  size_t len;
  cr_assert_eq(cotp_binary_data(cotp_tuple_get(msg, 1), &len), data);
  cr_assert_eq(len, (size_t)1 << 20);
}

COTP_TEST(mailbox, messages_left_in_a_dead_mailbox_are_freed) {
  /* checked by LeakSanitizer: the process exits with a full mailbox */
  for (int i = 0; i < 1000; i++)
    cotp_send(cotp_self(), cotp_string(cotp_self_heap(), "left behind, and long enough to be shared: 0123456789012345678901234567890123456789"));
}

/* Sending to the "no pid" (bits 0, what cotp_self() gives outside a
 * process) is a send to a dead pid: nothing happens, nothing leaks. */
COTP_TEST(mailbox, send_to_no_pid_is_dropped) {
  cotp_pid none = {0};
  for (int i = 0; i < 100; i++)
    cotp_assert_rc(cotp_send(none, cotp_test_parse("{:lost, [1, 2]}")), 0);
  cr_assert(!cotp_is_alive(none));
  /* block 0, which no process uses, holds nothing */
  struct cotp__proc *zero = &cotp__ptable.blocks[0];
  cr_assert_eq(atomic_load(&zero->inbox) & INBOX_PTR_MASK, 0);
}

/* A sent term arrives equal whatever its shape: the small terms copied in
 * one pass (up to 64 words, 6 levels) and the ones just past each limit,
 * which take the two-pass copy. */
COTP_TEST(mailbox, messages_of_every_shape_arrive_intact) {
  cotp_heap *h = cotp_self_heap();
  const char *shapes[] = {
      "{:\"$gen_call\", {:a, [:alias | :b]}, :inc}",
      "[1, 2, 3 | :tail]",
      "[[1], [2, [3, [4, [5, [6]]]]]]",          /* exactly 6 deep */
      "[[1], [2, [3, [4, [5, [6, [7]]]]]]]",     /* 7 deep: two-pass */
      "{1.5, 123456789012345678, \"short binary\", %{a: [1, 2], b: {}}}",
      "%{{1, 2} => [3.25], \"k\" => %{x: -9000000000000000000}}",
  };
  for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
    cotp_term t = cotp_test_parse(shapes[i]);
    cotp_assert_rc(cotp_send(cotp_self(), t), 0);
    cotp_term got;
    cotp_assert_rc(cotp_receive(0, &got), 0);
    cotp_assert_term_eq(got, t);
  }
  /* lists of n integers take 2n words: 10 fit in a message's direct
   * room (21 words), 11 do not; 32 fit the scratch, 33 do not; the refc
   * binary makes every tuple take the two-pass copy */
  static const char big[100] = "a refc binary: shared, so never small";
  static const int sizes[] = {9, 10, 11, 12, 30, 31, 32, 33, 34};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    int n = sizes[i];
    cotp_term l = COTP_NIL;
    for (int k = 0; k < n; k++)
      l = cotp_cons(h, cotp_int(h, k), l);
    cotp_term t = COTP_TUPLE(h, l, cotp_binary(h, big, sizeof big));
    cotp_assert_rc(cotp_send(cotp_self(), l), 0);
    cotp_assert_rc(cotp_send(cotp_self(), t), 0);
    cotp_term got;
    cotp_assert_rc(cotp_receive(0, &got), 0);
    cotp_assert_term_eq(got, l);
    cotp_assert_rc(cotp_receive(0, &got), 0);
    cotp_assert_term_eq(got, t);
  }
}

/* --- a message handed straight to a parked process (cotp__inbox_push) --- */

static bool is_stop(cotp_term msg, void *ctx) {
  (void)ctx;
  return cotp_term_eq(msg, COTP_ATOM(stop));
}

/* Traps exits, says it is ready, waits for :stop alone (leaving the rest
 * queued), then reports the next three messages in one tuple. */
static void parked_receiver(void *arg) {
  cotp_pid root = {(uint64_t)(uintptr_t)arg};
  cotp_heap *h = cotp_self_heap();
  cotp_trap_exit(true, NULL);
  cotp_send(root, COTP_ATOM(ready));
  cotp_term got[3], stop;
  cotp_receive_if(is_stop, NULL, 10000, 0, &stop);
  for (int i = 0; i < 3; i++)
    if (cotp_receive(0, &got[i]) != 0)
      got[i] = COTP_ATOM(missing);
  cotp_send(root, COTP_TUPLE(h, COTP_ATOM(saw), got[0], got[1], got[2]));
}

/* Whether pid's process is parked with nothing in its inbox: the state in
 * which a send hands the message straight to its private queue. */
static bool parked_empty(cotp_pid pid) {
  struct cotp__proc *p = cotp__proc_lookup(pid);
  return p && (atomic_load(&p->inbox) & INBOX_PTR_MASK) == INBOX_WAITING;
}

/* C1 with the shortcut: a message that goes straight into a parked
 * process's private queue keeps its place among its sender's signals.  The
 * exit signal sent after it (a message for a trapper, through the inbox)
 * comes after it, and the next message after that, whichever way each went.
 * Rounds alternate between waiting for the receiver to park first and not. */
COTP_TEST(mailbox, c1_message_to_a_parked_process_keeps_its_place) {
  cotp_heap *h = cotp_self_heap();
  cotp_term me = cotp_pid_term(cotp_self());
  int rounds = cotp_test_sanitized() ? 50 : 300, parked = 0;
  for (int round = 0; round < rounds; round++) {
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    cotp_pid r;
    cotp_assert_rc(cotp_spawn(parked_receiver, (void *)(uintptr_t)cotp_self().bits, &r), 0);
    cotp_term ready;
    cotp_assert_rc(cotp_receive(10000, &ready), 0);
    cotp_assert_term_eq(ready, COTP_ATOM(ready));
    if (round % 2 == 0) {
      for (int i = 0; i < 100000 && !parked_empty(r); i++)
        cotp_yield();
      parked += parked_empty(r);
    }
    cotp_send(r, COTP_TUPLE(h, COTP_ATOM(m), cotp_int(h, 1)));
    cotp_exit_signal(r, COTP_ATOM(bye));
    cotp_send(r, COTP_TUPLE(h, COTP_ATOM(m), cotp_int(h, 2)));
    cotp_send(r, COTP_ATOM(stop));
    cotp_term saw;
    cotp_assert_rc(cotp_receive(10000, &saw), 0);
    cotp_assert_term_eq(saw, COTP_TUPLE(h, COTP_ATOM(saw),
                                        COTP_TUPLE(h, COTP_ATOM(m), cotp_int(h, 1)),
                                        COTP_TUPLE(h, COTP_ATOM_EXIT, me, COTP_ATOM(bye)),
                                        COTP_TUPLE(h, COTP_ATOM(m), cotp_int(h, 2))));
    cotp_heap_release(h, mark);
  }
  /* the shortcut was taken: the receiver was found parked in most rounds
   * that waited for it */
  cr_assert_gt(parked, rounds / 4, "parked in %d rounds of %d", parked, rounds / 2);
}

/* Returns the message it was spawned with to the process named by arg. */
static void echo_first(void *arg) {
  cotp_pid to = {(uint64_t)(uintptr_t)arg};
  cotp_term msg;
  if (cotp_receive(10000, &msg) == 0)
    cotp_send(to, msg);
}

/* Tuples of immediates travel as flat messages up to a size (proc.h) and
 * the general way beyond: each size, on either side of the bound, arrives
 * whole, sent and as a spawn's first message, with a small heap top so
 * the copy into the receiver's heap sometimes needs a new block. */
COTP_TEST(mailbox, tuples_of_immediates_of_every_size_arrive_whole) {
  cotp_heap *h = cotp_self_heap();
  cotp_term ref = cotp_make_ref();
  for (size_t n = 1; n <= FLAT_MAX_ELEMENTS + 3; n++) {
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    cotp_term elems[FLAT_MAX_ELEMENTS + 3];
    for (size_t i = 0; i < n; i++)
      elems[i] = i % 3 == 0 ? cotp_int(h, (int64_t)i)
                 : i % 3 == 1 ? ref : cotp_pid_term(cotp_self());
    cotp_term t = cotp_tuple(h, n, elems);
    cr_assert_eq(flat_tuple_words(t), n <= FLAT_MAX_ELEMENTS ? n + 1 : 0, "n = %zu", n);
    cotp_assert_rc(cotp_send(cotp_self(), t), 0);
    cotp_term got;
    cotp_assert_rc(cotp_receive(0, &got), 0);
    cotp_assert_term_eq(got, t);
    cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
    o.message = t;
    cotp_assert_rc(cotp_spawn_opt(echo_first, (void *)(uintptr_t)cotp_self().bits, &o, NULL), 0);
    cotp_assert_rc(cotp_receive(10000, &got), 0);
    cotp_assert_term_eq(got, t);
    cotp_heap_release(h, mark);
  }
}
