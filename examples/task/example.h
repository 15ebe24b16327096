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
#include <time.h>

/* Milliseconds the seed calls a second: argv[1], or 1000. */
static long unit_ms = 1000;

static inline void read_unit(int argc, char **argv) {
  if (argc > 1 && atol(argv[1]) > 0)
    unit_ms = atol(argv[1]);
}

/* n seed-seconds in this run's milliseconds. */
static inline int64_t secs(double n) { return (int64_t)(n * (double)unit_ms); }

/* IO.inspect(term) */
static inline void inspect(cotp_term t) {
  cotp_term_fprint(stdout, t);
  putchar('\n');
  fflush(stdout);
}

/* IO.inspect(term, label: label) */
static inline void inspect_label(const char *label, cotp_term t) {
  printf("%s: ", label);
  inspect(t);
}

/* What iex would show: "# => term". */
static inline void result(cotp_term t) {
  printf("# => ");
  inspect(t);
}

static inline int64_t now_ms(void) { return cotp_monotonic_ms(); }

/* Runs root under the runtime with the log quiet: the crashes the
 * examples show are the point, not noise (stderr has them otherwise). */
static inline int run(cotp_entry *root) {
  return cotp_run(root, NULL, NULL, NULL, NULL) == 0 ? 0 : 1;
}

#endif
