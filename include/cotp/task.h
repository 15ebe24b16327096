/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp/task.h: Elixir's Task.  A task is a process that runs one function
 * and, when started with cotp_task_async(), sends its result back to the
 * process that started it, its owner.
 *
 *     static cotp_term work(void *arg) { ... return cotp_int(h, 42); }
 *
 *     cotp_task t;
 *     cotp_task_async(work, NULL, &t);
 *     ... other work ...
 *     cotp_term v = cotp_task_await(&t, COTP_TASK_DEFAULT_TIMEOUT);
 *
 * Semantics are Elixir 1.14's (and newer Elixir's where the behaviour
 * catalogue asks for it: yield_many's options, completed tasks in ignore
 * and shutdown):
 *
 *  - async links the task to the owner and monitors it.  The monitor
 *    reference is also an alias of the owner (OTP 25's alias: :demonitor)
 *    and the task replies {ref, result} through it, so once the monitor is
 *    gone (an await that timed out, ignore, shutdown) a late reply is
 *    dropped before it reaches the owner's mailbox.  After the reply the
 *    owner gets {:DOWN, ref, :process, pid, :normal} unless it awaited.
 *  - Only the owner may await, yield, ignore or shut down a task.
 *  - A task crashing takes its owner with it through the link, as an
 *    exception in the task would in Elixir; an owner that traps exits
 *    gets the failure from await instead.
 *  - A task process keeps `$callers` ([owner | owner's $callers]),
 *    `$ancestors` ([owner | owner's $ancestors]) and `$initial_call` (the
 *    function it runs, {module, function, arity}, or {:c, name, 1} for a C
 *    function) in its dictionary, as Elixir's do.
 *
 * A task as a term (in exit reasons, or to print) is the map Elixir's
 * %Task{} struct is: %{__struct__: Task, mfa: {m, f, a}, owner: pid,
 * pid: pid | nil, ref: ref} (cotp_task_term).  Task is the atom
 * :"Elixir.Task".
 *
 * Errors come in two kinds, as in Elixir:
 *  - Functions that start tasks return 0 or a negative COTP_E* code, and
 *    start nothing on failure (a function that fails never calls its
 *    callback).
 *  - Functions that wait for tasks exit the caller the way Elixir's do
 *    (the exit reasons are given with each), and exit it with
 *    {%ArgumentError{message: text}, []} on misuse: a NULL task, a bad
 *    timeout, a task owned by another process.  That is the reason
 *    Elixir's raise gives an uncaught ArgumentError (C has no exceptions;
 *    cotp_catch_exit() catches it).  Called outside a process they return
 *    COTP_NONE (or COTP_ENOTPROC) and do nothing.
 *    cotp_task_await_result() is the exception: it returns every failure
 *    as a code, for C callers that prefer that to an exit.
 *
 * Memory: replies and results are terms in the caller's heap
 * (cotp_self_heap()), where received messages land; release them with the
 * heap's marks.  cotp_task values are plain values with no memory of their
 * own: copy them, keep them in arrays, drop them.
 *
 * Context: every function here must be called inside a process, except
 * cotp_task_register(), cotp_task_term() and cotp_task_from_term().
 */
#ifndef COTP_TASK_H
#define COTP_TASK_H

#include "iter.h"
#include "signal.h"
#include "supervisor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* The task value                                                            */

/*
 * What cotp_task_async() returns, Elixir's %Task{}: who owns the task,
 * its process, the reference its reply and DOWN carry, and the function it
 * runs as {module, function, arity}.  For a C function that is
 * {:erlang, :apply, 2}, as for an Elixir anonymous function; for a
 * completed task {Task, :completed, 1}.
 */
typedef struct cotp_task {
  cotp_pid owner;
  cotp_pid pid; /* bits 0: no process (cotp_task_completed) */
  cotp_term ref;
  cotp_term module, function; /* atoms */
  unsigned arity;
} cotp_task;

/* The function a task runs: its result is the reply.  Build the result
 * in the task's own heap (cotp_self_heap()); it is copied to the owner.
 * Exiting (cotp_exit) instead of returning is how a task fails; returning
 * COTP_NONE (a build that failed) makes the task exit with
 * {:bad_result, :none}. */
typedef cotp_term cotp_task_fn(void *arg);

/* A task function named by module and function atoms, for the *_mfa
 * variants: args is the argument list, in the task's heap. */
typedef cotp_term cotp_task_mfa_fn(cotp_term args);

/* Timeouts, in milliseconds; COTP_INFINITY waits forever. */
#define COTP_TASK_DEFAULT_TIMEOUT 5000
/* cotp_task_shutdown(): kill the task at once instead of asking it. */
#define COTP_TASK_BRUTAL_KILL (-2)

/*
 * Makes fn callable as module:function by the *_mfa functions (Erlang's
 * {M, F, A}), with a result.  Functions registered with the core's
 * cotp_register_function() work as task functions too, with the result
 * :ok.  A task whose function is registered in neither table exits with
 * {:undef, [{module, function, args, []}]}, as Erlang's undef.
 * Context: any thread.
 * Returns: 0, COTP_EINVAL (not atoms, fn NULL), COTP_ENOMEM.
 */
COTP_API int cotp_task_register(cotp_term module, cotp_term function,
                                cotp_task_mfa_fn *fn);

/*
 * The task as a term, Elixir's %Task{} (the map described above), built
 * in h.  Context: any thread.  Returns COTP_NONE (recorded in h) when out
 * of memory or task is NULL.
 */
COTP_API cotp_term cotp_task_term(cotp_heap *h, const cotp_task *task);

/*
 * The task a %Task{} term stands for (one made by cotp_task_term(), here
 * or in another process: how a task travels in a message).
 * Context: any thread.
 * Returns: 0 with *task set; COTP_EBADTYPE when t is not such a map;
 * COTP_EINVAL for a NULL task.
 */
COTP_API int cotp_task_from_term(cotp_term t, cotp_task *task);

/* ------------------------------------------------------------------------ */
/* Starting tasks                                                            */

/*
 * Starts a task running fn(arg), linked to the caller and monitored by it
 * (F1), and fills *task.  arg is passed as is (it must stay valid while
 * the task uses it and must not point to the caller's stack).  The task
 * replies {task->ref, result}.
 * Returns: 0; COTP_EINVAL (fn or task NULL); COTP_ENOTPROC; COTP_ESYSLIMIT
 * or COTP_ENOMEM (nothing started).
 */
COTP_API int cotp_task_async(cotp_task_fn *fn, void *arg, cotp_task *task);

/*
 * As cotp_task_async(), running module:function(args) (args a proper list,
 * copied to the task).  The task's mfa is {module, function, length}.  A
 * name nothing is registered under is not an error here: the task starts
 * and exits with {:undef, ...} (F13).
 * Returns as cotp_task_async(), and COTP_EINVAL for atoms that are not
 * atoms or args that is not a list.
 */
COTP_API int cotp_task_async_mfa(cotp_term module, cotp_term function,
                                 cotp_term args, cotp_task *task);

/*
 * Starts a task for its side effects: fn(arg) runs in a new process that
 * is neither linked nor monitored (Task.start), or linked to the caller
 * (Task.start_link).  Nothing is sent back.  *pid (may be NULL) gets the
 * task's pid.  cotp_task_start_link() is what a supervisor's child start
 * function calls (Task's child spec starts Task.start_link with restart
 * :temporary).
 * Returns: 0, COTP_EINVAL (fn NULL), COTP_ENOTPROC, COTP_ESYSLIMIT,
 * COTP_ENOMEM.
 */
COTP_API int cotp_task_start(cotp_task_fn *fn, void *arg, cotp_pid *pid);
COTP_API int cotp_task_start_link(cotp_task_fn *fn, void *arg, cotp_pid *pid);
COTP_API int cotp_task_start_mfa(cotp_term module, cotp_term function,
                                 cotp_term args, cotp_pid *pid);
COTP_API int cotp_task_start_link_mfa(cotp_term module, cotp_term function,
                                      cotp_term args, cotp_pid *pid);

/*
 * Task's child spec (Task.child_spec/1, `use Task`), filled in the
 * caller's heap: a worker that starts cotp_task_start_link(fn, arg) under
 * the supervisor, restart COTP_TEMPORARY (a task that ends, or crashes, is
 * not restarted and its spec is forgotten), shutdown the worker default
 * (5000), modules [Task], id the given one or, for COTP_NONE, Task (F40,
 * F41).  Change the fields, restart included, as `use Task, restart: ...`
 * would.  fn and arg travel in the spec as integers, as every C start
 * does (supervisor.h): arg must outlive every start of the task.  A
 * DynamicSupervisor's extra_arguments are not passed to fn.  fn NULL
 * gives a spec without a start (refused with :missing_start).
 * Context: inside a process.
 */
COTP_API cotp_child_spec cotp_task_child_spec(cotp_term id, cotp_task_fn *fn,
                                              void *arg);

/*
 * A task that is already done, with value as its result (Task.completed):
 * no process (task->pid is 0), and {ref, value} is sent to the caller
 * itself, so await returns value and ignore and shutdown return
 * {:ok, value} (F5).
 * Returns: 0, COTP_EINVAL (value NONE, task NULL), COTP_ENOMEM,
 * COTP_ENOTPROC.
 */
COTP_API int cotp_task_completed(cotp_term value, cotp_task *task);

/* ------------------------------------------------------------------------ */
/* Waiting for tasks                                                         */

/*
 * Waits up to timeout_ms (COTP_INFINITY, or >= 0) for the task's reply
 * and returns it (in the caller's heap); the monitor is removed and its
 * DOWN, if already queued, flushed.  Await a task once: a second await
 * finds no reply and times out, as in Elixir.
 * Exits the caller (Task = :"Elixir.Task"):
 *   - the task died first: {reason, {Task, :await, [task, timeout]}}, with
 *     reason :noconnection reported as {:nodedown, node} (F11-F14);
 *   - timeout: {:timeout, {Task, :await, [task, timeout]}}, after removing
 *     the monitor and alias, so the late reply never arrives (F10);
 *   - misuse: ArgumentError (F15).
 * Returns COTP_NONE only outside a process.
 */
COTP_API cotp_term cotp_task_await(const cotp_task *task, int64_t timeout_ms);

/*
 * cotp_task_await() for C callers that want the failure returned instead
 * of an exit.  On timeout the monitor and alias are removed, as await
 * does; a task that died is not awaitable again either.
 * Returns: 0 with the reply in *out; 1 when the task exited first, with
 * its reason in *out (noconnection as {:nodedown, node}); COTP_ETIMEDOUT;
 * COTP_EINVAL (task or out NULL, bad timeout, not the owner: nothing
 * waited for); COTP_ENOTPROC.
 */
COTP_API int cotp_task_await_result(const cotp_task *task, int64_t timeout_ms,
                                    cotp_term *out);

/*
 * Waits for the replies of n tasks and stores them in replies[0..n-1], in
 * the order of the tasks whatever the order they come in (F16); n == 0
 * returns at once (F17).  Messages that are not a first reply or DOWN of
 * one of the tasks stay in the mailbox (F18).  The timeout is for all of
 * them together.
 * Exits the caller as soon as any task exits before replying, whatever
 * its reason, normal included, with {reason, {Task, :await_many, [tasks,
 * timeout]}}, and on timeout with {:timeout, {Task, :await_many, [tasks,
 * timeout]}}, in both cases after removing every task's monitor (F19-F21).
 * Misuse: ArgumentError.
 * Returns: 0; COTP_ENOTPROC; COTP_ENOMEM (nothing waited for; n large).
 */
COTP_API int cotp_task_await_many(const cotp_task *tasks, size_t n,
                                  int64_t timeout_ms, cotp_term *replies);

/*
 * Waits up to timeout_ms for the task's reply or exit, without giving up
 * on it: returns {:ok, reply} (the monitor removed, a queued DOWN
 * flushed: the reply wins over a DOWN, F22), {:exit, reason} if the task
 * exited first, or nil on timeout, with the monitor still in place so that
 * the task can be yielded again, awaited, ignored or shut down (F23, F24).
 * Exits the caller with {{:nodedown, node}, {Task, :yield, [task,
 * timeout]}} on a DOWN with :noconnection (F25).  Misuse: ArgumentError.
 * Returns COTP_NONE only outside a process.
 */
COTP_API cotp_term cotp_task_yield(const cotp_task *task, int64_t timeout_ms);

/* What cotp_task_yield_many() does with the tasks still running when its
 * timeout passes. */
typedef enum cotp_task_on_timeout {
  COTP_TASK_ON_TIMEOUT_NOTHING,  /* leave them (the default, F31) */
  COTP_TASK_ON_TIMEOUT_IGNORE,   /* cotp_task_ignore() them (F30) */
  COTP_TASK_ON_TIMEOUT_KILL_TASK, /* shut them down with BRUTAL_KILL (F29) */
  COTP_TASK_ON_TIMEOUT_EXIT      /* streams only: the consumer exits */
} cotp_task_on_timeout;

typedef struct cotp_task_yield_opts {
  int64_t timeout_ms;             /* default 5000; COTP_INFINITY */
  size_t limit;                   /* return once this many tasks have a
                                     result (F27); 0: all of them */
  cotp_task_on_timeout on_timeout; /* NOTHING, IGNORE or KILL_TASK */
} cotp_task_yield_opts;

#define COTP_TASK_YIELD_OPTS_INIT                                           \
  { COTP_TASK_DEFAULT_TIMEOUT, 0, COTP_TASK_ON_TIMEOUT_NOTHING }

/*
 * Task.yield_many: waits for n tasks at once, up to the timeout or until
 * `limit` of them have a result (a limit above n is n, F28), and stores in
 * results[i] what cotp_task_yield() would give for tasks[i]: {:ok, reply},
 * {:exit, reason}, or nil for a task still running (F26).  Tasks still
 * running when the timeout passes get on_timeout; reaching the limit first
 * is not a timeout (F29).  opts may be NULL for the defaults.
 * Exits the caller with {{:nodedown, node}, {Task, :yield_many, [tasks,
 * timeout]}} on a :noconnection DOWN.  Misuse (bad options included):
 * ArgumentError.
 * Returns: 0; COTP_ENOTPROC; COTP_ENOMEM (nothing waited for).
 */
COTP_API int cotp_task_yield_many(const cotp_task *tasks, size_t n,
                                  const cotp_task_yield_opts *opts,
                                  cotp_term *results);

/*
 * Lets the task go on without the caller (Task.ignore): unlinks it and
 * removes the monitor and alias, so its late reply, DOWN or crash never
 * reach the caller (F7, F9).  Returns {:ok, reply} if the reply had
 * already come (F6), {:exit, reason} if the task had already exited (F8),
 * nil otherwise.  Exits with {{:nodedown, node}, {Task, :ignore, [task]}}
 * on a :noconnection DOWN.  Misuse: ArgumentError.
 * Returns COTP_NONE only outside a process.
 */
COTP_API cotp_term cotp_task_ignore(const cotp_task *task);

/*
 * Stops the task (Task.shutdown): unlinks it and sends it exit signal
 * :shutdown, waits up to timeout_ms for it to go, then kills it; with
 * COTP_TASK_BRUTAL_KILL it is killed at once.  A helper process makes sure
 * the task gets its exit signal even if the caller dies between the unlink
 * and the signal (F39).
 * Returns {:ok, reply} if the reply came in the meantime, even alongside a
 * DOWN (F32); nil if the task died of this shutdown (:shutdown, or
 * :killed with BRUTAL_KILL, F33); {:exit, reason} otherwise (F34, F36),
 * {:exit, :noproc} when the task's DOWN had already been consumed (F38).
 * A task with no process (completed) is ignored instead (F5).
 * Exits with {{:nodedown, node}, {Task, :shutdown, [task, timeout]}} on a
 * :noconnection DOWN (F35).  Misuse: ArgumentError.
 * Returns COTP_NONE only outside a process.
 */
COTP_API cotp_term cotp_task_shutdown(const cotp_task *task,
                                      int64_t timeout_ms);

/* ------------------------------------------------------------------------ */
/* async_stream                                                              */

/* The function a stream task runs on one input element: its result is
 * emitted as {:ok, result}.  item is in the task's heap. */
typedef cotp_term cotp_task_stream_fn(cotp_term item, void *ctx);

struct cotp_task_stream_opts;

/*
 * How a stream starts each task process, for Task.Supervisor: start a
 * process running entry (with the given arg) and give its pid; set
 * *linked when it is linked to the caller.  ctx is the options'
 * spawn_ctx, opts the stream's own copy of its options (Task.Supervisor
 * reads shutdown there).  Context: the consumer, inside a pull.
 * Returns 0 or a negative code, which ends the stream with that code.
 */
typedef int cotp_task_spawner(void *ctx, cotp_entry *entry, void *arg,
                              const struct cotp_task_stream_opts *opts,
                              cotp_pid *pid, bool *linked);

typedef struct cotp_task_stream_opts {
  /* Most tasks running at once (a task runs until it replies or exits);
   * 0: cotp_schedulers_online(). */
  unsigned max_concurrency;
  /* Emit in input order (true, the default) or as tasks finish. */
  bool ordered;
  /* Most milliseconds each task may run (COTP_INFINITY: no limit). */
  int64_t timeout_ms;
  /* A task over its time: COTP_TASK_ON_TIMEOUT_EXIT (the consumer exits
   * with {:timeout, {Task.Supervised, :stream, [timeout]}}) or
   * COTP_TASK_ON_TIMEOUT_KILL_TASK (emit {:exit, :timeout}). */
  cotp_task_on_timeout on_timeout;
  /* Emit {:exit, {input, reason}} instead of {:exit, reason}. */
  bool zip_input_on_exit;
  /* NULL: each task is spawned linked to the consumer. */
  cotp_task_spawner *spawn;
  void *spawn_ctx;
  /* Task.Supervisor streams: the shutdown of each task's child spec, that
   * is how long its supervisor waits for it to stop after the exit signal
   * :shutdown when the supervisor terminates it (terminate_child, the
   * supervisor's own shutdown), before it kills it; or
   * COTP_TASK_BRUTAL_KILL, killed at once.  Milliseconds >= 0, default
   * 5000; only a task that traps exits can use the time.  This is not how
   * the stream itself stops its tasks: halting (close) and a timeout kill
   * them at once, as Elixir's do.  Checked for every stream (G16). */
  int64_t shutdown;
} cotp_task_stream_opts;

#define COTP_TASK_STREAM_OPTS_INIT                                          \
  { 0, true, COTP_TASK_DEFAULT_TIMEOUT, COTP_TASK_ON_TIMEOUT_EXIT, false,    \
    NULL, NULL, 5000 }

/*
 * Task.async_stream: a lazy iterator that runs fn(x, ctx) in a task for
 * each element x of input, at most max_concurrency at a time, and produces
 * {:ok, result} for each (in input order when ordered), or {:exit, reason}
 * for a task that exited, when the consumer traps exits (otherwise the
 * link takes the consumer down with the task, as in Elixir).  Nothing runs
 * until the first cotp_iter_next(); the process that calls it is the
 * consumer from then on (it need not be the creator, F55), and tasks are
 * linked to it.  No task's reply, DOWN or EXIT is left in the consumer's
 * mailbox (F47, F50, F51).
 *
 * The stream takes over input (it closes it).  It holds at most
 * max_concurrency running tasks and, when ordered, at most
 * 2 * max_concurrency inputs in flight or waiting to be emitted behind an
 * earlier one: a million inputs never hold a million results.
 *
 * next(out_iter, h, &r) builds r in h and returns 1, or 0 at the end, or a
 * negative code (COTP_EINVAL when called from a process other than the
 * consumer; the input's own error).  It exits the consumer with
 * {:timeout, {Task.Supervised, :stream, [timeout]}} when a task times out
 * under COTP_TASK_ON_TIMEOUT_EXIT (after killing every task: the iterator
 * is then freed, do not close it).  cotp_iter_close() kills the tasks
 * still running (halting early, F51) and frees the iterator.
 *
 * Options are checked here, eagerly (F46): a timeout below 0 other than
 * COTP_INFINITY, an on_timeout other than EXIT or KILL_TASK, a shutdown
 * below 0 other than COTP_TASK_BRUTAL_KILL (COTP_INFINITY included, as
 * Elixir refuses :infinity there, G16) give COTP_EINVAL with a sentence
 * in *err (which may be NULL), and input is closed.  max_concurrency 0 means the default, as counts do in every
 * cotp options struct.  The trap_exit flag is read when the stream starts,
 * as Elixir does: changing it while the stream runs is not supported.
 * Returns: 0 with *out set; COTP_EINVAL (input, fn or out NULL, bad
 * options); COTP_ENOMEM.
 */
COTP_API int cotp_task_async_stream(cotp_iter *input, cotp_task_stream_fn *fn,
                                    void *ctx,
                                    const cotp_task_stream_opts *opts,
                                    cotp_iter **out, cotp_error *err);

/* As cotp_task_async_stream(), each task running module:function with
 * [x | args] (Elixir's async_stream/5). */
COTP_API int cotp_task_async_stream_mfa(cotp_iter *input, cotp_term module,
                                        cotp_term function, cotp_term args,
                                        const cotp_task_stream_opts *opts,
                                        cotp_iter **out, cotp_error *err);

/* ------------------------------------------------------------------------ */
/* Building blocks for Task.Supervisor                                       */

/*
 * The body of a task process that something other than its owner starts
 * (a Task.Supervisor): it waits for the go-ahead that cotp_task_attach()
 * sends, runs the function and replies.  arg NULL waits for as long as it
 * takes; cotp_task_entry_owner(owner) monitors the owner while waiting, up
 * to 5 s, and exits with {:shutdown, reason} if the owner dies first, with
 * :timeout if no go-ahead comes (G17).
 */
COTP_API void cotp_task_entry(void *arg);
COTP_API void *cotp_task_entry_owner(cotp_pid owner);

/*
 * Makes pid, a process running cotp_task_entry that nobody attached yet,
 * the caller's task running fn(arg): monitors it with an alias, links to
 * it when link is true (Task.Supervisor.async; false for async_nolink),
 * and sends the go-ahead.
 * Returns: 0 with *task set; COTP_EINVAL; COTP_ENOMEM; COTP_ENOTPROC.
 */
COTP_API int cotp_task_attach(cotp_pid pid, bool link, cotp_task_fn *fn,
                              void *arg, cotp_task *task);
COTP_API int cotp_task_attach_mfa(cotp_pid pid, bool link, cotp_term module,
                                  cotp_term function, cotp_term args,
                                  cotp_task *task);

#ifdef __cplusplus
}
#endif

#endif
