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
 * are active.  A sender finds the owner in a table shared by all (a hash
 * table in shards, a spinlock each); the owner decides, when it handles the message, whether
 * the alias is still active, so a message through an alias deactivated
 * after it was sent is dropped too (B14).  A monitor can double as an alias
 * with the three modes of Erlang's monitor/3 (B15-B17): that is what makes
 * a call's late reply disappear instead of landing in the caller's mailbox.
 */
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>

#include "ext.h"
#include "platform/spinlock.h"
#include "runtime.h"

/* --- the alias table: alias ref -> owner pid --- */

/*
 * Open addressing, linear probing, backward-shift deletion, in shards each
 * under a spinlock: every call adds one alias and drops it, so the critical
 * sections are a few dozen instructions, shorter than a mutex's own
 * bookkeeping.  A spinner that waits long yields its thread.
 */
#define SHARDS 64

struct entry {
  uint64_t ref; /* 0: empty (a reference is never 0) */
  cotp_pid owner;
};

static struct shard {
  cotp__spinlock lock;
  struct entry *at;
  size_t n, cap; /* cap: 0 or a power of two */
} __attribute__((aligned(64))) shards[SHARDS];

static void shard_lock(struct shard *s) { cotp__spin_lock(&s->lock); }

static void shard_unlock(struct shard *s) { cotp__spin_unlock(&s->lock); }

/*
 * Where a reference goes keeps neighbours together.  A thread takes its
 * references in batches of 1024 from one counter (term/build.c), and a
 * call puts its alias and drops it soon after: so the shard is the
 * batch's (one thread's aliases share a shard and its lock, hot in that
 * core's cache, and other threads' batches mostly land elsewhere), and
 * the slot is the number itself, times two, with its high bits folded in.
 * Consecutive references take every other slot: a call's put and drop
 * touch the same line as the last call's, and the odd slots take the
 * collisions, so runs stay short and a removal's backward shift stops
 * soon.  (A multiplicative hash sent every put and drop to a cold line
 * of a random shard: an eighth of a GenServer call run in the caller.)
 */
#define REF_BATCH_BITS 10 /* term/build.c's REF_BATCH is 1 << 10 */

static uint64_t number_of(uint64_t ref) { return ref >> COTP__TAG_BITS; }

static struct shard *shard_of(cotp_term ref) {
  return &shards[(number_of(ref.w) >> REF_BATCH_BITS) % SHARDS];
}

static size_t slot_of(const struct shard *s, uint64_t ref) {
  uint64_t n = number_of(ref);
  return ((n ^ (n >> 32)) << 1) & (s->cap - 1);
}

static bool grow(struct shard *s) {
  size_t cap = s->cap ? s->cap * 2 : 16;
  struct entry *at = calloc(cap, sizeof *at);
  if (!at)
    return false;
  struct entry *old = s->at;
  size_t old_cap = s->cap;
  s->at = at;
  s->cap = cap;
  for (size_t i = 0; i < old_cap; i++) {
    if (!old[i].ref)
      continue;
    size_t j = slot_of(s, old[i].ref);
    while (at[j].ref)
      j = (j + 1) & (cap - 1);
    at[j] = old[i];
  }
  free(old);
  return true;
}

static bool table_put(cotp_term ref, cotp_pid owner) {
  struct shard *s = shard_of(ref);
  shard_lock(s);
  bool ok = (s->n + 1) * 2 <= s->cap || grow(s);
  if (ok) {
    size_t j = slot_of(s, ref.w);
    while (s->at[j].ref)
      j = (j + 1) & (s->cap - 1);
    s->at[j] = (struct entry){ref.w, owner};
    s->n++;
  }
  shard_unlock(s);
  return ok;
}

static void table_drop(cotp_term ref) {
  struct shard *s = shard_of(ref);
  shard_lock(s);
  size_t mask = s->cap - 1, j = s->cap ? slot_of(s, ref.w) : 0;
  while (s->cap && s->at[j].ref && s->at[j].ref != ref.w)
    j = (j + 1) & mask;
  if (s->cap && s->at[j].ref) {
    /* backward shift: pull later entries of the run into the hole */
    s->n--;
    size_t hole = j;
    for (size_t k = (j + 1) & mask; s->at[k].ref; k = (k + 1) & mask) {
      size_t home = slot_of(s, s->at[k].ref);
      /* k's entry may move to hole unless its home lies in (hole, k] */
      if (((k - home) & mask) >= ((k - hole) & mask)) {
        s->at[hole] = s->at[k];
        hole = k;
      }
    }
    s->at[hole] = (struct entry){0, {0}};
  }
  shard_unlock(s);
}

static cotp_pid table_owner(cotp_term ref) {
  struct shard *s = shard_of(ref);
  cotp_pid owner = {0};
  shard_lock(s);
  if (s->cap) {
    size_t j = slot_of(s, ref.w);
    while (s->at[j].ref && s->at[j].ref != ref.w)
      j = (j + 1) & (s->cap - 1);
    owner = s->at[j].owner;
  }
  shard_unlock(s);
  return owner;
}

void cotp__aliases_close(void) {
  for (int i = 0; i < SHARDS; i++) {
    shard_lock(&shards[i]);
    free(shards[i].at);
    shards[i].at = NULL;
    shards[i].n = shards[i].cap = 0;
    shard_unlock(&shards[i]);
  }
}

/* --- the owner's side --- */

static struct cotp__alias *find_alias(struct cotp__ext *e, cotp_term ref) {
  return e ? SET_FIND(e->aliases, struct cotp__alias, ref.w) : NULL;
}

static struct cotp__mon *find_mon(struct cotp__ext *e, cotp_term ref) {
  return e ? SET_FIND(e->mons, struct cotp__mon, ref.w) : NULL;
}

static void unalias(struct cotp__ext *e, struct cotp__alias *a) {
  table_drop(a->ref);
  SET_REMOVE(e->aliases, struct cotp__alias, a);
}

static bool add_alias(struct cotp__proc *p, cotp_term ref, bool reply) {
  struct cotp__ext *e = cotp__ext(p);
  cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  struct cotp__alias *a = e ? SET_ADD(e->aliases, struct cotp__alias, ref.w) : NULL;
  if (!a)
    return false;
  if (!table_put(ref, self)) {
    SET_REMOVE(e->aliases, struct cotp__alias, a);
    return false;
  }
  a->reply = reply;
  return true;
}

/*
 * An alias that ends with its monitor (modes demonitor and
 * reply_demonitor: the call idiom's) lives in the monitor's own entry
 * (alias_on), so a call adds, finds and removes one entry where it took
 * two.  An explicit_unalias alias outlives its monitor (B19): it has an
 * entry of its own in aliases, as an alias made by cotp_alias has.
 */
bool cotp__mon_alias(struct cotp__proc *p, struct cotp__mon *m) {
  switch (m->alias_mode) {
  case COTP_ALIAS_NONE:
    return true;
  case COTP_ALIAS_EXPLICIT_UNALIAS:
    return add_alias(p, m->ref, false);
  default: {
    cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
    m->alias_on = m->alias_private || table_put(m->ref, self);
    return m->alias_on;
  }
  }
}

/* Deactivates the alias of monitor m (alias_on). */
static void mon_alias_off(struct cotp__mon *m) {
  if (!m->alias_private)
    table_drop(m->ref);
  m->alias_on = false;
}

/* Removes monitor m, and the alias its mode ties to it. */
static void drop_mon(struct cotp__ext *e, struct cotp__mon *m) {
  if (m->alias_on)
    mon_alias_off(m);
  SET_REMOVE(e->mons, struct cotp__mon, m);
}

bool cotp__alias_received(struct cotp__proc *p, cotp_term alias,
                          uint32_t sflags) {
  struct cotp__ext *e = p->ext;
  struct cotp__mon *m = find_mon(e, alias);
  if (m && m->alias_on) {
    if (m->alias_mode == COTP_ALIAS_REPLY_DEMONITOR) {
      /* B17: the first reply ends both, and no DOWN follows.  A reply
       * from the monitored process itself has ended its side already (see
       * cotp_send_alias): the demonitor signal would find nothing. */
      if (!(sflags & SF_ENDS_MONITOR)) {
        cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
        cotp__signal(m->pid, SIG_DEMONITOR, 0, self, alias, COTP_NONE);
        m = find_mon(e, alias); /* the set may have moved: find it again */
      }
      drop_mon(e, m); /* the alias goes with it */
    }
    return true;
  }
  struct cotp__alias *a = find_alias(e, alias);
  if (!a) {
    if (m && (sflags & SF_ENDS_MONITOR)) {
      /* The monitored process replied through an alias we had unaliased
       * (the monitor stays): it ended its side of the monitor, believing
       * the reply would end ours.  Ask for the monitor again, as a plain
       * one this time; if it has exited since, the DOWN says noproc. */
      cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
      m->alias_mode = COTP_ALIAS_NONE;
      cotp__signal(m->pid, SIG_MONITOR, 0, self, alias, COTP_NONE);
    }
    return false;
  }
  if (a->reply)
    unalias(e, a); /* B18 */
  return true;
}

bool cotp__down_received(struct cotp__proc *p, cotp_term ref) {
  struct cotp__mon *m = find_mon(p->ext, ref);
  if (!m)
    return false;
  drop_mon(p->ext, m);
  return true;
}

/* The spawner's monitor, kept in p's control block (proc.h): whether p
 * has it as ref. */
static bool watched_inline(const struct cotp__proc *p, cotp_term ref) {
  return (p->flags & PF_SPAWN_WATCH) && p->u.watch.ref.w == ref.w;
}

void cotp__watcher_inline(struct cotp__proc *p, cotp_pid from, cotp_term ref,
                          unsigned alias_mode) {
  p->u.watch.ref = ref;
  p->u.watch.pid = from;
  p->watch_mode = (uint8_t)alias_mode;
  p->flags |= PF_SPAWN_WATCH;
}

void cotp__watcher_add(struct cotp__proc *p, cotp_pid from, cotp_term ref,
                       cotp_term name, unsigned alias_mode) {
  if (watched_inline(p, ref))
    return;
  struct cotp__ext *e = cotp__ext(p);
  if (!e || SET_FIND(e->watchers, struct cotp__watcher, ref.w))
    return;
  struct cotp__watcher *w = SET_ADD(e->watchers, struct cotp__watcher, ref.w);
  if (!w)
    return;
  w->pid = from;
  w->name = cotp_is_atom(name) ? name : COTP_NONE;
  w->alias_mode = (uint8_t)alias_mode;
  w->seq = e->seq++;
}

void cotp__watcher_remove(struct cotp__proc *p, cotp_pid from, cotp_term ref) {
  if (watched_inline(p, ref)) {
    if (cotp_pid_eq(p->u.watch.pid, from))
      p->flags &= (uint16_t)~PF_SPAWN_WATCH;
    return;
  }
  struct cotp__ext *e = p->ext;
  struct cotp__watcher *w = e ? SET_FIND(e->watchers, struct cotp__watcher, ref.w) : NULL;
  if (w && cotp_pid_eq(w->pid, from))
    SET_REMOVE(e->watchers, struct cotp__watcher, w);
}

cotp_term cotp__down_object(cotp_heap *h, cotp_pid pid, cotp_term name) {
  if (!cotp_is_atom(name))
    return cotp_pid_term(pid);
  return COTP_TUPLE(h, name, cotp_atom("nonode@nohost"));
}

/* flags: SF_LINKED when the DOWN carries the exit signal of the link to
 * w's process as well (ext.h). */
static void send_down(cotp_heap *h, const struct cotp__watcher *w,
                      cotp_pid self, cotp_term reason, uint32_t flags) {
  if (cotp_is_none(w->name) && reason.w == COTP_ATOM_NORMAL.w && bare_part(w->ref)) {
    cotp__signal_bare(w->pid, SIG_DOWN, SF_BARE_DOWN | flags, self.bits, w->ref);
    return;
  }
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  /* The DOWN is copied by the send and needed no longer: it is built on
   * the stack, not in a heap that a dying process has often filled, which
   * cost every task's exit a new block.  The object is a pid or {name,
   * node}, built in h. */
  cotp_term obj = cotp__down_object(h, self, w->name);
  uint64_t words[6] = {HDR_MAKE(BOX_TUPLE, 5), COTP_ATOM_DOWN.w, w->ref.w,
                       COTP_ATOM_PROCESS.w, obj.w, reason.w};
  cotp_term down = cotp_is_none(obj) ? COTP_NONE : box_term(words);
  if (!cotp_is_none(down))
    cotp__signal(w->pid, SIG_DOWN, flags, self, w->ref, down);
  else if (flags & SF_LINKED) { /* no room for the DOWN: the exit still goes */
    cotp_term exit = COTP_TUPLE(h, COTP_ATOM_EXIT, cotp_pid_term(self), reason);
    if (!cotp_is_none(exit))
      cotp__signal(w->pid, SIG_EXIT, SF_LINKED, self, COTP_NONE, exit);
  }
  cotp_heap_release(h, mark);
}

void cotp__monitors_fire(struct cotp__proc *p, cotp_pid self, cotp_term reason,
                         bool down_carries_exit) {
  struct cotp__ext *e = p->ext;
  cotp_heap *h = &p->heap; /* the dying process's own: it goes soon anyway */
  if (p->flags & PF_SPAWN_WATCH) {
    /* made with the process, before any other: its DOWN goes first */
    struct cotp__watcher w = {p->u.watch.ref, p->u.watch.pid, COTP_NONE, 0,
                              p->watch_mode};
    p->flags &= (uint16_t)~PF_SPAWN_WATCH;
    send_down(h, &w, self, reason, down_carries_exit ? SF_LINKED : 0);
  }
  if (!e)
    return;
  /* the processes watching us get their DOWN */
  void **order;
  size_t n = e->watchers.n > 1
                 ? cotp__set_in_order(&e->watchers, sizeof(struct cotp__watcher),
                                      offsetof(struct cotp__watcher, seq), &order)
                 : 0;
  if (n) { /* in the order the monitors were made */
    for (size_t i = 0; i < n; i++)
      send_down(h, order[i], self, reason, 0);
    free(order);
  } else {
    KEYSET_EACH(e->watchers, struct cotp__watcher, w)
      send_down(h, w, self, reason, 0);
  }
  SET_FREE(e->watchers, struct cotp__watcher);
  /* the processes we watch forget us (A28) */
  KEYSET_EACH(e->mons, struct cotp__mon, m) {
    cotp__signal(m->pid, SIG_DEMONITOR, 0, self, m->ref, COTP_NONE);
    if (m->alias_on)
      mon_alias_off(m);
  }
  SET_FREE(e->mons, struct cotp__mon);
  KEYSET_EACH(e->aliases, struct cotp__alias, a)
    table_drop(a->ref);
  SET_FREE(e->aliases, struct cotp__alias);
}

/* --- monitors that travel with a message --- */

/*
 * The call idiom is monitor, send, receive.  Sending the monitor request
 * as a signal of its own costs the target a second wake-up and a second
 * signal to handle, so monitor() of a live local process only records the
 * request (pending_mon), and the next message to that process carries it
 * (SF_MONITOR, cotp_send).  Anything else the process does that could
 * make the difference visible sends it alone first: any other signal or
 * message (cotp__signal, cotp_send to another process, cotp__deliver),
 * a spawn (the child could reach the target first: found by a test that
 * monitored a server and then had a new process call it), and any switch
 * (sched.c), which covers every wait.  A demonitor of the
 * pending monitor just forgets it.  Signals between two processes keep
 * their order either way, and a target that dies in the meantime answers
 * noproc, as it would have to a monitor signal that arrived too late.
 */
static int monitor_now(struct cotp__proc *p, cotp_pid pid, cotp_term ref,
                       cotp_term name, unsigned mode);

void cotp__monitor_flush_slow(struct cotp__proc *p) {
  cotp_pid pid = p->pending_mon_pid;
  cotp_term ref = p->pending_mon_ref;
  p->pending_mon_ref = COTP_NONE;
  /* out of memory here would lose the monitor: nothing is left to report
   * it to, and the caller's wait ends at its timeout, if it has one */
  monitor_now(p, pid, ref, COTP_NONE, p->pending_mon_mode);
}

void cotp__monitor_carried(struct cotp__proc *p, struct cotp__msg *m,
                           bool dead) {
  m->sig.flags &= ~(uint32_t)SF_MONITOR; /* taken care of, once */
  if (!dead) {
    cotp__watcher_add(p, m->from, m->aux, COTP_NONE,
                      (m->sig.flags >> SF_MODE_SHIFT) & 3u);
    return;
  }
  /* B1: monitoring the dead gives a DOWN with noproc */
  cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  cotp_heap *h = cotp_heap_new();
  cotp__signal(m->from, SIG_DOWN, 0, self, m->aux,
               COTP_TUPLE(h, COTP_ATOM_DOWN, m->aux, COTP_ATOM_PROCESS,
                          cotp_pid_term(self), COTP_ATOM_NOPROC));
  cotp_heap_free(h);
}

/* --- direct turns (turn.c) --- */

void cotp__monitor_answered(struct cotp__proc *p, cotp_term ref) {
  struct cotp__mon *m = find_mon(p->ext, ref);
  if (!m)
    return;
  if (p->pending_mon_ref.w == ref.w) {
    p->pending_mon_ref = COTP_NONE; /* never sent: nothing to take back */
  } else {
    cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
    cotp__signal(m->pid, SIG_DEMONITOR, 0, self, ref, COTP_NONE);
    m = find_mon(p->ext, ref); /* the set may have moved */
  }
  drop_mon(p->ext, m);
}

/*
 * A direct turn's alias (turn.c) is not put in the table: nearly every
 * turn answers and drops it again, and the put and the drop were a tenth
 * of a GenServer call.  The scheduler running the turn publishes it
 * instead, caller first, then the reference; the one who looks it up (a
 * third party that got the alias from the turn, so after it was
 * published) reads the reference, the caller, and the reference again.
 * An alias that outlives its turn unanswered is put in the table before
 * it is unpublished, so a sender that finds it in neither place, looking
 * here and then in the table, finds an alias no longer active.
 */
void cotp__turn_alias_open(struct cotp__sched *s, struct cotp__proc *p,
                           cotp_term ref) {
  atomic_store_explicit(&s->turn_alias_owner,
                        atomic_load_explicit(&p->pid, memory_order_relaxed),
                        memory_order_release);
  atomic_store_explicit(&s->turn_alias, ref.w, memory_order_release);
}

void cotp__turn_alias_close(struct cotp__sched *s) {
  atomic_store_explicit(&s->turn_alias, 0, memory_order_release);
}

static cotp_pid turn_alias_owner(cotp_term ref) {
  for (unsigned i = 0; i < cotp__rt->nsched; i++) {
    struct cotp__sched *s = &cotp__rt->scheds[i];
    if (atomic_load_explicit(&s->turn_alias, memory_order_acquire) != ref.w)
      continue;
    cotp_pid owner = {atomic_load_explicit(&s->turn_alias_owner,
                                           memory_order_acquire)};
    if (atomic_load_explicit(&s->turn_alias, memory_order_acquire) == ref.w)
      return owner;
  }
  return (cotp_pid){0};
}

bool cotp__turn_alias_to_monitor(struct cotp__proc *p, struct cotp__proc *t,
                                 cotp_term ref) {
  struct cotp__ext *e = cotp__ext(p);
  struct cotp__mon *m = e ? SET_ADD(e->mons, struct cotp__mon, ref.w) : NULL;
  cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  if (!m)
    return false;
  if (!table_put(ref, self)) {
    SET_REMOVE(e->mons, struct cotp__mon, m);
    return false;
  }
  cotp_pid target = {atomic_load_explicit(&t->pid, memory_order_relaxed)};
  m->pid = target;
  m->name = COTP_NONE;
  m->alias_mode = COTP_ALIAS_REPLY_DEMONITOR;
  m->alias_on = true;
  m->alias_private = false;
  cotp__watcher_add(t, self, ref, COTP_NONE, COTP_ALIAS_REPLY_DEMONITOR);
  return true;
}

void cotp__monitor_pending_to(struct cotp__proc *p, struct cotp__proc *t) {
  cotp_pid target = {atomic_load_explicit(&t->pid, memory_order_relaxed)};
  if (!p->pending_mon_ref.w || !cotp_pid_eq(p->pending_mon_pid, target))
    return;
  cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  cotp__watcher_add(t, self, p->pending_mon_ref, COTP_NONE, p->pending_mon_mode);
  p->pending_mon_ref = COTP_NONE;
}

/* --- the API --- */

/* Monitors pid (as name, when name is an atom) from p; ref is new. */
static int monitor(struct cotp__proc *p, cotp_pid pid, cotp_term name,
                   cotp_alias_mode mode, cotp_term ref) {
  struct cotp__ext *e = cotp__ext(p);
  struct cotp__mon *m = e ? SET_ADD(e->mons, struct cotp__mon, ref.w) : NULL;
  if (!m)
    return COTP_ENOMEM;
  m->pid = pid;
  m->name = name;
  m->alias_mode = (uint8_t)mode;
  if (!cotp__mon_alias(p, m)) {
    SET_REMOVE(e->mons, struct cotp__mon, m);
    return COTP_ENOMEM;
  }
  struct cotp__proc *t = cotp_is_atom(name) ? NULL : cotp__proc_lookup(pid);
  uint32_t st = t ? atomic_load_explicit(&t->state, memory_order_acquire)
                  : PS_FREE;
  if (st != PS_FREE && st != PS_EXITING) {
    cotp__monitor_flush(p); /* one pending monitor at a time */
    p->pending_mon_pid = pid;
    p->pending_mon_ref = ref;
    p->pending_mon_mode = (uint8_t)mode;
    return 0;
  }
  return monitor_now(p, pid, ref, name, mode);
}

/* Sends the monitor request for ref; a process that is not there gives an
 * immediate DOWN with noproc. */
static int monitor_now(struct cotp__proc *p, cotp_pid pid, cotp_term ref,
                       cotp_term name, unsigned mode) {
  cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  int rc = pid.bits ? cotp__signal(pid, SIG_MONITOR,
                                   (uint32_t)mode << SF_MODE_SHIFT, self, ref,
                                   name)
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
  uint64_t buf[BARE_MAX_WORDS];
  for (struct cotp__sig *prev = NULL, *m = p->mq_head; m; prev = m, m = m->next) {
    cotp_term t = msg_term((struct cotp__msg *)m, buf);
    if (cotp_tuple_size(t) == 5 && cotp_tuple_get(t, 0).w == COTP_ATOM_DOWN.w &&
        cotp_tuple_get(t, 1).w == ref.w) {
      cotp__msg_free(cotp__mailbox_unlink(p, prev, m)); /* not read: no copy */
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
  struct cotp__mon *m = find_mon(p->ext, ref);
  bool active = m != NULL;
  /* A ref from the monitored end is simply not one of ours: OTP 25
   * returns true and leaves the monitor be (B10's badarg is older OTP). */
  if (active && p->pending_mon_ref.w == ref.w) {
    p->pending_mon_ref = COTP_NONE; /* never sent: nothing to take back */
    drop_mon(p->ext, m);
  } else if (active) {
    cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
    cotp_pid target = m->pid;
    drop_mon(p->ext, m);
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
  struct cotp__mon *m = find_mon(p->ext, alias);
  if (m && m->alias_on) { /* the monitor stays */
    mon_alias_off(m);
    return 0;
  }
  struct cotp__alias *a = find_alias(p->ext, alias);
  if (!a)
    return COTP_ENOTFOUND;
  unalias(p->ext, a);
  return 0;
}

/*
 * A call's reply is the common alias message: the caller monitors the
 * server with a reply_demonitor alias, the server replies through it.  The
 * first message through such an alias ends the monitor, so when the
 * monitored process sends it, it drops its side right here and says so
 * (SF_ENDS_MONITOR): the caller then sends no demonitor, and the owner of
 * the alias, the watcher, needs no lookup.  What anyone can observe is
 * unchanged: the monitored side forgets the monitor no later than a
 * demonitor would have made it, and no DOWN could have followed.
 *
 * A task's reply goes through an alias of the other modes (demonitor):
 * the monitor stays, but the sender holds its side, and a monitor's
 * reference is an alias only of the process that made the monitor, so
 * the watcher is the owner there too, and the shared table is not asked.
 * The owner decides on arrival whether the alias is still active, as for
 * any alias message.  Returns 1 (ends the monitor), 0 (owner found, the
 * monitor stays) or -1 (not an alias of a monitor of self's).
 */
static int watcher_owns(struct cotp__proc *self, cotp_term alias,
                        cotp_pid *owner) {
  if (self && watched_inline(self, alias)) {
    if (self->watch_mode == COTP_ALIAS_NONE)
      return -1;
    *owner = self->u.watch.pid;
    if (self->watch_mode != COTP_ALIAS_REPLY_DEMONITOR)
      return 0;
    self->flags &= (uint16_t)~PF_SPAWN_WATCH;
    return 1;
  }
  struct cotp__ext *e = self ? self->ext : NULL;
  struct cotp__watcher *w =
      e && e->watchers.n ? SET_FIND(e->watchers, struct cotp__watcher, alias.w) : NULL;
  if (!w || w->alias_mode == COTP_ALIAS_NONE)
    return -1;
  *owner = w->pid;
  if (w->alias_mode != COTP_ALIAS_REPLY_DEMONITOR)
    return 0;
  SET_REMOVE(e->watchers, struct cotp__watcher, w);
  return 1;
}

/* {alias, v} with v an immediate: a reply that can travel bare (proc.h;
 * its sender is not needed, as nothing reads a message's). */
static bool is_bare_reply(cotp_term alias, cotp_term msg) {
  return cotp_tuple_size(msg) == 2 && cotp_tuple_get(msg, 0).w == alias.w &&
         bare_part(alias) && bare_part(cotp_tuple_get(msg, 1));
}

int cotp_send_alias(cotp_term alias, cotp_term msg) {
  if (!cotp_is_ref(alias) || cotp_is_none(msg))
    return COTP_EINVAL;
  struct cotp__proc *self = cotp__proc_self();
  cotp_pid from = {self ? atomic_load_explicit(&self->pid, memory_order_relaxed) : 0};
  cotp_pid owner;
  uint32_t flags = 0;
  int watched = watcher_owns(self, alias, &owner);
  if (watched > 0)
    flags = SF_ENDS_MONITOR;
  else if (watched < 0 && !(owner = table_owner(alias)).bits &&
           !(owner = turn_alias_owner(alias)).bits)
    owner = table_owner(alias); /* put there as its turn ended */
  int rc = 0;
  if (owner.bits && is_bare_reply(alias, msg))
    rc = cotp__signal_bare(owner, SIG_ALIAS_MSG, flags | SF_BARE_REPLY,
                           cotp_tuple_get(msg, 1).w, alias);
  else if (owner.bits)
    rc = cotp__signal(owner, SIG_ALIAS_MSG, flags, from, alias, msg);
  if (rc == COTP_ENOMEM && flags) /* not sent: the monitor stays */
    cotp__watcher_add(self, owner, alias, COTP_NONE, COTP_ALIAS_REPLY_DEMONITOR);
  if (self)
    cotp__reduce(self, 1);
  return rc < 0 ? rc : 0;
}
