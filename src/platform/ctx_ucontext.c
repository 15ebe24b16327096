/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctx_ucontext.c: the portable fallback, on POSIX makecontext/swapcontext.
 *
 * Slower than the assembly versions (glibc's swapcontext makes a
 * sigprocmask system call each time) but correct anywhere.  The saved
 * ucontext lives in the switching frame, on the suspended stack itself, so
 * the "stack pointer" of a suspended context is the address of that
 * ucontext.  swapcontext's own frame lies just below it and is still needed
 * on resume: cotp__ctx_below_sp tells the stack copier to keep it.
 */
#include <fenv.h>
#include <stdint.h>
#include <ucontext.h>

#include "ctx.h"

const size_t cotp__ctx_below_sp = 1024;

struct fresh {
  ucontext_t uc;
};

void cotp__ctx_switch(void **save, void *load) {
  ucontext_t here;
  *save = &here;
  swapcontext(&here, (ucontext_t *)load);
}

/* swapcontext keeps each context's floating-point environment already. */
void cotp__ctx_switch_fp(void **save, void *load, int load_fp) {
  (void)load_fp;
  cotp__ctx_switch(save, load);
}

/* swapcontext's own return mispredicts whatever is done here. */
int cotp__ctx_return_resumed(int rc) { return rc; }

void *cotp__ctx_make(void *base, size_t size, void (*entry)(void)) {
  /* The fresh context's ucontext sits at the very top of its stack; the
   * stack it runs on is everything below it. */
  uintptr_t t = ((uintptr_t)base + size - sizeof(struct fresh)) & ~(uintptr_t)63;
  struct fresh *f = (struct fresh *)t;
  /* getcontext takes the floating-point state too, which is the caller's
   * (perhaps a process spawned with fp_env): a fresh one starts with the
   * defaults */
  fenv_t caller;
  fegetenv(&caller);
  fesetenv(FE_DFL_ENV);
  getcontext(&f->uc);
  fesetenv(&caller);
  f->uc.uc_stack.ss_sp = base;
  f->uc.uc_stack.ss_size = (size_t)(t - (uintptr_t)base) - 256;
  f->uc.uc_link = NULL;
  makecontext(&f->uc, entry, 0);
  return &f->uc;
}
