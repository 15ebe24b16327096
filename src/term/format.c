/* SPDX-License-Identifier: Apache-2.0 */
/*
 * format.c: terms from text, cotp_format() and cotp_parse().
 *
 * The text is parsed into the node tree of parse.h (scalars and
 * placeholder values are built as they are read), then the compound nodes
 * are built bottom-up.  Parsing the whole text first means a syntax error
 * anywhere builds nothing compound; the scalars already built stay in the
 * heap until it is freed or released, like any failed construction.
 */
#include <stdlib.h>

#include "compiled.h"

/* Builds the subtree at *i; returns COTP_NONE (error in h) on failure. */
cotp_term cotp__parse_build(struct parser *p, size_t *i) {
  const struct node *nd = &p->nodes[(*i)++];
  switch (nd->op) {
  case N_LIT:
    return nd->lit;
  case N_TUPLE: {
    cotp_term elems[16] = {{0}}, *e = nd->n <= 16 ? elems : calloc(nd->n, sizeof *e);
    if (!e) {
      cotp__heap_fail(p->heap, COTP_ENOMEM, "format: out of memory");
      return COTP_NONE;
    }
    for (uint32_t k = 0; k < nd->n; k++)
      e[k] = cotp__parse_build(p, i);
    cotp_term t = cotp_tuple(p->heap, nd->n, e);
    if (e != elems)
      free(e);
    return t;
  }
  case N_CONS: {
    /* A list is a run of CONS nodes: build the heads, then the tail, then
     * the cells back to front, without recursing once per element. */
    size_t n = 1;
    cotp_term heads[16], *hd = heads;
    size_t cap = 16;
    for (;;) {
      if (n > cap) {
        cap *= 2;
        cotp_term *bigger = malloc(cap * sizeof *bigger);
        if (!bigger) {
          if (hd != heads)
            free(hd);
          cotp__heap_fail(p->heap, COTP_ENOMEM, "format: out of memory");
          return COTP_NONE;
        }
        memcpy(bigger, hd, (n - 1) * sizeof *hd);
        if (hd != heads)
          free(hd);
        hd = bigger;
      }
      hd[n - 1] = cotp__parse_build(p, i);
      if (p->nodes[*i].op != N_CONS)
        break;
      (*i)++;
      n++;
    }
    cotp_term t = cotp__parse_build(p, i);
    while (n-- > 0)
      t = cotp_cons(p->heap, hd[n], t);
    if (hd != heads)
      free(hd);
    return t;
  }
  case N_MAP: {
    size_t n = nd->n;
    cotp_term small[32] = {{0}}, *kv = 2 * n <= 32 ? small : calloc(2 * n, sizeof *kv);
    if (!kv) {
      cotp__heap_fail(p->heap, COTP_ENOMEM, "format: out of memory");
      return COTP_NONE;
    }
    for (size_t k = 0; k < n; k++) {
      kv[k] = cotp__parse_build(p, i);
      kv[n + k] = cotp__parse_build(p, i);
    }
    cotp_term t = cotp_map(p->heap, n, kv, kv + n);
    if (kv != small)
      free(kv);
    return t;
  }
  default:
    return COTP_NONE; /* variables never reach a format */
  }
}

/* Parses text (with placeholders when ap is given) and builds its term. */
static cotp_term from_text(cotp_heap *h, const char *text, va_list *ap,
                           const char *who) {
  if (!h)
    return COTP_NONE;
  if (!text) {
    cotp__heap_fail(h, COTP_EINVAL, "%s: text is NULL", who);
    return COTP_NONE;
  }
  cotp_error err = {0};
  struct parser p = {.heap = h, .ap = ap};
  cotp__lex_init(&p.lx, text, &err);
  bool ok = cotp__parse_term(&p);
  if (ok && p.lx.tok.kind != T_EOF) {
    cotp__lex_fail(&p.lx, COTP_ESYNTAX, p.lx.tok.at,
                   "unexpected text after the term");
    ok = false;
  }
  cotp_term t = COTP_NONE;
  if (ok) {
    size_t i = 0;
    t = cotp__parse_build(&p, &i);
  } else {
    cotp__heap_fail(h, err.code ? err.code : COTP_ESYNTAX, "%s: %s", who,
                    err.message);
  }
  cotp__parse_done(&p);
  return t;
}

cotp_term cotp_vformat(cotp_heap *h, const char *fmt, va_list ap) {
  va_list copy;
  va_copy(copy, ap);
  cotp_term t = from_text(h, fmt, &copy, "format");
  va_end(copy);
  return t;
}

cotp_term cotp_format(cotp_heap *h, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cotp_term t = cotp_vformat(h, fmt, ap);
  va_end(ap);
  return t;
}

cotp_term cotp_parse(cotp_heap *h, const char *text) {
  return from_text(h, text, NULL, "parse");
}
