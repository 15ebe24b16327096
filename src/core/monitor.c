/* SPDX-License-Identifier: Apache-2.0 */
/*
 * monitor.c: monitors, DOWN, demonitor, and aliases.
 *
 * A monitor is two entries: the watcher keeps (ref, target) in `mons`, the
 * target keeps (ref, watcher) in `watchers`, added when it handles the
 * MONITOR signal.  When the target exits it sends each watcher a DOWN; the
 * watcher turns it into a message only if it still holds the monitor, so
 * once demonitor has removed the watcher's entry, no DOWN for it can
 * appear (B7, B8).  A monitor of a process that is not there, or that dies
 * before handling the MONITOR signal, gets a DOWN with noproc.
 *
 * Aliases are references a process accepts messages through while they
 * are active.  A sender finds the owner in a table shared by all (sharded,
 * mutex per shard); the owner decides, when it handles the message, whether
 * the alias is still active, so a message through an alias deactivated
 * after it was sent is dropped too (B14).  A monitor can double as an alias
 * with the three modes of Erlang's monitor/3 (B15-B17): that is what makes
 * a call's late reply disappear instead of landing in the caller's mailbox.
 */
#include <pthread.h>
#include <stdlib.h>

#include "ext.h"
#include "runtime.h"

/* --- the alias table: alias ref -> owner pid --- */

#define SHARDS 32

static struct shard {
  pthread_mutex_t lock;
  struct entry {
    uint64_t ref;
    cotp_pid owner;
  } *at;
  size_t n, cap;
} shards[SHARDS] = {
#define S_ {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0}
    S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_,
    S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_, S_};
#undef S_

static struct shard *shard_of(cotp_term ref) {
  return &shards[(ref.w >> 3) % SHARDS];
}

static bool table_put(cotp_term ref, cotp_pid owner) {
  struct shard *s = shard_of(ref);
  pthread_mutex_lock(&s->lock);
  bool ok = true;
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    struct entry *at = realloc(s->at, cap * sizeof *at);
    if (at) {
      s->at = at;
      s->cap = cap;
    } else {
      ok = false;
    }
  }
  if (ok)
    s->at[s->n++] = (struct entry){ref.w, owner};
  pthread_mutex_unlock(&s->lock);
  return ok;
}

static void table_drop(cotp_term ref) {
  struct shard *s = shard_of(ref);
  pthread_mutex_lock(&s->lock);
  for (size_t i = 0; i < s->n; i++) {
    if (s->at[i].ref == ref.w) {
      s->at[i] = s->at[--s->n];
      break;
    }
  }
  pthread_mutex_unlock(&s->lock);
}

static cotp_pid table_owner(cotp_term ref) {
  struct shard *s = shard_of(ref);
  cotp_pid owner = {0};
  pthread_mutex_lock(&s->lock);
  for (size_t i = 0; i < s->n; i++)
    if (s->at[i].ref == ref.w)
      owner = s->at[i].owner;
  pthread_mutex_unlock(&s->lock);
  return owner;
}

void cotp__aliases_close(void) {
  for (int i = 0; i < SHARDS; i++) {
    pthread_mutex_lock(&shards[i].lock);
    free(shards[i].at);
    shards[i].at = NULL;
    shards[i].n = shards[i].cap = 0;
    pthread_mutex_unlock(&shards[i].lock);
  }
}

/* --- the owner's side --- */

static long find_alias(struct cotp__ext *e, cotp_term ref) {
  for (uint32_t i = 0; e && i < e->aliases.n; i++)
    if (e->aliases.at[i].ref.w == ref.w)
      return (long)i;
  return -1;
}

static long find_mon(struct cotp__ext *e, cotp_term ref) {
  for (uint32_t i = 0; e && i < e->mons.n; i++)
    if (e->mons.at[i].ref.w == ref.w)
      return (long)i;
  return -1;
}

static void unalias_at(struct cotp__ext *e, long i) {
  table_drop(e->aliases.at[i].ref);
  VEC_REMOVE(e->aliases, (uint32_t)i);
}

static bool add_alias(struct cotp__proc *p, cotp_term ref, bool reply) {
  struct cotp__ext *e = cotp__ext(p);
  cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  if (!e || !VEC_RESERVE(e->aliases) || !table_put(ref, self))
    return false;
  e->aliases.at[e->aliases.n++] = (struct cotp__alias){ref, reply};
  return true;
}

/* Removes the monitor at i; the alias too if its mode ties them. */
static void drop_mon(struct cotp__ext *e, long i) {
  struct cotp__mon m = e->mons.at[i];
  VEC_REMOVE(e->mons, (uint32_t)i);
  if (m.alias_mode == COTP_ALIAS_DEMONITOR ||
      m.alias_mode == COTP_ALIAS_REPLY_DEMONITOR) {
    long a = find_alias(e, m.ref);
    if (a >= 0)
      unalias_at(e, a);
  }
}

bool cotp__alias_received(struct cotp__proc *p, cotp_term alias) {
  struct cotp__ext *e = p->ext;
  long a = find_alias(e, alias);
  if (a < 0)
    return false;
  long m = find_mon(e, alias);
  if (m >= 0 && e->mons.at[m].alias_mode == COTP_ALIAS_REPLY_DEMONITOR) {
    /* B17: the first reply ends both, and no DOWN follows */
    cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
    cotp__signal(e->mons.at[m].pid, SIG_DEMONITOR, 0, self, alias, COTP_NONE);
    drop_mon(e, m); /* removes the alias too */
  } else if (e->aliases.at[a].reply) {
    unalias_at(e, a); /* B18 */
  }
  return true;
}

bool cotp__down_received(struct cotp__proc *p, cotp_term ref) {
  long i = find_mon(p->ext, ref);
  if (i < 0)
    return false;
  drop_mon(p->ext, i);
  return true;
}

void cotp__watcher_add(struct cotp__proc *p, cotp_pid from, cotp_term ref,
                       cotp_term name) {
  struct cotp__ext *e = cotp__ext(p);
  if (!e || !VEC_RESERVE(e->watchers))
    return;
  e->watchers.at[e->watchers.n++] = (struct cotp__watcher){
      ref, from, cotp_is_atom(name) ? name : COTP_NONE};
}

void cotp__watcher_remove(struct cotp__proc *p, cotp_pid from, cotp_term ref) {
  struct cotp__ext *e = p->ext;
  for (uint32_t i = 0; e && i < e->watchers.n; i++) {
    if (e->watchers.at[i].ref.w == ref.w &&
        cotp_pid_eq(e->watchers.at[i].pid, from)) {
      VEC_REMOVE(e->watchers, i);
      return;
    }
  }
}

cotp_term cotp__down_object(cotp_heap *h, cotp_pid pid, cotp_term name) {
  if (!cotp_is_atom(name))
    return cotp_pid_term(pid);
  return COTP_TUPLE(h, name, cotp_atom("nonode@nohost"));
}

void cotp__monitors_fire(struct cotp__proc *p, cotp_pid self, cotp_term reason) {
  struct cotp__ext *e = p->ext;
  if (!e)
    return;
  cotp_heap *h = cotp_heap_new();
  /* the processes watching us get their DOWN */
  for (uint32_t i = 0; i < e->watchers.n; i++) {
    struct cotp__watcher *w = &e->watchers.at[i];
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    cotp_term down = COTP_TUPLE(h, COTP_ATOM_DOWN, w->ref, COTP_ATOM_PROCESS,
                                cotp__down_object(h, self, w->name), reason);
    if (!cotp_is_none(down))
      cotp__signal(w->pid, SIG_DOWN, 0, self, w->ref, down);
    cotp_heap_release(h, mark);
  }
  e->watchers.n = 0;
  /* the processes we watch forget us (A28) */
  for (uint32_t i = 0; i < e->mons.n; i++)
    cotp__signal(e->mons.at[i].pid, SIG_DEMONITOR, 0, self, e->mons.at[i].ref,
                 COTP_NONE);
  e->mons.n = 0;
  for (uint32_t i = 0; i < e->aliases.n; i++)
    table_drop(e->aliases.at[i].ref);
  e->aliases.n = 0;
  cotp_heap_free(h);
}

/* --- the API --- */

/* Monitors pid (as name, when name is an atom) from p; ref is new. */
static int monitor(struct cotp__proc *p, cotp_pid pid, cotp_term name,
                   cotp_alias_mode mode, cotp_term ref) {
  struct cotp__ext *e = cotp__ext(p);
  if (!e || !VEC_RESERVE(e->mons))
    return COTP_ENOMEM;
  if (mode != COTP_ALIAS_NONE && !add_alias(p, ref, false))
    return COTP_ENOMEM;
  e->mons.at[e->mons.n++] = (struct cotp__mon){ref, pid, name, (uint8_t)mode};
  cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  int rc = pid.bits ? cotp__signal(pid, SIG_MONITOR, 0, self, ref, name)
                    : PUSH_DEAD;
  if (rc == PUSH_DEAD) {
    /* B1, B2: not there; the DOWN is a signal to ourselves, as from it */
    cotp_heap_mark mark = cotp_heap_mark_now(&p->heap);
    cotp_term down =
        COTP_TUPLE(&p->heap, COTP_ATOM_DOWN, ref, COTP_ATOM_PROCESS,
                   cotp__down_object(&p->heap, pid, name), COTP_ATOM_NOPROC);
    rc = cotp_is_none(down)
             ? COTP_ENOMEM
             : cotp__signal(self, SIG_DOWN, 0, pid, ref, down);
    cotp_heap_release(&p->heap, mark);
  }
  return rc < 0 ? rc : 0;
}

int cotp_monitor_alias(cotp_pid pid, cotp_alias_mode mode, cotp_term *ref) {
  struct cotp__proc *p = cotp__proc_self();
  if (!p)
    return COTP_ENOTPROC;
  if (!ref || (unsigned)mode > COTP_ALIAS_REPLY_DEMONITOR)
    return COTP_EINVAL;
  *ref = cotp_make_ref();
  int rc = monitor(p, pid, COTP_NONE, mode, *ref);
  cotp__reduce(p, 1);
  return rc;
}

int cotp_monitor(cotp_pid pid, cotp_term *ref) {
  return cotp_monitor_alias(pid, COTP_ALIAS_NONE, ref);
}

int cotp_monitor_name(cotp_term name, cotp_term *ref) {
  struct cotp__proc *p = cotp__proc_self();
  if (!p)
    return COTP_ENOTPROC;
  if (!ref || !cotp_is_atom(name))
    return COTP_EINVAL;
  *ref = cotp_make_ref();
  cotp_pid pid = {0};
  cotp_whereis(name, &pid);
  int rc = monitor(p, pid, name, COTP_ALIAS_NONE, *ref);
  cotp__reduce(p, 1);
  return rc;
}

/* Removes a DOWN for ref from the private queue, if there is one. */
static bool flush_down(struct cotp__proc *p, cotp_term ref) {
  for (struct cotp__sig *prev = NULL, *m = p->mq_head; m; prev = m, m = m->next) {
    cotp_term t = ((struct cotp__msg *)m)->term;
    if (cotp_tuple_size(t) == 5 && cotp_tuple_get(t, 0).w == COTP_ATOM_DOWN.w &&
        cotp_tuple_get(t, 1).w == ref.w) {
      cotp__mailbox_take(p, prev, m);
      return true;
    }
  }
  return false;
}

int cotp_demonitor(cotp_term ref, unsigned flags) {
  struct cotp__proc *p = cotp__proc_self();
  if (!p)
    return COTP_ENOTPROC;
  if (!cotp_is_ref(ref) || (flags & ~(COTP_DEMONITOR_FLUSH | COTP_DEMONITOR_INFO)))
    return COTP_EINVAL;
  /* every DOWN already sent to us becomes a message first */
  cotp__inbox_drain(p);
  long i = find_mon(p->ext, ref);
  bool active = i >= 0;
  /* A ref from the monitored end is simply not one of ours: OTP 25
   * returns true and leaves the monitor be (B10's badarg is older OTP). */
  if (active) {
    cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
    cotp_pid target = p->ext->mons.at[i].pid;
    drop_mon(p->ext, i);
    cotp__signal(target, SIG_DEMONITOR, 0, self, ref, COTP_NONE);
  }
  if (flags & COTP_DEMONITOR_FLUSH) {
    cotp_heap_mark mark = cotp_heap_mark_now(&p->heap);
    flush_down(p, ref);
    cotp_heap_release(&p->heap, mark);
  }
  cotp__reduce(p, 1);
  return (flags & COTP_DEMONITOR_INFO) ? (active ? 1 : 0) : 0;
}

int cotp_alias(unsigned flags, cotp_term *alias) {
  struct cotp__proc *p = cotp__proc_self();
  if (!p)
    return COTP_ENOTPROC;
  if (!alias || (flags & ~COTP_ALIAS_REPLY))
    return COTP_EINVAL;
  *alias = cotp_make_ref();
  return add_alias(p, *alias, flags & COTP_ALIAS_REPLY) ? 0 : COTP_ENOMEM;
}

int cotp_unalias(cotp_term alias) {
  struct cotp__proc *p = cotp__proc_self();
  if (!p)
    return COTP_ENOTPROC;
  long a = find_alias(p->ext, alias);
  if (a < 0)
    return COTP_ENOTFOUND;
  unalias_at(p->ext, a);
  return 0;
}

int cotp_send_alias(cotp_term alias, cotp_term msg) {
  if (!cotp_is_ref(alias) || cotp_is_none(msg))
    return COTP_EINVAL;
  cotp_pid owner = table_owner(alias);
  struct cotp__proc *self = cotp__proc_self();
  cotp_pid from = {self ? atomic_load_explicit(&self->pid, memory_order_relaxed) : 0};
  int rc = owner.bits ? cotp__signal(owner, SIG_ALIAS_MSG, 0, from, alias, msg) : 0;
  if (self)
    cotp__reduce(self, 1);
  return rc < 0 ? rc : 0;
}
