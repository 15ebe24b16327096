/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp/log.h: the runtime's log: crash reports, long schedules, warnings.
 *
 * Messages go to a logger function (by default, lines on stderr such as
 * "[warning] ...") if their level is at or above the threshold.  Replace the
 * logger to route them elsewhere; raise the threshold to quiet them (the
 * test suite runs with COTP_LOG_ERROR + 1, nothing).
 */
#ifndef COTP_LOG_H
#define COTP_LOG_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cotp_log_level {
  COTP_LOG_DEBUG,
  COTP_LOG_INFO,
  COTP_LOG_NOTICE,
  COTP_LOG_WARNING,
  COTP_LOG_ERROR
} cotp_log_level;

/* Receives one message, without a trailing newline.  Called from any
 * thread, possibly several at once. */
typedef void cotp_logger_fn(cotp_log_level level, const char *message,
                            void *ctx);

/* Sets the logger (NULL: the default, stderr) and its context.
 * Context: any thread. */
COTP_API void cotp_set_logger(cotp_logger_fn *fn, void *ctx);

/* Sets the lowest level that is logged (default COTP_LOG_NOTICE); returns
 * the previous one.  Context: any thread. */
COTP_API int cotp_set_log_level(int level);

/* Whether a message of this level would be logged. */
COTP_API bool cotp_log_enabled(cotp_log_level level);

/* Logs a message, printf style.  Context: any thread. */
COTP_API void cotp_log(cotp_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The name of a level: "debug", "info", "notice", "warning", "error". */
COTP_API const char *cotp_log_level_name(cotp_log_level level);

#ifdef __cplusplus
}
#endif

#endif
