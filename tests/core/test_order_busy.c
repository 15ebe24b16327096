/* SPDX-License-Identifier: Apache-2.0 */
/* Signals under concurrency: to a process receiving, busy, blocked, or
 * switching out while others send (C9-C11, C13).  Ordering of signals
 * between one pair is test_order.c. */
#include <stdatomic.h>
#include <unistd.h>

#include "cotp/io.h"
#include "harness.h"

/* C9 and C10: a receiver counts each sender's messages, which must come
 * in order and exactly once, while others poke at it. */
enum { C9_SENDERS = 2, C9_BATCH = 64 };

static struct c9 {
  cotp_pid receiver, root;
  cotp_pid senders[C9_SENDERS];
  _Atomic bool stop;
  int pokes; /* per poker */
} c9;

/* {:n, s, i} in batches of C9_BATCH, each batch after a :credit from the
 * receiver, until told to stop; then {:end, s, count}. */
static void c9_sender(void *arg) {
  int s = (int)(intptr_t)arg;
  cotp_heap *h = cotp_self_heap();
  int64_t i = 0;
  while (!atomic_load(&c9.stop)) {
    for (int b = 0; b < C9_BATCH; b++, i++) {
      cotp_heap_mark m = cotp_heap_mark_now(h);
      cotp_send(c9.receiver, COTP_TUPLE(h, COTP_ATOM(n), cotp_int(h, s), cotp_int(h, i)));
      cotp_heap_release(h, m);
    }
    cotp_term credit;
    cotp_receive(COTP_INFINITY, &credit);
  }
  cotp_send(c9.receiver, COTP_TUPLE(h, COTP_ATOM(end), cotp_int(h, s), cotp_int(h, i)));
}

static void c9_receiver(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  int64_t next[C9_SENDERS] = {0};
  int ended = 0;
  bool ok = true;
  while (ended < C9_SENDERS) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_term msg;
    cotp_receive(COTP_INFINITY, &msg);
    int s = (int)cotp_int_value(cotp_tuple_get(msg, 1));
    int64_t i = cotp_int_value(cotp_tuple_get(msg, 2));
    if (cotp_test_is_cmd(msg, "n", 3)) {
      ok = ok && s >= 0 && s < C9_SENDERS && i == next[s];
      if (ok && ++next[s] % C9_BATCH == 0)
        cotp_send(c9.senders[s], COTP_ATOM(credit));
    } else if (cotp_test_is_cmd(msg, "end", 3)) {
      ok = ok && s >= 0 && s < C9_SENDERS && i == next[s];
      ended++;
    } else {
      ok = false;
    }
    cotp_heap_release(h, m);
  }
  cotp_term links;
  cotp_process_info(cotp_self(), cotp_atom("links"), &links);
  cotp_send(c9.root, COTP_TUPLE(h, COTP_ATOM(received), cotp_bool(ok),
                                cotp_int(h, next[0] + next[1]), links));
}

/* process_info(receiver, message_queue_len), link, unlink, c9.pokes
 * times; reports {:poked, bad} (bad: impossible queue lengths). */
static void c9_poker(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  int bad = 0;
  for (int i = 0; i < c9.pokes; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_term len;
    int rc = cotp_process_info(c9.receiver, cotp_atom("message_queue_len"), &len);
    /* credit flow bounds the queue: each sender has at most a batch and an
     * end outstanding */
    if (rc != 0 || !cotp_is_integer(len) || cotp_int_value(len) < 0 ||
        cotp_int_value(len) > C9_SENDERS * (C9_BATCH + 1))
      bad++;
    if (cotp_link(c9.receiver) != 0 || cotp_unlink(c9.receiver) != 0)
      bad++;
    cotp_heap_release(h, m);
  }
  cotp_term links;
  cotp_process_info(cotp_self(), cotp_atom("links"), &links);
  if (!cotp_is_nil(links))
    bad++;
  cotp_send(c9.root, COTP_TUPLE(h, COTP_ATOM(poked), cotp_int(h, bad)));
}

/* C9: process_info(P, message_queue_len), link and unlink from several
 * processes at once while P receives a stream of messages: P's queue stays
 * whole (every message once, in each sender's order), the lengths seen
 * are possible ones, and the links all come undone.  OTP's test runs
 * 400,000 iterations; this runs 200,000 to keep the suite quick, and
 * 20,000 under the sanitizers, which are ten times slower. */
COTP_TEST(order, c9_process_info_and_link_unlink_race_a_receiving_process, .timeout = 120) {
  enum { POKERS = 3 };
  c9.root = cotp_self();
  c9.pokes = (cotp_test_sanitized() ? 20000 : 200000) / POKERS;
  atomic_store(&c9.stop, false);
  cotp_assert_rc(cotp_spawn(c9_receiver, NULL, &c9.receiver), 0);
  for (int s = 0; s < C9_SENDERS; s++)
    cotp_assert_rc(cotp_spawn(c9_sender, (void *)(intptr_t)s, &c9.senders[s]), 0);
  for (int k = 0; k < POKERS; k++)
    cotp_assert_rc(cotp_spawn(c9_poker, NULL, NULL), 0);
  cotp_clause poked = {cotp_test_pattern("{:poked, bad}"), NULL, NULL};
  for (int k = 0; k < POKERS; k++) {
    cotp_term caps[1];
    poked.captures = caps;
    cotp_assert_rc(cotp_receive_match(&poked, 1, 60000, 0, NULL), 0);
    cr_assert_eq(cotp_int_value(caps[0]), 0, "poker %d saw impossible answers", k);
  }
  atomic_store(&c9.stop, true);
  for (int s = 0; s < C9_SENDERS; s++)
    cotp_send(c9.senders[s], COTP_ATOM(credit)); /* in case it waits */
  cotp_term caps[3];
  cotp_clause got = {cotp_test_pattern("{:received, ok, n, links}"), NULL, caps};
  cotp_assert_rc(cotp_receive_match(&got, 1, 60000, 0, NULL), 0);
  cotp_assert_term_eq(caps[0], COTP_ATOM_TRUE);
  cr_assert_gt(cotp_int_value(caps[1]), 0);
  cotp_assert_prints(caps[2], "[]");
}

static _Atomic bool c10_release, c10_busy_now;
static _Atomic int c10_blocking_done;

/* Computes without calling the runtime until released (saying so with
 * c10_busy_now, set after its last call), then counts what it got. */
/* Counts messages until :done: {:n, k} for k = *next, *next + 1... in
 * order; exit signals received as messages; and anything else. */
static void c10_count(int64_t *next, int64_t *exits, int64_t *other) {
  cotp_heap *h = cotp_self_heap();
  for (;;) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_term msg;
    cotp_receive(COTP_INFINITY, &msg);
    if (cotp_term_eq(msg, COTP_ATOM(done)))
      break;
    if (cotp_test_is_cmd(msg, "n", 2) && cotp_int_value(cotp_tuple_get(msg, 1)) == *next)
      ++*next;
    else if (cotp_test_is_cmd(msg, "EXIT", 3))
      ++*exits;
    else
      ++*other;
    cotp_heap_release(h, m);
  }
}

static void c10_busy(void *arg) {
  cotp_pid root = cotp_test_arg_pid(arg);
  cotp_trap_exit(true, NULL);
  atomic_store(&c10_busy_now, true);
  while (!atomic_load_explicit(&c10_release, memory_order_acquire))
    ; /* native code: no signal is handled here */
  cotp_heap *h = cotp_self_heap();
  int64_t next = 0, exits = 0, other = 0;
  c10_count(&next, &exits, &other);
  cotp_term links, by;
  cotp_process_info(cotp_self(), cotp_atom("links"), &links);
  cotp_process_info(cotp_self(), cotp_atom("monitored_by"), &by);
  cotp_send(root, COTP_TUPLE(h, COTP_ATOM(counted), cotp_int(h, next), cotp_int(h, exits),
                             cotp_int(h, other), links, by));
  cotp_receive(COTP_INFINITY, NULL);
}

static void c10_wait_release(void *arg) {
  (void)arg;
  atomic_store(&c10_busy_now, true);
  while (!atomic_load_explicit(&c10_release, memory_order_acquire))
    usleep(200);
  atomic_fetch_add(&c10_blocking_done, 1);
}

/* Waits in a blocking call (the BEAM's dirty schedulers) until released,
 * then counts as c10_busy. */
static void c10_blocked(void *arg) {
  cotp_pid root = cotp_test_arg_pid(arg);
  cotp_heap *h = cotp_self_heap();
  cotp_blocking(c10_wait_release, NULL);
  int64_t next = 0, exits = 0, other = 0;
  c10_count(&next, &exits, &other);
  other += exits; /* it traps no exits: one would be a bug here */
  cotp_send(root, COTP_TUPLE(h, COTP_ATOM(counted), cotp_int(h, next), cotp_int(h, other)));
}

/* Asks process_info of the pid in arg and reports the answer. */
static void c10_asker(void *arg) {
  cotp_pid target = cotp_test_arg_pid(arg);
  cotp_term len;
  int rc = cotp_process_info(target, cotp_atom("message_queue_len"), &len);
  cotp_send(c9.root, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(asked), cotp_int(NULL, rc), len));
}

static void linker(void *arg) {
  cotp_link(cotp_test_arg_pid(arg));
  cotp_receive(COTP_INFINITY, NULL);
}

static void wait_busy(void) {
  for (int i = 0; i < 10000 && !atomic_load(&c10_busy_now); i++)
    cotp_sleep(1);
  cr_assert(atomic_load(&c10_busy_now));
}

/* C10: signals sent to a process that is busy in native code, or parked
 * in a blocking call, are accepted and handled once it comes back, each
 * exactly once: messages, an exit signal (trapped), a link, a monitor, a
 * process_info request (answered late), and an untrappable kill. */
static void c10_root(void *arg) {
  (void)arg;
  int n = cotp_test_sanitized() ? 2000 : 20000;
  cotp_heap *h = cotp_self_heap();
  c9.root = cotp_self();
  /* busy in native code */
  atomic_store(&c10_release, false);
  cotp_pid p, l;
  cotp_term ref;
  atomic_store(&c10_busy_now, false);
  cotp_assert_rc(cotp_spawn(c10_busy, cotp_test_pid_arg(cotp_self()), &p), 0);
  wait_busy();
  cotp_assert_rc(cotp_monitor(p, &ref), 0);
  cotp_assert_rc(cotp_spawn(linker, cotp_test_pid_arg(p), &l), 0);
  cotp_term lref;
  cotp_assert_rc(cotp_monitor(l, &lref), 0);
  cotp_assert_rc(cotp_spawn(c10_asker, cotp_test_pid_arg(p), NULL), 0);
  for (int i = 0; i < n; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_send(p, COTP_TUPLE(h, COTP_ATOM(n), cotp_int(h, i)));
    if (i == n / 2)
      cotp_exit_signal(p, COTP_ATOM(trapped));
    cotp_heap_release(h, m);
  }
  cotp_send(p, COTP_ATOM(done));
  cotp_sleep(20);
  cotp_term msg;
  cotp_assert_rc(cotp_receive(0, &msg), COTP_ETIMEDOUT); /* no answer yet */
  atomic_store_explicit(&c10_release, true, memory_order_release);
  cotp_term caps[5];
  cotp_clause asked = {cotp_test_pattern("{:asked, 0, len}"), NULL, caps};
  cotp_assert_rc(cotp_receive_match(&asked, 1, 10000, 0, NULL), 0);
  cr_assert(cotp_is_integer(caps[0]));
  cotp_clause counted = {cotp_test_pattern("{:counted, n, exits, other, links, by}"), NULL, caps};
  cotp_assert_rc(cotp_receive_match(&counted, 1, 10000, 0, NULL), 0);
  cr_assert_eq(cotp_int_value(caps[0]), n, "messages received in order, once");
  cr_assert_eq(cotp_int_value(caps[1]), 1, "one EXIT");
  cr_assert_eq(cotp_int_value(caps[2]), 0, "nothing else");
  cotp_assert_term_eq(caps[3], COTP_LIST(h, cotp_pid_term(l)));
  cotp_assert_term_eq(caps[4], COTP_LIST(h, cotp_pid_term(cotp_self())));
  cotp_assert_rc(cotp_exit_signal(p, COTP_ATOM_KILL), 0);
  cotp_clause down = {cotp_test_pattern("{:DOWN, ^ref, :process, _, :killed}"), &ref, NULL};
  cotp_assert_rc(cotp_receive_match(&down, 1, 10000, 0, NULL), 0);
  cotp_clause ldown = {cotp_test_pattern("{:DOWN, ^ref, :process, _, :killed}"), &lref, NULL};
  cotp_assert_rc(cotp_receive_match(&ldown, 1, 10000, 0, NULL), 0); /* the link */
  cotp_assert_rc(cotp_receive(20, &msg), COTP_ETIMEDOUT); /* one DOWN each */

  /* parked in a blocking call: messages wait, then come once, in order */
  for (int kill = 0; kill < 2; kill++) {
    atomic_store(&c10_release, false);
    atomic_store(&c10_blocking_done, 0);
    atomic_store(&c10_busy_now, false);
    cotp_assert_rc(cotp_spawn(c10_blocked, cotp_test_pid_arg(cotp_self()), &p), 0);
    wait_busy();
    cotp_assert_rc(cotp_monitor(p, &ref), 0);
    cotp_assert_rc(cotp_spawn(c10_asker, cotp_test_pid_arg(p), NULL), 0);
    for (int i = 0; i < n / 10; i++)
      cotp_send(p, COTP_TUPLE(h, COTP_ATOM(n), cotp_int(h, i)));
    if (kill)
      cotp_assert_rc(cotp_exit_signal(p, COTP_ATOM_KILL), 0);
    cotp_send(p, COTP_ATOM(done));
    cotp_sleep(10);
    atomic_store_explicit(&c10_release, true, memory_order_release);
    if (kill) {
      cotp_assert_rc(cotp_receive_match(&down, 1, 10000, 0, NULL), 0);
      cr_assert_eq(atomic_load(&c10_blocking_done), 1, "the call finished first");
      /* the asker got an answer: before the kill, or as from the dead */
      cotp_clause any = {cotp_test_pattern("{:asked, rc, _}"), NULL, caps};
      cotp_assert_rc(cotp_receive_match(&any, 1, 10000, 0, NULL), 0);
      cr_assert(cotp_int_value(caps[0]) == 0 || cotp_int_value(caps[0]) == COTP_ENOPROC);
    } else {
      cotp_assert_rc(cotp_receive_match(&asked, 1, 10000, 0, NULL), 0);
      cotp_clause counted2 = {cotp_test_pattern("{:counted, n, other}"), NULL, caps};
      cotp_assert_rc(cotp_receive_match(&counted2, 1, 10000, 0, NULL), 0);
      cr_assert_eq(cotp_int_value(caps[0]), n / 10);
      cr_assert_eq(cotp_int_value(caps[1]), 0);
      cotp_clause normal = {cotp_test_pattern("{:DOWN, ^ref, :process, _, :normal}"), &ref, NULL};
      cotp_assert_rc(cotp_receive_match(&normal, 1, 10000, 0, NULL), 0);
    }
    cotp_assert_rc(cotp_receive(10, &msg), COTP_ETIMEDOUT);
  }
}

/* Two schedulers whatever COTP_TEST_SCHEDULERS says: the busy process
 * holds one of them. */
Test(order, c10_signals_to_a_busy_process_are_handled_once, .timeout = 60) {
  cotp_test_run(c10_root, NULL, 2);
}

/* ------------------------------------------------------------------------ */

/* How a process of a C11 pair waits for its next message. */
enum c11_wait {
  C11_PARK,    /* receive with a long timeout: parks */
  C11_TIMED,   /* receive with 1 ms timeouts: the timer races the message */
  C11_POLL,    /* receive(0), then yield: schedules out while it comes */
  C11_HANDLER, /* a handler process: parks with no stack */
  C11_KINDS
};

struct c11_pair {
  enum c11_wait wait;
  int rounds, id;
  cotp_pid root, ponger;
};

/* The next message, or COTP_ETIMEDOUT after 10 s: a lost wake-up. */
static int c11_next(enum c11_wait wait, cotp_term *msg) {
  if (wait == C11_PARK || wait == C11_HANDLER)
    return cotp_receive(10000, msg);
  int64_t give_up = cotp_monotonic_ms() + 10000;
  while (cotp_monotonic_ms() < give_up) {
    if (cotp_receive(wait == C11_TIMED ? 1 : 0, msg) == 0)
      return 0;
    if (wait == C11_POLL)
      cotp_yield();
  }
  return COTP_ETIMEDOUT;
}

static void c11_ponger(void *arg) {
  struct c11_pair *pair = arg;
  cotp_heap *h = cotp_self_heap();
  for (;;) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_term msg;
    if (c11_next(pair->wait, &msg) != 0 || !cotp_is_tuple(msg))
      return;
    cotp_send(cotp_get_pid(cotp_tuple_get(msg, 0)), cotp_tuple_get(msg, 1));
    cotp_heap_release(h, m);
  }
}

static bool c11_handle(void *state, cotp_term msg) {
  (void)state;
  if (!cotp_is_tuple(msg))
    return false;
  cotp_send(cotp_get_pid(cotp_tuple_get(msg, 0)), cotp_tuple_get(msg, 1));
  return true;
}

static void c11_pinger(void *arg) {
  struct c11_pair *pair = arg;
  cotp_heap *h = cotp_self_heap();
  cotp_term me = cotp_pid_term(cotp_self());
  enum c11_wait wait = pair->wait == C11_HANDLER ? C11_PARK : pair->wait;
  for (int i = 0; i < pair->rounds; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_send(pair->ponger, COTP_TUPLE(h, me, cotp_int(h, i)));
    cotp_term msg;
    if (c11_next(wait, &msg) != 0 || cotp_int_value(msg) != i) {
      cotp_send(pair->root, COTP_TUPLE(h, COTP_ATOM(stuck), cotp_int(h, pair->id),
                                       cotp_int(h, i)));
      return;
    }
    cotp_heap_release(h, m);
  }
  cotp_send(pair->ponger, COTP_ATOM_STOP);
  cotp_send(pair->root, COTP_TUPLE(h, COTP_ATOM(pair_done), cotp_int(h, pair->id)));
}

/* C11: a process that parks, or schedules out, just as a message comes is
 * never left outside every run queue: ping-pong pairs that wait in every
 * way a process can (parked, with a timer racing, polling with yields, as
 * a handler without a stack) all finish; a lost wake-up would leave one
 * waiting for its 10 s. */
COTP_TEST(order, c11_no_lost_wakeups_at_schedule_out, .timeout = 120) {
  enum { PAIRS = 2 * C11_KINDS };
  static struct c11_pair pairs[PAIRS];
  int rounds = cotp_test_sanitized() ? 1000 : 10000;
  for (int i = 0; i < PAIRS; i++) {
    pairs[i] = (struct c11_pair){(enum c11_wait)(i % C11_KINDS), rounds, i, cotp_self(), {0}};
    if (pairs[i].wait == C11_HANDLER)
      cotp_assert_rc(cotp_spawn_handler(c11_handle, NULL, NULL, &pairs[i].ponger), 0);
    else
      cotp_assert_rc(cotp_spawn(c11_ponger, &pairs[i], &pairs[i].ponger), 0);
  }
  for (int i = 0; i < PAIRS; i++)
    cotp_assert_rc(cotp_spawn(c11_pinger, &pairs[i], NULL), 0);
  for (int done = 0; done < PAIRS; done++) {
    cotp_term msg;
    cotp_assert_rc(cotp_receive(60000, &msg), 0);
    cr_assert(cotp_test_is_cmd(msg, "pair_done", 2), "%s (pair id, round): a lost wake-up",
              cotp_test_show(msg));
  }
}

/* ------------------------------------------------------------------------ */

static _Atomic bool c13_release, c13_blocked;

static void c13_wait(void *arg) {
  (void)arg;
  atomic_store(&c13_blocked, true);
  while (!atomic_load(&c13_release))
    usleep(200);
}

static void c13_blocked_then_receive(void *arg) {
  (void)arg;
  cotp_blocking(c13_wait, NULL);
  cotp_clause never = {cotp_test_pattern(":never"), NULL, NULL};
  cotp_receive_match(&never, 1, COTP_INFINITY, 0, NULL);
}

static void c13_scanner(void *arg) {
  (void)arg;
  cotp_clause never = {cotp_test_pattern("{:never, _}"), NULL, NULL};
  cotp_receive_match(&never, 1, COTP_INFINITY, 0, NULL);
}

static void c13_flooder(void *arg) {
  cotp_pid target = cotp_test_arg_pid(arg);
  cotp_heap *h = cotp_self_heap();
  static const char x[200] = {'x'};
  cotp_term big = cotp_binary(h, x, sizeof x);
  for (int i = 0; cotp_is_alive(target); i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_send(target, COTP_TUPLE(h, cotp_int(h, i), big));
    cotp_heap_release(h, m);
  }
}

/* C13 (OTP moves a big queue off heap or copies literals while signals
 * arrive and the process is killed; cotp's analogue is its one change of
 * queue representation, the inbox drained into the private queue): an exit
 * signal in the middle of a large batch ends the process there; the rest
 * of the batch is freed, and the link and monitor requests in it get the
 * answers of a dead process (noproc, as OTP 25 gives for a pending exit),
 * and a process scanning a large queue while flooded can be killed, with
 * nothing lost or leaked (LeakSanitizer checks the freeing). */
COTP_TEST(order, c13_kill_amid_a_large_batch_frees_it_and_answers_noproc, .timeout = 60) {
  int n = cotp_test_sanitized() ? 5000 : 50000;
  cotp_heap *h = cotp_self_heap();
  static const char y[100] = {'y'};
  cotp_term big = cotp_binary(h, y, sizeof y); /* shared: counted references */
  atomic_store(&c13_release, false);
  atomic_store(&c13_blocked, false);
  cotp_pid p;
  cotp_term before, after;
  cotp_assert_rc(cotp_spawn(c13_blocked_then_receive, NULL, &p), 0);
  cotp_assert_rc(cotp_monitor(p, &before), 0);
  for (int i = 0; i < 10000 && !atomic_load(&c13_blocked); i++)
    cotp_sleep(1);
  for (int i = 0; i < n; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_send(p, COTP_TUPLE(h, cotp_int(h, i), big));
    cotp_heap_release(h, m);
  }
  cotp_assert_rc(cotp_exit_signal(p, COTP_ATOM(stop_it)), 0);
  cotp_assert_rc(cotp_monitor(p, &after), 0);
  cotp_assert_rc(cotp_trap_exit(true, NULL), 0);
  cotp_assert_rc(cotp_link(p), 0);
  for (int i = 0; i < n; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_send(p, COTP_TUPLE(h, cotp_int(h, i), big));
    cotp_heap_release(h, m);
  }
  atomic_store(&c13_release, true);
  cotp_term me_exit = cotp_format(h, "{:EXIT, ~p, :noproc}", p);
  cotp_term d1 = cotp_format(h, "{:DOWN, ~t, :process, ~p, :stop_it}", before, p);
  cotp_term d2 = cotp_format(h, "{:DOWN, ~t, :process, ~p, :noproc}", after, p);
  bool seen[3] = {false, false, false};
  for (int k = 0; k < 3; k++) {
    cotp_term msg;
    cotp_assert_rc(cotp_receive(10000, &msg), 0);
    int which = cotp_term_eq(msg, d1) ? 0 : cotp_term_eq(msg, d2) ? 1
                : cotp_term_eq(msg, me_exit) ? 2 : -1;
    cr_assert(which >= 0 && !seen[which], "unexpected %s", cotp_test_show(msg));
    seen[which] = true;
  }
  cotp_term msg;
  cotp_assert_rc(cotp_receive(20, &msg), COTP_ETIMEDOUT);
  cotp_assert_rc(cotp_trap_exit(false, NULL), 0);

  /* scanning a large queue while flooded, then killed */
  for (int round = 0; round < 3; round++) {
    cotp_pid s;
    cotp_term ref;
    cotp_assert_rc(cotp_spawn(c13_scanner, NULL, &s), 0);
    cotp_assert_rc(cotp_monitor(s, &ref), 0);
    for (int f = 0; f < 2; f++)
      cotp_assert_rc(cotp_spawn(c13_flooder, cotp_test_pid_arg(s), NULL), 0);
    cotp_sleep(20 + 10 * round);
    cotp_assert_rc(cotp_exit_signal(s, COTP_ATOM(stop_scanning)), 0);
    cotp_term caps[1];
    cotp_clause down = {cotp_test_pattern("{:DOWN, ^ref, :process, _, reason}"), &ref, caps};
    cotp_assert_rc(cotp_receive_match(&down, 1, 10000, 0, NULL), 0);
    cotp_assert_term_eq(caps[0], COTP_ATOM(stop_scanning));
  }
}
