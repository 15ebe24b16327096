/* SPDX-License-Identifier: Apache-2.0 */
/*
 * idle.c: what a scheduler does when it has nothing at hand: look for work
 * in order, steal it, spin for it, and sleep until some comes; and how
 * others wake it.
 *
 * Work is looked for in this order: the max and high priority queues;
 * every 61st tick the global queue (or the overflow queue), and 30 ticks
 * later the ring (or the overflow queue), so none of them starves;
 * runnext, the deque, the local ring, the overflow queue, the global
 * queue, ready file descriptors, other schedulers' overflow queues, rings
 * and deques; then the scheduler sleeps.  Another scheduler's short queue
 * is taken only once it has waited (queued_at); a scheduler that sees
 * one dozes rather than sleeps, to look at it again.
 */
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime.h"
#include "platform/clock.h"
#include "platform/spinlock.h"
#include "sched.h"

/* --- sleeping and waking schedulers --- */

static void futex_wait(_Atomic uint32_t *word, uint32_t val, int64_t timeout_ns) {
  struct timespec ts, *tsp = NULL;
  if (timeout_ns >= 0) {
    ts.tv_sec = timeout_ns / 1000000000;
    ts.tv_nsec = timeout_ns % 1000000000;
    tsp = &ts;
  }
  syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, tsp, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word) {
  syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Wakes t if it sleeps; true if this call woke it. */
static bool wake_sched(struct cotp__sched *t) {
  if (!atomic_load_explicit(&t->sleeping, memory_order_seq_cst))
    return false;
  uint32_t asleep = 0;
  if (!atomic_compare_exchange_strong_explicit(&t->futex, &asleep, 1,
                                               memory_order_seq_cst,
                                               memory_order_relaxed))
    return false;
  if (atomic_load_explicit(&t->sleep_in_poll, memory_order_seq_cst))
    cotp__io_interrupt();
  else
    futex_wake(&t->futex);
  return true;
}

/* Wakes one sleeping scheduler, or with only_sound one that does not
 * doze, unless a scheduler is looking for work already. */
static void wake_one(bool only_sound) {
  struct cotp__rt *rt = cotp__rt;
  if (atomic_load_explicit(&rt->nspinning, memory_order_seq_cst) != 0)
    return;
  unsigned asleep = atomic_load_explicit(&rt->nsleeping, memory_order_seq_cst);
  if (asleep == 0 ||
      (only_sound &&
       asleep <= atomic_load_explicit(&rt->ndozing, memory_order_seq_cst)))
    return;
  for (unsigned i = 0; i < rt->nsched; i++) {
    struct cotp__sched *t = &rt->scheds[i];
    if ((!only_sound || !atomic_load_explicit(&t->dozing, memory_order_seq_cst)) &&
        wake_sched(t))
      return;
  }
}

void cotp__wake_idle(void) { wake_one(false); }

void cotp__wake_for_queue(struct cotp__sched *s) {
  /* nobody asleep, the usual case, costs what cotp__wake_idle does (a
   * sequentially consistent load: the sleeper counts itself, then looks
   * for work; the queuer queues, then looks for sleepers) */
  if (atomic_load_explicit(&cotp__rt->nsleeping, memory_order_seq_cst) == 0)
    return;
  /* A short queue: a dozing scheduler will look at it (queued_at, below),
   * one asleep for good would not. */
  wake_one(cotp__runq_len(&s->runq) + cotp__deque_len(&s->deque) < STEAL_AT_ONCE);
}

void cotp__wake_all(void) {
  for (unsigned i = 0; i < cotp__rt->nsched; i++)
    wake_sched(&cotp__rt->scheds[i]);
}

/* --- finding work --- */

static struct cotp__proc *local_work(struct cotp__sched *s) {
  struct cotp__rt *rt = cotp__rt;
  struct cotp__proc *p;
  if ((atomic_load_explicit(&rt->prio[1].len, memory_order_relaxed) ||
       atomic_load_explicit(&rt->prio[0].len, memory_order_relaxed)) &&
      ((p = cotp__pqueue_pop(&rt->prio[1])) || (p = cotp__pqueue_pop(&rt->prio[0]))))
    return p;
  if (s->tick % 61 == 0 && ((p = cotp__pqueue_pop(&rt->global)) ||
                            (p = cotp__pqueue_pop(&s->overflow))))
    return p;
  /* the ring and the overflow get their own turn too, in case the global
   * queue has work at every tick 0, or a tree keeps the deque full */
  if (s->tick % 61 == 30 &&
      ((p = cotp__runq_pop(&s->runq)) || (p = cotp__pqueue_pop(&s->overflow))))
    return p;
  if (atomic_load_explicit(&s->runnext, memory_order_relaxed) &&
      (p = atomic_exchange_explicit(&s->runnext, NULL, memory_order_acq_rel)))
    return p;
  if ((p = cotp__deque_take(&s->deque)) || (p = cotp__runq_pop(&s->runq)) ||
      (p = cotp__pqueue_pop(&s->overflow)))
    return p;
  return cotp__pqueue_pop(&rt->global);
}

/*
 * When work queued on another scheduler is worth taking.  A process that
 * a busy scheduler will run within a microsecond or so is better left
 * there: taken, it runs on a core where its control block, its messages
 * and whoever it talks to are cold, and the one it answers (a stream's
 * owner awaiting its tasks) follows it over or is woken across cores.
 * Measured on an ordered stream of tiny tasks with two schedulers: half
 * the tasks were stolen and the owner itself moved a few thousand times
 * per 100,000 items, each move refilling a cache (benchmarks.md,
 * eighteenth session).  So a thief takes at once only a queue that holds
 * STEAL_AT_ONCE or more, and otherwise waits until the victim has left
 * its queues untouched for STEAL_AFTER_NS: no process taken or added, so
 * the victim is busy with one long run (Go waits 3 us before it takes a
 * busy P's runnext, for the same reason).  It watches one such victim at
 * a time, and moves on to the next as soon as the one watched makes
 * progress, so each gets its turn.
 */
#define STEAL_AFTER_NS 3000

enum { NONE_QUEUED, QUEUED, WORTH_STEALING };

static int queued_at(struct cotp__sched *s, struct cotp__sched *v) {
  uint32_t n = cotp__runq_len(&v->runq) + cotp__deque_len(&v->deque);
  struct cotp__watch *w = &s->watch;
  bool watched = w->since_ns != 0 && w->victim == v->index;
  if (n == 0) {
    if (watched)
      w->since_ns = 0;
    return NONE_QUEUED;
  }
  if (n >= STEAL_AT_ONCE)
    return WORTH_STEALING;
  if (w->since_ns != 0 && !watched)
    return QUEUED; /* its turn comes when the one watched moves on */
  uint32_t seen[4] = {
      atomic_load_explicit(&v->runq.head, memory_order_relaxed),
      atomic_load_explicit(&v->runq.tail, memory_order_relaxed),
      atomic_load_explicit(&v->deque.top, memory_order_relaxed),
      atomic_load_explicit(&v->deque.bottom, memory_order_relaxed)};
  if (!watched) {
    w->victim = v->index;
    memcpy(w->seen, seen, sizeof seen);
    w->since_ns = cotp__now_ns();
    return QUEUED;
  }
  if (memcmp(seen, w->seen, sizeof seen) != 0) {
    w->since_ns = 0; /* it gets on with its work: watch the next one */
    return QUEUED;
  }
  return cotp__now_ns() - w->since_ns >= STEAL_AFTER_NS ? WORTH_STEALING : QUEUED;
}

static struct cotp__proc *steal(struct cotp__sched *s) {
  struct cotp__rt *rt = cotp__rt;
  unsigned n = rt->nsched;
  if (n == 1)
    return NULL;
  /* Go's limit: at most half the busy schedulers spin at once */
  unsigned spinning = atomic_load_explicit(&rt->nspinning, memory_order_relaxed);
  unsigned sleeping = atomic_load_explicit(&rt->nsleeping, memory_order_relaxed);
  if (2 * spinning >= n - sleeping)
    return NULL;
  atomic_fetch_add_explicit(&rt->nspinning, 1, memory_order_seq_cst);
  struct cotp__proc *p = NULL;
  for (int round = 0; round < 3 && !p; round++) {
    unsigned start = (unsigned)cotp__sched_random(s) % n;
    for (unsigned i = 0; i < n && !p; i++) {
      struct cotp__sched *v = &rt->scheds[(start + i) % n];
      if (v == s)
        continue;
      /* the oldest work first: a batch of it keeps us busy longest */
      p = cotp__overflow_steal(s, v);
      if (!p && queued_at(s, v) == WORTH_STEALING) {
        p = cotp__runq_steal(s, v);
        if (!p)
          p = cotp__deque_steal(s, v);
        if (p)
          s->watch.since_ns = 0;
      }
      if (!p && atomic_load_explicit(&v->hogged, memory_order_relaxed)) {
        /* a hogged scheduler cannot fire its timers or run its runnext:
         * do it for it */
        if (cotp__timers_next(&v->timers) != TIMER_NONE)
          cotp__timers_expire(v, cotp__now_ms(), false);
        p = atomic_exchange_explicit(&v->runnext, NULL, memory_order_acq_rel);
        if (!p)
          p = local_work(s); /* what its timers just woke */
      }
    }
    if (!p)
      p = local_work(s);
  }
  /* the last spinner to find work wakes another: there may be more */
  if (atomic_fetch_sub_explicit(&rt->nspinning, 1, memory_order_seq_cst) == 1 && p)
    cotp__wake_idle();
  return p;
}

/* Whether s has work to take now: NONE_QUEUED, QUEUED (on another
 * scheduler, not yet worth stealing: queued_at) or WORTH_STEALING. */
static int work_anywhere(struct cotp__sched *s) {
  struct cotp__rt *rt = cotp__rt;
  if (atomic_load(&rt->global.len) || atomic_load(&rt->prio[0].len) ||
      atomic_load(&rt->prio[1].len) || atomic_load(&s->runnext) ||
      cotp__runq_len(&s->runq) || cotp__deque_len(&s->deque) ||
      atomic_load(&s->overflow.len))
    return WORTH_STEALING;
  int found = NONE_QUEUED;
  for (unsigned i = 0; i < rt->nsched; i++) {
    struct cotp__sched *v = &rt->scheds[i];
    if (v == s)
      continue;
    if (atomic_load(&v->overflow.len) ||
        (atomic_load(&v->hogged) && atomic_load(&v->runnext)))
      return WORTH_STEALING;
    int q = queued_at(s, v);
    if (q == WORTH_STEALING)
      return q;
    if (q == QUEUED)
      found = QUEUED;
  }
  return found;
}


/*
 * Before it sleeps, an idle scheduler watches for work a little longer
 * (IDLE_SPINS looks, some tens of microseconds).  Sleeping and being woken
 * are a futex call each, a few microseconds on a virtual machine, and the
 * waker pays its half on its critical path; a producer that makes work
 * for a spinning scheduler pays nothing (cotp__wake_idle sees no sleeper).
 * A stream of tasks made by one process and run by the others is such a
 * producer: its consumers run out of work and get more every few
 * microseconds.
 *
 * Watching is not free for the one watched: each look reads its queue
 * indexes, which it writes at every push and pop, so the next write waits
 * for the line to come back from the watcher's cache.  A stream whose
 * tasks run one at a time (ordered, at most two at once) gives a thief
 * nothing to take, ever, and ran 6% slower for being watched.  So
 * the spin adapts, as an adaptive mutex's does: each spin that found
 * nothing halves the next one, and finding work (by spinning or by
 * stealing) restores the whole of it.  A victim held by one long run is
 * still seen: within the spin while it is long, otherwise at the first
 * look after a doze (queued_at).
 */
#define IDLE_SPINS 1000
#define IDLE_SPINS_MIN 64

static bool spin_for_work(struct cotp__sched *s) {
  struct cotp__rt *rt = cotp__rt;
  int looks = IDLE_SPINS >> s->idle_misses;
  if (looks < IDLE_SPINS_MIN)
    looks = IDLE_SPINS_MIN;
  for (int i = 0; i < looks; i++) {
    if (work_anywhere(s) == WORTH_STEALING ||
        atomic_load_explicit(&rt->stopping, memory_order_relaxed)) {
      s->idle_misses = 0;
      return true;
    }
    cotp__cpu_relax();
  }
  if (looks > IDLE_SPINS_MIN)
    s->idle_misses++;
  return false;
}

/*
 * Sleeps until woken or a timer is due.  If another scheduler has work
 * queued that is not yet worth taking (queued_at), it dozes instead: it
 * wakes by itself after DOZE_NS to look again, and counts as dozing, so
 * that whoever queues more does not wake it (cotp__wake_for_queue).
 * Returns true if it dozed and nobody woke it.
 */
static bool sleep_until_work(struct cotp__sched *s) {
  struct cotp__rt *rt = cotp__rt;
  bool poll = cotp__io_pending() && cotp__io_take_poller();
  atomic_store_explicit(&s->futex, 0, memory_order_relaxed);
  atomic_store_explicit(&s->sleep_in_poll, poll, memory_order_seq_cst);
  atomic_store_explicit(&s->sleeping, true, memory_order_seq_cst);
  atomic_fetch_add_explicit(&rt->nsleeping, 1, memory_order_seq_cst);
  /* Work made available before we counted ourselves asleep was not
   * followed by a wake-up: look once more.  Deferred waits go into the
   * wheel now: nothing moves them while we sleep. */
  if (atomic_load_explicit(&s->timers.nlater, memory_order_relaxed))
    cotp__timer_flush(&s->timers, true, cotp__now_ms());
  int64_t next = atomic_load_explicit(&s->timers.next, memory_order_relaxed);
  for (unsigned i = 0; i < rt->nsched; i++) {
    /* a hogged scheduler's timers are ours to fire too */
    struct cotp__sched *v = &rt->scheds[i];
    int64_t vn = cotp__timers_next(&v->timers);
    if (v != s && vn < next && atomic_load_explicit(&v->hogged, memory_order_relaxed))
      next = vn;
  }
  int64_t timeout_ns = -1;
  if (next != TIMER_NONE) {
    s->now_ms = cotp__now_ms();
    timeout_ns = next > s->now_ms ? (next - s->now_ms) * 1000000 : 0;
  }
  /* Counted asleep first, then looked: whoever queues work after this
   * look sees a sleeper that does not doze, and wakes it. */
  int seen = work_anywhere(s);
  bool doze = seen == QUEUED, dozed = false;
  if (doze) {
    atomic_store_explicit(&s->dozing, true, memory_order_seq_cst);
    atomic_fetch_add_explicit(&rt->ndozing, 1, memory_order_seq_cst);
    if (timeout_ns < 0 || timeout_ns > DOZE_NS) {
      timeout_ns = DOZE_NS;
      dozed = true;
    }
  }
  if (timeout_ns != 0 && seen != WORTH_STEALING &&
      !atomic_load_explicit(&rt->stopping, memory_order_seq_cst)) {
    if (poll) /* in whole milliseconds, rounded up */
      cotp__io_poll(timeout_ns < 0 ? -1 : (timeout_ns + 999999) / 1000000);
    else
      futex_wait(&s->futex, 0, timeout_ns);
  } else {
    dozed = false;
  }
  if (poll)
    cotp__io_release_poller();
  if (doze) {
    atomic_fetch_sub_explicit(&rt->ndozing, 1, memory_order_seq_cst);
    atomic_store_explicit(&s->dozing, false, memory_order_seq_cst);
  }
  atomic_fetch_sub_explicit(&rt->nsleeping, 1, memory_order_seq_cst);
  atomic_store_explicit(&s->sleeping, false, memory_order_seq_cst);
  return dozed && atomic_load_explicit(&s->futex, memory_order_relaxed) == 0;
}

struct cotp__proc *cotp__find_work(struct cotp__sched *s) {
  struct cotp__rt *rt = cotp__rt;
  for (;;) {
    if (atomic_load_explicit(&rt->stopping, memory_order_acquire))
      return NULL;
    s->tick++;
    /* Deferred waits must move to the wheel by later_by, a clock read away:
     * every eighth look is often enough (timer.h) */
    if (atomic_load_explicit(&s->timers.next, memory_order_relaxed) != TIMER_NONE ||
        ((s->tick & 7) == 0 &&
         atomic_load_explicit(&s->timers.nlater, memory_order_relaxed))) {
      s->now_ms = cotp__now_ms();
      cotp__timers_expire(s, s->now_ms, true);
    }
    struct cotp__proc *p = local_work(s);
    if (!p && cotp__io_pending() && s->tick % 8 == 0)
      cotp__io_poll(0);
    if (!p)
      p = local_work(s);
    if (p && p->priority == COTP_PRIORITY_LOW &&
        ++p->low_skips < 8 && cotp__normal_queued(s)) {
      cotp__runq_push(s, p); /* BEAM: low runs once per 8 picks */
      continue;
    }
    if (p) {
      p->low_skips = 0;
      return p;
    }
    if ((p = steal(s))) {
      s->idle_misses = 0;
      return p;
    }
    if (cotp__io_pending())
      cotp__io_poll(0);
    if ((p = local_work(s)))
      return p;
    /* After a doze nobody ended, the look above was the one it was for:
     * the work seen before is still not worth taking, or gone. */
    if (!s->dozed_off && spin_for_work(s))
      continue;
    s->dozed_off = sleep_until_work(s);
  }
}
