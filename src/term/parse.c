/* SPDX-License-Identifier: Apache-2.0 */
/*
 * parse.c: recursive descent from tokens to the node tree of parse.h.
 *
 *   term    := scalar | tuple | list | map | binary | var | '^' ident | ~x
 *   tuple   := '{' [term {',' term}] '}'
 *   list    := '[' ']' | '[' item {',' item} ['|' term] ']'
 *   item    := term | keyword term
 *   map     := '%{' [pair {',' pair}] '}'
 *   pair    := term '=>' term | keyword term
 *   binary  := '<<' [byte-or-string {',' byte-or-string}] '>>'
 *
 * Depth is bounded by PARSE_MAX_DEPTH so that hostile text cannot exhaust
 * the stack of the process parsing it.
 */
#include <stdlib.h>

#include "parse.h"

static bool fail(struct parser *p, int code, size_t at, const char *what) {
  cotp__lex_fail(&p->lx, code, at, "%s", what);
  return false;
}

void cotp__parse_heap_error(struct parser *p, size_t at) {
  int code = cotp_heap_error(p->heap);
  cotp__lex_fail(&p->lx, code ? code : COTP_ENOMEM, at, "%s",
                 code ? cotp_heap_error_message(p->heap) : "out of memory");
}

static struct node *emit(struct parser *p, uint32_t op, uint32_t n,
                         cotp_term lit) {
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 16;
    struct node *nodes = realloc(p->nodes, cap * sizeof *nodes);
    if (!nodes) {
      fail(p, COTP_ENOMEM, p->lx.tok.at, "out of memory");
      return NULL;
    }
    p->nodes = nodes;
    p->cap = cap;
  }
  struct node *nd = &p->nodes[p->n++];
  *nd = (struct node){op, n, lit};
  return nd;
}

static bool emit_lit(struct parser *p, cotp_term t, size_t at) {
  if (cotp_is_none(t)) {
    cotp__parse_heap_error(p, at);
    return false;
  }
  return emit(p, N_LIT, 0, t) != NULL;
}

void cotp__parse_done(struct parser *p) {
  free(p->nodes);
  p->nodes = NULL;
  p->n = p->cap = 0;
}

/* Decoded text of a quoted token, in a malloc'd buffer (freed by caller). */
static uint8_t *unescaped(struct parser *p, const struct token *t, size_t *len) {
  uint8_t *buf = malloc(t->len + 1);
  if (!buf) {
    fail(p, COTP_ENOMEM, t->at, "out of memory");
    return NULL;
  }
  long n = t->quoted ? cotp__lex_unescape(&p->lx, t, buf) : (long)t->len;
  if (n < 0) {
    free(buf);
    return NULL;
  }
  if (!t->quoted)
    memcpy(buf, t->s, t->len);
  *len = (size_t)n;
  return buf;
}

static bool atom_from(struct parser *p, const struct token *t,
                      const char *prefix, cotp_term *out) {
  size_t len, plen = strlen(prefix);
  uint8_t *text = unescaped(p, t, &len);
  if (!text)
    return false;
  uint8_t *full = malloc(plen + len + 1);
  int rc = COTP_ENOMEM;
  if (full) {
    memcpy(full, prefix, plen);
    memcpy(full + plen, text, len);
    rc = cotp_atom_new((const char *)full, plen + len, out);
  }
  free(text);
  free(full);
  if (rc) {
    cotp__lex_fail(&p->lx, rc, t->at, "bad atom: %s", cotp_strerror(rc));
    return false;
  }
  return true;
}

static bool string_lit(struct parser *p, const struct token *t, bool chars) {
  size_t len;
  uint8_t *text = unescaped(p, t, &len);
  if (!text)
    return false;
  cotp_term v;
  if (!chars) {
    v = cotp_binary(p->heap, text, len);
  } else if (memchr(text, 0, len) || !cotp__utf8_valid(text, len, NULL)) {
    free(text);
    return fail(p, COTP_EUTF8, t->at, "charlist is not valid UTF-8 text");
  } else {
    text[len] = '\0';
    v = cotp_charlist(p->heap, (const char *)text);
  }
  free(text);
  return emit_lit(p, v, t->at);
}

static bool directive(struct parser *p) {
  struct token t = p->lx.tok;
  if (p->pattern || !p->ap)
    return fail(p, COTP_ESYNTAX, t.at,
                p->pattern ? "placeholders (~x) are not allowed in patterns; "
                             "use ^pins"
                           : "placeholders (~x) need cotp_format");
  va_list *ap = p->ap;
  cotp_heap *h = p->heap;
  cotp_term v;
  switch (t.c) {
  case 'i': v = cotp_int(h, va_arg(*ap, int)); break;
  case 'l': v = cotp_int(h, va_arg(*ap, long)); break;
  case 'L': v = cotp_int(h, va_arg(*ap, long long)); break;
  case 'u': v = cotp_uint(h, va_arg(*ap, unsigned long)); break;
  case 'f': v = cotp_float(h, va_arg(*ap, double)); break;
  case 'a': {
    const char *name = va_arg(*ap, const char *);
    int rc = name ? cotp_atom_new(name, strlen(name), &v) : COTP_EINVAL;
    if (rc) {
      cotp__lex_fail(&p->lx, rc, t.at, "~a: %s", cotp_strerror(rc));
      return false;
    }
    break;
  }
  case 's': v = cotp_string(h, va_arg(*ap, const char *)); break;
  case 'b': {
    const void *data = va_arg(*ap, const void *);
    v = cotp_binary(h, data, va_arg(*ap, size_t));
    break;
  }
  case 'c': v = cotp_charlist(h, va_arg(*ap, const char *)); break;
  case 'p': v = cotp_pid_term(va_arg(*ap, cotp_pid)); break;
  case 't': v = va_arg(*ap, cotp_term); break;
  case 'r': v = cotp_resource_term(h, va_arg(*ap, cotp_resource *)); break;
  default:
    cotp__lex_fail(&p->lx, COTP_ESYNTAX, t.at, "unknown placeholder ~%c", t.c);
    return false;
  }
  if (cotp_is_none(v) && t.c == 't')
    return fail(p, COTP_EINVAL, t.at, "~t argument is COTP_NONE");
  cotp__lex_next(&p->lx);
  return emit_lit(p, v, t.at);
}

static bool variable(struct parser *p, bool pinned) {
  struct token t = p->lx.tok;
  if (!p->pattern)
    return fail(p, COTP_ESYNTAX, t.at,
                pinned ? "pins (^) are only allowed in patterns"
                       : "bare word: atoms are written :name (variables are "
                         "only allowed in patterns)");
  if (t.kind != T_IDENT)
    return fail(p, COTP_ESYNTAX, t.at, "expected a variable name after ^");
  cotp__lex_next(&p->lx);
  if (t.s[0] == '_') {
    if (pinned)
      return fail(p, COTP_ESYNTAX, t.at, "cannot pin an ignored variable");
    return emit(p, N_ANY, 0, COTP_NONE) != NULL;
  }
  const struct var *v = cotp__parse_var(p, t.s, t.len);
  if (v) {
    if (v->pinned != pinned)
      return fail(p, COTP_ESYNTAX, t.at,
                  "a variable cannot be both pinned and captured");
    return emit(p, pinned ? N_PIN : N_SAME, v->index, COTP_NONE) != NULL;
  }
  if (p->nvars == PARSE_MAX_VARS)
    return fail(p, COTP_ESYSLIMIT, t.at, "more than 64 variables");
  uint32_t index = pinned ? p->npins++ : p->ncaptures++;
  p->vars[p->nvars++] = (struct var){t.s, t.len, pinned, index};
  return emit(p, pinned ? N_PIN : N_BIND, index, COTP_NONE) != NULL;
}

static bool expect(struct parser *p, enum tok kind, const char *what) {
  if (p->lx.tok.kind != kind) {
    if (p->lx.tok.kind != T_ERROR)
      cotp__lex_fail(&p->lx, COTP_ESYNTAX, p->lx.tok.at, "expected %s", what);
    return false;
  }
  cotp__lex_next(&p->lx);
  return true;
}

/* key: value, as the 2-tuple {:key, value}. */
static bool keyword_pair(struct parser *p) {
  struct token t = p->lx.tok;
  cotp_term key;
  if (!atom_from(p, &t, "", &key))
    return false;
  cotp__lex_next(&p->lx);
  return emit(p, N_TUPLE, 2, COTP_NONE) && emit_lit(p, key, t.at) &&
         cotp__parse_term(p);
}

static bool tuple(struct parser *p) {
  size_t at = p->n;
  if (!emit(p, N_TUPLE, 0, COTP_NONE))
    return false;
  cotp__lex_next(&p->lx);
  uint32_t n = 0;
  if (p->lx.tok.kind != T_RBRACE) {
    do {
      if (n > 0)
        cotp__lex_next(&p->lx);
      if (!cotp__parse_term(p))
        return false;
      n++;
    } while (p->lx.tok.kind == T_COMMA);
  }
  p->nodes[at].n = n;
  return expect(p, T_RBRACE, "',' or '}' in a tuple");
}

static bool list(struct parser *p) {
  cotp__lex_next(&p->lx);
  if (p->lx.tok.kind == T_RBRACKET) {
    cotp__lex_next(&p->lx);
    return emit_lit(p, COTP_NIL, p->lx.tok.at);
  }
  for (;;) {
    if (!emit(p, N_CONS, 0, COTP_NONE))
      return false;
    bool ok = p->lx.tok.kind == T_KEYWORD ? keyword_pair(p) : cotp__parse_term(p);
    if (!ok)
      return false;
    if (p->lx.tok.kind == T_COMMA) {
      cotp__lex_next(&p->lx);
      continue;
    }
    if (p->lx.tok.kind == T_PIPE) {
      cotp__lex_next(&p->lx);
      if (!cotp__parse_term(p))
        return false;
    } else if (!emit_lit(p, COTP_NIL, p->lx.tok.at)) {
      return false;
    }
    return expect(p, T_RBRACKET, "',', '|' or ']' in a list");
  }
}

static bool map(struct parser *p) {
  size_t at = p->n;
  if (!emit(p, N_MAP, 0, COTP_NONE))
    return false;
  cotp__lex_next(&p->lx);
  uint32_t n = 0;
  while (p->lx.tok.kind != T_RBRACE) {
    if (n > 0 && !expect(p, T_COMMA, "',' or '}' in a map"))
      return false;
    if (p->lx.tok.kind == T_KEYWORD) {
      struct token t = p->lx.tok;
      cotp_term key;
      if (!atom_from(p, &t, "", &key))
        return false;
      cotp__lex_next(&p->lx);
      if (!emit_lit(p, key, t.at) || !cotp__parse_term(p))
        return false;
    } else if (!cotp__parse_term(p) ||
               !expect(p, T_ARROW, "'=>' after a map key") ||
               !cotp__parse_term(p)) {
      return false;
    }
    n++;
  }
  p->nodes[at].n = n;
  cotp__lex_next(&p->lx);
  return true;
}

static bool binary(struct parser *p) {
  size_t at = p->lx.tok.at;
  cotp__lex_next(&p->lx);
  uint8_t *bytes = NULL;
  size_t n = 0;
  bool ok = true;
  while (ok && p->lx.tok.kind != T_RBIN) {
    if (n > 0 || bytes) {
      if (!(ok = expect(p, T_COMMA, "',' or '>>' in a binary")))
        break;
    }
    struct token t = p->lx.tok;
    size_t len = 1;
    uint8_t *text = NULL;
    if (t.kind == T_INT) {
      if (t.i < 0 || t.i > 255) {
        ok = fail(p, COTP_ERANGE, t.at, "binary element is not a byte (0..255)");
        break;
      }
    } else if (t.kind == T_STRING) {
      if (!(text = unescaped(p, &t, &len))) {
        ok = false;
        break;
      }
    } else {
      if (t.kind != T_ERROR)
        fail(p, COTP_ESYNTAX, t.at, "binary elements are bytes or strings");
      ok = false;
      break;
    }
    uint8_t *grown = realloc(bytes, n + len + 1);
    if (!grown) {
      free(text);
      ok = fail(p, COTP_ENOMEM, t.at, "out of memory");
      break;
    }
    bytes = grown;
    if (text)
      memcpy(bytes + n, text, len);
    else
      bytes[n] = (uint8_t)t.i;
    n += len;
    free(text);
    cotp__lex_next(&p->lx);
  }
  if (ok) {
    cotp__lex_next(&p->lx);
    ok = emit_lit(p, cotp_binary(p->heap, bytes ? bytes : (const uint8_t *)"", n),
                  at);
  }
  free(bytes);
  return ok;
}

static bool scalar(struct parser *p) {
  struct token t = p->lx.tok;
  cotp_term v;
  switch (t.kind) {
  case T_INT:
    v = cotp_int(p->heap, t.i);
    break;
  case T_FLOAT:
    v = cotp_float(p->heap, t.f);
    break;
  case T_ATOM:
    if (!atom_from(p, &t, "", &v))
      return false;
    break;
  case T_ALIAS: {
    /* Foo.Bar is :"Elixir.Foo.Bar"; Elixir and Elixir.Foo are themselves */
    bool own = t.len >= 6 && memcmp(t.s, "Elixir", 6) == 0 &&
               (t.len == 6 || t.s[6] == '.');
    if (!atom_from(p, &t, own ? "" : "Elixir.", &v))
      return false;
    break;
  }
  case T_STRING:
  case T_CHARLIST:
    cotp__lex_next(&p->lx);
    return string_lit(p, &t, t.kind == T_CHARLIST);
  case T_ERROR:
    return false;
  case T_EOF:
    return fail(p, COTP_ESYNTAX, t.at, "unexpected end of text, expected a term");
  case T_KEYWORD:
    return fail(p, COTP_ESYNTAX, t.at, "keyword pairs (key: value) belong in "
                                       "a list or a map");
  default:
    cotp__lex_fail(&p->lx, COTP_ESYNTAX, t.at, "unexpected '%.*s', expected a term",
                   (int)(t.len ? t.len : 1), t.len ? t.s : p->lx.src + t.at);
    return false;
  }
  cotp__lex_next(&p->lx);
  return emit_lit(p, v, t.at);
}

bool cotp__parse_term(struct parser *p) {
  if (++p->depth > PARSE_MAX_DEPTH) {
    p->depth--;
    return fail(p, COTP_ESYSLIMIT, p->lx.tok.at, "nesting deeper than 200");
  }
  bool ok;
  switch (p->lx.tok.kind) {
  case T_LBRACE: ok = tuple(p); break;
  case T_LBRACKET: ok = list(p); break;
  case T_MAP: ok = map(p); break;
  case T_LBIN: ok = binary(p); break;
  case T_DIRECTIVE: ok = directive(p); break;
  case T_IDENT: ok = variable(p, false); break;
  case T_CARET:
    if (!p->pattern) {
      ok = fail(p, COTP_ESYNTAX, p->lx.tok.at, "pins (^) are only allowed in patterns");
      break;
    }
    cotp__lex_next(&p->lx);
    ok = variable(p, true);
    break;
  default: ok = scalar(p); break;
  }
  p->depth--;
  return ok;
}

const struct var *cotp__parse_var(const struct parser *p, const char *s,
                                  size_t len) {
  for (uint32_t i = 0; i < p->nvars; i++)
    if (p->vars[i].len == len && memcmp(p->vars[i].s, s, len) == 0)
      return &p->vars[i];
  return NULL;
}
