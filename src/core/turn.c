/* SPDX-License-Identifier: Apache-2.0 */
/*
 * turn.c: direct turns.  A process that would send a request to an idle
 * handler and then wait for the answer runs the handler's turn itself,
 * on its own scheduler, right away: the handler is claimed as a sender
 * that wakes it would claim it, given a run stack of its own, and switched
 * to; when it switches out, for any reason, control comes straight back
 * to the caller.  In Erlang's terms this is one schedule among those the
 * plain protocol allows: the request is sent, the server runs at once,
 * and the caller resumes when the server stops running.
 *
 * What it saves is the protocol around the turn, not the turn: no request
 * message (the request is handed over by reference and the handler copies
 * it), no reply message (the answer is copied straight into the caller's
 * heap), no monitor request or watcher (the caller's pending monitor of
 * the server is forgotten once answered), no wake-up and no run queue.
 *
 * Invariants:
 *  1. The turn runs on a stack of its own, never on the caller's, so a
 *     turn that waits (receive, a call of its own, a sleep, a yield, a
 *     blocking call) simply goes on later as the process it is, and the
 *     caller waits for the answer as a message, as in the plain protocol.
 *  2. An answer is taken only while the caller still waits for the turn
 *     and nothing has arrived for the caller meanwhile: a reply through
 *     the alias that came first wins, as it would in the caller's mailbox.
 *  3. A turn that ends or waits without an answer gets the caller's
 *     monitor of it installed before its process is settled (and so
 *     before anyone else can run it or see it), so its DOWN carries its
 *     real exit reason, as if the monitor had travelled with the request.
 *     That monitor is either one the caller made before and has not sent
 *     yet (pending), or, with COTP_TURN_MONITOR_ALIAS, made right then:
 *     the call idiom's reply_demonitor monitor, whose alias has been
 *     published by the turn's scheduler since the turn began.  An answered turn of that
 *     kind never makes the monitor at all, only the alias, so that a reply
 *     from anyone who got the alias during the turn still finds the
 *     caller; the caller judges such a message when it drains, after the
 *     turn, by which time the monitor exists or the alias is gone.
 */
#include <string.h>

#include "ext.h"
#include "platform/clock.h"
#include "platform/ctx.h"
#include "platform/spinlock.h"
#include "runtime.h"

#if defined(COTP_ASAN)
#include <sanitizer/common_interface_defs.h>
#endif

/* Larger arguments are refused: the turn's bottom frame copies them. */
#define TURN_ARG_MAX 256

/* Whether the claimed process p can run a turn here: an idle handler of
 * `handle` with no frames, on the shared run stacks. */
static bool turnable(const struct cotp__proc *p, cotp_handler_fn *handle) {
  return (p->flags & PF_HANDLER) && p->entry.handle == handle && !p->home &&
         !p->saved && !(p->flags & (PF_OWN_STACK | PF_DYING)) &&
         atomic_load_explicit(&p->state, memory_order_relaxed) == PS_WAITING;
}

/*
 * Many callers of one server on several schedulers: while one runs the
 * server's turn, another finds it busy.  Sending then costs both sides the
 * whole message protocol, and once a request is queued the server is no
 * longer idle for anyone, so every caller falls back to messages (100
 * clients of one counter took 550-990 ns a call against 300-440 for one).
 * A running server with nothing queued is most likely in a turn a few
 * hundred nanoseconds long, so the caller watches its inbox for a while
 * (TURN_WAIT_LOOKS pauses, about a microsecond, well under what the
 * messages would cost) and claims it as it parks.  A server that is still
 * busy after that, or has messages queued, is reported COTP_TURN_BUSY: the
 * caller may let it run and try again (a GenServer call yields once or
 * twice) rather than queue a request, which would keep the server busy
 * for every other caller too.  Delaying a send is a schedule the plain
 * protocol allows (the caller was slower).
 */
#define TURN_WAIT_LOOKS 64

static int wait_for_idle(struct cotp__proc *p, uint64_t tag_bits) {
  uint64_t idle = tag_bits | INBOX_WAITING;
  for (unsigned looks = 0;; looks++) {
    uint64_t word = atomic_load_explicit(&p->inbox, memory_order_relaxed);
    if (word == idle)
      return 0;
    if ((word & ~INBOX_PTR_MASK) != tag_bits ||
        (word & INBOX_PTR_MASK) == INBOX_CLOSED)
      return COTP_TURN_NOT_RUN; /* gone */
    uint32_t st = atomic_load_explicit(&p->state, memory_order_relaxed);
    if (st == PS_EXITING || st == PS_BLOCKED || st == PS_FREE)
      return COTP_TURN_NOT_RUN; /* exiting, or in a blocking call */
    if (word != tag_bits || looks == TURN_WAIT_LOOKS || st == PS_RUNNABLE)
      return COTP_TURN_BUSY; /* messages queued, or it runs on */
    cotp__cpu_relax();
  }
}

/*
 * Many callers of one server on two schedulers: when either core may run
 * the next turn, the server's lines (its control block, heap and state)
 * cross between the cores at nearly every call, and two schedulers did
 * worse than one (100 clients of a counter: 390-430 ns a call against
 * 205-215 with one scheduler).  So the scheduler that takes a handler's
 * turns holds them for a moment: for TURN_HOLD_NS after it took them,
 * callers on other schedulers get COTP_TURN_HELD, without touching the
 * line a turn writes, and let their scheduler run something else.  After
 * that, the next caller from anywhere that finds the server idle takes
 * the turns over, and the hold with them.  The lines then cross once per
 * hold instead of once per call; a caller waits about one hold at most,
 * and a caller alone never waits (its own scheduler holds the turns it
 * took).  Delaying a caller is again a schedule the plain protocol allows.
 */
#define TURN_HOLD_NS 20000
/* turn_hold (proc.h): the holder's index + 1 in the top 16 bits, 0 for
 * none; the time it took the turns in the low 48, in units of 1024 ns
 * (wrapping every nine years: differences are taken modulo 2^48). */
#define HOLD_TIME_BITS 48
#define HOLD_TIME_MASK ((UINT64_C(1) << HOLD_TIME_BITS) - 1)

static uint64_t holder_of(const struct cotp__sched *s) {
  return (uint64_t)((s->index + 1) & 0xFFFF) << HOLD_TIME_BITS;
}

/* Whether the turns of the process in slot are held by another
 * scheduler; if not, *take is 0, or the hold word s writes when it takes
 * them (the clock is read only when the turns would change hands).  The
 * slot is read before the pid is checked, whose line every turn writes; a
 * stale slot's hold delays a call by one hold at most. */
static bool held_elsewhere(const struct cotp__sched *s,
                           const struct cotp__proc *slot, uint64_t *take) {
  uint64_t hold = atomic_load_explicit(&slot->turn_hold, memory_order_relaxed);
  uint64_t me = holder_of(s);
  *take = 0;
  if ((hold & ~HOLD_TIME_MASK) == me)
    return false;
  uint64_t now = ((uint64_t)cotp__now_ns() >> 10) & HOLD_TIME_MASK;
  *take = me | now;
  return (hold & ~HOLD_TIME_MASK) != 0 &&
         ((now - hold) & HOLD_TIME_MASK) < (TURN_HOLD_NS >> 10);
}

int cotp_handler_turn(cotp_pid pid, cotp_handler_fn *handle, cotp_term tag,
                      unsigned flags, cotp_turn_fn *fn, const void *arg,
                      size_t arg_size, cotp_term *answer) {
  struct cotp__sched *s = cotp__sched_self();
  struct cotp__proc *c = s ? s->current : NULL;
  if (!c)
    return COTP_ENOTPROC;
  if (!handle || !fn || !answer || arg_size > TURN_ARG_MAX ||
      (arg_size && !arg) || (flags & ~(unsigned)COTP_TURN_MONITOR_ALIAS) ||
      ((flags & COTP_TURN_MONITOR_ALIAS) && !cotp_is_ref(tag)))
    return COTP_EINVAL;
  /* one turn at a time per scheduler: a turn that calls another server
   * sends its request */
  if (s->turn || atomic_load_explicit(&cotp__rt->stopping, memory_order_relaxed))
    return COTP_TURN_NOT_RUN;
  struct cotp__proc *p = cotp__proc_slot(pid);
  if (!p)
    return COTP_TURN_NOT_RUN;
  uint64_t take;
  if (held_elsewhere(s, p, &take))
    return COTP_TURN_HELD;
  if (atomic_load_explicit(&p->pid, memory_order_acquire) != pid.bits || p == c)
    return COTP_TURN_NOT_RUN;
  if (__builtin_expect(s->perturb, 0) && (cotp__sched_random(s) & 1))
    return COTP_TURN_NOT_RUN; /* perturbed scheduling (tests): both ways */
  /* Claim it as a waker does: clear WAITING off its empty inbox. */
  uint64_t tag_bits = inbox_tag(pid);
  uint64_t want = tag_bits | INBOX_WAITING;
  int busy = wait_for_idle(p, tag_bits);
  if (busy)
    return busy;
  if (!atomic_compare_exchange_strong_explicit(&p->inbox, &want, tag_bits,
                                               memory_order_acq_rel,
                                               memory_order_relaxed))
    return COTP_TURN_BUSY; /* someone else's message or claim came first */
  if (!turnable(p, handle)) {
    /* ours now, and not ours to run: a spurious wake-up, which every
     * wait tolerates (its wake-up conditions may have fired meanwhile,
     * so it cannot simply be parked again) */
    cotp__make_ready(p, false);
    return COTP_TURN_NOT_RUN;
  }
  if (take) /* the turns change hands */
    atomic_store_explicit(&p->turn_hold, take, memory_order_relaxed);
  /* turnable: no frames and no stack of its own, so any stack will do */
  cotp__stack_take_fresh(s, p, cotp__turn_start);
  if (flags & COTP_TURN_MONITOR_ALIAS)
    cotp__turn_alias_open(s, c, tag);
  struct cotp__turn t = {.caller = c, .proc = p, .tag = tag, .fn = fn,
                         .arg = arg, .arg_size = arg_size, .answer = answer,
                         .flags = flags};
  cotp__turn_run(s, &t);
  if (flags & COTP_TURN_MONITOR_ALIAS)
    cotp__turn_alias_close(s); /* answered: never a monitor at all */
  if (!t.answered)
    return t.out_of_memory ? COTP_ENOMEM : COTP_TURN_UNANSWERED;
  if (!(flags & COTP_TURN_MONITOR_ALIAS))
    cotp__monitor_answered(c, tag);
  return COTP_TURN_ANSWERED;
}

/* Runs on the turn's fresh stack, as the handler: called there, or the
 * entry of a fresh context (cotp__turn_run). */
void cotp__turn_start(void) {
#if defined(COTP_ASAN)
  __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
  struct cotp__sched *s = cotp__sched_self();
  struct cotp__proc *p = s->current;
  struct cotp__turn *t = s->turn;
  cotp__fp_restore(p);
  /* the caller's frame may change once the turn waits: keep the
   * argument here */
  _Alignas(16) unsigned char arg[TURN_ARG_MAX];
  void (*fn)(void *, void *) = t->fn;
  if (t->arg_size)
    memcpy(arg, t->arg, t->arg_size);
  cotp_heap_mark mark = cotp_heap_mark_now(&p->heap);
  fn(p->arg, arg);
  p = cotp__proc_self(); /* perhaps on another scheduler by now */
  cotp_heap_release(&p->heap, mark);
  cotp__heap_trim(&p->heap); /* idle again: hold nothing */
  cotp__ext_trim(p);
  if (cotp__turn_return(p))
    return; /* into cotp__ctx_call_on, which resumes the caller */
  cotp__switch_out(p, RQ_DROP);
  __builtin_unreachable();
}

bool cotp_turn_answer(cotp_term tag, cotp_term answer) {
  struct cotp__sched *s = cotp__sched_self();
  struct cotp__turn *t = s ? s->turn : NULL;
  if (!t || t->proc != s->current || t->answered || t->tag.w != tag.w ||
      cotp_is_none(answer))
    return false;
  /* invariant 2: anything that reached the caller first may be a reply */
  if (atomic_load_explicit(&t->caller->inbox, memory_order_acquire) &
      INBOX_PTR_MASK)
    return false;
  /* The caller is suspended on this very thread until the turn switches
   * out: its heap is safe to write from here. */
  cotp_term copy = cotp_term_copy(&t->caller->heap, answer);
  if (cotp_is_none(copy))
    return false; /* no memory: the answer goes as a message, or not at all */
  *t->answer = copy;
  t->answered = true;
  return true;
}

void cotp__turn_unanswered(struct cotp__turn *t) {
  /* invariant 3 */
  if (!(t->flags & COTP_TURN_MONITOR_ALIAS))
    cotp__monitor_pending_to(t->caller, t->proc);
  else if (!cotp__turn_alias_to_monitor(t->caller, t->proc, t->tag))
    t->out_of_memory = true;
}
