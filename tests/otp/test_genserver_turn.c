/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GenServer calls to an idle server run the server's turn in the caller
 * (cotp_handler_turn): the same replies, in the same order, whichever
 * way a call goes.  Scheduling is perturbed in tests, so each call here
 * goes one way or the other at random; the cases are the ones where the
 * two ways could differ.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "harness.h"

static cotp_pid owner;

static cotp_gs_ret init(cotp_term arg, void **state) {
  (void)arg;
  *state = NULL;
  return cotp_gs_ok();
}

/* Requests:
 *   :status        -> the caller's process status, seen from the server
 *   :twice         -> replies :first itself, then returns reply :second
 *   :note          -> sends the caller :note, then replies :ok
 *   {:wait, t}     -> waits for :go, then sends the owner {:request, t}
 *                     and replies t */
static cotp_gs_ret handle_call(cotp_term req, cotp_genserver_from from,
                               void **state) {
  (void)state;
  cotp_heap *h = cotp_self_heap();
  if (req.w == COTP_ATOM(status).w) {
    cotp_term st;
    cotp_assert_rc(cotp_process_info(from.pid, COTP_ATOM(status), &st), 0);
    return cotp_gs_reply(st);
  }
  if (req.w == COTP_ATOM(twice).w) {
    cotp_assert_rc(cotp_genserver_reply(from, COTP_ATOM(first)), 0);
    return cotp_gs_reply(COTP_ATOM(second));
  }
  if (req.w == COTP_ATOM(note).w) {
    cotp_send(from.pid, COTP_ATOM(note));
    return cotp_gs_reply(COTP_ATOM_OK);
  }
  cotp_term go;
  cotp_assert_rc(cotp_receive(10000, &go), 0);
  cotp_term t = cotp_tuple_get(req, 1);
  cotp_send(owner, COTP_TUPLE(h, COTP_ATOM(request), t));
  return cotp_gs_reply(t);
}

static const cotp_genserver_callbacks cb = {
    .name = "TurnServer", .init = init, .handle_call = handle_call};

static cotp_pid start(void) {
  owner = cotp_self();
  cotp_pid pid;
  cotp_assert_rc(cotp_genserver_start(&cb, COTP_ATOM_OK, NULL, &pid, NULL), 0);
  return pid;
}

COTP_TEST(genserver_turn, calls_to_an_idle_server_run_its_turn_in_the_caller) {
  cotp_pid pid = start();
  int running = 0, waiting = 0;
  for (int i = 0; i < 200; i++) {
    cotp_term st = cotp_genserver_call(cotp_server_pid(pid), COTP_ATOM(status),
                                       5000);
    if (st.w == COTP_ATOM(running).w)
      running++; /* the caller ran the turn: it is running */
    else if (st.w == COTP_ATOM(waiting).w)
      waiting++; /* the request went as a message */
  }
  cr_assert_eq(running + waiting, 200);
  /* perturbed scheduling declines half the turns; none would be seen if
   * turns were never taken */
  cr_assert(running > 0, "no call ran the server's turn (%d waiting)", waiting);
  cotp_genserver_stop(cotp_server_pid(pid), COTP_ATOM_NORMAL, COTP_INFINITY);
}

COTP_TEST(genserver_turn, the_first_of_two_replies_wins_and_the_second_is_dropped) {
  cotp_pid pid = start();
  for (int i = 0; i < 50; i++) {
    cotp_assert_term_eq(cotp_genserver_call(cotp_server_pid(pid),
                                            COTP_ATOM(twice), 5000),
                        COTP_ATOM(first));
  }
  cotp_test_refute_received("_", 50);
  cotp_genserver_stop(cotp_server_pid(pid), COTP_ATOM_NORMAL, COTP_INFINITY);
}

COTP_TEST(genserver_turn, what_the_server_sends_before_its_reply_stays_queued_in_order) {
  cotp_pid pid = start();
  for (int i = 0; i < 50; i++) {
    cotp_assert_term_eq(cotp_genserver_call(cotp_server_pid(pid),
                                            COTP_ATOM(note), 5000),
                        COTP_ATOM_OK);
    cotp_term got;
    cotp_assert_rc(cotp_receive(0, &got), 0);
    cotp_assert_term_eq(got, COTP_ATOM(note));
  }
  cotp_genserver_stop(cotp_server_pid(pid), COTP_ATOM_NORMAL, COTP_INFINITY);
}

COTP_TEST(genserver_turn, a_request_outlives_the_call_that_timed_out) {
  cotp_pid pid = start();
  cotp_heap *h = cotp_self_heap();
  for (int i = 0; i < 8; i++) {
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    cotp_term t = cotp_test_parse("{:payload, [1, 2, 3], \"a binary\", %{k: 1.5}}");
    cotp_term out;
    cotp_assert_rc(cotp_genserver_call_result(cotp_server_pid(pid),
                                              COTP_TUPLE(h, COTP_ATOM(wait), t),
                                              20, &out),
                   COTP_ETIMEDOUT);
    /* the caller's copy of the request goes, and its memory is reused */
    cotp_heap_release(h, mark);
    for (int k = 0; k < 64; k++)
      cotp_test_parse("{:junk, [9, 9, 9], \"zzzzzzzz\", %{z: 0.0}}");
    cotp_test_scribble_stack();
    cotp_send(pid, COTP_ATOM(go));
    cotp_term got;
    cotp_assert_rc(cotp_receive(5000, &got), 0);
    cotp_assert_term_eq(got, COTP_TUPLE(h, COTP_ATOM(request),
                                        cotp_test_parse("{:payload, [1, 2, 3], \"a binary\", %{k: 1.5}}")));
    cotp_test_refute_received("{_, _}", 20); /* the late reply is dropped */
  }
  cotp_genserver_stop(cotp_server_pid(pid), COTP_ATOM_NORMAL, COTP_INFINITY);
}

/* Many callers of one server at once, on both schedulers: turns, busy
 * servers left to finish, queued requests, all mixed; every call gets its
 * own answer. */
static cotp_gs_ret count_init(cotp_term arg, void **state) {
  (void)arg;
  *state = calloc(1, sizeof(long));
  return cotp_gs_ok();
}

static cotp_gs_ret count_call(cotp_term req, cotp_genserver_from from,
                              void **state) {
  (void)req, (void)from;
  long *n = *state;
  return cotp_gs_reply(cotp_int(cotp_self_heap(), ++*n));
}

static void count_free(void *state) { free(state); }

static const cotp_genserver_callbacks counter_cb = {
    .name = "TurnCounter", .init = count_init, .handle_call = count_call,
    .free_state = count_free};

struct caller {
  cotp_pid server, owner;
  int calls;
};

static void caller(void *arg) {
  const struct caller *c = arg;
  cotp_heap *h = cotp_self_heap();
  int64_t last = 0, sum = 0;
  for (int i = 0; i < c->calls; i++) {
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    int64_t n = cotp_int_value(cotp_genserver_call(cotp_server_pid(c->server),
                                                   COTP_ATOM(inc), 5000));
    cr_assert_gt(n, last, "answers to one caller only grow");
    last = n;
    sum += n;
    cotp_heap_release(h, mark);
  }
  cotp_send(c->owner, cotp_int(h, sum));
}

COTP_TEST(genserver_turn, many_callers_each_get_their_own_answers) {
  enum { CALLERS = 40, CALLS = 250 };
  cotp_pid pid;
  cotp_assert_rc(cotp_genserver_start(&counter_cb, COTP_ATOM_OK, NULL, &pid, NULL), 0);
  static struct caller c[CALLERS];
  for (int i = 0; i < CALLERS; i++) {
    c[i] = (struct caller){pid, cotp_self(), CALLS};
    cotp_assert_rc(cotp_spawn(caller, &c[i], NULL), 0);
  }
  int64_t total = 0;
  for (int i = 0; i < CALLERS; i++) {
    cotp_term sum;
    cotp_assert_rc(cotp_receive(30000, &sum), 0);
    total += cotp_int_value(sum);
  }
  /* every number from 1 to CALLERS * CALLS was handed out exactly once */
  int64_t n = CALLERS * CALLS;
  cr_assert_eq(total, n * (n + 1) / 2);
  cotp_assert_term_eq(cotp_genserver_call(cotp_server_pid(pid), COTP_ATOM(inc), 5000),
                      cotp_int(cotp_self_heap(), n + 1));
  cotp_genserver_stop(cotp_server_pid(pid), COTP_ATOM_NORMAL, COTP_INFINITY);
}

/* Two callers that never stop, one per scheduler: the scheduler that took
 * the server's turns holds them for a moment (COTP_TURN_HELD for the
 * other's callers), and then they change hands, so neither caller is shut
 * out for long.  The first stops once the second has made its calls. */
static _Atomic bool second_done;

static void endless_caller(void *arg) {
  const struct caller *c = arg;
  cotp_heap *h = cotp_self_heap();
  int64_t deadline = cotp_monotonic_ms() + 20000;
  long calls = 0;
  while (!atomic_load(&second_done) && cotp_monotonic_ms() < deadline) {
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    cotp_genserver_call(cotp_server_pid(c->server), COTP_ATOM(inc), 5000);
    cotp_heap_release(h, mark);
    calls++;
  }
  cotp_send(c->owner, cotp_int(h, calls));
}

COTP_TEST(genserver_turn, a_caller_on_the_other_scheduler_is_not_shut_out) {
  cotp_pid pid;
  cotp_assert_rc(cotp_genserver_start(&counter_cb, COTP_ATOM_OK, NULL, &pid, NULL), 0);
  atomic_store(&second_done, false);
  static struct caller first, second;
  first = (struct caller){pid, cotp_self(), 0};
  second = (struct caller){pid, cotp_self(), 2000};
  cotp_assert_rc(cotp_spawn(endless_caller, &first, NULL), 0);
  cotp_assert_rc(cotp_spawn(caller, &second, NULL), 0);
  cotp_term sum;
  cotp_assert_rc(cotp_receive(30000, &sum), 0); /* the second's, first */
  atomic_store(&second_done, true);
  cotp_term calls;
  cotp_assert_rc(cotp_receive(30000, &calls), 0);
  cr_assert_gt(cotp_int_value(calls), 0, "the endless caller made no call");
  cotp_genserver_stop(cotp_server_pid(pid), COTP_ATOM_NORMAL, COTP_INFINITY);
}
