/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench.h: what every benchmark program in bench/ shares: a clock, the
 * resident set size, sizes from the environment, printing figures, and
 * running a root process under the default configuration.
 *
 * Each program prints its figures as `name value unit` lines on stdout,
 * which bench/run reads; anything else goes to stderr.  Sizes come from
 * the same environment variables as the BEAM twins in bench/beam (N, M,
 * K), with the same defaults, so both sides always do the same work.
 */
#ifndef COTP_BENCH_H
#define COTP_BENCH_H

#include <cotp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Nanoseconds on the monotonic clock. */
static inline int64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Prints a message and exits with status 1: a benchmark that went wrong
 * must not print a figure that looks fine. */
__attribute__((noreturn, format(printf, 1, 2))) static inline void
bench_die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("bench: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  fflush(stdout);
  _exit(1); /* not exit(): other threads (schedulers) are still running */
}

/* Dies unless rc is 0 (a cotp call that must not fail). */
static inline void bench_check(int rc, const char *what) {
  if (rc < 0)
    bench_die("%s: %s", what, cotp_strerror(rc));
}

/* Resident set size in bytes, from /proc/self/statm (its second field is
 * resident pages): the memory the program really holds, whatever
 * allocated it. */
static inline long bench_rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, resident = -1;
  if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2)
    bench_die("cannot read /proc/self/statm");
  fclose(f);
  return resident * sysconf(_SC_PAGESIZE);
}

/* A positive size from the environment variable name, or def. */
static inline long bench_env(const char *name, long def) {
  const char *s = getenv(name);
  if (!s || !*s)
    return def;
  char *end;
  long v = strtol(s, &end, 10);
  if (*end || v <= 0)
    bench_die("%s=%s is not a positive integer", name, s);
  return v;
}

/* One figure for bench/run: `name value unit`. */
static inline void bench_figure(const char *name, double value,
                                const char *unit) {
  printf("%s %.1f %s\n", name, value, unit);
  fflush(stdout);
}

/*
 * Runs root(arg) under the runtime with the default configuration (one
 * scheduler per core, as the BEAM starts one per core), and dies if it
 * does not exit normally.
 */
static inline void bench_run(cotp_entry *root, void *arg) {
  cotp_config cfg = COTP_CONFIG_INIT;
  cfg.schedulers = 0;
  int rc = cotp_run(root, arg, &cfg, NULL, NULL);
  if (rc != 0)
    bench_die("cotp_run returned %d (%s)", rc,
              rc == 1 ? "the root exited abnormally" : cotp_strerror(rc));
}

/* Pids travel through the void * argument of a process as their bits. */
static inline void *bench_pid_arg(cotp_pid pid) {
  return (void *)(uintptr_t)pid.bits;
}
static inline cotp_pid bench_arg_pid(void *arg) {
  return (cotp_pid){(uint64_t)(uintptr_t)arg};
}

#endif
