/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sup_stop.c: starting one child, and the shutdown protocol.
 *
 * Start.  The child's start function runs inside the supervisor under
 * cotp_catch_exit: a start that exits is a failed start, never the
 * supervisor's death.
 *
 * Shutdown (OTP's, I31-I35).  For each child: monitor it, unlink it, flush
 * an EXIT from it that may already be queued, then send exit `shutdown`
 * (or `kill` for brutal_kill), and wait for the DOWN; a child still alive
 * at its deadline is killed.  The monitor, not the link, says when the
 * child is gone, so a child that unlinked itself cannot hang the
 * supervisor (I35).  Many children are shut down at once by sending every
 * signal first and then collecting DOWNs with the nearest deadline as the
 * timeout: the total time is the largest shutdown, not the sum (I34).  The
 * nearest deadline is recomputed only when it passes, so collecting n DOWNs
 * costs O(n), not O(n^2).
 */
#include <stdlib.h>

#include "sup_impl.h"

/* --- start --- */

struct start_call {
  struct child *c;
  cotp_term result;
};

cotp_term cotp__sup_call_start(const struct child *c) {
  cotp_heap *h = cotp_self_heap();
  if (c->cfn)
    return c->cfn(c->args, c->ctx);
  cotp_child_start_fn *fn = cotp__sup_lookup_start(c->module, c->function);
  if (fn)
    return fn(c->args, NULL);
  if (cotp_lookup_function(c->module, c->function)) {
    /* a process function: spawned linked, as proc_lib's spawn_link */
    cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
    o.link = true;
    cotp_pid pid;
    int rc = cotp_spawn_mfa(c->module, c->function, c->args, &o, &pid);
    return rc == 0 ? COTP_TUPLE(h, COTP_ATOM_OK, cotp_pid_term(pid))
                   : COTP_TUPLE(h, COTP_ATOM_ERROR, cotp_atom(cotp_err_name(rc)));
  }
  cotp_exit(cotp_format(h, "{:undef, [{~t, ~t, ~t, []}]}", c->module,
                        c->function, c->args));
}

static void run_start(void *arg) {
  struct start_call *sc = arg;
  sc->result = cotp__sup_call_start(sc->c);
}

int cotp__sup_do_start(struct sup *s, struct child *c, cotp_pid *pid,
                       cotp_term *reply) {
  (void)s;
  struct start_call sc = {c, COTP_NONE};
  cotp_term why;
  *pid = (cotp_pid){0};
  if (cotp_catch_exit(run_start, &sc, &why) != 0) {
    *reply = why;
    return 2;
  }
  cotp_term r = sc.result;
  size_t n = cotp_tuple_size(r);
  if ((n == 2 || n == 3) && cotp_tuple_get(r, 0).w == COTP_ATOM_OK.w &&
      cotp_is_pid(cotp_tuple_get(r, 1))) {
    *pid = cotp_get_pid(cotp_tuple_get(r, 1));
    *reply = r;
    return 0;
  }
  if (n == 2 && cotp_tuple_get(r, 0).w == COTP_ATOM_OK.w &&
      cotp_tuple_get(r, 1).w == COTP_ATOM_UNDEFINED.w) {
    *reply = COTP_ATOM_IGNORE;
    return 0;
  }
  if (r.w == COTP_ATOM_IGNORE.w) {
    *reply = r;
    return 0;
  }
  if (n == 2 && cotp_tuple_get(r, 0).w == COTP_ATOM_ERROR.w) {
    *reply = cotp_tuple_get(r, 1);
    return 1;
  }
  *reply = cotp_is_none(r) ? COTP_ATOM(none) : r;
  return 1;
}

/* --- shutdown --- */

static bool is_exit_from(cotp_term msg, void *ctx) {
  const cotp_pid *pid = ctx;
  return cotp_tuple_size(msg) == 3 &&
         cotp_tuple_get(msg, 0).w == COTP_ATOM_EXIT.w &&
         cotp_get_pid(cotp_tuple_get(msg, 1)).bits == pid->bits;
}

static bool is_pending_down(cotp_term msg, void *ctx) {
  struct sup *s = ctx;
  if (cotp_tuple_size(msg) != 5 || cotp_tuple_get(msg, 0).w != COTP_ATOM_DOWN.w)
    return false;
  struct child *c = cotp__sup_by_pid(s, cotp_get_pid(cotp_tuple_get(msg, 3)));
  return c && c->pending && cotp_term_eq(c->mref, cotp_tuple_get(msg, 1));
}

#define NO_DEADLINE INT64_MAX

/* Whether a child the supervisor stopped died of what it was sent: OTP
 * reports anything else as "shut down abnormally", a kill after the
 * shutdown timeout included.  noproc is a child that was already gone
 * (its EXIT was flushed): OTP reports that EXIT's reason, which this does
 * not keep. */
static bool stopped_as_told(const struct child *c, cotp_term reason) {
  if (reason.w == COTP_ATOM_NOPROC.w)
    return true;
  if (c->shutdown == COTP_SHUTDOWN_BRUTAL_KILL)
    return reason.w == COTP_ATOM_KILLED.w;
  return reason.w == COTP_ATOM_SHUTDOWN.w;
}

void cotp__sup_shutdown(struct sup *s, struct child **list, size_t n,
                        bool remove_temporary) {
  int64_t now = cotp_monotonic_ms(), next = NO_DEADLINE;
  size_t pending = 0;
  cotp_heap *h = cotp_self_heap();
  /* Every child is monitored and unlinked before the first is told to
   * stop, as OTP does: the flush of a queued EXIT scans the mailbox, and
   * with the signals interleaved, the DOWNs of the children already
   * stopped would pile up in front of each scan (O(n^2): 100,000 dynamic
   * children took minutes to stop). */
  for (size_t i = 0; i < n; i++) {
    struct child *c = list[i];
    c->pending = false;
    if (c->status != CHILD_RUNNING)
      continue;
    cotp_monitor(c->pid, &c->mref);
    c->mref = cotp_term_copy(h, c->mref);
    cotp_unlink(c->pid);
    cotp_receive_if(is_exit_from, &c->pid, 0, 0, NULL);
    c->pending = true;
  }
  for (size_t i = 0; i < n; i++) {
    struct child *c = list[i];
    if (!c->pending)
      continue;
    if (c->shutdown == COTP_SHUTDOWN_BRUTAL_KILL) {
      cotp_exit_signal(c->pid, COTP_ATOM_KILL);
      c->deadline = NO_DEADLINE;
    } else {
      cotp_exit_signal(c->pid, COTP_ATOM_SHUTDOWN);
      c->deadline = c->shutdown == COTP_INFINITY ? NO_DEADLINE
                                                 : now + c->shutdown;
    }
    if (c->deadline < next)
      next = c->deadline;
    pending++;
  }
  while (pending) {
    now = cotp_monotonic_ms();
    int64_t wait = next == NO_DEADLINE ? COTP_INFINITY
                   : next > now        ? next - now
                                       : 0;
    cotp_term msg;
    if (cotp_receive_if(is_pending_down, s, wait, 0, &msg) == 0) {
      struct child *c =
          cotp__sup_by_pid(s, cotp_get_pid(cotp_tuple_get(msg, 3)));
      c->pending = false;
      pending--;
      if (!stopped_as_told(c, cotp_tuple_get(msg, 4)))
        cotp__sup_report_shutdown_error(s, c, cotp_tuple_get(msg, 4));
      continue;
    }
    /* the nearest deadline passed: kill whoever is due, find the next */
    now = cotp_monotonic_ms();
    next = NO_DEADLINE;
    for (size_t i = 0; i < n; i++) {
      struct child *c = list[i];
      if (!c->pending)
        continue;
      if (c->deadline <= now) {
        cotp_exit_signal(c->pid, COTP_ATOM_KILL);
        c->deadline = NO_DEADLINE;
      } else if (c->deadline < next) {
        next = c->deadline;
      }
    }
  }
  for (size_t i = 0; i < n; i++) {
    struct child *c = list[i];
    if (c->status != CHILD_RUNNING)
      continue;
    if (remove_temporary && c->restart == COTP_TEMPORARY)
      cotp__sup_remove(s, c);
    else
      cotp__sup_set_stopped(s, c, CHILD_UNDEFINED);
  }
}

void cotp__sup_terminate(struct sup *s, struct child *c) {
  cotp__sup_shutdown(s, &c, 1, false);
}

void cotp__sup_terminate_all(struct sup *s) {
  if (s->dynamic) {
    free(s->stopping);
    s->stopping = malloc((s->nchildren ? s->nchildren : 1) * sizeof *s->stopping);
    if (s->stopping) {
      size_t n = 0;
      for (struct child *c = s->first; c; c = c->next)
        s->stopping[n++] = c;
      cotp__sup_shutdown(s, s->stopping, n, false);
      free(s->stopping);
      s->stopping = NULL;
      return;
    }
    /* out of memory: one at a time still terminates them all */
  }
  for (struct child *c = s->last; c; c = c->prev)
    cotp__sup_terminate(s, c);
}
