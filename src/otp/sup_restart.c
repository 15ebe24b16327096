/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sup_restart.c: what a supervisor does when a child exits: restart types,
 * strategies, intensity, retries and backoff.
 *
 * Intensity is a sliding window (I20, I21): the times of the last
 * intensity + 1 restarts are kept in a ring; a restart that finds more
 * than `intensity` of them (itself included) within `period` seconds makes
 * the supervisor stop with :shutdown, after terminating its children (the
 * GenServer's terminate does that).  Every restart attempt counts, failed
 * ones included (I22, J11).
 *
 * A restart that fails leaves the child RESTARTING and sends the
 * supervisor {:"$sup_retry", key, true}: the retry waits behind whatever
 * is already queued, so the supervisor answers calls between attempts
 * (I40, J10), as OTP's try_again_restart cast does.  A group restart
 * (one_for_all, rest_for_one) that fails at some child retries the group
 * as seen from that child: one_for_all terminates and restarts everything
 * again (I25), rest_for_one only from the failed child on (I27).
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "sup_impl.h"

/* Looked up once: cotp_atom() hashes the name on every call.  Racing
 * first callers store the same word. */
cotp_term cotp__sup_atom_retry(void) {
  static _Atomic uint64_t retry;
  uint64_t w = atomic_load_explicit(&retry, memory_order_relaxed);
  if (!w) {
    w = cotp_atom("$sup_retry").w;
    atomic_store_explicit(&retry, w, memory_order_relaxed);
  }
  return (cotp_term){w};
}

/* Records a restart now; true when that is one too many. */
static bool add_restart(struct sup *s) {
  size_t cap = (size_t)s->intensity + 1;
  if (!s->restarts) {
    s->restarts = calloc(cap, sizeof *s->restarts);
    if (!s->restarts)
      return true; /* cannot count: err on the side of stopping */
  }
  int64_t now = cotp_monotonic_ms(), window = (int64_t)s->period * 1000;
  while (s->nrestarts && now - s->restarts[s->rhead] > window) {
    s->rhead = (s->rhead + 1) % cap;
    s->nrestarts--;
  }
  if (s->nrestarts == cap) { /* cannot happen: we stop at cap */
    s->rhead = (s->rhead + 1) % cap;
    s->nrestarts--;
  }
  s->restarts[(s->rhead + s->nrestarts) % cap] = now;
  s->nrestarts++;
  return s->nrestarts > (size_t)s->intensity;
}

static void send_retry(struct child *c, bool counts, int64_t delay) {
  cotp_heap *h = cotp_self_heap();
  cotp_term msg = COTP_TUPLE(h, cotp__sup_atom_retry(), cotp_uint(h, c->key),
                             cotp_bool(counts));
  if (delay > 0)
    cotp_send_after(delay, cotp_self(), msg, NULL);
  else
    cotp_send(cotp_self(), msg);
}

/* Starts c where it stands in a restart.  Returns false when it failed
 * (c is then RESTARTING). */
static bool start_again(struct sup *s, struct child *c, bool *removed) {
  cotp_pid pid;
  cotp_term reply;
  *removed = false;
  int rc = cotp__sup_do_start(s, c, &pid, &reply);
  if (rc == 0 && pid.bits) {
    cotp__sup_set_running(s, c, pid);
    return true;
  }
  if (rc == 0) { /* ignore */
    if (s->dynamic || c->restart == COTP_TEMPORARY) {
      cotp__sup_remove(s, c);
      *removed = true;
    } else {
      cotp__sup_set_stopped(s, c, CHILD_UNDEFINED);
    }
    return true;
  }
  cotp__sup_report_start_error(s, c, reply);
  cotp__sup_set_stopped(s, c, CHILD_RESTARTING);
  return false;
}

/* Terminates, in reverse order, the running children from `from` to the
 * end, then starts them all in order.  Temporary bystanders go (I18). */
static void restart_group(struct sup *s, struct child *from) {
  for (struct child *c = s->last, *prev; c; c = prev) {
    prev = c == from ? NULL : c->prev;
    if (c->status == CHILD_RUNNING) {
      cotp__sup_terminate(s, c);
      if (c->restart == COTP_TEMPORARY)
        cotp__sup_remove(s, c);
    }
  }
  for (struct child *c = from, *next; c; c = next) {
    next = c->next;
    bool removed;
    if (!start_again(s, c, &removed)) {
      send_retry(c, true, 0);
      return;
    }
  }
}

/* Backoff: the delay before c's next attempt, doubled from the last one
 * up to the maximum.  A failed start is a crash like any other, so the
 * delays after a crash and then failed starts go backoff_ms, 2x, 4x, ... */
static int64_t next_delay(struct sup *s, struct child *c) {
  c->delay_ms = c->delay_ms * 2 > s->backoff_max_ms ? s->backoff_max_ms
                                                    : c->delay_ms * 2;
  return c->delay_ms;
}

/* One restart of c (already not running), counted by the caller. */
static void restart(struct sup *s, struct child *c) {
  bool removed;
  switch (s->strategy) {
  case COTP_ONE_FOR_ONE:
    if (!start_again(s, c, &removed))
      send_retry(c, true, s->backoff_ms ? next_delay(s, c) : 0);
    break;
  case COTP_ONE_FOR_ALL:
    restart_group(s, s->first);
    break;
  case COTP_REST_FOR_ONE:
    restart_group(s, c);
    break;
  }
}

static bool is_shutdown_reason(cotp_term r) {
  return r.w == COTP_ATOM_NORMAL.w || r.w == COTP_ATOM_SHUTDOWN.w ||
         (cotp_tuple_size(r) == 2 &&
          cotp_tuple_get(r, 0).w == COTP_ATOM_SHUTDOWN.w);
}

/* After a significant child exited by itself: whether to stop (I42). */
static bool auto_shutdown(struct sup *s, bool significant) {
  if (!significant || s->auto_shutdown == COTP_AUTO_SHUTDOWN_NEVER)
    return false;
  if (s->auto_shutdown == COTP_AUTO_SHUTDOWN_ANY_SIGNIFICANT)
    return true;
  for (struct child *c = s->first; c; c = c->next)
    if (c->significant && c->status == CHILD_RUNNING)
      return false;
  return true;
}

bool cotp__sup_child_exited(struct sup *s, struct child *c, cotp_term reason,
                            cotp_term *stop_reason) {
  bool significant = c->significant;
  /* as OTP: a permanent child is reported whatever its reason */
  if (c->restart == COTP_PERMANENT || !is_shutdown_reason(reason))
    cotp__sup_report_terminated(s, c, reason);
  if (c->restart == COTP_TEMPORARY ||
      (c->restart == COTP_TRANSIENT && is_shutdown_reason(reason))) {
    if (c->restart == COTP_TEMPORARY || s->dynamic)
      cotp__sup_remove(s, c);
    else
      cotp__sup_set_stopped(s, c, CHILD_UNDEFINED);
    if (auto_shutdown(s, significant)) {
      *stop_reason = COTP_ATOM_SHUTDOWN;
      return false;
    }
    return true;
  }
  if (add_restart(s)) {
    cotp__sup_report_shutdown(s, c);
    cotp__sup_set_stopped(s, c, CHILD_UNDEFINED);
    *stop_reason = COTP_ATOM_SHUTDOWN;
    return false;
  }
  if (s->backoff_ms && s->strategy == COTP_ONE_FOR_ONE) {
    int64_t ran = cotp_monotonic_ms() - c->started_ms;
    if (!c->delay_ms || ran >= s->backoff_max_ms)
      c->delay_ms = s->backoff_ms;
    else
      next_delay(s, c);
    cotp__sup_set_stopped(s, c, CHILD_RESTARTING);
    send_retry(c, false, c->delay_ms);
    return true;
  }
  cotp__sup_set_stopped(s, c, CHILD_RESTARTING);
  restart(s, c);
  return true;
}

bool cotp__sup_retry(struct sup *s, uint64_t key, bool counts,
                     cotp_term *stop_reason) {
  struct child *c = cotp__sup_by_key(s, key);
  if (!c || c->status != CHILD_RESTARTING)
    return true; /* terminated or deleted in the meantime (I40) */
  /* a delayed (backoff) restart was counted when the child exited */
  if (counts && add_restart(s)) {
    cotp__sup_report_shutdown(s, c);
    cotp__sup_set_stopped(s, c, CHILD_UNDEFINED);
    *stop_reason = COTP_ATOM_SHUTDOWN;
    return false;
  }
  restart(s, c);
  return true;
}

bool cotp__sup_start_initial(struct sup *s, cotp_term *reason) {
  cotp_heap *h = cotp_self_heap();
  for (struct child *c = s->first, *next; c; c = next) {
    next = c->next;
    cotp_pid pid;
    cotp_term reply;
    int rc = cotp__sup_do_start(s, c, &pid, &reply);
    if (rc == 0 && pid.bits) {
      cotp__sup_set_running(s, c, pid);
      continue;
    }
    if (rc == 0) {
      if (c->restart == COTP_TEMPORARY) /* I4 */
        cotp__sup_remove(s, c);
      continue;
    }
    if (rc == 2)
      reply = COTP_TUPLE(h, COTP_ATOM_EXIT, reply);
    cotp__sup_report_start_error(s, c, reply); /* as OTP's start_error */
    *reason = COTP_TUPLE(
        h, COTP_ATOM_SHUTDOWN,
        COTP_TUPLE(h, COTP_ATOM(failed_to_start_child), cotp_term_copy(h, c->id),
                   reply));
    for (struct child *d = c->prev; d; d = d->prev)
      cotp__sup_terminate(s, d);
    return false;
  }
  return true;
}
