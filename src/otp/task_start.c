/* SPDX-License-Identifier: Apache-2.0 */
/*
 * task_start.c: starting tasks, the owner's side: async, start,
 * start_link, completed, and attaching a process someone else started.
 *
 * async is one spawn that links the task, monitors it with a reference
 * that is also an alias (mode :demonitor: the alias goes when the monitor
 * does), and gives it its go-ahead (task_int.h) as its first message
 * (spawn_opts.message): linked and monitored before it runs, the task
 * can reach the owner only after both exist, and its reply only through
 * the alias.  The reference is made first, since the go-ahead carries it.
 *
 * start passes the go-ahead as the spawn's message too (the task is
 * unlinked: a go-ahead that never came would leave it waiting forever);
 * start_link sends it, since an owner that dies before sending takes the
 * linked task with it.  attach, to a process someone else started, sends
 * it after the monitor and the link.
 */
#include "task_int.h"

void cotp__task_go_head(cotp_term alias, unsigned flags, cotp_term elems[6]) {
  const struct cotp__task_atoms *a = cotp__task_atoms();
  cotp_heap *h = cotp_self_heap();
  cotp_pid me = cotp_self();
  cotp_term self = cotp_pid_term(me);
  cotp_term callers = cotp_dict_get(a->callers);
  cotp_term ancestors = cotp_dict_get(a->ancestors);
  cotp_term name = cotp_registered_name(me);
  elems[COTP__GO_TAG] = a->go;
  elems[COTP__GO_ALIAS] = cotp_is_none(alias) ? COTP_ATOM_NIL : alias;
  elems[COTP__GO_OWNER] = self;
  elems[COTP__GO_CALLERS] = cotp_is_cons(callers) ? callers : COTP_NIL;
  /* proc_lib's $ancestors: the spawner by name when it has one */
  if (cotp_is_atom(name) || cotp_is_cons(ancestors))
    elems[COTP__GO_ANCESTORS] =
        cotp_cons(h, cotp_is_atom(name) ? name : self,
                  cotp_is_cons(ancestors) ? ancestors : COTP_NIL);
  else
    elems[COTP__GO_ANCESTORS] = COTP_ATOM_NIL;
  elems[COTP__GO_FLAGS] = cotp_int(NULL, flags);
}

/* The go-ahead: the head, then the job. */
static cotp_term go_term(cotp_heap *h, cotp_term alias, const cotp_term *job,
                         size_t n) {
  cotp_term elems[COTP__GO_ITEM + 1];
  cotp__task_go_head(alias, 0, elems);
  for (size_t i = 0; i < n; i++)
    elems[COTP__GO_FN + i] = job[i];
  return cotp_tuple(h, COTP__GO_FN + n, elems);
}

/* Ends a task process that could not be given its go-ahead. */
static void abandon(cotp_pid pid) {
  cotp_unlink(pid);
  cotp_exit_signal(pid, COTP_ATOM_KILL);
}

int cotp__task_attach(cotp_pid pid, bool link, const cotp_term *job, size_t n,
                      cotp_term module, cotp_term function, unsigned arity,
                      cotp_task *task) {
  cotp_term ref;
  int rc = cotp_monitor_alias(pid, COTP_ALIAS_DEMONITOR, &ref);
  if (rc == 0 && link && (rc = cotp_link(pid)) != 0)
    cotp_demonitor(ref, COTP_DEMONITOR_FLUSH);
  if (rc == 0) {
    cotp_heap *h = cotp_self_heap();
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    cotp_term go = go_term(h, ref, job, n);
    rc = cotp_is_none(go) ? COTP_ENOMEM : cotp_send(pid, go);
    cotp_heap_release(h, mark);
    if (rc != 0)
      cotp_demonitor(ref, COTP_DEMONITOR_FLUSH);
  }
  if (rc != 0) {
    abandon(pid);
    return rc;
  }
  *task = (cotp_task){cotp_self(), pid, ref, module, function, arity};
  return 0;
}

/* --- the job of a C function, of module:function(args) --- */

static void c_job(cotp_heap *h, cotp_task_fn *fn, void *arg, cotp_term job[2]) {
  job[0] = cotp__task_fn_term(h, (void (*)(void))fn);
  job[1] = cotp__task_ptr_term(h, arg);
}

static int check_mfa(cotp_term module, cotp_term function, cotp_term args,
                     unsigned *arity) {
  size_t n = 0;
  if (!cotp_is_atom(module) || !cotp_is_atom(function) ||
      cotp_list_length(args, &n) != 0)
    return COTP_EINVAL;
  *arity = (unsigned)n;
  return 0;
}

/* --- async --- */

static int async(const cotp_term *job, size_t n, cotp_term module,
                 cotp_term function, unsigned arity, cotp_task *task) {
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  cotp_term ref = cotp_make_ref();
  cotp_term go = go_term(h, ref, job, n);
  cotp_pid pid;
  int rc = cotp_is_none(go) ? COTP_ENOMEM : cotp__task_spawn_go(go, &ref, &pid);
  cotp_heap_release(h, mark);
  if (rc == 0)
    *task = (cotp_task){cotp_self(), pid, ref, module, function, arity};
  return rc;
}

int cotp_task_async(cotp_task_fn *fn, void *arg, cotp_task *task) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  if (!fn || !task)
    return COTP_EINVAL;
  cotp_term job[2];
  c_job(h, fn, arg, job);
  const struct cotp__task_atoms *a = cotp__task_atoms();
  return async(job, 2, a->erlang, a->apply, 2, task);
}

int cotp_task_async_mfa(cotp_term module, cotp_term function, cotp_term args,
                        cotp_task *task) {
  if (!cotp_self_heap())
    return COTP_ENOTPROC;
  unsigned arity;
  if (!task || check_mfa(module, function, args, &arity) != 0)
    return COTP_EINVAL;
  cotp_term job[3] = {module, function, args};
  return async(job, 3, module, function, arity, task);
}

int cotp_task_attach(cotp_pid pid, bool link, cotp_task_fn *fn, void *arg,
                     cotp_task *task) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  if (!fn || !task || !pid.bits)
    return COTP_EINVAL;
  cotp_term job[2];
  c_job(h, fn, arg, job);
  const struct cotp__task_atoms *a = cotp__task_atoms();
  return cotp__task_attach(pid, link, job, 2, a->erlang, a->apply, 2, task);
}

int cotp_task_attach_mfa(cotp_pid pid, bool link, cotp_term module,
                         cotp_term function, cotp_term args, cotp_task *task) {
  if (!cotp_self_heap())
    return COTP_ENOTPROC;
  unsigned arity;
  if (!task || !pid.bits || check_mfa(module, function, args, &arity) != 0)
    return COTP_EINVAL;
  cotp_term job[3] = {module, function, args};
  return cotp__task_attach(pid, link, job, 3, module, function, arity, task);
}

/* --- start, start_link --- */

static int start(const cotp_term *job, size_t n, bool link, cotp_pid *pid) {
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  cotp_term go = go_term(h, COTP_NONE, job, n);
  cotp_pid got = {0};
  int rc;
  if (cotp_is_none(go)) {
    rc = COTP_ENOMEM;
  } else if (!link) {
    rc = cotp__task_spawn_go(go, NULL, &got);
  } else if ((rc = cotp_spawn_link(cotp_task_entry, NULL, &got)) == 0 &&
             (rc = cotp_send(got, go)) != 0) {
    abandon(got);
  }
  cotp_heap_release(h, mark);
  if (rc == 0 && pid)
    *pid = got;
  return rc;
}

static int start_c(cotp_task_fn *fn, void *arg, bool link, cotp_pid *pid) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  if (!fn)
    return COTP_EINVAL;
  cotp_term job[2];
  c_job(h, fn, arg, job);
  return start(job, 2, link, pid);
}

static int start_mfa(cotp_term module, cotp_term function, cotp_term args,
                     bool link, cotp_pid *pid) {
  if (!cotp_self_heap())
    return COTP_ENOTPROC;
  unsigned arity;
  if (check_mfa(module, function, args, &arity) != 0)
    return COTP_EINVAL;
  cotp_term job[3] = {module, function, args};
  return start(job, 3, link, pid);
}

int cotp_task_start(cotp_task_fn *fn, void *arg, cotp_pid *pid) {
  return start_c(fn, arg, false, pid);
}

int cotp_task_start_link(cotp_task_fn *fn, void *arg, cotp_pid *pid) {
  return start_c(fn, arg, true, pid);
}

int cotp_task_start_mfa(cotp_term module, cotp_term function, cotp_term args,
                        cotp_pid *pid) {
  return start_mfa(module, function, args, false, pid);
}

int cotp_task_start_link_mfa(cotp_term module, cotp_term function,
                             cotp_term args, cotp_pid *pid) {
  return start_mfa(module, function, args, true, pid);
}

/* --- completed --- */

int cotp_task_completed(cotp_term value, cotp_task *task) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  if (cotp_is_none(value) || !task)
    return COTP_EINVAL;
  cotp_term ref = cotp_make_ref();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  cotp_term reply = COTP_TUPLE(h, ref, value);
  int rc = cotp_is_none(reply) ? COTP_ENOMEM : cotp_send(cotp_self(), reply);
  cotp_heap_release(h, mark);
  if (rc != 0)
    return rc;
  const struct cotp__task_atoms *a = cotp__task_atoms();
  *task = (cotp_task){cotp_self(), {0}, ref, a->task, a->completed, 1};
  return 0;
}
