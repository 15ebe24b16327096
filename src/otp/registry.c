/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry.c: a Registry's life: starting its partition processes, the
 * handles users hold, the table of registries by name, stopping, the
 * metadata, listeners and the `via` module.  The table is in
 * registry_table.c, the operations on entries in registry_ops.c and
 * registry_query.c.
 *
 * Processes.  Each partition is a handler process that traps exits.  The
 * starter spawns partition 0 linked to itself and sends it an init
 * message; partition 0 spawns the other partitions linked to itself,
 * waits for each to have trapped exits, registers the registry's name and
 * answers the starter.  A partition that gets the EXIT of its parent (the
 * starter for partition 0, partition 0 for the others), or of a sibling
 * partition, exits with the same reason; the EXIT of anything else is a
 * registered process's, whose entries it removes.
 *
 * Invariants:
 *  1. The registry struct is owned by a resource.  Every handle is a
 *     reference to it; so is the init message of each partition (so a
 *     partition killed before it handled its init message lets go of it
 *     with its mailbox), and each partition takes one of its own at init
 *     and gives it back in a cleanup (cotp_on_exit), kill included.  The
 *     struct and the whole table go with the last reference.
 *  2. The name table maps each name to at most one registry whose first
 *     partition is alive; a start finding the name held by a dead one
 *     takes it over (its cleanup may not have run yet).
 *  3. `alive` goes false, once, in partition 0's cleanup; operations check
 *     it (Elixir's "unknown registry") but a stale true is harmless: the
 *     table stays valid while any handle exists.
 */
#include <stdlib.h>
#include <string.h>

#include "registry_impl.h"

/* --- the struct and its owner --- */

/* The resource is kept just before the struct so that a handle is the
 * struct itself and a reference is one pointer away. */
struct owned {
  cotp_resource *res;
  cotp_registry reg;
};

static cotp_resource *res_of(cotp_registry *r) {
  return ((struct owned *)((char *)r - offsetof(struct owned, reg)))->res;
}

static void names_drop(cotp_registry *r);

static void owned_free(void *object) {
  struct owned *o = object;
  cotp_registry *r = &o->reg;
  /* partition 0's cleanup drops the name; a partition 0 that never ran
   * its init (killed, or the runtime stopped, after its starter died)
   * left it to the last reference */
  names_drop(r);
  cotp__reg_tables_close(r);
  cotp_heap_free(r->heap);
  cotp_heap_free(r->meta_heap);
  pthread_mutex_destroy(&r->meta_lock);
  free(o);
}

void cotp_registry_release(cotp_registry *reg) {
  if (reg)
    cotp_resource_release(res_of(reg));
}

static void retain(cotp_registry *r) { cotp_resource_retain(res_of(r)); }

static void release_cleanup(void *r) { cotp_registry_release(r); }

bool cotp__reg_alive(const cotp_registry *r) {
  return atomic_load_explicit(&r->alive, memory_order_acquire); /* partner:
    the release store in first_gone */
}

cotp_term cotp_registry_name(const cotp_registry *reg) {
  return reg ? reg->name : COTP_NONE;
}
cotp_registry_key_kind cotp_registry_kind(const cotp_registry *reg) {
  return reg ? reg->keys : COTP_REGISTRY_UNIQUE;
}
unsigned cotp_registry_partitions(const cotp_registry *reg) {
  return reg ? reg->n : 0;
}
int cotp_registry_partition_pid(const cotp_registry *reg, unsigned i,
                                cotp_pid *pid) {
  if (!reg || !pid)
    return COTP_EINVAL;
  if (i >= reg->n)
    return COTP_ENOTFOUND;
  *pid = reg->parts[i].pid;
  return 0;
}

/* --- registries by name (invariant 2) --- */

static pthread_rwlock_t names_lock = PTHREAD_RWLOCK_INITIALIZER;
static cotp_registry **names;
static size_t nnames, names_cap;

static bool running(const cotp_registry *r) {
  /* called under names_lock: a check that never waits */
  return cotp__reg_alive(r) && cotp_is_alive_now(r->parts[0].pid);
}

cotp_registry *cotp__reg_find_name(cotp_term name) {
  cotp_registry *found = NULL;
  pthread_rwlock_rdlock(&names_lock);
  for (size_t i = 0; i < nnames; i++) {
    if (names[i]->name.w == name.w && running(names[i])) {
      found = names[i];
      retain(found);
      break;
    }
  }
  pthread_rwlock_unlock(&names_lock);
  return found;
}

cotp_registry *cotp_registry_get(cotp_term name) {
  return cotp_is_atom(name) ? cotp__reg_find_name(name) : NULL;
}

/* Claims name for r; COTP_EEXIST with *other when a running registry has
 * it. */
static int names_claim(cotp_registry *r, cotp_pid *other) {
  int rc = 0;
  pthread_rwlock_wrlock(&names_lock);
  size_t i = 0;
  for (; i < nnames; i++)
    if (names[i]->name.w == r->name.w)
      break;
  if (i < nnames && running(names[i])) {
    *other = names[i]->parts[0].pid;
    rc = COTP_EEXIST;
  } else if (i < nnames) {
    names[i] = r; /* a dead registry's: its cleanup will not find it */
  } else if (nnames == names_cap) {
    size_t cap = names_cap ? names_cap * 2 : 8;
    cotp_registry **n = realloc(names, cap * sizeof *n);
    if (!n) {
      rc = COTP_ENOMEM;
    } else {
      names = n;
      names_cap = cap;
    }
  }
  if (rc == 0 && i == nnames)
    names[nnames++] = r;
  pthread_rwlock_unlock(&names_lock);
  return rc;
}

static void names_drop(cotp_registry *r) {
  pthread_rwlock_wrlock(&names_lock);
  for (size_t i = 0; i < nnames; i++) {
    if (names[i] == r) {
      names[i] = names[--nnames];
      break;
    }
  }
  if (nnames == 0) { /* the last one: nothing left for a leak check */
    free(names);
    names = NULL;
    names_cap = 0;
  }
  pthread_rwlock_unlock(&names_lock);
}

/* Partition 0's cleanup: the registry is gone (invariant 3). */
static void first_gone(void *arg) {
  cotp_registry *r = arg;
  atomic_store_explicit(&r->alive, false, memory_order_release);
  names_drop(r);
  cotp_registry_release(r);
}

/* --- the partition processes --- */

#define A_INIT "$registry_init"
#define A_STOP "$registry_stop"

static bool is_reply_to(cotp_term msg, void *ctx) {
  cotp_term ref = *(const cotp_term *)ctx;
  if (cotp_tuple_size(msg) == 2 && cotp_tuple_get(msg, 0).w == ref.w)
    return true;
  return cotp_tuple_size(msg) == 5 && cotp_tuple_get(msg, 0).w == COTP_ATOM_DOWN.w &&
         cotp_tuple_get(msg, 1).w == ref.w;
}

struct ack_wait {
  cotp_term ref;
  cotp_pid pid;
};

static bool is_ack_or_exit(cotp_term msg, void *ctx) {
  const struct ack_wait *w = ctx;
  if (cotp_tuple_size(msg) == 2 && cotp_tuple_get(msg, 0).w == w->ref.w)
    return true;
  return cotp_tuple_size(msg) == 3 && cotp_tuple_get(msg, 0).w == COTP_ATOM_EXIT.w &&
         cotp_pid_eq(cotp_get_pid(cotp_tuple_get(msg, 1)), w->pid);
}

static bool partition_handle(void *state, cotp_term msg);

/* Spawns partition i and sends it its init message (which holds a
 * reference to r).  The handler's state is the partition struct, which
 * lives as long as r.  The partition links itself to its parent (the
 * caller) at init: cotp_spawn_handler takes no link option.  Returns 0 or
 * a spawn's code. */
static int spawn_partition(cotp_registry *r, unsigned i, cotp_term ref) {
  struct reg_partition *p = &r->parts[i];
  p->reg = r;
  p->index = i;
  p->parent = cotp_self();
  int rc = cotp_spawn_handler(partition_handle, p, NULL, &p->pid);
  if (rc)
    return rc;
  cotp_heap *h = cotp_self_heap();
  retain(r);
  cotp_resource *res = res_of(r);
  cotp_term msg = COTP_TUPLE(h, cotp_atom(A_INIT), cotp_resource_term(h, res), ref,
                             cotp_pid_term(cotp_self()));
  cotp_resource_release(res); /* the message holds it now */
  if (cotp_is_none(msg))
    return COTP_ENOMEM;
  return cotp_send(p->pid, msg);
}

static cotp_term errterm(int rc) {
  return cotp_atom(rc == COTP_EEXIST ? "eexist" : rc == COTP_ENOMEM ? "enomem" : "error");
}

/* Partition i's init: take a reference, trap exits; partition 0 also
 * starts the others and registers the name.  Answers {ref, :ok} or
 * {ref, {:error, code}} to the starter. */
static bool partition_init(struct reg_partition *st, cotp_term msg) {
  cotp_heap *h = cotp_self_heap();
  cotp_resource *res = cotp_get_resource(cotp_tuple_get(msg, 1));
  cotp_term ref = cotp_tuple_get(msg, 2);
  cotp_pid starter = cotp_get_pid(cotp_tuple_get(msg, 3));
  cotp_registry *r = st->reg;
  cotp_resource_retain(res);
  if (cotp_on_exit(st->index == 0 ? first_gone : release_cleanup, r) != 0) {
    cotp_resource_release(res);
    cotp_send(starter, COTP_TUPLE(h, ref, COTP_TUPLE(h, COTP_ATOM_ERROR, errterm(COTP_ENOMEM))));
    return false;
  }
  /* Linked before trapping exits: a parent that dies from here on takes
   * the partition with it; one already dead makes the link fail. */
  if (cotp_link(st->parent) != 0)
    cotp_exit(COTP_ATOM_NOPROC);
  cotp_trap_exit(true, NULL);
  int rc = 0;
  if (st->index == 0) {
    for (unsigned i = 1; i < r->n && rc == 0; i++) {
      rc = spawn_partition(r, i, ref);
      struct ack_wait w = {ref, r->parts[i].pid};
      cotp_term ack;
      if (rc == 0 && cotp_receive_if(is_ack_or_exit, &w, COTP_INFINITY, 0, &ack) == 0 &&
          cotp_tuple_size(ack) == 3)
        rc = COTP_ENOMEM; /* it exited before it could trap exits */
    }
    if (rc == 0)
      rc = cotp_register(r->name, cotp_self());
  }
  cotp_term answer = rc == 0 ? COTP_ATOM_OK : COTP_TUPLE(h, COTP_ATOM_ERROR, errterm(rc));
  cotp_send(starter, COTP_TUPLE(h, ref, answer));
  if (rc)
    cotp_exit(COTP_ATOM_NORMAL);
  return true;
}

static bool partition_handle(void *state, cotp_term msg) {
  struct reg_partition *st = state;
  cotp_registry *r = st->reg;
  size_t n = cotp_tuple_size(msg);
  cotp_term tag = cotp_tuple_get(msg, 0);
  if (n == 4 && tag.w == cotp_atom(A_INIT).w)
    return partition_init(st, msg);
  if (n == 2 && tag.w == cotp_atom(A_STOP).w && st->index == 0)
    cotp_exit(cotp_tuple_get(msg, 1));
  if (n != 3 || tag.w != COTP_ATOM_EXIT.w)
    return true; /* nothing else is for a partition: dropped */
  cotp_pid from = cotp_get_pid(cotp_tuple_get(msg, 1));
  struct reg_partition *p = st;
  bool sibling = false;
  for (unsigned i = 0; i < r->n && !sibling; i++)
    sibling = i != st->index && cotp_pid_eq(r->parts[i].pid, from);
  if (cotp_pid_eq(from, p->parent) || sibling)
    cotp_exit(cotp_tuple_get(msg, 2));
  cotp__reg_cleanup(p, from);
  return true;
}

/* --- starting and stopping --- */

static int check_opts(const cotp_registry_opts *o) {
  if (!o || !cotp_is_atom(o->name) || o->name.w == COTP_ATOM_NIL.w ||
      o->keys > COTP_REGISTRY_DUPLICATE_KEY || o->partitions > 1024)
    return COTP_EINVAL;
  if (!cotp_is_none(o->listeners)) {
    for (cotp_term l = o->listeners; !cotp_is_nil(l); l = cotp_tail(l))
      if (!cotp_is_cons(l) || !cotp_is_atom(cotp_head(l)))
        return COTP_EINVAL;
  }
  if (!cotp_is_none(o->meta)) {
    for (cotp_term l = o->meta; !cotp_is_nil(l); l = cotp_tail(l)) {
      cotp_term kv = cotp_head(l);
      if (!cotp_is_cons(l) || cotp_tuple_size(kv) != 2)
        return COTP_EINVAL;
      cotp_term k = cotp_tuple_get(kv, 0);
      if (!cotp_is_atom(k) && !cotp_is_tuple(k))
        return COTP_EINVAL;
    }
  }
  return 0;
}

static cotp_registry *reg_new(const cotp_registry_opts *o) {
  struct owned *ow = calloc(1, sizeof *ow);
  if (!ow)
    return NULL;
  cotp_registry *r = &ow->reg;
  r->name = o->name;
  r->keys = o->keys;
  r->n = o->partitions ? o->partitions : 1;
  pthread_mutex_init(&r->meta_lock, NULL);
  r->heap = cotp_heap_new();
  r->meta_heap = cotp_heap_new();
  ow->res = cotp_resource_new(ow, owned_free);
  if (!ow->res) {
    cotp_heap_free(r->heap);
    cotp_heap_free(r->meta_heap);
    free(ow);
    return NULL;
  }
  /* from here on, releasing the resource frees everything */
  if (!r->heap || !r->meta_heap || cotp__reg_tables_init(r) != 0) {
    cotp_resource_release(ow->res);
    return NULL;
  }
  r->listeners = cotp_is_none(o->listeners) ? COTP_NIL
                                            : cotp_term_copy(r->heap, o->listeners);
  r->meta = cotp_map(r->meta_heap, 0, NULL, NULL);
  for (cotp_term l = cotp_is_none(o->meta) ? COTP_NIL : o->meta; cotp_is_cons(l);
       l = cotp_tail(l))
    r->meta = cotp_map_put(r->meta_heap, r->meta, cotp_tuple_get(cotp_head(l), 0),
                           cotp_term_copy(r->meta_heap, cotp_tuple_get(cotp_head(l), 1)));
  if (cotp_is_none(r->listeners) || cotp_is_none(r->meta)) {
    cotp_resource_release(ow->res);
    return NULL;
  }
  atomic_store_explicit(&r->alive, true, memory_order_relaxed);
  return r;
}

int cotp_registry_start_link(const cotp_registry_opts *opts,
                             cotp_registry **reg, cotp_pid *pid) {
  if (reg)
    *reg = NULL;
  int rc = check_opts(opts);
  if (rc)
    return rc;
  if (!cotp_self_heap())
    return COTP_ENOTPROC;
  cotp_registry *r = reg_new(opts);
  if (!r)
    return COTP_ENOMEM;
  /* Until partition 0 answers, the caller's reference lives in its heap:
   * a caller killed while it waits lets go of it with the heap (a killed
   * process leaks nothing).  It is taken back after the wait. */
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  bool held = !cotp_is_none(cotp_resource_term(h, res_of(r)));
  cotp_registry_release(r); /* the heap's reference remains, if held */
  if (!held)
    return COTP_ENOMEM;
  cotp_pid other;
  rc = names_claim(r, &other);
  if (rc) {
    if (rc == COTP_EEXIST && pid)
      *pid = other;
    cotp_heap_release(h, mark); /* frees r */
    return rc;
  }
  cotp_term ref = cotp_make_ref();
  rc = spawn_partition(r, 0, ref);
  cotp_term mon;
  if (rc == 0)
    rc = cotp_monitor(r->parts[0].pid, &mon);
  cotp_term answer;
  if (rc == 0) {
    cotp_receive_if(is_reply_to, &ref, COTP_INFINITY, 0, &answer);
    cotp_demonitor(mon, COTP_DEMONITOR_FLUSH);
    if (cotp_tuple_size(answer) == 5)
      rc = COTP_ENOMEM; /* partition 0 died at init */
    else if (cotp_tuple_get(answer, 1).w != COTP_ATOM_OK.w)
      rc = cotp_tuple_get(cotp_tuple_get(answer, 1), 1).w == cotp_atom("eexist").w
               ? COTP_EEXIST
               : COTP_ENOMEM;
  }
  retain(r); /* the caller's again */
  cotp_heap_release(h, mark);
  if (rc) {
    names_drop(r);
    if (rc == COTP_EEXIST && pid)
      cotp_whereis(r->name, pid);
    cotp_registry_release(r);
    return rc;
  }
  if (pid)
    *pid = r->parts[0].pid;
  if (reg)
    *reg = r;
  else
    cotp_registry_release(r);
  return 0;
}

int cotp_registry_stop(cotp_registry *reg, cotp_term reason) {
  if (!reg || cotp_is_none(reason))
    return COTP_EINVAL;
  if (!cotp_self_heap())
    return COTP_ENOTPROC;
  cotp_pid p0 = reg->parts[0].pid;
  if (!cotp__reg_alive(reg) || !cotp_is_alive(p0))
    return COTP_ENOPROC;
  cotp_term mon;
  int rc = cotp_monitor(p0, &mon);
  if (rc)
    return rc;
  cotp_send(p0, COTP_TUPLE(cotp_self_heap(), cotp_atom(A_STOP), reason));
  cotp_term down;
  cotp_receive_if(is_reply_to, &mon, COTP_INFINITY, 0, &down);
  return cotp_tuple_get(down, 4).w == COTP_ATOM_NOPROC.w ? COTP_ENOPROC : 0;
}

/* --- listeners and metadata --- */

void cotp__reg_notify(cotp_registry *r, cotp_term msg) {
  for (cotp_term l = r->listeners; cotp_is_cons(l); l = cotp_tail(l))
    cotp_send_name(cotp_head(l), msg); /* an unregistered listener: dropped */
}

int cotp_registry_put_meta(cotp_registry *reg, cotp_term key, cotp_term value) {
  if (!reg || (!cotp_is_atom(key) && !cotp_is_tuple(key)) || cotp_is_none(value))
    return COTP_EINVAL;
  if (!cotp__reg_alive(reg))
    return COTP_ENOPROC;
  cotp_heap *h = cotp_heap_new();
  if (!h)
    return COTP_ENOMEM;
  pthread_mutex_lock(&reg->meta_lock);
  cotp_term m = cotp_term_copy(h, cotp_map_put(h, reg->meta, key, value));
  int rc = cotp_is_none(m) ? COTP_ENOMEM : 0;
  if (rc == 0) {
    cotp_heap *old = reg->meta_heap;
    reg->meta_heap = h;
    reg->meta = m;
    h = old;
  }
  pthread_mutex_unlock(&reg->meta_lock);
  cotp_heap_free(h);
  return rc;
}

int cotp_registry_meta(cotp_registry *reg, cotp_term key, cotp_heap *h,
                       cotp_term *value) {
  if (!reg || !h || !value || cotp_is_none(key))
    return COTP_EINVAL;
  if (!cotp__reg_alive(reg))
    return COTP_ENOPROC;
  pthread_mutex_lock(&reg->meta_lock);
  cotp_term v = cotp_map_get(reg->meta, key);
  int rc = cotp_is_none(v) ? COTP_ENOTFOUND : 0;
  if (rc == 0) {
    *value = cotp_term_copy(h, v);
    if (cotp_is_none(*value))
      rc = COTP_ENOMEM;
  }
  pthread_mutex_unlock(&reg->meta_lock);
  return rc;
}

/* --- via: {registry, key} and {registry, key, value} (L9) --- */

/* The registry a via name names (a new handle), or NULL. */
static cotp_registry *via_registry(cotp_term name) {
  size_t n = cotp_tuple_size(name);
  if (n != 2 && n != 3)
    return NULL;
  return cotp_registry_get(cotp_tuple_get(name, 0));
}

static int via_register(void *ctx, cotp_term name, cotp_pid pid) {
  (void)ctx;
  if (!cotp_pid_eq(pid, cotp_self()))
    return COTP_EINVAL; /* only the caller can register itself */
  cotp_registry *r = via_registry(name);
  if (!r)
    return COTP_EINVAL;
  int rc = COTP_EINVAL;
  if (r->keys == COTP_REGISTRY_UNIQUE) {
    cotp_term value = cotp_tuple_size(name) == 3 ? cotp_tuple_get(name, 2) : COTP_ATOM_NIL;
    rc = cotp_registry_register(r, cotp_tuple_get(name, 1), value, NULL);
  }
  cotp_registry_release(r);
  return rc;
}

static int via_unregister(void *ctx, cotp_term name) {
  (void)ctx;
  cotp_registry *r = via_registry(name);
  if (!r)
    return COTP_EINVAL;
  int rc = cotp_registry_unregister(r, cotp_tuple_get(name, 1));
  cotp_registry_release(r);
  return rc;
}

static int via_whereis(void *ctx, cotp_term name, cotp_pid *pid) {
  (void)ctx;
  cotp_registry *r = via_registry(name);
  if (!r)
    return COTP_ENOTFOUND;
  int rc = cotp_registry_lookup_pid(r, cotp_tuple_get(name, 1), pid);
  cotp_registry_release(r);
  return rc == 0 ? 0 : COTP_ENOTFOUND;
}

const cotp_via cotp_registry_via = {
    .name = "Registry",
    .ctx = NULL,
    .register_name = via_register,
    .unregister_name = via_unregister,
    .whereis = via_whereis,
    .send = NULL,
};
