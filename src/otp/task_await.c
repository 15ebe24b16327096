/* SPDX-License-Identifier: Apache-2.0 */
/*
 * task_await.c: await, its C variant that returns failures, and
 * await_many.
 *
 * await is one selective receive for {ref, reply} or {:DOWN, ref, ...}:
 * the reply comes before the DOWN (both are from the task, and signals
 * from one process arrive in order), so a task that replied and exited is
 * seen as having replied.  Then the monitor goes, with its DOWN if already
 * queued.  On timeout the monitor goes too, and with it the alias (mode
 * :demonitor), so a reply sent later is dropped before the mailbox (F10);
 * one that came in between the timeout and the demonitor is flushed.
 *
 * await_many takes the replies in the order they come, each the first
 * message of the mailbox that is a reply or DOWN of a task still awaited
 * (one lookup in a reference map per message), and stores them at their
 * task's index.  A task that replied is about to exit, and its DOWN
 * follows the reply at once; rather than demonitor (a signal to the task,
 * and a scan of the mailbox for a DOWN that is usually not there yet),
 * await_many takes that DOWN when it comes, and demonitors only the tasks
 * whose DOWN has not come by the end.  The outcome is the same as
 * Elixir's demonitor-per-reply: no monitor and no DOWN of the tasks is
 * left behind.
 */
#include <stdlib.h>

#include "task_int.h"

static bool accept_one(cotp_term msg, void *ctx) {
  cotp_term ref = *(const cotp_term *)ctx;
  return cotp__task_is_reply(msg, ref) || cotp__task_is_down(msg, ref);
}

/* Receives the task's reply or DOWN.  Returns 0 (reply in *out), 1 (the
 * task exited: the DOWN reason, Elixir's way, in *out) or COTP_ETIMEDOUT
 * (monitor and alias removed). */
static int receive_one(const cotp_task *t, int64_t timeout_ms, cotp_term *out) {
  cotp_term msg, ref = t->ref;
  if (cotp__task_receive(accept_one, &ref, cotp__task_deadline(timeout_ms), &msg) != 0) {
    cotp__task_demonitor(ref);
    cotp__task_flush_reply(ref, NULL);
    return COTP_ETIMEDOUT;
  }
  if (cotp_tuple_size(msg) == 2) {
    cotp__task_demonitor(ref);
    *out = cotp_tuple_get(msg, 1);
    return 0;
  }
  *out = cotp__task_down_reason(cotp_self_heap(), cotp_tuple_get(msg, 3),
                                cotp_tuple_get(msg, 4));
  return 1;
}

cotp_term cotp_task_await(const cotp_task *task, int64_t timeout_ms) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_NONE;
  cotp__task_check_owner(task, "cotp_task_await");
  cotp__task_check_timeout(timeout_ms, "cotp_task_await");
  cotp_term out;
  int rc = receive_one(task, timeout_ms, &out);
  if (rc == 0)
    return out;
  const struct cotp__task_atoms *a = cotp__task_atoms();
  cotp_term reason = rc == 1 ? out : COTP_ATOM_TIMEOUT;
  cotp_exit(cotp__task_reason(
      h, reason, a->task, a->await,
      COTP_LIST(h, cotp_task_term(h, task), cotp__task_timeout_term(h, timeout_ms))));
}

int cotp_task_await_result(const cotp_task *task, int64_t timeout_ms,
                           cotp_term *out) {
  if (!cotp_self_heap())
    return COTP_ENOTPROC;
  if (!task || !out || !cotp_pid_eq(task->owner, cotp_self()) ||
      (timeout_ms < 0 && timeout_ms != COTP_INFINITY))
    return COTP_EINVAL;
  return receive_one(task, timeout_ms, out);
}

/* --- await_many --- */

enum { AWAITING, REPLIED, DONE }; /* a task's state in the map */

struct many {
  struct cotp__reftab tab;
  size_t awaiting; /* tasks with no reply yet */
  uint32_t *taken; /* the slot of the message accepted */
};

/* A reply of a task still awaited, or a DOWN of one not done. */
static bool accept_many(cotp_term msg, void *ctx) {
  struct many *m = ctx;
  size_t size = cotp_tuple_size(msg);
  uint32_t *s = NULL;
  if (size == 2) {
    s = cotp__reftab_find(&m->tab, cotp_tuple_get(msg, 0));
    if (!s || cotp__reftab_state(s) != AWAITING)
      return false;
  } else if (size == 5 && cotp_tuple_get(msg, 0).w == COTP_ATOM_DOWN.w) {
    s = cotp__reftab_find(&m->tab, cotp_tuple_get(msg, 1));
    if (!s || cotp__reftab_state(s) == DONE)
      return false;
  } else {
    return false;
  }
  m->taken = s;
  return true;
}

/* Removes the monitors of every task not done, and their queued DOWNs. */
static void demonitor_rest(struct many *m, const cotp_task *tasks, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t *s = cotp__reftab_find(&m->tab, tasks[i].ref);
    if (s && cotp__reftab_state(s) != DONE) {
      cotp__task_demonitor(tasks[i].ref);
      cotp__reftab_set_state(s, DONE);
    }
  }
}

_Noreturn static void exit_many(struct many *m, const cotp_task *tasks,
                                size_t n, cotp_term reason, int64_t timeout_ms) {
  demonitor_rest(m, tasks, n);
  cotp__reftab_close(&m->tab);
  const struct cotp__task_atoms *a = cotp__task_atoms();
  cotp_heap *h = cotp_self_heap();
  cotp_exit(cotp__task_reason(h, reason, a->task, a->await_many,
                              COTP_LIST(h, cotp__task_list_term(h, tasks, n),
                                        cotp__task_timeout_term(h, timeout_ms))));
}

int cotp_task_await_many(const cotp_task *tasks, size_t n, int64_t timeout_ms,
                         cotp_term *replies) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  if (n == 0)
    return 0;
  if (!tasks || !replies)
    cotp__task_raise("cotp_task_await_many: tasks or replies is NULL");
  for (size_t i = 0; i < n; i++)
    cotp__task_check_owner(&tasks[i], "cotp_task_await_many");
  cotp__task_check_timeout(timeout_ms, "cotp_task_await_many");
  struct many m = {.awaiting = 0};
  if (!cotp__reftab_init(&m.tab, n, &tasks[0].ref, sizeof *tasks))
    return COTP_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    bool added;
    cotp__reftab_put(&m.tab, (uint32_t)i, &added);
    m.awaiting += added;
  }
  int64_t deadline = cotp__task_deadline(timeout_ms);
  while (m.awaiting > 0) {
    cotp_term msg;
    /* a DOWN that follows a reply is dropped as soon as it is taken: its
     * copy must not pile up in the heap, 100,000 tasks' worth */
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    if (cotp__task_receive(accept_many, &m, deadline, &msg) != 0)
      exit_many(&m, tasks, n, COTP_ATOM_TIMEOUT, timeout_ms);
    uint32_t *s = m.taken, index = cotp__reftab_index(s);
    if (cotp_tuple_size(msg) == 2) {
      cotp__reftab_set_state(s, REPLIED);
      replies[index] = cotp_tuple_get(msg, 1);
      m.awaiting--;
      /* a reply that is an immediate needs nothing of the message's copy:
       * the heap takes the next message in the same place, instead of
       * growing by a tuple per task */
      if (cotp__task_immediate(replies[index]))
        cotp_heap_release(h, mark);
      continue;
    }
    if (cotp__reftab_state(s) == REPLIED) {
      cotp__reftab_set_state(s, DONE); /* the DOWN after a reply: the monitor is gone */
      cotp_heap_release(h, mark);
      continue;
    }
    cotp__reftab_set_state(s, DONE);
    exit_many(&m, tasks, n,
              cotp__task_down_reason(h, cotp_tuple_get(msg, 3), cotp_tuple_get(msg, 4)),
              timeout_ms);
  }
  /* the same task given twice has one reply, at the first index; and
   * the monitors of tasks whose DOWN has not come yet go */
  for (size_t i = 0; i < n; i++) {
    uint32_t *s = cotp__reftab_find(&m.tab, tasks[i].ref);
    replies[i] = replies[cotp__reftab_index(s)];
    if (cotp__reftab_state(s) != DONE) {
      cotp__task_demonitor(tasks[i].ref);
      cotp__reftab_set_state(s, DONE);
    }
  }
  cotp__reftab_close(&m.tab);
  return 0;
}
