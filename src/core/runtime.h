/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime.h: what the parts of src/core call across files: the poller,
 * the blocking pool, the fault handler, the watchdog, process teardown.
 */
#ifndef COTP_CORE_RUNTIME_H
#define COTP_CORE_RUNTIME_H

#include "sched.h"

/* --- process.c --- */

/* The root process, not yet queued. */
struct cotp__proc *cotp__proc_new_root(cotp_entry *fn, void *arg, int *err);
/* Tears down an exited process (scheduler context). */
void cotp__proc_finish(struct cotp__proc *p);
/* Frees what a process that never finished holds (runtime stop). */
void cotp__proc_discard(struct cotp__proc *p);
/* Exits the calling process with reason (in its heap).  Never returns. */
void cotp__proc_exit(struct cotp__proc *p, cotp_term reason)
    __attribute__((noreturn));

/* --- catch.c --- */

/* If p is inside cotp_catch_exit(), ends it with reason (does not return);
 * otherwise returns.  Only for exits the process raises itself: an exit
 * signal is never caught (A5). */
void cotp__throw_exit(struct cotp__proc *p, cotp_term reason);

/* --- sched.c --- */

/* Sets the runtime stopping and wakes every scheduler. */
void cotp__sched_stop_all(void);

/* --- poller.c: file descriptor waits on epoll --- */

int cotp__io_init(void);
void cotp__io_close(void);
/* Whether any process waits for a descriptor. */
bool cotp__io_pending(void);
/* The poller role: at most one sleeping scheduler blocks in epoll_wait. */
bool cotp__io_take_poller(void);
void cotp__io_release_poller(void);
/* Waits up to timeout_ms (-1: forever) for events and wakes the processes
 * they are for. */
void cotp__io_poll(int64_t timeout_ms);
/* Interrupts a poller blocked in cotp__io_poll.  Any thread. */
void cotp__io_interrupt(void);
/* Forgets the fd wait of p (it timed out or is being discarded). */
void cotp__io_cancel(struct cotp__proc *p);

/* --- blocking.c: the pool for cotp_blocking() --- */

int cotp__blocking_start(unsigned threads);
/* Waits for running calls to return and stops the threads. */
void cotp__blocking_stop(void);
/* Queues p's call (p is BLOCKED, its stack pinned). */
void cotp__blocking_submit(struct cotp__proc *p);

/* --- fault.c: stack overflow --- */

int cotp__fault_install(void);
void cotp__fault_uninstall(void);
/* Per scheduler thread: the alternate signal stack. */
void cotp__fault_thread_init(struct cotp__sched *s);
void cotp__fault_thread_close(struct cotp__sched *s);

/* --- watchdog.c: long schedules --- */

int cotp__watchdog_start(int64_t threshold_ms);
void cotp__watchdog_stop(void);

#endif
