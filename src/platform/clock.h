/* SPDX-License-Identifier: Apache-2.0 */
/* clock.h: the monotonic clock, in nanoseconds and milliseconds. */
#ifndef COTP_PLATFORM_CLOCK_H
#define COTP_PLATFORM_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t cotp__now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t cotp__now_ms(void) { return cotp__now_ns() / 1000000; }

#endif
