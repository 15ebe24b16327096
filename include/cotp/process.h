/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp/process.h: the runtime and its processes.
 *
 * A cotp program starts the runtime with cotp_run(), which runs a root
 * process until it exits, then stops every other process and frees
 * everything: a program may start and stop the runtime many times, one at a
 * time.  Processes are stackful coroutines on one scheduler thread per core
 * (work stealing moves them between threads).  They share nothing: a
 * message is copied into the receiver (large binaries and resources are
 * shared by reference count) and read with selective receive.
 *
 * Contexts.  "Inside a process" means called by code running as a process
 * (the root, or anything spawned); such calls return COTP_ENOTPROC
 * elsewhere.  A process can move to another thread at any call into the
 * runtime that may block or yield, so code running in a process must not
 * keep thread-local state (errno included) across those calls.
 *
 * Memory.  Each process has a heap (cotp_self_heap()): received messages
 * land in it and are freed with it, or with a mark released (see
 * cotp_heap_release).  A process's stack is its own: the address of a local
 * variable must not be handed to another process or thread, because a
 * parked process's stack may be copied out to make room for another one and
 * copied back when it resumes.  The one exception is cotp_blocking(), which
 * pins the caller's stack while the blocking function runs.
 *
 * Stack overflow hits a guard page; the process that overflowed dies with
 * reason stack_overflow and the others keep running.
 */
#ifndef COTP_PROCESS_H
#define COTP_PROCESS_H

#include "pattern.h"
#include "term.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The code a process runs; the process exits with reason normal when it
 * returns. */
typedef void cotp_entry(void *arg);

/* ------------------------------------------------------------------------ */
/* The runtime                                                               */

typedef struct cotp_config {
  /* Scheduler threads; 0 means one per online CPU. */
  unsigned schedulers;
  /* Bytes of each run stack (the deepest a process may go); 0 means
   * 256 KiB.  Rounded up to pages. */
  size_t stack_size;
  /* Most processes alive at once; 0 means 4,194,304.  The runtime
   * reserves address space for that many control blocks (320 bytes
   * each) when it starts, and commits memory as they come into use (a
   * stretch of 4,096 at a time, the next one ahead while a core idles); a
   * system that refuses the reservation (a strict overcommit policy, a
   * low RLIMIT_AS) makes cotp_run fail with COTP_ENOMEM: ask for fewer. */
  unsigned max_processes;
  /* A process that runs this long without calling into the runtime is
   * reported (COTP_LOG_WARNING); 0 means 500 ms, negative turns it off. */
  int64_t long_schedule_ms;
  /* Threads for cotp_blocking(); 0 means 16. */
  unsigned blocking_threads;
  /* Nonzero: scheduling decisions are perturbed from this seed, for tests
   * that want more interleavings (wake-ups go to the back of the queue at
   * random instead of running next, and time slices vary). */
  uint64_t sched_seed;
} cotp_config;

#define COTP_CONFIG_INIT {0, 0, 0, 0, 0, 0}

/*
 * Starts the runtime, runs root(arg) as the first process and returns when
 * it exits, after every other process has been stopped and every resource
 * freed.  cfg may be NULL for the defaults.  If reason is not NULL, the
 * root's exit reason is copied into reason_heap (required then) as
 * *reason: normal when root returned.
 * Context: any thread that is not a scheduler; one runtime at a time.
 * Returns: 0 when the root exited normally, 1 when it exited with any other
 * reason, COTP_EINVAL for a NULL root or bad config, COTP_EBUSY when a
 * runtime is already running, COTP_ENOMEM.
 */
COTP_API int cotp_run(cotp_entry *root, void *arg, const cotp_config *cfg,
                      cotp_heap *reason_heap, cotp_term *reason);

/* Number of scheduler threads of the running runtime (0 when none), and
 * how many of them are online (all of them: cotp does not take schedulers
 * offline).  Context: any thread. */
COTP_API unsigned cotp_schedulers(void);
COTP_API unsigned cotp_schedulers_online(void);

/* ------------------------------------------------------------------------ */
/* Spawning                                                                  */

typedef enum cotp_priority {
  COTP_PRIORITY_LOW,
  COTP_PRIORITY_NORMAL,
  COTP_PRIORITY_HIGH,
  COTP_PRIORITY_MAX
} cotp_priority;

typedef struct cotp_spawn_opts {
  cotp_priority priority;
  /* A dedicated stack of this many bytes instead of a shared run stack
   * (for code that needs more than the configured stack size); 0 for the
   * shared run stacks.  A dedicated stack is mapped at spawn and unmapped
   * at exit, with a guard page: tens of microseconds, at least a page
   * resident, and two of the kernel's memory mappings (vm.max_map_count,
   * 65,530 by default) per process. */
  size_t stack_size;
  /* When nonzero, arg points at this many bytes that are copied for the
   * new process: fn gets a pointer to its own copy, which lives as long as
   * the process (Erlang's spawn copies what a fun captures).  The caller's
   * bytes may then be anywhere, its stack included. */
  size_t arg_size;
  /* Link the new process to the caller before it runs (cotp_spawn_link). */
  bool link;
  /* Monitor it before it runs (cotp_spawn_monitor), the monitor's
   * reference also an alias when monitor_alias is not COTP_ALIAS_NONE
   * (Erlang's spawn_opt with {monitor, [{alias, Mode}]}); the reference
   * goes to *monitor_ref, which must not be NULL then.  It is written
   * before the argument is copied (arg_size), so the argument may be the
   * reference or hold it. */
  bool monitor;
  int monitor_alias; /* a cotp_alias_mode (cotp/signal.h) */
  cotp_term *monitor_ref;
  /* With monitor: *monitor_ref already holds the reference to use, made
   * by cotp_make_ref and not yet a monitor or alias of the caller's, so
   * that the argument (or spawn_mfa's terms) can carry it.  COTP_EINVAL
   * when it is not a reference or is in use. */
  bool monitor_ref_given;
  /* When not NULL, called with the process's argument (its copy, with
   * arg_size) once the process has ended, however it ended and even if it
   * never ran: after the cleanups it registered itself (cotp_on_exit),
   * before its links and monitors fire, in the dying process's context.
   * This hands what arg points at to the process: a behaviour's state is
   * freed by its server even when the server is killed before its first
   * message.  Not called when the spawn fails: the caller keeps arg. */
  void (*arg_free)(void *arg);
  /* When not COTP_NONE, a copy of this term is in the new process's
   * mailbox when it starts, ahead of anything sent to it: a handler's
   * first call.  The same as sending it right after the spawn, without
   * the send's lookup and push, and out of memory fails the spawn rather
   * than leaving a process without the message it was spawned for. */
  cotp_term message;
  /* With monitor_alias COTP_ALIAS_REPLY_DEMONITOR: the alias is the new
   * process's alone to reply through (its reply ends the monitor as
   * usual), and is not entered in the table other senders look aliases
   * up in, which saves that work when the reference never leaves the two
   * processes (a GenServer's start).  A message through it from anyone
   * else is dropped, as through an inactive alias.  COTP_EINVAL with
   * another mode. */
  bool monitor_alias_private;
  /* The process keeps its own floating-point control state (rounding
   * mode, exception masks, flush-to-zero: what fesetround, feenableexcept
   * and _MM_SET_FLUSH_ZERO_MODE change), as a thread does: it is saved when
   * the process switches out and restored when it runs again, also across
   * a hibernation and between a handler's (a GenServer's) messages, and
   * other processes run with the defaults meanwhile.  It starts with the
   * defaults.  Without it a process runs
   * in the default state and must leave it so whenever it calls into
   * cotp: a change would reach the processes run after it on that
   * scheduler.  Keeping it costs about 2 ns a switch on x86-64, where
   * reading that state is a third of a switch, and nothing more on
   * aarch64, whose switch keeps it for every process. */
  bool fp_env;
} cotp_spawn_opts;

#define COTP_SPAWN_OPTS_INIT \
  {COTP_PRIORITY_NORMAL, 0, 0, false, false, 0, NULL, false, NULL, {0}, false, false}

/*
 * Starts a process running fn(arg).  arg is passed as is: if it points to
 * memory, that memory must outlive the use the new process makes of it
 * (and must not be on the caller's stack), unless opts->arg_size asks for
 * a copy.  *pid may be NULL.
 * Context: inside a process.
 * Returns: 0, COTP_EINVAL (fn NULL; arg NULL or arg_size over 4 GiB with
 * arg_size set; monitor without monitor_ref, or an unknown alias mode),
 * COTP_ESYSLIMIT (max_processes alive), COTP_ENOMEM, COTP_ENOTPROC.  On
 * failure fn is never called.  Every spawn may give way to other
 * processes (its reductions), and then a pending exit signal may end the
 * caller, but only before the new process exists: once it returns 0, the
 * caller gets to send the child its first message.
 */
COTP_API int cotp_spawn(cotp_entry *fn, void *arg, cotp_pid *pid);
COTP_API int cotp_spawn_opt(cotp_entry *fn, void *arg,
                            const cotp_spawn_opts *opts, cotp_pid *pid);

/* The calling process's pid.  Context: inside a process (a pid with bits 0
 * elsewhere). */
COTP_API cotp_pid cotp_self(void);

/* The calling process's heap, where received messages land.  Context:
 * inside a process (NULL elsewhere). */
COTP_API cotp_heap *cotp_self_heap(void);

/*
 * Whether a process is alive (Erlang's is_process_alive).  Inside a
 * process the question travels to pid behind every signal the caller sent
 * it before, so an exit signal already sent counts (A20): the caller waits
 * for the answer, parking, so never call it holding a lock another process
 * may need.  Elsewhere it answers at once.  Context: any thread.
 */
COTP_API bool cotp_is_alive(cotp_pid pid);

/* Whether pid has not begun to exit, as this thread sees it now: never
 * waits (safe under a lock), but an exit signal sent to pid and not yet
 * handled does not count.  Context: any thread. */
COTP_API bool cotp_is_alive_now(cotp_pid pid);

/* ------------------------------------------------------------------------ */
/* Functions by name                                                         */

/* A function that can be named by module and function atoms, as Erlang's
 * {M, F, A}: it runs as a process, with the argument list as a term in the
 * process's heap. */
typedef void cotp_mfa_fn(cotp_term args);

/*
 * Makes fn callable as module:function (two atoms).  Registering the same
 * pair again replaces the function.  Context: any thread.
 * Returns: 0, COTP_EINVAL (not atoms, fn NULL), COTP_ENOMEM.
 */
COTP_API int cotp_register_function(cotp_term module, cotp_term function,
                                    cotp_mfa_fn *fn);

/* The function registered as module:function, or NULL. */
COTP_API cotp_mfa_fn *cotp_lookup_function(cotp_term module,
                                           cotp_term function);

/*
 * Code of any signature by name, for libraries that name their own kinds
 * of function (Task's functions return a result; a supervisor's start
 * functions start a child): the table is keyed by a kind atom as well as
 * module and function, so one name can mean one thing per kind.  fn is
 * stored as given; whoever looks it up with the same kind casts it back to
 * the type it was registered with.  cotp_register_function() is the kind
 * :process.  Registering a triple again replaces the function.
 * Context: any thread.
 * Returns: 0, COTP_EINVAL (not atoms, fn NULL), COTP_ENOMEM; the lookup
 * returns NULL when nothing is registered.
 */
typedef void cotp_code_fn(void);
COTP_API int cotp_register_code(cotp_term kind, cotp_term module,
                                cotp_term function, cotp_code_fn *fn);
COTP_API cotp_code_fn *cotp_lookup_code(cotp_term kind, cotp_term module,
                                        cotp_term function);

/* Spawns module:function with args (a list, copied into the new process's
 * heap).  Returns as cotp_spawn_opt, and COTP_ENOTFOUND when nothing is
 * registered under that name.  opts may be NULL; arg_size does not apply
 * (COTP_EINVAL), and arg_free gets NULL. */
COTP_API int cotp_spawn_mfa(cotp_term module, cotp_term function,
                            cotp_term args, const cotp_spawn_opts *opts,
                            cotp_pid *pid);

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */

/*
 * Sends a copy of msg to pid.  Sending to a process that does not exist is
 * not an error, as in Erlang: the message is dropped.  Messages from one
 * process to another arrive in the order they were sent.
 * Context: inside a process, or any other thread (then the message has no
 * sender process, and ordering holds per thread).
 * Returns: 0, COTP_EINVAL (msg is COTP_NONE), COTP_ENOMEM.
 */
COTP_API int cotp_send(cotp_pid pid, cotp_term msg);

/*
 * Receives the first message in the mailbox, waiting up to timeout_ms
 * (COTP_INFINITY: forever; 0: only look).  The message is in the caller's
 * heap (cotp_self_heap()).  A timeout is never shorter than asked; one of
 * a second or more (GenServer's and Task's 5,000 ms) is counted with less
 * precision, since nearly all of them end early: it can run about 10 ms
 * over.  An absolute deadline (COTP_RECV_DEADLINE) and cotp_sleep keep
 * millisecond precision.
 * Context: inside a process.
 * Returns: 0 with *msg set, COTP_ETIMEDOUT, COTP_EINVAL (a negative timeout
 * other than COTP_INFINITY), COTP_ENOTPROC.
 */
COTP_API int cotp_receive(int64_t timeout_ms, cotp_term *msg);

/* One clause of a selective receive: a pattern, the values of its pins,
 * and where to store its captures (either may be NULL when it has none). */
typedef struct cotp_clause {
  const cotp_pattern *pattern;
  const cotp_term *pins;
  cotp_term *captures;
} cotp_clause;

/* Flags of cotp_receive_match(). */
#define COTP_RECV_AFTER_MARK 1u /* only messages that arrived after the
                                   last cotp_receive_mark() */
#define COTP_RECV_DEADLINE 2u   /* timeout_ms is an absolute deadline on
                                   cotp_monotonic_ms()'s clock (>= 0, or
                                   COTP_INFINITY); one already past looks
                                   once, as `after 0` does.  A loop that
                                   waits several times for one deadline
                                   reads the clock once per wait instead of
                                   once more to compute what is left. */

/*
 * Selective receive: waits up to timeout_ms for the first message (in
 * arrival order) that matches any clause, removes it from the mailbox and
 * returns the number of the first clause it matches, with that clause's
 * captures stored.  Messages that match no clause stay in the mailbox, in
 * their order.  msg may be NULL.  Timeouts are as precise as
 * cotp_receive's.
 * Context: inside a process.
 * Returns: the clause number (>= 0), COTP_ETIMEDOUT, COTP_EINVAL (also
 * for a flag not defined above, or a negative timeout other than
 * COTP_INFINITY), COTP_ENOTPROC.
 */
COTP_API int cotp_receive_match(const cotp_clause *clauses, size_t n,
                                int64_t timeout_ms, unsigned flags,
                                cotp_term *msg);

/* Selective receive by a C test: the first message for which
 * accept(msg, ctx) is true.  Returns 0, COTP_ETIMEDOUT, ... as above. */
typedef bool cotp_accept_fn(cotp_term msg, void *ctx);
COTP_API int cotp_receive_if(cotp_accept_fn *accept, void *ctx,
                             int64_t timeout_ms, unsigned flags,
                             cotp_term *msg);

/*
 * Marks the current end of the mailbox.  A later receive with
 * COTP_RECV_AFTER_MARK looks only at messages that arrived after the mark,
 * however many older ones are queued: the idiom of a call is mark, send a
 * request tagged with a fresh reference, receive the reply carrying that
 * reference (it cannot be among the older messages).
 * Context: inside a process.
 */
COTP_API void cotp_receive_mark(void);

/* Number of messages in the caller's mailbox. */
COTP_API size_t cotp_mailbox_length(void);

/* ------------------------------------------------------------------------ */
/* Scheduling                                                                */

/* Lets other processes run.  Context: inside a process. */
COTP_API int cotp_yield(void);

/* Waits ms milliseconds (messages stay queued).  Returns 0, COTP_EINVAL,
 * COTP_ENOTPROC. */
COTP_API int cotp_sleep(int64_t ms);

/* Exits the calling process with reason normal, as returning from its
 * function does.  Never returns.  Context: inside a process. */
COTP_API void cotp_exit_normal(void) __attribute__((noreturn));

/* The calling process's priority: set it, and read the one it had (into
 * *old, which may be NULL).  Returns 0, COTP_EINVAL, COTP_ENOTPROC. */
COTP_API int cotp_set_priority(cotp_priority p, cotp_priority *old);

/* ------------------------------------------------------------------------ */
/* Processes as message handlers                                             */

/*
 * A process that is a message handler: the runtime calls handle(state,
 * msg) for each message, and between messages the process has no stack at
 * all, only its control block.  Return true to go on, false to exit with
 * reason normal.  The heap is released after each call, so anything kept
 * in state must live elsewhere (copy terms to a heap of its own).
 */
typedef bool cotp_handler_fn(void *state, cotp_term msg);

/* Spawns a handler process.  opts (NULL for the defaults) work as for
 * cotp_spawn_opt: link, monitor, arg_size (state is then the process's own
 * copy of that many bytes), arg_free.  Returns as cotp_spawn_opt. */
COTP_API int cotp_spawn_handler(cotp_handler_fn *handle, void *state,
                                const cotp_spawn_opts *opts, cotp_pid *pid);

/*
 * Direct turns: how a request/answer protocol on top of handlers (a
 * GenServer's call) skips its messages when the server is idle.
 *
 * cotp_handler_turn runs fn(state, arg) as the next turn of the handler
 * process pid, at once, on the calling process's scheduler, while the
 * caller waits: as if the caller had sent pid a request that pid handled
 * at once, and had then waited for pid to stop running.  Inside fn,
 * cotp_self() is pid, state is pid's handler state, and everything fn does
 * is pid's; `arg` (arg_size bytes, at most 256) is copied onto the turn's
 * own stack first, so fn may keep using it after the turn waits.  Any
 * term arg points to is the caller's: fn copies what it keeps, as a
 * handler copies what it keeps from a message.
 *
 * The turn answers the caller with cotp_turn_answer(tag, answer), which
 * copies answer into the caller's heap, into *answer.  An answer is taken
 * only while the caller still waits and nothing has arrived in its
 * mailbox since the turn began (a reply that came another way first
 * wins); otherwise cotp_turn_answer returns false and the turn answers
 * with a message, as the plain protocol would.
 *
 * Returns:
 *   COTP_TURN_ANSWERED (0): the turn answered; *answer is in the caller's
 *     heap.  If tag is the caller's monitor of pid, that monitor and its
 *     alias have ended, as a reply through a reply_demonitor alias ends
 *     them (the monitor was still pending and is simply forgotten).
 *   COTP_TURN_NOT_RUN: nothing ran: pid is not an idle handler process
 *     of `handle` on this node (not a handler, runs on a stack of its own,
 *     hibernated into another function, waits inside a turn, is gone), or
 *     the caller is itself running a turn.  Send the request as a message.
 *   COTP_TURN_BUSY: nothing ran: pid is busy (running, after a wait of
 *     about a microsecond for it to finish, or runnable, or with messages
 *     queued).  Send the request, or first let pid run (cotp_yield) and
 *     try again: queued requests keep a server busy for every caller.
 *   COTP_TURN_HELD: nothing ran: pid's turns are held by callers on
 *     another scheduler, which took them less than about 20 us ago (so
 *     that a server called from every core stays in one core's cache for
 *     a while, rather than crossing at every call).  Let others run
 *     (cotp_yield) and try again: the hold ends soon, and the next caller
 *     to find pid idle then takes the turns over.  Sending the request
 *     works too, but keeps pid busy for every caller.
 *   COTP_TURN_UNANSWERED: the turn ran, and ended or waits (for a message,
 *     a timer, a yield, a blocking call) without an answer; it goes on as
 *     pid's own.  A monitor of pid the caller made just before and has
 *     not sent yet is in place before pid runs again, so its DOWN gives
 *     pid's real exit reason.  Wait for the answer as a message.
 *   COTP_EINVAL (handle or fn or answer NULL, arg_size over 256, arg NULL
 *   with a size, unknown flags, COTP_TURN_MONITOR_ALIAS with a tag that is
 *   not a reference), COTP_ENOTPROC.
 *
 * A turn holds its caller until its first wait, so a turn that computes
 * for long without calling the runtime delays its caller's timeout as it
 * would delay everything else on that scheduler.  Messages and signals
 * sent to the caller meanwhile take effect when it runs again, as for a
 * process that has not been scheduled yet.
 * Context: inside a process.
 * Ownership: arg is copied; *answer is in the caller's heap.
 */
typedef enum cotp_turn_result {
  COTP_TURN_ANSWERED = 0,
  COTP_TURN_NOT_RUN = 1,
  COTP_TURN_UNANSWERED = 2,
  COTP_TURN_BUSY = 3,
  COTP_TURN_HELD = 4
} cotp_turn_result;
/*
 * flags: 0, or COTP_TURN_MONITOR_ALIAS, the call idiom made cheaper: tag
 * is then a fresh reference (cotp_make_ref) the caller has used for
 * nothing else.  While the turn runs, tag is already an alias of the
 * caller's, so a reply through it from whoever got it meanwhile arrives.
 * If the turn answers, tag is nothing any more (no monitor was ever
 * made).  If it does not (COTP_TURN_UNANSWERED), the caller monitors pid
 * with tag as its reply_demonitor alias, just as
 * cotp_monitor_alias(pid, COTP_ALIAS_REPLY_DEMONITOR) made before the
 * request would have left it, and in place before pid runs again.  On
 * COTP_TURN_NOT_RUN, COTP_TURN_BUSY or COTP_TURN_HELD, tag is left
 * unused: monitor and send as usual.  An
 * extra return: COTP_ENOMEM when the alias or the monitor could not be
 * made (no answer will arrive; the turn may have run).
 */
#define COTP_TURN_MONITOR_ALIAS 1u
typedef void cotp_turn_fn(void *state, void *arg);
COTP_API int cotp_handler_turn(cotp_pid pid, cotp_handler_fn *handle,
                               cotp_term tag, unsigned flags,
                               cotp_turn_fn *fn, const void *arg,
                               size_t arg_size, cotp_term *answer);
/* From inside a direct turn whose tag is tag: hands answer to its caller
 * (see above).  Returns true if the caller took it, false if it must go
 * as a message (not in such a turn, already answered, the caller no
 * longer waits, something reached the caller first, no memory).
 * Context: inside a process. */
COTP_API bool cotp_turn_answer(cotp_term tag, cotp_term answer);

/*
 * Discards the calling process's stack and waits for a message without
 * one; when a message arrives, the process resumes in fn(arg) (Erlang's
 * erlang:hibernate/3).  The heap is kept.  Never returns.
 * Context: inside a process.
 */
COTP_API void cotp_hibernate(cotp_entry *fn, void *arg)
    __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif
