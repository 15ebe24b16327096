/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fpstate.h: reading and setting the running thread's floating-point
 * control state (rounding, exception masks, flush-to-zero), for a process
 * that keeps its own (fp_env) across the times it has no frames, and so
 * no context to keep it in: a handler between messages, a hibernation.
 */
#ifndef COTP_PLATFORM_FPSTATE_H
#define COTP_PLATFORM_FPSTATE_H

#include <fenv.h>
#include <stdint.h>

/* The state as two words: on x86-64 the MXCSR and the x87 control word,
 * on aarch64 the FPCR; elsewhere the rounding mode only. */
struct cotp__fpstate {
  uint32_t a;
  uint16_t b;
};

static inline struct cotp__fpstate cotp__fpstate_get(void) {
  struct cotp__fpstate st = {0, 0};
#if defined(__x86_64__)
  __asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(st.a), "=m"(st.b));
#elif defined(__aarch64__)
  uint64_t fpcr;
  __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
  st.a = (uint32_t)fpcr;
#else
  st.a = (uint32_t)fegetround();
#endif
  return st;
}

/* What a thread starts with. */
static inline struct cotp__fpstate cotp__fpstate_default(void) {
#if defined(__x86_64__)
  return (struct cotp__fpstate){0x1F80, 0x037F};
#elif defined(__aarch64__)
  return (struct cotp__fpstate){0, 0};
#else
  return (struct cotp__fpstate){(uint32_t)FE_TONEAREST, 0};
#endif
}

static inline void cotp__fpstate_set(struct cotp__fpstate st) {
#if defined(__x86_64__)
  __asm__ volatile("ldmxcsr %0\n\tfldcw %1" : : "m"(st.a), "m"(st.b));
#elif defined(__aarch64__)
  __asm__ volatile("msr fpcr, %0" : : "r"((uint64_t)st.a));
#else
  fesetround((int)st.a);
#endif
}

#endif
