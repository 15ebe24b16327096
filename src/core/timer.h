/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timer.h: each scheduler's timers, a timing wheel under a spinlock
 * (timer_wheel.c).
 *
 * Two kinds of node: the deadline of a process's wait (embedded in its
 * control block, so a receive with a timeout allocates nothing) and a
 * send_after timer (a chunk holding its message, or holding an immediate
 * term and turning into the message when it fires: timer.c), found by its
 * reference through a sharded table.  A node is added to the wheel of the
 * scheduler the adding process runs on; it may be removed from any thread,
 * so its `wheel` pointer says where it is, NULL once it fired or was
 * removed.  Lock order: a wheel's lock before a reference-table shard's.
 *
 * Deferred waits.  Most timeouts never fire: a GenServer call's 5,000 ms
 * ends with the reply, microseconds later.  Reading the clock for its
 * deadline, adding it to the timers and taking it out again (a lock, two
 * sifts of the heap they were kept in then, and a store to the line other
 * schedulers read `next` from) was 12% of a call, and 28% with 100 callers (against the same calls with no
 * timeout).  So a wait of
 * TIMER_DEFER_MS or more goes to the scheduler's `later` list instead,
 * its node marked TIMER_DEFERRED and holding the timeout, with no clock
 * read; ending the wait is one compare-and-swap.  The list moves what
 * still waits into the wheel, each deadline counted from that moment, by
 * later_by: TIMER_LATER_MS after the first wait it took since the last
 * move.  The scheduler does it when it looks for work (every eighth look
 * reads the clock), before it sleeps, and, when it is hogged, the thread
 * that fires its timers.  A timeout of a second or more can so end up to
 * TIMER_LATER_MS and some late, never early: Erlang promises no more
 * than "not before" either.
 *
 * The compare-and-swap decides between a wait that ends and a flush that
 * moves it, so a stale entry (its wait over, maybe a new one begun) is
 * harmless: at worst it moves the newer wait a little early.  A full list
 * first drops its stale entries, known by the node's count of waits, and
 * moves everything only if it stays over half full: a hundred callers
 * each waiting microseconds keep a hundred live entries and never reach
 * the wheel.
 */
#ifndef COTP_CORE_TIMER_H
#define COTP_CORE_TIMER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "platform/spinlock.h"

struct cotp__sched;

enum timer_kind { TK_WAIT, TK_SEND };

struct cotp__timer_wheel;

struct cotp__timer {
  int64_t deadline_ms;
  uint32_t link;  /* its link in the wheel (timer_wheel.c) */
  uint8_t kind;
  uint8_t where;  /* the wheel's list it is on: a level, far or due */
  _Atomic uint16_t waits; /* deferred waits so far: tells a stale entry */
  _Atomic(struct cotp__timer_wheel *) wheel;
};
_Static_assert(sizeof(struct cotp__timer) == 24,
               "a timer node fills the rest of a control block's first line");

/* A wheel's list: the first and last of its links, or WHEEL_NIL. */
struct cotp__timer_list {
  uint32_t head, tail;
};
/* A link of the pool: the timer it holds (NULL when free) and its
 * neighbours on its list (the next free link when free). */
struct cotp__timer_link {
  struct cotp__timer *t;
  uint32_t prev, next;
};
#define WHEEL_LEVELS 7
#define WHEEL_SLOTS 64

#define TIMER_LATER_MAX 256
#define TIMER_DEFER_MS 1000
#define TIMER_LATER_MS 10

struct cotp__timer_wheel {
  cotp__spinlock lock;
  /* read by any thread */
  _Atomic int64_t next; /* when the wheel next needs its scheduler: never
                           after the earliest deadline; INT64_MAX when empty */
  /* deferred waits: appended and reset by the owner thread only, moved to
   * the wheel by it or by a thread firing a hogged scheduler's timers */
  _Atomic uint32_t nlater;
  _Atomic int64_t later_by; /* move them by then; TIMER_NONE when none */
  _Atomic(struct cotp__timer *) later[TIMER_LATER_MAX];
  uint16_t later_waits[TIMER_LATER_MAX]; /* the node's waits when added */
  /* under lock (timer_wheel.c) */
  int64_t now;                     /* the wheel's time */
  uint32_t n;                      /* timers in it */
  uint32_t nlinks, cap, free;      /* the pool: links used, room, free list */
  struct cotp__timer_link *links;
  uint64_t occupied[WHEEL_LEVELS]; /* a bit per slot that holds timers */
  struct cotp__timer_list slots[WHEEL_LEVELS][WHEEL_SLOTS];
  struct cotp__timer_list far, due;
};

#define TIMER_NONE INT64_MAX

/* The wheel a deferred wait's node names: none of the real ones. */
extern struct cotp__timer_wheel cotp__timer_deferred;
#define TIMER_DEFERRED (&cotp__timer_deferred)

int cotp__timer_wheel_init(struct cotp__timer_wheel *w);
/* Frees the wheel and every send_after timer in it (runtime stop). */
void cotp__timer_wheel_close(struct cotp__timer_wheel *w);
/* Adds t, due at deadline_ms, to w.  0 or COTP_ENOMEM. */
int cotp__timer_add(struct cotp__timer_wheel *w, struct cotp__timer *t,
                    int64_t deadline_ms);
/* Defers wait node t, of timeout_ms (TIMER_DEFER_MS or more), on w.  Only
 * w's own scheduler thread.  0, or COTP_ENOMEM: the list is full and no
 * memory moves it to the wheel (add t with a deadline then). */
int cotp__timer_defer(struct cotp__timer_wheel *w, struct cotp__timer *t,
                      int64_t timeout_ms);
/* Moves w's deferred waits that still wait into the wheel, with deadlines
 * counted from now_ms.  owner: the caller is w's own thread, which then
 * empties the list. */
void cotp__timer_flush(struct cotp__timer_wheel *w, bool owner, int64_t now_ms);
/* Removes t from its wheel or the deferred waits; false if it was in
 * neither (already fired). */
bool cotp__timer_remove(struct cotp__timer *t);
/* Fires s's timers due at now, moving its deferred waits into the wheel
 * first when they are due to move.  owner: the caller is s's own thread
 * (otherwise s is hogged and the caller fires for it). */
void cotp__timers_expire(struct cotp__sched *s, int64_t now_ms, bool owner);
/* When s's timers next need the scheduler: the wheel's next, or the time
 * its deferred waits must move, whichever is first. */
int64_t cotp__timers_next(struct cotp__timer_wheel *w);
/* Frees the reference table (runtime stop, after every wheel is closed). */
void cotp__timer_refs_close(void);

/* The wheel itself (timer_wheel.c), all under its lock. */
void cotp__wheel_init(struct cotp__timer_wheel *w);
/* Gives back its links, leaving it empty (the timers are the caller's). */
void cotp__wheel_free(struct cotp__timer_wheel *w);
/* Room for one more timer: false when out of memory. */
bool cotp__wheel_reserve(struct cotp__timer_wheel *w);
/* Adds t, due at t->deadline_ms, after a successful reserve. */
void cotp__wheel_put(struct cotp__timer_wheel *w, struct cotp__timer *t);
/* Takes t out, and publishes it as out (t->wheel = NULL, release). */
void cotp__wheel_take(struct cotp__timer_wheel *w, struct cotp__timer *t);
/* The first timer due by now, left in the wheel; NULL if none. */
struct cotp__timer *cotp__wheel_first_due(struct cotp__timer_wheel *w,
                                          int64_t now);
/* Stores in w->next when the wheel next needs its scheduler. */
void cotp__wheel_publish(struct cotp__timer_wheel *w);
/* Calls fn for every timer in the wheel (runtime stop: fn may not change
 * the wheel). */
void cotp__wheel_each(struct cotp__timer_wheel *w,
                      void (*fn)(struct cotp__timer *t));

#endif
