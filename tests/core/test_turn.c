/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Direct turns (cotp_handler_turn): a caller runs an idle handler's turn
 * itself.  The turn is the handler's in every way; it answers straight
 * into the caller's heap only while the caller waits and nothing reached
 * the caller first; a turn that waits goes on as the handler's own; a
 * turn that dies leaves a DOWN with its real reason.
 */
#include <stdatomic.h>

#include "harness.h"

/* A counter handler: each message adds one; {:add, n} from a turn adds n. */
struct counter {
  long n;
  long handled; /* messages handled by handle() */
};

static bool count(void *state, cotp_term msg) {
  struct counter *c = state;
  (void)msg;
  c->n++;
  c->handled++;
  return true;
}

static cotp_pid spawn_counter(struct counter *c) {
  cotp_pid pid;
  cotp_assert_rc(cotp_spawn_handler(count, c, NULL, &pid), 0);
  return pid;
}

struct add_arg {
  long by;
  cotp_term tag;
  cotp_pid caller;
};

/* Waits until pid is idle (parked with nothing queued).  Asking for its
 * status is a signal it answers, so it runs once more after the answer
 * says waiting: give it time to park again. */
static void settle_down(cotp_pid pid) {
  for (int i = 0; i < 10000; i++) {
    cotp_term st;
    if (cotp_process_info(pid, COTP_ATOM(status), &st) == 0 &&
        st.w == COTP_ATOM(waiting).w) {
      cotp_sleep(2);
      return;
    }
    cotp_yield();
  }
  cr_assert_fail("the handler never went idle");
}

/* Waits (up to 10 s) until pid is gone: a turn that answered may still
 * run after its answer, when its budget ran out before it exited (tests
 * perturb the budget). */
static void wait_dead(cotp_pid pid) {
  for (int i = 0; i < 10000 && cotp_is_alive(pid); i++)
    cotp_sleep(1);
  cr_assert(!cotp_is_alive(pid), "the handler did not exit");
}

/* A fresh counter handler on c, idle. */
static cotp_pid idle_counter(struct counter *c) {
  *c = (struct counter){0};
  cotp_pid pid = spawn_counter(c);
  settle_down(pid);
  return pid;
}

/* The next message is want, within 10 s. */
static void expect(cotp_term want) {
  cotp_term got;
  cotp_assert_rc(cotp_receive(10000, &got), 0);
  cotp_assert_term_eq(got, want);
}

/* Whether cotp_handler_turn ran nothing and may be asked again: perturbed
 * scheduling declined it, a slow sanitizer build had not parked the
 * handler yet, or another taker held or ran it. */
static bool declined(int rc) {
  return rc == COTP_TURN_NOT_RUN || rc == COTP_TURN_BUSY || rc == COTP_TURN_HELD;
}

/* cotp_handler_turn, retried while it is declined. */
static int turn(cotp_pid pid, cotp_term tag, cotp_turn_fn *fn, const void *arg,
                size_t size, cotp_term *answer) {
  for (int i = 0; i < 64; i++) {
    int rc = cotp_handler_turn(pid, count, tag, 0, fn, arg, size, answer);
    if (!declined(rc))
      return rc;
    cotp_sleep(1);
  }
  return COTP_TURN_NOT_RUN;
}

/* A turn of fn preceded by a fresh monitor of pid (mode), still pending
 * as a call's is when the turn runs; *ref gets it. */
static int monitored_turn(cotp_pid pid, cotp_alias_mode mode, cotp_turn_fn *fn,
                          struct add_arg *a, cotp_term *ref, cotp_term *ans) {
  for (int i = 0; i < 64; i++) {
    cotp_assert_rc(cotp_monitor_alias(pid, mode, ref), 0);
    a->tag = *ref;
    int rc = cotp_handler_turn(pid, count, *ref, 0, fn, a, sizeof *a, ans);
    if (!declined(rc))
      return rc;
    /* declined: the monitor goes (a signal pid handles), and again */
    cotp_demonitor(*ref, COTP_DEMONITOR_FLUSH);
    cotp_sleep(2);
  }
  return COTP_TURN_NOT_RUN;
}

/* Adds, and answers {self, n} with a fresh tuple in the handler's heap. */
static void add_and_answer(void *state, void *arg) {
  struct counter *c = state;
  const struct add_arg *a = arg;
  c->n += a->by;
  cotp_heap *h = cotp_self_heap();
  cotp_term ans = COTP_TUPLE(h, cotp_pid_term(cotp_self()), cotp_int(h, c->n),
                             cotp_binary(h, "answered", 8));
  cr_assert(cotp_turn_answer(a->tag, ans));
  cr_assert(!cotp_turn_answer(a->tag, ans), "a second answer is refused");
}

COTP_TEST(turn, an_idle_handler_answers_straight_into_the_callers_heap) {
  static struct counter c;
  cotp_pid pid = idle_counter(&c);
  cotp_term tag = cotp_make_ref();
  struct add_arg a = {5, tag, cotp_self()};
  cotp_term ans;
  cotp_assert_rc(turn(pid, tag, add_and_answer, &a, sizeof a, &ans),
                 COTP_TURN_ANSWERED);
  cotp_heap *h = cotp_self_heap();
  /* the turn ran as the handler (self was pid), and the answer is ours */
  cotp_assert_term_eq(ans, COTP_TUPLE(h, cotp_pid_term(pid), cotp_int(h, 5),
                                      cotp_binary(h, "answered", 8)));
  cr_assert_eq(c.handled, 0, "no message went to the handler");
  /* it is an ordinary handler again: a message reaches handle() */
  cotp_send(pid, COTP_ATOM(tick));
  settle_down(pid);
  cr_assert_eq(c.n, 6);
  cr_assert_eq(c.handled, 1);
  cotp_exit_signal(pid, COTP_ATOM_KILL);
}

static void never(void *state, void *arg) {
  (void)state, (void)arg;
  cr_assert_fail("this turn must not run");
}

static void nothing(void *state, void *arg) { (void)state, (void)arg; }

static bool other_handler(void *state, cotp_term msg) {
  (void)state, (void)msg;
  return true;
}

static void nested_caller(void *state, void *arg) {
  (void)state;
  const cotp_pid *other = arg;
  cotp_term ans;
  /* a turn inside a turn: declined, the request would go as a message */
  cotp_assert_rc(cotp_handler_turn(*other, count, COTP_ATOM(t), 0, never, NULL, 0,
                                   &ans),
                 COTP_TURN_NOT_RUN);
}

COTP_TEST(turn, only_an_idle_handler_of_that_function_runs_one) {
  static struct counter c, d;
  d = (struct counter){0};
  cotp_term ans;
  cotp_pid pid = idle_counter(&c);
  /* bad input */
  cotp_assert_rc(cotp_handler_turn(pid, NULL, COTP_ATOM(t), 0, never, NULL, 0, &ans),
                 COTP_EINVAL);
  cotp_assert_rc(cotp_handler_turn(pid, count, COTP_ATOM(t), 0, NULL, NULL, 0, &ans),
                 COTP_EINVAL);
  cotp_assert_rc(cotp_handler_turn(pid, count, COTP_ATOM(t), 0, never, NULL, 0, NULL),
                 COTP_EINVAL);
  cotp_assert_rc(cotp_handler_turn(pid, count, COTP_ATOM(t), 0, never, NULL, 8, &ans),
                 COTP_EINVAL);
  char big[257] = {0};
  cotp_assert_rc(cotp_handler_turn(pid, count, COTP_ATOM(t), 0, never, big,
                                   sizeof big, &ans),
                 COTP_EINVAL);
  /* a handler of another function, a plain process, itself, the dead */
  cotp_pid other;
  cotp_assert_rc(cotp_spawn_handler(other_handler, NULL, NULL, &other), 0);
  settle_down(other);
  cotp_assert_rc(cotp_handler_turn(other, count, COTP_ATOM(t), 0, never, NULL, 0, &ans),
                 COTP_TURN_NOT_RUN);
  cotp_pid plain;
  cotp_assert_rc(cotp_spawn(cotp_test_idle, NULL, &plain), 0);
  settle_down(plain);
  cotp_assert_rc(cotp_handler_turn(plain, count, COTP_ATOM(t), 0, never, NULL, 0, &ans),
                 COTP_TURN_NOT_RUN);
  cotp_assert_rc(cotp_handler_turn(cotp_self(), count, COTP_ATOM(t), 0, never, NULL, 0,
                                   &ans),
                 COTP_TURN_NOT_RUN);
  cotp_pid gone = spawn_counter(&d);
  cotp_term ref;
  cotp_assert_rc(cotp_monitor(gone, &ref), 0);
  cotp_exit_signal(gone, COTP_ATOM_KILL);
  cotp_test_down_of(ref, gone);
  cotp_assert_rc(cotp_handler_turn(gone, count, COTP_ATOM(t), 0, never, NULL, 0, &ans),
                 COTP_TURN_NOT_RUN);
  /* the woken plain process and the other handler are unharmed */
  cr_assert(cotp_is_alive(plain) && cotp_is_alive(other));
  /* a busy handler: a message queued, so the request would go behind it */
  cotp_send(pid, COTP_ATOM(first));
  int rc = cotp_handler_turn(pid, count, COTP_ATOM(t), 0, nothing, NULL, 0, &ans);
  if (rc != COTP_TURN_NOT_RUN && rc != COTP_TURN_BUSY)
    cr_assert_eq(c.handled, 1, "a turn ran only after the message (rc %d)", rc);
  /* and a turn never nests */
  settle_down(pid);
  cotp_pid second = spawn_counter(&d);
  settle_down(second);
  cotp_assert_rc(turn(pid, COTP_ATOM(t), nested_caller, &second, sizeof second,
                      &ans),
                 COTP_TURN_UNANSWERED);
  cotp_exit_signal(pid, COTP_ATOM_KILL);
  cotp_exit_signal(second, COTP_ATOM_KILL);
  cotp_exit_signal(other, COTP_ATOM_KILL);
  cotp_exit_signal(plain, COTP_ATOM_KILL);
}

/* Waits for a message in its turn, then answers: too late for a direct
 * answer, so it answers with a message.  Its argument, copied onto the
 * turn's stack, must still be intact after the caller went on. */
static void wait_then_answer(void *state, void *arg) {
  struct counter *c = state;
  const struct add_arg *a = arg;
  cotp_term go;
  cotp_assert_rc(cotp_receive(10000, &go), 0);
  cotp_assert_term_eq(go, COTP_ATOM(go));
  c->n += a->by;
  cr_assert(!cotp_turn_answer(a->tag, COTP_ATOM(direct)),
            "the caller no longer waits for this turn");
  cotp_send(a->caller, COTP_TUPLE(cotp_self_heap(), a->tag, cotp_int(NULL, c->n)));
}

COTP_TEST(turn, a_turn_that_waits_goes_on_as_the_handlers_own) {
  static struct counter c;
  cotp_pid pid = idle_counter(&c);
  cotp_term tag = cotp_make_ref(), ans = COTP_NONE;
  struct add_arg a = {7, tag, cotp_self()};
  cotp_assert_rc(turn(pid, tag, wait_then_answer, &a, sizeof a, &ans),
                 COTP_TURN_UNANSWERED);
  cr_assert(cotp_is_none(ans), "no answer was written");
  a.by = 1000; /* the turn has its own copy */
  cotp_test_scribble_stack();
  cotp_send(pid, COTP_ATOM(go));
  expect(COTP_TUPLE(cotp_self_heap(), tag, cotp_int(NULL, 7)));
  /* the turn ended and the handler is idle again, handling messages */
  cotp_send(pid, COTP_ATOM(tick));
  settle_down(pid);
  cr_assert_eq(c.n, 8);
  cr_assert_eq(c.handled, 1, "the go was the turn's, not handle()'s");
  cotp_exit_signal(pid, COTP_ATOM_KILL);
}

static void yield_then_answer(void *state, void *arg) {
  (void)state;
  const struct add_arg *a = arg;
  cotp_yield();
  if (!cotp_turn_answer(a->tag, COTP_ATOM(late)))
    cotp_send(a->caller, COTP_TUPLE(cotp_self_heap(), a->tag, COTP_ATOM(late)));
}

/* A turn of fn on a fresh idle counter that gives no direct answer;
 * a->tag is its tag.  Returns the counter. */
static cotp_pid unanswered_turn(struct counter *c, cotp_turn_fn *fn,
                                struct add_arg *a) {
  cotp_pid pid = idle_counter(c);
  cotp_term ans;
  *a = (struct add_arg){0, cotp_make_ref(), cotp_self()};
  cotp_assert_rc(turn(pid, a->tag, fn, a, sizeof *a, &ans), COTP_TURN_UNANSWERED);
  return pid;
}

COTP_TEST(turn, a_turn_that_yields_goes_on_as_the_handlers_own) {
  static struct counter c;
  struct add_arg a;
  cotp_pid pid = unanswered_turn(&c, yield_then_answer, &a);
  expect(COTP_TUPLE(cotp_self_heap(), a.tag, COTP_ATOM(late)));
  cotp_exit_signal(pid, COTP_ATOM_KILL);
}

/* Answers at once when a->by is odd (the turn ends and returns into its
 * caller), yields first when it is even (the turn switches out, and goes
 * on as the handler's own, answering late). */
static void odd_now_even_late(void *state, void *arg) {
  struct counter *c = state;
  const struct add_arg *a = arg;
  c->n += a->by;
  if (a->by % 2 == 0) {
    yield_then_answer(state, arg);
    return;
  }
  cr_assert(cotp_turn_answer(a->tag, cotp_int(NULL, c->n)));
}

/* The two ways a turn gives control back to its caller (sched.c,
 * cotp__turn_run): returning, where it was entered by a call, and
 * switching out.  Alternated, the caller's own values must come back
 * intact from both, and every late turn must finish as the handler's. */
COTP_TEST(turn, turns_that_return_and_turns_that_switch_out_alternate) {
  static struct counter c;
  cotp_pid pid = idle_counter(&c);
  long sum = 0, odd = 0, late = 0;
  for (long by = 1; by <= 40; by++) {
    struct add_arg a = {by, cotp_make_ref(), cotp_self()};
    cotp_term ans;
    int rc = turn(pid, a.tag, odd_now_even_late, &a, sizeof a, &ans);
    sum += by;
    if (by % 2) {
      cotp_assert_rc(rc, COTP_TURN_ANSWERED);
      cr_assert_eq(cotp_int_value(ans), sum, "the count after %ld", by);
      odd++;
    } else {
      cotp_assert_rc(rc, COTP_TURN_UNANSWERED);
      expect(COTP_TUPLE(cotp_self_heap(), a.tag, COTP_ATOM(late)));
      late++;
      settle_down(pid);
    }
  }
  cr_assert_eq(odd, 20);
  cr_assert_eq(late, 20);
  cr_assert_eq(c.n, 40 * 41 / 2);
  cotp_exit_signal(pid, COTP_ATOM_KILL);
}

/* Sends the caller a message, then tries to answer. */
static void send_then_answer(void *state, void *arg) {
  (void)state;
  const struct add_arg *a = arg;
  cotp_send(a->caller, COTP_ATOM(before));
  cr_assert(!cotp_turn_answer(a->tag, COTP_ATOM(direct)),
            "something reached the caller first: no direct answer");
  cotp_send(a->caller, COTP_TUPLE(cotp_self_heap(), a->tag, COTP_ATOM(sent)));
}

COTP_TEST(turn, what_reaches_the_caller_first_keeps_its_place) {
  static struct counter c;
  struct add_arg a;
  cotp_pid pid = unanswered_turn(&c, send_then_answer, &a);
  expect(COTP_ATOM(before));
  expect(COTP_TUPLE(cotp_self_heap(), a.tag, COTP_ATOM(sent)));
  cotp_exit_signal(pid, COTP_ATOM_KILL);
}

static void die_in_turn(void *state, void *arg) {
  (void)state, (void)arg;
  cotp_exit(COTP_ATOM(died_in_turn));
}

/* The monitor a call makes just before its request: pending, not sent. */
COTP_TEST(turn, a_turn_that_dies_gives_the_callers_monitor_its_real_reason) {
  static struct counter c;
  cotp_term ans;
  for (int k = 0; k < 2; k++) {
    cotp_pid pid = idle_counter(&c);
    cotp_term ref;
    struct add_arg a = {0, COTP_NONE, cotp_self()};
    cotp_assert_rc(monitored_turn(pid, k ? COTP_ALIAS_REPLY_DEMONITOR
                                         : COTP_ALIAS_NONE,
                                  die_in_turn, &a, &ref, &ans),
                   COTP_TURN_UNANSWERED);
    wait_dead(pid);
    cotp_assert_term_eq(cotp_test_down_of(ref, pid), COTP_ATOM(died_in_turn));
  }
}

/* An answer through the tag of the caller's reply_demonitor monitor ends
 * that monitor and its alias: nothing comes later, whatever the server
 * does. */
static void answer_then_die(void *state, void *arg) {
  (void)state;
  const struct add_arg *a = arg;
  cr_assert(cotp_turn_answer(a->tag, COTP_ATOM(ok)));
  /* a second reply through the alias, then death: both unseen */
  cotp_send_alias(a->tag, COTP_TUPLE(cotp_self_heap(), a->tag, COTP_ATOM(again)));
  cotp_exit(COTP_ATOM(after_answer));
}

COTP_TEST(turn, an_answer_ends_the_callers_monitor_and_alias) {
  static struct counter c;
  cotp_pid pid = idle_counter(&c);
  cotp_term ref, ans;
  struct add_arg a = {0, COTP_NONE, cotp_self()};
  cotp_assert_rc(monitored_turn(pid, COTP_ALIAS_REPLY_DEMONITOR, answer_then_die,
                                &a, &ref, &ans),
                 COTP_TURN_ANSWERED);
  cotp_assert_term_eq(ans, COTP_ATOM(ok));
  wait_dead(pid);
  cotp_test_refute_received("_", 100);
  cotp_assert_rc(cotp_demonitor(ref, COTP_DEMONITOR_INFO), 0); /* gone */
}

/* --- COTP_TURN_MONITOR_ALIAS: the call idiom's monitor, made late --- */

/* A turn of fn with a fresh reference as a late monitor alias. */
static int alias_turn(cotp_pid pid, cotp_turn_fn *fn, struct add_arg *a,
                      cotp_term *ans) {
  for (int i = 0; i < 64; i++) {
    a->tag = cotp_make_ref();
    int rc = cotp_handler_turn(pid, count, a->tag, COTP_TURN_MONITOR_ALIAS, fn,
                               a, sizeof *a, ans);
    if (!declined(rc))
      return rc;
    cotp_sleep(1);
  }
  return COTP_TURN_NOT_RUN;
}

/* An alias turn of fn on a fresh idle counter that gives no direct
 * answer; a->tag is its alias.  Returns the counter. */
static cotp_pid unanswered_alias_turn(struct counter *c, cotp_turn_fn *fn,
                                      struct add_arg *a) {
  cotp_pid pid = idle_counter(c);
  cotp_term ans;
  *a = (struct add_arg){0, COTP_NONE, cotp_self()};
  cotp_assert_rc(alias_turn(pid, fn, a, &ans), COTP_TURN_UNANSWERED);
  return pid;
}

COTP_TEST(turn, an_answered_call_turn_leaves_no_monitor_and_no_alias) {
  static struct counter c;
  cotp_pid pid = idle_counter(&c);
  cotp_term ans;
  cotp_assert_rc(cotp_handler_turn(pid, count, COTP_ATOM(t),
                                   COTP_TURN_MONITOR_ALIAS, never, NULL, 0, &ans),
                 COTP_EINVAL);
  cotp_assert_rc(cotp_handler_turn(pid, count, cotp_make_ref(), 4, never, NULL,
                                   0, &ans),
                 COTP_EINVAL);
  struct add_arg a = {0, COTP_NONE, cotp_self()};
  cotp_assert_rc(alias_turn(pid, answer_then_die, &a, &ans), COTP_TURN_ANSWERED);
  cotp_assert_term_eq(ans, COTP_ATOM(ok));
  wait_dead(pid);
  /* no DOWN, and the second reply through the alias was dropped */
  cotp_test_refute_received("_", 100);
  cotp_assert_rc(cotp_demonitor(a.tag, COTP_DEMONITOR_INFO), 0);
  /* the alias is gone from the table: a send through it goes nowhere */
  cotp_send_alias(a.tag, COTP_ATOM(stray));
  cotp_test_refute_received("_", 20);
}

COTP_TEST(turn, a_call_turn_that_dies_gives_a_down_with_its_reason) {
  static struct counter c;
  struct add_arg a;
  cotp_pid pid = unanswered_alias_turn(&c, die_in_turn, &a);
  cotp_assert_term_eq(cotp_test_down_of(a.tag, pid), COTP_ATOM(died_in_turn));
}

/* Gives the alias to a helper, which replies through it (a bare send to
 * the alias) while the turn waits for it; then replies itself. */
static void third_replier(void *arg) {
  (void)arg;
  cotp_term msg;
  cotp_receive(COTP_INFINITY, &msg); /* {turn_pid, tag} */
  cotp_term tag = cotp_tuple_get(msg, 1);
  cotp_send_alias(tag, COTP_TUPLE(cotp_self_heap(), tag, COTP_ATOM(from_helper)));
  cotp_send(cotp_get_pid(cotp_tuple_get(msg, 0)), COTP_ATOM(sent));
}

static void give_alias_away(void *state, void *arg) {
  (void)state;
  const struct add_arg *a = arg;
  cotp_pid helper;
  cotp_assert_rc(cotp_spawn(third_replier, NULL, &helper), 0);
  cotp_heap *h = cotp_self_heap();
  cotp_send(helper, COTP_TUPLE(h, cotp_pid_term(cotp_self()), a->tag));
  cotp_term sent;
  cotp_assert_rc(cotp_receive(10000, &sent), 0);
  cotp_send_alias(a->tag, COTP_TUPLE(h, a->tag, COTP_ATOM(from_turn)));
}

/* The same from another scheduler while the turn is still running: the
 * helper finds the alias where the turn's scheduler published it.  The
 * turn never switches out (it spins until the helper has sent), so the
 * helper runs on the other scheduler, and its reply reaches the caller
 * before the turn's own answer, which is then refused. */
static _Atomic bool helper_sent;

static void replier_elsewhere(void *arg) {
  (void)arg;
  cotp_term msg;
  cotp_receive(COTP_INFINITY, &msg); /* the tag */
  cotp_send_alias(msg, COTP_TUPLE(cotp_self_heap(), msg, COTP_ATOM(from_helper)));
  atomic_store(&helper_sent, true);
}

static void spin_while_helper_replies(void *state, void *arg) {
  (void)state;
  const struct add_arg *a = arg;
  atomic_store(&helper_sent, false);
  cotp_pid helper;
  cotp_assert_rc(cotp_spawn(replier_elsewhere, NULL, &helper), 0);
  cotp_send(helper, a->tag);
  int64_t deadline = cotp_monotonic_ms() + 10000;
  while (!atomic_load(&helper_sent) && cotp_monotonic_ms() < deadline)
    ;
  cr_assert(atomic_load(&helper_sent), "the helper never ran");
  cr_assert(!cotp_turn_answer(a->tag, COTP_ATOM(from_turn)),
            "the turn's answer was taken after the helper's reply");
}

COTP_TEST(turn, a_call_turns_alias_works_from_another_scheduler_during_the_turn) {
  static struct counter c;
  struct add_arg a;
  unanswered_alias_turn(&c, spin_while_helper_replies, &a);
  expect(COTP_TUPLE(cotp_self_heap(), a.tag, COTP_ATOM(from_helper)));
  /* that reply ended the monitor the unanswered turn left */
  cotp_assert_rc(cotp_demonitor(a.tag, COTP_DEMONITOR_INFO), 0);
  cotp_test_refute_received("_", 20);
}

COTP_TEST(turn, a_call_turns_alias_works_for_anyone_while_it_runs) {
  static struct counter c;
  struct add_arg a;
  cotp_pid pid = unanswered_alias_turn(&c, give_alias_away, &a);
  expect(COTP_TUPLE(cotp_self_heap(), a.tag, COTP_ATOM(from_helper)));
  /* the first reply ended the monitor and the alias: the turn's is dropped,
   * and no DOWN comes when the handler dies */
  cotp_test_refute_received("_", 50);
  cotp_exit_signal(pid, COTP_ATOM_KILL);
  cotp_test_refute_received("_", 50);
  cotp_assert_rc(cotp_demonitor(a.tag, COTP_DEMONITOR_INFO), 0);
}

/* --- the hold: turns stay with one scheduler for a moment --- */

/* Takes turns of t->handler without end until 300 were answered: a turn
 * the other taker's scheduler holds is COTP_TURN_HELD, a running one
 * COTP_TURN_BUSY, and a perturbed schedule may decline one. */
struct taker {
  cotp_pid handler, owner;
  long answered, held;
};

static void take_turns(void *arg) {
  struct taker *t = arg;
  cotp_heap *h = cotp_self_heap();
  int64_t deadline = cotp_monotonic_ms() + 20000;
  while (t->answered < 300 && cotp_monotonic_ms() < deadline) {
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    struct add_arg a = {1, cotp_make_ref(), cotp_self()};
    cotp_term ans;
    int rc = cotp_handler_turn(t->handler, count, a.tag, 0, add_and_answer, &a,
                               sizeof a, &ans);
    cotp_heap_release(h, mark);
    if (rc == COTP_TURN_ANSWERED) {
      t->answered++;
      continue;
    }
    cr_assert(rc == COTP_TURN_HELD || rc == COTP_TURN_BUSY || rc == COTP_TURN_NOT_RUN,
              "turn: %d", rc);
    t->held += rc == COTP_TURN_HELD;
    cotp_yield();
  }
  cotp_send(t->owner, COTP_ATOM(done));
}

COTP_TEST(turn, held_turns_change_hands_so_two_takers_both_get_answers) {
  static struct counter c;
  cotp_pid pid = idle_counter(&c);
  static struct taker t[2];
  for (int i = 0; i < 2; i++) {
    t[i] = (struct taker){pid, cotp_self(), 0, 0};
    cotp_assert_rc(cotp_spawn(take_turns, &t[i], NULL), 0);
  }
  for (int i = 0; i < 2; i++)
    expect(COTP_ATOM(done));
  cr_assert_eq(t[0].answered, 300, "the first taker got %ld answers", t[0].answered);
  cr_assert_eq(t[1].answered, 300, "the second taker got %ld answers", t[1].answered);
  cr_assert_eq(c.n, 600, "every answered turn added one");
  cr_assert_eq(c.handled, 0, "no message went to the handler");
}
