/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sup_example.h: what the supervisor examples (book ch. 5 and 7.4) share:
 * IO.inspect with a label, with pids and references masked (they differ
 * from run to run, and the tests compare the output), the time unit (the
 * book says 1000 ms; argv[1] scales it so the tests run fast), and a
 * stand-in for System.unique_integer([:positive]) that counts, so a state
 * that was reset by a restart shows as a new number.
 */
#ifndef SUP_EXAMPLE_H
#define SUP_EXAMPLE_H

#include <cotp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long unit_ms = 1000;

static inline void read_unit(int argc, char **argv) {
  if (argc > 1 && atol(argv[1]) > 0)
    unit_ms = atol(argv[1]);
}

/* s with every #PID<a.b.c> and #Reference<...> masked, as a new string. */
static inline char *masked(const char *s) {
  char *out = malloc(2 * strlen(s) + 16), *o = out;
  if (!out)
    abort();
  while (*s) {
    const char *p = strstr(s, "#PID<"), *r = strstr(s, "#Reference<");
    const char *m = p && (!r || p < r) ? p : r;
    const char *mask = m == p ? "#PID<...>" : "#Reference<...>";
    size_t keep = m ? (size_t)(m - s) : strlen(s), n = m ? strlen(mask) : 0;
    memcpy(o, s, keep);
    memcpy(o + keep, mask, n);
    o += keep + n;
    if (!m)
      break;
    s = strchr(m, '>');
    s = s ? s + 1 : m + strlen(m);
  }
  *o = '\0';
  return out;
}

/* Prints a, b and c as one write: the examples print from processes on
 * two schedulers, and a line made of several writes can be split by
 * another process's line. */
static inline void put_line(const char *a, const char *b, const char *c) {
  size_t n = strlen(a) + strlen(b) + strlen(c) + 2;
  char *line = malloc(n);
  if (!line)
    abort();
  snprintf(line, n, "%s%s%s\n", a, b, c);
  fputs(line, stdout);
  fflush(stdout);
  free(line);
}

/* IO.inspect(term, label: label); label NULL: IO.inspect(term). */
static inline void show(const char *label, cotp_term t) {
  char *s = cotp_term_to_string(t);
  char *m = masked(s ? s : "?");
  put_line(label ? label : "", label ? ": " : "", m);
  free(m);
  free(s);
}

/* IO.inspect("a string"): printed with its quotes, as the book shows. */
static inline void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void say(const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  /* the quotes inside come out escaped, as inspect shows them */
  char esc[1024];
  size_t j = 0;
  for (size_t i = 0; buf[i] && j + 2 < sizeof esc; i++) {
    if (buf[i] == '"')
      esc[j++] = '\\';
    esc[j++] = buf[i];
  }
  esc[j] = '\0';
  char *m = masked(esc);
  put_line("\"", m, "\"");
  free(m);
}

static _Atomic long unique_counter;
/* System.unique_integer([:positive]), made predictable: 1, 2, 3, ... */
static inline long unique_integer(void) { return ++unique_counter; }

/* A RuntimeError's exit reason, as raise "message" gives. */
static inline cotp_term runtime_error(const char *message) {
  return cotp_format(cotp_self_heap(),
                     "{%{__struct__: RuntimeError, __exception__: true, "
                     "message: ~s}, []}",
                     message);
}

/* :sys.get_state(GenServer.whereis(name)) for a server whose state is an
 * integer kept in the state pointer. */
static inline long int_state(cotp_term name) {
  void *st = NULL;
  cotp_genserver_get_state(cotp_server_name(name), 5000, &st);
  return (long)(intptr_t)st;
}

#endif
