/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mfa.c: C functions callable by name, as Erlang's {Module, Function, Args}.
 *
 * Child specs name the code a supervisor starts, and a remote node names
 * the code it asks this node to run, by module and function atoms; this
 * table maps those pairs to C functions.  It outlives runtimes (functions
 * are registered once, typically at start-up) and is small: an
 * open-addressing table keyed by the atom words, written under a mutex.  The
 * behaviours keep their own kinds of code in it (cotp_register_code): a
 * task function returns a result, a supervisor's start function a pid.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "cotp/process.h"

/*
 * Lookups take no lock: every task start makes one (its entry function is
 * named by module and function).  A writer, under the mutex, fills an
 * empty slot's key before it publishes the function with a release store,
 * and a reader that sees the function (acquire) sees the key.  Entries are
 * never removed, only replaced, so a key once seen stays.  A bigger table
 * is filled completely before it is published; the one it replaces may
 * still be read, so it is kept, on a list, until the process exits.
 */
struct entry {
  uint64_t kind, module, function;
  _Atomic(cotp_code_fn *) fn;
};

struct table {
  size_t n; /* slots: a power of two */
  struct table *older;
  struct entry slots[];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(struct table *) current;
static size_t used; /* under lock */

static size_t slot_of(uint64_t k, uint64_t m, uint64_t f, size_t mask) {
  uint64_t h = (m * 0x9E3779B97F4A7C15ull) ^ (f * 0xC2B2AE3D27D4EB4Full) ^
               (k * 0x165667B19E3779F9ull);
  return (size_t)(h ^ (h >> 31)) & mask;
}

/* The slot for the triple: its entry, or the empty slot it would take,
 * with *fn the function read from it (NULL: empty).  A reader decides on
 * *fn, not on a second read: the empty slot may be filled with another
 * key meanwhile. */
static struct entry *find(struct table *t, uint64_t k, uint64_t m, uint64_t f,
                          cotp_code_fn **fn) {
  for (size_t i = slot_of(k, m, f, t->n - 1);; i = (i + 1) & (t->n - 1)) {
    struct entry *e = &t->slots[i];
    *fn = atomic_load_explicit(&e->fn, memory_order_acquire);
    if (!*fn || (e->kind == k && e->module == m && e->function == f))
      return e;
  }
}

static struct table *grow(struct table *old) {
  size_t n = old ? old->n * 2 : 64;
  struct table *t = calloc(1, sizeof *t + n * sizeof t->slots[0]);
  if (!t)
    return NULL;
  t->n = n;
  t->older = old;
  for (size_t i = 0; old && i < old->n; i++) {
    struct entry *o = &old->slots[i];
    cotp_code_fn *fn = atomic_load_explicit(&o->fn, memory_order_relaxed), *none;
    if (fn) {
      struct entry *e = find(t, o->kind, o->module, o->function, &none);
      *e = (struct entry){o->kind, o->module, o->function, fn};
    }
  }
  atomic_store_explicit(&current, t, memory_order_release);
  return t;
}

int cotp_register_code(cotp_term kind, cotp_term module, cotp_term function,
                       cotp_code_fn *fn) {
  if (!cotp_is_atom(kind) || !cotp_is_atom(module) ||
      !cotp_is_atom(function) || !fn)
    return COTP_EINVAL;
  pthread_mutex_lock(&lock);
  int rc = 0;
  struct table *t = atomic_load_explicit(&current, memory_order_relaxed);
  if ((!t || (used + 1) * 2 > t->n) && !(t = grow(t))) {
    rc = COTP_ENOMEM;
  } else {
    cotp_code_fn *old;
    struct entry *e = find(t, kind.w, module.w, function.w, &old);
    if (!old) {
      used++;
      e->kind = kind.w;
      e->module = module.w;
      e->function = function.w;
    }
    atomic_store_explicit(&e->fn, fn, memory_order_release);
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

cotp_code_fn *cotp_lookup_code(cotp_term kind, cotp_term module,
                               cotp_term function) {
  struct table *t = atomic_load_explicit(&current, memory_order_acquire);
  if (!t)
    return NULL;
  cotp_code_fn *fn;
  find(t, kind.w, module.w, function.w, &fn);
  return fn;
}

/* Processes' functions are the kind :process. */
int cotp_register_function(cotp_term module, cotp_term function,
                           cotp_mfa_fn *fn) {
  return cotp_register_code(COTP_ATOM_PROCESS, module, function,
                            (cotp_code_fn *)fn);
}

cotp_mfa_fn *cotp_lookup_function(cotp_term module, cotp_term function) {
  return (cotp_mfa_fn *)cotp_lookup_code(COTP_ATOM_PROCESS, module, function);
}
