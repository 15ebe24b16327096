/* SPDX-License-Identifier: Apache-2.0 */
/*
 * partition_sup.c: PartitionSupervisor, a Supervisor of one child per
 * partition, and the via module that routes {name, key} to a partition.
 *
 * Routing must not cost a call to the supervisor, so the current pid of
 * every partition is kept in a table by name (Elixir keeps it in an ETS
 * table): each partition is started through a wrapper start function that
 * runs the real start and records the pid it returns, on the first start
 * and on every restart.  The table is program-wide, behind one mutex; an
 * entry stays after its supervisor stops and is recognised as stale
 * because the name no longer names that supervisor (K6, K7).
 *
 * Each start fills routes of its own (a resource its child specs hold), and
 * the entry points at those of the supervisor that holds the name.  Two
 * starts of one name may run at once, and only the registration of the
 * name decides which one wins: the loser must not touch the winner's
 * routes.  So the routes are published by the supervisor itself, from the
 * wrapper start, once it sees that the name is its own.
 *
 * As a child of another supervisor (cotp_partition_supervisor_child_spec)
 * the options travel in the spec's arguments as terms, the child spec as
 * its map, and are read back into options by the start function.
 *
 * Limits: O(number of partition supervisors) per lookup, fine for the
 * handful a program has; no resize! (K8).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sup_impl.h"

/* The pid of each partition of one supervisor, filled as they start. */
struct routes {
  unsigned n;
  cotp_pid pids[];
};

struct entry {
  const cotp_via *via;  /* NULL: name is a registered atom */
  cotp_term name;       /* in heap when it is not an immediate */
  cotp_heap *heap;
  cotp_pid sup;         /* the supervisor that published routes */
  cotp_resource *owned; /* its struct routes (a reference), or NULL */
  struct entry *next;
};

/* The routes e's supervisor published, or NULL. */
static const struct routes *routes_of(const struct entry *e) {
  return e->owned ? cotp_resource_object(e->owned) : NULL;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *entries;

static struct entry *find(const cotp_via *via, cotp_term name) {
  for (struct entry *e = entries; e; e = e->next)
    if (e->via == via && cotp_term_eq(e->name, name))
      return e;
  return NULL;
}

/* The atom a via module's names go by in terms: {:via, Module, name}. */
static cotp_term via_atom(const cotp_via *via) {
  return cotp_atom(via->name ? via->name : "undefined");
}

/* The entry a supervisor name in term form names: an atom, or
 * {:via, Module, name} (as cotp_partition_supervisor_opts documents). */
static struct entry *find_term(cotp_term t) {
  if (cotp_is_atom(t))
    return find(NULL, t);
  if (cotp_tuple_size(t) != 3 || cotp_tuple_get(t, 0).w != COTP_ATOM_VIA.w)
    return NULL;
  cotp_term module = cotp_tuple_get(t, 1), name = cotp_tuple_get(t, 2);
  for (struct entry *e = entries; e; e = e->next)
    if (e->via && via_atom(e->via).w == module.w && cotp_term_eq(e->name, name))
      return e;
  return NULL;
}

unsigned cotp_partition_for_key(cotp_term key, unsigned n) {
  if (n == 0)
    return 0;
  int64_t v;
  if (cotp_get_int(key, &v) == 0) {
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    return (unsigned)(a % n);
  }
  return cotp_term_phash2_range(key, n);
}

/* Whether sup is still the process e's name names.  Called unlocked: a
 * via module's whereis is the user's code.  Entries are never freed and
 * their names never change, so e may be read after the lock is let go. */
static bool live(const struct entry *e, cotp_pid sup) {
  cotp_name name = e->via ? cotp_name_via(e->via, e->name) : cotp_name_local(e->name);
  cotp_pid now;
  return sup.bits && cotp_name_whereis(&name, &now) == 0 && now.bits == sup.bits;
}

int cotp_partition_supervisor_partitions(cotp_term name, unsigned *n) {
  pthread_mutex_lock(&lock);
  struct entry *e = find_term(name);
  cotp_pid sup = e ? e->sup : (cotp_pid){0};
  unsigned count = e && routes_of(e) ? routes_of(e)->n : 0;
  pthread_mutex_unlock(&lock);
  if (!e || !live(e, sup))
    return COTP_ENOPROC;
  if (n)
    *n = count;
  return 0;
}

/* --- the via module --- */

static int via_whereis(void *ctx, cotp_term t, cotp_pid *pid) {
  (void)ctx;
  if (cotp_tuple_size(t) != 2)
    return COTP_ENOTFOUND;
  pthread_mutex_lock(&lock);
  struct entry *e = find_term(cotp_tuple_get(t, 0));
  cotp_pid sup = {0}, got = {0};
  const struct routes *r = e ? routes_of(e) : NULL;
  if (r) {
    sup = e->sup;
    got = r->pids[cotp_partition_for_key(cotp_tuple_get(t, 1), r->n)];
  }
  pthread_mutex_unlock(&lock);
  if (!got.bits || !live(e, sup))
    return COTP_ENOTFOUND;
  *pid = got;
  return 0;
}

static int via_register(void *ctx, cotp_term name, cotp_pid pid) {
  (void)ctx;
  (void)name;
  (void)pid;
  return COTP_EINVAL;
}

static int via_unregister(void *ctx, cotp_term name) {
  (void)ctx;
  (void)name;
  return COTP_EINVAL;
}

const cotp_via cotp_partition_supervisor_via = {
    "PartitionSupervisor", NULL, via_register, via_unregister, via_whereis,
    NULL};

/* The first n elements of the list args (a start's arguments, which this
 * file builds itself) into a. */
static void args_take(cotp_term args, cotp_term *a, size_t n) {
  for (size_t i = 0; i < n; i++, args = cotp_tail(args))
    a[i] = cotp_head(args);
}

/* --- the wrapper start: [name, index, start, via, routes] --- */

/* Makes r (held by the caller) the routes of e, if the caller, a
 * supervisor starting a partition, is the one e's name names: a start that
 * lost the name to another never gets this far (its registration failed
 * before any partition started), but a supervisor whose name was taken
 * from it may still be restarting partitions. */
static void publish(struct entry *e, cotp_resource *r) {
  pthread_mutex_lock(&lock);
  bool done = e->owned == r;
  pthread_mutex_unlock(&lock);
  if (done)
    return;
  cotp_pid me = cotp_self();
  if (!live(e, me))
    return;
  /* Only the holder of the name gets here, and it is this process, busy
   * starting a partition, so the name stays its own meanwhile unless
   * another process unregisters it (which nothing in a supervision tree
   * does to a supervisor's name). */
  cotp_resource_retain(r);
  pthread_mutex_lock(&lock);
  cotp_resource *old = e->owned;
  e->owned = r;
  e->sup = me;
  pthread_mutex_unlock(&lock);
  if (old)
    cotp_resource_release(old);
}

static cotp_term start_partition(cotp_term args, void *ctx) {
  (void)ctx;
  cotp_heap *h = cotp_self_heap();
  cotp_term a[5];
  args_take(args, a, 5);
  cotp_term name = a[0];
  int64_t index = cotp_int_value(a[1]);
  cotp_term start = a[2];
  const cotp_via *via = (const cotp_via *)(uintptr_t)cotp_int_value(a[3]);
  cotp_resource *res = cotp_get_resource(a[4]);
  struct routes *routes = cotp_resource_object(res);
  struct child c;
  memset(&c, 0, sizeof c);
  cotp__sup_spec_fields(
      cotp_map(h, 2, (cotp_term[]){COTP_ATOM(id), COTP_ATOM(start)},
               (cotp_term[]){COTP_ATOM(x), start}),
      &c);
  cotp_term r = cotp__sup_call_start(&c);
  if (cotp_tuple_size(r) >= 2 && cotp_tuple_get(r, 0).w == COTP_ATOM_OK.w &&
      cotp_is_pid(cotp_tuple_get(r, 1)) && index >= 0 &&
      (uint64_t)index < routes->n) {
    pthread_mutex_lock(&lock);
    routes->pids[index] = cotp_get_pid(cotp_tuple_get(r, 1));
    struct entry *e = find(via, name);
    pthread_mutex_unlock(&lock);
    if (e)
      publish(e, res);
  }
  return r;
}

static int bad(cotp_error *err, const char *msg) {
  if (err) {
    err->code = COTP_EINVAL;
    err->offset = -1;
    strncpy(err->message, msg, sizeof err->message - 1);
    err->message[sizeof err->message - 1] = '\0';
  }
  return COTP_EINVAL;
}

int cotp_partition_supervisor_start_link(
    const cotp_partition_supervisor_opts *opts, cotp_pid *pid,
    cotp_term *reason, cotp_error *err) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  if (!opts || (!opts->via && (!cotp_is_atom(opts->name) ||
                                opts->name.w == COTP_ATOM_NIL.w)))
    return bad(err, "PartitionSupervisor: the :name option is required (an atom)");
  if (opts->via && (!opts->via->register_name || !opts->via->whereis ||
                    cotp_is_none(opts->name)))
    return bad(err, "PartitionSupervisor: a :via name needs a term and a via "
                    "module that registers and looks up");
  if (!opts->child.start && cotp_is_none(opts->child.module))
    return bad(err, "PartitionSupervisor: the :child_spec option is required");
  /* 0 is the default, not an error as in Elixir: a C struct cannot leave
   * the option out */
  if (opts->partitions < 0 || opts->partitions > 65536) {
    char msg[120];
    snprintf(msg, sizeof msg,
             "PartitionSupervisor: :partitions must be a positive integer "
             "(at most 65536; 0: one per scheduler), got: %d",
             opts->partitions);
    return bad(err, msg);
  }
  unsigned n = opts->partitions ? (unsigned)opts->partitions : cotp_schedulers_online();
  if (n == 0 || n > 65536)
    return bad(err, "PartitionSupervisor: :partitions must be a positive integer");
  struct routes *routes = calloc(1, sizeof *routes + n * sizeof routes->pids[0]);
  cotp_resource *routes_res = routes ? cotp_resource_new(routes, free) : NULL;
  cotp_term routes_term = routes_res ? cotp_resource_term(h, routes_res) : COTP_NONE;
  if (routes_res)
    cotp_resource_release(routes_res); /* the heap's reference remains, if any */
  else
    free(routes);
  struct entry *fresh = calloc(1, sizeof *fresh);
  cotp_child_spec *specs = calloc(n, sizeof *specs);
  /* The specs are needed until the supervisor has started, and the caller
   * may be killed while it waits for that: a resource in the caller's
   * heap owns them, so they go with the heap however the caller ends (a
   * killed process leaks nothing). */
  cotp_resource *owner = specs ? cotp_resource_new(specs, free) : NULL;
  if (owner && cotp_is_none(cotp_resource_term(h, owner))) {
    cotp_resource_release(owner); /* frees specs */
    specs = NULL;
    owner = NULL;
  }
  if (owner)
    cotp_resource_release(owner); /* the heap's reference remains */
  else
    free(specs);
  if (cotp_is_none(routes_term) || !fresh || !owner) {
    free(fresh);
    return COTP_ENOMEM;
  }
  routes->n = n;
  /* a via name is any term: the entry keeps a copy */
  cotp_term name = opts->name;
  if (opts->via && !cotp_is_atom(name) && !cotp_is_integer(name)) {
    if (cotp_term_keep(name, &name, &fresh->heap) != 0) {
      free(fresh);
      return COTP_ENOMEM;
    }
  }
  /* the table entry first: partitions publish their routes in it */
  pthread_mutex_lock(&lock);
  struct entry *e = find(opts->via, opts->name);
  cotp_pid other = e ? e->sup : (cotp_pid){0};
  pthread_mutex_unlock(&lock);
  if (e && live(e, other)) {
    cotp_heap_free(fresh->heap);
    free(fresh);
    if (reason)
      *reason = COTP_TUPLE(h, COTP_ATOM_ALREADY_STARTED, cotp_pid_term(other));
    return COTP_SUPERVISOR_ERROR;
  }
  pthread_mutex_lock(&lock);
  if (!(e = find(opts->via, opts->name))) {
    e = fresh;
    fresh = NULL;
    e->via = opts->via;
    e->name = name;
    e->next = entries;
    entries = e;
  }
  pthread_mutex_unlock(&lock);
  if (fresh)
    cotp_heap_free(fresh->heap);
  free(fresh);

  cotp_child_spec base = opts->child;
  cotp_term args = cotp_is_none(base.args) ? COTP_NIL : base.args;
  for (unsigned i = 0; i < n; i++) {
    cotp_term a = opts->with_arguments
                      ? opts->with_arguments(args, i, opts->with_arguments_ctx)
                      : args;
    cotp_term start = base.start ? cotp__sup_start_term(h, base.start, base.ctx, a)
                                 : COTP_TUPLE(h, base.module, base.function, a);
    specs[i] = base;
    specs[i].id = cotp_int(h, i);
    specs[i].start = start_partition;
    specs[i].ctx = NULL;
    specs[i].args = COTP_LIST(h, e->name, cotp_int(h, i), start,
                              cotp_uint(h, (uint64_t)(uintptr_t)opts->via), routes_term);
    if (cotp_is_none(base.modules))
      specs[i].modules = base.start ? COTP_NIL : COTP_LIST(h, base.module);
  }
  cotp_supervisor_flags f = COTP_SUPERVISOR_FLAGS_INIT;
  f.max_restarts = opts->max_restarts;
  f.max_seconds = opts->max_seconds;
  cotp_supervisor_opts so = COTP_SUPERVISOR_OPTS_INIT;
  so.name = opts->via ? cotp_name_via(opts->via, e->name) : cotp_name_local(opts->name);
  so.spawn = opts->spawn;
  cotp_pid sup = {0};
  int rc = cotp_supervisor_start_link_children(specs, n, &f, &so, &sup, reason);
  if (rc == 0 && pid)
    *pid = sup;
  return rc;
}

/* --- as a child of another supervisor (K1) --- */

/* args: [name, partitions, child spec map | nil, with_arguments,
 * with_arguments_ctx, max_restarts, max_seconds, priority, stack_size,
 * via], the addresses as integers.  Runs in the parent supervisor. */
static cotp_term start_as_child(cotp_term args, void *ctx) {
  (void)ctx;
  cotp_heap *h = cotp_self_heap();
  cotp_term a[10];
  args_take(args, a, 10);
  cotp_partition_supervisor_opts o = COTP_PARTITION_SUPERVISOR_OPTS_INIT;
  o.name = a[0];
  o.partitions = (int)cotp_int_value(a[1]);
  if (cotp_is_map(a[2]) && !cotp_is_none(cotp_map_get(a[2], COTP_ATOM(start)))) {
    struct child c;
    memset(&c, 0, sizeof c);
    cotp__sup_spec_fields(a[2], &c);
    o.child.id = c.id;
    o.child.start = c.cfn;
    o.child.ctx = c.ctx;
    o.child.module = c.module;
    o.child.function = c.function;
    o.child.args = c.args;
    o.child.restart = c.restart;
    o.child.shutdown = c.shutdown;
    o.child.type = c.type;
    o.child.modules = c.modules;
    o.child.significant = c.significant;
  }
  o.with_arguments = (cotp_partition_args_fn *)(uintptr_t)cotp_int_value(a[3]);
  o.with_arguments_ctx = (void *)(uintptr_t)cotp_int_value(a[4]);
  o.max_restarts = (int)cotp_int_value(a[5]);
  o.max_seconds = (int)cotp_int_value(a[6]);
  o.spawn.priority = (cotp_priority)cotp_int_value(a[7]);
  o.spawn.stack_size = (size_t)cotp_int_value(a[8]);
  o.via = (const cotp_via *)(uintptr_t)cotp_int_value(a[9]);
  cotp_pid pid = {0};
  cotp_term reason = COTP_NONE;
  cotp_error err;
  memset(&err, 0, sizeof err);
  int rc = cotp_partition_supervisor_start_link(&o, &pid, &reason, &err);
  if (rc == 0)
    return COTP_TUPLE(h, COTP_ATOM_OK, cotp_pid_term(pid));
  if (rc == COTP_SUPERVISOR_IGNORE)
    return COTP_ATOM_IGNORE;
  if (rc == COTP_EINVAL)
    reason = COTP_TUPLE(h, COTP_ATOM(badarg), cotp_string(h, err.message));
  else if (rc < 0 || cotp_is_none(reason))
    reason = cotp_atom(cotp_err_name(rc));
  return COTP_TUPLE(h, COTP_ATOM_ERROR, reason);
}

cotp_child_spec cotp_partition_supervisor_child_spec(
    const cotp_partition_supervisor_opts *opts) {
  cotp_child_spec s = COTP_CHILD_SPEC_INIT;
  cotp_heap *h = cotp_self_heap();
  if (!h || !opts)
    return s; /* no id, no start: rejected where it is used */
  cotp_term child = opts->child.start || !cotp_is_none(opts->child.module)
                        ? cotp_child_spec_term(h, &opts->child)
                        : COTP_ATOM_NIL;
  s.id = opts->name;
  s.start = start_as_child;
  s.args = COTP_LIST(
      h, opts->name, cotp_int(h, opts->partitions), child,
      cotp_uint(h, (uint64_t)(uintptr_t)opts->with_arguments),
      cotp_uint(h, (uint64_t)(uintptr_t)opts->with_arguments_ctx),
      cotp_int(h, opts->max_restarts), cotp_int(h, opts->max_seconds),
      cotp_int(h, (int64_t)opts->spawn.priority),
      cotp_uint(h, (uint64_t)opts->spawn.stack_size),
      cotp_uint(h, (uint64_t)(uintptr_t)opts->via));
  s.type = COTP_SUPERVISOR;
  s.modules = COTP_LIST(h, cotp_atom("Elixir.PartitionSupervisor"));
  return s;
}
