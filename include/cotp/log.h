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

/*
 * Whether the runtime reports the calling process's abnormal exit (its
 * crash report, docs/crash_reports.md; on by default).  A behaviour that
 * reports crashes in its own words (a GenServer's "terminating" report, a
 * Task's) turns it off for its processes, as OTP's proc_lib does for the
 * processes it starts.  *old (may be NULL) gets the previous setting.
 * Context: inside a process.  Returns 0 or COTP_ENOTPROC.
 */
COTP_API int cotp_set_crash_report(bool on, bool *old);

#ifdef __cplusplus
}
#endif

#endif
