/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mfa.c: C functions callable by name, as Erlang's {Module, Function, Args}.
 *
 * Child specs name the code a supervisor starts, and a remote node names
 * the code it asks this node to run, by module and function atoms; this
 * table maps those pairs to C functions.  It outlives runtimes (functions
 * are registered once, typically at start-up) and is small, so it is a
 * mutex-protected open-addressing table keyed by the atom words.  The
 * behaviours keep their own kinds of code in it (cotp_register_code): a
 * task function returns a result, a supervisor's start function a pid.
 */
#include <pthread.h>
#include <stdlib.h>

#include "cotp/process.h"

struct entry {
  uint64_t kind, module, function;
  cotp_code_fn *fn;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *slots;
static size_t nslots, used;

static size_t slot_of(uint64_t k, uint64_t m, uint64_t f, size_t mask) {
  uint64_t h = (m * 0x9E3779B97F4A7C15ull) ^ (f * 0xC2B2AE3D27D4EB4Full) ^
               (k * 0x165667B19E3779F9ull);
  return (size_t)(h ^ (h >> 31)) & mask;
}

/* The slot for the triple: its entry, or the empty slot it would take. */
static struct entry *find(uint64_t k, uint64_t m, uint64_t f) {
  if (!nslots)
    return NULL;
  for (size_t i = slot_of(k, m, f, nslots - 1);; i = (i + 1) & (nslots - 1)) {
    struct entry *e = &slots[i];
    if (!e->fn || (e->kind == k && e->module == m && e->function == f))
      return e;
  }
}

static bool grow(void) {
  size_t n = nslots ? nslots * 2 : 64;
  struct entry *bigger = calloc(n, sizeof *bigger);
  if (!bigger)
    return false;
  struct entry *old = slots;
  size_t oldn = nslots;
  slots = bigger;
  nslots = n;
  for (size_t i = 0; i < oldn; i++)
    if (old[i].fn)
      *find(old[i].kind, old[i].module, old[i].function) = old[i];
  free(old);
  return true;
}

int cotp_register_code(cotp_term kind, cotp_term module, cotp_term function,
                       cotp_code_fn *fn) {
  if (!cotp_is_atom(kind) || !cotp_is_atom(module) ||
      !cotp_is_atom(function) || !fn)
    return COTP_EINVAL;
  pthread_mutex_lock(&lock);
  int rc = 0;
  if ((used + 1) * 2 > nslots && !grow()) {
    rc = COTP_ENOMEM;
  } else {
    struct entry *e = find(kind.w, module.w, function.w);
    if (!e->fn)
      used++;
    *e = (struct entry){kind.w, module.w, function.w, fn};
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

cotp_code_fn *cotp_lookup_code(cotp_term kind, cotp_term module,
                               cotp_term function) {
  pthread_mutex_lock(&lock);
  struct entry *e = find(kind.w, module.w, function.w);
  cotp_code_fn *fn = e && e->fn ? e->fn : NULL;
  pthread_mutex_unlock(&lock);
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
