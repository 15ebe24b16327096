/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctx.h: switching between execution contexts (a scheduler's thread stack
 * and the run stacks processes execute on).
 *
 * A context is just the stack pointer it was suspended at: the switch
 * pushes the callee-saved registers (and the floating-point control words)
 * on the suspended stack and stores the stack pointer, so everything a
 * suspended context needs lives in [sp, top of its stack).  That is what
 * lets the scheduler copy a parked process's stack out and back in
 * (core/stacks.c): copy that range and the context comes with it.
 *
 * One implementation per platform, chosen by CMake: ctx_x86_64.S (System V),
 * ctx_aarch64.S (AAPCS64), or ctx_ucontext.c (any POSIX system, slower).
 */
#ifndef COTP_PLATFORM_CTX_H
#define COTP_PLATFORM_CTX_H

#include <stddef.h>

/* Suspends the running context, storing its stack pointer in *save, and
 * resumes the one suspended at load.  Returns when something switches back
 * to *save. */
void cotp__ctx_switch(void **save, void *load);

/* Prepares the fresh stack [base, base + size) so that switching to the
 * returned stack pointer calls entry() with no arguments, at the top of
 * the stack.  entry must never return. */
void *cotp__ctx_make(void *base, size_t size, void (*entry)(void));

/* Bytes below a suspended context's stack pointer that it still uses
 * (the ucontext fallback keeps its saved state there; 0 for the assembly
 * versions). */
extern const size_t cotp__ctx_below_sp;

#endif
