/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crash.c: crash reports.  A process that exits abnormally (any reason
 * but normal, shutdown and {shutdown, _}) is reported through the logger,
 * in the shape Elixir gives its reports: who (pid, and the registered name
 * or label when there is one) and the reason, printed as Elixir would.
 *
 *   12:00:01.502 [error] Process #PID<0.115.0> (:worker) terminating
 *   ** (stop) :boom
 *   Function: worker
 *
 * Elixir reports a Task or a GenServer this way ("** (stop) reason"); it
 * does not report a plain process that calls exit/1, but C processes have
 * no exceptions, so an abnormal exit is how they crash, and it is reported.
 */
#include <dlfcn.h>
#include <stdlib.h>

#include "cotp/log.h"
#include "ext.h"
#include "sched.h"

static bool abnormal(cotp_term reason) {
  if (reason.w == COTP_ATOM_NORMAL.w || reason.w == COTP_ATOM_SHUTDOWN.w)
    return false;
  return !(cotp_tuple_size(reason) == 2 &&
           cotp_tuple_get(reason, 0).w == COTP_ATOM_SHUTDOWN.w);
}

void cotp__crash_report(struct cotp__proc *p, cotp_pid pid, cotp_term reason) {
  if ((p->flags & PF_NO_REPORT) || !abnormal(reason) ||
      !cotp_log_enabled(COTP_LOG_ERROR))
    return;
  char who[160];
  cotp_term name = cotp__name_of(pid);
  cotp_term label = p->ext ? p->ext->label : COTP_ATOM_NIL;
  size_t n = (size_t)snprintf(who, sizeof who, "#PID<%u.%u.%u>", cotp_pid_node(pid),
                              cotp_pid_number(pid), cotp_pid_serial(pid));
  cotp_term tag = !cotp_is_none(name) ? name
                  : label.w != COTP_ATOM_NIL.w ? label
                                               : COTP_NONE;
  if (!cotp_is_none(tag) && n < sizeof who - 4) {
    who[n++] = ' ';
    who[n++] = '(';
    n += cotp_term_print(who + n, sizeof who - n - 1, tag);
    if (n > sizeof who - 2)
      n = sizeof who - 2;
    who[n++] = ')';
    who[n] = '\0';
  }
  /* At most 4 KB of the reason: the report runs on the stack of whichever
   * process comes in next, and a reason can be a megabyte. */
  char why[4096];
  if (cotp_term_print(why, sizeof why, reason) >= sizeof why)
    memcpy(why + sizeof why - 4, "...", 4);
  void (*fn)(void) = p->flags & PF_HANDLER ? (void (*)(void))p->entry.handle
                     : p->flags & PF_MFA   ? (void (*)(void))p->u.mfa.fn
                                           : (void (*)(void))p->entry.fn;
  void *addr;
  memcpy(&addr, &fn, sizeof addr);
  Dl_info dl;
  /* the function's name when the dynamic symbol table has it */
  bool named = addr && dladdr(addr, &dl) && dl.dli_sname;
  cotp_log(COTP_LOG_ERROR, "Process %s terminating\n** (stop) %s%s%s", who, why,
           named ? "\nFunction: " : "", named ? dl.dli_sname : "");
}

int cotp_set_crash_report(bool on, bool *old) {
  struct cotp__proc *p = cotp__proc_self();
  if (!p)
    return COTP_ENOTPROC;
  if (old)
    *old = !(p->flags & PF_NO_REPORT);
  if (on)
    p->flags &= (uint16_t)~PF_NO_REPORT;
  else
    p->flags |= PF_NO_REPORT;
  return 0;
}
