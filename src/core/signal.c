/* SPDX-License-Identifier: Apache-2.0 */
/*
 * signal.c: sending signals and acting on them, exits and exit signals.
 *
 * A signal is a message of another kind (proc.h): the same allocation, the
 * same inbox, so signals and messages from one sender keep their order.
 * The receiver acts on them in arrival order when it drains its inbox,
 * which it does at every call into the runtime that may wait or yield, and
 * right after it is switched in; a parked process is woken by the push.
 *
 * What each kind carries:
 *   MSG          term: the message
 *   ALIAS_MSG    aux: the alias; term: the message, or no term
 *                (SF_BARE_REPLY: {alias, v}, v in from's word; proc.h)
 *   EXIT         term {:EXIT, from, reason}, built by the sender so that
 *                a trapping receiver only relabels it; flag SF_LINKED
 *   LINK         -
 *   UNLINK(_ACK) aux: the unlink id
 *   MONITOR      aux: ref; term: the name it was monitored by, or NONE
 *   DEMONITOR    aux: ref
 *   DOWN         aux: ref; term {:DOWN, ref, :process, obj, reason}, or
 *                no term (SF_BARE_DOWN: obj is from, the reason :normal;
 *                proc.h); flag SF_LINKED: it carries the exit signal of
 *                the link to the same process too (ext.h), which acts
 *                first
 *   INFO         aux: ref; term: the request (info.c), answered
 *                {ref, answer} after every earlier signal took effect
 */
#include <stdlib.h>

#include "ext.h"
#include "runtime.h"

int cotp__signal(cotp_pid to, uint32_t kind, uint32_t flags, cotp_pid from,
                 cotp_term aux, cotp_term term) {
  /* a monitor the running process asked for goes before anything else it
   * sends (monitor.c) */
  cotp__monitor_flush(cotp__proc_self());
  struct cotp__proc *p = cotp__proc_lookup(to);
  if (!p)
    return PUSH_DEAD;
  struct cotp__msg *m = cotp__msg_new(cotp_is_none(term) ? COTP_NIL : term);
  if (!m)
    return COTP_ENOMEM;
  m->sig.kind = kind;
  m->sig.flags |= flags; /* keeps what cotp__msg_new set */
  m->from = from;
  m->aux = aux;
  return (int)cotp__msg_push(p, to, m);
}

int cotp__signal_bare(cotp_pid to, uint32_t kind, uint32_t flags,
                      uint64_t from, cotp_term aux) {
  cotp__monitor_flush(cotp__proc_self());
  struct cotp__proc *p = cotp__proc_lookup(to);
  if (!p)
    return PUSH_DEAD;
  struct cotp__msg *m = cotp__chunk_alloc(BARE_BYTES);
  if (!m)
    return COTP_ENOMEM;
  m->sig.kind = kind;
  m->sig.flags = flags;
  m->from.bits = from;
  m->aux = aux; /* and no term: the chunk ends here */
  return (int)cotp__msg_push(p, to, m);
}

static void discard(struct cotp__sig *s) { cotp__msg_free((struct cotp__msg *)s); }

/* Dies with reason: what is left of the drained batch goes to the private
 * queue, where closing the mailbox answers what needs an answer. */
static void die(struct cotp__proc *p, struct cotp__sig *s,
                struct cotp__sig *rest, cotp_term reason) {
  cotp_term kept = cotp_term_copy(&p->heap, reason);
  s->next = rest;
  for (struct cotp__sig *x = s; x;) {
    struct cotp__sig *next = x->next;
    x->next = NULL;
    if (p->mq_tail)
      p->mq_tail->next = x;
    else
      p->mq_head = x;
    p->mq_tail = x;
    x = next;
  }
  cotp__proc_exit(p, cotp_is_none(kept) ? COTP_ATOM_KILLED : kept);
}

static bool is(cotp_term t, cotp_term atom) { return t.w == atom.w; }

enum exit_verdict { EXIT_DROPPED, EXIT_TRAPPED, EXIT_KILLS };

/* Erlang's decision table for an exit signal from `from` with reason
 * (cotp/signal.h); for EXIT_KILLS, *dies_with is the reason p dies with. */
static enum exit_verdict decide(struct cotp__proc *p, cotp_pid from,
                                cotp_term reason, bool linked,
                                cotp_term *dies_with) {
  if (linked && !cotp__link_active(p, from, true))
    return EXIT_DROPPED; /* the link is gone: A14 */
  if (!linked && is(reason, COTP_ATOM_KILL)) {
    *dies_with = COTP_ATOM_KILLED; /* untrappable: A11 */
    return EXIT_KILLS;
  }
  if (p->flags & PF_TRAP_EXIT)
    return EXIT_TRAPPED; /* kill from a link too */
  cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  if (is(reason, COTP_ATOM_NORMAL) && !cotp_pid_eq(from, self))
    return EXIT_DROPPED; /* A1 */
  *dies_with = reason;
  return EXIT_KILLS;
}

static void on_exit_signal(struct cotp__proc *p, struct cotp__msg *m,
                           struct cotp__sig *rest) {
  cotp_term dies_with;
  switch (decide(p, m->from, cotp_tuple_get(m->term, 2),
                 m->sig.flags & SF_LINKED, &dies_with)) {
  case EXIT_DROPPED:
    discard(&m->sig);
    return;
  case EXIT_TRAPPED:
    cotp__mq_append(p, &m->sig); /* it is {:EXIT, from, reason} already */
    return;
  case EXIT_KILLS:
    die(p, &m->sig, rest, dies_with);
    return;
  }
}

/* The exit signal of the link to the process a DOWN comes from, carried in
 * that DOWN (SF_LINKED: ext.h), acted on as on_exit_signal acts on one of
 * its own, before the DOWN.  Returns false when it ended p. */
static bool carried_exit(struct cotp__proc *p, struct cotp__msg *m,
                         struct cotp__sig *rest) {
  cotp_term reason = is_bare(&m->sig) ? COTP_ATOM_NORMAL : cotp_tuple_get(m->term, 4);
  cotp_term dies_with = reason;
  enum exit_verdict v = decide(p, m->from, reason, true, &dies_with);
  if (v == EXIT_DROPPED)
    return true;
  if (v == EXIT_TRAPPED) {
    /* {:EXIT, from, reason} joins the queue just ahead of the DOWN */
    cotp_heap_mark mark = cotp_heap_mark_now(&p->heap);
    cotp_term exit = COTP_TUPLE(&p->heap, COTP_ATOM_EXIT,
                                cotp_pid_term(m->from), reason);
    struct cotp__msg *x = cotp_is_none(exit) ? NULL : cotp__msg_new(exit);
    cotp_heap_release(&p->heap, mark);
    if (x) {
      x->from = m->from;
      cotp__mq_append(p, &x->sig);
      return true;
    }
    /* no memory to trap it: the exit cannot be lost, so it acts as it
     * would on a process that does not trap */
  }
  die(p, &m->sig, rest, dies_with);
  return false;
}

void cotp__signal_handle(struct cotp__proc *p, struct cotp__sig *s,
                         struct cotp__sig *rest) {
  struct cotp__msg *m = (struct cotp__msg *)s;
  switch (s->kind) {
  case SIG_MSG:
    if (s->flags & SF_MONITOR)
      cotp__monitor_carried(p, m, false);
    cotp__mq_append(p, s);
    return;
  case SIG_ALIAS_MSG:
    if (cotp__alias_received(p, m->aux, s->flags))
      cotp__mq_append(p, s);
    else
      discard(s); /* B14: dropped before the queue */
    return;
  case SIG_EXIT:
    on_exit_signal(p, m, rest);
    return;
  case SIG_LINK:
    cotp__link_add(p, m->from);
    break;
  case SIG_UNLINK:
    cotp__unlink_received(p, m->from, (uint64_t)cotp_int_value(m->aux));
    break;
  case SIG_UNLINK_ACK:
    cotp__unlink_acked(p, m->from, (uint64_t)cotp_int_value(m->aux));
    break;
  case SIG_MONITOR:
    cotp__watcher_add(p, m->from, m->aux, m->term,
                      (s->flags >> SF_MODE_SHIFT) & 3u);
    break;
  case SIG_DEMONITOR:
    cotp__watcher_remove(p, m->from, m->aux);
    break;
  case SIG_DOWN:
    if ((s->flags & SF_LINKED) && !carried_exit(p, m, rest))
      return; /* the exit it carried ended p */
    if (cotp__down_received(p, m->aux)) {
      cotp__mq_append(p, s);
      return;
    }
    break;
  case SIG_INFO:
    cotp__info_answer(p, m->from, m->aux, m->term);
    break;
  default:
    break;
  }
  discard(s);
}

/* A signal in the mailbox of a process that stopped: the requests that
 * expect an answer get the one a dead process gives (Erlang's noproc). */
void cotp__signal_orphan(struct cotp__proc *p, struct cotp__sig *s) {
  struct cotp__msg *m = (struct cotp__msg *)s;
  cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  cotp_heap *h = cotp_heap_new();
  switch (s->kind) {
  case SIG_LINK: /* A16: linking to the dead gives an exit with noproc */
    cotp__signal(m->from, SIG_EXIT, SF_LINKED, self, COTP_NONE,
                 COTP_TUPLE(h, COTP_ATOM_EXIT, cotp_pid_term(self),
                            COTP_ATOM_NOPROC));
    break;
  case SIG_MONITOR: /* B1: monitoring the dead gives a DOWN with noproc */
    cotp__signal(m->from, SIG_DOWN, 0, self, m->aux,
                 COTP_TUPLE(h, COTP_ATOM_DOWN, m->aux, COTP_ATOM_PROCESS,
                            cotp__down_object(h, self, m->term),
                            COTP_ATOM_NOPROC));
    break;
  case SIG_INFO:
    cotp__info_answer_dead(m->from, m->aux);
    break;
  case SIG_UNLINK: /* the unlinker's entry waits for this ack */
    cotp__signal(m->from, SIG_UNLINK_ACK, 0, self, m->aux, COTP_NONE);
    break;
  default:
    break;
  }
  cotp_heap_free(h);
  discard(s);
}

/* --- the API --- */

void cotp_exit(cotp_term reason) {
  struct cotp__proc *p = cotp__proc_self();
  if (!p)
    abort(); /* documented: inside a process; it cannot return an error */
  if (cotp_is_none(reason))
    reason = COTP_ATOM_NORMAL;
  cotp__throw_exit(p, reason);
  cotp__proc_exit(p, reason);
}

int cotp_exit_signal(cotp_pid pid, cotp_term reason) {
  struct cotp__proc *p = cotp__proc_self();
  if (!p)
    return COTP_ENOTPROC;
  if (cotp_is_none(reason))
    return COTP_EINVAL;
  cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  cotp_heap_mark mark = cotp_heap_mark_now(&p->heap);
  cotp_term exit = COTP_TUPLE(&p->heap, COTP_ATOM_EXIT, cotp_pid_term(self), reason);
  int rc = cotp_is_none(exit) ? COTP_ENOMEM
                              : cotp__signal(pid, SIG_EXIT, 0, self, COTP_NONE, exit);
  cotp_heap_release(&p->heap, mark);
  if (rc < 0)
    return rc;
  if (cotp_pid_eq(pid, self))
    cotp__inbox_drain(p); /* exit(self(), R) acts before returning (A2-A5) */
  else
    cotp__reduce(p, 1);
  return 0;
}

int cotp_trap_exit(bool on, bool *old) {
  struct cotp__proc *p = cotp__proc_self();
  if (!p)
    return COTP_ENOTPROC;
  /* A21: a pending exit is honoured before the flag changes */
  cotp__inbox_drain(p);
  if (old)
    *old = p->flags & PF_TRAP_EXIT;
  if (on)
    p->flags |= PF_TRAP_EXIT;
  else
    p->flags &= (uint16_t)~PF_TRAP_EXIT;
  return 0;
}
