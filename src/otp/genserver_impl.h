/* SPDX-License-Identifier: Apache-2.0 */
/*
 * genserver_impl.h: what the GenServer sources share (the public API is
 * cotp/genserver.h).  Written against the public headers only, like all of
 * src/otp.
 *
 * A server is a handler process whose state argument is a struct cotp__gs.
 * Who touches it:
 *   - the starter fills it in before the spawn and until it sends the init
 *     message, and never touches it after;
 *   - the server process reads and writes it while it handles a message;
 *   - the destructor of its owning resource frees it (see genserver_start.c
 *     for why a resource owns it), after the server is gone.
 */
#ifndef COTP_OTP_GENSERVER_IMPL_H
#define COTP_OTP_GENSERVER_IMPL_H

#include <cotp.h>

/* flags of struct cotp__gs */
enum {
  GS_STARTED = 1u << 0, /* init has run: messages are requests */
  GS_LINKED = 1u << 1,  /* started with start_link: parent is real */
  GS_MONITOR = 1u << 2, /* start_monitor: ack to the pid, not an alias */
  GS_TIMER = 1u << 3,   /* a timeout is armed (timer, seq) */
  GS_TRACE = 1u << 4,   /* log every message in and out */
  GS_HELD = 1u << 5     /* still the starter's, held by its heap
                           (genserver_start.c, invariant 4) */
};

/* A name the server keeps for reports (via names only need a copy of their
 * term; local names are atoms). */
struct cotp__gs_name {
  cotp_name name;
  cotp_heap *heap; /* holds name.term for via names, or NULL */
};

struct cotp__gs {
  const cotp_genserver_callbacks *cb;
  void *state;
  cotp_pid parent;   /* the starter (start_link), or the server itself */
  cotp_term ref;     /* the start's ack reference, then the timer's ref */
  struct cotp__gs_name *name; /* NULL: anonymous */
  uint32_t seq;      /* number of the armed timeout */
  uint32_t flags;
};

/* --- atoms, looked up once (genserver_atoms.c) --- */

enum cotp__gs_atom {
  GA_GEN_CALL,      /* $gen_call */
  GA_GEN_CAST,      /* $gen_cast */
  GA_GEN_TIMEOUT,   /* $gen_timeout */
  GA_SYSTEM,        /* system */
  GA_GENSERVER,     /* Elixir.GenServer */
  GA_SYS,           /* sys */
  GA_GEN_SERVER,    /* gen_server */
  GA_CALLING_SELF,  /* calling_self */
  GA_BAD_RETURN,    /* bad_return_value */
  GA_UNDEF,         /* undef */
  GA_RUNTIME_ERROR, /* runtime_error */
  GA_GET_STATE,     /* get_state */
  GA_REPLACE_STATE, /* replace_state */
  GA_DEBUG,         /* debug */
  GA_TRACE,         /* trace */
  GA_TERMINATE,     /* terminate */
  GA_CALLBACK_FAILED,  /* callback_failed */
  GA_SYSTEM_REPLACE,   /* system_replace_state */
  GA_UNKNOWN_SYSTEM,   /* unknown_system_msg */
  GA_INIT,          /* init */
  GA_HANDLE_CONTINUE, /* handle_continue */
  GA_ERROR,         /* error */
  GA_COUNT
};

cotp_term cotp__gs_atom(enum cotp__gs_atom a);

/* --- the server side --- */

/* The handler function of every server (genserver_loop.c). */
bool cotp__gs_handle(void *arg, cotp_term msg);

/* A call's request, handled in a direct turn (genserver_call.c) as
 * cotp__gs_handle handles a call message. */
void cotp__gs_handle_call(struct cotp__gs *s, cotp_term request,
                          const cotp_genserver_from *from);

/* Handles the init message (genserver_start.c); the handler's result. */
bool cotp__gs_init(struct cotp__gs *s, cotp_term msg);

/* What a callback was doing, for validation and reports. */
enum gs_kind { GK_INIT, GK_CALL, GK_CAST, GK_INFO, GK_CONTINUE };

/* Runs a callback with the exit catch; returns true and *ret, or false
 * with *reason when it exited (genserver_loop.c). */
bool cotp__gs_run(struct cotp__gs *s, enum gs_kind kind, cotp_term msg,
                  const cotp_genserver_from *from, cotp_gs_ret *ret,
                  cotp_term *reason);

/* Whether a callback of this kind may return ret. */
bool cotp__gs_valid(enum gs_kind kind, cotp_gs_ret ret);
/* {:bad_return_value, v}: v mirrors Elixir's tuple, with :state standing
 * for the C state ({:reply, 1, :state}), or the kind as an integer. */
cotp_term cotp__gs_bad_return(cotp_gs_ret ret);

/* Goes on after a callback returned ret (genserver_loop.c): sends the
 * reply, runs continues, arms a timeout, or stops.  Returns only when the
 * server goes on waiting. */
void cotp__gs_after(struct cotp__gs *s, enum gs_kind kind, cotp_term msg,
                    const cotp_genserver_from *from, cotp_gs_ret ret);

/* Stops the server with reason: terminate, report, exit.  last is the
 * message being handled (NONE: none), from its caller if a call. */
__attribute__((noreturn)) void cotp__gs_stop(struct cotp__gs *s,
                                             cotp_term reason, cotp_term last,
                                             const cotp_genserver_from *from,
                                             cotp_term reply);

/* Exits the server with reason, copied into its own heap first. */
__attribute__((noreturn)) void cotp__gs_exit(cotp_term reason);

/* Handles a system message (genserver_sys.c). */
void cotp__gs_system(struct cotp__gs *s, cotp_genserver_from from,
                     cotp_term request);

/* --- reports (genserver_report.c) --- */

/* The module atom of a server's callbacks. */
cotp_term cotp__gs_module(const cotp_genserver_callbacks *cb);
/* {:undef, [{Module, fun, arity, []}]}: a callback that is not there. */
cotp_term cotp__gs_undef(const cotp_genserver_callbacks *cb,
                         enum cotp__gs_atom fun, int arity);
/* The server's name for reports, or COTP_NONE when anonymous. */
cotp_term cotp__gs_name_term(const struct cotp__gs *s);
/* Whether reason deserves an error report (not normal, shutdown,
 * {:shutdown, _}). */
bool cotp__gs_abnormal(cotp_term reason);
/* Logs the "GenServer ... terminating" error report. */
void cotp__gs_report(struct cotp__gs *s, cotp_term reason, cotp_term last,
                     const cotp_genserver_from *from);
/* Writes the state for a report or a trace into buf (format_status, or the
 * pointer). */
void cotp__gs_state_text(struct cotp__gs *s, char *buf, size_t cap);
/* Logs a trace line "*DBG* <server> <text>". */
void cotp__gs_trace(struct cotp__gs *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A printed term, for trace lines: up to cap bytes, "..." when cut. */
const char *cotp__gs_print(char *buf, size_t cap, cotp_term t);

/* --- the client side (genserver_call.c) --- */

/* Replies from inside the server: built in the server's heap, which the
 * runtime releases after the message, so no mark of its own. */
void cotp__gs_reply_here(const cotp_genserver_from *from, cotp_term reply);

/* The server as a term, for exit reasons: pid, name, {:via, mod, name},
 * or nil. */
cotp_term cotp__gs_server_term(cotp_heap *h, cotp_server server);
/* The timeout as a term: an integer or :infinity. */
cotp_term cotp__gs_timeout_term(cotp_heap *h, int64_t timeout_ms);
/* A call labelled label (:"$gen_call" or :system): the result codes of
 * cotp_genserver_call_result. */
int cotp__gs_call(cotp_server server, cotp_term label, cotp_term request,
                  int64_t timeout_ms, cotp_term *out);
/* Exits the caller with {reason, {mod, fun, args}}. */
__attribute__((noreturn)) void cotp__gs_exit_wrapped(cotp_term reason,
                                                     cotp_term mod,
                                                     const char *fun,
                                                     cotp_term args);

/* A heap to build a short-lived term in: the caller's own heap above a
 * mark inside a process, a fresh heap on any other thread. */
struct cotp__gs_scratch {
  cotp_heap *h;
  cotp_heap_mark mark;
  bool own;
};
static inline bool cotp__gs_scratch_open(struct cotp__gs_scratch *s) {
  s->h = cotp_self_heap();
  s->own = s->h == NULL;
  if (s->own)
    s->h = cotp_heap_new();
  else
    s->mark = cotp_heap_mark_now(s->h);
  return s->h != NULL;
}
static inline void cotp__gs_scratch_close(struct cotp__gs_scratch *s) {
  if (s->own)
    cotp_heap_free(s->h);
  else
    cotp_heap_release(s->h, s->mark);
}

/* A C pointer carried in a message, local to this node. */
static inline cotp_term cotp__gs_ptr_term(cotp_heap *h, const void *p) {
  return cotp_int(h, (int64_t)(intptr_t)p);
}
static inline void *cotp__gs_term_ptr(cotp_term t) {
  int64_t v = 0;
  cotp_get_int(t, &v);
  return (void *)(intptr_t)v;
}

#endif
