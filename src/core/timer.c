/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timer.c: deferred waits, send_after/cancel_timer/read_timer, and firing.
 * The design is in timer.h; the wheel that holds the timers is
 * timer_wheel.c.
 */
#include "timer.h"

#include <stdlib.h>
#include <string.h>

#include "cotp/timer.h"
#include "platform/clock.h"
#include "sched.h"

/* --- the wheel --- */

int cotp__timer_wheel_init(struct cotp__timer_wheel *w) {
  cotp__wheel_init(w);
  atomic_init(&w->next, TIMER_NONE);
  atomic_init(&w->nlater, 0);
  atomic_init(&w->later_by, TIMER_NONE);
  cotp__spin_init(&w->lock);
  return 0;
}

struct cotp__timer_wheel cotp__timer_deferred;

int cotp__timer_add(struct cotp__timer_wheel *w, struct cotp__timer *t,
                    int64_t deadline_ms) {
  cotp__spin_lock(&w->lock);
  if (!cotp__wheel_reserve(w)) {
    cotp__spin_unlock(&w->lock);
    return COTP_ENOMEM;
  }
  t->deadline_ms = deadline_ms;
  atomic_store_explicit(&t->wheel, w, memory_order_relaxed);
  cotp__wheel_put(w, t);
  cotp__spin_unlock(&w->lock);
  return 0;
}

/* --- deferred waits (timer.h) --- */

void cotp__timer_flush(struct cotp__timer_wheel *w, bool owner, int64_t now_ms) {
  uint32_t n = atomic_load_explicit(&w->nlater, memory_order_acquire);
  if (!n)
    return;
  uint32_t kept = 0; /* no memory for a node: it stays deferred */
  cotp__spin_lock(&w->lock);
  for (uint32_t i = 0; i < n; i++) {
    struct cotp__timer *t = atomic_load_explicit(&w->later[i], memory_order_acquire);
    struct cotp__timer_wheel *was = TIMER_DEFERRED;
    if (atomic_load_explicit(&t->wheel, memory_order_relaxed) != was)
      continue; /* its wait is over */
    if (!cotp__wheel_reserve(w)) {
      if (owner) {
        w->later_waits[kept] = w->later_waits[i];
        atomic_store_explicit(&w->later[kept++], t, memory_order_relaxed);
      }
      continue;
    }
    /* Under the lock: a remove that sees the node in w waits for the lock,
     * and finds it in place.  acquire: the timeout written before the wait
     * published it as deferred. */
    if (!atomic_compare_exchange_strong_explicit(&t->wheel, &was, w,
                                                 memory_order_acquire,
                                                 memory_order_relaxed))
      continue;
    int64_t timeout = t->deadline_ms; /* deferred, it holds the timeout */
    t->deadline_ms = timeout >= TIMER_NONE - now_ms ? TIMER_NONE - 1
                                                    : now_ms + timeout;
    cotp__wheel_put(w, t);
  }
  cotp__spin_unlock(&w->lock);
  if (owner) {
    atomic_store_explicit(&w->nlater, kept, memory_order_release);
    if (!kept)
      atomic_store_explicit(&w->later_by, TIMER_NONE, memory_order_relaxed);
    return;
  }
  /* A thief leaves the list to its owner, but puts the next move off:
   * otherwise a past later_by would keep it from sleeping while the hog
   * lasts.  A wait deferred since is moved by then, TIMER_LATER_MS on. */
  int64_t by = atomic_load_explicit(&w->later_by, memory_order_relaxed);
  if (by <= now_ms)
    atomic_compare_exchange_strong_explicit(&w->later_by, &by,
                                            now_ms + TIMER_LATER_MS,
                                            memory_order_relaxed,
                                            memory_order_relaxed);
}

/* Owner only: drops the entries whose wait is over; the new count.  A
 * thief reading along sees each slot hold an entry, old or new: any one
 * it moves is a wait still on. */
static uint32_t compact(struct cotp__timer_wheel *w, uint32_t n) {
  uint32_t kept = 0;
  for (uint32_t i = 0; i < n; i++) {
    struct cotp__timer *t = atomic_load_explicit(&w->later[i], memory_order_relaxed);
    if (atomic_load_explicit(&t->wheel, memory_order_relaxed) != TIMER_DEFERRED ||
        atomic_load_explicit(&t->waits, memory_order_relaxed) != w->later_waits[i])
      continue;
    w->later_waits[kept] = w->later_waits[i];
    atomic_store_explicit(&w->later[kept++], t, memory_order_relaxed);
  }
  atomic_store_explicit(&w->nlater, kept, memory_order_release);
  return kept;
}

int cotp__timer_defer(struct cotp__timer_wheel *w, struct cotp__timer *t,
                      int64_t timeout_ms) {
  uint32_t n = atomic_load_explicit(&w->nlater, memory_order_relaxed);
  if (n == TIMER_LATER_MAX && (n = compact(w, n)) > TIMER_LATER_MAX / 2) {
    cotp__timer_flush(w, true, cotp__now_ms());
    n = atomic_load_explicit(&w->nlater, memory_order_relaxed);
    if (n == TIMER_LATER_MAX)
      return COTP_ENOMEM; /* all kept for want of memory */
  }
  /* The first wait since the last move reads the clock, for the time by
   * which they all move; the others need no clock: their deadlines are
   * counted from that move (timer.h). */
  if (atomic_load_explicit(&w->later_by, memory_order_relaxed) == TIMER_NONE)
    atomic_store_explicit(&w->later_by, cotp__now_ms() + TIMER_LATER_MS,
                          memory_order_relaxed);
  t->deadline_ms = timeout_ms;
  uint16_t waits =
      (uint16_t)(atomic_load_explicit(&t->waits, memory_order_relaxed) + 1);
  atomic_store_explicit(&t->waits, waits, memory_order_relaxed);
  /* release: a flush that sees it deferred sees its timeout */
  atomic_store_explicit(&t->wheel, TIMER_DEFERRED, memory_order_release);
  w->later_waits[n] = waits;
  atomic_store_explicit(&w->later[n], t, memory_order_release);
  atomic_store_explicit(&w->nlater, n + 1, memory_order_release);
  return 0;
}

int64_t cotp__timers_next(struct cotp__timer_wheel *w) {
  int64_t next = atomic_load_explicit(&w->next, memory_order_relaxed);
  int64_t by = atomic_load_explicit(&w->later_by, memory_order_relaxed);
  return by < next ? by : next;
}

bool cotp__timer_remove(struct cotp__timer *t) {
  /* acquire: pairs with take_out's release when the timer fired */
  struct cotp__timer_wheel *w = atomic_load_explicit(&t->wheel, memory_order_acquire);
  if (w == TIMER_DEFERRED &&
      atomic_compare_exchange_strong_explicit(&t->wheel, &w, NULL,
                                              memory_order_acquire,
                                              memory_order_acquire))
    return true; /* it never reached a wheel; a flush finds it gone */
  /* a failed exchange left in w where a flush moved it */
  if (!w)
    return false;
  cotp__spin_lock(&w->lock);
  bool here = atomic_load_explicit(&t->wheel, memory_order_relaxed) == w;
  if (here)
    cotp__wheel_take(w, t);
  cotp__spin_unlock(&w->lock);
  return here;
}

/* --- send_after timers and their references --- */

struct send_timer {
  struct cotp__timer t; /* first: a node is a send_timer when kind is SEND */
  cotp_term ref;
  cotp_pid to;
  struct cotp__msg *msg; /* NULL: the message is imm */
  struct send_timer *chain;
  cotp_term imm;
};

/*
 * Most timers send an atom (:tick, :timeout).  Such a message is an
 * immediate, and a message holding one is a header and no words: a chunk
 * of the class a timer takes.  So a timer with an immediate message keeps
 * the term, not a message, and when it fires its own chunk becomes the
 * message (fire_immediate).  One allocation per timer, not two: a million
 * timers are 64 MB and 16,000 fresh pages lighter.
 */
_Static_assert(sizeof(struct send_timer) <= CHUNK_CLASSES * CHUNK_CLASS_BYTES &&
                   (sizeof(struct send_timer) - 1) / CHUNK_CLASS_BYTES ==
                       (sizeof(struct cotp__msg) - 1) / CHUNK_CLASS_BYTES,
               "a timer's chunk can become a message with no words");

#define SHARDS 64
static struct {
  cotp__spinlock lock;
  struct send_timer **slots;
  size_t n, cap;
} refs[SHARDS];
static pthread_once_t refs_once = PTHREAD_ONCE_INIT;

static void refs_init(void) {
  for (int i = 0; i < SHARDS; i++)
    cotp__spin_init(&refs[i].lock);
}

/*
 * Where a reference goes: its shard is the low bits of its number, and in
 * the shard its slot is the rest of the number with the bits above the
 * table's size folded in.  References come from a counter, so timers
 * started one after another get neighbouring slots in each shard, and
 * cancelled in about the same order they are found a cache line at a
 * time; a multiplicative hash made each start and each cancel a cache miss
 * in a table of a million timers.
 */
static size_t ref_shard(cotp_term ref) { return (ref.w >> 3) & (SHARDS - 1); }

static size_t ref_slot(cotp_term ref, size_t cap) {
  uint64_t m = ref.w >> 9; /* the number without its tag and shard */
  unsigned bits = (unsigned)__builtin_ctzll(cap); /* cap: a power of two */
  return (size_t)(m ^ (m >> bits) ^ (m >> 2 * bits)) & (cap - 1);
}

/* shard locked: the chain slot for ref */
static struct send_timer **find(size_t shard, cotp_term ref) {
  if (!refs[shard].cap)
    return NULL;
  struct send_timer **at = &refs[shard].slots[ref_slot(ref, refs[shard].cap)];
  while (*at && (*at)->ref.w != ref.w)
    at = &(*at)->chain;
  return at;
}

static bool refs_grow(size_t shard) {
  size_t cap = refs[shard].cap ? refs[shard].cap * 2 : 64;
  struct send_timer **slots = calloc(cap, sizeof *slots);
  if (!slots)
    return false;
  for (size_t i = 0; i < refs[shard].cap; i++) {
    for (struct send_timer *t = refs[shard].slots[i], *next; t; t = next) {
      next = t->chain;
      struct send_timer **at = &slots[ref_slot(t->ref, cap)];
      t->chain = *at;
      *at = t;
    }
  }
  free(refs[shard].slots);
  refs[shard].slots = slots;
  refs[shard].cap = cap;
  return true;
}

/* Takes the timer of ref out of the table; NULL if it is not there. */
static struct send_timer *refs_take(cotp_term ref) {
  size_t shard = ref_shard(ref);
  cotp__spin_lock(&refs[shard].lock);
  struct send_timer **at = find(shard, ref), *t = at ? *at : NULL;
  if (t) {
    *at = t->chain;
    refs[shard].n--;
  }
  cotp__spin_unlock(&refs[shard].lock);
  return t;
}

/* A timer is a chunk, as a message is: a thread's cache hands it out
 * without a lock, and the thread that fires or cancels it frees it
 * (malloc, calloc and free were a third of a start and cancel). */
static struct send_timer *send_timer_new(void) {
  struct send_timer *t = cotp__chunk_alloc(cotp__chunk_room(sizeof *t));
  if (t)
    memset(t, 0, sizeof *t);
  return t;
}

static void send_timer_free(struct send_timer *t) {
  if (t->msg)
    cotp__msg_free(t->msg);
  cotp__chunk_free(t, cotp__chunk_room(sizeof *t));
}

int64_t cotp_monotonic_ms(void) { return cotp__now_ms(); }

static int start_timer(int64_t deadline, cotp_pid pid, cotp_term msg,
                       cotp_term *ref) {
  struct cotp__sched *s = cotp__sched_self();
  if (!s || !cotp__proc_self())
    return COTP_ENOTPROC;
  if (cotp_is_none(msg))
    return COTP_EINVAL;
  pthread_once(&refs_once, refs_init);
  struct send_timer *t = send_timer_new();
  if (!t)
    return COTP_ENOMEM;
  if (cotp__is_immediate(msg)) {
    t->imm = msg; /* fire_immediate */
  } else if (!(t->msg = cotp__msg_new(msg))) {
    send_timer_free(t);
    return COTP_ENOMEM;
  }
  t->t.kind = TK_SEND;
  t->ref = cotp_make_ref();
  t->to = pid;
  size_t shard = ref_shard(t->ref);
  cotp__spin_lock(&refs[shard].lock);
  bool ok = (refs[shard].n + 1) * 2 <= refs[shard].cap || refs_grow(shard);
  if (ok) {
    /* a fresh reference is in no chain: it goes first in its slot's */
    struct send_timer **at = &refs[shard].slots[ref_slot(t->ref, refs[shard].cap)];
    t->chain = *at;
    *at = t;
    refs[shard].n++;
  }
  cotp__spin_unlock(&refs[shard].lock);
  if (!ok || cotp__timer_add(&s->timers, &t->t, deadline) != 0) {
    if (ok)
      refs_take(t->ref);
    send_timer_free(t);
    return COTP_ENOMEM;
  }
  if (ref)
    *ref = t->ref;
  cotp__reduce(cotp__proc_self(), 1);
  return 0;
}

int cotp_send_after(int64_t ms, cotp_pid pid, cotp_term msg, cotp_term *ref) {
  if (ms < 0)
    return cotp__proc_self() ? COTP_EINVAL : COTP_ENOTPROC;
  int64_t now = cotp__now_ms();
  /* saturate: a delay of 2^62 ms is as good as forever */
  return start_timer(ms > INT64_MAX - 1 - now ? INT64_MAX - 1 : now + ms, pid,
                     msg, ref);
}

int cotp_send_at(int64_t at_ms, cotp_pid pid, cotp_term msg, cotp_term *ref) {
  return start_timer(at_ms == INT64_MAX ? INT64_MAX - 1 : at_ms, pid, msg, ref);
}

static int64_t left_of(const struct send_timer *t) {
  int64_t left = t->t.deadline_ms - cotp__now_ms();
  return left > 0 ? left : 0;
}

int cotp_cancel_timer(cotp_term ref, int64_t *left_ms) {
  if (!cotp_is_ref(ref))
    return COTP_EINVAL;
  pthread_once(&refs_once, refs_init);
  struct send_timer *t = refs_take(ref);
  if (!t)
    return COTP_ENOTFOUND;
  /* The table entry is the ownership token: the timer is ours now, but it
   * may be in the middle of firing, in which case firing skips it. */
  cotp__timer_remove(&t->t);
  if (left_ms)
    *left_ms = left_of(t);
  send_timer_free(t);
  struct cotp__proc *self = cotp__proc_self();
  if (self)
    cotp__reduce(self, 1);
  return 0;
}

int cotp_cancel_timer_async(cotp_term ref) {
  if (!cotp__proc_self())
    return COTP_ENOTPROC;
  if (!cotp_is_ref(ref))
    return COTP_EINVAL;
  int64_t left;
  int rc = cotp_cancel_timer(ref, &left);
  cotp_term result = rc == 0 ? cotp_int(NULL, left) : COTP_ATOM_FALSE;
  if (cotp_is_none(result))
    result = COTP_ATOM_FALSE; /* cannot happen: left fits in 61 bits */
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  cotp_term msg = COTP_TUPLE(h, cotp_atom("cancel_timer"), ref, result);
  int sent = cotp_is_none(msg) ? COTP_ENOMEM : cotp_send(cotp_self(), msg);
  cotp_heap_release(h, mark);
  return sent;
}

int cotp_read_timer(cotp_term ref, int64_t *left_ms) {
  if (!cotp_is_ref(ref))
    return COTP_EINVAL;
  pthread_once(&refs_once, refs_init);
  size_t shard = ref_shard(ref);
  cotp__spin_lock(&refs[shard].lock);
  struct send_timer **at = find(shard, ref);
  bool found = at && *at;
  if (found && left_ms)
    *left_ms = left_of(*at);
  cotp__spin_unlock(&refs[shard].lock);
  return found ? 0 : COTP_ENOTFOUND;
}

/* --- firing --- */

/* Turns t, a timer whose message is an immediate, into that message, as
 * cotp__msg_new would make it: flat, no words. */
static struct cotp__msg *fire_immediate(struct send_timer *t) {
  cotp_term term = t->imm;
  struct cotp__msg *m = (struct cotp__msg *)(void *)t;
  cotp__msg_init_flat(m, 0, term);
  return m;
}

void cotp__timers_expire(struct cotp__sched *s, int64_t now, bool owner) {
  struct cotp__timer_wheel *w = &s->timers;
  if (atomic_load_explicit(&w->later_by, memory_order_relaxed) <= now)
    cotp__timer_flush(w, owner, now);
  if (atomic_load_explicit(&w->next, memory_order_relaxed) > now)
    return;
  struct cotp__timer *due[64];
  uint8_t kinds[64]; /* copied: a fired wait node is its process's again */
  size_t n = 0;
  cotp__spin_lock(&w->lock);
  struct cotp__timer *first;
  while (n < 64 && (first = cotp__wheel_first_due(w, now))) {
    struct cotp__timer *t = first;
    /* Read before the take publishes the node as out of the wheel: a wait
     * node belongs to its process again from then on. */
    uint8_t kind = t->kind;
    cotp__wheel_take(w, t);
    /* A send_after timer is ours to fire only if it is still in the
     * reference table; otherwise a cancel holds it and will free it. */
    if (kind == TK_SEND && !refs_take(((struct send_timer *)t)->ref))
      continue;
    kinds[n] = kind;
    due[n++] = t;
  }
  cotp__wheel_publish(w);
  cotp__spin_unlock(&w->lock);
  for (size_t i = 0; i < n; i++) {
    if (kinds[i] == TK_WAIT) {
      cotp__wake((struct cotp__proc *)((char *)due[i] -
                                       offsetof(struct cotp__proc, timer)));
      continue;
    }
    struct send_timer *t = (struct send_timer *)due[i];
    cotp_pid to = t->to;
    struct cotp__proc *p = cotp__proc_lookup(to);
    if (!t->msg) { /* the timer itself becomes the message */
      struct cotp__msg *m = fire_immediate(t);
      enum push_result r = p ? cotp__inbox_push(p, to, &m->sig) : PUSH_DEAD;
      if (r == PUSH_DEAD)
        cotp__msg_free(m);
      else if (r == PUSH_WOKE)
        cotp__make_ready(p, false);
      continue;
    }
    enum push_result r =
        p ? cotp__inbox_push(p, to, &t->msg->sig) : PUSH_DEAD;
    if (r != PUSH_DEAD)
      t->msg = NULL;
    if (r == PUSH_WOKE)
      cotp__make_ready(p, false);
    send_timer_free(t);
  }
}

static void close_one(struct cotp__timer *t) {
  atomic_store_explicit(&t->wheel, NULL, memory_order_relaxed);
  if (t->kind == TK_SEND) {
    struct send_timer *st = (struct send_timer *)t;
    if (refs_take(st->ref))
      send_timer_free(st);
  }
}

void cotp__timer_wheel_close(struct cotp__timer_wheel *w) {
  cotp__wheel_each(w, close_one);
  cotp__wheel_free(w);
  atomic_store_explicit(&w->next, TIMER_NONE, memory_order_relaxed);
}

void cotp__timer_refs_close(void) {
  pthread_once(&refs_once, refs_init);
  for (int i = 0; i < SHARDS; i++) {
    cotp__spin_lock(&refs[i].lock);
    free(refs[i].slots);
    refs[i].slots = NULL;
    refs[i].n = refs[i].cap = 0;
    cotp__spin_unlock(&refs[i].lock);
  }
}
