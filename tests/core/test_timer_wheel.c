/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The timing wheel on its own (timer_wheel.c), driven by a clock the test
 * moves: timers on every level, on the far list and already due; cancels;
 * steps of a millisecond and jumps of years.  Against a model, after every
 * step: each timer fires at the first step that reaches its deadline,
 * never before; those of one step fire by deadline, equal deadlines in
 * the order they were started; `next` is never after the earliest
 * deadline.
 */
#include "core/timer.h"
#include "harness.h"

enum { N = 6000 };

static struct cotp__timer_wheel w;
static struct cotp__timer nodes[N];
static struct model {
  int64_t key; /* when it is due: its deadline, or the wheel's time when it
                  was started if that was later */
  uint64_t seq; /* start order */
  bool pending;
} model[N];
static uint64_t seq;

static void start(int i, int64_t deadline) {
  cr_assert(cotp__wheel_reserve(&w));
  nodes[i].deadline_ms = deadline;
  atomic_store(&nodes[i].wheel, &w);
  cotp__wheel_put(&w, &nodes[i]);
  model[i] = (struct model){deadline > w.now ? deadline : w.now, ++seq, true};
}

/* A delay from 0 to 2^50 ms, as often short as long: each level and the
 * far list get their share. */
static int64_t delay(cotp_test_rng *r) {
  unsigned bits = (unsigned)cotp_test_below(r, 51);
  return (int64_t)cotp_test_below(r, (uint64_t)1 << bits);
}

/* Fires what is due at now and checks it against the model. */
static void expire(int64_t now) {
  int64_t last_key = INT64_MIN;
  uint64_t last_seq = 0;
  struct cotp__timer *t;
  while ((t = cotp__wheel_first_due(&w, now))) {
    int i = (int)(t - nodes);
    cr_assert(i >= 0 && i < N && model[i].pending, "fired a timer not pending");
    cr_assert_leq(t->deadline_ms, now, "fired %lld ms early",
                  (long long)(t->deadline_ms - now));
    cr_assert(model[i].key > last_key ||
                  (model[i].key == last_key && model[i].seq > last_seq),
              "out of order: due at %lld (started #%llu) after %lld (#%llu)",
              (long long)model[i].key, (unsigned long long)model[i].seq,
              (long long)last_key, (unsigned long long)last_seq);
    last_key = model[i].key;
    last_seq = model[i].seq;
    cotp__wheel_take(&w, t);
    cr_assert_null(atomic_load(&t->wheel));
    model[i].pending = false;
  }
  cotp__wheel_publish(&w);
  int64_t next = atomic_load(&w.next), earliest = TIMER_NONE;
  for (int i = 0; i < N; i++) {
    if (!model[i].pending)
      continue;
    cr_assert_gt(model[i].key, now, "timer due at %lld left pending at %lld",
                 (long long)model[i].key, (long long)now);
    if (model[i].key < earliest)
      earliest = model[i].key;
  }
  cr_assert_leq(next, earliest, "next %lld, after the earliest deadline %lld",
                (long long)next, (long long)earliest);
  cr_assert(earliest == TIMER_NONE || next > now);
}

Test(timer_wheel, fires_each_timer_at_its_step_in_order_against_a_model,
     .timeout = 60) {
  cotp_test_rng r = cotp_test_rng_new();
  cotp__timer_wheel_init(&w);
  int64_t now = w.now = 1000 + (int64_t)cotp_test_below(&r, (uint64_t)1 << 30);
  for (int step = 0; step < 3000; step++) {
    /* start some, on free nodes */
    int starts = (int)cotp_test_below(&r, 8);
    for (int k = 0; k < starts; k++) {
      int i = (int)cotp_test_below(&r, N);
      if (model[i].pending)
        continue;
      int64_t d = cotp_test_below(&r, 10) == 0
                      ? now - (int64_t)cotp_test_below(&r, 100) /* due already */
                      : now + delay(&r);
      if (cotp_test_below(&r, 4) == 0 && step > 0) {
        /* the deadline of another pending timer: equal deadlines */
        int j = (int)cotp_test_below(&r, N);
        if (model[j].pending && nodes[j].deadline_ms > now)
          d = nodes[j].deadline_ms;
      }
      start(i, d);
    }
    /* cancel some */
    int cancels = (int)cotp_test_below(&r, 4);
    for (int k = 0; k < cancels; k++) {
      int i = (int)cotp_test_below(&r, N);
      if (!model[i].pending)
        continue;
      cotp__wheel_take(&w, &nodes[i]);
      model[i].pending = false;
    }
    /* time moves: a millisecond, a little, a lot, or to the earliest
     * deadline exactly */
    switch (cotp_test_below(&r, 5)) {
    case 0: now += 1; break;
    case 1: now += (int64_t)cotp_test_below(&r, 100); break;
    case 2: now += delay(&r) / 16; break;
    case 3: {
      int64_t next = atomic_load(&w.next);
      if (next != TIMER_NONE && next > now)
        now = next;
      break;
    }
    default: break; /* no time passes */
    }
    expire(now);
  }
  /* to the end of time: everything fires */
  for (int k = 0; k < 16 && w.n; k++) {
    now += (int64_t)1 << 52;
    expire(now);
  }
  cr_assert_eq(w.n, 0);
  cotp__wheel_free(&w);
}

/* Equal deadlines fire in start order even when some timers wait on a
 * higher level and come down to the deadline's slot later than others
 * started straight into it. */
Test(timer_wheel, equal_deadlines_fire_in_start_order_across_levels, .timeout = 30) {
  cotp__timer_wheel_init(&w);
  w.now = (int64_t)1 << 20;
  int64_t d = w.now + 5000; /* level 2 from here */
  int n = 0;
  for (int64_t now = w.now; now <= d; now += 700) {
    expire(now);
    for (int k = 0; k < 3; k++)
      start(n++, d);
  }
  cr_assert_geq(n, 21);
  expire(d); /* checks the order */
  for (int i = 0; i < n; i++)
    cr_assert(!model[i].pending);
  cotp__wheel_free(&w);
}

/* A burst of timers larger than what an empty wheel keeps gives its links
 * back once it is over, and the wheel works on from nothing. */
Test(timer_wheel, gives_back_a_burst_and_starts_again, .timeout = 30) {
  cotp__timer_wheel_init(&w);
  w.now = 5;
  for (int i = 0; i < N; i++)
    start(i, w.now + 1 + i % 300);
  cr_assert_geq(w.cap, (uint32_t)N);
  expire(w.now + 300);
  cr_assert_eq(w.n, 0);
  cr_assert_null(w.links);
  start(0, w.now + 10);
  expire(w.now + 9);
  cr_assert(model[0].pending);
  expire(w.now + 1);
  cr_assert(!model[0].pending);
  cotp__wheel_free(&w);
}
