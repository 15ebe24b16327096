/* SPDX-License-Identifier: Apache-2.0 */
/*
 * genserver_sys.c: system messages, the part of Erlang's sys module a
 * GenServer answers: get_state, replace_state, trace, terminate.
 *
 * A system message is a call labelled :system instead of :"$gen_call",
 * {:system, from, request}, with OTP's request shapes where a C value can
 * take them: :get_state, {:debug, {:trace, bool}}, {:terminate, reason}.
 * replace_state carries a C function and is local to this node:
 * {:replace_state, function address, arg}.  The state pointer comes back
 * as an integer.  A system message does not disarm a pending timeout
 * (H15), and is not traced, as in OTP.
 */
#include "genserver_impl.h"

/* --- the server's side --- */

struct replace_args {
  cotp_genserver_replace_fn *fn;
  void *state;
  cotp_term arg;
  void *out;
};

static void run_replace(void *p) {
  struct replace_args *a = p;
  a->out = a->fn(a->state, a->arg);
}

void cotp__gs_system(struct cotp__gs *s, cotp_genserver_from from,
                     cotp_term request) {
  cotp_heap *h = cotp_self_heap();
  cotp_term tag = cotp_tuple_get(request, 0);
  size_t n = cotp_tuple_size(request);
  cotp_term reply;
  if (request.w == cotp__gs_atom(GA_GET_STATE).w) {
    reply = COTP_TUPLE(h, COTP_ATOM_OK, cotp__gs_ptr_term(h, s->state));
  } else if (n == 3 && tag.w == cotp__gs_atom(GA_REPLACE_STATE).w) {
    struct replace_args a = {NULL, s->state, cotp_tuple_get(request, 2), NULL};
    int64_t fn = 0;
    cotp_get_int(cotp_tuple_get(request, 1), &fn);
    a.fn = (cotp_genserver_replace_fn *)(intptr_t)fn;
    cotp_term why;
    if (!a.fn) {
      reply = COTP_TUPLE(h, COTP_ATOM_ERROR, COTP_ATOM_BADARG);
    } else if (cotp_catch_exit(run_replace, &a, &why) != 0) {
      /* H34: the state stays as it was */
      reply = cotp_format(h, "{:error, {:callback_failed, ~t, {:exit, ~t}}}",
                          COTP_TUPLE(h, cotp__gs_atom(GA_GEN_SERVER),
                                     cotp__gs_atom(GA_SYSTEM_REPLACE)),
                          why);
    } else {
      s->state = a.out;
      reply = COTP_TUPLE(h, COTP_ATOM_OK, cotp__gs_ptr_term(h, s->state));
    }
  } else if (n == 2 && tag.w == cotp__gs_atom(GA_DEBUG).w &&
             cotp_tuple_size(cotp_tuple_get(request, 1)) == 2 &&
             cotp_tuple_get(cotp_tuple_get(request, 1), 0).w ==
                 cotp__gs_atom(GA_TRACE).w) {
    if (cotp_tuple_get(cotp_tuple_get(request, 1), 1).w == COTP_ATOM_TRUE.w)
      s->flags |= GS_TRACE;
    else
      s->flags &= ~(uint32_t)GS_TRACE;
    reply = COTP_ATOM_OK;
  } else if (n == 2 && tag.w == cotp__gs_atom(GA_TERMINATE).w) {
    /* GenServer.stop: Elixir reports the last message as [] */
    cotp__gs_stop(s, cotp_tuple_get(request, 1), COTP_NIL, NULL, COTP_NONE);
  } else {
    reply = COTP_TUPLE(h, COTP_ATOM_ERROR, cotp__gs_atom(GA_UNKNOWN_SYSTEM));
  }
  cotp_genserver_reply(from, reply);
}

/* --- the client's side --- */

/* A system call: 0 with the reply, or a code. */
static int system_call(cotp_server server, cotp_term request,
                       int64_t timeout_ms, cotp_term *reply) {
  int rc = cotp__gs_call(server, cotp__gs_atom(GA_SYSTEM), request, timeout_ms,
                         reply);
  if (rc == COTP_GENSERVER_DOWN)
    return COTP_ENOPROC; /* it died before answering */
  return rc;
}

int cotp_genserver_get_state(cotp_server server, int64_t timeout_ms,
                             void **state) {
  if (!state)
    return cotp_self_heap() ? COTP_EINVAL : COTP_ENOTPROC;
  cotp_term reply;
  int rc = system_call(server, cotp__gs_atom(GA_GET_STATE), timeout_ms, &reply);
  if (rc)
    return rc;
  if (cotp_tuple_get(reply, 0).w != COTP_ATOM_OK.w)
    return COTP_EINVAL;
  *state = cotp__gs_term_ptr(cotp_tuple_get(reply, 1));
  return 0;
}

int cotp_genserver_replace_state(cotp_server server,
                                 cotp_genserver_replace_fn *fn, cotp_term arg,
                                 int64_t timeout_ms, void **new_state,
                                 cotp_term *reason) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  if (!fn || cotp_is_none(arg))
    return COTP_EINVAL;
  cotp_term request = COTP_TUPLE(h, cotp__gs_atom(GA_REPLACE_STATE),
                                 cotp_int(h, (int64_t)(intptr_t)fn), arg);
  if (cotp_is_none(request))
    return COTP_ENOMEM;
  cotp_term reply;
  int rc = system_call(server, request, timeout_ms, &reply);
  if (rc)
    return rc;
  if (cotp_tuple_get(reply, 0).w != COTP_ATOM_OK.w) {
    if (reason)
      *reason = cotp_tuple_get(reply, 1);
    return COTP_GENSERVER_ERROR;
  }
  if (new_state)
    *new_state = cotp__gs_term_ptr(cotp_tuple_get(reply, 1));
  return 0;
}

int cotp_genserver_trace(cotp_server server, bool on, int64_t timeout_ms) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  cotp_term request =
      COTP_TUPLE(h, cotp__gs_atom(GA_DEBUG),
                 COTP_TUPLE(h, cotp__gs_atom(GA_TRACE), cotp_bool(on)));
  cotp_term reply;
  int rc = system_call(server, request, timeout_ms, &reply);
  return rc ? rc : reply.w == COTP_ATOM_OK.w ? 0 : COTP_EINVAL;
}
