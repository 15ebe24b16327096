/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stacks.h: run stacks, shared by processes one at a time (copy-stack).
 *
 * The problem: a fresh page costs 1.5-9 us (the kernel zeroes and maps it)
 * against 9 ns for a context switch, and a process blocked in receive uses
 * a few hundred bytes of stack.  Giving each process a stack of its own
 * makes every spawn pay for fresh pages and every parked process hold at
 * least a page.  So processes run on a set of resident run stacks (mapped
 * once, guard page below, reused forever), and a parked process that holds
 * a run stack another process needs is evicted: the used part of the
 * stack, [sp, top), is copied into a chunk of its size class, and copied
 * back when the process runs again (libaco's copy-stack).  When the frames
 * going out and those coming in need chunks of one class, the two trade
 * places in one pass and the chunk changes hands (stacks.c, swap_frames).
 *
 * The catch is that a C stack frame holds pointers into the stack, so a
 * process must resume at the addresses it was suspended at: on the same
 * run stack (its "home").  A process with no frames (not started, a handler
 * between messages, hibernated) can take any stack.  Exclusive use keeps it
 * safe with many threads: a run stack is in use by at most one running
 * process; a process whose home is in use elsewhere waits on that stack's
 * waiter list and runs on whichever scheduler releases the stack.
 *
 * So hot processes keep their stacks and never copy, cold ones cost the
 * bytes they use, and a behaviour between messages costs nothing.  The
 * limit, documented in cotp/process.h: processes waiting for a stack that a
 * never-yielding process holds wait as long as it does.
 *
 * Fields of a run stack are protected by its lock, held for a few
 * instructions at a time.
 */
#ifndef COTP_CORE_STACKS_H
#define COTP_CORE_STACKS_H

#include <stdatomic.h>

#include "platform/stackmem.h"

struct cotp__proc;
struct cotp__sched;

struct cotp__rstack {
  struct cotp__stackmem mem;
  atomic_flag lock;
  /* Under lock. */
  bool in_use;                          /* a process runs on it */
  bool pinned;                          /* its resident is in a blocking
                                           call: must not be evicted */
  struct cotp__proc *resident;          /* frames physically here */
  struct cotp__proc *waiters, *waiters_tail;
  struct cotp__stackset *set;           /* the set it belongs to */
};

/* The stacks one scheduler hands out to processes without frames. */
struct cotp__stackset {
  struct cotp__rstack **stacks;
  unsigned n, max;
  size_t size;
  unsigned hand;                /* where the search for a victim starts */
  _Atomic(struct cotp__rstack *) hint; /* a stack its last resident left
                                          empty (any thread writes it) */
};

/* The top of r's stack: frames grow down from here, and a saved stack
 * is the range [sp, top). */
static inline char *cotp__rstack_top(const struct cotp__rstack *r) {
  return r->mem.base + r->mem.size;
}

int cotp__stackset_init(struct cotp__stackset *set, size_t size,
                        unsigned initial, unsigned max);
/* Unmaps the set's stacks (runtime stop, after every process is gone). */
void cotp__stackset_close(struct cotp__stackset *set);

/*
 * Gets p onto a run stack, ready to switch to: its home (restoring its
 * frames if they were evicted) or, if it has no frames, any stack of s's
 * set (with a fresh context at the top).  Returns false when p's home is in
 * use by another scheduler: p is then on that stack's waiter list, owned
 * by it.
 */
bool cotp__stack_acquire(struct cotp__sched *s, struct cotp__proc *p);
/* The same for p with frames on its home stack, whose lock the caller
 * holds: the lock is released.  (The inline fast path that found p's
 * frames evicted goes on here rather than lock the stack a second time.) */
bool cotp__stack_acquire_locked(struct cotp__proc *p);

/*
 * Gets p, which has no frames and no stack of its own, onto any stack of
 * s's set with a fresh context that starts at entry (a direct turn starts
 * a handler at its own bottom frame, not the usual one).
 */
void cotp__stack_take_fresh(struct cotp__sched *s, struct cotp__proc *p,
                            void (*entry)(void));

/*
 * After p has switched out: gives up use of its stack.  frames_live says
 * whether p will resume where it stopped (false: it exited or dropped its
 * frames).  pin keeps p's frames in place until it runs again (a blocking
 * call may be using them).  Returns a process that was waiting for this
 * stack, to run next, or NULL.
 */
struct cotp__proc *cotp__stack_release(struct cotp__proc *p, bool frames_live,
                                       bool pin);

/* Frees what p holds of stacks: saved frames, a dedicated stack (exit, or
 * runtime stop). */
void cotp__stack_forget(struct cotp__proc *p);

/* Whether addr is in the guard page of the stack p runs on (a stack
 * overflow; fault handler). */
bool cotp__stack_overflowed(const struct cotp__proc *p, const void *addr);

#endif
