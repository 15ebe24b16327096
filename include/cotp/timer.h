/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp/timer.h: timers that send messages (Erlang's erlang:send_after/3,
 * cancel_timer/1, read_timer/1).
 *
 * Timers are kept per scheduler in a timing wheel: starting or cancelling
 * one takes the same few dozen instructions however many are pending, and
 * a million pending timers are fine.  Timers fire in deadline order.  Of
 * timers due at the same millisecond, those started on one scheduler fire
 * in the order they were started; that is not promised across schedulers
 * (a process may move between two starts), nor by Erlang.  Times
 * are milliseconds on the monotonic clock; any non-negative 64-bit delay is
 * valid (2^32 ms and beyond included).
 */
#ifndef COTP_TIMER_H
#define COTP_TIMER_H

#include "process.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Sends a copy of msg to pid after ms milliseconds.  *ref receives the
 * timer's reference (an immediate term: no heap needed).
 * Context: inside a process.
 * Returns: 0, COTP_EINVAL (ms negative, msg NONE), COTP_ENOMEM,
 * COTP_ENOTPROC.
 */
COTP_API int cotp_send_after(int64_t ms, cotp_pid pid, cotp_term msg,
                             cotp_term *ref);

/* As cotp_send_after, at the absolute time at_ms of cotp_monotonic_ms()'s
 * clock; a time already past sends at once (Erlang's {abs, true}). */
COTP_API int cotp_send_at(int64_t at_ms, cotp_pid pid, cotp_term msg,
                          cotp_term *ref);

/* The monotonic clock in milliseconds: the clock of cotp_send_at.
 * Context: any thread. */
COTP_API int64_t cotp_monotonic_ms(void);

/*
 * Cancels the timer; *left_ms (may be NULL) receives the milliseconds that
 * were left.  Returns 0, or COTP_ENOTFOUND when the timer already fired or
 * was cancelled (Erlang's false).  Context: any thread while the runtime
 * runs.
 */
COTP_API int cotp_cancel_timer(cotp_term ref, int64_t *left_ms);

/* Cancels without waiting for the result: the caller receives
 * {:cancel_timer, ref, ms_left} or {:cancel_timer, ref, false}.
 * Context: inside a process.  Returns 0, COTP_EINVAL, COTP_ENOTPROC. */
COTP_API int cotp_cancel_timer_async(cotp_term ref);

/* The milliseconds left before the timer fires: 0, or COTP_ENOTFOUND. */
COTP_API int cotp_read_timer(cotp_term ref, int64_t *left_ms);

#ifdef __cplusplus
}
#endif

#endif
