/* SPDX-License-Identifier: Apache-2.0 */
/*
 * task_int.h: what the Task files share, written against the public API
 * only (cotp.h).
 *
 * A task is a plain process running cotp_task_entry().  Its owner tells it
 * what to run with one message, the go-ahead, because the alias it must
 * reply through is the monitor reference, which exists only once the
 * process does (the core has no spawn that links and monitors with an
 * alias in one step).  The go-ahead is a tuple:
 *
 *   {:"$cotp_task", alias | nil, owner, callers_tail, ancestors, flags,
 *    fn, arg}                              a C function (8 elements)
 *   {..., module, function, args}          module:function(args) (9)
 *   {..., fn, ctx, item}                   a stream function fn(item, ctx)
 *
 * fn, arg and ctx are the pointers' bits as integers.  The task puts
 * [owner | callers_tail] in its `$callers` and, in `$ancestors`, the list
 * the owner made ([owner's name or pid | owner's $ancestors]) or, when
 * the owner has neither a name nor ancestors (ancestors is nil), [owner].
 * It runs, and sends {alias, result} through the alias when there is one.
 * So the common go-ahead holds only immediates, and sending it builds
 * nothing.
 */
#ifndef COTP_OTP_TASK_INT_H
#define COTP_OTP_TASK_INT_H

#include <cotp.h>

#include "cotp/task.h"

/* The atoms Task uses, made once. */
struct cotp__task_atoms {
  cotp_term task, supervised, argument_error, cotp_task;
  cotp_term await, await_many, yield, yield_many, ignore, shutdown, stream;
  cotp_term brutal_kill, exit, nodedown, undef, erlang, apply, completed;
  cotp_term struct_, exception_, message, mfa, owner, pid, ref;
  cotp_term callers, ancestors, initial_call, c, unknown, nonode;
  cotp_term go, enforce_exit, trap_exit;
};
const struct cotp__task_atoms *cotp__task_atoms(void);

/* Flags of the go-ahead. */
enum {
  COTP__TASK_UNLINK_OWNER = 1 /* unlink from the owner after replying (a
                                 stream whose consumer traps exits: no
                                 EXIT for a task that did its job) */
};

/* Indexes in the go-ahead tuple. */
enum {
  COTP__GO_TAG,
  COTP__GO_ALIAS,
  COTP__GO_OWNER,
  COTP__GO_CALLERS,
  COTP__GO_ANCESTORS,
  COTP__GO_FLAGS,
  COTP__GO_FN, /* fn bits, or the module */
  COTP__GO_ARG, /* arg or ctx bits, or the function */
  COTP__GO_ITEM /* the args, or the stream item */
};

/* A pointer as a term (its bits as an integer), and back. */
cotp_term cotp__task_ptr_term(cotp_heap *h, const void *p);
void *cotp__task_term_ptr(cotp_term t);
cotp_term cotp__task_fn_term(cotp_heap *h, void (*fn)(void));
void (*cotp__task_term_fn(cotp_term t))(void);

/* The go-ahead for a task, less the job: tag, alias, owner, tails, flags
 * in elems[0..5] (elements in the caller's heap). */
void cotp__task_go_head(cotp_term alias, unsigned flags, cotp_term elems[6]);

/* Monitors pid with an alias, links to it if link, sends it the go-ahead
 * made of head (from cotp__task_go_head with alias NONE: filled here) and
 * the job (n terms), and fills *task.  On failure the process is killed. */
int cotp__task_attach(cotp_pid pid, bool link, const cotp_term *job, size_t n,
                      cotp_term module, cotp_term function, unsigned arity,
                      cotp_task *task);

/* Starts a task with its go-ahead (in the caller's heap) as the spawn's
 * message, in the task's mailbox before it runs.  With ref (made by
 * cotp_make_ref, carried by the go-ahead) the task is linked and
 * monitored with ref as a :demonitor alias, as async's; with NULL it is
 * neither (task_run.c). */
int cotp__task_spawn_go(cotp_term go, cotp_term *ref, cotp_pid *pid);

/* --- terms and reasons (task_term.c) --- */

/* {reason, {mod, fun, args}}: what the waiting functions exit with. */
cotp_term cotp__task_reason(cotp_heap *h, cotp_term reason, cotp_term mod,
                            cotp_term fun, cotp_term args);
/* The reason a DOWN reports, as the waiting functions pass it on:
 * :noconnection becomes {:nodedown, node}, node taken from the DOWN's
 * object (a pid: this node; {name, node}: that node). */
cotp_term cotp__task_down_reason(cotp_heap *h, cotp_term object,
                                 cotp_term reason);
/* The timeout as Elixir shows it: an integer, :infinity, :brutal_kill. */
cotp_term cotp__task_timeout_term(cotp_heap *h, int64_t timeout_ms);
/* The tasks as a list of %Task{} terms. */
cotp_term cotp__task_list_term(cotp_heap *h, const cotp_task *tasks, size_t n);

/* Exits the caller with {%ArgumentError{message: text}, []}. */
_Noreturn void cotp__task_raise(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* Exits with ArgumentError unless task is the caller's (F15); what names
 * the caller in the message. */
void cotp__task_check_owner(const cotp_task *task, const char *what);
/* Exits with ArgumentError unless timeout_ms is COTP_INFINITY or >= 0. */
void cotp__task_check_timeout(int64_t timeout_ms, const char *what);

/* --- receiving (task_recv.c) --- */

/* Whether msg is {ref, _} and {:DOWN, ref, _, _, _}. */
bool cotp__task_is_reply(cotp_term msg, cotp_term ref);
bool cotp__task_is_down(cotp_term msg, cotp_term ref);
/* Yields before a wait for a task parks.  A task just started usually
 * finishes sooner than a parked process can be woken from another thread
 * (a futex call); yielding lets it finish while the waiter is runnable.
 * Eight measured best on two schedulers: the stream benchmarks ran 1.5 to
 * 3x faster, async + await_many a third faster; a wait for long tasks
 * loses eight quick yields. */
#define COTP__TASK_SPINS 8

/* cotp_receive_if() up to an absolute deadline (cotp_monotonic_ms()
 * time; COTP_INFINITY for none) that looks without waiting first (the
 * core reads the clock on entry to every timed receive, and the message
 * is often there already), then yields COTP__TASK_SPINS times, looking
 * after each, then parks.  A deadline already passed looks once only.
 * Returns 0 or COTP_ETIMEDOUT. */
int cotp__task_receive(cotp_accept_fn *accept, void *ctx, int64_t deadline,
                       cotp_term *msg);
/* The deadline timeout_ms from now (COTP_INFINITY stays). */
int64_t cotp__task_deadline(int64_t timeout_ms);

/* Removes a queued {ref, reply} without waiting: true with *reply. */
bool cotp__task_flush_reply(cotp_term ref, cotp_term *reply);
/* Removes the monitor ref and a DOWN of it already queued (Elixir's
 * Process.demonitor(ref, [:flush])). */
void cotp__task_demonitor(cotp_term ref);

/*
 * Memory for the length of a wait that the process may not survive: a
 * process killed while it waits loses its frames, and with them whatever
 * they malloc'ed.  Scratch memory is held by a resource in the caller's
 * heap, so it goes with the heap if the process dies; cotp__scratch_free
 * frees it at once otherwise (a few bytes stay until the heap lets go of
 * its mark).  NULL when out of memory.
 */
void *cotp__scratch_alloc(size_t bytes, cotp_resource **handle);
void cotp__scratch_free(cotp_resource *handle);

/* Whether v lives in no heap: an atom, a pid, a reference, [], a small
 * integer (every tag above the list's).  Such a reply needs no copy. */
static inline bool cotp__task_immediate(cotp_term v) {
  return (v.w & 7u) > COTP__TAG_LIST;
}

/*
 * A map from a task's reference to its index in the caller's array of
 * what it watches (tasks, a stream's slots), open addressing: for the
 * waiting functions that watch many tasks at once and for streams.  A slot
 * is 4 bytes, (index + 1) << 2 with a state of 2 bits the caller keeps
 * there, 0 when empty; the reference is read from the caller's array
 * (refs, then every stride bytes).  Slots that held the reference took
 * 16 bytes: 4 MB for 100,000 tasks, fresh memory that cost await_many a
 * page fault per 256 tasks.  Its memory is scratch memory (above) beyond
 * eight slots.
 */
#define COTP__REFTAB_MAX ((1u << 30) - 2) /* indexes up to this one */
struct cotp__reftab {
  uint32_t *slots;
  uint32_t mask;
  const char *refs; /* the reference of index i: refs + i * stride */
  size_t stride;
  cotp_resource *scratch;
  uint32_t small[8];
};
/* Room for n entries whose references are at refs, every stride bytes:
 * false when out of memory (or n is over COTP__REFTAB_MAX + 1). */
bool cotp__reftab_init(struct cotp__reftab *t, size_t n, const cotp_term *refs,
                       size_t stride);
/* The same, in slots the caller gives: cap of them, a power of two at
 * least twice the entries. */
void cotp__reftab_init_in(struct cotp__reftab *t, uint32_t *slots, size_t cap,
                          const cotp_term *refs, size_t stride);
void cotp__reftab_close(struct cotp__reftab *t);
/* The slot of ref, or NULL. */
uint32_t *cotp__reftab_find(const struct cotp__reftab *t, cotp_term ref);
/* The slot of index's reference, added with state 0 if not present
 * (*added, unless added is NULL, says which: a reference given twice
 * keeps its first index). */
uint32_t *cotp__reftab_put(struct cotp__reftab *t, uint32_t index, bool *added);
/* Removes the entry of a slot that find or put gave. */
void cotp__reftab_remove_at(struct cotp__reftab *t, uint32_t *slot);
static inline uint32_t cotp__reftab_index(const uint32_t *slot) {
  return (*slot >> 2) - 1;
}
static inline unsigned cotp__reftab_state(const uint32_t *slot) {
  return *slot & 3u;
}
static inline void cotp__reftab_set_state(uint32_t *slot, unsigned state) {
  *slot = (*slot & ~3u) | state;
}

/* --- shutting down (task_shutdown.c) --- */

/* Unlinks each pid and sends it an exit signal with reason, with a helper
 * process that sends the signals itself if the caller dies in between
 * (F39).  Returns 0 or a negative code (no helper: the signals are sent
 * anyway). */
int cotp__task_unlink_exit(const cotp_pid *pids, size_t n, cotp_term reason);

#endif
