/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fault.c: a stack overflow kills the process that overflowed, not the
 * program.
 *
 * Every run stack has a guard page below it.  A process that runs past
 * its stack faults there; the SIGSEGV handler runs on the scheduler
 * thread's alternate signal stack, sees that the address is in the guard
 * page of the running process's stack, and switches to the scheduler as if
 * the process had called exit with reason stack_overflow: its frames are
 * abandoned (C has no unwinding; cleanups registered with the runtime
 * run, anything else the frames held is lost) and its links and monitors
 * fire as for any exit.  Any other fault is not ours: the previous handler
 * is put back and the fault happens again, with the usual core dump.
 *
 * Leaving a signal handler by switching stacks is what siglongjmp does;
 * SA_NODEFER keeps SIGSEGV unblocked afterwards.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "platform/ctx.h"
#include "runtime.h"

#define ALTSTACK_SIZE (64u << 10)

static struct sigaction previous;

static size_t format_u32(char *out, uint32_t v) {
  char tmp[10];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < n; i++)
    out[i] = tmp[n - 1 - i];
  return n;
}

static void on_fault(int sig, siginfo_t *si, void *uctx) {
  (void)uctx;
  struct cotp__sched *s = cotp__sched_self();
  struct cotp__proc *p = s ? s->current : NULL;
  if (!p || !cotp__stack_overflowed(p, si->si_addr)) {
    sigaction(sig, &previous, NULL);
    return; /* the instruction faults again, under the old handler */
  }
  /* write(2) is all that is safe here */
  char line[96] = "cotp: stack overflow in #PID<0.";
  size_t n = strlen(line);
  cotp_pid pid = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  n += format_u32(line + n, cotp_pid_number(pid));
  line[n++] = '.';
  n += format_u32(line + n, cotp_pid_serial(pid));
  memcpy(line + n, ">; it exits with reason stack_overflow\n", 39);
  ssize_t w = write(2, line, n + 39);
  (void)w;
  p->exit_reason = COTP_ATOM_STACK_OVERFLOW;
  p->request = RQ_EXIT;
  s->prev = p;
  s->current = NULL;
  void *abandoned;
  /* the handler ran with the default floating-point state: keep it so */
  cotp__ctx_switch_fp(&abandoned, s->sp, 0);
}

int cotp__fault_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  return sigaction(SIGSEGV, &sa, &previous) == 0 ? 0 : COTP_EINVAL;
}

void cotp__fault_uninstall(void) { sigaction(SIGSEGV, &previous, NULL); }

void cotp__fault_thread_init(struct cotp__sched *s) {
  s->altstack = malloc(ALTSTACK_SIZE);
  if (!s->altstack)
    return; /* then an overflow is an ordinary crash */
  stack_t ss = {.ss_sp = s->altstack, .ss_size = ALTSTACK_SIZE, .ss_flags = 0};
  sigaltstack(&ss, NULL);
}

void cotp__fault_thread_close(struct cotp__sched *s) {
  if (!s->altstack)
    return;
  stack_t ss = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
  sigaltstack(&ss, NULL);
  free(s->altstack);
  s->altstack = NULL;
}
