/* SPDX-License-Identifier: Apache-2.0 */
/*
 * print.c: terms in Elixir's inspect syntax, as Elixir 1.14's inspect/1
 * writes them (checked against elixir in tests/term/test_print.c):
 *
 *   42  1.5  1.0e16  :ok  :"two words"  nil  Foo.Bar  "text"  <<1, 2>>
 *   'abc'  [1, 2 | 3]  [a: 1]  {:ok, 1}  %{a: 1}  %{"k" => 1}
 *   #PID<0.12.0>  #Reference<0.0.0.42>
 *
 * Differences from Elixir, all deliberate:
 *  - no width limit and no 50-item limit: the whole term, on one line;
 *  - maps always print in key order (Elixir prints maps of more than 32
 *    keys in hash order);
 *  - a non-ASCII code point counts as a letter in an unquoted atom, so :😀
 *    prints unquoted where Elixir quotes it (no Unicode tables here);
 *  - resources print as #Reference<0.1.x.y> (their first word is 1, so they
 *    never look like a plain reference);
 *  - nesting deeper than MAX_DEPTH prints as "...", so printing cannot
 *    exhaust a process's stack.
 *
 * Output goes through a writer with snprintf's contract: it counts every
 * byte and stores the ones that fit.
 */
#include <stdlib.h>

#include "layout.h"

#define MAX_DEPTH 100 /* frames of ~200 bytes: 20 KB of a process's stack */

struct writer {
  char *buf;
  size_t cap, len;
};

static void put(struct writer *w, const char *s, size_t n) {
  if (w->len < w->cap) {
    size_t room = w->cap - w->len;
    memcpy(w->buf + w->len, s, n < room ? n : room);
  }
  w->len += n;
}
static void puts_(struct writer *w, const char *s) { put(w, s, strlen(s)); }
static void putc_(struct writer *w, char c) { put(w, &c, 1); }

static void put_u64(struct writer *w, uint64_t v) {
  char tmp[24];
  int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
  put(w, tmp, (size_t)n);
}

static void put_i64(struct writer *w, int64_t v) {
  char tmp[24];
  int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
  put(w, tmp, (size_t)n);
}

/* --- floats --- */

/* Shortest decimal digits that read back as d: digits into out (no dot),
 * returns their count and sets *exp so that d = 0.DIGITS x 10^exp. */
static int shortest_digits(double d, char out[24], int *exp) {
  char tmp[40];
  for (int prec = 0; prec < 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*e", prec, d);
    if (strtod(tmp, NULL) == d)
      break;
  }
  /* tmp is "D.DDDDe[+-]XX" (or "De[+-]XX") */
  int n = 0;
  char *p = tmp;
  for (; *p && *p != 'e'; p++)
    if (*p >= '0' && *p <= '9')
      out[n++] = *p;
  while (n > 1 && out[n - 1] == '0')
    n--;
  out[n] = '\0';
  *exp = atoi(p + 1) + 1;
  return n;
}

/*
 * Erlang's float_to_list(F, [short]) writes the shortest digits in fixed or
 * scientific notation, whichever is shorter (fixed on a tie), except that
 * from 2^53 on it always uses scientific notation.  Elixir 1.14
 * prints a float with an integral value in [1.0, 1.0e16) in fixed notation
 * always (1.0e15 is "1000000000000000.0").
 */
static void put_float(struct writer *w, double d) {
  if (d < 0 || (d == 0 && 1 / d < 0)) {
    putc_(w, '-');
    d = -d;
  }
  if (d == 0) {
    puts_(w, "0.0");
    return;
  }
  char dig[24];
  int exp, n = shortest_digits(d, dig, &exp);
  char fixed[400], sci[40];
  size_t fl = 0;
  if (exp <= 0) {
    fixed[fl++] = '0', fixed[fl++] = '.';
    for (int i = 0; i < -exp; i++)
      fixed[fl++] = '0';
    memcpy(fixed + fl, dig, (size_t)n), fl += (size_t)n;
  } else if (exp < n) {
    memcpy(fixed, dig, (size_t)exp), fl = (size_t)exp;
    fixed[fl++] = '.';
    memcpy(fixed + fl, dig + exp, (size_t)(n - exp)), fl += (size_t)(n - exp);
  } else {
    memcpy(fixed, dig, (size_t)n), fl = (size_t)n;
    for (int i = n; i < exp; i++)
      fixed[fl++] = '0';
    fixed[fl++] = '.', fixed[fl++] = '0';
  }
  int sl = snprintf(sci, sizeof sci, "%c.%se%d", dig[0], n > 1 ? dig + 1 : "0",
                    exp - 1);
  bool integral_elixir = exp > 0 && exp <= 16 && n <= exp;
  bool beyond_2_53 = d >= 9007199254740992.0; /* Erlang: always scientific */
  if (integral_elixir || (!beyond_2_53 && fl <= (size_t)sl))
    put(w, fixed, fl);
  else
    put(w, sci, (size_t)sl);
}

/* --- atoms --- */

static bool ascii_alpha(uint32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool ascii_digit(uint32_t c) { return c >= '0' && c <= '9'; }
/* See the header comment: no Unicode tables, so non-ASCII letters are
 * approximated by the blocks that hold letters. */
static bool letter(uint32_t c) {
  if (c < 0x80)
    return ascii_alpha(c);
  if (c >= 0xC0 && c < 0x2000)
    return c != 0xD7 && c != 0xF7;
  return (c >= 0x3040 && c < 0xD800) || (c >= 0xF900 && c < 0xFE00) ||
         (c >= 0x20000 && c < 0x30000);
}

/* An identifier atom: letter or _ first, then letters, digits, _ or @,
 * optionally ending in ? or !. */
static bool identifier(const uint8_t *s, size_t len) {
  if (len == 0)
    return false;
  size_t i = 0;
  uint32_t c;
  i += cotp__utf8_decode(s, &c);
  if (!letter(c) && c != '_')
    return false;
  while (i < len) {
    i += cotp__utf8_decode(s + i, &c);
    if (letter(c) || ascii_digit(c) || c == '_' || c == '@')
      continue;
    return (c == '?' || c == '!') && i == len;
  }
  return true;
}

/* Operators Elixir 1.14 prints unquoted (:"::" and :"^^^" it quotes). */
static const char *const operators[] = {
    "+",  "-",  "*",  "/",   "++",  "--",   "**",  "..",  "...", "<>",
    "|",  "&",  "&&", "||",  "!",   "^",    "===", "!==", "==",  "!=",
    "<=", ">=", "<",  ">",   "=",   "=~",   "->",  "<-",  "<<>>", "{}",
    "%{}", "%", "\\\\", "|>", "<<<", ">>>", "<<~", "~>>", "<~",  "~>",
    "<~>", "@", ".",  "&&&", "|||", "+++",  "---", "//",  "..//"};

static bool operator(const char *s, size_t len) {
  for (size_t i = 0; i < sizeof operators / sizeof *operators; i++)
    if (strlen(operators[i]) == len && memcmp(operators[i], s, len) == 0)
      return true;
  return false;
}

/* "Elixir.Foo.Bar": segments of [A-Z][A-Za-z0-9_]* after "Elixir.". */
static bool alias(const char *s, size_t len) {
  if (len <= 7 || memcmp(s, "Elixir.", 7) != 0)
    return false;
  bool start = true;
  for (size_t i = 7; i < len; i++) {
    char c = s[i];
    if (start) {
      if (!(c >= 'A' && c <= 'Z'))
        return false;
      start = false;
    } else if (c == '.') {
      start = true;
    } else if (!ascii_alpha((uint8_t)c) && !ascii_digit((uint8_t)c) &&
               c != '_') {
      return false;
    }
  }
  return !start;
}

static const char *escape_of(uint32_t c) {
  switch (c) {
  case '\a': return "\\a";
  case '\b': return "\\b";
  case '\t': return "\\t";
  case '\n': return "\\n";
  case '\v': return "\\v";
  case '\f': return "\\f";
  case '\r': return "\\r";
  case 0x1B: return "\\e";
  case 0x7F: return "\\d";
  case '\\': return "\\\\";
  default: return NULL;
  }
}

/* Writes s between quotes, escaping quote, backslash, "#{" and controls. */
static void put_quoted(struct writer *w, const uint8_t *s, size_t len,
                       char quote) {
  putc_(w, quote);
  for (size_t i = 0; i < len;) {
    uint32_t c;
    size_t n = cotp__utf8_decode(s + i, &c);
    const char *esc = escape_of(c);
    char tmp[12];
    if (esc) {
      puts_(w, esc);
    } else if (c == (uint32_t)quote) {
      putc_(w, '\\'), putc_(w, quote);
    } else if (c == '#' && i + 1 < len && s[i + 1] == '{') {
      puts_(w, "\\#");
    } else if (c == 0xFEFF) {
      puts_(w, "\\uFEFF");
    } else if (c < 0x20) {
      snprintf(tmp, sizeof tmp, "\\x%02X", (unsigned)c);
      puts_(w, tmp);
    } else if (c >= 0x80 && c < 0xA0) {
      snprintf(tmp, sizeof tmp, "\\u{%X}", (unsigned)c);
      puts_(w, tmp);
    } else {
      put(w, (const char *)s + i, n);
    }
    i += n;
  }
  putc_(w, quote);
}

static void put_atom_text(struct writer *w, const char *s, size_t len) {
  const uint8_t *u = (const uint8_t *)s;
  if (identifier(u, len) || operator(s, len))
    put(w, s, len);
  else
    put_quoted(w, u, len, '"');
}

static void put_atom(struct writer *w, cotp_term t) {
  size_t len;
  const char *s = cotp__atom_text(imm_value(t), &len);
  if (t.w == COTP_ATOM_NIL.w || t.w == COTP_ATOM_TRUE.w ||
      t.w == COTP_ATOM_FALSE.w || (len == 6 && memcmp(s, "Elixir", 6) == 0)) {
    put(w, s, len);
  } else if (alias(s, len)) {
    /* :"Elixir.Elixir.Foo" prints whole: Elixir.Foo would read back as
     * :"Elixir.Foo" */
    bool own = len >= 13 && memcmp(s + 7, "Elixir", 6) == 0 &&
               (len == 13 || s[13] == '.');
    put(w, s + (own ? 0 : 7), len - (own ? 0 : 7));
  } else {
    putc_(w, ':');
    put_atom_text(w, s, len);
  }
}

/* --- binaries and lists --- */

static bool printable_string(const uint8_t *s, size_t len) {
  if (!cotp__utf8_valid(s, len, NULL))
    return false;
  for (size_t i = 0; i < len;) {
    uint32_t c;
    i += cotp__utf8_decode(s + i, &c);
    bool ok = (c >= 0x20 && c <= 0x7E) || (c >= 7 && c <= 13) || c == 0x1B ||
              c == 0x7F || (c >= 0xA0 && c <= 0xD7FF) ||
              (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
    if (!ok)
      return false;
  }
  return true;
}

static void put_binary(struct writer *w, cotp_term t) {
  size_t len;
  const uint8_t *s = cotp_binary_data(t, &len);
  if (printable_string(s, len)) {
    put_quoted(w, s, len, '"');
    return;
  }
  puts_(w, "<<");
  for (size_t i = 0; i < len; i++) {
    if (i)
      puts_(w, ", ");
    put_u64(w, s[i]);
  }
  puts_(w, ">>");
}

/* A proper list of integers that are printable ASCII or \a..\r, \e. */
static bool printable_charlist(cotp_term t) {
  for (; cotp_is_cons(t); t = cotp_tail(t)) {
    cotp_term h = cotp_head(t);
    if (TAG_OF(h) != COTP__TAG_INT)
      return false;
    int64_t c = small_value(h);
    if (!((c >= 0x20 && c <= 0x7E) || (c >= 7 && c <= 13) || c == 0x1B))
      return false;
  }
  return cotp_is_nil(t);
}

static void put_charlist(struct writer *w, cotp_term t) {
  putc_(w, '\'');
  for (; cotp_is_cons(t); t = cotp_tail(t)) {
    uint32_t c = (uint32_t)small_value(cotp_head(t));
    cotp_term next = cotp_tail(t);
    const char *esc = escape_of(c);
    if (esc)
      puts_(w, esc);
    else if (c == '\'')
      puts_(w, "\\'");
    else if (c == '#' && cotp_is_cons(next) &&
             cotp_head(next).w == small_term('{').w)
      puts_(w, "\\#");
    else
      putc_(w, (char)c);
  }
  putc_(w, '\'');
}

/* A key of a keyword list or an atom-keyed map prints as `key:`. */
static bool keyword_key(cotp_term k) {
  if (!cotp_is_atom(k))
    return false;
  size_t len;
  const char *s = cotp__atom_text(imm_value(k), &len);
  return !alias(s, len) && !(len == 6 && memcmp(s, "Elixir", 6) == 0);
}

static void put_key(struct writer *w, cotp_term k) {
  size_t len;
  const char *s = cotp__atom_text(imm_value(k), &len);
  put_atom_text(w, s, len);
  puts_(w, ": ");
}

static bool keyword_list(cotp_term t) {
  for (; cotp_is_cons(t); t = cotp_tail(t)) {
    cotp_term e = cotp_head(t);
    if (cotp_tuple_size(e) != 2 || !keyword_key(cotp_tuple_get(e, 0)))
      return false;
  }
  return cotp_is_nil(t);
}

static void put_term(struct writer *w, cotp_term t, int depth);

static void put_list(struct writer *w, cotp_term t, int depth) {
  if (printable_charlist(t)) {
    put_charlist(w, t);
    return;
  }
  bool kw = keyword_list(t);
  putc_(w, '[');
  for (bool first = true; cotp_is_cons(t); t = cotp_tail(t), first = false) {
    if (!first)
      puts_(w, ", ");
    cotp_term e = cotp_head(t);
    if (kw) {
      put_key(w, cotp_tuple_get(e, 0));
      put_term(w, cotp_tuple_get(e, 1), depth + 1);
    } else {
      put_term(w, e, depth + 1);
    }
  }
  if (!cotp_is_nil(t)) {
    puts_(w, " | ");
    put_term(w, t, depth + 1);
  }
  putc_(w, ']');
}

static void put_map(struct writer *w, cotp_term m, int depth) {
  size_t n = cotp_map_size(m);
  bool kw = true;
  for (size_t i = 0; i < n && kw; i++)
    kw = keyword_key(cotp_map_key(m, i));
  puts_(w, "%{");
  for (size_t i = 0; i < n; i++) {
    if (i)
      puts_(w, ", ");
    if (kw) {
      put_key(w, cotp_map_key(m, i));
    } else {
      put_term(w, cotp_map_key(m, i), depth + 1);
      puts_(w, " => ");
    }
    put_term(w, cotp_map_value(m, i), depth + 1);
  }
  putc_(w, '}');
}

static void put_reference(struct writer *w, uint64_t first, uint64_t n) {
  char tmp[80];
  int len = snprintf(tmp, sizeof tmp, "#Reference<0.%llu.%llu.%llu>",
                     (unsigned long long)first,
                     (unsigned long long)(n >> 32),
                     (unsigned long long)(n & 0xFFFFFFFFu));
  put(w, tmp, (size_t)len);
}

static void put_term(struct writer *w, cotp_term t, int depth) {
  if (depth > MAX_DEPTH) {
    puts_(w, "...");
    return;
  }
  char tmp[64];
  switch (cotp_term_type(t)) {
  case COTP_TNONE:
    puts_(w, "#None<>");
    break;
  case COTP_TINTEGER:
    put_i64(w, cotp_int_value(t));
    break;
  case COTP_TFLOAT:
    put_float(w, float_value(t));
    break;
  case COTP_TATOM:
    put_atom(w, t);
    break;
  case COTP_TREF:
    put_reference(w, 0, imm_value(t));
    break;
  case COTP_TRESOURCE:
    put_reference(w, 1, resource_of(box_ptr(t))->id);
    break;
  case COTP_TPID: {
    cotp_pid p = cotp_get_pid(t);
    int n = snprintf(tmp, sizeof tmp, "#PID<%u.%u.%u>", cotp_pid_node(p),
                     cotp_pid_number(p), cotp_pid_serial(p));
    put(w, tmp, (size_t)n);
    break;
  }
  case COTP_TTUPLE: {
    size_t n = cotp_tuple_size(t);
    putc_(w, '{');
    for (size_t i = 0; i < n; i++) {
      if (i)
        puts_(w, ", ");
      put_term(w, cotp_tuple_get(t, i), depth + 1);
    }
    putc_(w, '}');
    break;
  }
  case COTP_TMAP:
    put_map(w, t, depth);
    break;
  case COTP_TNIL:
    puts_(w, "[]");
    break;
  case COTP_TLIST:
    put_list(w, t, depth);
    break;
  case COTP_TBINARY:
    put_binary(w, t);
    break;
  }
}

size_t cotp_term_print(char *buf, size_t cap, cotp_term t) {
  struct writer w = {buf, cap ? cap - 1 : 0, 0};
  put_term(&w, t, 0);
  if (cap)
    buf[w.len < cap - 1 ? w.len : cap - 1] = '\0';
  return w.len;
}

char *cotp_term_to_string(cotp_term t) {
  size_t n = cotp_term_print(NULL, 0, t);
  char *s = malloc(n + 1);
  if (s)
    cotp_term_print(s, n + 1, t);
  return s;
}

int cotp_term_fprint(FILE *out, cotp_term t) {
  char *s = cotp_term_to_string(t);
  if (!s)
    return COTP_ENOMEM;
  int rc = fputs(s, out) < 0 ? COTP_EINVAL : 0;
  free(s);
  return rc;
}
