/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctx.h: switching between execution contexts (a scheduler's thread stack
 * and the run stacks processes execute on).
 *
 * A context is just the stack pointer it was suspended at: the switch
 * pushes the callee-saved registers on the suspended stack and stores the
 * stack pointer, so everything a
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

/* The same, for a switch out of or into a context that keeps its own
 * floating-point control state (rounding, exception masks; a process
 * spawned with fp_env): saves the running context's, then loads the
 * resumed context's (load_fp nonzero) or the defaults.  cotp__ctx_switch
 * leaves that state to the thread on x86-64, where reading it is a third
 * of a switch; the aarch64 and ucontext switches keep it in every context,
 * and this is the same switch there. */
void cotp__ctx_switch_fp(void **save, void *load, int load_fp);

/* Prepares the fresh stack [base, base + size) so that switching to the
 * returned stack pointer calls entry() with no arguments, at the top of
 * the stack.  entry must never return. */
void *cotp__ctx_make(void *base, size_t size, void (*entry)(void));

/*
 * Suspends the running context as cotp__ctx_switch does, storing its
 * stack pointer in *save, and calls fn() on the fresh stack whose
 * (16-aligned) top is top.  If fn returns, the suspended context resumes
 * and this returns.  If fn's context switches to *save instead, that is
 * this returning too, and fn's context goes on as any other: it must then
 * never return (there is nothing under it).  A call and two returns the
 * CPU predicts, where entering a fresh context made by cotp__ctx_make and
 * switching back to the caller left three returns mispredicted (a direct
 * turn, core/turn.c).  Only cotp__ctx_switch may resume *save, so the
 * floating-point control state stays the thread's.  Not in the ucontext
 * fallback (COTP__CTX_CALL_ON is defined where it exists).
 */
#if !defined(COTP_CTX_UCONTEXT)
#define COTP__CTX_CALL_ON 1
void cotp__ctx_call_on(void **save, void *top, void (*fn)(void));
#endif

/*
 * Returns rc to the caller of the function that tail-calls this, with an
 * indirect jump where that function's own `ret` would have been.  For a
 * function that suspended its context and was resumed: the CPU predicts
 * a `ret` from its stack of return addresses, which after a switch holds
 * the suspended context's, so the first return into code that differs
 * between the two (the receive's caller: a client's loop, then a
 * server's) is always mispredicted, 15 to 20 cycles.  An indirect jump is
 * predicted from the path that led to it instead, which tells the two
 * apart.  Called other than as a tail call, it returns to its own caller
 * that way, which is still correct.  aarch64 returns normally: an
 * indirect branch to a return address would fault where branch target
 * identification is enforced.
 */
int cotp__ctx_return_resumed(int rc);

/* Bytes below a suspended context's stack pointer that it still uses
 * (the ucontext fallback keeps its saved state there; 0 for the assembly
 * versions). */
extern const size_t cotp__ctx_below_sp;

#endif
