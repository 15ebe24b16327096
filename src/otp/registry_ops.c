/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry_ops.c: what a process does to its own entries (register,
 * unregister, unregister_match, update_value), and lookup.
 *
 * Writers run in the registering process itself, straight on the table,
 * under the partition's writer mutex (registry_impl.h, lock 1): no message
 * to the partition's process, as in Elixir where the caller writes to ETS.
 * The partition's process only hears of the caller through the link,
 * which the caller makes before its first entry in that partition goes in
 * (so an entry never exists without a link that will clean it up) and
 * removes after its last one is gone (L6).
 */
#include <stdlib.h>

#include "registry_impl.h"

/* The partition that holds pid's entries under the key of that hash. */
static unsigned partition_for(const cotp_registry *r, uint32_t hash,
                              cotp_pid pid) {
  return r->keys == COTP_REGISTRY_DUPLICATE ? cotp__reg_pid_partition(r, pid)
                                            : cotp__reg_hash_partition(r, hash);
}

/* Storage unlinked under the locks, freed after them (invariant 4). */
struct graveyard {
  struct reg_entry *entries;
  struct reg_knode *nodes;
};

static void bury(struct graveyard *g, struct reg_partition *p,
                 struct reg_entry *e) {
  struct reg_shard *s = cotp__reg_shard(p, e->knode->hash);
  struct reg_knode *dead;
  reg_wrlock(&s->lock);
  cotp__reg_remove(p, s, e, &dead);
  reg_wrunlock(&s->lock);
  e->knext = g->entries;
  g->entries = e;
  if (dead) {
    dead->next = g->nodes;
    g->nodes = dead;
  }
}

static void graveyard_free(struct graveyard *g) {
  for (struct reg_entry *e = g->entries, *next; e; e = next) {
    next = e->knext;
    cotp__reg_entry_free(e);
  }
  for (struct reg_knode *k = g->nodes, *next; k; k = next) {
    next = k->next;
    cotp__reg_knode_free(k);
  }
}

static int check_call(cotp_registry *r, cotp_term key) {
  if (!r || cotp_is_none(key))
    return COTP_EINVAL;
  if (!cotp_self_heap())
    return COTP_ENOTPROC;
  return cotp__reg_alive(r) ? 0 : COTP_ENOPROC;
}

/* Adds the caller's entry; the caller holds wlock. */
static int add_locked(cotp_registry *r, struct reg_partition *p, uint32_t hash,
                      cotp_term key, cotp_term value, cotp_pid self,
                      cotp_pid *holder, struct graveyard *g) {
  struct reg_shard *s = cotp__reg_shard(p, hash);
  /* Only writers change the shard, and this one holds wlock: reading it
   * without the shard's lock is safe here. */
  struct reg_knode *k = cotp__reg_find(s, hash, key);
  if (k && r->keys == COTP_REGISTRY_UNIQUE) {
    struct reg_entry *e0 = k->first;
    if (cotp_is_alive_now(e0->pid)) { /* under wlock: never wait here */
      *holder = e0->pid;
      return COTP_EEXIST; /* L16: nothing was added */
    }
    bury(g, p, e0); /* L2: a dead holder's entry, not yet cleaned up */
    k = cotp__reg_find(s, hash, key);
  }
  struct reg_knode *spare = k ? NULL : cotp__reg_knode_new(hash, key);
  struct reg_entry *e = cotp__reg_entry_new(self, value);
  struct reg_prec *owner = e && (k || spare) ? cotp__reg_prec(p, self, true) : NULL;
  int rc = owner ? 0 : COTP_ENOMEM;
  if (rc == 0) {
    struct reg_knode *node = k ? k : spare;
    struct reg_knode *use = node;
    reg_wrlock(&s->lock);
    rc = cotp__reg_add(p, s, hash, &use, e, owner);
    reg_wrunlock(&s->lock);
    if (use == NULL)
      spare = NULL; /* the table took it */
  }
  if (rc) {
    cotp__reg_entry_free(e);
    if (owner && owner->count == 0)
      cotp__reg_prec_drop(p, owner); /* made for nothing */
  }
  cotp__reg_knode_free(spare);
  return rc;
}

int cotp_registry_register(cotp_registry *reg, cotp_term key, cotp_term value,
                           cotp_pid *owner) {
  int rc = check_call(reg, key);
  if (rc || cotp_is_none(value))
    return rc ? rc : COTP_EINVAL;
  cotp_pid self = cotp_self();
  uint32_t hash = cotp__reg_hash(key);
  struct reg_partition *p = &reg->parts[partition_for(reg, hash, self)];
  struct graveyard g = {NULL, NULL};
  cotp_pid holder = {0};
  pthread_mutex_lock(&p->wlock);
  bool linked = cotp__reg_prec(p, self, false) != NULL;
  if (!linked) {
    pthread_mutex_unlock(&p->wlock);
    /* L6: link first, so that an entry never exists without the link
     * that will clean it up; the link is a call into the runtime, so no
     * lock is held across it.  (A caller with entries here is linked
     * already, and only it can remove them while it lives: it adds in
     * the same hold of the lock.) */
    if (!cotp_pid_eq(self, p->parent) && cotp_link(p->pid) != 0)
      return COTP_ENOPROC;
    pthread_mutex_lock(&p->wlock);
  }
  rc = add_locked(reg, p, hash, key, value, self, &holder, &g);
  bool left = cotp__reg_prec(p, self, false) != NULL;
  pthread_mutex_unlock(&p->wlock);
  graveyard_free(&g);
  if (rc && !linked && !left && !cotp_pid_eq(self, p->parent))
    cotp_unlink(p->pid);
  if (rc == COTP_EEXIST) {
    if (owner)
      *owner = holder;
    return rc;
  }
  if (rc)
    return rc;
  if (owner)
    *owner = p->pid;
  if (cotp_is_cons(reg->listeners)) {
    cotp_heap *h = cotp_self_heap();
    cotp__reg_notify(reg, COTP_TUPLE(h, cotp_atom("register"), reg->name, key,
                                     cotp_pid_term(self), value));
  }
  return 0;
}

/* Removes the caller's entries under key that ms accepts (all of them
 * when ms is NULL), and frees ms.  Returns 0 or a check's code. */
static int unregister_where(cotp_registry *reg, cotp_term key,
                            cotp_match_spec *ms) {
  cotp_pid self = cotp_self();
  uint32_t hash = cotp__reg_hash(key);
  struct reg_partition *p = &reg->parts[partition_for(reg, hash, self)];
  struct graveyard g = {NULL, NULL};
  pthread_mutex_lock(&p->wlock);
  struct reg_knode *k = cotp__reg_find(cotp__reg_shard(p, hash), hash, key);
  for (struct reg_entry *e = k ? k->first : NULL, *next; e; e = next) {
    next = e->knext; /* read before bury: a removal may free the node's
                        links only after the locks, so next stays valid */
    if (cotp_pid_eq(e->pid, self) &&
        (!ms || cotp_match_spec_run(ms, e->value, COTP_NONE, NULL, NULL) == 1))
      bury(&g, p, e);
  }
  bool removed = g.entries != NULL;
  bool left = cotp__reg_prec(p, self, false) != NULL;
  pthread_mutex_unlock(&p->wlock);
  graveyard_free(&g);
  /* before the unlink, which acts on a pending kill: a caller killed
   * there leaks nothing */
  cotp_match_spec_free(ms);
  if (removed && !left && !cotp_pid_eq(self, p->parent))
    cotp_unlink(p->pid); /* L6: nothing left in that partition */
  return 0;
}

int cotp_registry_unregister(cotp_registry *reg, cotp_term key) {
  int rc = check_call(reg, key);
  if (rc)
    return rc;
  unregister_where(reg, key, NULL);
  if (cotp_is_cons(reg->listeners)) {
    cotp_heap *h = cotp_self_heap();
    cotp__reg_notify(reg, COTP_TUPLE(h, cotp_atom("unregister"), reg->name, key,
                                     cotp_pid_term(cotp_self())));
  }
  return 0;
}

int cotp_registry_unregister_match(cotp_registry *reg, cotp_term key,
                                   cotp_term pattern, cotp_term guards) {
  int rc = check_call(reg, key);
  if (rc || cotp_is_none(pattern))
    return rc ? rc : COTP_EINVAL;
  cotp_match_spec *ms;
  rc = cotp_match_spec_compile_clause(pattern, cotp_is_none(guards) ? COTP_NIL : guards,
                                      COTP_NONE, &ms, NULL);
  if (rc)
    return rc;
  unregister_where(reg, key, ms); /* frees ms */
  if (cotp_is_cons(reg->listeners)) { /* as Elixir: even when none matched */
    cotp_heap *h = cotp_self_heap();
    cotp__reg_notify(reg, COTP_TUPLE(h, cotp_atom("unregister"), reg->name, key,
                                     cotp_pid_term(cotp_self())));
  }
  return 0;
}

int cotp_registry_update_value(cotp_registry *reg, cotp_term key,
                               cotp_registry_update_fn *fn, void *ctx,
                               cotp_term *new_value, cotp_term *old_value) {
  int rc = check_call(reg, key);
  if (rc || !fn || reg->keys != COTP_REGISTRY_UNIQUE)
    return rc ? rc : COTP_EINVAL; /* L13: unsupported on duplicates */
  cotp_heap *h = cotp_self_heap();
  cotp_pid self = cotp_self();
  uint32_t hash = cotp__reg_hash(key);
  struct reg_partition *p = &reg->parts[cotp__reg_hash_partition(reg, hash)];
  struct reg_shard *s = cotp__reg_shard(p, hash);
  pthread_mutex_lock(&p->wlock);
  struct reg_knode *k = cotp__reg_find(s, hash, key);
  cotp_term old = COTP_NONE;
  if (k && cotp_pid_eq(k->first->pid, self))
    old = cotp_term_copy(h, k->first->value);
  pthread_mutex_unlock(&p->wlock);
  if (!k || !cotp_pid_eq(k->first->pid, self))
    return COTP_ENOTFOUND;
  if (cotp_is_none(old))
    return COTP_ENOMEM;
  /* fn is the caller's code: it runs with no lock held (lock 3).  The
   * entry stays the caller's meanwhile (invariant 5). */
  cotp_term nv = fn(old, ctx);
  if (cotp_is_none(nv))
    return COTP_EINVAL;
  struct reg_entry *tmp = cotp__reg_entry_new(self, nv);
  if (!tmp)
    return COTP_ENOMEM;
  pthread_mutex_lock(&p->wlock);
  k = cotp__reg_find(s, hash, key);
  if (k && cotp_pid_eq(k->first->pid, self)) {
    struct reg_entry *e = k->first;
    reg_wrlock(&s->lock);
    cotp_term v = e->value;
    cotp_heap *vh = e->heap;
    e->value = tmp->value;
    e->heap = tmp->heap;
    tmp->value = v;
    tmp->heap = vh;
    reg_wrunlock(&s->lock);
  } else {
    rc = COTP_ENOTFOUND;
  }
  pthread_mutex_unlock(&p->wlock);
  cotp__reg_entry_free(tmp); /* the old value, or the unused new one */
  if (rc)
    return rc;
  if (new_value)
    *new_value = nv;
  if (old_value)
    *old_value = old;
  return 0;
}

/* --- lookup --- */

/* Conses the entries under key in partition p onto tail, in registration
 * order, copying values into h.  NONE when h is full. */
cotp_term cotp__reg_part_entries(struct reg_partition *p, uint32_t hash,
                                 cotp_term key, cotp_heap *h, cotp_term tail) {
  struct reg_shard *s = cotp__reg_shard(p, hash);
  unsigned slot = reg_rdlock(&s->lock);
  struct reg_knode *k = cotp__reg_find(s, hash, key);
  for (struct reg_entry *e = k ? k->last : NULL; e && !cotp_is_none(tail); e = e->kprev) {
    cotp_term v = cotp_term_copy(h, e->value);
    tail = cotp_cons(h, COTP_TUPLE(h, cotp_pid_term(e->pid), v), tail);
  }
  reg_rdunlock(&s->lock, slot);
  return tail;
}

cotp_term cotp_registry_lookup(cotp_registry *reg, cotp_term key) {
  cotp_heap *h = cotp_self_heap();
  if (!reg || !h || cotp_is_none(key) || !cotp__reg_alive(reg))
    return COTP_NONE;
  uint32_t hash = cotp__reg_hash(key);
  if (reg->keys != COTP_REGISTRY_DUPLICATE) {
    /* a unique key's holder that has begun to exit is not shown, though
     * its partition removes the entry a little later (L5), as Elixir's
     * lookup checks Process.alive? */
    cotp_term l = cotp__reg_part_entries(
        &reg->parts[cotp__reg_hash_partition(reg, hash)], hash, key, h, COTP_NIL);
    if (cotp_is_cons(l) &&
        !cotp_is_alive_now(cotp_get_pid(cotp_tuple_get(cotp_head(l), 0))))
      return COTP_NIL;
    return l;
  }
  cotp_term list = COTP_NIL;
  for (unsigned i = reg->n; i-- > 0;)
    list = cotp__reg_part_entries(&reg->parts[i], hash, key, h, list);
  return list;
}

int cotp_registry_lookup_pid(cotp_registry *reg, cotp_term key,
                             cotp_pid *pid) {
  if (!reg || !pid || cotp_is_none(key))
    return COTP_EINVAL;
  if (!cotp__reg_alive(reg))
    return COTP_ENOPROC;
  uint32_t hash = cotp__reg_hash(key);
  unsigned first, last;
  cotp__reg_key_partitions(reg, hash, &first, &last);
  int rc = COTP_ENOTFOUND;
  for (unsigned i = first; i < last && rc; i++) {
    struct reg_shard *s = cotp__reg_shard(&reg->parts[i], hash);
    unsigned slot = reg_rdlock(&s->lock);
    struct reg_knode *k = cotp__reg_find(s, hash, key);
    if (k) {
      *pid = k->first->pid;
      rc = 0;
    }
    reg_rdunlock(&s->lock, slot);
  }
  /* as lookup: a unique holder on its way out is not found */
  if (rc == 0 && reg->keys != COTP_REGISTRY_DUPLICATE && !cotp_is_alive_now(*pid))
    rc = COTP_ENOTFOUND;
  return rc;
}
