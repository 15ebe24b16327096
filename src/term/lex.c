/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lex.c: tokens of Elixir's literal syntax (see lex.h).
 *
 * Numbers: 12, -12, 1_000, 0x1F, 0o17, 0b101, ?a (a code point), 1.5,
 * -2.0e-3.  A float needs digits on both sides of the dot, as in Elixir.
 * Atoms: :name (letters, digits, _ and @, optionally ending in ? or !),
 * :"any text", :+ and the other operators, and the bare words true, false
 * and nil.  Foo.Bar is an alias (the atom :"Elixir.Foo.Bar").  An
 * identifier or a quoted string followed directly by ':' is a keyword key.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>

#include "lex.h"

void cotp__lex_fail(struct lexer *lx, int code, size_t at, const char *fmt,
                    ...) {
  lx->tok.kind = T_ERROR;
  if (lx->failed)
    return;
  lx->failed = true;
  if (!lx->err)
    return;
  lx->err->code = code;
  lx->err->offset = (long)at;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(lx->err->message, sizeof lx->err->message, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n < sizeof lx->err->message)
    snprintf(lx->err->message + n, sizeof lx->err->message - (size_t)n,
             " (at offset %zu)", at);
}

void cotp__lex_init(struct lexer *lx, const char *src, cotp_error *err) {
  *lx = (struct lexer){.src = src, .len = strlen(src), .err = err};
  cotp__lex_next(lx);
}

static int peek(const struct lexer *lx, size_t ahead) {
  size_t p = lx->pos + ahead;
  return p < lx->len ? (unsigned char)lx->src[p] : -1;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_lower(int c) { return (c >= 'a' && c <= 'z') || c == '_'; }
static bool is_upper(int c) { return c >= 'A' && c <= 'Z'; }
static bool is_ident_char(int c) {
  return is_lower(c) || is_upper(c) || is_digit(c) || c == '@' || c >= 0x80;
}

/* Atom operators, longest first so that the first match is the longest. */
static const char *const atom_ops[] = {
    "<<>>", "..//", "===", "!==", "<<<", ">>>", "<<~", "~>>", "<~>", "&&&",
    "|||",  "+++",  "---", "^^^", "~~~", "...", "%{}", "\\\\", "::", "++",
    "--",   "**",   "..",  "<>",  "&&",  "||",  "==",  "!=",  "<=", ">=",
    "=~",   "->",   "<-",  "{}",  "|>",  "<~",  "~>",  "//",  "+",  "-",
    "*",    "/",    "|",   "&",   "!",   "^",   "<",   ">",   "=",  "%",
    "@",    "."};

static void set(struct lexer *lx, enum tok kind, size_t at, size_t end);

/* An operator used as a keyword key, as in [+: 1]: the operator directly
 * followed by a single ':'. */
static bool operator_keyword(struct lexer *lx) {
  size_t at = lx->pos;
  if (!strchr("+-*/<>=!&|^~.%@\\{", lx->src[at]))
    return false;
  for (size_t i = 0; i < sizeof atom_ops / sizeof *atom_ops; i++) {
    size_t n = strlen(atom_ops[i]);
    if (at + n < lx->len && memcmp(lx->src + at, atom_ops[i], n) == 0 &&
        lx->src[at + n] == ':' && peek(lx, n + 1) != ':') {
      set(lx, T_KEYWORD, at, at + n + 1);
      lx->tok.len--;
      return true;
    }
  }
  return false;
}

static void set(struct lexer *lx, enum tok kind, size_t at, size_t end) {
  lx->tok = (struct token){.kind = kind, .at = at, .s = lx->src + at,
                           .len = end - at};
  lx->pos = end;
}

/* Scans a quoted text starting at the quote; returns the offset past the
 * closing quote, or 0 (error recorded) when it is not closed. */
static size_t scan_quoted(struct lexer *lx, size_t open) {
  char q = lx->src[open];
  for (size_t i = open + 1; i < lx->len; i++) {
    if (lx->src[i] == '\\') {
      i++;
      continue;
    }
    if (lx->src[i] == q)
      return i + 1;
  }
  cotp__lex_fail(lx, COTP_ESYNTAX, open, "unterminated %s starting with %c",
                 q == '"' ? "string" : "charlist", q);
  return 0;
}

static size_t scan_ident(const struct lexer *lx, size_t p) {
  while (p < lx->len && is_ident_char((unsigned char)lx->src[p]))
    p++;
  if (p < lx->len && (lx->src[p] == '?' || lx->src[p] == '!'))
    p++;
  return p;
}

static void lex_number(struct lexer *lx) {
  size_t at = lx->pos, p = at;
  bool neg = false;
  if (lx->src[p] == '-')
    neg = true, p++;
  int base = 10;
  if (lx->src[p] == '0' && p + 1 < lx->len &&
      (lx->src[p + 1] == 'x' || lx->src[p + 1] == 'o' || lx->src[p + 1] == 'b')) {
    base = lx->src[p + 1] == 'x' ? 16 : lx->src[p + 1] == 'o' ? 8 : 2;
    p += 2;
  }
  char digits[400];
  size_t nd = 0;
  bool is_float = false, has_exp = false;
  for (; p < lx->len; p++) {
    int c = (unsigned char)lx->src[p];
    bool digit = base == 16 ? (is_digit(c) || (c >= 'a' && c <= 'f') ||
                               (c >= 'A' && c <= 'F'))
                            : (c >= '0' && c < '0' + base);
    if (c == '_' && nd > 0 && p + 1 < lx->len &&
        is_ident_char((unsigned char)lx->src[p + 1]))
      continue;
    if (!digit) {
      if (base == 10 && c == '.' && is_digit(peek(lx, p + 1 - lx->pos)) &&
          !is_float) {
        is_float = true;
      } else if (base == 10 && is_float && !has_exp && (c == 'e' || c == 'E')) {
        if (nd + 3 >= sizeof digits)
          break;
        has_exp = true;
        digits[nd++] = 'e';
        p++;
        if (p < lx->len && (lx->src[p] == '-' || lx->src[p] == '+'))
          digits[nd++] = lx->src[p++];
        if (p >= lx->len || !is_digit((unsigned char)lx->src[p])) {
          cotp__lex_fail(lx, COTP_ESYNTAX, at, "malformed float exponent");
          return;
        }
        p--;
        continue;
      } else {
        break;
      }
    }
    if (nd + 2 >= sizeof digits) {
      cotp__lex_fail(lx, COTP_ERANGE, at, "number is too long");
      return;
    }
    digits[nd++] = (char)c;
  }
  digits[nd] = '\0';
  if (nd == 0 || (p < lx->len && is_ident_char((unsigned char)lx->src[p]))) {
    cotp__lex_fail(lx, COTP_ESYNTAX, at, "malformed number");
    return;
  }
  set(lx, is_float ? T_FLOAT : T_INT, at, p);
  errno = 0;
  if (is_float) {
    double f = strtod(digits, NULL);
    if (errno == ERANGE && fabs(f) > 1) {
      cotp__lex_fail(lx, COTP_ERANGE, at, "float %s is out of range", digits);
      return;
    }
    lx->tok.f = neg ? -f : f;
    return;
  }
  unsigned long long u = strtoull(digits, NULL, base);
  unsigned long long limit = neg ? (unsigned long long)INT64_MAX + 1 : INT64_MAX;
  if (errno == ERANGE || u > limit) {
    cotp__lex_fail(lx, COTP_ERANGE, at,
                   "integer %s%s does not fit in 64 signed bits",
                   neg ? "-" : "", digits);
    return;
  }
  lx->tok.i = neg ? (int64_t)(0 - u) : (int64_t)u;
}

static void lex_atom(struct lexer *lx) {
  size_t at = lx->pos, p = at + 1;
  int c = peek(lx, 1);
  if (c == '"') {
    size_t end = scan_quoted(lx, p);
    if (!end)
      return;
    set(lx, T_ATOM, at, end);
    lx->tok.s = lx->src + p + 1;
    lx->tok.len = end - p - 2;
    lx->tok.quoted = true;
    return;
  }
  if (c >= 0 && (is_lower(c) || is_upper(c) || c >= 0x80)) {
    set(lx, T_ATOM, at, scan_ident(lx, p));
    lx->tok.s++, lx->tok.len--;
    return;
  }
  for (size_t i = 0; i < sizeof atom_ops / sizeof *atom_ops; i++) {
    size_t n = strlen(atom_ops[i]);
    if (p + n <= lx->len && memcmp(lx->src + p, atom_ops[i], n) == 0) {
      set(lx, T_ATOM, at, p + n);
      lx->tok.s++, lx->tok.len--;
      return;
    }
  }
  cotp__lex_fail(lx, COTP_ESYNTAX, at, "expected an atom name after ':'");
}

/* Foo.Bar.Baz */
static void lex_alias(struct lexer *lx) {
  size_t at = lx->pos, p = at;
  for (;;) {
    while (p < lx->len && (is_lower((unsigned char)lx->src[p]) ||
                           is_upper((unsigned char)lx->src[p]) ||
                           is_digit((unsigned char)lx->src[p])))
      p++;
    if (p + 1 < lx->len && lx->src[p] == '.' &&
        is_upper((unsigned char)lx->src[p + 1]))
      p++;
    else
      break;
  }
  if (p < lx->len && lx->src[p] == ':' && peek(lx, p + 1 - at) != ':') {
    set(lx, T_KEYWORD, at, p + 1);
    lx->tok.len--;
    return;
  }
  set(lx, T_ALIAS, at, p);
}

static void lex_char(struct lexer *lx) {
  size_t at = lx->pos;
  const uint8_t *s = (const uint8_t *)lx->src + at + 1;
  size_t left = lx->len - at - 1;
  if (left == 0) {
    cotp__lex_fail(lx, COTP_ESYNTAX, at, "expected a character after '?'");
    return;
  }
  uint32_t cp;
  size_t n;
  if (s[0] == '\\' && left >= 2) {
    static const char from[] = "abtnvfre0sd\\'\"", to[] = "\a\b\t\n\v\f\r\x1b\0 \x7f\\'\"";
    const char *hit = memchr(from, s[1], sizeof from - 1);
    cp = hit ? (uint8_t)to[hit - from] : s[1];
    n = 2;
  } else {
    size_t chars;
    size_t want = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : 4;
    if (want > left || !cotp__utf8_valid(s, want, &chars)) {
      cotp__lex_fail(lx, COTP_EUTF8, at, "character after '?' is not UTF-8");
      return;
    }
    n = cotp__utf8_decode(s, &cp);
  }
  set(lx, T_INT, at, at + 1 + n);
  lx->tok.i = cp;
}

void cotp__lex_next(struct lexer *lx) {
  if (lx->failed) {
    lx->tok.kind = T_ERROR;
    return;
  }
  while (lx->pos < lx->len && (lx->src[lx->pos] == ' ' || lx->src[lx->pos] == '\t' ||
                               lx->src[lx->pos] == '\n' || lx->src[lx->pos] == '\r'))
    lx->pos++;
  size_t at = lx->pos;
  if (at >= lx->len) {
    set(lx, T_EOF, at, at);
    return;
  }
  int c = (unsigned char)lx->src[at], c1 = peek(lx, 1), c2 = peek(lx, 2);
  if (operator_keyword(lx))
    return;
  switch (c) {
  case '{': set(lx, T_LBRACE, at, at + 1); return;
  case '}': set(lx, T_RBRACE, at, at + 1); return;
  case '[': set(lx, T_LBRACKET, at, at + 1); return;
  case ']': set(lx, T_RBRACKET, at, at + 1); return;
  case '(': set(lx, T_LPAREN, at, at + 1); return;
  case ')': set(lx, T_RPAREN, at, at + 1); return;
  case ',': set(lx, T_COMMA, at, at + 1); return;
  case '|': set(lx, T_PIPE, at, at + 1); return;
  case '^': set(lx, T_CARET, at, at + 1); return;
  case ':': lex_atom(lx); return;
  case '?': lex_char(lx); return;
  case '~':
    if (c1 < 0) {
      cotp__lex_fail(lx, COTP_ESYNTAX, at, "'~' at the end of the format");
      return;
    }
    set(lx, T_DIRECTIVE, at, at + 2);
    lx->tok.c = (char)c1;
    return;
  case '%':
    if (c1 == '{') {
      set(lx, T_MAP, at, at + 2);
      return;
    }
    break;
  case '<':
    if (c1 == '<') {
      set(lx, T_LBIN, at, at + 2);
      return;
    }
    set(lx, T_OP, at, at + (c1 == '=' ? 2 : 1));
    return;
  case '>':
    if (c1 == '>') {
      set(lx, T_RBIN, at, at + 2);
      return;
    }
    set(lx, T_OP, at, at + (c1 == '=' ? 2 : 1));
    return;
  case '=':
    if (c1 == '>') {
      set(lx, T_ARROW, at, at + 2);
      return;
    }
    if (c1 == '=') {
      set(lx, T_OP, at, at + (c2 == '=' ? 3 : 2));
      return;
    }
    break;
  case '!':
    if (c1 == '=') {
      set(lx, T_OP, at, at + (c2 == '=' ? 3 : 2));
      return;
    }
    break;
  case '"':
  case '\'': {
    size_t end = scan_quoted(lx, at);
    if (!end)
      return;
    bool key = c == '"' && end < lx->len && lx->src[end] == ':' &&
               (end + 1 >= lx->len || lx->src[end + 1] != ':');
    set(lx, key ? T_KEYWORD : c == '"' ? T_STRING : T_CHARLIST, at,
        end + (key ? 1 : 0));
    lx->tok.s = lx->src + at + 1;
    lx->tok.len = end - at - 2;
    lx->tok.quoted = true;
    return;
  }
  default:
    break;
  }
  if (is_digit(c) || (c == '-' && is_digit(c1))) {
    lex_number(lx);
    return;
  }
  if (is_upper(c)) {
    lex_alias(lx);
    return;
  }
  if (is_lower(c) || c >= 0x80) {
    size_t end = scan_ident(lx, at);
    if (end < lx->len && lx->src[end] == ':' &&
        (end + 1 >= lx->len || lx->src[end + 1] != ':')) {
      set(lx, T_KEYWORD, at, end + 1);
      lx->tok.len--;
      return;
    }
    set(lx, T_IDENT, at, end);
    size_t n = lx->tok.len;
    if ((n == 4 && memcmp(lx->tok.s, "true", 4) == 0) ||
        (n == 5 && memcmp(lx->tok.s, "false", 5) == 0) ||
        (n == 3 && memcmp(lx->tok.s, "nil", 3) == 0))
      lx->tok.kind = T_ATOM;
    return;
  }
  cotp__lex_fail(lx, COTP_ESYNTAX, at, "unexpected character '%c'", c);
}

static int hex(int c) {
  if (is_digit(c))
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

long cotp__lex_unescape(struct lexer *lx, const struct token *t, uint8_t *out) {
  const char *s = t->s;
  size_t n = t->len, o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '\\') {
      out[o++] = (uint8_t)s[i];
      continue;
    }
    if (++i >= n)
      break;
    size_t esc_at = (size_t)(s - lx->src) + i - 1;
    char e = s[i];
    static const char from[] = "abtnvfre0sd", to[] = "\a\b\t\n\v\f\r\x1b\0 \x7f";
    const char *hit = memchr(from, e, sizeof from - 1);
    if (hit) {
      out[o++] = (uint8_t)to[hit - from];
    } else if (e == 'x' || e == 'u') {
      uint32_t v = 0;
      int digits = 0;
      bool braced = i + 1 < n && s[i + 1] == '{';
      size_t j = i + 1 + (braced ? 1 : 0);
      int max = braced ? 6 : e == 'x' ? 2 : 4;
      while (j < n && digits < max && hex((unsigned char)s[j]) >= 0) {
        v = v * 16 + (uint32_t)hex((unsigned char)s[j]);
        j++, digits++;
      }
      if (digits == 0 || (braced && (j >= n || s[j] != '}')) ||
          (!braced && digits != max)) {
        cotp__lex_fail(lx, COTP_ESYNTAX, esc_at, "malformed \\%c escape", e);
        return -1;
      }
      i = braced ? j : j - 1;
      if (e == 'x' && v <= 0xFF) {
        out[o++] = (uint8_t)v;
      } else if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        cotp__lex_fail(lx, COTP_EUTF8, esc_at, "\\%c escape is not a code point", e);
        return -1;
      } else {
        o += cotp__utf8_encode(v, out + o);
      }
    } else {
      out[o++] = (uint8_t)e; /* \" \' \\ \# and any other character itself */
    }
  }
  return (long)o;
}
