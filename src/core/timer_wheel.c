/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timer_wheel.c: a scheduler's timers, a hierarchical timing wheel.
 *
 * Seven levels of 64 slots.  A slot of level L spans 64^L ms, so level 0
 * holds each millisecond of the next 64, level 1 each 64 ms of the next
 * 4 s, and level 6 reaches 2^42 ms (139 years); a deadline beyond that
 * waits on the `far` list.  A timer goes to the lowest level whose slot
 * tells its deadline apart from the wheel's time: the level of the
 * highest bit in which the two differ.  When the wheel's time reaches the
 * start of an occupied slot of level L > 0, the slot's timers are placed
 * again, relative to the new time, each one level lower at least
 * (cascading); a slot of level 0 holds timers of exactly one deadline and
 * goes to the `due` list, from which they fire.  So start and cancel are
 * a few dozen instructions whatever the number of timers, and each timer
 * moves at most once per level it passes through.
 *
 * The 4-ary heap this replaces paid a sift for each start and each cancel:
 * with a million timers, ten levels of a 16 MB array, one cache miss
 * each, and a third of the timers benchmark.
 *
 * The lists are doubly linked through a pool of links, indexed by 32-bit
 * numbers, that grows as the number of timers does: a timer's node (in a
 * process's control block, or a send_after chunk) stays 24 bytes, the
 * first cache line of a control block stays the one every send writes,
 * and moving a timer between lists, as cascading does, needs no memory.
 * Only a start may fail for want of memory, never a firing.
 *
 * Lists keep the order timers were added in, and cascading keeps it, so
 * timers due at the same millisecond fire in the order they were started.
 *
 * `next` is the time the wheel next needs its scheduler: the deadline of
 * the earliest slot of level 0, or the start of the earliest occupied
 * slot above, whichever comes first.  It is never after the earliest
 * deadline, so a scheduler sleeping until it never wakes late; a cancel
 * leaves it alone, and the scheduler then wakes once for nothing.
 *
 * Everything here runs under the wheel's lock.
 */
#include <stdlib.h>
#include <string.h>

#include "platform/clock.h"
#include "timer.h"

#define BITS 6
#define SLOTS (1u << BITS)
#define LEVELS WHEEL_LEVELS
#define FAR LEVELS        /* t->where: on the far list */
#define DUE (LEVELS + 1)  /* t->where: on the due list */
#define NIL UINT32_MAX
#define POOL_KEEP 4096    /* links an empty wheel keeps */

_Static_assert(SLOTS == WHEEL_SLOTS && LEVELS * BITS < 62,
               "the wheel's levels fit a deadline");

static unsigned digit(int64_t time, unsigned level) {
  return (unsigned)((uint64_t)time >> (level * BITS)) & (SLOTS - 1);
}

/* The time slot idx of level L starts at, in the span of level L + 1
 * that holds time. */
static int64_t slot_start(int64_t time, unsigned level, unsigned idx) {
  unsigned above = (level + 1) * BITS;
  return (int64_t)(((uint64_t)time >> above << above) |
                   ((uint64_t)idx << (level * BITS)));
}

void cotp__wheel_init(struct cotp__timer_wheel *w) {
  memset(w->occupied, 0, sizeof w->occupied);
  for (unsigned l = 0; l < LEVELS; l++)
    for (unsigned i = 0; i < SLOTS; i++)
      w->slots[l][i] = (struct cotp__timer_list){NIL, NIL};
  w->far = w->due = (struct cotp__timer_list){NIL, NIL};
  w->links = NULL;
  w->nlinks = w->cap = w->n = 0;
  w->free = NIL;
  w->now = cotp__now_ms();
}

void cotp__wheel_free(struct cotp__timer_wheel *w) {
  free(w->links);
  cotp__wheel_init(w);
}

/* --- lists --- */

static struct cotp__timer_list *list_of(struct cotp__timer_wheel *w,
                                        unsigned where, int64_t deadline) {
  if (where == DUE)
    return &w->due;
  if (where == FAR)
    return &w->far;
  return &w->slots[where][digit(deadline, where)];
}

static void append(struct cotp__timer_wheel *w, struct cotp__timer_list *l,
                   uint32_t k) {
  w->links[k].prev = l->tail;
  w->links[k].next = NIL;
  if (l->tail == NIL)
    l->head = k;
  else
    w->links[l->tail].next = k;
  l->tail = k;
}

static void unlink_from(struct cotp__timer_wheel *w, struct cotp__timer_list *l,
                        uint32_t k) {
  uint32_t prev = w->links[k].prev, next = w->links[k].next;
  if (prev == NIL)
    l->head = next;
  else
    w->links[prev].next = next;
  if (next == NIL)
    l->tail = prev;
  else
    w->links[next].prev = prev;
}

/* Puts t, holding link k, on the list its deadline belongs to now. */
static void place(struct cotp__timer_wheel *w, struct cotp__timer *t,
                  uint32_t k) {
  int64_t d = t->deadline_ms;
  unsigned where = DUE;
  if (d > w->now) {
    /* both are >= 0 here: the highest bit they differ in picks the level */
    uint64_t differ = (uint64_t)d ^ (uint64_t)w->now;
    where = (unsigned)(63 - __builtin_clzll(differ)) / BITS;
    if (where >= LEVELS)
      where = FAR;
    else
      w->occupied[where] |= 1ull << digit(d, where);
  }
  t->where = (uint8_t)where;
  t->link = k;
  append(w, list_of(w, where, d), k);
}

/* --- what the timer code calls --- */

bool cotp__wheel_reserve(struct cotp__timer_wheel *w) {
  if (w->free != NIL || w->nlinks < w->cap)
    return true;
  if (w->cap >= NIL / 2)
    return false;
  uint32_t cap = w->cap ? w->cap * 2 : 64;
  struct cotp__timer_link *links = realloc(w->links, cap * sizeof *links);
  if (!links)
    return false;
  w->links = links;
  w->cap = cap;
  return true;
}

void cotp__wheel_put(struct cotp__timer_wheel *w, struct cotp__timer *t) {
  uint32_t k = w->free;
  if (k != NIL)
    w->free = w->links[k].next;
  else
    k = w->nlinks++;
  w->links[k].t = t;
  w->n++;
  place(w, t, k);
  /* the new timer's event: its deadline on level 0 or the due list (now),
   * the start of its slot above */
  int64_t at = t->where == DUE ? w->now
               : t->where == FAR
                   ? (int64_t)(((uint64_t)w->now >> (LEVELS * BITS)) + 1)
                         << (LEVELS * BITS)
                   : slot_start(w->now, t->where, digit(t->deadline_ms, t->where));
  if (at < atomic_load_explicit(&w->next, memory_order_relaxed))
    atomic_store_explicit(&w->next, at, memory_order_relaxed);
}

void cotp__wheel_take(struct cotp__timer_wheel *w, struct cotp__timer *t) {
  uint32_t k = t->link;
  struct cotp__timer_list *l = list_of(w, t->where, t->deadline_ms);
  unlink_from(w, l, k);
  if (t->where < LEVELS && l->head == NIL)
    w->occupied[t->where] &= ~(1ull << digit(t->deadline_ms, t->where));
  w->links[k].t = NULL;
  w->links[k].next = w->free;
  w->free = k;
  /* release: to the owner's acquire load, which may add the node again */
  atomic_store_explicit(&t->wheel, NULL, memory_order_release);
  if (--w->n == 0) {
    atomic_store_explicit(&w->next, TIMER_NONE, memory_order_relaxed);
    if (w->cap > POOL_KEEP) { /* a burst is over: give its links back */
      free(w->links);
      w->links = NULL;
      w->nlinks = w->cap = 0;
      w->free = NIL;
    }
  }
}

/* The next time the wheel has something to do, after w->now (or now, if
 * timers are due); TIMER_NONE if it holds none. */
static int64_t next_event(const struct cotp__timer_wheel *w) {
  if (w->due.head != NIL)
    return w->now;
  int64_t next = TIMER_NONE;
  for (unsigned l = 0; l < LEVELS; l++) {
    uint64_t occupied = w->occupied[l];
    if (!occupied)
      continue;
    /* every occupied slot lies ahead of the wheel's time on its level:
     * place() puts a timer after its time's digit, and the time reaches a
     * slot only by advance_to(), which empties it */
    int64_t at = slot_start(w->now, l, (unsigned)__builtin_ctzll(occupied));
    if (at < next)
      next = at;
  }
  if (w->far.head != NIL) {
    int64_t at = (int64_t)(((uint64_t)w->now >> (LEVELS * BITS)) + 1) << (LEVELS * BITS);
    if (at < next)
      next = at;
  }
  return next;
}

void cotp__wheel_publish(struct cotp__timer_wheel *w) {
  atomic_store_explicit(&w->next, w->n ? next_event(w) : TIMER_NONE,
                        memory_order_relaxed);
}

/* Moves the timers of list l (taken whole) to where they belong now. */
static void replace_all(struct cotp__timer_wheel *w, struct cotp__timer_list l) {
  for (uint32_t k = l.head, next; k != NIL; k = next) {
    next = w->links[k].next;
    place(w, w->links[k].t, k);
  }
}

/* The wheel's time becomes at, an event: the slots that start there are
 * taken apart, from the highest level down, and the slot of level 0 due
 * there joins the due list. */
static void advance_to(struct cotp__timer_wheel *w, int64_t at) {
  w->now = at;
  if (w->far.head != NIL &&
      ((uint64_t)at & (((uint64_t)1 << (LEVELS * BITS)) - 1)) == 0) {
    struct cotp__timer_list l = w->far;
    w->far = (struct cotp__timer_list){NIL, NIL};
    replace_all(w, l);
  }
  for (unsigned lv = LEVELS; lv-- > 1;) {
    if ((uint64_t)at & (((uint64_t)1 << (lv * BITS)) - 1))
      continue; /* at does not start a slot of this level */
    unsigned i = digit(at, lv);
    if (!(w->occupied[lv] & (1ull << i)))
      continue;
    struct cotp__timer_list l = w->slots[lv][i];
    w->slots[lv][i] = (struct cotp__timer_list){NIL, NIL};
    w->occupied[lv] &= ~(1ull << i);
    replace_all(w, l);
  }
  unsigned i = digit(at, 0);
  if (w->occupied[0] & (1ull << i)) {
    struct cotp__timer_list l = w->slots[0][i];
    w->slots[0][i] = (struct cotp__timer_list){NIL, NIL};
    w->occupied[0] &= ~(1ull << i);
    for (uint32_t k = l.head; k != NIL; k = w->links[k].next)
      w->links[k].t->where = DUE;
    if (w->due.tail == NIL) {
      w->due = l; /* always, as first_due calls it: the list was empty,
                     and a slot of level 0 that starts a slot above is
                     empty when that one cascades */
    } else { /* what was due before goes first */
      w->links[w->due.tail].next = l.head;
      w->links[l.head].prev = w->due.tail;
      w->due.tail = l.tail;
    }
  }
}

struct cotp__timer *cotp__wheel_first_due(struct cotp__timer_wheel *w,
                                          int64_t now) {
  while (w->due.head == NIL) {
    int64_t at = w->n ? next_event(w) : TIMER_NONE;
    if (at > now) {
      if (now > w->now)
        w->now = now; /* no slot starts in between: nothing moves */
      return NULL;
    }
    advance_to(w, at);
  }
  return w->links[w->due.head].t;
}

void cotp__wheel_each(struct cotp__timer_wheel *w,
                      void (*fn)(struct cotp__timer *t)) {
  for (uint32_t k = 0; k < w->nlinks; k++)
    if (w->links[k].t)
      fn(w->links[k].t);
}
