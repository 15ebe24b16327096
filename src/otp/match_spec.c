/* SPDX-License-Identifier: Apache-2.0 */
/*
 * match_spec.c: Erlang match specifications, compiled once and run over
 * cotp terms (the public contract is in cotp/match_spec.h).
 *
 * Compiling copies the spec into a heap of its own and checks every part
 * of it: the shape of each clause, every call's function and arity, and
 * that every variable a guard or body uses is bound by the head.  What it
 * keeps per clause is the head, guards and body as terms plus the set of
 * the head's variables (their atoms, sorted by number, which is also the
 * order of `$$`).  Running walks those terms directly.  A tree compiled to
 * an instruction array would run faster; it was not worth the code for
 * Registry's sizes, where the walk is a few dozen word compares.
 *
 * Invariants:
 *  1. After a successful compile, running never meets a malformed part:
 *     every failure at run time is a value error (badarg, badarith), which
 *     makes the guard false or the body :EXIT.
 *  2. A variable's value is COTP_NONE until the head binds it; only
 *     compiled-in variables are ever looked up.
 *  3. Running allocates only in the caller's heap, or in a scratch heap of
 *     its own when the caller gave none and a guard has to build a value.
 */
#include <stdlib.h>
#include <string.h>

#include <cotp.h>

#define MAX_DEPTH 200

struct clause {
  cotp_term head, guards, body;
  size_t nvars;
  uint64_t vars[COTP_MATCH_SPEC_MAX_VARS]; /* atom words, by number */
};

/* Atoms the walk compares with, looked up once (atoms live as long as the
 * program). */
struct atoms {
  uint64_t any, whole, all, konst;
};

struct cotp_match_spec {
  cotp_heap *heap;
  struct atoms a;
  size_t n;
  struct clause clauses[];
};

/* --- functions a guard or body may call --- */

enum fn {
  F_IS_ATOM, F_IS_BINARY, F_IS_BOOLEAN, F_IS_FLOAT, F_IS_FUNCTION,
  F_IS_INTEGER, F_IS_LIST, F_IS_MAP, F_IS_NUMBER, F_IS_PID, F_IS_PORT,
  F_IS_REFERENCE, F_IS_TUPLE, F_IS_MAP_KEY,
  F_GT, F_GE, F_LT, F_LE, F_EQ, F_NE, F_EXACT_EQ, F_EXACT_NE,
  F_NOT, F_XOR, F_AND, F_OR, F_ANDALSO, F_ORELSE,
  F_ADD, F_SUB, F_MUL, F_DIV, F_REM, F_ABS,
  F_ELEMENT, F_HD, F_TL, F_LENGTH, F_SIZE, F_TUPLE_SIZE, F_MAP_SIZE,
  F_BYTE_SIZE, F_MAP_GET, F_SELF
};

static const struct {
  const char *name;
  int min, max; /* arity; max -1: any number from min */
  enum fn fn;
} functions[] = {
  {"is_atom", 1, 1, F_IS_ATOM},       {"is_binary", 1, 1, F_IS_BINARY},
  {"is_boolean", 1, 1, F_IS_BOOLEAN}, {"is_float", 1, 1, F_IS_FLOAT},
  {"is_function", 1, 2, F_IS_FUNCTION}, {"is_integer", 1, 1, F_IS_INTEGER},
  {"is_list", 1, 1, F_IS_LIST},       {"is_map", 1, 1, F_IS_MAP},
  {"is_number", 1, 1, F_IS_NUMBER},   {"is_pid", 1, 1, F_IS_PID},
  {"is_port", 1, 1, F_IS_PORT},       {"is_reference", 1, 1, F_IS_REFERENCE},
  {"is_tuple", 1, 1, F_IS_TUPLE},     {"is_map_key", 2, 2, F_IS_MAP_KEY},
  {">", 2, 2, F_GT},                  {">=", 2, 2, F_GE},
  {"<", 2, 2, F_LT},                  {"=<", 2, 2, F_LE},
  {"==", 2, 2, F_EQ},                 {"/=", 2, 2, F_NE},
  {"=:=", 2, 2, F_EXACT_EQ},          {"=/=", 2, 2, F_EXACT_NE},
  {"not", 1, 1, F_NOT},               {"xor", 2, 2, F_XOR},
  {"and", 1, -1, F_AND},              {"or", 1, -1, F_OR},
  {"andalso", 1, -1, F_ANDALSO},      {"orelse", 1, -1, F_ORELSE},
  {"+", 1, 2, F_ADD},                 {"-", 1, 2, F_SUB},
  {"*", 2, 2, F_MUL},                 {"div", 2, 2, F_DIV},
  {"rem", 2, 2, F_REM},               {"abs", 1, 1, F_ABS},
  {"element", 2, 2, F_ELEMENT},       {"hd", 1, 1, F_HD},
  {"tl", 1, 1, F_TL},                 {"length", 1, 1, F_LENGTH},
  {"size", 1, 1, F_SIZE},             {"tuple_size", 1, 1, F_TUPLE_SIZE},
  {"map_size", 1, 1, F_MAP_SIZE},     {"byte_size", 1, 1, F_BYTE_SIZE},
  {"map_get", 2, 2, F_MAP_GET},       {"self", 0, 0, F_SELF},
};

/* The function a call names with argc arguments: its index, -1 for an
 * unknown name, -2 for a known name with the wrong arity. */
static int find_function(cotp_term name, size_t argc) {
  const char *s = cotp_atom_name(name, NULL);
  if (!s)
    return -1;
  int found = -1;
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    if (strcmp(functions[i].name, s) != 0)
      continue;
    if ((int)argc >= functions[i].min &&
        (functions[i].max < 0 || (int)argc <= functions[i].max))
      return (int)i;
    found = -2;
  }
  return found;
}

/* --- variables --- */

/* The number of a `$N` atom, or -1 for any other term. */
static long var_number(cotp_term t) {
  size_t len;
  const char *s = cotp_atom_name(t, &len);
  if (!s || len < 2 || len > 10 || s[0] != '$')
    return -1;
  long n = 0;
  for (size_t i = 1; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    n = n * 10 + (s[i] - '0');
  }
  return n;
}

static int var_slot(const struct clause *c, cotp_term t) {
  for (size_t i = 0; i < c->nvars; i++)
    if (c->vars[i] == t.w)
      return (int)i;
  return -1;
}

/* --- compiling: checks --- */

struct check {
  struct clause *c;
  cotp_error *err;
  int rc;
};

static int fail(struct check *k, int code, const char *what, cotp_term t) {
  if (k->rc)
    return k->rc;
  k->rc = code;
  if (k->err) {
    char buf[96];
    cotp_term_print(buf, sizeof buf, t);
    k->err->code = code;
    k->err->offset = -1;
    snprintf(k->err->message, sizeof k->err->message, "match spec: %s: %s",
             what, buf);
  }
  return code;
}

/* Collects the head's variables (sorted by number, for `$$`). */
static int collect_vars(struct check *k, cotp_term t, int depth) {
  if (depth > MAX_DEPTH)
    return fail(k, COTP_ESYSLIMIT, "nested too deep", t);
  if (var_number(t) >= 0) {
    struct clause *c = k->c;
    if (var_slot(c, t) >= 0)
      return 0;
    if (c->nvars == COTP_MATCH_SPEC_MAX_VARS)
      return fail(k, COTP_ESYSLIMIT, "too many variables in a head", t);
    long n = var_number(t);
    size_t i = c->nvars++;
    while (i > 0 && var_number((cotp_term){c->vars[i - 1]}) > n) {
      c->vars[i] = c->vars[i - 1];
      i--;
    }
    c->vars[i] = t.w;
    return 0;
  }
  if (cotp_is_tuple(t)) {
    for (size_t i = 0; i < cotp_tuple_size(t); i++)
      if (collect_vars(k, cotp_tuple_get(t, i), depth + 1))
        return k->rc;
    return 0;
  }
  if (cotp_is_cons(t)) {
    if (collect_vars(k, cotp_head(t), depth + 1))
      return k->rc;
    return collect_vars(k, cotp_tail(t), depth + 1);
  }
  if (cotp_is_map(t)) {
    for (size_t i = 0; i < cotp_map_size(t); i++) {
      if (var_number(cotp_map_key(t, i)) >= 0 ||
          cotp_map_key(t, i).w == COTP_ATOM(_).w)
        return fail(k, COTP_EINVAL, "a map key in a head must be a literal",
                    cotp_map_key(t, i));
      if (collect_vars(k, cotp_map_value(t, i), depth + 1))
        return k->rc;
    }
  }
  return 0;
}

static int check_expr(struct check *k, cotp_term e, int depth) {
  if (depth > MAX_DEPTH)
    return fail(k, COTP_ESYSLIMIT, "nested too deep", e);
  if (cotp_is_atom(e)) {
    if (var_number(e) >= 0 && var_slot(k->c, e) < 0)
      return fail(k, COTP_EINVAL, "variable not bound by the head", e);
    return 0;
  }
  if (cotp_is_cons(e)) {
    if (check_expr(k, cotp_head(e), depth + 1))
      return k->rc;
    return check_expr(k, cotp_tail(e), depth + 1);
  }
  if (cotp_is_map(e)) {
    for (size_t i = 0; i < cotp_map_size(e); i++)
      if (check_expr(k, cotp_map_key(e, i), depth + 1) ||
          check_expr(k, cotp_map_value(e, i), depth + 1))
        return k->rc;
    return 0;
  }
  if (!cotp_is_tuple(e))
    return 0; /* a literal */
  size_t n = cotp_tuple_size(e);
  cotp_term first = cotp_tuple_get(e, 0);
  if (n == 1 && cotp_is_tuple(first)) { /* {{a, b}}: a tuple built */
    for (size_t i = 0; i < cotp_tuple_size(first); i++)
      if (check_expr(k, cotp_tuple_get(first, i), depth + 1))
        return k->rc;
    return 0;
  }
  if (n == 2 && first.w == COTP_ATOM(const).w)
    return 0;
  if (n == 0 || !cotp_is_atom(first))
    return fail(k, COTP_EINVAL, "not an expression (write {{...}} for a tuple)",
                e);
  int f = find_function(first, n - 1);
  if (f == -1)
    return fail(k, COTP_EINVAL, "unknown function", first);
  if (f == -2)
    return fail(k, COTP_EINVAL, "wrong number of arguments", e);
  for (size_t i = 1; i < n; i++)
    if (check_expr(k, cotp_tuple_get(e, i), depth + 1))
      return k->rc;
  return 0;
}

static int check_list(struct check *k, cotp_term list, const char *what) {
  size_t len;
  if (cotp_list_length(list, &len) != 0)
    return fail(k, COTP_EINVAL, what, list);
  for (cotp_term l = list; cotp_is_cons(l); l = cotp_tail(l))
    if (check_expr(k, cotp_head(l), 0))
      return k->rc;
  return 0;
}

static int compile_clause(struct check *k, cotp_term clause) {
  if (cotp_tuple_size(clause) != 3)
    return fail(k, COTP_EINVAL, "a clause is not {head, guards, body}", clause);
  struct clause *c = k->c;
  c->head = cotp_tuple_get(clause, 0);
  c->guards = cotp_tuple_get(clause, 1);
  c->body = cotp_tuple_get(clause, 2);
  if (collect_vars(k, c->head, 0) || check_list(k, c->guards, "guards are not a list") ||
      check_list(k, c->body, "a body is not a list"))
    return k->rc;
  if (cotp_is_nil(c->body))
    return fail(k, COTP_EINVAL, "a body is empty", clause);
  return 0;
}

int cotp_match_spec_compile(cotp_term spec, cotp_match_spec **out,
                            cotp_error *err) {
  size_t n;
  if (!out || cotp_is_none(spec))
    return COTP_EINVAL;
  *out = NULL;
  struct check k = {NULL, err, 0};
  if (cotp_list_length(spec, &n) != 0)
    return fail(&k, COTP_EINVAL, "not a list of clauses", spec);
  cotp_match_spec *ms = calloc(1, sizeof *ms + n * sizeof(struct clause));
  cotp_heap *h = cotp_heap_new();
  cotp_term copy = h ? cotp_term_copy(h, spec) : COTP_NONE;
  if (!ms || cotp_is_none(copy)) {
    free(ms);
    cotp_heap_free(h);
    return fail(&k, COTP_ENOMEM, "out of memory", spec);
  }
  ms->heap = h;
  ms->a = (struct atoms){cotp_atom("_").w, cotp_atom("$_").w,
                         cotp_atom("$$").w, cotp_atom("const").w};
  ms->n = n;
  size_t i = 0;
  for (cotp_term l = copy; cotp_is_cons(l); l = cotp_tail(l), i++) {
    k.c = &ms->clauses[i];
    if (compile_clause(&k, cotp_head(l))) {
      cotp_match_spec_free(ms);
      return k.rc;
    }
  }
  *out = ms;
  return 0;
}

int cotp_match_spec_compile_clause(cotp_term head, cotp_term guards,
                                   cotp_term body, cotp_match_spec **out,
                                   cotp_error *err) {
  if (cotp_is_none(head) || cotp_is_none(guards))
    return COTP_EINVAL;
  cotp_heap *h = cotp_heap_new();
  if (!h)
    return COTP_ENOMEM;
  if (cotp_is_none(body))
    body = COTP_LIST(h, COTP_ATOM_TRUE);
  cotp_term spec = COTP_LIST(h, COTP_TUPLE(h, head, guards, body));
  int rc = cotp_is_none(spec) ? COTP_ENOMEM : cotp_match_spec_compile(spec, out, err);
  cotp_heap_free(h);
  return rc;
}

void cotp_match_spec_free(cotp_match_spec *ms) {
  if (!ms)
    return;
  cotp_heap_free(ms->heap);
  free(ms);
}

/* --- running --- */

struct run {
  const struct clause *c;
  struct atoms a;
  cotp_term vals[COTP_MATCH_SPEC_MAX_VARS];
  cotp_term whole;
  cotp_heap *h;       /* where values are built */
  cotp_heap *scratch; /* made when h is NULL and a guard builds */
};

static bool match_head(struct run *r, cotp_term p, cotp_term t) {
  if (p.w == r->a.any)
    return true;
  if (cotp_is_atom(p)) {
    int slot = var_slot(r->c, p);
    if (slot < 0)
      return p.w == t.w;
    if (cotp_is_none(r->vals[slot])) {
      r->vals[slot] = t;
      return true;
    }
    return cotp_term_eq(r->vals[slot], t);
  }
  if (cotp_is_tuple(p)) {
    size_t n = cotp_tuple_size(p);
    if (!cotp_is_tuple(t) || cotp_tuple_size(t) != n)
      return false;
    for (size_t i = 0; i < n; i++)
      if (!match_head(r, cotp_tuple_get(p, i), cotp_tuple_get(t, i)))
        return false;
    return true;
  }
  if (cotp_is_cons(p)) {
    return cotp_is_cons(t) && match_head(r, cotp_head(p), cotp_head(t)) &&
           match_head(r, cotp_tail(p), cotp_tail(t));
  }
  if (cotp_is_map(p)) {
    if (!cotp_is_map(t))
      return false;
    for (size_t i = 0; i < cotp_map_size(p); i++) {
      cotp_term v = cotp_map_get(t, cotp_map_key(p, i));
      if (cotp_is_none(v) || !match_head(r, cotp_map_value(p, i), v))
        return false;
    }
    return true;
  }
  return cotp_term_eq(p, t);
}

static cotp_heap *heap_of(struct run *r) {
  if (r->h)
    return r->h;
  if (!r->scratch)
    r->scratch = cotp_heap_new();
  return r->scratch;
}

/* Evaluation: false means the expression failed (badarg, badarith, or no
 * memory); *out is its value otherwise. */
static bool eval(struct run *r, cotp_term e, cotp_term *out);

static bool int_result(struct run *r, bool overflow, int64_t v,
                       cotp_term *out) {
  if (overflow)
    return false; /* no bignums: as a badarith */
  *out = cotp_int(heap_of(r), v);
  return !cotp_is_none(*out);
}

static bool arith(struct run *r, enum fn f, cotp_term a, cotp_term b,
                  cotp_term *out) {
  if (!cotp_is_number(a) || !cotp_is_number(b))
    return false;
  if (cotp_is_integer(a) && cotp_is_integer(b)) {
    int64_t x = cotp_int_value(a), y = cotp_int_value(b), z = 0;
    bool over;
    switch (f) {
    case F_ADD:
      over = __builtin_add_overflow(x, y, &z);
      return int_result(r, over, z, out);
    case F_SUB:
      over = __builtin_sub_overflow(x, y, &z);
      return int_result(r, over, z, out);
    case F_MUL:
      over = __builtin_mul_overflow(x, y, &z);
      return int_result(r, over, z, out);
    case F_DIV:
      return y != 0 && int_result(r, x == INT64_MIN && y == -1, y ? x / y : 0, out);
    case F_REM:
      return y != 0 && int_result(r, false, y == -1 ? 0 : x % y, out);
    default: return false;
    }
  }
  if (f == F_DIV || f == F_REM)
    return false; /* integer operators */
  double x, y, z;
  cotp_get_float(a, &x);
  cotp_get_float(b, &y);
  z = f == F_ADD ? x + y : f == F_SUB ? x - y : x * y;
  *out = cotp_float(heap_of(r), z);
  return !cotp_is_none(*out);
}

/* and/or/andalso/orelse over the arguments of call e, from index 1. */
static bool logic(struct run *r, enum fn f, cotp_term e, cotp_term *out) {
  bool is_and = f == F_AND || f == F_ANDALSO;
  bool strict = f == F_AND || f == F_OR;
  bool result = is_and;
  for (size_t i = 1; i < cotp_tuple_size(e); i++) {
    cotp_term v;
    if (!eval(r, cotp_tuple_get(e, i), &v) || !cotp_is_boolean(v))
      return false;
    bool b = v.w == COTP_ATOM_TRUE.w;
    if (is_and ? !b : b) {
      result = !is_and;
      if (!strict)
        break;
    }
  }
  *out = cotp_bool(result);
  return true;
}

static bool call(struct run *r, cotp_term e, cotp_term *out) {
  enum fn f = functions[find_function(cotp_tuple_get(e, 0),
                                      cotp_tuple_size(e) - 1)].fn;
  if (f >= F_NOT && f <= F_ORELSE && f != F_NOT && f != F_XOR)
    return logic(r, f, e, out);
  if (f == F_SELF) {
    *out = cotp_pid_term(cotp_self());
    return true;
  }
  size_t argc = cotp_tuple_size(e) - 1;
  cotp_term a = COTP_NONE, b = COTP_NONE;
  if (!eval(r, cotp_tuple_get(e, 1), &a) ||
      (argc == 2 && !eval(r, cotp_tuple_get(e, 2), &b)))
    return false;
  size_t len;
  switch (f) {
  case F_IS_ATOM: *out = cotp_bool(cotp_is_atom(a)); return true;
  case F_IS_BINARY: *out = cotp_bool(cotp_is_binary(a)); return true;
  case F_IS_BOOLEAN: *out = cotp_bool(cotp_is_boolean(a)); return true;
  case F_IS_FLOAT: *out = cotp_bool(cotp_is_float(a)); return true;
  case F_IS_FUNCTION: *out = COTP_ATOM_FALSE; return true; /* no funs */
  case F_IS_INTEGER: *out = cotp_bool(cotp_is_integer(a)); return true;
  case F_IS_LIST: *out = cotp_bool(cotp_is_list(a)); return true;
  case F_IS_MAP: *out = cotp_bool(cotp_is_map(a)); return true;
  case F_IS_NUMBER: *out = cotp_bool(cotp_is_number(a)); return true;
  case F_IS_PID: *out = cotp_bool(cotp_is_pid(a)); return true;
  case F_IS_PORT: *out = COTP_ATOM_FALSE; return true; /* no ports */
  case F_IS_REFERENCE: *out = cotp_bool(cotp_is_ref(a)); return true;
  case F_IS_TUPLE: *out = cotp_bool(cotp_is_tuple(a)); return true;
  case F_IS_MAP_KEY:
    if (!cotp_is_map(b))
      return false;
    *out = cotp_bool(!cotp_is_none(cotp_map_get(b, a)));
    return true;
  case F_GT: *out = cotp_bool(cotp_term_compare(a, b) > 0); return true;
  case F_GE: *out = cotp_bool(cotp_term_compare(a, b) >= 0); return true;
  case F_LT: *out = cotp_bool(cotp_term_compare(a, b) < 0); return true;
  case F_LE: *out = cotp_bool(cotp_term_compare(a, b) <= 0); return true;
  case F_EQ: *out = cotp_bool(cotp_term_compare(a, b) == 0); return true;
  case F_NE: *out = cotp_bool(cotp_term_compare(a, b) != 0); return true;
  case F_EXACT_EQ: *out = cotp_bool(cotp_term_eq(a, b)); return true;
  case F_EXACT_NE: *out = cotp_bool(!cotp_term_eq(a, b)); return true;
  case F_NOT:
    if (!cotp_is_boolean(a))
      return false;
    *out = cotp_bool(a.w == COTP_ATOM_FALSE.w);
    return true;
  case F_XOR:
    if (!cotp_is_boolean(a) || !cotp_is_boolean(b))
      return false;
    *out = cotp_bool(a.w != b.w);
    return true;
  case F_ADD:
  case F_SUB:
    if (argc == 1) { /* unary */
      if (!cotp_is_number(a))
        return false;
      if (f == F_ADD) {
        *out = a;
        return true;
      }
      return arith(r, F_SUB, cotp_int(NULL, 0), a, out);
    }
    return arith(r, f, a, b, out);
  case F_MUL:
  case F_DIV:
  case F_REM:
    return arith(r, f, a, b, out);
  case F_ABS:
    if (!cotp_is_number(a))
      return false;
    if (cotp_term_compare(a, cotp_int(NULL, 0)) >= 0) {
      *out = a;
      return true;
    }
    return arith(r, F_SUB, cotp_int(NULL, 0), a, out);
  case F_ELEMENT: {
    int64_t i;
    if (cotp_get_int(a, &i) != 0 || !cotp_is_tuple(b) || i < 1 ||
        (uint64_t)i > cotp_tuple_size(b))
      return false;
    *out = cotp_tuple_get(b, (size_t)i - 1);
    return true;
  }
  case F_HD:
  case F_TL:
    if (!cotp_is_cons(a))
      return false;
    *out = f == F_HD ? cotp_head(a) : cotp_tail(a);
    return true;
  case F_LENGTH:
    if (cotp_list_length(a, &len) != 0)
      return false;
    *out = cotp_int(NULL, (int64_t)len);
    return true;
  case F_SIZE:
  case F_TUPLE_SIZE:
    if (cotp_is_tuple(a)) {
      *out = cotp_int(NULL, (int64_t)cotp_tuple_size(a));
      return true;
    }
    if (f == F_SIZE && cotp_binary_data(a, &len)) {
      *out = cotp_int(NULL, (int64_t)len);
      return true;
    }
    return false;
  case F_MAP_SIZE:
    if (!cotp_is_map(a))
      return false;
    *out = cotp_int(NULL, (int64_t)cotp_map_size(a));
    return true;
  case F_BYTE_SIZE:
    if (!cotp_binary_data(a, &len))
      return false;
    *out = cotp_int(NULL, (int64_t)len);
    return true;
  case F_MAP_GET:
    if (!cotp_is_map(b))
      return false;
    *out = cotp_map_get(b, a);
    return !cotp_is_none(*out);
  default:
    return false;
  }
}

/* `$$`: the head's variables, by number. */
static bool all_vars(struct run *r, cotp_term *out) {
  cotp_term l = COTP_NIL;
  for (size_t i = r->c->nvars; i-- > 0;)
    l = cotp_cons(heap_of(r), r->vals[i], l);
  *out = l;
  return !cotp_is_none(l);
}

static bool eval(struct run *r, cotp_term e, cotp_term *out) {
  if (cotp_is_atom(e)) {
    int slot = var_slot(r->c, e);
    if (slot >= 0)
      *out = r->vals[slot];
    else if (e.w == r->a.whole)
      *out = r->whole;
    else if (e.w == r->a.all)
      return all_vars(r, out);
    else
      *out = e;
    return true;
  }
  if (cotp_is_cons(e)) {
    cotp_term hd, tl;
    if (!eval(r, cotp_head(e), &hd) || !eval(r, cotp_tail(e), &tl))
      return false;
    *out = cotp_cons(heap_of(r), hd, tl);
    return !cotp_is_none(*out);
  }
  if (cotp_is_map(e)) {
    *out = cotp_map(heap_of(r), 0, NULL, NULL);
    for (size_t i = 0; i < cotp_map_size(e) && !cotp_is_none(*out); i++) {
      cotp_term k, v;
      if (!eval(r, cotp_map_key(e, i), &k) || !eval(r, cotp_map_value(e, i), &v))
        return false;
      *out = cotp_map_put(heap_of(r), *out, k, v);
    }
    return !cotp_is_none(*out);
  }
  if (!cotp_is_tuple(e)) {
    *out = e;
    return true;
  }
  cotp_term first = cotp_tuple_get(e, 0);
  if (cotp_tuple_size(e) == 1 && cotp_is_tuple(first)) {
    size_t n = cotp_tuple_size(first);
    cotp_term elems[n ? n : 1];
    for (size_t i = 0; i < n; i++)
      if (!eval(r, cotp_tuple_get(first, i), &elems[i]))
        return false;
    *out = cotp_tuple(heap_of(r), n, elems);
    return !cotp_is_none(*out);
  }
  if (first.w == r->a.konst) {
    *out = cotp_tuple_get(e, 1);
    return true;
  }
  return call(r, e, out);
}

int cotp_match_spec_run(const cotp_match_spec *ms, cotp_term t,
                        cotp_term whole, cotp_heap *h, cotp_term *result) {
  if (!ms || cotp_is_none(t))
    return COTP_EINVAL;
  struct run r = {.a = ms->a, .h = h, .whole = cotp_is_none(whole) ? t : whole};
  int rc = 0;
  for (size_t i = 0; i < ms->n && rc == 0; i++) {
    r.c = &ms->clauses[i];
    for (size_t v = 0; v < r.c->nvars; v++)
      r.vals[v] = COTP_NONE;
    if (!match_head(&r, r.c->head, t))
      continue;
    bool pass = true;
    for (cotp_term g = r.c->guards; pass && cotp_is_cons(g); g = cotp_tail(g)) {
      cotp_term v;
      pass = eval(&r, cotp_head(g), &v) && v.w == COTP_ATOM_TRUE.w;
    }
    if (!pass)
      continue;
    rc = 1;
    if (!h)
      break;
    cotp_term v = COTP_NONE;
    for (cotp_term b = r.c->body; cotp_is_cons(b); b = cotp_tail(b))
      if (!eval(&r, cotp_head(b), &v)) {
        v = COTP_ATOM_EXIT; /* as ETS: a body that fails gives 'EXIT' */
        break;
      }
    if (cotp_is_none(v))
      rc = COTP_ENOMEM;
    else if (result)
      *result = v;
  }
  cotp_heap_free(r.scratch);
  return rc;
}
