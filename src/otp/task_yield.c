/* SPDX-License-Identifier: Apache-2.0 */
/*
 * task_yield.c: the waits that do not give up on a task: yield,
 * yield_many and ignore.
 *
 * They answer in Elixir's shapes, {:ok, reply}, {:exit, reason} or nil,
 * built in the caller's heap.  yield leaves the monitor in place when it
 * times out, so the task can be asked again (F23).  yield_many is Elixir
 * 1.15's, with its limit and on_timeout options (the catalogue asks for
 * them; Elixir 1.14 takes only a timeout).
 */
#include "task_int.h"

static cotp_term tag(cotp_heap *h, cotp_term atom, cotp_term value) {
  return COTP_TUPLE(h, atom, value);
}

static bool accept_one(cotp_term msg, void *ctx) {
  cotp_term ref = *(const cotp_term *)ctx;
  return cotp__task_is_reply(msg, ref) || cotp__task_is_down(msg, ref);
}

_Noreturn static void exit_nodedown(cotp_heap *h, cotp_term msg,
                                    cotp_term fun, cotp_term args) {
  cotp_exit(cotp__task_reason(
      h, cotp__task_down_reason(h, cotp_tuple_get(msg, 3), COTP_ATOM_NOCONNECTION),
      cotp__task_atoms()->task, fun, args));
}

static bool is_noconnection(cotp_term down) {
  return cotp_tuple_get(down, 4).w == COTP_ATOM_NOCONNECTION.w;
}

cotp_term cotp_task_yield(const cotp_task *task, int64_t timeout_ms) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_NONE;
  cotp__task_check_owner(task, "cotp_task_yield");
  cotp__task_check_timeout(timeout_ms, "cotp_task_yield");
  cotp_term msg, ref = task->ref;
  if (cotp_receive_if(accept_one, &ref, timeout_ms, 0, &msg) != 0)
    return COTP_ATOM_NIL; /* the monitor stays: ask again later */
  const struct cotp__task_atoms *a = cotp__task_atoms();
  if (cotp_tuple_size(msg) == 2) {
    cotp__task_demonitor(ref); /* a DOWN behind the reply goes too (F22) */
    return tag(h, COTP_ATOM_OK, cotp_tuple_get(msg, 1));
  }
  if (is_noconnection(msg))
    exit_nodedown(h, msg, a->yield,
                  COTP_LIST(h, cotp_task_term(h, task),
                            cotp__task_timeout_term(h, timeout_ms)));
  return tag(h, a->exit, cotp_tuple_get(msg, 4));
}

cotp_term cotp_task_ignore(const cotp_task *task) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_NONE;
  cotp__task_check_owner(task, "cotp_task_ignore");
  cotp_term msg, ref = task->ref;
  const struct cotp__task_atoms *a = cotp__task_atoms();
  bool got = cotp_receive_if(accept_one, &ref, 0, 0, &msg) == 0;
  if (got && cotp_tuple_size(msg) == 5) {
    if (is_noconnection(msg))
      exit_nodedown(h, msg, a->ignore, COTP_LIST(h, cotp_task_term(h, task)));
    return tag(h, a->exit, cotp_tuple_get(msg, 4)); /* F8 */
  }
  /* let it go: no link, no monitor, no alias (F7, F9) */
  if (task->pid.bits)
    cotp_unlink(task->pid);
  cotp__task_demonitor(ref);
  return got ? tag(h, COTP_ATOM_OK, cotp_tuple_get(msg, 1)) /* F6 */
             : COTP_ATOM_NIL;
}

/* --- yield_many --- */

enum { PENDING, GOT };

struct many {
  struct cotp__reftab tab;
};

static bool accept_many(cotp_term msg, void *ctx) {
  struct many *m = ctx;
  size_t size = cotp_tuple_size(msg);
  cotp_term ref;
  if (size == 2)
    ref = cotp_tuple_get(msg, 0);
  else if (size == 5 && cotp_tuple_get(msg, 0).w == COTP_ATOM_DOWN.w)
    ref = cotp_tuple_get(msg, 1);
  else
    return false;
  uint32_t *s = cotp__reftab_find(&m->tab, ref);
  return s && cotp__reftab_state(s) == PENDING;
}

static void check_yield_opts(const cotp_task_yield_opts *o) {
  cotp__task_check_timeout(o->timeout_ms, "cotp_task_yield_many");
  if (o->on_timeout != COTP_TASK_ON_TIMEOUT_NOTHING &&
      o->on_timeout != COTP_TASK_ON_TIMEOUT_IGNORE &&
      o->on_timeout != COTP_TASK_ON_TIMEOUT_KILL_TASK)
    cotp__task_raise("cotp_task_yield_many: on_timeout must be "
                     "COTP_TASK_ON_TIMEOUT_NOTHING, _IGNORE or _KILL_TASK, "
                     "got %d",
                     (int)o->on_timeout);
}

int cotp_task_yield_many(const cotp_task *tasks, size_t n,
                         const cotp_task_yield_opts *opts, cotp_term *results) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  cotp_task_yield_opts defaults = COTP_TASK_YIELD_OPTS_INIT;
  if (!opts)
    opts = &defaults;
  check_yield_opts(opts);
  if (n == 0)
    return 0;
  if (!tasks || !results)
    cotp__task_raise("cotp_task_yield_many: tasks or results is NULL");
  for (size_t i = 0; i < n; i++)
    cotp__task_check_owner(&tasks[i], "cotp_task_yield_many");
  struct many m;
  if (!cotp__reftab_init(&m.tab, n, &tasks[0].ref, sizeof *tasks))
    return COTP_ENOMEM;
  size_t distinct = 0;
  for (size_t i = 0; i < n; i++) {
    results[i] = COTP_ATOM_NIL;
    bool added;
    cotp__reftab_put(&m.tab, (uint32_t)i, &added);
    distinct += added;
  }
  size_t limit = opts->limit == 0 || opts->limit > distinct ? distinct : opts->limit;
  const struct cotp__task_atoms *a = cotp__task_atoms();
  int64_t timeout_ms = opts->timeout_ms;
  int64_t deadline = cotp__task_deadline(timeout_ms);
  bool timed_out = false;
  for (size_t got = 0; got < limit;) {
    cotp_term msg;
    if (cotp__task_receive(accept_many, &m, deadline, &msg) != 0) {
      timed_out = true;
      break;
    }
    bool reply = cotp_tuple_size(msg) == 2;
    uint32_t *s = cotp__reftab_find(&m.tab, cotp_tuple_get(msg, reply ? 0 : 1));
    uint32_t index = cotp__reftab_index(s);
    if (reply) {
      cotp__task_demonitor(tasks[index].ref);
      results[index] = tag(h, COTP_ATOM_OK, cotp_tuple_get(msg, 1));
    } else if (is_noconnection(msg)) {
      cotp__reftab_close(&m.tab);
      exit_nodedown(h, msg, a->yield_many,
                    COTP_LIST(h, cotp__task_list_term(h, tasks, n),
                              cotp__task_timeout_term(h, timeout_ms)));
    } else {
      results[index] = tag(h, a->exit, cotp_tuple_get(msg, 4));
    }
    cotp__reftab_set_state(s, GOT);
    got++;
  }
  for (size_t i = 0; i < n; i++) {
    uint32_t *s = cotp__reftab_find(&m.tab, tasks[i].ref);
    if (cotp__reftab_index(s) != i) { /* the same task twice: one answer */
      results[i] = results[cotp__reftab_index(s)];
      continue;
    }
    if (cotp__reftab_state(s) == GOT || !timed_out)
      continue;
    /* still running when the time ran out (not when the limit was
     * reached: F29) */
    if (opts->on_timeout == COTP_TASK_ON_TIMEOUT_KILL_TASK)
      results[i] = cotp_task_shutdown(&tasks[i], COTP_TASK_BRUTAL_KILL);
    else if (opts->on_timeout == COTP_TASK_ON_TIMEOUT_IGNORE)
      results[i] = cotp_task_ignore(&tasks[i]);
  }
  cotp__reftab_close(&m.tab);
  return 0;
}
