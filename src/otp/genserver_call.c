/* SPDX-License-Identifier: Apache-2.0 */
/*
 * genserver_call.c: the client's side: call, cast, reply, stop, whereis.
 *
 * A call is OTP 24's: mark the mailbox, monitor the server with the
 * monitor reference doubling as an alias that the first reply
 * deactivates (COTP_ALIAS_REPLY_DEMONITOR), send
 * {:"$gen_call", {self, [:alias | ref]}, request}, and wait for
 * {[:alias | ref], reply} or the DOWN, looking only at what arrived after
 * the mark.  The reply ends the monitor by itself, so a successful call
 * costs one monitor and two messages, and no demonitor round.  A reply
 * that comes after a timeout finds the alias gone and is dropped before it
 * reaches the mailbox.
 *
 * Why an alias rather than a plain monitor plus a reply to the pid (OTP
 * 23's protocol): a plain monitor needs a demonitor with flush after every
 * reply, which scans the mailbox, and a late reply would stay queued
 * forever.
 */
#include "genserver_impl.h"

/* --- terms for exit reasons --- */

cotp_term cotp__gs_server_term(cotp_heap *h, cotp_server server) {
  switch (server.name.kind) {
  case COTP_NAME_LOCAL:
    return server.name.term;
  case COTP_NAME_VIA: {
    const char *mod = server.name.via && server.name.via->name
                          ? server.name.via->name
                          : "undefined";
    return COTP_TUPLE(h, COTP_ATOM_VIA, cotp_atom(mod), server.name.term);
  }
  default:
    return server.pid.bits ? cotp_pid_term(server.pid) : COTP_ATOM_NIL;
  }
}

cotp_term cotp__gs_timeout_term(cotp_heap *h, int64_t timeout_ms) {
  return timeout_ms == COTP_INFINITY ? COTP_ATOM_INFINITY
                                     : cotp_int(h, timeout_ms);
}

void cotp__gs_exit_wrapped(cotp_term reason, cotp_term mod, const char *fun,
                           cotp_term args) {
  cotp_heap *h = cotp_self_heap();
  cotp_exit(COTP_TUPLE(h, reason, COTP_TUPLE(h, mod, cotp_atom(fun), args)));
}

/* --- naming --- */

int cotp_genserver_whereis(cotp_server server, cotp_pid *pid) {
  if (!pid)
    return COTP_EINVAL;
  if (server.name.kind == COTP_NAME_NONE) {
    if (!server.pid.bits)
      return COTP_ENOTFOUND;
    *pid = server.pid;
    return 0;
  }
  return cotp_name_whereis(&server.name, pid);
}

/* --- from --- */

static cotp_term tag_term(cotp_heap *h, cotp_genserver_from from) {
  return from.alias ? cotp_cons(h, COTP_ATOM_ALIAS, from.ref) : from.ref;
}

cotp_term cotp_genserver_from_term(cotp_heap *h, cotp_genserver_from from) {
  return COTP_TUPLE(h, cotp_pid_term(from.pid), tag_term(h, from));
}

int cotp_genserver_from_get(cotp_term t, cotp_genserver_from *from) {
  if (!from)
    return COTP_EINVAL;
  if (cotp_tuple_size(t) != 2 || !cotp_is_pid(cotp_tuple_get(t, 0)))
    return COTP_EBADTYPE;
  cotp_term tag = cotp_tuple_get(t, 1);
  if (cotp_is_ref(tag)) {
    *from = (cotp_genserver_from){cotp_get_pid(cotp_tuple_get(t, 0)), tag,
                                  false};
    return 0;
  }
  if (cotp_is_cons(tag) && cotp_head(tag).w == COTP_ATOM_ALIAS.w &&
      cotp_is_ref(cotp_tail(tag))) {
    *from = (cotp_genserver_from){cotp_get_pid(cotp_tuple_get(t, 0)),
                                  cotp_tail(tag), true};
    return 0;
  }
  return COTP_EBADTYPE;
}

/* Sends {tag, reply}: through the alias when the tag names one. */
static int send_reply(cotp_pid pid, cotp_term tag, cotp_term alias,
                      cotp_term reply) {
  struct cotp__gs_scratch sc;
  if (!cotp__gs_scratch_open(&sc))
    return COTP_ENOMEM;
  cotp_term msg = COTP_TUPLE(sc.h, tag, reply);
  int rc = cotp_is_none(msg)     ? COTP_ENOMEM
           : !cotp_is_none(alias) ? cotp_send_alias(alias, msg)
           : pid.bits             ? cotp_send(pid, msg)
                                  : 0; /* no pid: dropped (see cast) */
  cotp__gs_scratch_close(&sc);
  return rc;
}

int cotp_genserver_reply(cotp_genserver_from from, cotp_term reply) {
  if (cotp_is_none(reply) || !cotp_is_ref(from.ref))
    return COTP_EINVAL;
  if (from.alias && cotp_turn_answer(from.ref, reply))
    return 0; /* the caller runs our turn and waits: handed over */
  if (!from.alias)
    return send_reply(from.pid, from.ref, COTP_NONE, reply);
  struct cotp__gs_scratch sc;
  if (!cotp__gs_scratch_open(&sc))
    return COTP_ENOMEM;
  cotp_term msg = COTP_TUPLE(sc.h, cotp_cons(sc.h, COTP_ATOM_ALIAS, from.ref),
                             reply);
  int rc = cotp_is_none(msg) ? COTP_ENOMEM : cotp_send_alias(from.ref, msg);
  cotp__gs_scratch_close(&sc);
  return rc;
}

void cotp__gs_reply_here(const cotp_genserver_from *from, cotp_term reply) {
  cotp_heap *h = cotp_self_heap();
  if (from->alias && cotp_turn_answer(from->ref, reply))
    return; /* the caller runs our turn and waits: handed over */
  if (from->alias)
    cotp_send_alias(from->ref, COTP_TUPLE(h, cotp_cons(h, COTP_ATOM_ALIAS, from->ref),
                                          reply));
  else if (from->pid.bits)
    cotp_send(from->pid, COTP_TUPLE(h, from->ref, reply));
}

int cotp_genserver_reply_term(cotp_term from, cotp_term reply) {
  if (cotp_is_none(reply) || cotp_is_none(from))
    return COTP_EINVAL;
  if (cotp_tuple_size(from) != 2)
    return COTP_EBADTYPE;
  cotp_term pid = cotp_tuple_get(from, 0), tag = cotp_tuple_get(from, 1);
  /* [:alias | ref], [[:alias | ref] | payload], or a plain tag to the pid */
  cotp_term alias = cotp_is_cons(tag) ? cotp_head(tag) : COTP_NONE;
  if (cotp_is_cons(alias))
    alias = cotp_head(alias).w == COTP_ATOM_ALIAS.w ? cotp_tail(alias)
                                                    : COTP_NONE;
  else if (alias.w == COTP_ATOM_ALIAS.w)
    alias = cotp_tail(tag);
  else
    alias = COTP_NONE;
  if (!cotp_is_none(alias) && !cotp_is_ref(alias))
    return COTP_EBADTYPE;
  if (cotp_is_none(alias) && !cotp_is_pid(pid))
    return COTP_EBADTYPE;
  if (!cotp_is_none(alias) && cotp_turn_answer(alias, reply))
    return 0; /* the caller runs our turn and waits: handed over */
  return send_reply(cotp_get_pid(pid), tag, alias, reply);
}

/* --- call --- */

struct wait {
  cotp_term ref;
  bool down; /* accept the DOWN too */
};

/* {[:alias | ref], reply}, or {:DOWN, ref, :process, pid, reason} */
static bool is_response(cotp_term msg, void *ctx) {
  const struct wait *w = ctx;
  size_t n = cotp_tuple_size(msg);
  if (n == 2) {
    cotp_term tag = cotp_tuple_get(msg, 0);
    return cotp_is_cons(tag) && cotp_tail(tag).w == w->ref.w &&
           cotp_head(tag).w == COTP_ATOM_ALIAS.w;
  }
  return w->down && n == 5 && cotp_tuple_get(msg, 1).w == w->ref.w &&
         cotp_tuple_get(msg, 0).w == COTP_ATOM_DOWN.w;
}

static bool bad_timeout(int64_t ms) { return ms < 0 && ms != COTP_INFINITY; }

/* The request of a call, run as the server's direct turn (cotp/process.h):
 * handled as the call message would be, the server answering through
 * cotp_turn_answer (cotp__gs_reply_here). */
struct direct {
  cotp_term request; /* in the caller's heap */
  cotp_genserver_from from;
};

static void direct_call(void *state, void *arg) {
  struct cotp__gs *s = state;
  const struct direct *d = arg;
  cotp_heap *h = cotp_self_heap();
  if (!(s->flags & GS_STARTED)) {
    /* not reachable (init is the first message, and the server is idle
     * only after it), but a request is never lost: queue it as sent */
    cotp_term msg = COTP_TUPLE(h, cotp__gs_atom(GA_GEN_CALL),
                               cotp_genserver_from_term(h, d->from), d->request);
    if (cotp_is_none(msg) || cotp_send(cotp_self(), msg) != 0)
      cotp__gs_stop(s, cotp_atom("enomem"), COTP_NONE, NULL, COTP_NONE);
    return;
  }
  /* The server's own copy, as a message would give it: the caller's may
   * go once its call has timed out, and this turn may outlast that. */
  cotp_term request = cotp_term_copy(h, d->request);
  if (cotp_is_none(request))
    cotp__gs_stop(s, cotp_atom("enomem"), COTP_NONE, NULL, COTP_NONE);
  cotp__gs_handle_call(s, request, &d->from);
}

/* Sends the request of a call whose monitor/alias is ref. */
static int send_request(cotp_pid pid, cotp_term label, cotp_term request,
                        cotp_term ref) {
  cotp_heap *h = cotp_self_heap();
  int rc;
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  cotp_term from = COTP_TUPLE(h, cotp_pid_term(cotp_self()),
                              cotp_cons(h, COTP_ATOM_ALIAS, ref));
  cotp_term msg = COTP_TUPLE(h, label, from, request);
  rc = cotp_is_none(msg) ? COTP_ENOMEM : cotp_send(pid, msg);
  cotp_heap_release(h, mark);
  if (rc)
    cotp_demonitor(ref, COTP_DEMONITOR_FLUSH);
  return rc;
}

/* What a response message means: 0 with the reply, or the DOWN. */
static int response(cotp_term msg, cotp_term *out) {
  if (cotp_tuple_size(msg) == 2) {
    *out = cotp_tuple_get(msg, 1);
    return 0;
  }
  *out = cotp_tuple_get(msg, 4);
  return out->w == COTP_ATOM_NOPROC.w ? COTP_ENOPROC : COTP_GENSERVER_DOWN;
}

/* How many times a call lets a busy server run before it queues its
 * request (a queued request keeps the server busy for every caller, and
 * the next ones queue too: 100 callers of one server on two schedulers
 * went from turns to messages for good, at four times the cost). */
#define TURN_TRIES 2

int cotp__gs_call(cotp_server server, cotp_term label, cotp_term request,
                  int64_t timeout_ms, cotp_term *out) {
  if (!cotp_self_heap())
    return COTP_ENOTPROC;
  if (!out)
    return COTP_EINVAL;
  if (cotp_is_none(request) || bad_timeout(timeout_ms)) {
    *out = COTP_ATOM_BADARG;
    return COTP_EINVAL;
  }
  cotp_pid pid;
  int rc = cotp_genserver_whereis(server, &pid);
  if (rc == COTP_ENOTFOUND) {
    *out = COTP_ATOM_NOPROC;
    return COTP_ENOPROC;
  }
  if (rc) {
    *out = COTP_ATOM_BADARG;
    return rc;
  }
  if (cotp_pid_eq(pid, cotp_self())) { /* H9, after the name is resolved */
    *out = cotp__gs_atom(GA_CALLING_SELF);
    return COTP_EINVAL;
  }
  cotp_receive_mark();
  struct wait w = {COTP_NONE, true};
  int turn = COTP_TURN_NOT_RUN;
  if (label.w == cotp__gs_atom(GA_GEN_CALL).w) {
    /* An idle server: run its turn here, with no messages, and the
     * monitor made only if the turn gives no answer (process.h). */
    w.ref = cotp_make_ref();
    struct direct d = {request, {cotp_self(), w.ref, true}};
    for (int tries = 0;;) {
      turn = cotp_handler_turn(pid, cotp__gs_handle, w.ref,
                               COTP_TURN_MONITOR_ALIAS, direct_call, &d,
                               sizeof d, out);
      /* held: for a moment, and not counted (a queued request would
       * undo what the hold is for) */
      if (turn != COTP_TURN_HELD &&
          (turn != COTP_TURN_BUSY || tries++ == TURN_TRIES))
        break;
      cotp_yield(); /* let a busy server finish rather than queue behind */
    }
    if (turn == COTP_TURN_ANSWERED)
      return 0;
  }
  if (turn == COTP_TURN_UNANSWERED)
    rc = 0; /* monitored: the answer comes as a message */
  else if (turn < 0)
    rc = turn; /* out of memory */
  else if ((rc = cotp_monitor_alias(pid, COTP_ALIAS_REPLY_DEMONITOR, &w.ref)) == 0)
    rc = send_request(pid, label, request, w.ref);
  if (rc) {
    *out = COTP_ATOM_BADARG;
    return rc;
  }
  cotp_term msg;
  rc = cotp_receive_if(is_response, &w, timeout_ms, COTP_RECV_AFTER_MARK, &msg);
  if (rc == 0)
    return response(msg, out);
  /* gave up: end the monitor and the alias, then take a reply that raced
   * in before they went */
  cotp_demonitor(w.ref, COTP_DEMONITOR_FLUSH);
  w.down = false;
  if (cotp_receive_if(is_response, &w, 0, COTP_RECV_AFTER_MARK, &msg) == 0)
    return response(msg, out);
  *out = COTP_ATOM_TIMEOUT;
  return COTP_ETIMEDOUT;
}

int cotp_genserver_call_result(cotp_server server, cotp_term request,
                               int64_t timeout_ms, cotp_term *out) {
  return cotp__gs_call(server, cotp__gs_atom(GA_GEN_CALL), request, timeout_ms,
                       out);
}

cotp_term cotp_genserver_call(cotp_server server, cotp_term request,
                              int64_t timeout_ms) {
  cotp_term out;
  int rc = cotp__gs_call(server, cotp__gs_atom(GA_GEN_CALL), request,
                         timeout_ms, &out);
  if (rc == 0 || rc == COTP_ENOTPROC)
    return rc == 0 ? out : COTP_NONE;
  if (rc == COTP_ENOMEM)
    out = cotp_atom("enomem");
  cotp_heap *h = cotp_self_heap();
  cotp_term args = COTP_LIST(h, cotp__gs_server_term(h, server),
                             cotp_is_none(request) ? COTP_ATOM_UNDEFINED : request,
                             bad_timeout(timeout_ms)
                                 ? cotp_int(h, timeout_ms)
                                 : cotp__gs_timeout_term(h, timeout_ms));
  cotp__gs_exit_wrapped(out, cotp__gs_atom(GA_GENSERVER), "call", args);
}

/* --- cast --- */

int cotp_genserver_cast(cotp_server server, cotp_term request) {
  if (cotp_is_none(request))
    return COTP_EINVAL;
  struct cotp__gs_scratch sc;
  if (!cotp__gs_scratch_open(&sc))
    return COTP_ENOMEM;
  cotp_term msg = COTP_TUPLE(sc.h, cotp__gs_atom(GA_GEN_CAST), request);
  int rc;
  if (cotp_is_none(msg))
    rc = COTP_ENOMEM;
  else if (server.name.kind == COTP_NAME_NONE)
    /* nil or dead: dropped (H22).  Not sent to pid bits 0 at all: the
     * runtime would queue it on the unused control block 0 and leak it */
    rc = server.pid.bits ? cotp_send(server.pid, msg) : 0;
  else
    rc = cotp_name_send(&server.name, msg);
  cotp__gs_scratch_close(&sc);
  return rc == COTP_ENOPROC || rc == COTP_ENOTFOUND ? 0 : rc; /* H22 */
}

/* --- stop --- */

static bool is_down(cotp_term msg, void *ctx) {
  const struct wait *w = ctx;
  return cotp_tuple_size(msg) == 5 && cotp_tuple_get(msg, 1).w == w->ref.w &&
         cotp_tuple_get(msg, 0).w == COTP_ATOM_DOWN.w;
}

int cotp_genserver_stop(cotp_server server, cotp_term reason,
                        int64_t timeout_ms) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  if (cotp_is_none(reason) || bad_timeout(timeout_ms))
    return COTP_EINVAL;
  cotp_term why = COTP_NONE;
  cotp_pid pid;
  struct wait w = {COTP_NONE, true};
  int rc = cotp_genserver_whereis(server, &pid);
  if (rc == COTP_ENOTFOUND)
    why = COTP_ATOM_NOPROC;
  else if (rc)
    return rc;
  else if (cotp_pid_eq(pid, cotp_self()))
    why = cotp__gs_atom(GA_CALLING_SELF); /* H8 */
  if (cotp_is_none(why)) {
    cotp_receive_mark();
    rc = cotp_monitor(pid, &w.ref);
    if (rc)
      return rc;
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    cotp_term from = COTP_TUPLE(h, cotp_pid_term(cotp_self()), w.ref);
    cotp_term msg =
        COTP_TUPLE(h, cotp__gs_atom(GA_SYSTEM), from,
                   COTP_TUPLE(h, cotp__gs_atom(GA_TERMINATE), reason));
    rc = cotp_is_none(msg) ? COTP_ENOMEM : cotp_send(pid, msg);
    cotp_heap_release(h, mark);
    if (rc) {
      cotp_demonitor(w.ref, COTP_DEMONITOR_FLUSH);
      return rc;
    }
    cotp_term down;
    if (cotp_receive_if(is_down, &w, timeout_ms, COTP_RECV_AFTER_MARK,
                        &down) == 0) {
      why = cotp_tuple_get(down, 4);
      if (cotp_term_eq(why, reason))
        return 0;
    } else {
      cotp_demonitor(w.ref, COTP_DEMONITOR_FLUSH);
      why = COTP_ATOM_TIMEOUT;
    }
  }
  cotp_term args = COTP_LIST(h, cotp__gs_server_term(h, server), reason,
                             cotp__gs_timeout_term(h, timeout_ms));
  cotp__gs_exit_wrapped(why, cotp__gs_atom(GA_GENSERVER), "stop", args);
}
