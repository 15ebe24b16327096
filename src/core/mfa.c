/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mfa.c: C functions callable by name, as Erlang's {Module, Function, Args}.
 *
 * Child specs name the code a supervisor starts, and a remote node names
 * the code it asks this node to run, by module and function atoms; this
 * table maps those pairs to C functions.  It outlives runtimes (functions
 * are registered once, typically at start-up) and is small, so it is a
 * mutex-protected open-addressing table keyed by the two atom words.
 */
#include <pthread.h>
#include <stdlib.h>

#include "cotp/process.h"

struct entry {
  uint64_t module, function;
  cotp_mfa_fn *fn;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *slots;
static size_t nslots, used;

static size_t slot_of(uint64_t m, uint64_t f, size_t mask) {
  uint64_t h = (m * 0x9E3779B97F4A7C15ull) ^ (f * 0xC2B2AE3D27D4EB4Full);
  return (size_t)(h ^ (h >> 31)) & mask;
}

static struct entry *find(uint64_t m, uint64_t f) {
  if (!nslots)
    return NULL;
  for (size_t i = slot_of(m, f, nslots - 1);; i = (i + 1) & (nslots - 1)) {
    if (!slots[i].fn)
      return &slots[i];
    if (slots[i].module == m && slots[i].function == f)
      return &slots[i];
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
      *find(old[i].module, old[i].function) = old[i];
  free(old);
  return true;
}

int cotp_register_function(cotp_term module, cotp_term function,
                           cotp_mfa_fn *fn) {
  if (!cotp_is_atom(module) || !cotp_is_atom(function) || !fn)
    return COTP_EINVAL;
  pthread_mutex_lock(&lock);
  int rc = 0;
  if ((used + 1) * 2 > nslots && !grow()) {
    rc = COTP_ENOMEM;
  } else {
    struct entry *e = find(module.w, function.w);
    if (!e->fn)
      used++;
    *e = (struct entry){module.w, function.w, fn};
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

cotp_mfa_fn *cotp_lookup_function(cotp_term module, cotp_term function) {
  pthread_mutex_lock(&lock);
  struct entry *e = find(module.w, function.w);
  cotp_mfa_fn *fn = e ? e->fn : NULL;
  pthread_mutex_unlock(&lock);
  return fn;
}
