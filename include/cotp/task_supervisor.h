/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp/task_supervisor.h: Elixir's Task.Supervisor, a DynamicSupervisor of
 * tasks.
 *
 * Every task is a child of the supervisor (it runs under it, and is shut
 * down with it), and, for async, also the caller's task: linked to it
 * (async) or not (async_nolink), monitored, awaited with cotp_task_await()
 * and friends exactly as a task from cotp_task_async() (G4, G7, G12).  A
 * task started for an owner waits up to 5 s for the owner's go-ahead and
 * exits {:shutdown, reason} if the owner dies first (G17, the Task
 * layer's cotp_task_entry).
 *
 * The supervisor is named like any server (cotp_server), so everything
 * here also works through a PartitionSupervisor's via name (book ch 7.4).
 * Context: inside a process, for every function.
 */
#ifndef COTP_TASK_SUPERVISOR_H
#define COTP_TASK_SUPERVISOR_H

#include "supervisor.h"
#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cotp_task_supervisor_opts {
  cotp_name name;              /* any kind; taken: {:already_started, pid} */
  cotp_spawn_opts spawn;       /* for the supervisor process, not its
                                  tasks (G2) */
  int64_t max_children;        /* COTP_INFINITY */
  /* More than max_restarts restarts of tasks (restart permanent or
   * transient) within max_seconds: the supervisor shuts its tasks down
   * and exits with :shutdown.  3 and 5. */
  int max_restarts, max_seconds;
} cotp_task_supervisor_opts;

#define COTP_TASK_SUPERVISOR_OPTS_INIT                                      \
  {COTP_NAME_NONE_INIT, COTP_SPAWN_OPTS_INIT, COTP_INFINITY, 3, 5}

/*
 * Starts a Task.Supervisor linked to the caller.
 * Returns as cotp_dynamic_supervisor_start_link().
 */
COTP_API int cotp_task_supervisor_start_link(
    const cotp_task_supervisor_opts *opts, cotp_pid *pid, cotp_term *reason);

/* A child spec (in the caller's heap) that starts a Task.Supervisor with
 * the default options, registered as the atom name (NONE or nil: no
 * name), type supervisor (G1).  id COTP_NONE is Elixir's default: the
 * name, or Task.Supervisor when unnamed, so a second unnamed one under
 * the same supervisor gets {:error, {:already_started, pid}}.  Only a
 * local (atom) name can be given here: for a via name, or other options,
 * write a start function that calls cotp_task_supervisor_start_link()
 * with them. */
COTP_API cotp_child_spec cotp_task_supervisor_child_spec(cotp_term id,
                                                         cotp_term name);

/* Options of a supervised task. */
typedef struct cotp_task_child_opts {
  cotp_restart restart; /* default COTP_TEMPORARY */
  int64_t shutdown;     /* default 5000; COTP_SHUTDOWN_BRUTAL_KILL ... */
} cotp_task_child_opts;

#define COTP_TASK_CHILD_OPTS_INIT {COTP_TEMPORARY, 5000}

/*
 * Task.Supervisor.async/async_nolink: runs fn(arg) in a task under sup,
 * linked to the caller (link true) or not, monitored, and fills *task for
 * cotp_task_await().  opts may be NULL.
 * Returns: 0; COTP_ESYSLIMIT when the supervisor has max_children tasks
 * (Elixir raises "reached the maximum number of tasks for this task
 * supervisor", G6); COTP_EINVAL; COTP_ENOMEM.  Exits as a call when sup
 * does not exist.
 */
COTP_API int cotp_task_supervisor_async(cotp_server sup, cotp_task_fn *fn,
                                        void *arg,
                                        const cotp_task_child_opts *opts,
                                        cotp_task *task);
COTP_API int cotp_task_supervisor_async_nolink(cotp_server sup,
                                               cotp_task_fn *fn, void *arg,
                                               const cotp_task_child_opts *opts,
                                               cotp_task *task);

/*
 * Task.Supervisor.start_child: a fire-and-forget task running fn(arg),
 * not linked to the caller (G8), restarted as opts->restart says (G9).
 * Returns: 0 with *pid (may be NULL); COTP_ESYSLIMIT (max_children);
 * COTP_EINVAL.
 */
COTP_API int cotp_task_supervisor_start_child(cotp_server sup,
                                              cotp_task_fn *fn, void *arg,
                                              const cotp_task_child_opts *opts,
                                              cotp_pid *pid);

/* The pids of the supervisor's tasks, a list in the caller's heap (G3). */
COTP_API cotp_term cotp_task_supervisor_children(cotp_server sup);

/* Terminates a task: 0, or COTP_ENOTFOUND (G11). */
COTP_API int cotp_task_supervisor_terminate_child(cotp_server sup,
                                                  cotp_pid pid);

/*
 * Task.Supervisor.async_stream(_nolink): cotp_task_async_stream() with
 * every task started under sup; linked to the consumer, or not (then a
 * task's crash is emitted as {:exit, reason} whether or not the consumer
 * traps exits, G15).  opts->spawn and spawn_ctx are set here.
 * opts->shutdown is each task's shutdown as the supervisor's child
 * (Elixir's :shutdown option): what terminate_child or the supervisor's
 * own shutdown do to it, the exit signal :shutdown and up to that many
 * ms, or COTP_TASK_BRUTAL_KILL, a kill.  A bad one gives COTP_EINVAL
 * (Elixir's ArgumentError, G16).  Halting the stream kills its tasks
 * whatever it says.
 * Returns as cotp_task_async_stream().  A stream that hits max_children
 * ends with COTP_ESYSLIMIT from cotp_iter_next(), after shutting its
 * tasks down (G14).  *sup must stay valid as long as the stream.
 */
COTP_API int cotp_task_supervisor_async_stream(cotp_server *sup,
                                               cotp_iter *input,
                                               cotp_task_stream_fn *fn,
                                               void *ctx,
                                               const cotp_task_stream_opts *opts,
                                               cotp_iter **out,
                                               cotp_error *err);
COTP_API int cotp_task_supervisor_async_stream_nolink(
    cotp_server *sup, cotp_iter *input, cotp_task_stream_fn *fn, void *ctx,
    const cotp_task_stream_opts *opts, cotp_iter **out, cotp_error *err);

#ifdef __cplusplus
}
#endif

#endif
