/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp/agent.h: Agent, a process that keeps a state and runs functions on
 * it (Elixir's Agent), built on GenServer.
 *
 * The state is the caller's C value (void *).  Elixir passes anonymous
 * functions; C passes a function and a term argument, and the function
 * runs inside the agent process, one at a time, so it may read and change
 * the state without locks.  The argument is copied into the agent with the
 * request: it must not point into the caller's memory (a pointer in a
 * term would outlive nothing it points to safely: a parked process's
 * stack can be moved).  Terms a function returns are built in
 * cotp_self_heap(), the agent's heap, and copied to the caller.
 *
 * Agents fail the way GenServer calls fail (M6): get, update and
 * get_and_update exit the caller with {reason, {GenServer, :call,
 * [agent, request, timeout]}} on a timeout, noproc, or the agent's exit.
 * A function that exits (cotp_exit) makes the agent exit with that reason,
 * as an Agent whose function raises does.
 */
#ifndef COTP_AGENT_H
#define COTP_AGENT_H

#include "supervisor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The functions an agent runs.  Each runs inside the agent process. */
/* The initial state (Agent.start_link(fn -> ... end)). */
typedef void *cotp_agent_init_fn(cotp_term arg);
/* A value computed from the state (Agent.get), built in cotp_self_heap(). */
typedef cotp_term cotp_agent_get_fn(void *state, cotp_term arg);
/* The new state (Agent.update, Agent.cast).  The function frees what the
 * old state held, if the new one replaces it. */
typedef void *cotp_agent_update_fn(void *state, cotp_term arg);
/* A value and a new state at once (Agent.get_and_update): returns the
 * value and sets *state. */
typedef cotp_term cotp_agent_get_and_update_fn(void **state, cotp_term arg);

typedef struct cotp_agent_opts {
  cotp_name name;            /* as cotp_genserver_opts.name */
  int64_t timeout_ms;        /* for the init function; COTP_INFINITY */
  cotp_spawn_opts spawn;     /* the agent process's priority and stack */
  /* Frees the state when the agent is gone, whatever the reason; runs
   * after the process stopped, on a scheduler thread (no blocking, no
   * process API).  NULL: the state needs no freeing. */
  void (*free_state)(void *state);
} cotp_agent_opts;

#define COTP_AGENT_OPTS_INIT                                                \
  {COTP_NAME_NONE_INIT, COTP_INFINITY, COTP_SPAWN_OPTS_INIT, NULL}

/*
 * Starts an agent whose state is init(arg), and waits for it
 * (Agent.start/2).  arg is copied.  opts may be NULL.
 * Context: inside a process.  Ownership: *reason in the caller's heap.
 * Returns: 0 with *pid (may be NULL); COTP_GENSERVER_ERROR with *reason
 * (may be NULL): {:already_started, pid}, :timeout, or the reason init
 * exited with; COTP_EINVAL (init NULL, bad name or timeout); COTP_ENOMEM,
 * COTP_ESYSLIMIT, COTP_ENOTPROC.
 */
COTP_API int cotp_agent_start(cotp_agent_init_fn *init, cotp_term arg,
                              const cotp_agent_opts *opts, cotp_pid *pid,
                              cotp_term *reason);

/* As cotp_agent_start, linked to the caller (Agent.start_link/2), with
 * GenServer's start_link semantics. */
COTP_API int cotp_agent_start_link(cotp_agent_init_fn *init, cotp_term arg,
                                   const cotp_agent_opts *opts, cotp_pid *pid,
                                   cotp_term *reason);

/*
 * An agent under a supervisor (M5).  cotp_agent_child_spec() fills, in
 * the caller's heap, the spec of `use Agent`'s child_spec: a worker whose
 * start runs cotp_agent_start_link(init, arg) registered as name (an atom;
 * nil or COTP_NONE: no name), restart COTP_PERMANENT (the default: an
 * agent that exits is started again, init re-run on a copy of arg),
 * modules [Agent], id the given one or, for COTP_NONE, Agent.  init NULL
 * gives a spec without a start (refused with :missing_start).
 * cotp_agent_start_child() is its start function: ctx is init, args
 * [arg, name]; with a DynamicSupervisor's extra_arguments in front, init
 * gets the list of all the arguments before the name.  Only the name and
 * the defaults of cotp_agent_opts are available this way: an agent whose
 * state needs free_state, or with a via name, a spawn option or an init
 * timeout, wants a start function of its own calling
 * cotp_agent_start_link() (see cotp_child_start_fn).
 * Context: inside a process (the start: inside the supervisor).
 */
COTP_API cotp_term cotp_agent_start_child(cotp_term args, void *ctx);
COTP_API cotp_child_spec cotp_agent_child_spec(cotp_term id,
                                               cotp_agent_init_fn *init,
                                               cotp_term arg, cotp_term name);

/*
 * fn(state, arg), computed in the agent (Agent.get/3).
 * Context: inside a process.  Returns: the value, in the caller's heap; the
 * caller exits on failure (see above); COTP_NONE outside a process.
 */
COTP_API cotp_term cotp_agent_get(cotp_server agent, cotp_agent_get_fn *fn,
                                  cotp_term arg, int64_t timeout_ms);

/*
 * Sets the state to fn(state, arg) and waits until it is done
 * (Agent.update/3).  Context: inside a process.
 * Returns: 0; the caller exits on failure; COTP_EINVAL (fn NULL or arg
 * NONE: nothing is sent), COTP_ENOTPROC.
 */
COTP_API int cotp_agent_update(cotp_server agent, cotp_agent_update_fn *fn,
                               cotp_term arg, int64_t timeout_ms);

/* Both at once (Agent.get_and_update/3): returns what fn returns, and fn
 * sets the new state.  As cotp_agent_get otherwise. */
COTP_API cotp_term cotp_agent_get_and_update(cotp_server agent,
                                             cotp_agent_get_and_update_fn *fn,
                                             cotp_term arg,
                                             int64_t timeout_ms);

/*
 * Sets the state to fn(state, arg) without waiting (Agent.cast/2); like a
 * GenServer cast, it returns at once even if the agent does not exist.
 * Context: any thread while the runtime runs.
 * Returns: 0; COTP_EINVAL (fn NULL, arg NONE); COTP_ENOMEM.
 */
COTP_API int cotp_agent_cast(cotp_server agent, cotp_agent_update_fn *fn,
                             cotp_term arg);

/* Stops the agent with reason and waits until it is gone (Agent.stop/3):
 * as cotp_genserver_stop. */
COTP_API int cotp_agent_stop(cotp_server agent, cotp_term reason,
                             int64_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
