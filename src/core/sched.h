/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sched.h: schedulers, run queues and the runtime they belong to.
 *
 * One scheduler per thread.  Each has a local run queue (a ring only its
 * thread pushes to, any thread may steal half of) and a runnext slot: a
 * process woken by the running one goes there and runs as soon as the
 * waker parks, which is what makes a ping-pong or a ring run as fast as a
 * function call chain (Go's runnext).  What a spawn pushes out of runnext
 * goes to a deque taken newest first, so trees unfold depth first (struct
 * cotp__deque).  What the ring cannot hold waits in the scheduler's
 * overflow queue, oldest first, which idle schedulers steal from before
 * they steal from the ring (idle.c).  Work that comes from outside a
 * scheduler (the poller, the blocking pool, foreign threads) and
 * high/max-priority work goes to global queues under a mutex.
 *
 * An idle scheduler steals, watches for work a while (idle.c,
 * spin_for_work), then sleeps: on a futex, or,
 * if it holds the poller role, in epoll_wait.  A scheduler that makes work
 * available wakes a sleeping one only when none is spinning already (Go's
 * wakep), so a stream of messages does not cost a wake-up each.
 */
#ifndef COTP_CORE_SCHED_H
#define COTP_CORE_SCHED_H

#include <pthread.h>

#include "proc.h"
#include "stacks.h"
#include "timer.h"

#define RUNQ_SIZE 256u
#define DEQUE_SIZE 256u

/*
 * The processes that newer ones pushed out of runnext (a spawn, a signal):
 * the owner takes the newest first, so a tree of processes unfolds depth
 * first, and thieves take the oldest half, the roots of the biggest
 * subtrees still to do.  A spin lock guards it: the owner's push and take
 * cost one locked instruction each, as a CAS on the ring does, and a thief
 * can take a batch, which a lock-free deque (Chase and Lev's) cannot do
 * safely against the owner's take.
 */
struct cotp__deque {
  atomic_flag lock;
  _Atomic uint32_t top;    /* oldest; written under the lock */
  _Atomic uint32_t bottom; /* one past the newest; written under the lock */
  struct cotp__proc *buf[DEQUE_SIZE];
};

struct cotp__runq {
  _Atomic uint32_t head; /* consumers (owner and thieves) */
  _Atomic uint32_t tail; /* producer: the owner only */
  _Atomic(struct cotp__proc *) buf[RUNQ_SIZE];
};

/* A mutex-protected FIFO of processes linked through ->next. */
struct cotp__pqueue {
  pthread_mutex_t lock;
  struct cotp__proc *head, *tail;
  _Atomic size_t len;
};

/* What a scheduler last saw of another's short queue, as a thief: one
 * at a time (idle.c, queued_at). */
struct cotp__watch {
  unsigned victim;  /* the other scheduler's index */
  uint32_t seen[4]; /* its ring's head and tail, its deque's top and bottom */
  int64_t since_ns; /* when first seen so; 0 when watching none */
};

/*
 * A direct turn (turn.c): the running process, the caller, runs an idle
 * handler's next turn itself, as if it had sent a message and the handler
 * ran at once.  This record lives on the caller's stack while the caller
 * waits for the turn, which it does until the handler switches out for
 * any reason; the scheduler holds it in `turn` until then.
 */
struct cotp__turn {
  struct cotp__proc *caller, *proc;
  cotp_term tag;                 /* what an answer names (cotp_turn_answer) */
  void (*fn)(void *state, void *arg);
  const void *arg;
  size_t arg_size;
  cotp_term *answer;             /* in the caller's heap */
  unsigned flags;                /* COTP_TURN_MONITOR_ALIAS */
  bool answered;
  bool out_of_memory;            /* the late monitor could not be made */
  bool called;                   /* entered by cotp__ctx_call_on: its bottom
                                    frame may return (cotp__turn_return) */
};

struct cotp__sched {
  /* Its own thread only. */
  unsigned index;
  void *sp;                        /* the scheduler context, while a
                                      process runs */
  struct cotp__proc *current;
  struct cotp__proc *prev;         /* switched out, not yet settled */
  unsigned tick;                   /* schedules so far */
  uint64_t rng;
  bool perturb;                    /* cfg.sched_seed != 0 */
  struct cotp__stackset stacks;    /* run stacks this scheduler hands out */
  int64_t now_ms;                  /* clock read at the last schedule */
  struct cotp__watch watch;        /* as a thief (idle.c) */
  bool dozed_off;                  /* its last sleep was a doze nobody
                                      ended (idle.c) */
  uint8_t idle_misses;             /* spins in a row that found nothing
                                      (idle.c) */
  struct cotp__turn *turn;         /* the direct turn running, whose
                                      caller waits for it (turn.c) */
#if defined(COTP_TSAN)
  void *tsan_fiber;
#endif
#if defined(COTP_ASAN)
  const void *stack_bottom;
  size_t stack_size;
  void *asan_fake_stack;
#endif

  /* Read by other threads. */
  pthread_t thread;
  struct cotp__runq runq;
  struct cotp__deque deque;
  struct cotp__pqueue overflow;    /* what the ring could not hold */
  _Atomic(struct cotp__proc *) runnext; /* taken by others only when
                                           hogged */
  _Atomic uint64_t run_id;         /* odd while a process runs; +1 at each
                                      start and end (watchdog) */
  _Atomic bool hogged;             /* the watchdog saw a long schedule */
  _Atomic uint32_t futex;          /* sleep word: 0 asleep, 1 woken */
  _Atomic bool sleeping;
  _Atomic bool dozing;             /* asleep, but looks again soon */
  _Atomic bool sleep_in_poll;      /* asleep in epoll_wait, not the futex */
  _Atomic uint64_t turn_alias;     /* the running turn's alias, or 0, and */
  _Atomic uint64_t turn_alias_owner; /* its caller's pid (monitor.c) */
  void *altstack;                  /* for the stack-overflow handler */
  /* Last: 6 KB, of which the hot fields above share no line. */
  struct cotp__timer_wheel timers;
} __attribute__((aligned(64)));

struct cotp__rt {
  cotp_config cfg;
  unsigned nsched;
  struct cotp__sched *scheds;
  struct cotp__pqueue global;      /* normal and low from outside */
  struct cotp__pqueue prio[2];     /* [0] high, [1] max */
  _Atomic unsigned nspinning;
  _Atomic unsigned nsleeping;
  _Atomic unsigned ndozing;        /* of those asleep, how many doze */
  _Atomic bool stopping;
  _Atomic bool stopped;            /* every process is gone */
  cotp_pid root;
  cotp_heap reason_heap;
  cotp_term root_reason;
  pthread_mutex_t lock;            /* start/stop, idle bookkeeping */
  pthread_cond_t done;
};

extern struct cotp__rt *cotp__rt;

/*
 * The scheduler running on this thread, or NULL.
 *
 * A process may resume on another thread, and a compiler is free to keep a
 * thread-local's address (or the thread pointer) in a register across a
 * call, such as the one that switches: after the switch it would read the
 * old thread's.  So the read is an asm volatile that loads the thread
 * pointer afresh each time, which no compiler can reuse; elsewhere it is a
 * function call the compiler cannot see into.
 */
extern __thread struct cotp__sched *cotp__tls_sched
    __attribute__((tls_model("initial-exec")));
struct cotp__sched *cotp__sched_self_call(void);
static inline struct cotp__sched *cotp__sched_self(void) {
  struct cotp__sched *s;
#if defined(__x86_64__)
  __asm__ volatile("movq cotp__tls_sched@gottpoff(%%rip), %0\n\t"
                   "movq %%fs:(%0), %0"
                   : "=r"(s));
#elif defined(__aarch64__)
  void *tmp;
  __asm__ volatile("mrs %0, tpidr_el0\n\t"
                   "adrp %1, :gottprel:cotp__tls_sched\n\t"
                   "ldr %1, [%1, #:gottprel_lo12:cotp__tls_sched]\n\t"
                   "ldr %0, [%0, %1]"
                   : "=&r"(s), "=&r"(tmp));
#else
  s = cotp__sched_self_call();
#endif
  return s;
}
/* The process running on this thread, or NULL. */
static inline struct cotp__proc *cotp__proc_self(void) {
  struct cotp__sched *s = cotp__sched_self();
  return s ? s->current : NULL;
}

/* --- run queues (runq.c) --- */

void cotp__runq_init(struct cotp__runq *q);
/* Owner: push; when the ring is full, its older half moves to the
 * scheduler's overflow queue. */
void cotp__runq_push(struct cotp__sched *s, struct cotp__proc *p);
struct cotp__proc *cotp__runq_pop(struct cotp__runq *q);
/* Steals about half of victim's queue into thief's; returns one to run. */
struct cotp__proc *cotp__runq_steal(struct cotp__sched *thief,
                                    struct cotp__sched *victim);
/* Takes the oldest part of victim's overflow queue (half, at most
 * RUNQ_SIZE / 2) for thief: returns one to run now and puts the rest on
 * thief's ring; NULL if the queue was empty. */
struct cotp__proc *cotp__overflow_steal(struct cotp__sched *thief,
                                        struct cotp__sched *victim);
uint32_t cotp__runq_len(const struct cotp__runq *q);
/* Owner: pushes p as the newest; false when the deque is full. */
bool cotp__deque_push(struct cotp__deque *d, struct cotp__proc *p);
/* Owner: takes the newest, or NULL. */
struct cotp__proc *cotp__deque_take(struct cotp__deque *d);
/* Owner: moves everything in s's deque to its ring, oldest first. */
void cotp__deque_to_ring(struct cotp__sched *s);
/* Takes the oldest half of victim's deque for thief: returns one to run
 * now and puts the rest on thief's ring; NULL if it was empty. */
struct cotp__proc *cotp__deque_steal(struct cotp__sched *thief,
                                     struct cotp__sched *victim);
uint32_t cotp__deque_len(const struct cotp__deque *d);
void cotp__pqueue_init(struct cotp__pqueue *q);
void cotp__pqueue_destroy(struct cotp__pqueue *q);
void cotp__pqueue_push(struct cotp__pqueue *q, struct cotp__proc *p);
struct cotp__proc *cotp__pqueue_pop(struct cotp__pqueue *q);

/* --- scheduling (sched.c) --- */

/* Makes a RUNNABLE process (owned by the caller) run soon: on the calling
 * scheduler's runnext (as_next) or run queue, or the global queue when the
 * caller is not a scheduler; wakes an idle scheduler if needed. */
void cotp__make_ready(struct cotp__proc *p, bool as_next);
/* Pushes message or signal m onto the inbox of p (to's process): frees it
 * if p has gone, makes p ready if the push woke it.  Returns the push's
 * result. */
static inline enum push_result cotp__msg_push(struct cotp__proc *p, cotp_pid to,
                                              struct cotp__msg *m) {
  enum push_result r = cotp__inbox_push(p, to, &m->sig);
  if (r == PUSH_DEAD)
    cotp__msg_free(m);
  else if (r == PUSH_WOKE)
    cotp__make_ready(p, true);
  return r;
}
/* WAITING -> RUNNABLE and enqueue, if p is waiting.  Any thread. */
void cotp__wake(struct cotp__proc *p);
/* Switches the running process out with a request: to the next process
 * of its scheduler, or to the scheduler.  Returns when it runs again. */
void cotp__switch_out_on(struct cotp__sched *s, struct cotp__proc *p,
                         enum proc_request rq);
static inline void cotp__switch_out(struct cotp__proc *p,
                                    enum proc_request rq) {
  cotp__switch_out_on(cotp__sched_self(), p, rq);
}
/* Switches the running process p out to wait (RQ_PARK); returns when it
 * runs again, woken or not.  The one place waits switch from (sched.c). */
void cotp__park(struct cotp__proc *p);
/* Called by handler p when it goes idle with no frames: if the next
 * process of p's scheduler is a handler without frames too, parks p and
 * returns that one, which takes over p's stack and frame as is (no
 * switch); otherwise NULL, and p switches out as usual. */
struct cotp__proc *cotp__chain_next(struct cotp__proc *p);
/* What a fresh process does first: finishes the process it replaced. */
void cotp__settle(void);
/* The bottom frame of a handler process, where its fresh context starts:
 * runs cotp__handlers_run (process.c), then switches out with RQ_DROP. */
void cotp__handler_start(void);
struct cotp__proc *cotp__handlers_run(struct cotp__proc *p);
/* Everything a switch out of p with request rq (RQ_EXIT or RQ_DROP: p
 * does not resume) does but the switch, which the caller, a bottom frame,
 * then makes: cotp__ctx_switch(save, load) (sched.c says why). */
struct cotp__last_switch {
  void **save;
  void *load;
};
struct cotp__last_switch cotp__last_switch(struct cotp__proc *p,
                                           enum proc_request rq);
/* Runs proc's direct turn t from the caller t->caller, running on s, with
 * proc on a run stack of its own (cotp__turn_start called at its top, or
 * a fresh context there);
 * returns when proc switches out, for whatever reason, with proc settled
 * (sched.c). */
void cotp__turn_run(struct cotp__sched *s, struct cotp__turn *t);
/* The bottom frame of a direct turn (turn.c). */
void cotp__turn_start(void);
/* Whether the turn's process p, its bottom frame done, can return into
 * its caller without a switch: entered by a call and never switched out.
 * If so, does all a switch back to the caller does but the switch, and
 * the bottom frame returns (sched.c). */
bool cotp__turn_return(struct cotp__proc *p);
/* What the caller of a turn that gave no answer does before the turn's
 * process is settled (turn.c). */
void cotp__turn_unanswered(struct cotp__turn *t);
/* Runs a scheduler's loop until the runtime stops. */
void *cotp__sched_main(void *arg);
/* Wakes one sleeping scheduler (or the poller) if there is no spinner. */
void cotp__wake_idle(void);
/* Fewer processes than this queued on a scheduler are left to it for a
 * while before an idle one takes them (idle.c, queued_at). */
#define STEAL_AT_ONCE 4
/* How long a scheduler that saw such a short queue elsewhere sleeps
 * before it looks again. */
#define DOZE_NS 1000000
/* After s queued a process: wakes an idle scheduler if s's queue is worth
 * taking now, or if none is dozing to look at it later. */
void cotp__wake_for_queue(struct cotp__sched *s);
/* Wakes every sleeping scheduler (the runtime stops). */
void cotp__wake_all(void);
/* The next process for s to run, waiting for one as long as it takes;
 * NULL when the runtime stops (idle.c). */
struct cotp__proc *cotp__find_work(struct cotp__sched *s);

/* s's own pseudo-random numbers (perturbed scheduling, steal order). */
static inline uint64_t cotp__sched_random(struct cotp__sched *s) {
  s->rng = s->rng * 6364136223846793005ull + 1442695040888963407ull;
  return s->rng >> 33;
}

/* Whether s has normal work queued (for the low priority rule). */
static inline bool cotp__normal_queued(struct cotp__sched *s) {
  return cotp__runq_len(&s->runq) > 0 || cotp__deque_len(&s->deque) > 0;
}

/* Puts p in s's runnext (s is the caller's scheduler) and returns what
 * was there, or NULL.  Others only ever take from runnext (they exchange
 * it for NULL), so an empty slot stays empty until we fill it: a store
 * does, and only a full one needs the exchange. */
static inline struct cotp__proc *cotp__runnext_put(struct cotp__sched *s,
                                                   struct cotp__proc *p) {
  if (!atomic_load_explicit(&s->runnext, memory_order_relaxed)) {
    atomic_store_explicit(&s->runnext, p, memory_order_release);
    return NULL;
  }
  return atomic_exchange_explicit(&s->runnext, p, memory_order_acq_rel);
}

/* cotp__make_ready from a process running on s, inline for the common
 * case of every message: the woken process goes to runnext. */
static inline void cotp__make_ready_on(struct cotp__sched *s,
                                       struct cotp__proc *p) {
  if (p->priority != COTP_PRIORITY_NORMAL || s->perturb) {
    cotp__make_ready(p, true);
    return;
  }
  atomic_store_explicit(&p->state, PS_RUNNABLE, memory_order_relaxed);
  struct cotp__proc *old = cotp__runnext_put(s, p);
  if (old) {
    cotp__runq_push(s, old);
    cotp__wake_for_queue(s);
  }
}

/*
 * What a process woken by the running one touches first when it runs:
 * its frames if they were evicted (copied back onto its stack) and the
 * heap block its message is copied into.  In a ring of 10,000 processes
 * those are cold, and the waker's last steps before it parks are time
 * enough to bring them in (a hop 7% faster).
 *
 * The caller owns p (it cleared p's WAITING bit), so p's heap is p's
 * alone; but a scheduler running another process on p's home stack may be
 * evicting p's frames right now, writing saved and saved_len.  Those are
 * read atomically (evict writes them so), and what is read is only a
 * hint: a stale pointer or length prefetches the wrong bytes, which is
 * harmless.
 */
static inline void cotp__prefetch_to_run(const struct cotp__proc *p) {
  const struct cotp__block *top = p->heap.top;
  if (top)
    __builtin_prefetch(top, 1);
  const char *saved = __atomic_load_n(&p->saved, __ATOMIC_RELAXED);
  if (saved) {
    /* A process parked in a receive loop has a few hundred bytes of
     * frames: five lines, fetched without a loop (a line past the end is
     * harmless), the rest of a deeper stack, up to 4 KB, with one. */
    uint32_t len = __atomic_load_n(&p->saved_len, __ATOMIC_RELAXED);
    __builtin_prefetch(saved);
    __builtin_prefetch(saved + 64);
    __builtin_prefetch(saved + 128);
    __builtin_prefetch(saved + 192);
    __builtin_prefetch(saved + 256);
    for (uint32_t i = 320; i < len && i < 4096; i += 64)
      __builtin_prefetch(saved + i);
  }
}

/* Charges reductions to the running process; yields when its budget is
 * spent (or exits when the runtime stops).  Inside a process. */
COTP__SLOW_PATH void cotp__reduce_slow(struct cotp__proc *p);
static inline void cotp__reduce(struct cotp__proc *p, int n) {
  if ((p->reductions -= n) <= 0)
    cotp__reduce_slow(p);
}

#define REDUCTIONS 4000

/* --- run stacks, the common cases (the rest is stacks.c) --- */

/* The common cases, inline: a process whose frames are where it left them,
 * on a stack nobody else is using.  Each falls back to the general
 * function above when anything else holds. */
static inline bool cotp__stack_acquire_fast(struct cotp__sched *s,
                                            struct cotp__proc *p,
                                            struct cotp__rstack *r) {
  if (r && !atomic_flag_test_and_set_explicit(&r->lock, memory_order_acquire)) {
    if (r->in_use || r->resident != p)
      return cotp__stack_acquire_locked(p); /* evicted, or taken */
    r->in_use = true;
    r->pinned = false;
    atomic_flag_clear_explicit(&r->lock, memory_order_release);
    return true;
  }
  return cotp__stack_acquire(s, p);
}

/* Gives up p's stack, p's frames staying on it; returns a waiter or NULL. */
static inline struct cotp__proc *cotp__stack_release_live(struct cotp__proc *p,
                                                         struct cotp__rstack *r) {
  if (!r)
    return cotp__stack_release(p, true, false);
  while (atomic_flag_test_and_set_explicit(&r->lock, memory_order_acquire))
    ;
  r->in_use = false;
  r->pinned = false;
  struct cotp__proc *w = r->waiters;
  if (w) {
    r->waiters = w->next;
    if (!r->waiters)
      r->waiters_tail = NULL;
  }
  atomic_flag_clear_explicit(&r->lock, memory_order_release);
  return w;
}


#endif
