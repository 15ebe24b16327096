/* SPDX-License-Identifier: Apache-2.0 */
/*
 * example.h: what the Task examples share: the time unit (the seeds say
 * 1000 ms; an argument scales it, so the tests run the examples in a
 * fraction of the time), and printing terms the way the seeds show them.
 */
#ifndef TASK_EXAMPLE_H
#define TASK_EXAMPLE_H

#include <cotp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Milliseconds the seed calls a second: argv[1], or 1000. */
static long unit_ms = 1000;

static inline void read_unit(int argc, char **argv) {
  if (argc > 1 && atol(argv[1]) > 0)
    unit_ms = atol(argv[1]);
}

/* n seed-seconds in this run's milliseconds. */
static inline int64_t secs(double n) { return (int64_t)(n * (double)unit_ms); }

/* prefix, then the term, then a newline, as one write: tasks print from
 * two schedulers, and a line made of several writes can be split by
 * another task's line. */
static inline void print_term_line(const char *prefix, cotp_term t) {
  char *s = cotp_term_to_string(t);
  size_t n = strlen(prefix) + (s ? strlen(s) : 1) + 2;
  char *line = malloc(n);
  if (!line)
    abort();
  snprintf(line, n, "%s%s\n", prefix, s ? s : "?");
  fputs(line, stdout);
  fflush(stdout);
  free(line);
  free(s);
}

/* IO.inspect(term) */
static inline void inspect(cotp_term t) { print_term_line("", t); }

/* IO.inspect(term, label: label) */
static inline void inspect_label(const char *label, cotp_term t) {
  char prefix[256];
  snprintf(prefix, sizeof prefix, "%s: ", label);
  print_term_line(prefix, t);
}

/* What iex would show: "# => term". */
static inline void result(cotp_term t) { print_term_line("# => ", t); }

static inline int64_t now_ms(void) { return cotp_monotonic_ms(); }

/* Runs root under the runtime with the log quiet: the crashes the
 * examples show are the point, not noise (stderr has them otherwise). */
static inline int run(cotp_entry *root) {
  return cotp_run(root, NULL, NULL, NULL, NULL) == 0 ? 0 : 1;
}

#endif
