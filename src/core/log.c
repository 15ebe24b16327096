/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.c: the pluggable logger.  The logger and its context are published
 * together under a mutex-free pair of atomics read at each message; a
 * message is formatted on the caller's stack (short, bounded) and handed
 * over whole, so concurrent messages never interleave within a line.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "cotp/log.h"

static _Atomic int threshold = COTP_LOG_NOTICE;
static _Atomic(cotp_logger_fn *) logger;
static _Atomic(void *) logger_ctx;

static const char *const names[] = {"debug", "info", "notice", "warning",
                                    "error"};

const char *cotp_log_level_name(cotp_log_level level) {
  return (unsigned)level <= COTP_LOG_ERROR ? names[level] : "?";
}

/* Elixir's console format: "12:00:01.502 [error] message". */
static void to_stderr(cotp_log_level level, const char *message, void *ctx) {
  (void)ctx;
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  localtime_r(&ts.tv_sec, &tm);
  fprintf(stderr, "\n%02d:%02d:%02d.%03ld [%s] %s\n", tm.tm_hour, tm.tm_min,
          tm.tm_sec, ts.tv_nsec / 1000000, cotp_log_level_name(level), message);
}

void cotp_set_logger(cotp_logger_fn *fn, void *ctx) {
  atomic_store(&logger_ctx, ctx);
  atomic_store(&logger, fn);
}

int cotp_set_log_level(int level) { return atomic_exchange(&threshold, level); }

bool cotp_log_enabled(cotp_log_level level) {
  return (int)level >= atomic_load_explicit(&threshold, memory_order_relaxed);
}

void cotp_log(cotp_log_level level, const char *fmt, ...) {
  if ((int)level < atomic_load_explicit(&threshold, memory_order_relaxed))
    return;
  char message[4608];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  cotp_logger_fn *fn = atomic_load(&logger);
  (fn ? fn : to_stderr)(level, message, fn ? atomic_load(&logger_ctx) : NULL);
}
