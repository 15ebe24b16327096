/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sched.c: running processes: making them runnable, switching from one to
 * the next, acting on what a process asked for when it switched out, and
 * each scheduler's loop (design in sched.h, states in proc.h).  Finding
 * work when none is at hand, and sleeping, are idle.c's.
 *
 * A process runs until it switches back with a request (proc.h); the
 * scheduler then acts on it on its own stack: requeue, park, tear down.
 * Running off the process's stack is what makes it safe to copy that stack
 * out (stacks.c) and to publish the process as WAITING: once published,
 * another thread may wake it and run it, and nothing may touch its stack
 * any more.
 */
#include <fenv.h>
#include <stdlib.h>
#include <unistd.h>

#include "ext.h"
#include "runtime.h"
#include "platform/clock.h"
#include "platform/ctx.h"
#include "sched.h"

#if defined(COTP_ASAN)
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(COTP_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

struct cotp__rt *cotp__rt;

/* Read by name from inline asm (sched.h), which a link-time optimizer
 * does not see: kept visible, or a GCC -flto build fails to link. */
#if defined(__GNUC__) && !defined(__clang__)
#define COTP__NAMED_IN_ASM __attribute__((used, externally_visible))
#else
#define COTP__NAMED_IN_ASM __attribute__((used))
#endif
__thread struct cotp__sched *cotp__tls_sched
    __attribute__((tls_model("initial-exec"))) COTP__NAMED_IN_ASM;

__attribute__((noinline)) struct cotp__sched *cotp__sched_self_call(void) {
  /* the empty asm keeps the compiler from assuming anything about the
   * thread this runs on */
  __asm__ volatile("" ::: "memory");
  return cotp__tls_sched;
}


/* --- switching, with the sanitizers told about each switch --- */

/*
 * Every switch goes from the running context to another, and the context
 * that comes in finishes the one that went out (settle below): a process
 * that parks is published as waiting only once no one runs on its stack.
 * Most switches go straight from one process to the next one of the same
 * scheduler; every 32nd, and whenever there is no next process at hand,
 * the switch goes to the scheduler context, which fires timers, polls,
 * steals and sleeps.
 */

#if defined(COTP_ASAN)
/* The stack a process runs on, for ASan. */
static const struct cotp__stackmem *stack_of(const struct cotp__proc *p) {
  return p->own_stack ? p->own_stack : &p->home->mem;
}
#endif

/* Switches from the running process p to `to` (another process, or the
 * scheduler when to is NULL). */
static inline __attribute__((always_inline)) void
jump(struct cotp__sched *s, struct cotp__proc *p, struct cotp__proc *to,
     bool p_dies) {
#if defined(COTP_ASAN)
  /* a context that will not resume passes NULL: ASan frees its fake stack */
  const void *bottom = to ? stack_of(to)->base : s->stack_bottom;
  size_t size = to ? stack_of(to)->size : s->stack_size;
  __sanitizer_start_switch_fiber(p_dies ? NULL : &p->asan_fake_stack, bottom,
                                 size);
#else
  (void)p_dies;
#endif
#if defined(COTP_TSAN)
  __tsan_switch_to_fiber(to ? to->tsan_fiber : s->tsan_fiber, 0);
#endif
  /* the scheduler's context keeps no floating-point state of its own */
  if (__builtin_expect(((p->flags | (to ? to->flags : 0)) & PF_FP_ENV) != 0, 0))
    cotp__ctx_switch_fp(&p->sp, to ? to->sp : s->sp,
                        to && (to->flags & PF_FP_ENV));
  else
    cotp__ctx_switch(&p->sp, to ? to->sp : s->sp);
  /* Resumed, perhaps on another thread: s is stale from here on. */
#if defined(COTP_ASAN)
  __sanitizer_finish_switch_fiber(p->asan_fake_stack, NULL, NULL);
#endif
}

/* From the scheduler context into process p. */
static void enter(struct cotp__sched *s, struct cotp__proc *p) {
#if defined(COTP_ASAN)
  __sanitizer_start_switch_fiber(&s->asan_fake_stack, stack_of(p)->base,
                                 stack_of(p)->size);
#endif
#if defined(COTP_TSAN)
  __tsan_switch_to_fiber(p->tsan_fiber, 0);
#endif
  if (__builtin_expect(p->flags & PF_FP_ENV, 0))
    cotp__ctx_switch_fp(&s->sp, p->sp, 1);
  else
    cotp__ctx_switch(&s->sp, p->sp);
#if defined(COTP_ASAN)
  __sanitizer_finish_switch_fiber(s->asan_fake_stack, NULL, NULL);
#endif
}

/* --- making processes runnable --- */

void cotp__make_ready(struct cotp__proc *p, bool as_next) {
  struct cotp__rt *rt = cotp__rt;
  atomic_store_explicit(&p->state, PS_RUNNABLE, memory_order_relaxed);
  if (p->priority >= COTP_PRIORITY_HIGH) {
    cotp__pqueue_push(&rt->prio[p->priority - COTP_PRIORITY_HIGH], p);
    cotp__wake_idle();
    return;
  }
  struct cotp__sched *s = cotp__sched_self();
  if (!s) {
    cotp__pqueue_push(&rt->global, p);
    cotp__wake_idle();
    return;
  }
  if (as_next && ((s->perturb && (cotp__sched_random(s) & 1)) ||
                  p->priority == COTP_PRIORITY_LOW))
    as_next = false; /* perturbed scheduling (tests); low waits its turn */
  if (as_next) {
    /* the waker will park soon and p runs then, on this thread: no other
     * scheduler needs waking for it */
    struct cotp__proc *old = cotp__runnext_put(s, p);
    if (!old)
      return;
    /* what p pushed out runs next after p: a parent's children, newest
     * first, each one's own children before its older siblings */
    if (!cotp__deque_push(&s->deque, old))
      cotp__runq_push(s, old);
    cotp__wake_for_queue(s);
    return;
  }
  cotp__runq_push(s, p);
  cotp__wake_for_queue(s);
}

void cotp__wake(struct cotp__proc *p) {
  uint64_t word = atomic_load_explicit(&p->inbox, memory_order_relaxed);
  if ((word & INBOX_PTR_MASK) != INBOX_WAITING)
    return;
  if (atomic_compare_exchange_strong_explicit(
          &p->inbox, &word, word & ~INBOX_PTR_MASK, memory_order_acq_rel,
          memory_order_relaxed))
    cotp__make_ready(p, false);
}

void cotp__reduce_slow(struct cotp__proc *p) {
  if (atomic_load_explicit(&cotp__rt->stopping, memory_order_relaxed))
    cotp__switch_out(p, RQ_EXIT);
  cotp__switch_out(p, RQ_YIELD);
}

/* --- after a process switched back --- */

/* What a parked process waits for, other than a message, that is there
 * already.  flags is the process's flags read before it was published as
 * WAITING: afterwards it may be running elsewhere, and only its atomics
 * may be read. */
static bool wake_condition(struct cotp__proc *p, uint16_t flags) {
  if ((flags & PF_TIMED) &&
      !atomic_load_explicit(&p->timer.wheel, memory_order_acquire))
    return true; /* the deadline passed (the timer fired) */
  return (flags & PF_IO) &&
         atomic_load_explicit(&p->io_ready, memory_order_acquire) != 0;
}

static void requeue(struct cotp__sched *s, struct cotp__proc *p);

/* Parks p: sets WAITING on its empty inbox, unless a message or what it
 * waits for is there already (proc.h). */
static inline void park(struct cotp__sched *s, struct cotp__proc *p) {
  uint16_t flags = p->flags;
  atomic_store_explicit(&p->state, PS_WAITING, memory_order_relaxed);
  uint64_t tag = atomic_load_explicit(&p->inbox, memory_order_relaxed) &
                 ~INBOX_PTR_MASK;
  uint64_t empty = tag;
  if (!atomic_compare_exchange_strong_explicit(&p->inbox, &empty,
                                               tag | INBOX_WAITING,
                                               memory_order_acq_rel,
                                               memory_order_acquire)) {
    requeue(s, p); /* a message came after the process last looked */
    return;
  }
  /* A timer or the poller may have fired before WAITING was set, and seen
   * nothing to wake: take the wake-up back ourselves. */
  if ((flags & (PF_TIMED | PF_IO)) && wake_condition(p, flags)) {
    /* If p was woken and parked again meanwhile, this wakes it once more
     * for nothing, which every wait tolerates. */
    uint64_t waiting = tag | INBOX_WAITING;
    if (atomic_compare_exchange_strong_explicit(&p->inbox, &waiting, tag,
                                                memory_order_acq_rel,
                                                memory_order_relaxed))
      requeue(s, p);
  }
}

static void requeue(struct cotp__sched *s, struct cotp__proc *p) {
  atomic_store_explicit(&p->state, PS_RUNNABLE, memory_order_relaxed);
  if (p->priority >= COTP_PRIORITY_HIGH) {
    cotp__pqueue_push(&cotp__rt->prio[p->priority - COTP_PRIORITY_HIGH], p);
    return;
  }
  cotp__runq_push(s, p);
}

/*
 * A process that yields (its budget spent, or cotp_yield) goes behind the
 * work that was ready before it, as on the BEAM.  Work that overflowed
 * this scheduler's ring waits in its overflow queue, which is looked at
 * only when the ring is empty (or every 61st tick): requeued on the ring,
 * a process that keeps spawning would run again before the children it
 * spawned first, and they would pile up (64,000 of 100,000 Task.async
 * children not yet run when their owner finished spawning, on one
 * scheduler).  So while the overflow or the global queue holds work, the
 * yielder joins the overflow queue's tail, as Go requeues a preempted
 * goroutine.
 *
 * A process that spends its budget spawning (a Task.async loop) has
 * filled the deque with its children, and they would run newest first.
 * Depth first pays off in trees, whose inner nodes wait for their
 * children right after spawning them and never yield; a flat burst
 * gains nothing from it and loses the order in which the children were
 * asked for.  So a yield moves the deque to the ring, oldest first, ahead
 * of the yielder.
 */
static void requeue_yielded(struct cotp__sched *s, struct cotp__proc *p) {
  struct cotp__rt *rt = cotp__rt;
  cotp__deque_to_ring(s);
  if (p->priority < COTP_PRIORITY_HIGH &&
      (atomic_load_explicit(&s->overflow.len, memory_order_relaxed) ||
       atomic_load_explicit(&rt->global.len, memory_order_relaxed))) {
    atomic_store_explicit(&p->state, PS_RUNNABLE, memory_order_relaxed);
    cotp__pqueue_push(&s->overflow, p);
    return;
  }
  requeue(s, p);
}

void cotp__proc_finish(struct cotp__proc *p); /* process.c */

/* Acts on p's request; returns a process to run next (one that waited for
 * p's stack), or NULL. */
static inline struct cotp__proc *after_run(struct cotp__sched *s,
                                           struct cotp__proc *p) {
  struct cotp__proc *w;
  if (__builtin_expect(p->request == RQ_PARK, 1)) { /* most switches */
    w = cotp__stack_release_live(p, p->home);
    park(s, p);
    return w;
  }
  switch (p->request) {
  case RQ_YIELD:
    w = cotp__stack_release_live(p, p->home);
    requeue_yielded(s, p);
    return w;
  case RQ_PARK:
    w = cotp__stack_release_live(p, p->home);
    park(s, p);
    return w;
  case RQ_DROP:
    w = cotp__stack_release(p, false, false);
    if (p->mq_head)
      requeue(s, p); /* hibernated with messages queued: wake at once */
    else
      park(s, p);
    return w;
  case RQ_BLOCKING:
    w = cotp__stack_release(p, true, true);
    atomic_store_explicit(&p->state, PS_BLOCKED, memory_order_release);
    cotp__blocking_submit(p);
    return w;
  default: /* RQ_EXIT */
    w = cotp__stack_release(p, false, false);
    cotp__proc_finish(p);
    return w;
  }
}

/* The bookkeeping of starting to run p on s.  run_id is odd while
 * processes run and changes at each one (watchdog.c): from the scheduler
 * it goes from even to odd (step 1), from another process odd to odd
 * (step 2). */
static inline void begin(struct cotp__sched *s, struct cotp__proc *p,
                         uint64_t step) {
  s->current = p;
  atomic_store_explicit(&p->state, PS_RUNNING, memory_order_relaxed);
  p->reductions = REDUCTIONS;
  if (__builtin_expect(s->perturb, 0))
    p->reductions = 1 + (int32_t)(cotp__sched_random(s) % REDUCTIONS);
  p->runs++;
  uint64_t id = atomic_load_explicit(&s->run_id, memory_order_relaxed);
  atomic_store_explicit(&s->run_id, id + step, memory_order_relaxed);
}

/* Finishes the process that switched out on s, from the context that
 * switched in.  A process that waited for its stack runs soon. */
static inline void settle(struct cotp__sched *s) {
  struct cotp__proc *prev = s->prev;
  if (!prev)
    return;
  s->prev = NULL;
  struct cotp__proc *w = after_run(s, prev);
  if (w)
    cotp__runq_push(s, w);
}

void cotp__settle(void) { settle(cotp__sched_self()); }


/* The process to switch to straight from p, its stack ready, or NULL to go
 * through the scheduler.  Every 32nd switch goes through the scheduler
 * anyway, which then fires timers, polls, looks at the global queue and
 * notices a stop. */
static inline struct cotp__proc *pick_direct(struct cotp__sched *s) {
  if ((++s->tick & 31) == 0)
    return NULL;
  struct cotp__rt *rt = cotp__rt;
  struct cotp__proc *q;
  if (atomic_load_explicit(&rt->prio[1].len, memory_order_relaxed) |
      atomic_load_explicit(&rt->prio[0].len, memory_order_relaxed))
    return NULL; /* high or max priority work: the scheduler picks it */
  if (!(q = atomic_load_explicit(&s->runnext, memory_order_relaxed)) ||
      !(q = atomic_exchange_explicit(&s->runnext, NULL, memory_order_acq_rel)))
    if (!(q = cotp__deque_take(&s->deque)) && !(q = cotp__runq_pop(&s->runq)))
      return NULL;
  if (q->priority == COTP_PRIORITY_LOW) {
    if (++q->low_skips < 8 && cotp__normal_queued(s)) {
      cotp__runq_push(s, q); /* BEAM: low runs once per 8 picks */
      return NULL;
    }
    q->low_skips = 0;
  }
  return cotp__stack_acquire_fast(s, q, q->home) ? q : NULL;
}

/*
 * Handler chaining.  A handler between messages has no frames, so when one
 * goes idle and the next process to run is another such handler, that one
 * can run right here, on the same stack and in the same C frame: what a
 * switch would do reduces to moving the stack's ownership and parking the
 * idle one.  A ring or tree of handlers then passes messages without any
 * context switch.  The conditions are those of a direct switch (pick_direct)
 * plus: nobody waits for this stack, and no sanitizer is tracking
 * processes as fibers (each process is one to them).
 */
struct cotp__proc *cotp__chain_next(struct cotp__proc *p) {
#if defined(COTP_ASAN) || defined(COTP_TSAN)
  (void)p;
  return NULL;
#else
  struct cotp__sched *s = cotp__sched_self();
  struct cotp__rstack *r = p->home;
  struct cotp__proc *q = atomic_load_explicit(&s->runnext, memory_order_relaxed);
  if (!q || !r || ((s->tick + 1) & 31) == 0 ||
      !(q->flags & PF_HANDLER) || q->home || (q->flags & PF_OWN_STACK) ||
      ((p->flags | q->flags) & PF_FP_ENV) || /* a switch carries that */
      q->priority != COTP_PRIORITY_NORMAL ||
      (s->perturb && (cotp__sched_random(s) & 1)))
    return NULL;
  struct cotp__rt *rt = cotp__rt;
  if (atomic_load_explicit(&rt->prio[1].len, memory_order_relaxed) |
      atomic_load_explicit(&rt->prio[0].len, memory_order_relaxed))
    return NULL;
  while (atomic_flag_test_and_set_explicit(&r->lock, memory_order_acquire))
    ;
  bool free_of_waiters = !r->waiters;
  if (free_of_waiters)
    r->resident = q;
  atomic_flag_clear_explicit(&r->lock, memory_order_release);
  if (!free_of_waiters)
    return NULL;
  struct cotp__proc *got =
      atomic_exchange_explicit(&s->runnext, NULL, memory_order_acq_rel);
  if (got != q) {
    /* taken meanwhile by a thief (this scheduler looked hogged): undo */
    while (atomic_flag_test_and_set_explicit(&r->lock, memory_order_acquire))
      ;
    r->resident = p;
    atomic_flag_clear_explicit(&r->lock, memory_order_release);
    if (got)
      atomic_store_explicit(&s->runnext, got, memory_order_release);
    return NULL;
  }
  s->tick++;
  q->home = r;
  p->home = NULL; /* p's frames are gone: any stack will do next time */
  /* p goes idle holding nothing; the blocks it kept for reuse serve q */
  cotp__heap_pass_on(&p->heap, &q->heap);
  begin(s, q, 2);
  park(s, p);
  return q;
#endif
}

/* What switching p out with request rq does before the switch: returns
 * the process to switch to, begun, or NULL for the scheduler. */
static inline __attribute__((always_inline)) struct cotp__proc *
before_switch(struct cotp__sched *s, struct cotp__proc *p,
              enum proc_request rq) {
  if (rq != RQ_EXIT)
    cotp__monitor_flush(p); /* before any wait (monitor.c) */
  if (rq == RQ_DROP)
    cotp__fp_keep(p); /* its context goes: keep its state elsewhere */
  p->request = (uint8_t)rq;
  s->prev = p;
  /* A high or max process that yields is runnable still, but not yet in
   * its queue: a direct pick would not see it and could choose normal
   * work over it.  The scheduler requeues it first, then picks. */
  struct cotp__proc *q;
  if (__builtin_expect(s->turn != NULL, 0) && s->turn->proc == p) {
    /* the end of a direct turn, or its first wait: back to its caller,
     * which settles p (cotp__turn_run) */
    q = s->turn->caller;
    s->turn = NULL;
  } else {
    q = rq == RQ_YIELD && p->priority >= COTP_PRIORITY_HIGH ? NULL
                                                           : pick_direct(s);
  }
  if (q)
    begin(s, q, 2);
  else
    s->current = NULL;
  return q;
}

static inline __attribute__((always_inline)) void
switch_out(struct cotp__sched *s, struct cotp__proc *p, enum proc_request rq) {
  struct cotp__proc *q = before_switch(s, p, rq);
  jump(s, p, q, rq == RQ_EXIT || rq == RQ_DROP);
  settle(cotp__sched_self());
  /* A23: signals take effect when a process runs, receive or not; those
   * that woke a waiting process see it waiting */
  if (rq == RQ_PARK)
    p->flags |= PF_IN_WAIT;
  cotp__inbox_drain(p);
  p->flags &= (uint16_t)~PF_IN_WAIT;
}

__attribute__((noinline)) void cotp__switch_out_on(struct cotp__sched *s,
                                                   struct cotp__proc *p,
                                                   enum proc_request rq) {
  switch_out(s, p, rq);
}

/*
 * Every wait for a message or a timeout switches out here, at one call
 * site.  A switch resumes a process by returning through the frames it
 * parked with, and the CPU predicts each of those returns from the frames
 * of the process that switched last: where the two parked through the
 * same code the predictions hold, where they did not each return costs a
 * misprediction, about 6 ns here (a switch between two contexts that call
 * it from different places takes 11 ns, from the same place 5).  So the
 * receive functions call this directly, with no frame of their own
 * between (receive.c), and two processes waiting in any of them share
 * the bottom of their chains.
 */
__attribute__((noinline)) void cotp__park(struct cotp__proc *p) {
  switch_out(cotp__sched_self(), p, RQ_PARK);
}

/*
 * The last switch of a bottom frame: a process that exits from
 * cotp__proc_start, a handler that goes idle in cotp__handler_start.  A
 * fresh context is entered by the switch's return (cotp__ctx_make), which
 * took one entry off the CPU's stack of return predictions; switching out
 * with the call into the switch as its only live call puts one back, and
 * the process resumed next returns through the rest of its frames as
 * predicted.  A switch from deeper would leave every prediction off by the
 * difference, for each frame that process returns through (see
 * cotp__park).  So this does everything a switch out does before the
 * switch itself, and the bottom frame makes the call.  Not for sanitizer
 * builds, whose switches are announced (jump), and it makes the switch
 * itself when either side keeps its floating-point state (fp_env).
 */
struct cotp__last_switch cotp__last_switch(struct cotp__proc *p,
                                           enum proc_request rq) {
  struct cotp__sched *s = cotp__sched_self();
  struct cotp__proc *q = before_switch(s, p, rq);
  if (__builtin_expect(((q ? q->flags : 0) | p->flags) & PF_FP_ENV, 0)) {
    jump(s, p, q, true); /* the floating-point state goes with it */
    __builtin_unreachable();
  }
  return (struct cotp__last_switch){&p->sp, q ? q->sp : s->sp};
}

__attribute__((noinline)) void cotp__fp_restore_now(const struct cotp__proc *p) {
  cotp__fpstate_set((struct cotp__fpstate){p->fp_kept_a, p->fp_kept_b});
}

void cotp__handler_start(void) {
#if defined(COTP_ASAN)
  __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
  settle(cotp__sched_self());
  cotp__fp_restore(cotp__sched_self()->current);
  struct cotp__proc *p = cotp__handlers_run(cotp__sched_self()->current);
#if defined(COTP_ASAN) || defined(COTP_TSAN)
  cotp__switch_out(p, RQ_DROP);
#else
  struct cotp__last_switch to = cotp__last_switch(p, RQ_DROP);
  cotp__ctx_switch(to.save, to.load);
#endif
  __builtin_unreachable();
}

/*
 * A turn is entered by a call on its stack where it can be
 * (cotp__ctx_call_on): a turn that ends without switching out, nearly
 * every one, then returns into its caller, and every return on the way is
 * predicted. Entering a fresh context (a switch whose return goes to the
 * context's entry) and switching back (a return into the caller from the
 * turn's deepest frame, then one from turn_run into its caller) left
 * three returns mispredicted. Sanitizer builds announce each switch
 * (jump), and a process with its own floating-point state switches
 * through cotp__ctx_switch_fp, so those switch.
 */
void cotp__turn_run(struct cotp__sched *s, struct cotp__turn *t) {
  s->turn = t;
  begin(s, t->proc, 2);
#if defined(COTP__CTX_CALL_ON) && !defined(COTP_ASAN) && !defined(COTP_TSAN)
  if (!((t->caller->flags | t->proc->flags) & PF_FP_ENV)) {
    t->called = true; /* run stacks are whole pages: the top is aligned */
    cotp__ctx_call_on(&t->caller->sp, cotp__rstack_top(t->proc->home),
                      cotp__turn_start);
  } else
#endif
    jump(s, t->caller, t->proc, false);
  /* the turn switched out and chose us (before_switch); we run on the
   * same scheduler, as nothing could have queued us meanwhile */
  s = cotp__sched_self();
  struct cotp__proc *prev = s->prev; /* t->proc */
  s->prev = NULL;
  if (!t->answered)
    cotp__turn_unanswered(t);
  struct cotp__proc *w = after_run(s, prev);
  if (w)
    cotp__runq_push(s, w);
}

bool cotp__turn_return(struct cotp__proc *p) {
  struct cotp__sched *s = cotp__sched_self();
  if (!s->turn || s->turn->proc != p || !s->turn->called)
    return false;
  before_switch(s, p, RQ_DROP); /* the caller, begun: it settles p */
  return true;
}

static void run(struct cotp__sched *s, struct cotp__proc *p) {
  while (p) {
    if (!cotp__stack_acquire_fast(s, p, p->home))
      return; /* p waits for its stack, on that stack's list */
    begin(s, p, 1);
    enter(s, p);
    /* a process switched to the scheduler: the run of processes ends */
    uint64_t id = atomic_load_explicit(&s->run_id, memory_order_relaxed);
    atomic_store_explicit(&s->run_id, id + 1, memory_order_relaxed);
    if (atomic_load_explicit(&s->hogged, memory_order_relaxed))
      atomic_store_explicit(&s->hogged, false, memory_order_relaxed);
    s->current = NULL;
    struct cotp__proc *prev = s->prev;
    s->prev = NULL;
    p = prev ? after_run(s, prev) : NULL;
  }
}

void *cotp__sched_main(void *arg) {
  struct cotp__sched *s = arg;
  cotp__tls_sched = s;
#if defined(COTP_TSAN)
  s->tsan_fiber = __tsan_get_current_fiber();
#endif
#if defined(COTP_ASAN)
  pthread_attr_t attr;
  pthread_getattr_np(pthread_self(), &attr);
  void *lo;
  pthread_attr_getstack(&attr, &lo, &s->stack_size);
  s->stack_bottom = lo;
  pthread_attr_destroy(&attr);
#endif
  cotp__fault_thread_init(s);
  /* processes without fp_env run in the default floating-point state
   * (platform/ctx.h); scheduler 0 is cotp_run's caller, which gets its own
   * back */
  fenv_t caller_fenv;
  fegetenv(&caller_fenv);
  fesetenv(FE_DFL_ENV);
  struct cotp__proc *p;
  while ((p = cotp__find_work(s)))
    run(s, p);
  fesetenv(&caller_fenv);
  cotp__fault_thread_close(s);
  cotp__chunk_flush();
  /* let the others see the stop too */
  cotp__wake_all();
  cotp__tls_sched = NULL;
  return NULL;
}

void cotp__sched_stop_all(void) {
  atomic_store_explicit(&cotp__rt->stopping, true, memory_order_seq_cst);
  cotp__wake_all();
}
