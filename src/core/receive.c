/* SPDX-License-Identifier: Apache-2.0 */
/*
 * receive.c: selective receive, marks, sleep.
 *
 * A receive scans the private queue from its start (or from the mark)
 * for the first message that matches, then drains the inbox and scans only
 * what is new, then parks until something arrives or the deadline passes.
 * It never rescans a message it has already looked at in the same call,
 * and unmatched messages keep their places.
 *
 * Deadlines are absolute (milliseconds on the monotonic clock), computed
 * once per call: a wait woken early for a message that does not match goes
 * back to sleep for what is left, not for the whole timeout again.  The
 * deadline is a timer node in the process's own control block, added to
 * the timers of the scheduler it parks on the first time it parks (as a
 * deferred wait when it is far ahead, timer.h).
 */
#include "platform/clock.h"
#include "platform/ctx.h"
#include "runtime.h"

#define NO_DEADLINE INT64_MAX

/* The deadline of a wait of timeout_ms from now; *now gets the clock
 * read (-1 when none was needed).  A clock read costs 20 ns or more on a
 * virtual machine, a fifth of a message round trip: each wait reads it
 * once, and passes what it read on to wait_more. */
static int64_t deadline_of(int64_t timeout_ms, int64_t *now_out) {
  *now_out = -1;
  if (timeout_ms == COTP_INFINITY)
    return NO_DEADLINE;
  int64_t now = *now_out = cotp__now_ms();
  return timeout_ms >= NO_DEADLINE - now ? NO_DEADLINE - 1 : now + timeout_ms;
}

/* Parks until the inbox gets something, the deadline passes or a spurious
 * wake-up.  Returns false when the deadline has passed.  now is the clock
 * as the caller just read it, or -1 to read it here.  *defer_ms: a timeout
 * whose deadline is still to be set, by deferring the wait (timer.h), or
 * -1; when it cannot be deferred, the deadline is set here instead. */
static inline __attribute__((always_inline)) bool
wait_more(struct cotp__proc *p, int64_t *deadline, int64_t now,
          int64_t *defer_ms) {
  if (*deadline != NO_DEADLINE) {
    if (!(p->flags & PF_TIMED)) {
      struct cotp__sched *s = cotp__sched_self();
      if (*defer_ms >= 0 &&
          cotp__timer_defer(&s->timers, &p->timer, *defer_ms) == 0) {
        p->flags |= PF_TIMED;
      } else {
        if (*defer_ms >= 0) { /* not deferred: a deadline after all */
          *deadline = deadline_of(*defer_ms, &now);
          *defer_ms = -1;
        }
        if (now < 0)
          now = cotp__now_ms();
        if (now >= *deadline)
          return false;
        if (cotp__timer_add(&s->timers, &p->timer, *deadline) == 0)
          p->flags |= PF_TIMED;
        else
          cotp__switch_out(p, RQ_YIELD); /* no memory for a timer: poll */
      }
    } else if (!atomic_load_explicit(&p->timer.wheel, memory_order_acquire)) {
      return false; /* it fired */
    }
  }
  if (!(p->flags & PF_TIMED) && *deadline != NO_DEADLINE)
    return cotp__now_ms() < *deadline;
  cotp__park(p);
  return true;
}

static void end_wait(struct cotp__proc *p) {
  if (p->flags & PF_TIMED) {
    cotp__timer_remove(&p->timer);
    p->flags &= (uint16_t)~PF_TIMED;
  }
}

/* Drains the inbox between two parks of one wait: what it answers (a
 * process_info) sees the process waiting, as the drain that follows the
 * switch back in does (sched.c).  A signal that comes while the process is
 * between its wake-up and its next park must not find it :running. */
static void drain_in_wait(struct cotp__proc *p) {
  p->flags |= PF_IN_WAIT;
  cotp__inbox_drain(p);
  p->flags &= (uint16_t)~PF_IN_WAIT;
}

typedef bool match_fn(cotp_term msg, void *ctx, int *clause);

static bool match_any(cotp_term msg, void *ctx, int *clause);

/* A wait's result, returned into the receive function's caller: by the
 * jump of cotp__ctx_return_resumed (platform/ctx.h) once the process has
 * parked, which is predicted where a return would not be, or by a plain
 * return.  Inlined in tail position, so the jump is the receive
 * function's own return. */
static inline __attribute__((always_inline)) int give(int rc, bool parked) {
  return parked ? cotp__ctx_return_resumed(rc) : rc;
}

/* Inlined into each receive function, and wait_more into it, so that a
 * process waits with one frame of its own above cotp__park (sched.c). */
static inline __attribute__((always_inline)) int
receive_core(match_fn *match, void *ctx, int64_t timeout_ms, unsigned flags,
             cotp_term *out) {
  struct cotp__proc *p = cotp__proc_self();
  if (!p)
    return COTP_ENOTPROC;
  if ((timeout_ms < 0 && timeout_ms != COTP_INFINITY) ||
      (flags & ~(COTP_RECV_AFTER_MARK | COTP_RECV_DEADLINE)))
    return COTP_EINVAL;
  /* the clock is read when a wait begins, not before a scan that may find
   * the message already there */
  int64_t deadline = timeout_ms == COTP_INFINITY ? NO_DEADLINE : -1;
  int64_t now = -1; /* the clock, when just read */
  int64_t defer_ms = -1;
  bool poll = timeout_ms == 0;
  if ((flags & COTP_RECV_DEADLINE) && timeout_ms != COTP_INFINITY) {
    deadline = timeout_ms; /* absolute: wait_more compares it with the clock */
    poll = false;          /* one already past is found so by wait_more */
  }
  cotp__inbox_drain(p);
  bool parked = false;
  struct cotp__sig *prev = NULL;
  if ((flags & COTP_RECV_AFTER_MARK) && (p->flags & PF_MARKED))
    prev = p->mark;
  struct cotp__sig *m = prev ? prev->next : p->mq_head;
  uint64_t bare[BARE_MAX_WORDS]; /* a bare message's tuple, while matched */
  for (;;) {
    for (; m; prev = m, m = m->next) {
      int clause = 0;
      if (match == match_any || match(msg_term((struct cotp__msg *)m, bare), ctx, &clause)) {
        end_wait(p);
        cotp_term t = cotp__mailbox_take(p, prev, m);
        if (out)
          *out = t;
        cotp__reduce(p, 1);
        return give(clause, parked);
      }
    }
    if (deadline < 0 && !poll) {
      if (timeout_ms >= TIMER_DEFER_MS) { /* relative, or it would be set */
        defer_ms = timeout_ms;
        deadline = NO_DEADLINE - 1; /* not known yet: see wait_more */
      } else {
        deadline = deadline_of(timeout_ms, &now);
      }
    }
    if (poll || !wait_more(p, &deadline, now, &defer_ms)) {
      end_wait(p);
      cotp__reduce(p, 1);
      return give(COTP_ETIMEDOUT, parked);
    }
    parked = true;
    if (atomic_load_explicit(&cotp__rt->stopping, memory_order_relaxed)) {
      end_wait(p);
      cotp__proc_exit(p, COTP_ATOM_SHUTDOWN);
    }
    now = -1;
    drain_in_wait(p);
    m = prev ? prev->next : p->mq_head;
  }
}

static bool match_any(cotp_term msg, void *ctx, int *clause) {
  (void)msg, (void)ctx;
  *clause = 0;
  return true;
}

/*
 * The common case (receive whatever comes, forever) without the deadline
 * and clause machinery, split so that the frames a parked process leaves
 * are small: a parked process costs the frames it parked with, and
 * copy-stacks copy them (stacks.h).  cotp_receive itself keeps two values
 * across the wait; the work after it is out of line.
 */
__attribute__((noinline)) static int take_first(struct cotp__proc *p,
                                                struct cotp__sig *m,
                                                cotp_term *msg) {
  cotp_term t = cotp__mailbox_take(p, NULL, m);
  if (msg)
    *msg = t;
  cotp__reduce(p, 1);
  return 0;
}

/* Parks p, whose private queue is empty, until it has a message. */
static inline __attribute__((always_inline)) void
park_for_message(struct cotp__proc *p) {
  do {
    cotp__park(p);
    if (atomic_load_explicit(&cotp__rt->stopping, memory_order_relaxed))
      cotp__proc_exit(p, COTP_ATOM_SHUTDOWN);
  } while (!p->mq_head);
}

/* Out of line: what the timeout needs stays out of cotp_receive's frame,
 * which a process blocked in receive keeps while parked. */
__attribute__((noinline)) static int receive_timed(int64_t timeout_ms,
                                                   cotp_term *msg) {
  return receive_core(match_any, NULL, timeout_ms, 0, msg);
}

int cotp_receive(int64_t timeout_ms, cotp_term *msg) {
  if (timeout_ms != COTP_INFINITY)
    return receive_timed(timeout_ms, msg);
  struct cotp__proc *p = cotp__proc_self();
  if (!p)
    return COTP_ENOTPROC;
  cotp__inbox_drain(p);
  if (p->mq_head)
    return take_first(p, p->mq_head, msg);
  park_for_message(p);
  return give(take_first(p, p->mq_head, msg), true);
}

struct clauses {
  const cotp_clause *c;
  size_t n;
};

static bool match_clauses(cotp_term msg, void *ctx, int *clause) {
  const struct clauses *cs = ctx;
  for (size_t i = 0; i < cs->n; i++) {
    if (cotp_match(cs->c[i].pattern, msg, cs->c[i].pins, cs->c[i].captures)) {
      *clause = (int)i;
      return true;
    }
  }
  return false;
}

int cotp_receive_match(const cotp_clause *clauses, size_t n,
                       int64_t timeout_ms, unsigned flags, cotp_term *msg) {
  if (!clauses && n > 0)
    return cotp__proc_self() ? COTP_EINVAL : COTP_ENOTPROC;
  for (size_t i = 0; i < n; i++)
    if (!clauses[i].pattern ||
        (cotp_pattern_pins(clauses[i].pattern) && !clauses[i].pins))
      return cotp__proc_self() ? COTP_EINVAL : COTP_ENOTPROC;
  struct clauses cs = {clauses, n};
  return receive_core(match_clauses, &cs, timeout_ms, flags, msg);
}

struct accept {
  cotp_accept_fn *fn;
  void *ctx;
};

static bool match_accept(cotp_term msg, void *ctx, int *clause) {
  struct accept *a = ctx;
  *clause = 0;
  return a->fn(msg, a->ctx);
}

int cotp_receive_if(cotp_accept_fn *accept, void *ctx, int64_t timeout_ms,
                    unsigned flags, cotp_term *msg) {
  if (!accept)
    return cotp__proc_self() ? COTP_EINVAL : COTP_ENOTPROC;
  struct accept a = {accept, ctx};
  return receive_core(match_accept, &a, timeout_ms, flags, msg);
}

void cotp_receive_mark(void) {
  struct cotp__proc *p = cotp__proc_self();
  if (!p)
    return;
  cotp__inbox_drain(p);
  p->mark = p->mq_tail;
  p->flags |= PF_MARKED;
}

size_t cotp_mailbox_length(void) {
  struct cotp__proc *p = cotp__proc_self();
  if (!p)
    return 0;
  cotp__inbox_drain(p);
  return p->mq_len;
}

int cotp_sleep(int64_t ms) {
  struct cotp__proc *p = cotp__proc_self();
  if (!p)
    return COTP_ENOTPROC;
  if (ms < 0 && ms != COTP_INFINITY)
    return COTP_EINVAL;
  int64_t now;
  int64_t deadline = deadline_of(ms, &now);
  int64_t exact = -1; /* a sleep ends by its timer: never deferred */
  /* messages only wake us up: move them along so they do not keep doing so */
  bool parked = false;
  while (wait_more(p, &deadline, now, &exact)) {
    parked = true;
    now = -1;
    if (atomic_load_explicit(&cotp__rt->stopping, memory_order_relaxed)) {
      end_wait(p);
      cotp__proc_exit(p, COTP_ATOM_SHUTDOWN);
    }
    drain_in_wait(p);
  }
  end_wait(p);
  cotp__reduce(p, 1);
  return give(0, parked);
}
