/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sup_module.c: child spec shorthands, `{Module, arg}` and `Module`.
 *
 * In Elixir a supervisor given `{Stack, arg}` asks the module for its
 * spec, Stack.child_spec(arg), and given `Stack` alone asks
 * Stack.child_spec([]).  C has no modules to ask, so a program registers a
 * child_spec function under the module's atom, and the places Elixir
 * expands a shorthand expand it here: Supervisor.init's list (in the
 * supervisor, as Supervisor.init/2 does), start_child (in the caller, as
 * Supervisor.child_spec/2 does) and cotp_child_spec_override().  A
 * shorthand whose module is not registered is an invalid child spec, as
 * any other term that is neither a map nor a 6-tuple.
 *
 * The table maps an atom to a function and its context; it is written
 * rarely (at program start) and read at every expansion, under one mutex:
 * expansion happens once per start, never per message.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cotp.h>

#include "module_atom.h"

struct entry {
  uint64_t module;
  cotp_child_spec_fn *fn;
  void *ctx;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *entries; /* O(n) lookup: a program has few modules */
static size_t n, cap;

int cotp_supervisor_register_module(cotp_term module, cotp_child_spec_fn *fn,
                                    void *ctx) {
  if (!cotp_is_atom(module) || !fn)
    return COTP_EINVAL;
  int rc = 0;
  pthread_mutex_lock(&lock);
  size_t i = 0;
  while (i < n && entries[i].module != module.w)
    i++;
  if (i == n && n == cap) {
    size_t c = cap ? cap * 2 : 8;
    struct entry *e = realloc(entries, c * sizeof *e);
    if (!e)
      rc = COTP_ENOMEM;
    else
      entries = e, cap = c;
  }
  if (rc == 0) {
    entries[i] = (struct entry){module.w, fn, ctx};
    n += i == n;
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

static bool lookup(cotp_term module, struct entry *out) {
  pthread_mutex_lock(&lock);
  bool found = false;
  for (size_t i = 0; i < n && !found; i++)
    if (entries[i].module == module.w)
      *out = entries[i], found = true;
  pthread_mutex_unlock(&lock);
  return found;
}

int cotp_child_spec_expand(cotp_heap *h, cotp_term child, cotp_term *spec) {
  if (!h || !spec)
    return COTP_EINVAL;
  cotp_term module = COTP_NONE, arg = COTP_NIL;
  if (cotp_is_atom(child) && !cotp_is_boolean(child) &&
      child.w != COTP_ATOM_NIL.w) {
    module = child;
  } else if (cotp_tuple_size(child) == 2 &&
             cotp_is_atom(cotp_tuple_get(child, 0))) {
    module = cotp_tuple_get(child, 0);
    arg = cotp_tuple_get(child, 1);
  } else {
    *spec = child; /* a map, a 6-tuple, or garbage the check will name */
    return 0;
  }
  struct entry e;
  if (!lookup(module, &e)) {
    *spec = COTP_TUPLE(h, COTP_ATOM(invalid_child_spec), child);
    return COTP_EINVAL;
  }
  cotp_term s = e.fn(h, arg, e.ctx);
  if (cotp_is_none(s) || (!cotp_is_map(s) && cotp_tuple_size(s) != 6)) {
    *spec = COTP_TUPLE(h, COTP_ATOM(invalid_child_spec), child);
    return COTP_EINVAL;
  }
  *spec = s;
  return 0;
}

/* `use GenServer`'s child_spec(arg): %{id: Module, start: Module.start_link(arg)},
 * the server unnamed (a C server's name is an argument of its start). */
cotp_term cotp_genserver_default_child_spec(cotp_heap *h, cotp_term arg,
                                            void *ctx) {
  const cotp_genserver_callbacks *cb = ctx;
  /* "Counter" is the alias Counter, :"Elixir.Counter", as in Elixir */
  cotp_term id = cotp__module_atom(cb->name ? cb->name : "GenServer");
  cotp_child_spec s = cotp_genserver_child_spec(id, cb, arg, COTP_ATOM_NIL);
  return cotp_child_spec_term(h, &s);
}
