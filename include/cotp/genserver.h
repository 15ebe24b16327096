/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp/genserver.h: GenServer, the generic server behaviour, with Elixir's
 * semantics.
 *
 * A GenServer is a process that keeps a state and handles one message at a
 * time with callbacks: calls (a request that waits for a reply), casts (a
 * request that does not) and any other message (info).  The behaviour is a
 * struct of C functions, cotp_genserver_callbacks; the state is a C value
 * (void *) that the callbacks own.
 *
 * A server is a handler process (cotp_spawn_handler): between messages it
 * has no stack, only its control block and a small struct, and each
 * message is handled on whatever run stack is free.  Inside a callback the
 * server is an ordinary process: it may call other servers, receive,
 * sleep, spawn.
 *
 * Memory.  Terms a callback receives (the request, the message) and terms
 * it builds in cotp_self_heap() live until the callback returns: the
 * server's heap is released after each message.  A term a callback wants
 * to keep across messages must be copied out into storage of the state's
 * own, e.g. a cotp_heap the state owns (cotp_term_copy).  The reply, the
 * stop reason and the continue argument a callback returns are used before
 * the release, so they may live in cotp_self_heap().
 *
 * Wire shapes.  Messages have the shapes a real gen_server exchanges, so
 * the distribution layer can map them one to one:
 *   call    {:"$gen_call", {caller_pid, [:alias | ref]}, request}
 *   reply   {[:alias | ref], reply}         sent through the alias ref
 *   cast    {:"$gen_cast", request}
 *   system  {:system, {caller_pid, [:alias | ref]}, request}
 * A call monitors the server with the monitor reference doubling as an
 * alias (OTP 24's call idiom, COTP_ALIAS_REPLY_DEMONITOR): the reply both
 * arrives and ends the monitor, and a reply that comes after the call gave
 * up is dropped instead of landing in the caller's mailbox.
 *
 * Failures.  As in Elixir, the functions a client calls exit the calling
 * process when the server cannot answer: cotp_genserver_call() exits with
 * {reason, {GenServer, :call, [server, request, timeout]}} on a timeout,
 * noproc, or the server's exit reason.  cotp_genserver_call_result() is the
 * variant for C code that wants the failure returned instead.  Misuse of
 * the API (a NULL callbacks struct, a negative timeout) is an error code,
 * never a crash of the runtime.
 */
#ifndef COTP_GENSERVER_H
#define COTP_GENSERVER_H

#include "name.h"
#include "process.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The default timeout of a call, as Elixir's: 5 seconds. */
#define COTP_GENSERVER_TIMEOUT 5000

/* ------------------------------------------------------------------------ */
/* Naming a server                                                           */

/*
 * A server as clients name it (Elixir's GenServer.server()): a pid, or a
 * name of any kind (local atom or via).  A value; build it with the
 * functions below.  A server with no name and pid bits 0 is Elixir's nil:
 * calling it exits with noproc.
 */
typedef struct cotp_server {
  cotp_pid pid;   /* used when name.kind is COTP_NAME_NONE */
  cotp_name name; /* its term must outlive the use */
} cotp_server;

static inline cotp_server cotp_server_pid(cotp_pid pid) {
  cotp_server s = {pid, COTP_NAME_NONE_INIT};
  return s;
}
static inline cotp_server cotp_server_name(cotp_term atom) {
  cotp_server s = {{0}, cotp_name_local(atom)};
  return s;
}
static inline cotp_server cotp_server_via(const cotp_via *via, cotp_term term) {
  cotp_server s = {{0}, cotp_name_via(via, term)};
  return s;
}

/*
 * The pid a server names now (Elixir's GenServer.whereis/1): a pid as is,
 * a name looked up.  Context: any thread while the runtime runs.
 * Returns: 0 with *pid set; COTP_ENOTFOUND (Elixir's nil) for a name that
 * is not registered or a nil server; COTP_EINVAL (pid NULL, a bad name).
 */
COTP_API int cotp_genserver_whereis(cotp_server server, cotp_pid *pid);

/* ------------------------------------------------------------------------ */
/* The caller of a call                                                      */

/*
 * Who is waiting for the reply to a call (Erlang's From, {pid, tag}).  All
 * immediates, so a callback may keep it anywhere (in the state, in a
 * message to another process) and reply later with
 * cotp_genserver_reply(), from any process or thread.  alias is true for
 * the tag [:alias | ref] of OTP 24 and later (the reply goes through the
 * alias ref), false for a plain ref tag (the reply goes to pid, tagged with
 * ref).
 */
typedef struct cotp_genserver_from {
  cotp_pid pid;
  cotp_term ref;
  bool alias;
} cotp_genserver_from;

/*
 * The term form of a from, {pid, [:alias | ref]} or {pid, ref}, built in h,
 * to put a from in a message.  Returns COTP_NONE (recorded in h) when out
 * of memory.  Context: any thread.
 */
COTP_API cotp_term cotp_genserver_from_term(cotp_heap *h,
                                            cotp_genserver_from from);

/*
 * Reads a from back from its term form.  Context: any thread.
 * Returns: 0, or COTP_EBADTYPE when t is not {pid, [:alias | ref]} nor
 * {pid, ref}.
 */
COTP_API int cotp_genserver_from_get(cotp_term t, cotp_genserver_from *from);

/*
 * Replies to a call (Elixir's GenServer.reply/2): the caller's
 * cotp_genserver_call() returns reply.  Any process may reply, and any
 * thread: the server in a later callback, or a process it handed the from
 * to (book ch. 3.4).  A reply to a caller that gave up or died is dropped.
 * Replying twice to one call delivers only the first.
 * Context: any thread while the runtime runs.  Ownership: reply is copied.
 * Returns: 0; COTP_EINVAL (reply NONE, from not a from); COTP_ENOMEM.
 */
COTP_API int cotp_genserver_reply(cotp_genserver_from from, cotp_term reply);

/*
 * As cotp_genserver_reply, to a from in its term form, including the tag
 * [[:alias | ref] | payload] that OTP 25 reserves (H33).
 * Returns: as above, and COTP_EBADTYPE for a term that is not a from.
 */
COTP_API int cotp_genserver_reply_term(cotp_term from, cotp_term reply);

/* ------------------------------------------------------------------------ */
/* What callbacks return                                                     */

/* The main part of a callback's return (Elixir's tuples, by first
 * element).  A zeroed cotp_gs_ret is COTP_GS_INVALID: a bad return. */
typedef enum cotp_gs_kind {
  COTP_GS_INVALID = 0,
  COTP_GS_OK,      /* init: {:ok, state} */
  COTP_GS_IGNORE,  /* init: :ignore */
  COTP_GS_REPLY,   /* handle_call: {:reply, reply, state} */
  COTP_GS_NOREPLY, /* {:noreply, state} (handle_call: reply later) */
  COTP_GS_STOP     /* {:stop, reason, state}; with a reply, from
                      handle_call: {:stop, reason, reply, state}; from init:
                      {:stop, reason} */
} cotp_gs_kind;

/* What to do once the callback's work is done (the optional last element
 * of Elixir's tuples). */
typedef enum cotp_gs_then {
  COTP_GS_THEN_NONE = 0,  /* wait for the next message */
  COTP_GS_THEN_TIMEOUT,   /* handle_info(:timeout) if no message comes
                             within timeout_ms */
  COTP_GS_THEN_HIBERNATE, /* :hibernate */
  COTP_GS_THEN_CONTINUE   /* {:continue, arg}: handle_continue(arg) before
                             any other message */
} cotp_gs_then;

typedef struct cotp_gs_ret {
  cotp_gs_kind kind;
  cotp_gs_then then;
  cotp_term reply;    /* REPLY; STOP from handle_call (NONE: no reply) */
  cotp_term reason;   /* STOP */
  cotp_term cont;     /* THEN_CONTINUE: handle_continue's argument */
  int64_t timeout_ms; /* THEN_TIMEOUT: >= 0, or COTP_INFINITY (none) */
} cotp_gs_ret;

/* The returns, named after Elixir's tuples:
 *   return cotp_gs_reply(cotp_int(h, n));                 {:reply, n, s}
 *   return cotp_gs_timeout(cotp_gs_noreply(), 100);       {:noreply, s, 100}
 *   return cotp_gs_continue(cotp_gs_ok(), COTP_ATOM(load)); {:ok, s, {:continue, :load}}
 *   return cotp_gs_stop(COTP_ATOM_NORMAL);                {:stop, :normal, s}
 * The state is not in the return: a callback updates *state in place. */
static inline cotp_gs_ret cotp_gs_ok(void) {
  cotp_gs_ret r = {COTP_GS_OK, COTP_GS_THEN_NONE, {0}, {0}, {0}, 0};
  return r;
}
static inline cotp_gs_ret cotp_gs_ignore(void) {
  cotp_gs_ret r = {COTP_GS_IGNORE, COTP_GS_THEN_NONE, {0}, {0}, {0}, 0};
  return r;
}
static inline cotp_gs_ret cotp_gs_reply(cotp_term reply) {
  cotp_gs_ret r = {COTP_GS_REPLY, COTP_GS_THEN_NONE, reply, {0}, {0}, 0};
  return r;
}
static inline cotp_gs_ret cotp_gs_noreply(void) {
  cotp_gs_ret r = {COTP_GS_NOREPLY, COTP_GS_THEN_NONE, {0}, {0}, {0}, 0};
  return r;
}
static inline cotp_gs_ret cotp_gs_stop(cotp_term reason) {
  cotp_gs_ret r = {COTP_GS_STOP, COTP_GS_THEN_NONE, {0}, reason, {0}, 0};
  return r;
}
static inline cotp_gs_ret cotp_gs_stop_reply(cotp_term reason,
                                             cotp_term reply) {
  cotp_gs_ret r = {COTP_GS_STOP, COTP_GS_THEN_NONE, reply, reason, {0}, 0};
  return r;
}
static inline cotp_gs_ret cotp_gs_timeout(cotp_gs_ret r, int64_t ms) {
  r.then = COTP_GS_THEN_TIMEOUT;
  r.timeout_ms = ms;
  return r;
}
static inline cotp_gs_ret cotp_gs_hibernate(cotp_gs_ret r) {
  r.then = COTP_GS_THEN_HIBERNATE;
  return r;
}
static inline cotp_gs_ret cotp_gs_continue(cotp_gs_ret r, cotp_term arg) {
  r.then = COTP_GS_THEN_CONTINUE;
  r.cont = arg;
  return r;
}

/* ------------------------------------------------------------------------ */
/* The behaviour                                                             */

/*
 * The callbacks of a server.  Every callback runs inside the server
 * process and may use the whole process API.  A callback fails by exiting
 * (cotp_exit): the server then runs terminate, logs an error report and
 * exits with that reason, as a gen_server does when a callback raises.
 * Returning a value a callback may not return (a zeroed cotp_gs_ret, a
 * reply from handle_cast, a negative timeout...) does the same with reason
 * {:bad_return_value, description}.
 *
 * A callback must not call cotp_hibernate() (return cotp_gs_hibernate()
 * instead: a server holds no stack between messages anyway).
 *
 * Defaults for NULL callbacks, those of Elixir's `use GenServer`:
 *   init             start fails with {:undef, [{Module, :init, 1, []}]}
 *   handle_call      the server exits with {:runtime_error, "attempted to
 *                    call GenServer ... but no handle_call/3 clause was
 *                    provided"}, and so does the caller (wrapped as any
 *                    call failure)
 *   handle_cast      the server exits likewise ("attempted to cast ...")
 *   handle_info      logs "... received unexpected message in
 *                    handle_info/2: msg" (COTP_LOG_ERROR) and goes on
 *   handle_continue  the server exits with {:undef, [{Module,
 *                    :handle_continue, 2, []}]}
 *   terminate        does nothing; format_status shows the state pointer
 */
typedef struct cotp_genserver_callbacks {
  /* The module's name, for reports and reasons ("Counter" shows as
   * `Counter`, the atom :"Elixir.Counter"); NULL: "GenServer". */
  const char *name;

  /* Starts the server: *state holds opts->state on entry.  Returns ok
   * (optionally with timeout, hibernate or continue), ignore, or stop
   * with a reason (start then returns the reason). */
  cotp_gs_ret (*init)(cotp_term arg, void **state);

  /* A call.  Return a reply; or noreply, and reply later with
   * cotp_genserver_reply(from, ...); or stop, with or without a reply. */
  cotp_gs_ret (*handle_call)(cotp_term request, cotp_genserver_from from,
                             void **state);

  /* A cast: return noreply or stop. */
  cotp_gs_ret (*handle_cast)(cotp_term request, void **state);

  /* Any other message, :timeout after a timeout, and {:EXIT, pid, reason}
   * from processes other than the parent when the server traps exits:
   * return noreply or stop. */
  cotp_gs_ret (*handle_info)(cotp_term msg, void **state);

  /* The work a {:continue, arg} return asked for, before any other
   * message: return noreply or stop. */
  cotp_gs_ret (*handle_continue)(cotp_term arg, void **state);

  /*
   * The server is about to exit with reason.  Called, as in Elixir, on a
   * stop return, on a callback's exit or bad return, on
   * cotp_genserver_stop(), and on an exit signal from the parent (the
   * process that called start_link) when the server traps exits.  Not
   * called when the server is killed, nor when an exit signal kills a
   * server that does not trap exits.  A terminate that exits replaces the
   * reason.  It must not free the state: free_state does.
   */
  void (*terminate)(cotp_term reason, void *state);

  /* The state as a term built in h, for error reports and traces; NULL:
   * the state pointer is shown.  A format_status that exits is caught and
   * the report says so. */
  cotp_term (*format_status)(cotp_heap *h, void *state);

  /*
   * Frees the state.  Called exactly once for every start that did not
   * return a negative code, when the server is gone, whatever the reason
   * (kill included), and after terminate if that ran; with the state as
   * it was last (the one init set, opts->state if init never ran).  Runs
   * after the process has stopped, on a scheduler thread or the
   * starter's: it must not block nor call the process API (like
   * cotp_on_exit cleanups).  NULL: nothing to free.
   */
  void (*free_state)(void *state);
} cotp_genserver_callbacks;

/* ------------------------------------------------------------------------ */
/* Starting                                                                  */

typedef struct cotp_genserver_opts {
  /* Register the server under this name (Elixir's name: option) before
   * init runs.  A local name nil means no name. */
  cotp_name name;
  /* Milliseconds init may take: start returns {:error, :timeout} and the
   * half-started server is killed after that.  COTP_INFINITY: no limit. */
  int64_t timeout_ms;
  /* Priority, stack and fp_env of the server's process (M3).  Its other fields
   * are the start's own business and are ignored: link, monitor,
   * arg_size, arg_free. */
  cotp_spawn_opts spawn;
  /* The value *state has when init is called: a way to hand the server C
   * data.  A start that returns a negative code leaves it to the caller;
   * any other result gives it to the server, and free_state gets it back
   * (at once for a start that made no process, such as already_started),
   * as it does when the caller is killed during the start. */
  void *state;
  /* Trace the server from the start (as :sys.trace, debug: [:trace]). */
  bool trace;
} cotp_genserver_opts;

#define COTP_GENSERVER_OPTS_INIT                                            \
  {COTP_NAME_NONE_INIT, COTP_INFINITY, COTP_SPAWN_OPTS_INIT, NULL, false}

/* Positive results of the start functions (negative ones are COTP_E*
 * codes: the API was misused or out of resources, no server was made). */
#define COTP_GENSERVER_ERROR 1  /* {:error, reason}: *reason is set */
#define COTP_GENSERVER_IGNORE 2 /* init returned :ignore; *reason = :ignore */

/*
 * Starts a server and waits until its init has returned (Elixir's
 * GenServer.start/3): spawns the process, registers opts->name, calls
 * cb->init(arg, &state) in it.  cb must outlive the server (a static
 * struct, typically); arg is copied.  opts may be NULL for the defaults.
 *
 * The server is not linked to the caller.  Its parent, for terminate's
 * purposes, is itself.
 *
 * Context: inside a process.
 * Ownership: *reason (may be NULL) is built in the caller's heap.
 * Returns:
 *   0                     started: *pid (may be NULL) is the server;
 *   COTP_GENSERVER_ERROR  *reason is {:already_started, pid} (the name is
 *                         taken; D5), :timeout (init took longer than
 *                         opts->timeout_ms; H2), the reason of init's stop
 *                         return or exit, {:bad_return_value, v},
 *                         {:undef, ...} (no init; H3);
 *   COTP_GENSERVER_IGNORE init returned ignore (H3);
 *   COTP_EINVAL           cb NULL, a bad name (not an atom, undefined, a
 *                         via without register_name), a bad timeout;
 *   COTP_ENOTPROC, COTP_ENOMEM, COTP_ESYSLIMIT.
 * A failed or ignored start leaves no name registered (D6).
 */
COTP_API int cotp_genserver_start(const cotp_genserver_callbacks *cb,
                                  cotp_term arg,
                                  const cotp_genserver_opts *opts,
                                  cotp_pid *pid, cotp_term *reason);

/*
 * As cotp_genserver_start, linked to the caller (Elixir's start_link/3),
 * and the caller is the server's parent: an exit signal from it makes a
 * server that traps exits run terminate and exit with the same reason
 * (H26).  If init fails, the caller also gets the exit signal: unless it
 * traps exits it dies of it, as in Elixir (H4); if it does, the
 * {:EXIT, pid, reason} message stays in its mailbox (OTP 25).
 */
COTP_API int cotp_genserver_start_link(const cotp_genserver_callbacks *cb,
                                       cotp_term arg,
                                       const cotp_genserver_opts *opts,
                                       cotp_pid *pid, cotp_term *reason);

/*
 * As cotp_genserver_start, and the caller monitors the server (Erlang's
 * gen_server:start_monitor/3): on success *mon is the monitor's reference
 * and a DOWN with the server's exit reason follows its end (H5).  On
 * failure no DOWN is left in the mailbox.
 */
COTP_API int cotp_genserver_start_monitor(const cotp_genserver_callbacks *cb,
                                          cotp_term arg,
                                          const cotp_genserver_opts *opts,
                                          cotp_pid *pid, cotp_term *mon,
                                          cotp_term *reason);

/* ------------------------------------------------------------------------ */
/* Clients                                                                   */

/*
 * Calls the server and waits up to timeout_ms (COTP_INFINITY: forever) for
 * its reply (Elixir's GenServer.call/3; the usual timeout is
 * COTP_GENSERVER_TIMEOUT).  The caller's receive mark
 * (cotp_receive_mark) is moved: other messages stay queued, and however
 * many there are, they are not scanned.  When the server is idle, the
 * caller runs the server's turn itself (cotp_handler_turn in
 * cotp/process.h): no message travels either way, and nothing else
 * differs, except that a handle_call that computes for long without a
 * wait holds the caller until it is done, even past the timeout.  While
 * callers on another scheduler hold the server's turns (for about 20 us
 * after they took them: COTP_TURN_HELD), the caller yields and tries
 * again rather than send.
 * Context: inside a process.
 * Ownership: request is copied; the reply is in the caller's heap.
 * Returns: the reply.  On failure the caller exits, as in Elixir, with
 * {reason, {GenServer, :call, [server, request, timeout]}} where reason
 * is :noproc (no such server; H10), :timeout (H11), :calling_self (H9),
 * or the reason the server exited with before replying (H13, H28).  A bad
 * argument (request NONE, a negative timeout) exits with reason :badarg
 * in the same wrapping.  Outside a process: returns COTP_NONE.
 */
COTP_API cotp_term cotp_genserver_call(cotp_server server, cotp_term request,
                                       int64_t timeout_ms);

/* Results of cotp_genserver_call_result() beside 0 and COTP_E* codes. */
#define COTP_GENSERVER_DOWN 1 /* the server exited before replying */

/*
 * As cotp_genserver_call, returning the failure instead of exiting.
 * Context: inside a process.  Ownership: *out in the caller's heap.
 * Returns: 0 with *out the reply; COTP_ETIMEDOUT (*out :timeout; a reply
 * that comes later is dropped); COTP_ENOPROC (*out :noproc);
 * COTP_GENSERVER_DOWN (*out the server's exit reason); COTP_EINVAL
 * (*out :calling_self when the server is the caller, else :badarg: out
 * NULL, request NONE, a negative timeout); COTP_ENOMEM; COTP_ENOTPROC.
 */
COTP_API int cotp_genserver_call_result(cotp_server server, cotp_term request,
                                        int64_t timeout_ms, cotp_term *out);

/*
 * Sends a cast (Elixir's GenServer.cast/2) and returns at once, even when
 * the name is not registered or the server is dead (H22).
 * Context: any thread while the runtime runs.  Ownership: request is
 * copied.  Returns: 0; COTP_EINVAL (request NONE, a bad name); COTP_ENOMEM.
 */
COTP_API int cotp_genserver_cast(cotp_server server, cotp_term request);

/*
 * Stops the server synchronously (Elixir's GenServer.stop/3): it runs
 * terminate(reason) and exits with reason; this returns once it is dead
 * (H6).  Context: inside a process.
 * Returns: 0.  On failure the caller exits with
 * {reason, {GenServer, :stop, [server, reason, timeout]}}: :noproc (no
 * such server, H7), :timeout (the server did not exit in time; it may
 * still stop), :calling_self (a server stopping itself, H8), or the other
 * reason the server exited with (e.g. its terminate exited).
 * Misuse returns COTP_EINVAL without touching the server (reason NONE, a
 * negative timeout; Elixir raises instead, H7), or COTP_ENOTPROC.
 */
COTP_API int cotp_genserver_stop(cotp_server server, cotp_term reason,
                                 int64_t timeout_ms);

/* ------------------------------------------------------------------------ */
/* Requests without waiting (gen_server:send_request and friends, H31)       */

/* An outstanding request: the server's pid and the call's reference (the
 * monitor and alias).  A value. */
typedef struct cotp_genserver_request {
  cotp_pid pid;
  cotp_term ref;
} cotp_genserver_request;

/*
 * Sends a call without waiting for the reply; get it later with
 * cotp_genserver_wait_response(), receive_response() or check_response().
 * Context: inside a process.
 * Returns: 0 with *req set.  A server that does not exist is no error
 * here, as in OTP: its response is COTP_GENSERVER_DOWN with reason
 * :noproc.  COTP_EINVAL (request NONE, req NULL, a bad name), COTP_ENOMEM,
 * COTP_ENOTPROC.
 */
COTP_API int cotp_genserver_send_request(cotp_server server,
                                         cotp_term request,
                                         cotp_genserver_request *req);

/*
 * Waits up to timeout_ms for the response to req (gen_server's
 * wait_response/2).  On a timeout the request stays outstanding: a later
 * wait can still get the reply (H31).
 * Context: inside the process that sent the request.
 * Returns: 0 with *out the reply; COTP_ETIMEDOUT; COTP_GENSERVER_DOWN with
 * *out = {reason, server_pid} (gen_server's {error, {Reason, Server}});
 * COTP_EINVAL.
 */
COTP_API int cotp_genserver_wait_response(const cotp_genserver_request *req,
                                          int64_t timeout_ms, cotp_term *out);

/* As wait_response, but a timeout abandons the request: its monitor and
 * alias go, and a reply that comes later is dropped (receive_response/2). */
COTP_API int cotp_genserver_receive_response(const cotp_genserver_request *req,
                                             int64_t timeout_ms,
                                             cotp_term *out);

/*
 * Whether msg, a message the caller received itself, is the response to
 * req (check_response/2).  Context: inside the process that sent it.
 * Returns: 0 with *out the reply; COTP_GENSERVER_DOWN with *out =
 * {reason, server_pid}; COTP_ENOTFOUND (gen_server's no_reply: msg is
 * something else); COTP_EINVAL.
 */
COTP_API int cotp_genserver_check_response(cotp_term msg,
                                           const cotp_genserver_request *req,
                                           cotp_term *out);

/* ------------------------------------------------------------------------ */
/* Debugging (Erlang's sys module)                                           */

/*
 * Reads the server's state pointer (:sys.get_state/2).  The server
 * answers between messages, and the value may change as soon as it
 * handles the next one: the pointer is for looking at, with care, not for
 * sharing the state.  A pending timeout of the server is not disturbed
 * (H15).  Context: inside a process.
 * Returns: 0 with *state; COTP_ENOPROC (no such server, or it died);
 * COTP_ETIMEDOUT; COTP_EINVAL (state NULL, bad timeout); COTP_ENOTPROC.
 */
COTP_API int cotp_genserver_get_state(cotp_server server, int64_t timeout_ms,
                                      void **state);

/* Computes a server's new state from its current one, inside the server. */
typedef void *cotp_genserver_replace_fn(void *state, cotp_term arg);

/*
 * Replaces the server's state with fn(state, arg), run inside the server
 * (:sys.replace_state/3; arg is copied).  If fn exits, the state stays as
 * it was and the call fails (H34).
 * Context: inside a process.
 * Returns: 0 with *new_state (may be NULL); COTP_GENSERVER_ERROR with
 * *reason (may be NULL) = {:callback_failed, {:gen_server,
 * :system_replace_state}, {:exit, r}}; COTP_ENOPROC; COTP_ETIMEDOUT;
 * COTP_EINVAL; COTP_ENOTPROC.
 */
COTP_API int cotp_genserver_replace_state(cotp_server server,
                                          cotp_genserver_replace_fn *fn,
                                          cotp_term arg, int64_t timeout_ms,
                                          void **new_state, cotp_term *reason);

/*
 * Turns tracing on or off (:sys.trace/2): a traced server logs every
 * message it gets and every reply it sends, with its new state, at
 * COTP_LOG_NOTICE, one line each:
 *   *DBG* #PID<0.5.0> got call :get from #PID<0.3.0>
 *   *DBG* #PID<0.5.0> sent 1 to #PID<0.3.0>, new state 1
 * Context: inside a process.
 * Returns: 0; COTP_ENOPROC; COTP_ETIMEDOUT; COTP_EINVAL; COTP_ENOTPROC.
 */
COTP_API int cotp_genserver_trace(cotp_server server, bool on,
                                  int64_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
