/* SPDX-License-Identifier: Apache-2.0 */
/*
 * parse.h: Elixir literal syntax to a flat tree of nodes, shared by format
 * strings and patterns.
 *
 * The tree is an array in preorder: a TUPLE node of n elements is followed
 * by the n subtrees, a CONS node by the head's subtree and then the tail's,
 * a MAP node of n pairs by n (key, value) subtree pairs.  Scalars, and any
 * binary, become LIT nodes holding a term built in the parse heap.  In
 * pattern mode identifiers are variables: `_` and `_name` are ANY, the first
 * `name` is BIND (capture number n), a repeated `name` is SAME (must equal
 * capture n) and `^name` is PIN (pin number n).  In format mode ~x
 * directives take the next argument and become LIT nodes.
 *
 * A format is built straight from this tree; a pattern folds its variable-
 * free subtrees into LIT nodes and matches against the rest.
 */
#ifndef COTP_TERM_PARSE_H
#define COTP_TERM_PARSE_H

#include "lex.h"

#define PARSE_MAX_DEPTH 200 /* nesting that a process's stack can afford */
#define PARSE_MAX_VARS 64

enum node_op { N_LIT, N_TUPLE, N_CONS, N_MAP, N_ANY, N_BIND, N_SAME, N_PIN };

struct node {
  uint32_t op;
  uint32_t n;    /* arity, pairs, capture or pin number */
  cotp_term lit; /* N_LIT */
};

struct var {
  const char *s;
  size_t len;
  bool pinned;
  uint32_t index; /* capture or pin number */
};

struct parser {
  struct lexer lx;
  cotp_heap *heap;  /* literals are built here */
  bool pattern;     /* variables allowed; directives are not */
  va_list *ap;      /* format arguments */
  struct node *nodes;
  size_t n, cap;
  struct var vars[PARSE_MAX_VARS];
  uint32_t nvars, ncaptures, npins;
  int depth;
};

/* Parses one term at the lexer's current token, appending its nodes.
 * Returns false (error in p->lx.err) on failure. */
bool cotp__parse_term(struct parser *p);
/* Frees the node array. */
void cotp__parse_done(struct parser *p);
/* Records a heap error (a constructor failed) as a parse error at `at`. */
void cotp__parse_heap_error(struct parser *p, size_t at);
/* Looks up a variable by name; NULL if it was never seen. */
const struct var *cotp__parse_var(const struct parser *p, const char *s,
                                  size_t len);

#endif
