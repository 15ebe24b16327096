/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Task.async_stream (F43-F57): order, concurrency, options, timeouts,
 * exits, halting early, laziness, forged DOWNs, other consumers; and the
 * iterators it is built on.
 */
#include <stdatomic.h>
#include <string.h>

#include "task_util.h"

/* --- iterators for the tests --- */

/* Wraps an iterator: at most `left` elements (Elixir's Stream.take), and
 * counts closes. */
struct take {
  cotp_iter it;
  cotp_iter *inner;
  long left;
  int *closed;
};

static int take_next(cotp_iter *it, cotp_heap *h, cotp_term *out) {
  struct take *t = (struct take *)it;
  if (t->left <= 0)
    return 0;
  t->left--;
  return cotp_iter_next(t->inner, h, out);
}

static void take_close(cotp_iter *it) {
  struct take *t = (struct take *)it;
  cotp_iter_close(t->inner);
  if (t->closed)
    (*t->closed)++;
}

static cotp_iter *take(struct take *t, cotp_iter *inner, long n, int *closed) {
  *t = (struct take){{take_next, take_close, NULL}, inner, n, closed};
  return &t->it;
}

/* Two iterators one after the other (Stream.concat). */
struct concat {
  cotp_iter it;
  cotp_iter *a, *b;
};

static int concat_next(cotp_iter *it, cotp_heap *h, cotp_term *out) {
  struct concat *c = (struct concat *)it;
  if (c->a) {
    int rc = cotp_iter_next(c->a, h, out);
    if (rc != 0)
      return rc;
    cotp_iter_close(c->a);
    c->a = NULL;
  }
  return cotp_iter_next(c->b, h, out);
}

static void concat_close(cotp_iter *it) {
  struct concat *c = (struct concat *)it;
  cotp_iter_close(c->a);
  cotp_iter_close(c->b);
}

/* A list iterator over the term text spells (in the caller's heap). */
static cotp_iter *list_of(cotp_iter_list *l, const char *text) {
  return cotp_iter_list_init(l, cotp_test_parse(text));
}

static cotp_task_stream_opts opts_with(unsigned max, bool ordered) {
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  o.max_concurrency = max;
  o.ordered = ordered;
  return o;
}

/* Pulls up to n results (all if n < 0) into a list, and closes. */
static cotp_term pull(cotp_iter *it, long n) {
  cotp_heap *h = cotp_self_heap();
  cotp_term items[64];
  size_t k = 0;
  cotp_term x;
  while ((n < 0 || (long)k < n) && k < 64) {
    int rc = cotp_iter_next(it, h, &x);
    cr_assert_geq(rc, 0, "next: %s", cotp_err_name(rc));
    if (rc == 0)
      break;
    items[k++] = x;
  }
  cotp_iter_close(it);
  return cotp_list(h, k, items);
}

static cotp_iter *stream(cotp_iter *in, cotp_task_stream_fn *fn,
                         const cotp_task_stream_opts *o) {
  cotp_iter *out;
  cotp_error err;
  int rc = cotp_task_async_stream(in, fn, NULL, o, &out, &err);
  cr_assert_eq(rc, 0, "async_stream: %s", err.message);
  return out;
}

static void assert_list(cotp_term got, const char *text) { cotp_assert_prints(got, text); }

static cotp_term links(void) {
  cotp_term l;
  cotp_assert_rc(cotp_process_info(cotp_self(), COTP_ATOM(links), &l), 0);
  return l;
}

/* --- order and concurrency --- */

static const unsigned concurrencies[] = {4, 2, 8}; /* ==, <, > the inputs */

COTP_TEST(task, f43_ordered_stream_emits_in_input_order) {
  for (size_t i = 0; i < 3; i++) {
    cotp_iter_list l;
    cotp_task_stream_opts o = opts_with(concurrencies[i], true);
    assert_list(pull(stream(list_of(&l, "[40, 30, 20, 10]"), tu_stream_sleep, &o), -1),
                "[ok: 40, ok: 30, ok: 20, ok: 10]");
  }
  tu_refute_any(0);
}

COTP_TEST(task, f44_unordered_stream_emits_as_tasks_finish) {
  cotp_iter_list l;
  cotp_task_stream_opts o = opts_with(1, false);
  assert_list(pull(stream(list_of(&l, "[80, 60, 40, 20]"), tu_stream_sleep, &o), -1),
              "[ok: 80, ok: 60, ok: 40, ok: 20]");
  o = opts_with(4, false);
  assert_list(pull(stream(list_of(&l, "[240, 160, 80, 10]"), tu_stream_sleep, &o), -1),
              "[ok: 10, ok: 80, ok: 160, ok: 240]");
}

static _Atomic int running, most_running;

static cotp_term count_running(cotp_term x, void *ctx) {
  (void)ctx;
  int now = atomic_fetch_add(&running, 1) + 1;
  int seen = atomic_load(&most_running);
  while (now > seen && !atomic_compare_exchange_weak(&most_running, &seen, now))
    ;
  cotp_sleep(5);
  atomic_fetch_sub(&running, 1);
  return x;
}

COTP_TEST(task, f45_max_concurrency_bounds_running_tasks) {
  for (size_t i = 0; i < 3; i++) {
    atomic_store(&most_running, 0);
    cotp_iter_range r;
    cotp_task_stream_opts o = opts_with(concurrencies[i] / 2, true);
    assert_list(pull(stream(cotp_iter_range_init(&r, 1, 12, 1), count_running, &o), -1),
                "[ok: 1, ok: 2, ok: 3, ok: 4, ok: 5, ok: 6, ok: 7, ok: 8, ok: 9, ok: 10, "
                "ok: 11, ok: 12]");
    cr_assert_leq(atomic_load(&most_running), (int)concurrencies[i] / 2);
  }
}

COTP_TEST(task, f45_default_concurrency_is_schedulers_online) {
  atomic_store(&most_running, 0);
  cotp_iter_range r;
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  pull(stream(cotp_iter_range_init(&r, 1, 10, 1), count_running, &o), -1);
  cr_assert_leq(atomic_load(&most_running), (int)cotp_schedulers_online());
}

COTP_TEST(task, f45_stream_with_mfa) {
  tu_register();
  for (size_t i = 0; i < 3; i++) {
    cotp_iter_range r;
    cotp_iter *out;
    cotp_task_stream_opts o = opts_with(concurrencies[i], true);
    cotp_assert_rc(cotp_task_async_stream_mfa(cotp_iter_range_init(&r, 1, 4, 1), COTP_ATOM(tu),
                                              COTP_ATOM(sleep), COTP_NIL, &o, &out, NULL), 0);
    assert_list(pull(out, -1), "[ok: 1, ok: 2, ok: 3, ok: 4]");
  }
  tu_refute_any(0);
}

/* --- options --- */

COTP_TEST(task, f46_bad_options_are_refused_when_the_stream_is_made) {
  cotp_iter_range r;
  int closed = 0;
  struct take t;
  cotp_iter *out = NULL;
  cotp_error err;
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  o.timeout_ms = -7;
  cotp_assert_rc(cotp_task_async_stream(take(&t, cotp_iter_range_init(&r, 1, 3, 1), 3, &closed),
                                        tu_stream_sleep, NULL, &o, &out, &err), COTP_EINVAL);
  cr_assert_str_eq(err.message, ":timeout must be either a positive integer or COTP_INFINITY");
  cr_assert_eq(closed, 1, "the input is closed");
  o = (cotp_task_stream_opts)COTP_TASK_STREAM_OPTS_INIT;
  o.on_timeout = COTP_TASK_ON_TIMEOUT_IGNORE;
  cotp_assert_rc(cotp_task_async_stream(take(&t, cotp_iter_range_init(&r, 1, 3, 1), 3, &closed),
                                        tu_stream_sleep, NULL, &o, &out, &err), COTP_EINVAL);
  cr_assert_str_eq(err.message, ":on_timeout must be either COTP_TASK_ON_TIMEOUT_EXIT or _KILL_TASK");
  cotp_assert_rc(cotp_task_async_stream(take(&t, cotp_iter_range_init(&r, 1, 3, 1), 3, &closed),
                                        NULL, NULL, NULL, &out, &err), COTP_EINVAL);
  cr_assert_str_eq(err.message, "async_stream: the function is NULL");
  cotp_assert_rc(cotp_task_async_stream(NULL, tu_stream_sleep, NULL, NULL, &out, NULL),
                 COTP_EINVAL);
  cotp_assert_rc(cotp_task_async_stream_mfa(cotp_iter_range_init(&r, 1, 3, 1), cotp_int(NULL, 1),
                                            COTP_ATOM(f), COTP_NIL, NULL, &out, NULL),
                 COTP_EINVAL);
  cr_assert_eq(closed, 3);
  cr_assert_null(out);
  tu_refute_any(0);
}

COTP_TEST(task, stream_with_infinite_timeout) {
  cotp_iter_list l;
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  o.timeout_ms = COTP_INFINITY;
  assert_list(pull(stream(list_of(&l, "[1]"), tu_stream_sleep, &o), -1), "[ok: 1]");
}

/* --- timeouts --- */

static void consume_all(void *arg) { pull(arg, -1); }

COTP_TEST(task, f47_timeout_exits_the_consumer_and_leaves_nothing) {
  cotp_iter_list l;
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  o.timeout_ms = 0;
  cotp_iter *out = stream(list_of(&l, "[:infinity]"), tu_stream_sleep, &o);
  cotp_term reason = tu_catch(consume_all, out); /* the stream is freed */
  assert_list(reason, "{:timeout, {Task.Supervised, :stream, [0]}}");
  tu_refute_any(20);
  assert_list(links(), "[]");
}

COTP_TEST(task, f48_kill_task_emits_exit_timeout_and_goes_on) {
  for (size_t i = 0; i < 3; i++) {
    cotp_iter_list l;
    cotp_task_stream_opts o = opts_with(concurrencies[i], true);
    o.on_timeout = COTP_TASK_ON_TIMEOUT_KILL_TASK;
    o.timeout_ms = 100;
    assert_list(pull(stream(list_of(&l, "[400, 1, 400, 1]"), tu_stream_sleep, &o), -1),
                "[exit: :timeout, ok: 1, exit: :timeout, ok: 1]");
    tu_refute_any(0);
  }
  cotp_iter_list l;
  cotp_task_stream_opts o = opts_with(4, false);
  o.on_timeout = COTP_TASK_ON_TIMEOUT_KILL_TASK;
  o.timeout_ms = 100;
  assert_list(pull(stream(list_of(&l, "[400, 1, 400, 1]"), tu_stream_sleep, &o), -1),
              "[ok: 1, ok: 1, exit: :timeout, exit: :timeout]");
  tu_refute_any(0);
  assert_list(links(), "[]");
}

COTP_TEST(task, f49_zip_input_on_exit_pairs_the_input_with_the_reason) {
  for (size_t i = 0; i < 3; i++) {
    cotp_iter_list l;
    cotp_task_stream_opts o = opts_with(concurrencies[i], true);
    o.zip_input_on_exit = true;
    o.on_timeout = COTP_TASK_ON_TIMEOUT_KILL_TASK;
    o.timeout_ms = 100;
    assert_list(pull(stream(list_of(&l, "[1, 400]"), tu_stream_sleep, &o), -1),
                "[ok: 1, exit: {400, :timeout}]");
  }
  cotp_trap_exit(true, NULL);
  cotp_iter_range r;
  cotp_task_stream_opts o = opts_with(2, true);
  o.zip_input_on_exit = true;
  assert_list(pull(stream(cotp_iter_range_init(&r, 1, 8, 1), tu_stream_exit, &o), 4),
              "[exit: {1, 1}, exit: {2, 2}, exit: {3, 3}, exit: {4, 4}]");
  tu_refute_any(20);
}

/* --- exits --- */

COTP_TEST(task, f50_trapping_consumer_gets_exits_and_no_exit_messages) {
  cotp_trap_exit(true, NULL);
  for (size_t i = 0; i < 3; i++) {
    cotp_iter_range r;
    cotp_task_stream_opts o = opts_with(concurrencies[i], true);
    assert_list(pull(stream(cotp_iter_range_init(&r, 1, 4, 1), tu_stream_exit, &o), -1),
                "[exit: 1, exit: 2, exit: 3, exit: 4]");
  }
  cotp_test_refute_received("{:EXIT, _, _}", 20);
  /* and successful tasks leave no EXIT either (they unlink themselves) */
  cotp_iter_range r;
  cotp_task_stream_opts o = opts_with(3, false);
  pull(stream(cotp_iter_range_init(&r, 1, 20, 1), tu_stream_sleep, &o), -1);
  tu_refute_any(20);
}

static void consumer_of_crashing_stream(void *arg) {
  (void)arg;
  cotp_iter_range r;
  cotp_task_stream_opts o = opts_with(1, true); /* one crash at a time */
  pull(stream(cotp_iter_range_init(&r, 1, 4, 1), tu_stream_exit, &o), -1);
  cotp_exit(COTP_ATOM(survived));
}

COTP_TEST(task, f50_crash_in_a_stream_takes_a_non_trapping_consumer_down) {
  cotp_pid pid;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn_monitor(consumer_of_crashing_stream, NULL, &pid, &ref), 0);
  cotp_assert_term_eq(cotp_test_down_of(ref, pid), cotp_int(NULL, 1));
}

COTP_TEST(task, f50_normal_exit_without_reply_is_emitted) {
  cotp_iter_list l;
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  assert_list(pull(stream(list_of(&l, "[:normal]"), tu_stream_exit, &o), -1), "[exit: :normal]");
  tu_refute_any(0);
}

/* --- halting --- */

COTP_TEST(task, f51_halting_early_shuts_down_unused_tasks) {
  for (size_t i = 0; i < 3; i++) {
    cotp_iter_list l;
    cotp_task_stream_opts o = opts_with(concurrencies[i], true);
    assert_list(pull(stream(list_of(&l, "[0, :infinity, :infinity, :infinity]"),
                            tu_stream_sleep, &o), 1),
                "[ok: 0]");
    assert_list(links(), "[]");
    tu_refute_any(20);
  }
}

COTP_TEST(task, f51_closing_before_the_first_pull_starts_nothing) {
  cotp_iter_range r;
  int closed = 0;
  struct take t;
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  cotp_iter_close(stream(take(&t, cotp_iter_range_init(&r, 1, 5, 1), 5, &closed),
                         tu_stream_sleep, &o));
  cr_assert_eq(closed, 1);
  assert_list(links(), "[]");
}

COTP_TEST(task, f52_two_streams_zip_as_independent_task_sets) {
  for (size_t i = 0; i < 3; i++) {
    cotp_heap *h = cotp_self_heap();
    cotp_iter_list la, lb;
    cotp_task_stream_opts o = opts_with(concurrencies[i], true);
    cotp_iter *a = stream(list_of(&la, "[4, 3, 2, 1]"), tu_stream_sleep, &o);
    cotp_iter *b = stream(list_of(&lb, "[4, 3, 2, 1]"), tu_stream_sleep, &o);
    cotp_term pairs[4], x, y;
    for (int k = 0; k < 4; k++) {
      cotp_assert_rc(cotp_iter_next(a, h, &x), 1);
      cotp_assert_rc(cotp_iter_next(b, h, &y), 1);
      pairs[k] = COTP_TUPLE(h, cotp_tuple_get(x, 1), cotp_tuple_get(y, 1));
    }
    cotp_assert_rc(cotp_iter_next(a, h, &x), 0);
    cotp_assert_rc(cotp_iter_next(b, h, &y), 0);
    cotp_iter_close(a);
    cotp_iter_close(b);
    assert_list(cotp_list(h, 4, pairs), "[{4, 4}, {3, 3}, {2, 2}, {1, 1}]");
  }
}

COTP_TEST(task, f52_nothing_runs_until_pulled) {
  atomic_store(&running, 0);
  atomic_store(&most_running, 0);
  cotp_iter_range r;
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  cotp_iter *out = stream(cotp_iter_range_init(&r, 1, 3, 1), count_running, &o);
  cotp_sleep(20);
  cr_assert_eq(atomic_load(&most_running), 0);
  assert_list(links(), "[]");
  cotp_iter_close(out);
}

COTP_TEST(task, f53_inner_and_outer_halts_run_both_close_callbacks) {
  for (size_t i = 0; i < 3; i++) {
    cotp_task_stream_opts o = opts_with(concurrencies[i], true);
    /* inner halt: the input itself stops after 4 */
    cotp_iter_range r;
    struct take in;
    int in_closed = 0, out_closed = 0;
    assert_list(pull(stream(take(&in, cotp_iter_range_init(&r, 1, 8, 1), 4, &in_closed),
                            tu_stream_sleep, &o), -1),
                "[ok: 1, ok: 2, ok: 3, ok: 4]");
    cr_assert_eq(in_closed, 1);
    /* outer halt: the consumer stops after 4; downstream and upstream
     * close run (Stream.transform's after callbacks) */
    struct take outer;
    in_closed = 0;
    cotp_iter *s = stream(take(&in, cotp_iter_range_init(&r, 8, 1, -1), 8, &in_closed),
                          tu_stream_sleep, &o);
    assert_list(pull(take(&outer, s, 4, &out_closed), -1), "[ok: 8, ok: 7, ok: 6, ok: 5]");
    cr_assert_eq(in_closed, 1);
    cr_assert_eq(out_closed, 1);
    assert_list(links(), "[]");
  }
  cotp_trap_exit(true, NULL);
  cotp_iter_range r;
  struct take in;
  cotp_task_stream_opts o = opts_with(2, true);
  assert_list(pull(stream(take(&in, cotp_iter_range_init(&r, 1, 8, 1), 4, NULL),
                          tu_stream_exit, &o), -1),
              "[exit: 1, exit: 2, exit: 3, exit: 4]");
  tu_refute_any(20);
}

/* --- forged DOWNs, other consumers, $callers --- */

static cotp_term send_fake_downs(cotp_term x, void *ctx) {
  cotp_pid parent = cotp_get_pid(tu_term(ctx));
  cotp_term l;
  cotp_process_info(cotp_self(), COTP_ATOM(links), &l);
  for (; cotp_is_cons(l); l = cotp_tail(l))
    cotp_send(cotp_get_pid(cotp_head(l)),
              COTP_TUPLE(cotp_self_heap(), COTP_ATOM_DOWN, cotp_make_ref(), COTP_ATOM_PROCESS,
                         cotp_pid_term(parent), COTP_ATOM(oops)));
  return x;
}

COTP_TEST(task, f54_forged_down_messages_do_not_disturb_the_stream) {
  cotp_iter_list l;
  cotp_iter *out;
  cotp_assert_rc(cotp_task_async_stream(list_of(&l, "[:ok]"), send_fake_downs,
                                        TU_ARG(cotp_pid_term(cotp_self())), NULL, &out, NULL), 0);
  assert_list(pull(out, -1), "[ok: :ok]");
  cotp_clause c = {cotp_test_pattern("{:DOWN, _, :process, _, :oops}"), NULL, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 1000, 0, NULL), 0);
}

static cotp_term send_to_parent(cotp_term x, void *ctx) {
  cotp_send(cotp_get_pid(tu_term(ctx)), x);
  return x;
}

static void consume_and_report(void *arg) {
  pull(arg, -1);
}

COTP_TEST(task, f55_another_process_can_consume_the_stream) {
  cotp_iter_list l;
  cotp_iter *out;
  cotp_assert_rc(cotp_task_async_stream(list_of(&l, "[1, 2, 3]"), send_to_parent,
                                        TU_ARG(cotp_pid_term(cotp_self())), NULL, &out, NULL), 0);
  cotp_pid consumer;
  cotp_assert_rc(cotp_spawn(consume_and_report, out, &consumer), 0);
  for (int i = 1; i <= 3; i++) {
    cotp_term want = cotp_int(NULL, i);
    cotp_clause c = {cotp_test_pattern("^x"), &want, NULL};
    cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
  }
  tu_wait_down(consumer);
}

static cotp_iter *shared_out;
static cotp_pid shared_parent;

static void other_pull(void *arg) {
  (void)arg;
  cotp_term x;
  int rc = cotp_iter_next(shared_out, cotp_self_heap(), &x);
  cotp_send(shared_parent, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(pulled), cotp_int(NULL, rc)));
}

COTP_TEST(task, f55_only_the_consumer_may_pull) {
  cotp_iter_list l;
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  cotp_iter *out = stream(list_of(&l, "[1, 2, 3]"), tu_stream_sleep, &o);
  cotp_term x;
  cotp_assert_rc(cotp_iter_next(out, cotp_self_heap(), &x), 1);
  shared_out = out;
  shared_parent = cotp_self();
  cotp_pid other;
  cotp_assert_rc(cotp_spawn(other_pull, NULL, &other), 0);
  cotp_term rc;
  cotp_clause c = {cotp_test_pattern("{:pulled, rc}"), NULL, &rc};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
  cotp_assert_term_eq(rc, cotp_int(NULL, COTP_EINVAL));
  assert_list(pull(out, -1), "[ok: 2, ok: 3]");
}

static cotp_term report_callers(cotp_term x, void *ctx);

static cotp_term inner_stream(cotp_term x, void *ctx) {
  (void)x;
  cotp_iter_list l;
  cotp_iter *out;
  cotp_task_async_stream(cotp_iter_list_init(&l, COTP_LIST(cotp_self_heap(), cotp_int(NULL, 1))),
                         report_callers, ctx, NULL, &out, NULL);
  pull(out, -1);
  return COTP_TUPLE(cotp_self_heap(), cotp_pid_term(cotp_self()),
                    cotp_dict_get(cotp_atom("$callers")));
}

static cotp_term report_callers(cotp_term x, void *ctx) {
  (void)x;
  cotp_send(cotp_get_pid(tu_term(ctx)),
            COTP_TUPLE(cotp_self_heap(), COTP_ATOM(callers), cotp_dict_get(cotp_atom("$callers"))));
  return COTP_ATOM_OK;
}

COTP_TEST(task, stream_tasks_carry_callers) {
  cotp_heap *h = cotp_self_heap();
  cotp_term me = cotp_pid_term(cotp_self());
  cotp_iter_list l;
  cotp_iter *out;
  cotp_assert_rc(cotp_task_async_stream(list_of(&l, "[1]"), inner_stream, TU_ARG(me), NULL,
                                        &out, NULL), 0);
  cotp_term r = cotp_tuple_get(cotp_head(pull(out, -1)), 1);
  cotp_term parent = cotp_tuple_get(r, 0);
  cotp_assert_term_eq(cotp_tuple_get(r, 1), COTP_LIST(h, me));
  /* the inner stream's task reported [parent, me] */
  cotp_term callers;
  cotp_clause c = {cotp_test_pattern("{:callers, c}"), NULL, &callers};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
  cotp_assert_term_eq(callers, COTP_LIST(h, parent, me));
}

COTP_TEST(task, f56_input_made_of_a_halted_prefix_and_a_list) {
  cotp_iter_range r;
  cotp_iter_list l;
  struct take prefix;
  struct concat c = {{concat_next, concat_close, NULL},
                     take(&prefix, cotp_iter_range_init(&r, 1, 1000000, 1), 2, NULL),
                     list_of(&l, "[3, 4]")};
  cotp_task_stream_opts o = opts_with(2, true);
  assert_list(pull(stream(&c.it, tu_stream_sleep, &o), -1), "[ok: 1, ok: 2, ok: 3, ok: 4]");
}

COTP_TEST(task, f57_the_timeout_is_per_task_not_for_the_stream) {
  cotp_iter_list l;
  cotp_task_stream_opts o = opts_with(1, true);
  o.timeout_ms = 200;
  /* four tasks of 60 ms one after the other: 240 ms in all */
  assert_list(pull(stream(list_of(&l, "[60, 60, 60, 60]"), tu_stream_sleep, &o), -1),
              "[ok: 60, ok: 60, ok: 60, ok: 60]");
}

static cotp_term twice(cotp_term x, void *ctx) {
  (void)ctx;
  return cotp_int(NULL, cotp_int_value(x) * 2);
}

COTP_TEST(task, stream_of_many_inputs_runs_them_all_in_bounded_memory) {
  cotp_heap *h = cotp_self_heap();
  long n = cotp_test_sanitized() ? 2000 : 20000;
  for (int ordered = 0; ordered < 2; ordered++) {
    cotp_iter_range r;
    cotp_task_stream_opts o = opts_with(8, ordered);
    cotp_iter *out = stream(cotp_iter_range_init(&r, 1, n, 1), twice, &o);
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    size_t before = cotp_heap_bytes(h);
    long next = 1, sum = 0, count = 0;
    cotp_term x;
    while (cotp_iter_next(out, h, &x) == 1) {
      int64_t v = cotp_int_value(cotp_tuple_get(x, 1));
      if (ordered)
        cr_assert_eq(v, 2 * next, "out of order: %lld at %ld", (long long)v, next);
      next++;
      sum += v;
      count++;
      cotp_heap_release(h, mark);
    }
    cotp_iter_close(out);
    cr_assert_eq(count, n);
    cr_assert_eq(sum, n * (n + 1));
    cr_assert_leq(cotp_heap_bytes(h), before + 65536);
  }
  tu_refute_any(0);
  assert_list(links(), "[]");
}

/* A spawner like Task.Supervisor.async_stream_nolink's: tasks started
 * unlinked (here by the consumer itself). */
static int unlinked_spawner(void *ctx, cotp_entry *entry, void *arg,
                            const cotp_task_stream_opts *opts, cotp_pid *pid,
                            bool *linked) {
  (void)opts;
  (*(int *)ctx)++;
  *linked = false;
  return cotp_spawn(entry, arg, pid);
}

COTP_TEST(task, stream_spawner_hook_starts_the_tasks) {
  /* unlinked tasks: a crash does not take the consumer down even when it
   * does not trap exits (G15's shape), and is emitted */
  int spawned = 0;
  cotp_iter_list l;
  cotp_task_stream_opts o = opts_with(2, true);
  o.spawn = unlinked_spawner;
  o.spawn_ctx = &spawned;
  assert_list(pull(stream(list_of(&l, "[:boom, :normal, :bang]"), tu_stream_exit, &o), -1),
              "[exit: :boom, exit: :normal, exit: :bang]");
  cr_assert_eq(spawned, 3);
  tu_refute_any(20);
}

static int failing_spawner(void *ctx, cotp_entry *entry, void *arg,
                           const cotp_task_stream_opts *opts, cotp_pid *pid,
                           bool *linked) {
  (void)ctx;
  (void)entry;
  (void)arg;
  (void)opts;
  (void)pid;
  (void)linked;
  return COTP_ESYSLIMIT; /* as a supervisor at max_children */
}

COTP_TEST(task, stream_ends_with_the_spawners_error) {
  cotp_iter_range r;
  int closed = 0;
  struct take t;
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  o.spawn = failing_spawner;
  cotp_iter *out = stream(take(&t, cotp_iter_range_init(&r, 1, 3, 1), 3, &closed),
                          tu_stream_sleep, &o);
  cotp_term x;
  cotp_assert_rc(cotp_iter_next(out, cotp_self_heap(), &x), COTP_ESYSLIMIT);
  cotp_assert_rc(cotp_iter_next(out, cotp_self_heap(), &x), 0);
  cotp_iter_close(out);
  cr_assert_eq(closed, 1);
}

/* A consumer killed in its first pull leaks nothing (the sanitizer runs
 * check): the stream is the consumer's from the start of that pull, before
 * anything in it acts on a pending kill (process_info of itself). */
static cotp_term identity(cotp_term x, void *ctx) {
  (void)ctx;
  return x;
}

static void first_pull_with_a_kill_pending(void *arg) {
  (void)arg;
  cotp_iter_range r;
  cotp_iter *out = stream(cotp_iter_range_init(&r, 1, 10, 1), identity, NULL);
  cotp_test_hold_for_kill();
  cotp_term x;
  cotp_iter_next(out, cotp_self_heap(), &x);
  cotp_exit(COTP_ATOM(pulled)); /* not reached: the kill acts first */
}

static void consumer_killed_in_its_first_pull(void *arg) {
  (void)arg;
  cotp_test_kill_at_hold(first_pull_with_a_kill_pending, NULL, 0);
}

Test(task, a_consumer_killed_in_its_first_pull_leaks_nothing) {
  cotp_test_run(consumer_killed_in_its_first_pull, NULL, 2);
}
