/* SPDX-License-Identifier: Apache-2.0 */
/*
 * link.c: links, and the unlink handshake.
 *
 * A link is an entry on both sides.  Linking adds ours and sends LINK;
 * the other side adds its entry when it handles the signal.  Unlinking
 * cannot just drop both entries: an exit signal from the old link may be
 * on its way, and the other side may link again before it hears of the
 * unlink (A17, OTP-18177).  So unlink marks our entry with a fresh id and
 * sends UNLINK(id); the other side removes its entry and answers
 * UNLINK_ACK(id); only an ack with the same id removes our marked entry.
 * While marked, the entry is inactive: a link-flagged exit signal that
 * arrives then is dropped, which is the guarantee unlink gives.  A LINK
 * from the other side meanwhile makes the entry active again, and the late
 * ack, whose id no longer matches, leaves it be.
 *
 * A process spawned linked keeps its side of that link in its control
 * block (PF_SPAWN_LINK, proc.h): one flag, no entry.  What only the
 * common cases do (the spawner's exit signal, the process's own exit, an
 * unlink from the spawner) reads the flag; what needs an entry (an unlink
 * by the process itself, marked with its id) first turns the flag into
 * one (unfold).
 */
#include <stddef.h>
#include <stdlib.h>

#include "ext.h"
#include "runtime.h"

static _Atomic uint64_t unlink_ids = 1;

static struct cotp__link *find(struct cotp__ext *e, cotp_pid pid) {
  return e ? SET_FIND(e->links, struct cotp__link, pid.bits) : NULL;
}

static void drop(struct cotp__ext *e, struct cotp__link *l) {
  SET_REMOVE(e->links, struct cotp__link, l);
}

/* Whether p's link to pid is the one it was spawned with, kept inline. */
static bool inline_to(const struct cotp__proc *p, cotp_pid pid) {
  return (p->flags & PF_SPAWN_LINK) && cotp_pid_eq(p->u.watch.pid, pid);
}

/* The inline link becomes an entry; false when out of memory.  Its seq is
 * 0: it was made before any other. */
static bool unfold(struct cotp__proc *p) {
  if (!(p->flags & PF_SPAWN_LINK))
    return true;
  struct cotp__ext *e = cotp__ext(p);
  struct cotp__link *l =
      e ? SET_ADD(e->links, struct cotp__link, p->u.watch.pid.bits) : NULL;
  if (!l)
    return false;
  l->seq = 0;
  p->flags &= (uint16_t)~PF_SPAWN_LINK;
  return true;
}

void cotp__link_spawner(struct cotp__proc *p, cotp_pid spawner) {
  p->u.watch.pid = spawner;
  p->flags |= PF_SPAWN_LINK;
}

void cotp__link_add(struct cotp__proc *p, cotp_pid from) {
  if (inline_to(p, from))
    return; /* linked already */
  struct cotp__ext *e = cotp__ext(p);
  if (!e)
    return; /* out of memory: the link is lost, as it would be to a dead peer */
  struct cotp__link *l = find(e, from);
  if (l) {
    l->unlinking = 0; /* linked again while unlinking */
    return;
  }
  l = SET_ADD(e->links, struct cotp__link, from.bits);
  if (l) /* NULL: lost, as above */
    l->seq = e->seq++;
}

void cotp__unlink_received(struct cotp__proc *p, cotp_pid from, uint64_t id) {
  struct cotp__link *l = find(p->ext, from);
  if (inline_to(p, from))
    p->flags &= (uint16_t)~PF_SPAWN_LINK;
  else if (l)
    drop(p->ext, l);
  cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  cotp__signal(from, SIG_UNLINK_ACK, 0, self, cotp_int(NULL, (int64_t)id),
               COTP_NONE);
}

void cotp__unlink_acked(struct cotp__proc *p, cotp_pid from, uint64_t id) {
  struct cotp__link *l = find(p->ext, from);
  if (l && l->unlinking == id)
    drop(p->ext, l);
}

bool cotp__link_active(struct cotp__proc *p, cotp_pid pid, bool take) {
  if (inline_to(p, pid)) { /* never unlinking: unlink unfolds it first */
    if (take)
      p->flags &= (uint16_t)~PF_SPAWN_LINK;
    return true;
  }
  struct cotp__link *l = find(p->ext, pid);
  if (!l)
    return false;
  bool active = !l->unlinking;
  /* taken by the exit signal of pid: pid is gone, and with it the link,
   * unlinking or not (no ack will come for an unlink it never handled) */
  if (take)
    drop(p->ext, l);
  return active;
}

/* Sends the exit signal of the link to pid (its term built at the first
 * one, in *exit), unless it goes with the DOWN of p's spawner (ext.h):
 * then says so in *carried. */
static void fire(struct cotp__proc *p, cotp_pid pid, cotp_pid self,
                 cotp_term reason, cotp_term *exit, bool *carried) {
  if ((p->flags & PF_SPAWN_WATCH) && cotp_pid_eq(pid, p->u.watch.pid)) {
    *carried = true;
    return;
  }
  /* the dying process's own heap: it goes soon anyway */
  if (cotp_is_none(*exit))
    *exit = COTP_TUPLE(&p->heap, COTP_ATOM_EXIT, cotp_pid_term(self), reason);
  if (!cotp_is_none(*exit))
    cotp__signal(pid, SIG_EXIT, SF_LINKED, self, COTP_NONE, *exit);
}

bool cotp__links_fire(struct cotp__proc *p, cotp_pid self, cotp_term reason) {
  struct cotp__ext *e = p->ext;
  bool carried = false;
  cotp_term exit = COTP_NONE;
  if (p->flags & PF_SPAWN_LINK) { /* made with the process: it goes first */
    p->flags &= (uint16_t)~PF_SPAWN_LINK;
    fire(p, p->u.watch.pid, self, reason, &exit, &carried);
  }
  if (!e || e->links.n == 0)
    return carried;
  void **order;
  size_t n = e->links.n > 1 ? cotp__set_in_order(&e->links, sizeof(struct cotp__link),
                                                 offsetof(struct cotp__link, seq), &order)
                            : 0;
  if (n) { /* in the order the links were made */
    for (size_t i = 0; i < n; i++) {
      struct cotp__link *l = order[i];
      if (!l->unlinking)
        fire(p, l->pid, self, reason, &exit, &carried);
    }
    free(order);
  } else {
    KEYSET_EACH(e->links, struct cotp__link, l)
      if (!l->unlinking)
        fire(p, l->pid, self, reason, &exit, &carried);
  }
  SET_FREE(e->links, struct cotp__link);
  return carried;
}

/* --- the API --- */

/* What linking to a process that is not there does (A16). */
static int noproc(struct cotp__proc *p, cotp_pid self, cotp_pid pid) {
  if (!(p->flags & PF_TRAP_EXIT))
    return COTP_ENOPROC;
  cotp_heap_mark mark = cotp_heap_mark_now(&p->heap);
  cotp_term exit = COTP_TUPLE(&p->heap, COTP_ATOM_EXIT, cotp_pid_term(pid),
                              COTP_ATOM_NOPROC);
  /* as a signal from pid, so it keeps its place among pid's signals */
  if (!cotp_is_none(exit))
    cotp__signal(self, SIG_EXIT, SF_LINKED, pid, COTP_NONE, exit);
  cotp_heap_release(&p->heap, mark);
  cotp__link_add(p, pid); /* the link the noproc exit will take down */
  return 0;
}

int cotp_link(cotp_pid pid) {
  struct cotp__proc *p = cotp__proc_self();
  if (!p)
    return COTP_ENOTPROC;
  cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  if (cotp_pid_eq(pid, self))
    return 0; /* A18 */
  cotp__inbox_drain(p);
  struct cotp__link *l = find(p->ext, pid);
  if ((l && !l->unlinking) || inline_to(p, pid))
    return 0; /* A18: at most one link */
  struct cotp__proc *target = cotp__proc_lookup(pid);
  uint32_t st = target ? atomic_load_explicit(&target->state, memory_order_acquire)
                       : PS_FREE;
  if (st == PS_FREE || st == PS_EXITING)
    return noproc(p, self, pid); /* the synchronous check of A16 */
  cotp__link_add(p, pid);
  if (!find(p->ext, pid))
    return COTP_ENOMEM;
  int rc = cotp__signal(pid, SIG_LINK, 0, self, COTP_NONE, COTP_NONE);
  if (rc == PUSH_DEAD) {
    /* it exited between the lookup and the push */
    drop(p->ext, find(p->ext, pid));
    return noproc(p, self, pid);
  }
  if (rc < 0)
    return rc;
  cotp__reduce(p, 1);
  return 0;
}

int cotp_unlink(cotp_pid pid) {
  struct cotp__proc *p = cotp__proc_self();
  if (!p)
    return COTP_ENOTPROC;
  cotp__inbox_drain(p); /* A21: a pending exit is honoured first */
  if (inline_to(p, pid) && !unfold(p)) /* the mark needs an entry */
    return COTP_ENOMEM;
  struct cotp__link *l = find(p->ext, pid);
  if (!l)
    return 0;
  uint64_t id = atomic_fetch_add_explicit(&unlink_ids, 1, memory_order_relaxed);
  l->unlinking = id;
  cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  if (cotp__signal(pid, SIG_UNLINK, 0, self, cotp_int(NULL, (int64_t)id),
                   COTP_NONE) == PUSH_DEAD &&
      (l = find(p->ext, pid)))
    drop(p->ext, l); /* no one to answer */
  cotp__reduce(p, 1);
  return 0;
}
