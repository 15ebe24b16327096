/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catch.c: catching the exit a process raises itself (Erlang's
 * `catch exit(R)`, Elixir's `catch :exit, r`).
 *
 * A behaviour must see a callback that calls cotp_exit(): gen_server runs
 * terminate and reports the crash before the process goes.  C has no
 * exceptions, so a catch is a setjmp on the process's own stack, and
 * cotp_exit() longjmps to the innermost one instead of leaving.  This is
 * safe because the jump stays on one process's stack (which resumes at the
 * same addresses after any switch, stacks.h) and skips only the frames of
 * the code that was run and the runtime frames that called it, which hold
 * no lock when they call user code.  The one piece of state such a frame
 * may hold is the deadline of a receive whose accept function (called
 * mid-scan) exits: the throw cancels it.
 *
 * Exit signals (cotp_exit_signal, links, kill) are not exceptions and are
 * never caught, as in Erlang: they take effect where the runtime handles
 * signals, through cotp__proc_exit() directly.
 */
#include <setjmp.h>

#include "cotp/signal.h"
#include "runtime.h"

/* GCC's and Clang's own setjmp saves three words where libc's saves eight
 * registers and mangles two: a tenth of a GenServer call's own work.  The
 * sanitizers watch libc's longjmp (ASan unpoisons the frames it skips,
 * TSan follows the stack), so their builds keep it. */
#if defined(COTP_ASAN) || defined(COTP_TSAN) || !defined(__GNUC__)
typedef jmp_buf catch_env;
#define CATCH_SET(env) setjmp(env)
#define CATCH_JUMP(env) longjmp(env, 1)
#else
typedef void *catch_env[5];
#define CATCH_SET(env) __builtin_setjmp(env)
#define CATCH_JUMP(env) __builtin_longjmp(env, 1)
#endif

struct cotp__catch {
  catch_env env;
  struct cotp__catch *outer;
  cotp_term reason;
};

void cotp__throw_exit(struct cotp__proc *p, cotp_term reason) {
  struct cotp__catch *c = p->catching;
  if (!c)
    return;
  p->catching = c->outer;
  if (p->flags & PF_TIMED) {
    cotp__timer_remove(&p->timer);
    p->flags &= (uint16_t)~PF_TIMED;
  }
  c->reason = reason;
  CATCH_JUMP(c->env);
}

int cotp_catch_exit(cotp_entry *fn, void *arg, cotp_term *reason) {
  struct cotp__proc *p = cotp__proc_self();
  if (!p)
    return COTP_ENOTPROC;
  if (!fn)
    return COTP_EINVAL;
  /* fields set one by one: an initializer would zero the jump buffer
   * too, at every GenServer callback */
  struct cotp__catch c;
  c.outer = p->catching;
  c.reason = COTP_NONE;
  p->catching = &c;
  if (CATCH_SET(c.env) == 0) {
    fn(arg);
    /* p is the same process: its block does not move when it migrates */
    p->catching = c.outer;
    return 0;
  }
  /* cotp__throw_exit restored p->catching */
  if (reason)
    *reason = c.reason;
  return 1;
}
