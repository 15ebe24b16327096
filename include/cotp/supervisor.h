/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp/supervisor.h: Supervisor and DynamicSupervisor, with the semantics
 * of Elixir 1.14 on OTP 25.
 *
 * A supervisor is a process that starts children, watches them, and
 * restarts them when they exit, as its child specs and strategy say.  It
 * is a GenServer (a handler process: no stack between messages) that
 * traps exits; clients name it as any server (cotp_server), and the
 * requests it answers have the shapes OTP's supervisor answers:
 * {:start_child, spec}, {:terminate_child, id}, :which_children, ...
 *
 * Child specs.  A child is described by a cotp_child_spec (a C struct
 * with defaults from COTP_CHILD_SPEC_INIT) or by its term form, Elixir's
 * map %{id: ..., start: {m, f, args}, restart: ..., shutdown: ...,
 * type: ..., modules: ..., significant: ...}.  Both end up as the term:
 * it is what travels in start_child requests and what init returns, so a
 * spec is validated in one place, with OTP's error terms (I9, I10).
 * Those terms name the field ({:invalid_restart_type, 7}) but, as in OTP,
 * not the child, except {:duplicate_child_name, id}; programs match on
 * them, so they stay as OTP has them, and the supervisor says the rest in
 * the log (cotp/log.h), a sentence naming the child, by its id or, when
 * it has none, by its position in the list, and the field:
 *   Supervisor #PID<0.81.0> (Supervisor.Default) failed to start: invalid
 *   child spec for child :w1 (number 2 in the list): field :restart is 7;
 *   expected :permanent, :transient or :temporary
 * at COTP_LOG_ERROR when the spec stops a supervisor's start, and at
 * COTP_LOG_INFO (hidden by default, as OTP says nothing there) when
 * start_child rejects it.  A start is either
 *   - a C function, cotp_child_start_fn, with a context pointer and an
 *     argument list (its term form is {:"$cotp_c", fn, ctx, args}: the
 *     addresses as integers, valid only inside this program), or
 *   - module and function atoms with an argument list, {m, f, args}: a
 *     start function registered with cotp_supervisor_register_start(), or
 *     failing that a process function registered with
 *     cotp_register_function(), which is then spawned linked to the
 *     supervisor (its start result is {:ok, pid}).
 * A start function runs inside the supervisor and returns, built in the
 * supervisor's heap (cotp_self_heap()), what an Erlang start function
 * returns: {:ok, pid}, {:ok, pid, info}, :ignore, {:error, reason}; any
 * other term T is {:error, T}, and an exit R is {:error, {:EXIT, R}}.  The
 * child it starts must be linked to the caller (start_link).
 *
 * Memory.  Terms passed in (ids, arguments, specs) are copied; terms
 * returned (replies, which_children) are in the caller's heap.
 *
 * Failures.  As in Elixir, a request to a supervisor that does not exist
 * or dies exits the caller with {reason, {GenServer, :call, [...]}} (I36);
 * a negative code means misuse of the C API (a NULL argument, outside a
 * process).  A bad child spec is never a crash: it is an {:error, reason}
 * reply that names the field.
 */
#ifndef COTP_SUPERVISOR_H
#define COTP_SUPERVISOR_H

#include "genserver.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Child specs                                                               */

typedef enum cotp_restart {
  COTP_PERMANENT = 0, /* always restarted */
  COTP_TRANSIENT,     /* restarted unless it exits normal, shutdown or
                         {:shutdown, _} */
  COTP_TEMPORARY      /* never restarted; forgotten when it exits */
} cotp_restart;

typedef enum cotp_child_type { COTP_WORKER = 0, COTP_SUPERVISOR } cotp_child_type;

/* Shutdown values beside milliseconds (>= 0) and COTP_INFINITY. */
#define COTP_SHUTDOWN_DEFAULT (-3)    /* 5000 for a worker, infinity for a
                                         supervisor */
#define COTP_SHUTDOWN_BRUTAL_KILL (-2) /* killed at once */

/*
 * A start function: starts the child linked to the caller (the
 * supervisor) and returns {:ok, pid}, {:ok, pid, info}, :ignore or
 * {:error, reason}, built in cotp_self_heap().  args is the spec's
 * argument list (with a DynamicSupervisor's extra_arguments in front), in
 * the supervisor's heap.  Context: runs inside the supervisor process; it
 * may block (wait for the child's init) and may exit (that is a failed
 * start).
 */
typedef cotp_term cotp_child_start_fn(cotp_term args, void *ctx);

typedef struct cotp_child_spec {
  /* Any term that names the child among its siblings; required (NONE:
   * missing_id).  A DynamicSupervisor ignores it. */
  cotp_term id;
  /* The start: a C function and its context, or (start NULL) module and
   * function atoms (NONE both: missing_start). */
  cotp_child_start_fn *start;
  void *ctx;
  cotp_term module, function;
  /* The argument list (NONE: []). */
  cotp_term args;
  cotp_restart restart;    /* default COTP_PERMANENT */
  int64_t shutdown;        /* ms, COTP_INFINITY, COTP_SHUTDOWN_BRUTAL_KILL
                              or COTP_SHUTDOWN_DEFAULT */
  cotp_child_type type;    /* default COTP_WORKER */
  /* Elixir's modules: a list of atoms or :dynamic; NONE: [module] for an
   * {m, f, a} start or a C start that names its module, else []. */
  cotp_term modules;
  /* With auto_shutdown, the supervisor stops when this child exits by
   * itself (I42).  Not for permanent children. */
  bool significant;
} cotp_child_spec;

#define COTP_CHILD_SPEC_INIT                                                \
  {{0}, NULL, NULL, {0}, {0}, {0}, COTP_PERMANENT, COTP_SHUTDOWN_DEFAULT,    \
   COTP_WORKER, {0}, false}

/*
 * The term form of a spec, Elixir's child spec map with every key
 * present, built in h.  No validation happens here (an invalid spec gives
 * an invalid map, which start_child rejects with the reason).
 * Context: any thread.  Returns COTP_NONE (recorded in h) when out of
 * memory or spec is NULL.
 */
COTP_API cotp_term cotp_child_spec_term(cotp_heap *h,
                                        const cotp_child_spec *spec);

/*
 * Checks a spec in term form (a map, or OTP's 6-tuple) as a supervisor
 * does (supervisor:check_childspecs for one spec).
 * Context: any thread.
 * Returns: 0 when valid; COTP_EINVAL with *reason (may be NULL; built in
 * h) one of :missing_id, :missing_start, {:invalid_child_spec, spec},
 * {:invalid_mfa, s}, {:invalid_restart_type, v}, {:invalid_shutdown, v},
 * {:invalid_child_type, v}, {:invalid_modules, v}, {:invalid_module, m},
 * {:invalid_significant, v}: OTP's reasons, for the first wrong field
 * found (id, start, restart, type, shutdown, modules, significant).
 * Nothing is logged here; the supervisor logs
 * what it rejects (see "Child specs" above).
 */
COTP_API int cotp_child_spec_check(cotp_heap *h, cotp_term spec,
                                   cotp_term *reason);

/*
 * Supervisor.child_spec/2's overrides: a copy of spec (a map, or a module
 * shorthand, expanded first by cotp_child_spec_expand()), built in h, with
 * the keys of overrides (a map or keyword list of id, start, restart,
 * shutdown, type, modules, significant) replacing its own.
 * Returns the new map, not checked (start_child or a supervisor's init
 * checks it).  COTP_NONE when spec is not a map after expansion, or
 * overrides is neither a map nor a keyword list, or has a key not in the
 * list above (Elixir raises ArgumentError there); h's error then says
 * which (COTP_EINVAL, "unknown key :colour in child specification
 * override", as Elixir's message), or is COTP_ENOMEM.
 */
COTP_API cotp_term cotp_child_spec_override(cotp_heap *h, cotp_term spec,
                                            cotp_term overrides);

/*
 * Makes module:function a start function for {m, f, args} starts.
 * Registering the same pair again replaces it.  Context: any thread.
 * Returns: 0, COTP_EINVAL (not atoms, fn NULL), COTP_ENOMEM.
 */
COTP_API int cotp_supervisor_register_start(cotp_term module,
                                            cotp_term function,
                                            cotp_child_start_fn *fn);

/*
 * A start function for GenServer children (Elixir's `use GenServer`
 * child_spec): ctx is the cotp_genserver_callbacks; the last argument is
 * the name to register (an atom, or nil for none), and init gets the
 * argument before it, or the list of all the arguments before it when
 * there are several (a DynamicSupervisor's extra_arguments in front).
 * cotp_genserver_child_spec() fills a spec that uses it: id, the
 * callbacks, args [arg, name], the callbacks' name as the module.
 */
COTP_API cotp_term cotp_genserver_start_child(cotp_term args, void *ctx);
COTP_API cotp_child_spec cotp_genserver_child_spec(
    cotp_term id, const cotp_genserver_callbacks *cb, cotp_term arg,
    cotp_term name);

/*
 * Module shorthands.  Elixir accepts `{Module, arg}` and `Module` (meaning
 * `{Module, []}`) wherever a child spec goes, and asks the module:
 * Module.child_spec(arg).  A C program registers that function under the
 * module's atom; then Supervisor.init's list (a supervisor module's init
 * result), cotp_supervisor_start_child_term() and
 * cotp_child_spec_override() accept the shorthands.
 *
 * A child_spec function returns the spec map (or 6-tuple) built in h
 * (cotp_child_spec_term() of a C spec does), or COTP_NONE.  It runs in the
 * process expanding the shorthand: the supervisor for an init list, the
 * caller for start_child.  Context: inside a process.
 */
typedef cotp_term cotp_child_spec_fn(cotp_heap *h, cotp_term arg, void *ctx);

/*
 * Registers Module.child_spec/1; registering a module again replaces it.
 * Context: any thread.  Returns 0, COTP_EINVAL (module not an atom, fn
 * NULL), COTP_ENOMEM.
 */
COTP_API int cotp_supervisor_register_module(cotp_term module,
                                             cotp_child_spec_fn *fn,
                                             void *ctx);

/*
 * Supervisor.child_spec(child, []): a map or 6-tuple is itself; `{Module,
 * arg}` and `Module` are Module.child_spec(arg) and Module.child_spec([]).
 * Returns 0 with *spec; COTP_EINVAL with *spec = {:invalid_child_spec,
 * child} when the module is not registered or its function returned no
 * spec (Elixir raises ArgumentError there).  The spec is not checked.
 */
COTP_API int cotp_child_spec_expand(cotp_heap *h, cotp_term child,
                                    cotp_term *spec);

/*
 * `use GenServer`'s child_spec/1, to register with ctx the callbacks:
 * %{id: Module, start: (starts the server with init(arg), unnamed)},
 * Module being the callbacks' name.  Terms are built in h, which must be
 * the caller's heap (cotp_self_heap()).
 */
COTP_API cotp_term cotp_genserver_default_child_spec(cotp_heap *h,
                                                     cotp_term arg, void *ctx);

/* ------------------------------------------------------------------------ */
/* Supervisor flags                                                          */

typedef enum cotp_strategy {
  COTP_ONE_FOR_ONE = 0,
  COTP_ONE_FOR_ALL,
  COTP_REST_FOR_ONE
} cotp_strategy;

typedef enum cotp_auto_shutdown {
  COTP_AUTO_SHUTDOWN_NEVER = 0,
  COTP_AUTO_SHUTDOWN_ANY_SIGNIFICANT,
  COTP_AUTO_SHUTDOWN_ALL_SIGNIFICANT
} cotp_auto_shutdown;

typedef struct cotp_supervisor_flags {
  cotp_strategy strategy;
  /* More than max_restarts restarts within max_seconds: the supervisor
   * terminates its children and exits with :shutdown (Elixir's 3 and 5). */
  int max_restarts;
  int max_seconds;
  cotp_auto_shutdown auto_shutdown;
  /* Restart backoff, which the BEAM does not have: when nonzero, a
   * one_for_one child (and a DynamicSupervisor's) that crashes is
   * restarted after backoff_ms, doubled at each consecutive crash or
   * failed start up to backoff_max_ms, and back to backoff_ms once the
   * child has run for backoff_max_ms before crashing.  The child shows as
   * `restarting` meanwhile.  Restarts still count toward the intensity,
   * each crash when it happens and each failed start after it, so a child
   * that keeps failing still makes the supervisor exit :shutdown (I22).
   * backoff_max_ms must be at least backoff_ms, else the start fails with
   * {:supervisor_data, {:invalid_backoff, {ms, max_ms}}}.  Ignored by the
   * other strategies. */
  int64_t backoff_ms, backoff_max_ms;
} cotp_supervisor_flags;

#define COTP_SUPERVISOR_FLAGS_INIT                                          \
  {COTP_ONE_FOR_ONE, 3, 5, COTP_AUTO_SHUTDOWN_NEVER, 0, 0}

/* The term form of flags, the map init returns: %{strategy:, intensity:,
 * period:, auto_shutdown:} (and backoff: {ms, max_ms} when set). */
COTP_API cotp_term cotp_supervisor_flags_term(cotp_heap *h,
                                              const cotp_supervisor_flags *f);

/* ------------------------------------------------------------------------ */
/* Starting                                                                  */

/*
 * A supervisor module (Elixir's `use Supervisor`): init(arg) returns,
 * built in cotp_self_heap(), {:ok, {flags, [child_spec]}} (see
 * cotp_supervisor_init()), or :ignore.  Anything else makes the start
 * fail with {:bad_return, {Module, :init, value}}; an exit fails it with
 * that reason (I2).  It runs inside the new supervisor.
 */
typedef struct cotp_supervisor_module {
  const char *name; /* for reasons: "Stack.Supervisor"; NULL: "Supervisor" */
  cotp_term (*init)(cotp_term arg);
} cotp_supervisor_module;

/*
 * Elixir's Supervisor.init/2: {:ok, {flags, [specs]}}, built in h, the
 * value an init callback returns.  flags NULL: the defaults.
 * Returns COTP_NONE (recorded in h) when out of memory.
 */
COTP_API cotp_term cotp_supervisor_init(cotp_heap *h,
                                        const cotp_supervisor_flags *flags,
                                        const cotp_child_spec *specs, size_t n);

typedef struct cotp_supervisor_opts {
  cotp_name name;        /* register the supervisor under this name */
  cotp_spawn_opts spawn; /* priority and stack of its process (G2) */
} cotp_supervisor_opts;

#define COTP_SUPERVISOR_OPTS_INIT {COTP_NAME_NONE_INIT, COTP_SPAWN_OPTS_INIT}

/* Positive results (the GenServer start's). */
#define COTP_SUPERVISOR_ERROR COTP_GENSERVER_ERROR   /* {:error, reason} */
#define COTP_SUPERVISOR_IGNORE COTP_GENSERVER_IGNORE /* :ignore */

/*
 * Starts a supervisor linked to the caller and waits until its children
 * are all started (Supervisor.start_link/3): init(arg) runs in the new
 * process, which then starts the children in order.  mod must outlive
 * the supervisor; arg is copied.  opts may be NULL.
 * Context: inside a process.
 * Ownership: *reason (may be NULL) is built in the caller's heap.
 * Returns:
 *   0                       *pid (may be NULL) is the supervisor;
 *   COTP_SUPERVISOR_ERROR   *reason: {:shutdown, {:failed_to_start_child,
 *                           id, reason}} (I7; the children already started
 *                           are terminated in reverse order), {:start_spec,
 *                           e} (a bad child spec, e as cotp_child_spec_check
 *                           says, or {:duplicate_child_name, id}, or
 *                           {:invalid_child_spec, v} for a shorthand whose
 *                           module is not registered; no child is started,
 *                           and the log names the child and the field, see
 *                           "Child specs" above),
 *                           {:supervisor_data, e} (bad flags: {:invalid_strategy,
 *                           v}, {:invalid_intensity, v}, {:invalid_period, v},
 *                           ...), {:bad_return, {Module, :init, v}}, init's
 *                           exit reason, {:already_started, pid};
 *   COTP_SUPERVISOR_IGNORE  init returned :ignore (I1);
 *   COTP_EINVAL (mod or mod->init NULL, a bad name), COTP_ENOTPROC,
 *   COTP_ENOMEM.
 * A failed start exits the supervisor with the same reason, which reaches
 * the caller over the link as with cotp_genserver_start_link().
 */
COTP_API int cotp_supervisor_start_link(const cotp_supervisor_module *mod,
                                        cotp_term arg,
                                        const cotp_supervisor_opts *opts,
                                        cotp_pid *pid, cotp_term *reason);

/*
 * The list-based start (Supervisor.start_link(children, options)): a
 * supervisor of the n specs (copied) with flags (NULL: the defaults).
 * Returns as cotp_supervisor_start_link().
 */
COTP_API int cotp_supervisor_start_link_children(
    const cotp_child_spec *specs, size_t n, const cotp_supervisor_flags *flags,
    const cotp_supervisor_opts *opts, cotp_pid *pid, cotp_term *reason);

/*
 * A start function for supervisor children: ctx is the
 * cotp_supervisor_module, args [arg] or [arg, name] (name an atom or nil).
 * cotp_supervisor_child_spec() fills a spec that uses it, with type
 * COTP_SUPERVISOR (so shutdown infinity by default).
 */
COTP_API cotp_term cotp_supervisor_start_child_fn(cotp_term args, void *ctx);
COTP_API cotp_child_spec cotp_supervisor_child_spec(
    cotp_term id, const cotp_supervisor_module *mod, cotp_term arg);

/* ------------------------------------------------------------------------ */
/* The admin API (Supervisor.start_child/2 and friends)                      */

/*
 * Adds a child and starts it.  spec is validated here first, before any
 * message is sent (J8).
 * Context: inside a process.
 * Ownership: *reply (may be NULL) in the caller's heap: the supervisor's
 * whole answer, {:ok, pid}, {:ok, pid, info}, {:ok, :undefined}, :ignore
 * or {:error, reason}.
 * Returns: 0 with *pid (may be NULL; bits 0 for :undefined); 
 * COTP_SUPERVISOR_IGNORE (a DynamicSupervisor's child returned :ignore);
 * COTP_SUPERVISOR_ERROR for {:error, reason}: a bad spec (as
 * cotp_child_spec_check), {:already_started, pid}, :already_present,
 * {reason, child_info} for a start that failed (I5), :max_children;
 * COTP_EINVAL (spec NULL), COTP_ENOTPROC.  Exits the caller when the
 * supervisor does not exist or dies (I36).
 */
COTP_API int cotp_supervisor_start_child(cotp_server sup,
                                         const cotp_child_spec *spec,
                                         cotp_pid *pid, cotp_term *reply);

/* As cotp_supervisor_start_child(), with the spec as a term (a map, or
 * OTP's 6-tuple; copied). */
COTP_API int cotp_supervisor_start_child_term(cotp_server sup, cotp_term spec,
                                              cotp_pid *pid, cotp_term *reply);

/*
 * Terminates a child by id (a pid for a DynamicSupervisor) with its
 * shutdown; a static child's spec stays, a dynamic or temporary one goes.
 * Returns: 0 (also for a child already terminated); COTP_SUPERVISOR_ERROR
 * with *reason (may be NULL) :not_found (I36, J14); COTP_ENOTPROC.
 */
COTP_API int cotp_supervisor_terminate_child(cotp_server sup, cotp_term id,
                                             cotp_term *reason);

/*
 * Restarts a terminated static child, or deletes its spec.
 * Returns: 0 (*reply, may be NULL: {:ok, pid}, {:ok, pid, info},
 * {:ok, :undefined}, :ok for delete); COTP_SUPERVISOR_ERROR with *reply =
 * {:error, r}, r one of :not_found, :running, :restarting, the start's
 * failure (I6); COTP_ENOTPROC.
 */
COTP_API int cotp_supervisor_restart_child(cotp_server sup, cotp_term id,
                                           cotp_pid *pid, cotp_term *reply);
COTP_API int cotp_supervisor_delete_child(cotp_server sup, cotp_term id,
                                          cotp_term *reason);

/*
 * The children, the last started first as OTP lists them (a
 * DynamicSupervisor's in start order): a list of {id, pid | :undefined |
 * :restarting, :worker | :supervisor, modules} in the caller's heap (ids
 * :undefined for a DynamicSupervisor) (I38).  Exits as start_child.
 */
COTP_API cotp_term cotp_supervisor_which_children(cotp_server sup);

typedef struct cotp_child_counts {
  size_t specs, active, supervisors, workers;
} cotp_child_counts;

/*
 * Counts the children (I38, I39): specs all of them, active those
 * running, supervisors and workers by type.  Returns 0, COTP_EINVAL
 * (counts NULL), COTP_ENOTPROC.  Exits as start_child.
 */
COTP_API int cotp_supervisor_count_children(cotp_server sup,
                                            cotp_child_counts *counts);
/* The same as Elixir's map %{specs:, active:, supervisors:, workers:}. */
COTP_API cotp_term cotp_child_counts_term(cotp_heap *h,
                                          const cotp_child_counts *c);

/*
 * The complete spec of the child id, as a map in the caller's heap (I8).
 * Returns: 0 with *spec; COTP_SUPERVISOR_ERROR with *spec = :not_found.
 */
COTP_API int cotp_supervisor_get_childspec(cotp_server sup, cotp_term id,
                                           cotp_term *spec);

/*
 * Stops the supervisor (Supervisor.stop/3): its children are terminated
 * in reverse start order (concurrently for a DynamicSupervisor), then it
 * exits with reason.  Returns and exits as cotp_genserver_stop().
 */
COTP_API int cotp_supervisor_stop(cotp_server sup, cotp_term reason,
                                  int64_t timeout_ms);

/* ------------------------------------------------------------------------ */
/* DynamicSupervisor                                                         */

/*
 * A supervisor that starts with no children and gets them from
 * start_child, one_for_one only; ids are :undefined and children are
 * named by pid; they are shut down concurrently (J13, I34).
 */
typedef struct cotp_dynamic_supervisor_opts {
  cotp_name name;
  cotp_spawn_opts spawn;
  int max_restarts, max_seconds;   /* 3 and 5 */
  int64_t max_children;            /* COTP_INFINITY: no limit */
  cotp_term extra_arguments;       /* a list put before every child's
                                      arguments (NONE: []), copied */
  int64_t backoff_ms, backoff_max_ms; /* as in cotp_supervisor_flags */
} cotp_dynamic_supervisor_opts;

#define COTP_DYNAMIC_SUPERVISOR_OPTS_INIT                                   \
  {COTP_NAME_NONE_INIT, COTP_SPAWN_OPTS_INIT, 3, 5, COTP_INFINITY, {0}, 0, 0}

/*
 * Starts a DynamicSupervisor linked to the caller (J1, J3).
 * Returns as cotp_supervisor_start_link(): COTP_SUPERVISOR_ERROR with
 * {:supervisor_data, {:invalid_intensity | :invalid_period |
 * :invalid_max_children | :invalid_extra_arguments | :invalid_backoff, v}}
 * for bad options.
 */
COTP_API int cotp_dynamic_supervisor_start_link(
    const cotp_dynamic_supervisor_opts *opts, cotp_pid *pid,
    cotp_term *reason);

/*
 * A DynamicSupervisor module: init(arg) returns {:ok, flags} with flags a
 * map of strategy (:one_for_one), intensity, period, max_children,
 * extra_arguments (DynamicSupervisor.init/1), or :ignore.
 */
COTP_API int cotp_dynamic_supervisor_start_link_module(
    const cotp_supervisor_module *mod, cotp_term arg,
    const cotp_supervisor_opts *opts, cotp_pid *pid, cotp_term *reason);

/*
 * DynamicSupervisor.start_child/2: as cotp_supervisor_start_child(), with
 * the dynamic supervisor's results (J4-J6): 0 for {:ok, pid} and
 * {:ok, pid, info}; COTP_SUPERVISOR_IGNORE for :ignore (nothing kept);
 * COTP_SUPERVISOR_ERROR for {:error, r}, r :max_children, the start's
 * error, {:EXIT, reason} for a start that exited.
 */
COTP_API int cotp_dynamic_supervisor_start_child(cotp_server sup,
                                                 const cotp_child_spec *spec,
                                                 cotp_pid *pid,
                                                 cotp_term *reply);

/* DynamicSupervisor.terminate_child/2: 0, or COTP_ENOTFOUND (not a child,
 * J14). */
COTP_API int cotp_dynamic_supervisor_terminate_child(cotp_server sup,
                                                     cotp_pid child);

#ifdef __cplusplus
}
#endif

#endif
