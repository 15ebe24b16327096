/* SPDX-License-Identifier: Apache-2.0 */
/*
 * task_shutdown.c: shutting a task down, and the enforcer that makes the
 * unlink-then-exit step safe.
 *
 * To stop a linked task without dying of its exit, the caller unlinks it
 * and then sends it an exit signal.  A caller killed between the two
 * leaves the task unlinked and alive, an orphan nothing will stop (F39).
 * So, as Elixir does, a helper process (the enforcer) is started first:
 * it monitors the caller and, if the caller dies before saying it is
 * done, sends the exit signals itself.  The enforcer gets its orders as
 * its spawn arguments, copied before it runs, so it needs no message from
 * a caller that might not live to send one.
 *
 * What shutdown returns depends on why the task died, which depends on
 * the mode (F34): in timeout mode a DOWN with :shutdown is our own doing
 * (nil), a :killed one is not ({:exit, :killed}) unless we killed it after
 * the timeout; with BRUTAL_KILL it is the other way round.  A reply that
 * came in the meantime wins over any DOWN (F32).  The task's own monitor
 * may have fired already (its DOWN queued, or consumed: F38), which is why
 * a second monitor watches the task's end.
 */
#include <pthread.h>
#include <stdlib.h>

#include "task_int.h"

/* --- the enforcer --- */

static bool accept_done(cotp_term msg, void *ctx) {
  const cotp_term *c = ctx; /* token, monitor */
  return msg.w == c[0].w || cotp__task_is_down(msg, c[1]);
}

/* args: [caller, pids, reason, token] */
static void enforcer_main(cotp_term args) {
  cotp_term caller = cotp_head(args), rest = cotp_tail(args);
  cotp_term pids = cotp_head(rest);
  cotp_term reason = cotp_head(cotp_tail(rest));
  cotp_term ctx[2] = {cotp_head(cotp_tail(cotp_tail(rest))), COTP_NONE};
  if (cotp_monitor(cotp_get_pid(caller), &ctx[1]) != 0)
    return;
  cotp_term msg;
  cotp_receive_if(accept_done, ctx, COTP_INFINITY, 0, &msg);
  if (msg.w == ctx[0].w)
    return; /* the caller did it */
  for (cotp_term l = pids; cotp_is_cons(l); l = cotp_tail(l))
    cotp_exit_signal(cotp_get_pid(cotp_head(l)), reason);
}

static pthread_once_t enforcer_once = PTHREAD_ONCE_INIT;
static void register_enforcer(void) {
  const struct cotp__task_atoms *a = cotp__task_atoms();
  cotp_register_function(a->cotp_task, a->enforce_exit, enforcer_main);
}

int cotp__task_unlink_exit(const cotp_pid *pids, size_t n, cotp_term reason) {
  pthread_once(&enforcer_once, register_enforcer);
  const struct cotp__task_atoms *a = cotp__task_atoms();
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  cotp_term list = COTP_NIL;
  for (size_t i = n; i > 0; i--)
    list = cotp_cons(h, cotp_pid_term(pids[i - 1]), list);
  cotp_term token = cotp_make_ref();
  cotp_term args = COTP_LIST(h, cotp_pid_term(cotp_self()), list, reason, token);
  cotp_pid enforcer = {0};
  int rc = cotp_is_none(args) ? COTP_ENOMEM
                              : cotp_spawn_mfa(a->cotp_task, a->enforce_exit,
                                               args, NULL, &enforcer);
  cotp_heap_release(h, mark);
  /* without an enforcer (no memory), the signals still go: only the
   * guarantee against the caller dying in between is lost */
  for (size_t i = 0; i < n; i++) {
    cotp_unlink(pids[i]);
    cotp_exit_signal(pids[i], reason);
  }
  if (rc == 0)
    cotp_send(enforcer, token);
  return rc;
}

/* --- shutdown --- */

enum mode { SHUTDOWN, TIMEOUT_KILL, BRUTAL };

/* What the wait found: a result for the caller, or a DOWN to report. */
struct outcome {
  cotp_term result; /* {:ok, reply} or nil; NONE: down */
  cotp_term object, reason;
};

static bool ours(cotp_term reason, enum mode mode) {
  if (reason.w == COTP_ATOM_SHUTDOWN.w)
    return mode == SHUTDOWN || mode == TIMEOUT_KILL;
  return reason.w == COTP_ATOM_KILLED.w && mode == BRUTAL;
}

static bool accept_down(cotp_term msg, void *ctx) {
  return cotp__task_is_down(msg, *(const cotp_term *)ctx);
}

/* {:ok, reply} if the reply is queued, else NONE. */
static cotp_term reply_of(cotp_heap *h, cotp_term ref) {
  cotp_term reply;
  return cotp__task_flush_reply(ref, &reply) ? COTP_TUPLE(h, COTP_ATOM_OK, reply)
                                             : COTP_NONE;
}

/* The task was gone before our monitor: its own DOWN, if queued, says
 * why; if it was consumed already, noproc is all there is to say (F38). */
static struct outcome noproc(cotp_term ref, cotp_term object, enum mode mode) {
  cotp_term msg;
  if (cotp_receive_if(accept_down, &ref, 0, 0, &msg) == 0) {
    cotp_term reason = cotp_tuple_get(msg, 4);
    if (ours(reason, mode))
      return (struct outcome){COTP_ATOM_NIL, COTP_NONE, COTP_NONE};
    return (struct outcome){COTP_NONE, object, reason};
  }
  cotp__task_demonitor(ref);
  return (struct outcome){COTP_NONE, object, COTP_ATOM_NOPROC};
}

static struct outcome wait_end(const cotp_task *t, cotp_term mon, enum mode mode,
                               int64_t timeout_ms) {
  cotp_heap *h = cotp_self_heap();
  cotp_term msg;
  while (cotp_receive_if(accept_down, &mon, timeout_ms, 0, &msg) != 0) {
    /* it did not stop in time: kill it (F36) */
    cotp_exit_signal(t->pid, COTP_ATOM_KILL);
    mode = TIMEOUT_KILL;
    timeout_ms = COTP_INFINITY;
  }
  cotp_term object = cotp_tuple_get(msg, 3), reason = cotp_tuple_get(msg, 4);
  struct outcome o;
  if (reason.w == COTP_ATOM_NOPROC.w) {
    o = noproc(t->ref, object, mode);
  } else {
    cotp__task_demonitor(t->ref);
    o = ours(reason, mode) ? (struct outcome){COTP_ATOM_NIL, COTP_NONE, COTP_NONE}
                           : (struct outcome){COTP_NONE, object, reason};
  }
  cotp_term reply = reply_of(h, t->ref); /* a reply wins (F32) */
  if (!cotp_is_none(reply))
    o.result = reply;
  return o;
}

cotp_term cotp_task_shutdown(const cotp_task *task, int64_t timeout_ms) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_NONE;
  if (!task)
    cotp__task_raise("cotp_task_shutdown: the task is NULL");
  if (!task->pid.bits)
    return cotp_task_ignore(task); /* a completed task (F5) */
  cotp__task_check_owner(task, "cotp_task_shutdown");
  bool brutal = timeout_ms == COTP_TASK_BRUTAL_KILL;
  if (!brutal)
    cotp__task_check_timeout(timeout_ms, "cotp_task_shutdown");
  cotp_term mon;
  if (cotp_monitor(task->pid, &mon) != 0)
    cotp__task_raise("cotp_task_shutdown: out of memory");
  cotp__task_unlink_exit(&task->pid, 1, brutal ? COTP_ATOM_KILL : COTP_ATOM_SHUTDOWN);
  struct outcome o = wait_end(task, mon, brutal ? BRUTAL : SHUTDOWN,
                              brutal ? COTP_INFINITY : timeout_ms);
  if (!cotp_is_none(o.result))
    return o.result;
  const struct cotp__task_atoms *a = cotp__task_atoms();
  if (o.reason.w == COTP_ATOM_NOCONNECTION.w)
    cotp_exit(cotp__task_reason(
        h, cotp__task_down_reason(h, o.object, o.reason), a->task, a->shutdown,
        COTP_LIST(h, cotp_task_term(h, task), cotp__task_timeout_term(h, timeout_ms))));
  return COTP_TUPLE(h, a->exit, o.reason);
}
