/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compiled.h: the inside of a compiled pattern (pattern.c) and its guard
 * (guard.c).
 *
 * The match program is the parser's node tree (parse.h) with every subtree
 * that has no variable and no map folded into one LIT node, so matching a
 * literal part costs one cotp_term_eq.  Maps are never folded: a map
 * pattern matches any map that has its keys, which equality would not.
 *
 * A guard is a second tree in preorder.  Every node records the size of its
 * subtree (`skip`) so that `and`/`or` can short-circuit past an operand
 * without evaluating it, as Elixir does.
 */
#ifndef COTP_TERM_COMPILED_H
#define COTP_TERM_COMPILED_H

#include "cotp/pattern.h"
#include "parse.h"

enum gop {
  G_OR, G_AND, G_NOT, /* booleans */
  G_CMP,              /* n: enum gcmp */
  G_IN, G_NOTIN,      /* element, list */
  G_TYPE,             /* n: enum gtype; one operand */
  G_FN,               /* n: enum gfn; operands follow */
  G_VAR, G_PIN, G_LIT /* leaves */
};

enum gcmp { C_EQ, C_NE, C_EXACT_EQ, C_EXACT_NE, C_LT, C_GT, C_LE, C_GE };

enum gtype {
  TY_ATOM, TY_BINARY, TY_BOOLEAN, TY_FLOAT, TY_INTEGER, TY_LIST, TY_MAP,
  TY_NIL, TY_NUMBER, TY_PID, TY_REFERENCE, TY_TUPLE, TY_MAP_KEY
};

enum gfn { F_TUPLE_SIZE, F_MAP_SIZE, F_BYTE_SIZE, F_LENGTH, F_ELEM, F_HD,
           F_TL, F_ABS };

struct gnode {
  uint16_t op;
  uint16_t n;
  uint32_t skip; /* nodes in this subtree, itself included */
  cotp_term lit;
};

struct cotp_pattern {
  struct node *nodes; /* match program */
  size_t nnodes;
  bool flat_tuple;     /* a tuple of leaves (pattern.c's fast path) */
  struct gnode *guard; /* NULL when there is no guard */
  size_t nguard;
  uint32_t ncaptures, npins;
  char **names;        /* capture names, then pin names */
  cotp_heap *lits;     /* literal terms of both programs */
  char *source;
};

/* Parses a guard expression at the lexer's current token into pat->guard,
 * using p's variables.  Returns false with the error in p->lx. */
bool cotp__guard_compile(struct parser *p, struct cotp_pattern *pat);

/* Evaluates the guard; true only when it evaluates to the atom true. */
bool cotp__guard_eval(const struct cotp_pattern *pat, const cotp_term *caps,
                      const cotp_term *pins);

/* Builds the term of the variable-free subtree at *i (format.c). */
cotp_term cotp__parse_build(struct parser *p, size_t *i);

#endif
