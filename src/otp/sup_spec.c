/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sup_spec.c: child specs and supervisor flags, in C and as terms.
 *
 * The term is the spec's one true form: a C cotp_child_spec is turned into
 * Elixir's map (cotp_child_spec_term), and every spec a supervisor gets,
 * from init or from start_child, is checked here as a term with OTP's
 * error reasons (and, for the log, the words for them: which child, which
 * field, what it should have been).  A C start function travels as
 * {:"$cotp_c", fn, ctx, args}, the two addresses as integers: such a spec
 * means something only inside the program that made it, which is all a C
 * function pointer can mean.
 *
 * Also here: the table of start functions named by module and function
 * (a mutex-protected open-addressing table, as the Task one), and the
 * start functions for GenServer and Supervisor children.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module_atom.h"
#include "sup_impl.h"

/* --- names --- */

static cotp_term c_tag(void) { return COTP_ATOM_STR("$cotp_c"); }

cotp_term cotp__sup_start_term(cotp_heap *h, cotp_child_start_fn *fn,
                               void *ctx, cotp_term args) {
  return COTP_TUPLE(h, c_tag(), cotp_uint(h, (uint64_t)(uintptr_t)fn),
                    cotp_uint(h, (uint64_t)(uintptr_t)ctx), args);
}

static cotp_term restart_atom(cotp_heap *h, cotp_restart r) {
  switch (r) {
  case COTP_PERMANENT:
    return SUP_ATOM(permanent);
  case COTP_TRANSIENT:
    return SUP_ATOM(transient);
  case COTP_TEMPORARY:
    return SUP_ATOM(temporary);
  }
  return cotp_int(h, (int64_t)r); /* unknown: shows the value */
}

static cotp_term shutdown_term(cotp_heap *h, int64_t ms, cotp_child_type t) {
  if (ms == COTP_SHUTDOWN_DEFAULT)
    ms = t == COTP_SUPERVISOR ? COTP_INFINITY : 5000;
  if (ms == COTP_INFINITY)
    return COTP_ATOM_INFINITY;
  if (ms == COTP_SHUTDOWN_BRUTAL_KILL)
    return SUP_ATOM(brutal_kill);
  return cotp_int(h, ms);
}

cotp_term cotp_child_spec_term(cotp_heap *h, const cotp_child_spec *spec) {
  if (!spec)
    return COTP_NONE;
  /* The keys go in term order (by name: id, modules, restart, shutdown,
   * significant, start, type), so cotp_map's sort finds them sorted and
   * compares each pair once. */
  cotp_term keys[8], vals[8];
  size_t n = 0;
  cotp_term args = cotp_is_none(spec->args) ? COTP_NIL : spec->args;
  if (!cotp_is_none(spec->id)) {
    keys[n] = SUP_ATOM(id);
    vals[n++] = spec->id;
  }
  keys[n] = SUP_ATOM(modules);
  if (!cotp_is_none(spec->modules))
    vals[n++] = spec->modules;
  else if (cotp_is_atom(spec->module))
    vals[n++] = COTP_LIST(h, spec->module);
  else
    vals[n++] = COTP_NIL;
  keys[n] = SUP_ATOM(restart);
  vals[n++] = restart_atom(h, spec->restart);
  keys[n] = SUP_ATOM(shutdown);
  vals[n++] = shutdown_term(h, spec->shutdown, spec->type);
  keys[n] = SUP_ATOM(significant);
  vals[n++] = cotp_bool(spec->significant);
  if (spec->start) {
    keys[n] = SUP_ATOM(start);
    vals[n++] = cotp__sup_start_term(h, spec->start, spec->ctx, args);
  } else if (!cotp_is_none(spec->module) || !cotp_is_none(spec->function)) {
    keys[n] = SUP_ATOM(start);
    vals[n++] = COTP_TUPLE(h, spec->module, spec->function, args);
  }
  keys[n] = SUP_ATOM(type);
  vals[n++] = spec->type == COTP_WORKER       ? SUP_ATOM(worker)
              : spec->type == COTP_SUPERVISOR ? SUP_ATOM(supervisor)
                                              : cotp_int(h, spec->type);
  return cotp_map(h, n, keys, vals);
}

/* --- checking a spec term --- */

static bool is_list(cotp_term t) {
  size_t n;
  return cotp_list_length(t, &n) == 0;
}

/* Reads the map or OTP's 6-tuple {id, start, restart, shutdown, type,
 * modules} into field values (NONE for absent keys).  Returns false for
 * neither. */
struct fields {
  cotp_term id, start, restart, shutdown, type, modules, significant;
};

static bool read_fields(cotp_term spec, struct fields *f) {
  memset(f, 0, sizeof *f);
  if (cotp_is_map(spec)) {
    /* One pass comparing words: cotp_map_get would binary-search with
     * the term order, which compares atoms by name (about 500
     * instructions a key, and a start_child reads a spec three times). */
    cotp_term *slot[] = {&f->id,   &f->start,   &f->restart,    &f->shutdown,
                         &f->type, &f->modules, &f->significant};
    cotp_term keys[] = {SUP_ATOM(id),   SUP_ATOM(start),   SUP_ATOM(restart),
                        SUP_ATOM(shutdown), SUP_ATOM(type), SUP_ATOM(modules),
                        SUP_ATOM(significant)};
    for (size_t i = 0, n = cotp_map_size(spec); i < n; i++) {
      cotp_term k = cotp_map_key(spec, i);
      for (size_t j = 0; j < sizeof keys / sizeof keys[0]; j++)
        if (k.w == keys[j].w) {
          *slot[j] = cotp_map_value(spec, i);
          break;
        }
    }
    return true;
  }
  if (cotp_tuple_size(spec) == 6) {
    f->id = cotp_tuple_get(spec, 0);
    f->start = cotp_tuple_get(spec, 1);
    f->restart = cotp_tuple_get(spec, 2);
    f->shutdown = cotp_tuple_get(spec, 3);
    f->type = cotp_tuple_get(spec, 4);
    f->modules = cotp_tuple_get(spec, 5);
    return true;
  }
  return false;
}

static bool is_c_start(cotp_term s) {
  return cotp_tuple_size(s) == 4 && cotp_tuple_get(s, 0).w == c_tag().w &&
         cotp_is_integer(cotp_tuple_get(s, 1)) &&
         cotp_is_integer(cotp_tuple_get(s, 2)) && is_list(cotp_tuple_get(s, 3));
}

static bool is_mfa(cotp_term s) {
  return cotp_tuple_size(s) == 3 && cotp_is_atom(cotp_tuple_get(s, 0)) &&
         cotp_is_atom(cotp_tuple_get(s, 1)) && is_list(cotp_tuple_get(s, 2));
}

static int fail(cotp_heap *h, cotp_term *reason, const char *what, cotp_term v) {
  if (reason)
    *reason = cotp_is_none(v) ? cotp_atom(what)
                              : COTP_TUPLE(h, cotp_atom(what), v);
  return COTP_EINVAL;
}

/* cotp_child_spec_check on the fields read from spec (readable: whether
 * it was a map or a 6-tuple). */
static int check_fields(cotp_heap *h, cotp_term spec, bool readable,
                        const struct fields *f, cotp_term *reason) {
  if (!readable)
    return fail(h, reason, "invalid_child_spec", spec);
  if (cotp_is_none(f->id))
    return fail(h, reason, "missing_id", COTP_NONE);
  if (cotp_is_none(f->start))
    return fail(h, reason, "missing_start", COTP_NONE);
  if (!is_mfa(f->start) && !(is_c_start(f->start) &&
                             cotp_int_value(cotp_tuple_get(f->start, 1)) != 0))
    return fail(h, reason, "invalid_mfa", f->start);
  cotp_term r = f->restart;
  if (!cotp_is_none(r) && r.w != SUP_ATOM(permanent).w &&
      r.w != SUP_ATOM(transient).w && r.w != SUP_ATOM(temporary).w)
    return fail(h, reason, "invalid_restart_type", r);
  cotp_term t = f->type;
  if (!cotp_is_none(t) && t.w != SUP_ATOM(worker).w &&
      t.w != SUP_ATOM(supervisor).w)
    return fail(h, reason, "invalid_child_type", t);
  cotp_term sd = f->shutdown;
  int64_t ms;
  if (!cotp_is_none(sd) && sd.w != COTP_ATOM_INFINITY.w &&
      sd.w != SUP_ATOM(brutal_kill).w &&
      (cotp_get_int(sd, &ms) != 0 || ms < 0))
    return fail(h, reason, "invalid_shutdown", sd);
  cotp_term m = f->modules;
  if (!cotp_is_none(m) && m.w != SUP_ATOM(dynamic).w) {
    if (!is_list(m))
      return fail(h, reason, "invalid_modules", m);
    for (cotp_term l = m; cotp_is_cons(l); l = cotp_tail(l))
      if (!cotp_is_atom(cotp_head(l)))
        return fail(h, reason, "invalid_module", cotp_head(l));
  }
  cotp_term sg = f->significant;
  if (!cotp_is_none(sg) && !cotp_is_boolean(sg))
    return fail(h, reason, "invalid_significant", sg);
  return 0;
}

int cotp_child_spec_check(cotp_heap *h, cotp_term spec, cotp_term *reason) {
  struct fields f;
  bool readable = read_fields(spec, &f);
  return check_fields(h, spec, readable, &f, reason);
}

/* --- saying what is wrong, in words --- */

/* What each of the check's reasons means: the field it is about and what
 * the field should have been. */
static const struct {
  const char *reason, *field, *expected;
} explained[] = {
    {"missing_id", "id", NULL},
    {"missing_start", "start", NULL},
    {"invalid_mfa", "start", "{module, function, args} or a C start function"},
    {"invalid_restart_type", "restart", ":permanent, :transient or :temporary"},
    {"invalid_shutdown", "shutdown",
     "a non-negative integer, :brutal_kill or :infinity"},
    {"invalid_child_type", "type", ":worker or :supervisor"},
    {"invalid_modules", "modules", "a list of atoms or :dynamic"},
    {"invalid_module", "modules", "a list of atoms or :dynamic"},
    {"invalid_significant", "significant",
     "a boolean, and true only for a transient or temporary child of a "
     "supervisor with auto_shutdown"},
    {"duplicate_child_name", "id", "an id no earlier child has"},
};

/* Appends printf-style to buf[*at..size), keeping it terminated. */
__attribute__((format(printf, 4, 5))) static void put(char *buf, size_t size,
                                                      size_t *at,
                                                      const char *fmt, ...) {
  if (*at >= size)
    return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf + *at, size - *at, fmt, ap);
  va_end(ap);
  if (n > 0)
    *at = *at + (size_t)n < size ? *at + (size_t)n : size - 1;
}

static void put_term(char *buf, size_t size, size_t *at, cotp_term t) {
  if (*at + 1 >= size)
    return;
  size_t n = cotp_term_print(buf + *at, size - *at, t);
  *at = *at + n < size ? *at + n : size - 1;
}

void cotp__sup_spec_explain(char *buf, size_t size, cotp_term spec,
                            size_t position, cotp_term reason) {
  size_t at = 0;
  if (!size)
    return;
  buf[0] = '\0';
  struct fields f;
  bool readable = read_fields(spec, &f);
  put(buf, size, &at, "invalid child spec");
  if (readable && !cotp_is_none(f.id)) {
    put(buf, size, &at, " for child ");
    put_term(buf, size, &at, f.id);
    if (position)
      put(buf, size, &at, " (number %zu in the list)", position);
  } else if (position) {
    put(buf, size, &at, " for child number %zu in the list%s", position,
        readable ? ", which has no id" : "");
  } else if (readable) {
    put(buf, size, &at, " for a child without an id");
  }
  cotp_term tag = cotp_is_atom(reason) ? reason : cotp_tuple_get(reason, 0);
  cotp_term value = cotp_tuple_size(reason) == 2 ? cotp_tuple_get(reason, 1)
                                                 : COTP_NONE;
  if (tag.w == COTP_ATOM(invalid_child_spec).w) {
    put(buf, size, &at, ": ");
    put_term(buf, size, &at, cotp_is_none(value) ? spec : value);
    put(buf, size, &at,
        " is not a child spec (a map, a 6-tuple {id, start, restart, "
        "shutdown, type, modules}, or a registered module shorthand)");
    return;
  }
  for (size_t i = 0; i < sizeof explained / sizeof explained[0]; i++) {
    if (tag.w != cotp_atom(explained[i].reason).w)
      continue;
    put(buf, size, &at, ": field :%s ", explained[i].field);
    if (!explained[i].expected) {
      put(buf, size, &at, "is missing");
      return;
    }
    put(buf, size, &at, "%s ",
        tag.w == COTP_ATOM(invalid_module).w ? "has the element" : "is");
    put_term(buf, size, &at, value);
    put(buf, size, &at, "; expected %s", explained[i].expected);
    return;
  }
  put(buf, size, &at, ": ");
  put_term(buf, size, &at, reason);
}

/* A child's fields from a checked spec's. */
static void fill(const struct fields *f, struct child *c) {
  c->id = f->id;
  if (is_c_start(f->start)) {
    c->cfn = (cotp_child_start_fn *)(uintptr_t)cotp_int_value(
        cotp_tuple_get(f->start, 1));
    c->ctx = (void *)(uintptr_t)cotp_int_value(cotp_tuple_get(f->start, 2));
    c->module = c->function = COTP_NONE;
    c->args = cotp_tuple_get(f->start, 3);
  } else {
    c->cfn = NULL;
    c->ctx = NULL;
    c->module = cotp_tuple_get(f->start, 0);
    c->function = cotp_tuple_get(f->start, 1);
    c->args = cotp_tuple_get(f->start, 2);
  }
  c->restart = f->restart.w == SUP_ATOM(transient).w   ? COTP_TRANSIENT
               : f->restart.w == SUP_ATOM(temporary).w ? COTP_TEMPORARY
                                                       : COTP_PERMANENT;
  c->type = f->type.w == SUP_ATOM(supervisor).w ? COTP_SUPERVISOR : COTP_WORKER;
  if (cotp_is_none(f->shutdown))
    c->shutdown = c->type == COTP_SUPERVISOR ? COTP_INFINITY : 5000;
  else if (f->shutdown.w == COTP_ATOM_INFINITY.w)
    c->shutdown = COTP_INFINITY;
  else if (f->shutdown.w == SUP_ATOM(brutal_kill).w)
    c->shutdown = COTP_SHUTDOWN_BRUTAL_KILL;
  else
    c->shutdown = cotp_int_value(f->shutdown);
  if (!cotp_is_none(f->modules))
    c->modules = f->modules;
  else if (cotp_is_atom(c->module))
    c->modules = COTP_NONE; /* [module], built when shown */
  else
    c->modules = COTP_NIL;
  c->significant = f->significant.w == COTP_ATOM_TRUE.w;
}

void cotp__sup_spec_fields(cotp_term spec, struct child *c) {
  struct fields f;
  read_fields(spec, &f);
  fill(&f, c);
}

int cotp__sup_spec_read(cotp_heap *h, cotp_term spec, struct child *c,
                        cotp_term *reason) {
  struct fields f;
  bool readable = read_fields(spec, &f);
  int rc = check_fields(h, spec, readable, &f, reason);
  if (rc == 0)
    fill(&f, c);
  return rc;
}

static const char *const spec_keys[] = {"id",   "start",   "restart",
                                        "shutdown", "type", "modules",
                                        "significant"};

static bool spec_key(cotp_term k) {
  for (size_t j = 0; j < sizeof spec_keys / sizeof *spec_keys; j++)
    if (k.w == cotp_atom(spec_keys[j]).w)
      return true;
  return false;
}

/* Elixir's ArgumentError for an override it does not know, as the heap's
 * error. */
static cotp_term unknown_key(cotp_heap *h, cotp_term k) {
  char key[96];
  cotp_term_print(key, sizeof key, k);
  cotp_heap_fail(h, COTP_EINVAL, "unknown key %s in child specification override",
                 key);
  return COTP_NONE;
}

cotp_term cotp_child_spec_override(cotp_heap *h, cotp_term spec,
                                   cotp_term overrides) {
  char what[96];
  if (cotp_child_spec_expand(h, spec, &spec) != 0) {
    cotp_term_print(what, sizeof what, cotp_tuple_get(spec, 1));
    cotp_heap_fail(h, COTP_EINVAL,
                   "child specification override: %s names no registered "
                   "module with a child spec",
                   what);
    return COTP_NONE;
  }
  if (!cotp_is_map(spec)) {
    cotp_term_print(what, sizeof what, spec);
    cotp_heap_fail(h, COTP_EINVAL,
                   "child specification override: %s is not a map", what);
    return COTP_NONE;
  }
  cotp_term out = spec;
  if (cotp_is_map(overrides)) {
    for (size_t i = 0; i < cotp_map_size(overrides); i++) {
      cotp_term k = cotp_map_key(overrides, i);
      if (!spec_key(k))
        return unknown_key(h, k);
      out = cotp_map_put(h, out, k, cotp_map_value(overrides, i));
    }
    return out;
  }
  cotp_term l = overrides;
  for (; cotp_is_cons(l); l = cotp_tail(l)) {
    cotp_term kv = cotp_head(l);
    if (cotp_tuple_size(kv) != 2) {
      cotp_term_print(what, sizeof what, kv);
      cotp_heap_fail(h, COTP_EINVAL,
                     "child specification override: %s is not a {key, value} pair",
                     what);
      return COTP_NONE;
    }
    cotp_term k = cotp_tuple_get(kv, 0);
    if (!spec_key(k))
      return unknown_key(h, k);
    out = cotp_map_put(h, out, k, cotp_tuple_get(kv, 1));
  }
  if (cotp_is_nil(l))
    return out;
  cotp_heap_fail(h, COTP_EINVAL,
                 "child specification override: not a map or a keyword list");
  return COTP_NONE;
}

/* --- flags --- */

cotp_term cotp_supervisor_flags_term(cotp_heap *h,
                                     const cotp_supervisor_flags *f) {
  cotp_supervisor_flags d = COTP_SUPERVISOR_FLAGS_INIT;
  if (!f)
    f = &d;
  static const char *const strat[] = {"one_for_one", "one_for_all",
                                      "rest_for_one"};
  static const char *const autos[] = {"never", "any_significant",
                                      "all_significant"};
  cotp_term m = cotp_format(
      h, "%{strategy: ~t, intensity: ~L, period: ~L, auto_shutdown: ~t}",
      (unsigned)f->strategy < 3 ? cotp_atom(strat[f->strategy])
                                : cotp_int(h, f->strategy),
      (long long)f->max_restarts, (long long)f->max_seconds,
      (unsigned)f->auto_shutdown < 3 ? cotp_atom(autos[f->auto_shutdown])
                                     : cotp_int(h, f->auto_shutdown));
  if (f->backoff_ms)
    m = cotp_map_put(h, m, COTP_ATOM(backoff),
                     COTP_TUPLE(h, cotp_int(h, f->backoff_ms),
                                cotp_int(h, f->backoff_max_ms)));
  return m;
}

static bool flag_fail(cotp_term *reason, const char *what, cotp_term v) {
  cotp_heap *h = cotp_self_heap();
  *reason = COTP_TUPLE(h, COTP_ATOM(supervisor_data),
                       COTP_TUPLE(h, cotp_atom(what), v));
  return false;
}

static bool parse_flags(struct sup *s, cotp_term f, cotp_term *reason) {
  cotp_term strategy, intensity, period, autos = COTP_NONE, maxc = COTP_NONE,
                                         extra = COTP_NONE,
                                         backoff = COTP_NONE;
  if (cotp_is_map(f)) {
    strategy = cotp_map_get(f, COTP_ATOM(strategy));
    intensity = cotp_map_get(f, COTP_ATOM(intensity));
    period = cotp_map_get(f, COTP_ATOM(period));
    autos = cotp_map_get(f, COTP_ATOM(auto_shutdown));
    maxc = cotp_map_get(f, COTP_ATOM(max_children));
    extra = cotp_map_get(f, COTP_ATOM(extra_arguments));
    backoff = cotp_map_get(f, COTP_ATOM(backoff));
  } else if (cotp_tuple_size(f) == 3) {
    strategy = cotp_tuple_get(f, 0);
    intensity = cotp_tuple_get(f, 1);
    period = cotp_tuple_get(f, 2);
  } else {
    return flag_fail(reason, "invalid_type", f);
  }
  s->strategy = COTP_ONE_FOR_ONE;
  if (!cotp_is_none(strategy)) {
    if (strategy.w == COTP_ATOM(one_for_all).w && !s->dynamic)
      s->strategy = COTP_ONE_FOR_ALL;
    else if (strategy.w == COTP_ATOM(rest_for_one).w && !s->dynamic)
      s->strategy = COTP_REST_FOR_ONE;
    else if (strategy.w != COTP_ATOM(one_for_one).w)
      return flag_fail(reason, "invalid_strategy", strategy);
  }
  int64_t v;
  s->intensity = 3;
  if (!cotp_is_none(intensity)) {
    if (cotp_get_int(intensity, &v) != 0 || v < 0 || v > 1000000)
      return flag_fail(reason, "invalid_intensity", intensity);
    s->intensity = (int)v;
  }
  s->period = 5;
  if (!cotp_is_none(period)) {
    if (cotp_get_int(period, &v) != 0 || v <= 0 || v > 100000000)
      return flag_fail(reason, "invalid_period", period);
    s->period = (int)v;
  }
  s->auto_shutdown = COTP_AUTO_SHUTDOWN_NEVER;
  if (!cotp_is_none(autos)) {
    if (autos.w == COTP_ATOM(any_significant).w && !s->dynamic)
      s->auto_shutdown = COTP_AUTO_SHUTDOWN_ANY_SIGNIFICANT;
    else if (autos.w == COTP_ATOM(all_significant).w && !s->dynamic)
      s->auto_shutdown = COTP_AUTO_SHUTDOWN_ALL_SIGNIFICANT;
    else if (autos.w != COTP_ATOM(never).w)
      return flag_fail(reason, "invalid_auto_shutdown", autos);
  }
  s->max_children = COTP_INFINITY;
  if (!cotp_is_none(maxc) && maxc.w != COTP_ATOM_INFINITY.w) {
    if (cotp_get_int(maxc, &v) != 0 || v < 0)
      return flag_fail(reason, "invalid_max_children", maxc);
    s->max_children = v;
  }
  s->extra = COTP_NIL;
  if (!cotp_is_none(extra)) {
    if (!is_list(extra))
      return flag_fail(reason, "invalid_extra_arguments", extra);
    s->extra = cotp_term_copy(s->heap, extra);
  }
  if (!cotp_is_none(backoff)) {
    int64_t a, b;
    if (cotp_tuple_size(backoff) != 2 ||
        cotp_get_int(cotp_tuple_get(backoff, 0), &a) != 0 ||
        cotp_get_int(cotp_tuple_get(backoff, 1), &b) != 0 || a < 0 || b < a)
      return flag_fail(reason, "invalid_backoff", backoff);
    s->backoff_ms = a;
    s->backoff_max_ms = b;
  }
  return true;
}

int cotp__sup_parse_flags(struct sup *s, cotp_term flags, cotp_term *reason) {
  return parse_flags(s, flags, reason) ? 0 : COTP_EINVAL;
}

cotp_term cotp_supervisor_init(cotp_heap *h, const cotp_supervisor_flags *flags,
                               const cotp_child_spec *specs, size_t n) {
  cotp_term l = COTP_NIL;
  for (size_t i = n; i-- > 0;)
    l = cotp_cons(h, cotp_child_spec_term(h, &specs[i]), l);
  return COTP_TUPLE(h, COTP_ATOM_OK,
                    COTP_TUPLE(h, cotp_supervisor_flags_term(h, flags), l));
}

/* --- start functions by name: the kind Supervisor of cotp_register_code --- */

int cotp_supervisor_register_start(cotp_term module, cotp_term function,
                                   cotp_child_start_fn *fn) {
  return cotp_register_code(COTP_ATOM(Elixir.Supervisor), module, function,
                            (cotp_code_fn *)fn);
}

cotp_child_start_fn *cotp__sup_lookup_start(cotp_term module,
                                            cotp_term function) {
  return (cotp_child_start_fn *)cotp_lookup_code(COTP_ATOM(Elixir.Supervisor),
                                                 module, function);
}

/* --- GenServer and Supervisor children --- */

/* Splits [a1, ..., an, name]: the init argument and the name. */
static void split_args(cotp_term args, cotp_term *arg, cotp_term *name) {
  size_t n = 0;
  cotp_list_length(args, &n);
  cotp_heap *h = cotp_self_heap();
  *name = COTP_ATOM_NIL;
  if (n <= 1) {
    *arg = n ? cotp_head(args) : COTP_NIL;
    return;
  }
  cotp_term front[n - 1];
  cotp_term l = args;
  for (size_t i = 0; i < n - 1; i++, l = cotp_tail(l))
    front[i] = cotp_head(l);
  *name = cotp_head(l);
  *arg = n == 2 ? front[0] : cotp_list(h, n - 1, front);
}

static cotp_term start_result(int rc, cotp_pid pid, cotp_term reason) {
  cotp_heap *h = cotp_self_heap();
  if (rc == 0)
    return COTP_TUPLE(h, COTP_ATOM_OK, cotp_pid_term(pid));
  if (rc == COTP_GENSERVER_IGNORE)
    return COTP_ATOM_IGNORE;
  if (rc == COTP_GENSERVER_ERROR)
    return COTP_TUPLE(h, COTP_ATOM_ERROR, reason);
  return COTP_TUPLE(h, COTP_ATOM_ERROR, cotp_atom(cotp_err_name(rc)));
}

cotp_term cotp_genserver_start_child(cotp_term args, void *ctx) {
  cotp_term arg, name, reason = COTP_NONE;
  split_args(args, &arg, &name);
  cotp_genserver_opts o = COTP_GENSERVER_OPTS_INIT;
  if (cotp_is_atom(name) && name.w != COTP_ATOM_NIL.w)
    o.name = cotp_name_local(name);
  cotp_pid pid = {0};
  int rc = cotp_genserver_start_link(ctx, arg, &o, &pid, &reason);
  return start_result(rc, pid, reason);
}

cotp_child_spec cotp_genserver_child_spec(cotp_term id,
                                          const cotp_genserver_callbacks *cb,
                                          cotp_term arg, cotp_term name) {
  cotp_child_spec s = COTP_CHILD_SPEC_INIT;
  cotp_heap *h = cotp_self_heap();
  s.id = id;
  s.start = cotp_genserver_start_child;
  s.ctx = (void *)(uintptr_t)cb;
  s.args = COTP_LIST(h, arg, cotp_is_none(name) ? COTP_ATOM_NIL : name);
  if (cb && cb->name)
    s.modules = COTP_LIST(h, cotp__module_atom(cb->name));
  return s;
}

cotp_term cotp_supervisor_start_child_fn(cotp_term args, void *ctx) {
  cotp_term arg, name, reason = COTP_NONE;
  split_args(args, &arg, &name);
  cotp_supervisor_opts o = COTP_SUPERVISOR_OPTS_INIT;
  if (cotp_is_atom(name) && name.w != COTP_ATOM_NIL.w)
    o.name = cotp_name_local(name);
  cotp_pid pid = {0};
  int rc = cotp_supervisor_start_link(ctx, arg, &o, &pid, &reason);
  return start_result(rc, pid, reason);
}

cotp_child_spec cotp_supervisor_child_spec(cotp_term id,
                                           const cotp_supervisor_module *mod,
                                           cotp_term arg) {
  cotp_child_spec s = COTP_CHILD_SPEC_INIT;
  cotp_heap *h = cotp_self_heap();
  s.id = id;
  s.start = cotp_supervisor_start_child_fn;
  s.ctx = (void *)(uintptr_t)mod;
  s.args = COTP_LIST(h, arg);
  s.type = COTP_SUPERVISOR;
  if (mod && mod->name)
    s.modules = COTP_LIST(h, cotp__module_atom(mod->name));
  return s;
}
