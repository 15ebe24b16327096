/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp/common.h: what every part of the public API shares.
 *
 * Error model (after libuv): a function that can fail returns an int, 0 on
 * success or a negative COTP_E* code.  Codes come from one X-macro table, so
 * cotp_strerror() and cotp_err_name() can never disagree with the enum.
 * Functions that build terms cannot return a code; they return COTP_NONE and
 * leave the code and a message in the heap they build into (see term.h).
 *
 * Exit reasons are not error codes.  A process dies with a reason term
 * (normal, shutdown, killed, {timeout, ...}); error codes are for misuse of
 * the API and for exhausted resources.
 */
#ifndef COTP_COMMON_H
#define COTP_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(COTP_STATIC) || !defined(__GNUC__)
#define COTP_API
#else
#define COTP_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Timeouts are milliseconds; COTP_INFINITY waits forever. */
#define COTP_INFINITY (-1)

/* name, value, message.  Values are stable: they may be logged and compared. */
#define COTP_ERRNO_MAP(X)                                                   \
  X(EINVAL, -1, "invalid argument")                                         \
  X(ENOMEM, -2, "out of memory")                                            \
  X(ESYNTAX, -3, "syntax error")                                            \
  X(EATOMLEN, -4, "atom name too long (more than 255 characters)")          \
  X(EUTF8, -5, "text is not valid UTF-8")                                   \
  X(ERANGE, -6, "value out of range")                                       \
  X(EDUPKEY, -7, "duplicate key in map")                                    \
  X(EBADTYPE, -8, "term has the wrong type")                                \
  X(ESYSLIMIT, -9, "system limit reached")                                  \
  X(EBADARG, -10, "argument count or kind does not match the format")       \
  X(ENOTFOUND, -11, "not found")                                           \
  X(ENOTPROC, -12, "must be called from inside a process")                 \
  X(ETIMEDOUT, -13, "timed out")                                            \
  X(EBUSY, -14, "a runtime is already running")                            \
  X(EBADF, -15, "bad file descriptor")                                      \
  X(EIO, -16, "input/output error (see errno of the call)")                \
  X(ECLOSED, -17, "connection closed by the peer")                         \
  X(ENORUNTIME, -18, "no runtime is running")                             \
  X(ENOPROC, -19, "no such process")                                        \
  X(EEXIST, -20, "the name is already registered")                         \
  X(ENAMED, -21, "the process already has a registered name")

typedef enum cotp_errno {
  COTP_OK = 0,
#define COTP_ERRNO_ENUM_(name, val, msg) COTP_##name = (val),
  COTP_ERRNO_MAP(COTP_ERRNO_ENUM_)
#undef COTP_ERRNO_ENUM_
} cotp_errno;

/*
 * The message that goes with an error code ("out of memory").
 * Context: any thread.  Returns: a static string; "unknown error" for a code
 * that is not in the table.
 */
COTP_API const char *cotp_strerror(int err);

/*
 * The symbolic name of an error code ("COTP_ENOMEM").
 * Context: any thread.  Returns: a static string; "COTP_UNKNOWN" for a code
 * that is not in the table.
 */
COTP_API const char *cotp_err_name(int err);

/*
 * An error with the detail a caller needs to fix the input: the code, the
 * byte offset in the text being parsed (or -1 when there is none) and a
 * message written for a person, such as
 * "pattern: unexpected ',' at offset 7, expected a term".
 * Caller-owned storage; functions that take one fill it only on failure.
 */
typedef struct cotp_error {
  int code;
  long offset;
  char message[192];
} cotp_error;

/*
 * Small blocks of memory from the runtime's per-thread caches, for what is
 * made and freed at the rate processes come and go (a behaviour's record
 * of a server, say).  Up to 1 KB this costs a few dozen instructions where
 * malloc costs hundreds once its own caches are dry; bigger blocks come
 * from malloc.  The cached memory is kept for reuse, not given back to
 * the system.
 * Context: any thread, with or without a runtime.  Ownership: the
 * caller's, until it passes the block to cotp_mem_free with the same
 * size, from any thread.  Returns: a block aligned to 16 bytes, not
 * zeroed; NULL when bytes is 0 or memory is out.
 */
COTP_API void *cotp_mem_alloc(size_t bytes);
/* Gives back a block of cotp_mem_alloc(bytes); NULL is ignored. */
COTP_API void cotp_mem_free(void *p, size_t bytes);

#ifdef __cplusplus
}
#endif

#endif
