/* SPDX-License-Identifier: Apache-2.0 */
/*
 * genserver_request.c: calls that do not wait (gen_server:send_request/2,
 * wait_response/2, receive_response/2, check_response/2; H31).
 *
 * A request is the first half of a call: the same alias monitor and the
 * same message, so the server cannot tell the two apart.  The response is
 * the reply or the DOWN, found by the request's reference.  Unlike a call,
 * the wait cannot use the receive mark (several requests may be
 * outstanding, and other calls move the mark), so it scans the mailbox
 * from its start, as OTP does for request collections.
 */
#include "genserver_impl.h"

static bool is_response_to(cotp_term msg, void *ctx) {
  cotp_term ref = *(const cotp_term *)ctx;
  size_t n = cotp_tuple_size(msg);
  if (n == 2) {
    cotp_term tag = cotp_tuple_get(msg, 0);
    return cotp_is_cons(tag) && cotp_tail(tag).w == ref.w &&
           cotp_head(tag).w == COTP_ATOM_ALIAS.w;
  }
  return n == 5 && cotp_tuple_get(msg, 1).w == ref.w &&
         cotp_tuple_get(msg, 0).w == COTP_ATOM_DOWN.w;
}

/* The meaning of a response: the reply, or {reason, server}. */
static int meaning(const cotp_genserver_request *req, cotp_term msg,
                   cotp_term *out) {
  if (cotp_tuple_size(msg) == 2) {
    *out = cotp_tuple_get(msg, 1);
    return 0;
  }
  cotp_heap *h = cotp_self_heap();
  *out = COTP_TUPLE(h, cotp_tuple_get(msg, 4),
                    req->pid.bits ? cotp_pid_term(req->pid) : COTP_ATOM_NIL);
  return COTP_GENSERVER_DOWN;
}

int cotp_genserver_send_request(cotp_server server, cotp_term request,
                                cotp_genserver_request *req) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  if (!req || cotp_is_none(request))
    return COTP_EINVAL;
  cotp_pid pid = {0}; /* an unknown name: the DOWN says noproc */
  int rc = cotp_genserver_whereis(server, &pid);
  if (rc && rc != COTP_ENOTFOUND)
    return rc;
  cotp_term ref;
  rc = cotp_monitor_alias(pid, COTP_ALIAS_REPLY_DEMONITOR, &ref);
  if (rc)
    return rc;
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  cotp_term msg = COTP_TUPLE(
      h, cotp__gs_atom(GA_GEN_CALL),
      COTP_TUPLE(h, cotp_pid_term(cotp_self()), cotp_cons(h, COTP_ATOM_ALIAS, ref)),
      request);
  rc = cotp_is_none(msg) ? COTP_ENOMEM : pid.bits ? cotp_send(pid, msg) : 0;
  cotp_heap_release(h, mark);
  if (rc) {
    cotp_demonitor(ref, COTP_DEMONITOR_FLUSH);
    return rc;
  }
  req->pid = pid;
  req->ref = ref;
  return 0;
}

static int wait(const cotp_genserver_request *req, int64_t timeout_ms,
                cotp_term *out, bool abandon) {
  if (!cotp_self_heap())
    return COTP_ENOTPROC;
  if (!req || !out || !cotp_is_ref(req->ref) ||
      (timeout_ms < 0 && timeout_ms != COTP_INFINITY))
    return COTP_EINVAL;
  cotp_term ref = req->ref, msg;
  int rc = cotp_receive_if(is_response_to, &ref, timeout_ms, 0, &msg);
  if (rc == 0)
    return meaning(req, msg, out);
  if (rc != COTP_ETIMEDOUT || !abandon)
    return rc;
  /* H32: a receive that times out abandons the request */
  cotp_demonitor(ref, COTP_DEMONITOR_FLUSH);
  if (cotp_receive_if(is_response_to, &ref, 0, 0, &msg) == 0)
    return meaning(req, msg, out);
  return COTP_ETIMEDOUT;
}

int cotp_genserver_wait_response(const cotp_genserver_request *req,
                                 int64_t timeout_ms, cotp_term *out) {
  return wait(req, timeout_ms, out, false);
}

int cotp_genserver_receive_response(const cotp_genserver_request *req,
                                    int64_t timeout_ms, cotp_term *out) {
  return wait(req, timeout_ms, out, true);
}

int cotp_genserver_check_response(cotp_term msg,
                                  const cotp_genserver_request *req,
                                  cotp_term *out) {
  if (!req || !out || cotp_is_none(msg))
    return COTP_EINVAL;
  cotp_term ref = req->ref;
  if (!is_response_to(msg, &ref))
    return COTP_ENOTFOUND;
  return meaning(req, msg, out);
}
