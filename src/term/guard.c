/* SPDX-License-Identifier: Apache-2.0 */
/*
 * guard.c: the `when` part of a pattern.
 *
 *   or_expr   := and_expr {'or' and_expr}
 *   and_expr  := eq_expr {'and' eq_expr}
 *   eq_expr   := rel_expr [('==' | '!=' | '===' | '!==') rel_expr]
 *   rel_expr  := in_expr [('<' | '>' | '<=' | '>=') in_expr]
 *   in_expr   := unary [['not'] 'in' unary]
 *   unary     := 'not' unary | primary
 *   primary   := '(' or_expr ')' | name '(' args ')' | variable | '^' pin
 *              | literal term
 *
 * The precedence is Elixir's, including its surprise: `not` binds tighter
 * than comparison, so `not x == 1` is `(not x) == 1`.
 *
 * Evaluation returns a term (the atom true/false for booleans, an integer
 * for tuple_size and friends) or COTP_NONE when evaluation fails; the guard
 * passes only when the result is exactly true.  Nothing is allocated:
 * every value is either a part of the matched term, a literal, or a small
 * integer, which needs no heap.
 */
#include <stdlib.h>

#include "compiled.h"

struct gbuild {
  struct parser *p;
  struct gnode *g;
  size_t n, cap;
};

static bool gfail(struct gbuild *b, const char *msg) {
  cotp__lex_fail(&b->p->lx, COTP_ESYNTAX, b->p->lx.tok.at, "guard: %s", msg);
  return false;
}

/* Appends a node; returns its index or -1. */
static long gemit(struct gbuild *b, enum gop op, unsigned n, cotp_term lit) {
  if (b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 16;
    struct gnode *g = realloc(b->g, cap * sizeof *g);
    if (!g) {
      gfail(b, "out of memory");
      return -1;
    }
    b->g = g;
    b->cap = cap;
  }
  b->g[b->n] = (struct gnode){(uint16_t)op, (uint16_t)n, 1, lit};
  return (long)b->n++;
}

/* Closes the subtree begun at index at. */
static void gclose(struct gbuild *b, long at) {
  b->g[at].skip = (uint32_t)(b->n - (size_t)at);
}

static bool word(const struct token *t, const char *w) {
  size_t n = strlen(w);
  return t->kind == T_IDENT && t->len == n && memcmp(t->s, w, n) == 0;
}

static bool op_is(const struct token *t, const char *w) {
  size_t n = strlen(w);
  return t->kind == T_OP && t->len == n && memcmp(t->s, w, n) == 0;
}

static bool or_expr(struct gbuild *b);

static const struct {
  const char *name;
  enum gop op;
  unsigned n, arity;
} functions[] = {
    {"is_atom", G_TYPE, TY_ATOM, 1},       {"is_binary", G_TYPE, TY_BINARY, 1},
    {"is_bitstring", G_TYPE, TY_BINARY, 1}, {"is_boolean", G_TYPE, TY_BOOLEAN, 1},
    {"is_float", G_TYPE, TY_FLOAT, 1},     {"is_integer", G_TYPE, TY_INTEGER, 1},
    {"is_list", G_TYPE, TY_LIST, 1},       {"is_map", G_TYPE, TY_MAP, 1},
    {"is_nil", G_TYPE, TY_NIL, 1},         {"is_number", G_TYPE, TY_NUMBER, 1},
    {"is_pid", G_TYPE, TY_PID, 1},         {"is_reference", G_TYPE, TY_REFERENCE, 1},
    {"is_tuple", G_TYPE, TY_TUPLE, 1},     {"is_map_key", G_TYPE, TY_MAP_KEY, 2},
    {"tuple_size", G_FN, F_TUPLE_SIZE, 1}, {"map_size", G_FN, F_MAP_SIZE, 1},
    {"byte_size", G_FN, F_BYTE_SIZE, 1},   {"length", G_FN, F_LENGTH, 1},
    {"elem", G_FN, F_ELEM, 2},             {"hd", G_FN, F_HD, 1},
    {"tl", G_FN, F_TL, 1},                 {"abs", G_FN, F_ABS, 1},
};

static bool call(struct gbuild *b, struct token name) {
  for (size_t k = 0; k < sizeof functions / sizeof *functions; k++) {
    if (!word(&name, functions[k].name))
      continue;
    long at = gemit(b, functions[k].op, functions[k].n, COTP_NONE);
    if (at < 0)
      return false;
    cotp__lex_next(&b->p->lx); /* past '(' */
    for (unsigned a = 0; a < functions[k].arity; a++) {
      if (a > 0) {
        if (b->p->lx.tok.kind != T_COMMA)
          return gfail(b, "expected ',' between arguments");
        cotp__lex_next(&b->p->lx);
      }
      if (!or_expr(b))
        return false;
    }
    if (b->p->lx.tok.kind != T_RPAREN)
      return gfail(b, "expected ')' after the arguments");
    cotp__lex_next(&b->p->lx);
    gclose(b, at);
    return true;
  }
  return gfail(b, "unknown function (see cotp/pattern.h for the list)");
}

static bool literal(struct gbuild *b) {
  struct parser *p = b->p;
  size_t mark = p->n;
  p->pattern = false; /* a literal: no variables inside */
  bool ok = cotp__parse_term(p);
  p->pattern = true;
  if (!ok)
    return false;
  size_t i = mark;
  cotp_term t = cotp__parse_build(p, &i);
  p->n = mark;
  if (cotp_is_none(t)) {
    cotp__parse_heap_error(p, p->lx.tok.at);
    return false;
  }
  return gemit(b, G_LIT, 0, t) >= 0;
}

static bool primary(struct gbuild *b) {
  struct lexer *lx = &b->p->lx;
  struct token t = lx->tok;
  if (t.kind == T_LPAREN) {
    cotp__lex_next(lx);
    if (!or_expr(b))
      return false;
    if (lx->tok.kind != T_RPAREN)
      return gfail(b, "expected ')'");
    cotp__lex_next(lx);
    return true;
  }
  if (t.kind == T_CARET) {
    cotp__lex_next(lx);
    const struct var *v = lx->tok.kind == T_IDENT
                              ? cotp__parse_var(b->p, lx->tok.s, lx->tok.len)
                              : NULL;
    if (!v || !v->pinned) {
      if (lx->tok.kind != T_IDENT)
        return gfail(b, "expected a name after ^");
      /* a pin seen only in the guard */
      if (v)
        return gfail(b, "a variable cannot be both pinned and captured");
      if (b->p->nvars == PARSE_MAX_VARS)
        return gfail(b, "more than 64 variables");
      b->p->vars[b->p->nvars++] =
          (struct var){lx->tok.s, lx->tok.len, true, b->p->npins++};
      v = &b->p->vars[b->p->nvars - 1];
    }
    cotp__lex_next(lx);
    return gemit(b, G_PIN, v->index, COTP_NONE) >= 0;
  }
  if (t.kind == T_IDENT) {
    cotp__lex_next(lx);
    if (lx->tok.kind == T_LPAREN)
      return call(b, t);
    const struct var *v = cotp__parse_var(b->p, t.s, t.len);
    if (!v) {
      cotp__lex_fail(lx, COTP_ESYNTAX, t.at,
                     "guard: %.*s is not a variable of the pattern",
                     (int)t.len, t.s);
      return false;
    }
    return gemit(b, v->pinned ? G_PIN : G_VAR, v->index, COTP_NONE) >= 0;
  }
  return literal(b);
}

static bool unary(struct gbuild *b) {
  if (word(&b->p->lx.tok, "not")) {
    cotp__lex_next(&b->p->lx);
    long at = gemit(b, G_NOT, 0, COTP_NONE);
    if (at < 0 || !unary(b))
      return false;
    gclose(b, at);
    return true;
  }
  return primary(b);
}

/* Turns the operand just built at `at` into the left child of a binary
 * node: shifts it right by one and puts the node in front. */
static long wrap(struct gbuild *b, long at, enum gop op, unsigned n) {
  if (gemit(b, op, n, COTP_NONE) < 0)
    return -1;
  struct gnode node = b->g[b->n - 1];
  memmove(&b->g[at + 1], &b->g[at], (b->n - 1 - (size_t)at) * sizeof *b->g);
  b->g[at] = node;
  return at;
}

static bool in_expr(struct gbuild *b) {
  long at = (long)b->n;
  if (!unary(b))
    return false;
  struct lexer *lx = &b->p->lx;
  bool negated = false;
  if (word(&lx->tok, "not")) {
    /* `x not in list`; the lexer has moved on, so look at the next word */
    cotp__lex_next(lx);
    if (!word(&lx->tok, "in"))
      return gfail(b, "expected 'in' after 'not'");
    negated = true;
  }
  if (!word(&lx->tok, "in"))
    return true;
  cotp__lex_next(lx);
  if ((at = wrap(b, at, negated ? G_NOTIN : G_IN, 0)) < 0 || !unary(b))
    return false;
  gclose(b, at);
  return true;
}

static bool binary_level(struct gbuild *b, bool (*operand)(struct gbuild *),
                         const char *const *ops, const enum gcmp *codes,
                         size_t nops) {
  long at = (long)b->n;
  if (!operand(b))
    return false;
  for (size_t k = 0; k < nops; k++) {
    if (!op_is(&b->p->lx.tok, ops[k]))
      continue;
    cotp__lex_next(&b->p->lx);
    if ((at = wrap(b, at, G_CMP, codes[k])) < 0 || !operand(b))
      return false;
    gclose(b, at);
    return true;
  }
  return true;
}

static bool rel_expr(struct gbuild *b) {
  static const char *const ops[] = {"<=", ">=", "<", ">"};
  static const enum gcmp codes[] = {C_LE, C_GE, C_LT, C_GT};
  return binary_level(b, in_expr, ops, codes, 4);
}

static bool eq_expr(struct gbuild *b) {
  static const char *const ops[] = {"===", "!==", "==", "!="};
  static const enum gcmp codes[] = {C_EXACT_EQ, C_EXACT_NE, C_EQ, C_NE};
  return binary_level(b, rel_expr, ops, codes, 4);
}

static bool chain(struct gbuild *b, bool (*operand)(struct gbuild *),
                  const char *w, enum gop op) {
  long at = (long)b->n;
  if (!operand(b))
    return false;
  while (word(&b->p->lx.tok, w)) {
    cotp__lex_next(&b->p->lx);
    if ((at = wrap(b, at, op, 0)) < 0 || !operand(b))
      return false;
    gclose(b, at);
  }
  return true;
}

static bool and_expr(struct gbuild *b) { return chain(b, eq_expr, "and", G_AND); }

static bool or_expr(struct gbuild *b) {
  if (++b->p->depth > PARSE_MAX_DEPTH)
    return gfail(b, "nesting deeper than 200");
  bool ok = chain(b, and_expr, "or", G_OR);
  b->p->depth--;
  return ok;
}

bool cotp__guard_compile(struct parser *p, struct cotp_pattern *pat) {
  struct gbuild b = {.p = p};
  if (!or_expr(&b)) {
    free(b.g);
    return false;
  }
  pat->guard = b.g;
  pat->nguard = b.n;
  pat->ncaptures = p->ncaptures;
  pat->npins = p->npins;
  return true;
}

/* --- evaluation --- */

static cotp_term eval(const struct gnode *g, size_t *i, const cotp_term *caps,
                      const cotp_term *pins);

static bool truthy(cotp_term t) { return t.w == COTP_ATOM_TRUE.w; }

static cotp_term type_test(const struct gnode *g, size_t *i, unsigned ty,
                           const cotp_term *caps, const cotp_term *pins) {
  cotp_term x = eval(g, i, caps, pins);
  if (cotp_is_none(x))
    return COTP_NONE;
  bool r;
  switch (ty) {
  case TY_ATOM: r = cotp_is_atom(x); break;
  case TY_BINARY: r = cotp_is_binary(x); break;
  case TY_BOOLEAN: r = cotp_is_boolean(x); break;
  case TY_FLOAT: r = cotp_is_float(x); break;
  case TY_INTEGER: r = cotp_is_integer(x); break;
  case TY_LIST: r = cotp_is_list(x); break;
  case TY_MAP: r = cotp_is_map(x); break;
  case TY_NIL: r = x.w == COTP_ATOM_NIL.w; break;
  case TY_NUMBER: r = cotp_is_number(x); break;
  case TY_PID: r = cotp_is_pid(x); break;
  case TY_REFERENCE: r = cotp_is_ref(x) || cotp_is_resource(x); break;
  case TY_TUPLE: r = cotp_is_tuple(x); break;
  default: { /* is_map_key(map, key) */
    cotp_term key = eval(g, i, caps, pins);
    if (!cotp_is_map(x) || cotp_is_none(key))
      return COTP_NONE;
    r = !cotp_is_none(cotp_map_get(x, key));
  }
  }
  return cotp_bool(r);
}

static cotp_term small(int64_t v) { return cotp_int(NULL, v); }

static cotp_term function(const struct gnode *g, size_t *i, unsigned fn,
                          const cotp_term *caps, const cotp_term *pins) {
  cotp_term x = eval(g, i, caps, pins);
  if (cotp_is_none(x))
    return COTP_NONE;
  size_t n;
  switch (fn) {
  case F_TUPLE_SIZE:
    return cotp_is_tuple(x) ? small((int64_t)cotp_tuple_size(x)) : COTP_NONE;
  case F_MAP_SIZE:
    return cotp_is_map(x) ? small((int64_t)cotp_map_size(x)) : COTP_NONE;
  case F_BYTE_SIZE:
    return cotp_binary_data(x, &n) ? small((int64_t)n) : COTP_NONE;
  case F_LENGTH:
    return cotp_list_length(x, &n) == 0 ? small((int64_t)n) : COTP_NONE;
  case F_HD:
    return cotp_head(x);
  case F_TL:
    return cotp_tail(x);
  case F_ABS: {
    int64_t v;
    /* abs of a float or of INT64_MIN would need a heap: not in a guard */
    if (cotp_get_int(x, &v) != 0 || v == INT64_MIN)
      return COTP_NONE;
    cotp_term r = small(v < 0 ? -v : v);
    return r; /* NONE when |v| needs a heap (outside 61 bits) */
  }
  default: { /* elem(tuple, index), 0-based as in Elixir */
    cotp_term idx = eval(g, i, caps, pins);
    int64_t k;
    if (cotp_get_int(idx, &k) != 0 || k < 0)
      return COTP_NONE;
    return cotp_tuple_get(x, (size_t)k);
  }
  }
}

static cotp_term compare_op(unsigned code, cotp_term a, cotp_term b) {
  if (cotp_is_none(a) || cotp_is_none(b))
    return COTP_NONE;
  bool r;
  switch (code) {
  case C_EXACT_EQ: r = cotp_term_eq(a, b); break;
  case C_EXACT_NE: r = !cotp_term_eq(a, b); break;
  case C_EQ: r = cotp_term_compare(a, b) == 0; break;
  case C_NE: r = cotp_term_compare(a, b) != 0; break;
  case C_LT: r = cotp_term_compare(a, b) < 0; break;
  case C_GT: r = cotp_term_compare(a, b) > 0; break;
  case C_LE: r = cotp_term_compare(a, b) <= 0; break;
  default: r = cotp_term_compare(a, b) >= 0; break;
  }
  return cotp_bool(r);
}

static cotp_term member(cotp_term x, cotp_term list) {
  if (cotp_is_none(x) || !cotp_is_list(list))
    return COTP_NONE;
  for (; cotp_is_cons(list); list = cotp_tail(list))
    if (cotp_term_eq(cotp_head(list), x))
      return COTP_ATOM_TRUE;
  return cotp_is_nil(list) ? COTP_ATOM_FALSE : COTP_NONE;
}

static cotp_term eval(const struct gnode *g, size_t *i, const cotp_term *caps,
                      const cotp_term *pins) {
  const struct gnode *nd = &g[*i];
  size_t end = *i + nd->skip;
  (*i)++;
  cotp_term r = COTP_NONE, a, b;
  switch (nd->op) {
  case G_VAR: r = caps[nd->n]; break;
  case G_PIN: r = pins[nd->n]; break;
  case G_LIT: r = nd->lit; break;
  case G_NOT:
    a = eval(g, i, caps, pins);
    r = cotp_is_boolean(a) ? cotp_bool(!truthy(a)) : COTP_NONE;
    break;
  case G_AND:
  case G_OR:
    /* Elixir's `and`/`or` short-circuit and demand a boolean on the left */
    a = eval(g, i, caps, pins);
    if (!cotp_is_boolean(a))
      break;
    if (truthy(a) == (nd->op == G_OR)) {
      r = a;
      break;
    }
    r = eval(g, i, caps, pins);
    break;
  case G_CMP:
    a = eval(g, i, caps, pins);
    b = eval(g, i, caps, pins);
    r = compare_op(nd->n, a, b);
    break;
  case G_IN:
  case G_NOTIN:
    a = eval(g, i, caps, pins);
    b = eval(g, i, caps, pins);
    r = member(a, b);
    if (nd->op == G_NOTIN && !cotp_is_none(r))
      r = cotp_bool(!truthy(r));
    break;
  case G_TYPE: r = type_test(g, i, nd->n, caps, pins); break;
  case G_FN: r = function(g, i, nd->n, caps, pins); break;
  default: break;
  }
  *i = end; /* past the subtree, also after a short circuit or a failure */
  return r;
}

bool cotp__guard_eval(const struct cotp_pattern *pat, const cotp_term *caps,
                      const cotp_term *pins) {
  size_t i = 0;
  return truthy(eval(pat->guard, &i, caps, pins));
}
