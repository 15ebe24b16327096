/* SPDX-License-Identifier: Apache-2.0 */
/*
 * genserver_loop.c: the server's side of every message after init.
 *
 * A server is a handler process: the runtime calls cotp__gs_handle() once
 * per message, on whatever run stack is free, and between messages the
 * server holds no stack.  Each call classifies the message (call, cast,
 * system message, the parent's EXIT, the server's own timeout, anything
 * else), runs the callback under cotp_catch_exit(), and acts on what it
 * returned: reply, continue, arm a timeout, or stop.
 *
 * Invariants:
 *  1. handle_continue runs in the same handler call as the callback that
 *     asked for it, so no queued message, not even one the server sent
 *     itself in that callback, comes first (H20).
 *  2. A timeout is a send_after to self carrying a sequence number; the
 *     one armed is the one whose number is in the struct.  Any message
 *     but a system message disarms it (and cancels the timer), so a timer
 *     message that is stale, because it fired while another message was
 *     on its way or was replaced by a newer timeout, is recognised by its
 *     number and dropped (H15, H16).
 *  3. The server leaves only through cotp__gs_stop(), which runs
 *     terminate, the reply of a stop-with-reply, and the error report, in
 *     OTP's order, or through an exit signal it does not trap.
 */
#include <stdio.h>
#include <string.h>

#include "genserver_impl.h"

/* --- running a callback --- */

struct run {
  struct cotp__gs *s;
  enum gs_kind kind;
  cotp_term msg;
  const cotp_genserver_from *from;
  cotp_gs_ret ret;
};

static void run_callback(void *arg) {
  struct run *r = arg;
  const cotp_genserver_callbacks *cb = r->s->cb;
  void **state = &r->s->state;
  switch (r->kind) {
  case GK_INIT:
    r->ret = cb->init(r->msg, state);
    break;
  case GK_CALL:
    r->ret = cb->handle_call(r->msg, *r->from, state);
    break;
  case GK_CAST:
    r->ret = cb->handle_cast(r->msg, state);
    break;
  case GK_INFO:
    r->ret = cb->handle_info(r->msg, state);
    break;
  case GK_CONTINUE:
    r->ret = cb->handle_continue(r->msg, state);
    break;
  }
}

bool cotp__gs_run(struct cotp__gs *s, enum gs_kind kind, cotp_term msg,
                  const cotp_genserver_from *from, cotp_gs_ret *ret,
                  cotp_term *reason) {
  struct run r = {s, kind, msg, from, {0}};
  if (cotp_catch_exit(run_callback, &r, reason) != 0)
    return false;
  *ret = r.ret;
  return true;
}

/* --- what a callback may return --- */

bool cotp__gs_valid(enum gs_kind kind, cotp_gs_ret ret) {
  switch (ret.then) {
  case COTP_GS_THEN_NONE:
  case COTP_GS_THEN_HIBERNATE:
    break;
  case COTP_GS_THEN_TIMEOUT:
    if (ret.timeout_ms < 0 && ret.timeout_ms != COTP_INFINITY)
      return false;
    break;
  case COTP_GS_THEN_CONTINUE:
    if (cotp_is_none(ret.cont))
      return false;
    break;
  default:
    return false;
  }
  switch (ret.kind) {
  case COTP_GS_OK:
    return kind == GK_INIT;
  case COTP_GS_IGNORE:
    return kind == GK_INIT && ret.then == COTP_GS_THEN_NONE;
  case COTP_GS_REPLY:
    return kind == GK_CALL && !cotp_is_none(ret.reply);
  case COTP_GS_NOREPLY:
    return kind != GK_INIT;
  case COTP_GS_STOP:
    return !cotp_is_none(ret.reason) && ret.then == COTP_GS_THEN_NONE &&
           (kind == GK_CALL || cotp_is_none(ret.reply));
  default:
    return false;
  }
}

cotp_term cotp__gs_bad_return(cotp_gs_ret ret) {
  cotp_heap *h = cotp_self_heap();
  cotp_term state = COTP_ATOM(state);
  cotp_term v;
  switch (ret.kind) {
  case COTP_GS_OK:
    v = COTP_TUPLE(h, COTP_ATOM_OK, state);
    break;
  case COTP_GS_IGNORE:
    v = COTP_ATOM_IGNORE;
    break;
  case COTP_GS_REPLY:
    v = COTP_TUPLE(h, COTP_ATOM_REPLY,
                   cotp_is_none(ret.reply) ? COTP_ATOM_NIL : ret.reply, state);
    break;
  case COTP_GS_NOREPLY:
    v = COTP_TUPLE(h, COTP_ATOM_NOREPLY, state);
    break;
  case COTP_GS_STOP: {
    cotp_term why = cotp_is_none(ret.reason) ? COTP_ATOM_NIL : ret.reason;
    v = cotp_is_none(ret.reply)
            ? COTP_TUPLE(h, COTP_ATOM_STOP, why, state)
            : COTP_TUPLE(h, COTP_ATOM_STOP, why, ret.reply, state);
    break;
  }
  default:
    return COTP_TUPLE(h, cotp__gs_atom(GA_BAD_RETURN), cotp_int(h, ret.kind));
  }
  cotp_term then = COTP_NONE;
  switch (ret.then) {
  case COTP_GS_THEN_NONE:
    break;
  case COTP_GS_THEN_TIMEOUT:
    then = cotp__gs_timeout_term(h, ret.timeout_ms);
    break;
  case COTP_GS_THEN_HIBERNATE:
    then = COTP_ATOM_HIBERNATE;
    break;
  case COTP_GS_THEN_CONTINUE:
    then = COTP_TUPLE(h, COTP_ATOM_CONTINUE,
                      cotp_is_none(ret.cont) ? COTP_ATOM_NIL : ret.cont);
    break;
  default:
    then = cotp_int(h, ret.then);
    break;
  }
  if (!cotp_is_none(then) && cotp_is_tuple(v)) {
    size_t n = cotp_tuple_size(v);
    cotp_term elems[6];
    for (size_t i = 0; i < n; i++)
      elems[i] = cotp_tuple_get(v, i);
    elems[n] = then;
    v = cotp_tuple(h, n + 1, elems);
  }
  return COTP_TUPLE(h, cotp__gs_atom(GA_BAD_RETURN), v);
}

/* --- stopping --- */

struct terminate_args {
  struct cotp__gs *s;
  cotp_term reason;
};

static void run_terminate(void *arg) {
  struct terminate_args *t = arg;
  t->s->cb->terminate(t->reason, t->s->state);
}

void cotp__gs_stop(struct cotp__gs *s, cotp_term reason, cotp_term last,
                   const cotp_genserver_from *from, cotp_term reply) {
  if (s->flags & GS_TIMER) {
    cotp_cancel_timer(s->ref, NULL);
    s->flags &= ~(uint32_t)GS_TIMER;
  }
  if (s->cb->terminate) {
    struct terminate_args t = {s, reason};
    cotp_term replaced;
    if (cotp_catch_exit(run_terminate, &t, &replaced) != 0)
      reason = replaced; /* H29 */
  }
  if (from && !cotp_is_none(reply))
    cotp__gs_reply_here(from, reply);
  if (cotp__gs_abnormal(reason))
    cotp__gs_report(s, reason, last, from);
  cotp__gs_exit(reason);
}

void cotp__gs_exit(cotp_term reason) {
  if (reason.w == COTP_ATOM_NORMAL.w)
    cotp_exit_normal();
  /* The reason may live in storage of the state's (a callback exited with
   * a term it kept), which free_state releases: the runtime runs cleanups
   * before links and monitors fire with the reason, and cotp_exit does not
   * copy it.  The process's own heap lives until after they have fired. */
  cotp_term own = cotp_term_copy(cotp_self_heap(), reason);
  cotp_exit(cotp_is_none(own) ? cotp_atom("enomem") : own);
}

/* --- after a callback --- */

static void arm(struct cotp__gs *s, int64_t ms) {
  if (ms == COTP_INFINITY)
    return;
  cotp_heap *h = cotp_self_heap();
  s->seq++;
  cotp_term msg = COTP_TUPLE(h, cotp__gs_atom(GA_GEN_TIMEOUT),
                             cotp_int(h, (int64_t)s->seq));
  if (cotp_send_after(ms, cotp_self(), msg, &s->ref) != 0)
    cotp__gs_stop(s, cotp_atom("enomem"), COTP_NONE, NULL, COTP_NONE);
  s->flags |= GS_TIMER;
}

static void trace_result(struct cotp__gs *s, enum gs_kind kind,
                         const cotp_genserver_from *from, cotp_gs_ret ret) {
  char state[256], reply[256];
  cotp__gs_state_text(s, state, sizeof state);
  if (ret.kind == COTP_GS_REPLY && from) {
    char to[64];
    cotp__gs_trace(s, "sent %s to %s, new state %s",
                   cotp__gs_print(reply, sizeof reply, ret.reply),
                   cotp__gs_print(to, sizeof to, cotp_pid_term(from->pid)),
                   state);
  } else if (kind != GK_INIT) {
    cotp__gs_trace(s, "new state %s", state);
  }
}

void cotp__gs_after(struct cotp__gs *s, enum gs_kind kind, cotp_term last,
                    const cotp_genserver_from *from, cotp_gs_ret ret) {
  for (;;) {
    if (!cotp__gs_valid(kind, ret))
      cotp__gs_stop(s, cotp__gs_bad_return(ret), last, from, COTP_NONE);
    if (ret.kind == COTP_GS_STOP)
      cotp__gs_stop(s, ret.reason, last, from, ret.reply);
    /* traced before the reply goes, so that the line comes before
     * anything the caller does with the reply (OTP logs it after) */
    if (s->flags & GS_TRACE)
      trace_result(s, kind, from, ret);
    if (ret.kind == COTP_GS_REPLY)
      cotp__gs_reply_here(from, ret.reply);
    if (ret.then == COTP_GS_THEN_TIMEOUT)
      arm(s, ret.timeout_ms);
    if (ret.then != COTP_GS_THEN_CONTINUE)
      return; /* :hibernate: a handler holds no stack between messages
                 anyway, which is all hibernation gives a C process */
    /* invariant 1: the continue runs now */
    cotp_heap *h = cotp_self_heap();
    kind = GK_CONTINUE;
    from = NULL;
    last = COTP_TUPLE(h, COTP_ATOM_CONTINUE, ret.cont);
    if (!s->cb->handle_continue)
      cotp__gs_stop(s, cotp__gs_undef(s->cb, GA_HANDLE_CONTINUE, 2), last,
                    NULL, COTP_NONE);
    cotp_term reason;
    if (!cotp__gs_run(s, GK_CONTINUE, ret.cont, NULL, &ret, &reason))
      cotp__gs_stop(s, reason, last, NULL, COTP_NONE);
  }
}

/* --- the defaults of `use GenServer` --- */

static cotp_term no_clause(struct cotp__gs *s, const char *what,
                           const char *callback) {
  char who[160], text[320];
  cotp_term name = cotp__gs_name_term(s);
  cotp__gs_print(who, sizeof who,
                 cotp_is_none(name) ? cotp_pid_term(cotp_self()) : name);
  snprintf(text, sizeof text,
           "attempted to %s GenServer %s but no %s clause was provided", what,
           who, callback);
  cotp_heap *h = cotp_self_heap();
  return COTP_TUPLE(h, cotp__gs_atom(GA_RUNTIME_ERROR), cotp_string(h, text));
}

static void unexpected_info(struct cotp__gs *s, cotp_term msg) {
  if (!cotp_log_enabled(COTP_LOG_ERROR))
    return;
  char who[160], text[1024];
  cotp_term name = cotp__gs_name_term(s);
  const char *module = cotp_atom_name(cotp__gs_module(s->cb), NULL);
  if (!strncmp(module, "Elixir.", 7))
    module += 7;
  cotp_log(COTP_LOG_ERROR,
           "%s %s received unexpected message in handle_info/2: %s", module,
           cotp__gs_print(who, sizeof who,
                          cotp_is_none(name) ? cotp_pid_term(cotp_self()) : name),
           cotp__gs_print(text, sizeof text, msg));
}

/* --- one message --- */

static void dispatch(struct cotp__gs *s, enum gs_kind kind, cotp_term msg,
                     cotp_term last, const cotp_genserver_from *from) {
  if (s->flags & GS_TRACE) {
    char text[256], who[64];
    cotp__gs_print(text, sizeof text, msg);
    if (kind == GK_CALL)
      cotp__gs_trace(s, "got call %s from %s", text,
                     cotp__gs_print(who, sizeof who, cotp_pid_term(from->pid)));
    else if (kind == GK_CAST)
      cotp__gs_trace(s, "got cast %s", text);
    else
      cotp__gs_trace(s, "got %s", text);
  }
  const cotp_genserver_callbacks *cb = s->cb;
  if (kind == GK_CALL && !cb->handle_call)
    cotp__gs_stop(s, no_clause(s, "call", "handle_call/3"), last, from,
                  COTP_NONE);
  if (kind == GK_CAST && !cb->handle_cast)
    cotp__gs_stop(s, no_clause(s, "cast", "handle_cast/2"), last, NULL,
                  COTP_NONE);
  if (kind == GK_INFO && !cb->handle_info) {
    unexpected_info(s, msg);
    return;
  }
  cotp_gs_ret ret;
  cotp_term reason;
  if (!cotp__gs_run(s, kind, msg, from, &ret, &reason))
    cotp__gs_stop(s, reason, last, from, COTP_NONE);
  cotp__gs_after(s, kind, last, from, ret);
}

void cotp__gs_handle_call(struct cotp__gs *s, cotp_term request,
                          const cotp_genserver_from *from) {
  if (s->flags & GS_TIMER) { /* invariant 2, as for a call message */
    cotp_cancel_timer(s->ref, NULL);
    s->flags &= ~(uint32_t)GS_TIMER;
  }
  dispatch(s, GK_CALL, request, request, from);
}

bool cotp__gs_handle(void *arg, cotp_term msg) {
  struct cotp__gs *s = arg;
  if (!(s->flags & GS_STARTED))
    return cotp__gs_init(s, msg);
  size_t n = cotp_tuple_size(msg);
  cotp_term tag = n ? cotp_tuple_get(msg, 0) : COTP_NONE;
  cotp_genserver_from from;
  if (n == 2 && tag.w == cotp__gs_atom(GA_GEN_TIMEOUT).w) {
    int64_t seq = -1;
    cotp_get_int(cotp_tuple_get(msg, 1), &seq);
    if (!(s->flags & GS_TIMER) || seq != (int64_t)s->seq)
      return true; /* invariant 2: a stale timeout */
    s->flags &= ~(uint32_t)GS_TIMER;
    dispatch(s, GK_INFO, COTP_ATOM_TIMEOUT, COTP_ATOM_TIMEOUT, NULL);
    return true;
  }
  if (n == 3 && tag.w == cotp__gs_atom(GA_SYSTEM).w &&
      cotp_genserver_from_get(cotp_tuple_get(msg, 1), &from) == 0) {
    cotp__gs_system(s, from, cotp_tuple_get(msg, 2)); /* the timeout stays */
    return true;
  }
  if (s->flags & GS_TIMER) {
    cotp_cancel_timer(s->ref, NULL);
    s->flags &= ~(uint32_t)GS_TIMER;
  }
  if (n == 3 && tag.w == cotp__gs_atom(GA_GEN_CALL).w &&
      cotp_genserver_from_get(cotp_tuple_get(msg, 1), &from) == 0) {
    cotp_term request = cotp_tuple_get(msg, 2);
    dispatch(s, GK_CALL, request, request, &from);
  } else if (n == 2 && tag.w == cotp__gs_atom(GA_GEN_CAST).w) {
    dispatch(s, GK_CAST, cotp_tuple_get(msg, 1), msg, NULL);
  } else if (n == 3 && tag.w == COTP_ATOM_EXIT.w && (s->flags & GS_LINKED) &&
             cotp_pid_eq(cotp_get_pid(cotp_tuple_get(msg, 1)), s->parent)) {
    /* H24, H26: the parent's exit, trapped: terminate, whatever the reason */
    cotp__gs_stop(s, cotp_tuple_get(msg, 2), msg, NULL, COTP_NONE);
  } else {
    dispatch(s, GK_INFO, msg, msg, NULL);
  }
  return true;
}
