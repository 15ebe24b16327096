/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp/signal.h: exits, exit signals, links, monitors and aliases, with
 * Erlang's semantics.
 *
 * Every effect one process has on another is a signal, and all the signals
 * from one process to another (messages, exit, link, unlink, monitor,
 * demonitor, DOWN) travel one channel, in order: a DOWN or EXIT never
 * overtakes a message the dying process sent before it.  Signals take
 * effect when the receiver handles them: at its next call into the runtime
 * (receive, send, yield and the rest), or at once if it is parked.
 *
 * Exit signals follow Erlang's decision table exactly.  A signal with reason
 * R from process F to P:
 *   - is dropped if it comes from a link that P no longer has, or if R is
 *     normal, P does not trap exits and F is not P;
 *   - kills P with reason killed if it was sent with cotp_exit_signal() and
 *     R is kill (kill cannot be trapped);
 *   - becomes the message {:EXIT, F, R} if P traps exits (a kill that came
 *     over a link included: that one is trappable and stays kill);
 *   - otherwise kills P with reason R.
 * A process that dies sends, after releasing its registered name, an exit
 * signal with its reason over each of its links and a DOWN to each process
 * monitoring it.  Propagation is iterative: every process handles its own
 * exit, so a chain of 100,000 linked processes dies without a deep stack.
 *
 * Exit reasons are terms.  A C function that fails does not exit its
 * process: exiting is always explicit (cotp_exit) or the work of a signal.
 */
#ifndef COTP_SIGNAL_H
#define COTP_SIGNAL_H

#include "process.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Exits the calling process with reason (copied as needed; it may live in
 * the process's heap).  Cleanups registered with cotp_on_exit() run, links
 * and monitors fire.  Never returns.  Context: inside a process.
 */
COTP_API void cotp_exit(cotp_term reason) __attribute__((noreturn));

/*
 * Runs fn(arg) in the calling process and catches an exit that fn raises
 * itself with cotp_exit() or cotp_exit_normal(), as Erlang's
 * `catch exit(R)` does: instead of exiting, the process returns here.
 * Behaviours use it to run terminate callbacks after a callback exits.
 * Catches nest; the innermost one gets the exit.
 *
 * Not caught, as in Erlang: exit signals, including exit(self(), R) sent
 * with cotp_exit_signal() (A5), kill, and links; a stack overflow.  The
 * frames fn leaves behind are discarded without running anything in them:
 * memory they malloc'ed is theirs to register with cotp_on_exit() or to
 * free before exiting.  cotp_hibernate() inside fn discards the catch with
 * the stack.
 *
 * Context: inside a process.
 * Returns: 0 when fn returned; 1 when fn exited, with the reason in
 * *reason (may be NULL; the term is where cotp_exit() found it, usually
 * the caller's heap); COTP_ENOTPROC, COTP_EINVAL (fn NULL).
 */
COTP_API int cotp_catch_exit(cotp_entry *fn, void *arg, cotp_term *reason);

/*
 * Sends an exit signal with reason to pid (Erlang's exit/2).  To the caller
 * itself: exit(self(), R) semantics, which are those above with F == P (the
 * caller exits, or gets an {:EXIT, self, R} message if it traps exits),
 * before this returns.  A pid that does not exist is ignored.
 * Context: inside a process.
 * Returns: 0, COTP_EINVAL (reason NONE), COTP_ENOMEM, COTP_ENOTPROC.
 */
COTP_API int cotp_exit_signal(cotp_pid pid, cotp_term reason);

/* Sets whether the caller traps exits; *old (may be NULL) gets the
 * previous setting.  Context: inside a process. */
COTP_API int cotp_trap_exit(bool on, bool *old);

/*
 * Links the caller and pid (bidirectional, at most one link per pair;
 * linking again, or to oneself, does nothing).  If pid does not exist: a
 * caller that traps exits gets {:EXIT, pid, :noproc} and 0 is returned;
 * otherwise COTP_ENOPROC is returned and nothing happens (Erlang raises
 * noproc here: it is one of the documented irregularities).
 * Context: inside a process.
 */
COTP_API int cotp_link(cotp_pid pid);

/*
 * Removes the link between the caller and pid, if any.  Once it returns,
 * the link has no effect on the caller any more (an {:EXIT, pid, _} may
 * already be in a trapping caller's mailbox: flush it if it matters).
 * Returns 0 (also when there was no link), or COTP_ENOMEM when there was
 * no memory to record the unlink (the link is then unchanged).  Context:
 * inside a process.
 */
COTP_API int cotp_unlink(cotp_pid pid);

/* cotp_spawn, with the new process linked to the caller before it runs. */
COTP_API int cotp_spawn_link(cotp_entry *fn, void *arg, cotp_pid *pid);

/* cotp_spawn, with the new process monitored by the caller before it
 * runs; *ref (needed) receives the monitor reference. */
COTP_API int cotp_spawn_monitor(cotp_entry *fn, void *arg, cotp_pid *pid,
                                cotp_term *ref);

/* Monitor options: also make the monitor reference an alias of the
 * caller (see cotp_alias), deactivated when... */
typedef enum cotp_alias_mode {
  COTP_ALIAS_NONE,
  COTP_ALIAS_EXPLICIT_UNALIAS, /* ...cotp_unalias() is called */
  COTP_ALIAS_DEMONITOR,        /* ...the monitor goes (demonitor or DOWN) */
  COTP_ALIAS_REPLY_DEMONITOR   /* ...and also when a first message comes
                                  through it, which removes the monitor */
} cotp_alias_mode;

/*
 * Monitors pid: when it exits (or if it does not exist), the caller gets
 * {:DOWN, ref, :process, pid, reason} (reason noproc for a process that
 * did not exist).  Every call makes a new, independent monitor.
 * *ref (needed) receives the reference.  Context: inside a process.
 * Returns: 0, COTP_EINVAL, COTP_ENOMEM, COTP_ENOTPROC.
 */
COTP_API int cotp_monitor(cotp_pid pid, cotp_term *ref);
COTP_API int cotp_monitor_alias(cotp_pid pid, cotp_alias_mode mode,
                                cotp_term *ref);

/*
 * Monitors the process registered as name (an atom) now: the DOWN names
 * it as {name, node()} ({name, :nonode@nohost} on a node without
 * distribution), and re-registering the name later does not move the
 * monitor.  An unregistered name gives an immediate DOWN with noproc.
 */
COTP_API int cotp_monitor_name(cotp_term name, cotp_term *ref);

/* Flags of cotp_demonitor(). */
#define COTP_DEMONITOR_FLUSH 1u /* also remove a DOWN already queued */
#define COTP_DEMONITOR_INFO 2u  /* return 1 if the monitor was active,
                                   0 if it had fired or was not found */

/*
 * Removes a monitor the caller created.  Once it returns, no DOWN for ref
 * will be added to the mailbox (one may be there already: FLUSH removes
 * it).  A reference that is not a monitor of the caller's (unknown, already
 * fired, or seen from the monitored end) changes nothing, as in OTP 25.
 * Returns 0 (or 1/0 with INFO), COTP_EINVAL (not a reference, unknown
 * flags), COTP_ENOTPROC.
 */
COTP_API int cotp_demonitor(cotp_term ref, unsigned flags);

/* Flags of cotp_alias(). */
#define COTP_ALIAS_REPLY 1u /* deactivate after the first message */

/*
 * A new alias of the caller: a reference that other processes can send to
 * (cotp_send_alias) while it is active.  Messages sent through an inactive
 * alias are dropped before they reach the mailbox; ones already there
 * stay.  Context: inside a process.
 */
COTP_API int cotp_alias(unsigned flags, cotp_term *alias);
/* Deactivates one of the caller's aliases: 0, or COTP_ENOTFOUND (not an
 * active alias of the caller). */
COTP_API int cotp_unalias(cotp_term alias);
/* Sends to the process an alias belongs to, if the alias is active
 * (silently dropped otherwise).  Context: any thread. */
COTP_API int cotp_send_alias(cotp_term alias, cotp_term msg);

#ifdef __cplusplus
}
#endif

#endif
