/* SPDX-License-Identifier: Apache-2.0 */
/*
 * task_sup.c: Task.Supervisor on DynamicSupervisor and the Task layer's
 * building blocks (cotp_task_entry, cotp_task_attach).
 *
 * async: the supervisor starts a process running cotp_task_entry for the
 * caller (it waits for its go-ahead, bounded by the owner's life), then the
 * caller attaches to it: monitor with alias, link or not, go-ahead.  So the
 * task is the supervisor's child and the caller's task, as in Elixir.
 * start_child: the supervisor starts cotp_task_start_link(fn, arg) itself.
 * The C function and its argument travel in the child spec as integers,
 * which is what a C start means inside one program (supervisor.h).
 */
#include "sup_impl.h"

int cotp_task_supervisor_start_link(const cotp_task_supervisor_opts *opts,
                                    cotp_pid *pid, cotp_term *reason) {
  cotp_task_supervisor_opts d = COTP_TASK_SUPERVISOR_OPTS_INIT;
  if (!opts)
    opts = &d;
  cotp_dynamic_supervisor_opts o = COTP_DYNAMIC_SUPERVISOR_OPTS_INIT;
  o.name = opts->name;
  o.spawn = opts->spawn;
  o.max_children = opts->max_children;
  o.max_restarts = opts->max_restarts;
  o.max_seconds = opts->max_seconds;
  return cotp_dynamic_supervisor_start_link(&o, pid, reason);
}

static cotp_term start_task_sup(cotp_term args, void *ctx) {
  (void)ctx;
  cotp_task_supervisor_opts o = COTP_TASK_SUPERVISOR_OPTS_INIT;
  cotp_term name = cotp_head(args);
  if (cotp_is_atom(name) && name.w != COTP_ATOM_NIL.w)
    o.name = cotp_name_local(name);
  cotp_pid pid;
  cotp_term reason = COTP_NONE;
  cotp_heap *h = cotp_self_heap();
  int rc = cotp_task_supervisor_start_link(&o, &pid, &reason);
  if (rc == 0)
    return COTP_TUPLE(h, COTP_ATOM_OK, cotp_pid_term(pid));
  if (rc == COTP_SUPERVISOR_IGNORE)
    return COTP_ATOM_IGNORE;
  return COTP_TUPLE(h, COTP_ATOM_ERROR,
                    rc > 0 ? reason : cotp_atom(cotp_err_name(rc)));
}

cotp_child_spec cotp_task_supervisor_child_spec(cotp_term id, cotp_term name) {
  cotp_child_spec s = COTP_CHILD_SPEC_INIT;
  cotp_heap *h = cotp_self_heap();
  bool named = cotp_is_atom(name) && name.w != COTP_ATOM_NIL.w;
  /* Elixir's default id: the name, or Task.Supervisor (G1) */
  if (cotp_is_none(id))
    id = named ? name : cotp_atom("Elixir.Task.Supervisor");
  s.id = id;
  s.start = start_task_sup;
  s.args = COTP_LIST(h, cotp_is_none(name) ? COTP_ATOM_NIL : name);
  s.type = COTP_SUPERVISOR;
  s.modules = COTP_LIST(h, cotp_atom("Elixir.Task.Supervisor"));
  return s;
}

/* --- the children's start functions --- */

/* args [owner]: a process waiting for its owner's go-ahead */
static cotp_term start_for_owner(cotp_term args, void *ctx) {
  (void)ctx;
  cotp_pid owner = cotp_get_pid(cotp_head(args));
  cotp_pid pid;
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  o.link = true;
  int rc = cotp_spawn_opt(cotp_task_entry, cotp_task_entry_owner(owner), &o, &pid);
  cotp_heap *h = cotp_self_heap();
  if (rc != 0)
    return COTP_TUPLE(h, COTP_ATOM_ERROR, cotp_atom(cotp_err_name(rc)));
  return COTP_TUPLE(h, COTP_ATOM_OK, cotp_pid_term(pid));
}

/* args [fn, arg] as integers, the last two of the list (a
 * DynamicSupervisor's extra_arguments come in front, and a C task has no
 * use for them): Task.start_link(fn, arg) */
static cotp_term start_fire(cotp_term args, void *ctx) {
  (void)ctx;
  size_t n = 0;
  cotp_list_length(args, &n);
  for (; n > 2; n--)
    args = cotp_tail(args);
  cotp_task_fn *fn =
      (cotp_task_fn *)(uintptr_t)cotp_int_value(cotp_head(args));
  void *arg = (void *)(uintptr_t)cotp_int_value(cotp_head(cotp_tail(args)));
  cotp_pid pid;
  int rc = cotp_task_start_link(fn, arg, &pid);
  cotp_heap *h = cotp_self_heap();
  if (rc != 0)
    return COTP_TUPLE(h, COTP_ATOM_ERROR, cotp_atom(cotp_err_name(rc)));
  return COTP_TUPLE(h, COTP_ATOM_OK, cotp_pid_term(pid));
}

/* args [entry, arg] as integers: a stream task */
static cotp_term start_entry(cotp_term args, void *ctx) {
  (void)ctx;
  cotp_entry *entry = (cotp_entry *)(uintptr_t)cotp_int_value(cotp_head(args));
  void *arg = (void *)(uintptr_t)cotp_int_value(cotp_head(cotp_tail(args)));
  cotp_pid pid;
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  o.link = true;
  int rc = cotp_spawn_opt(entry, arg, &o, &pid);
  cotp_heap *h = cotp_self_heap();
  if (rc != 0)
    return COTP_TUPLE(h, COTP_ATOM_ERROR, cotp_atom(cotp_err_name(rc)));
  return COTP_TUPLE(h, COTP_ATOM_OK, cotp_pid_term(pid));
}

cotp_child_spec cotp_task_child_spec(cotp_term id, cotp_task_fn *fn, void *arg) {
  cotp_child_spec s = COTP_CHILD_SPEC_INIT;
  cotp_heap *h = cotp_self_heap();
  s.id = cotp_is_none(id) ? cotp_atom("Elixir.Task") : id;
  /* no function: no start, so the supervisor refuses the spec
   * (missing_start) */
  s.start = fn ? start_fire : NULL;
  s.args = COTP_LIST(h, cotp_uint(h, (uint64_t)(uintptr_t)fn),
                     cotp_uint(h, (uint64_t)(uintptr_t)arg));
  s.restart = COTP_TEMPORARY;
  s.modules = COTP_LIST(h, cotp_atom("Elixir.Task"));
  return s;
}

static int start_in(cotp_server sup, cotp_child_start_fn *fn, cotp_term args,
                    const cotp_task_child_opts *opts, cotp_pid *pid) {
  cotp_task_child_opts d = COTP_TASK_CHILD_OPTS_INIT;
  if (!opts)
    opts = &d;
  cotp_child_spec s = COTP_CHILD_SPEC_INIT;
  s.id = COTP_ATOM(task);
  s.start = fn;
  s.args = args;
  s.restart = opts->restart;
  s.shutdown = opts->shutdown;
  s.modules = COTP_LIST(cotp_self_heap(), cotp_atom("Elixir.Task.Supervised"));
  cotp_term reply;
  int rc = cotp_dynamic_supervisor_start_child(sup, &s, pid, &reply);
  if (rc == 0)
    return 0;
  if (rc == COTP_SUPERVISOR_ERROR &&
      cotp_tuple_get(reply, 1).w == COTP_ATOM(max_children).w)
    return COTP_ESYSLIMIT;
  return rc < 0 ? rc : COTP_EINVAL;
}

static int async(cotp_server sup, bool link, cotp_task_fn *fn, void *arg,
                 const cotp_task_child_opts *opts, cotp_task *task) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  if (!fn || !task)
    return COTP_EINVAL;
  cotp_pid pid;
  int rc = start_in(sup, start_for_owner, COTP_LIST(h, cotp_pid_term(cotp_self())),
                    opts, &pid);
  if (rc != 0)
    return rc;
  return cotp_task_attach(pid, link, fn, arg, task);
}

int cotp_task_supervisor_async(cotp_server sup, cotp_task_fn *fn, void *arg,
                               const cotp_task_child_opts *opts,
                               cotp_task *task) {
  return async(sup, true, fn, arg, opts, task);
}

int cotp_task_supervisor_async_nolink(cotp_server sup, cotp_task_fn *fn,
                                      void *arg,
                                      const cotp_task_child_opts *opts,
                                      cotp_task *task) {
  return async(sup, false, fn, arg, opts, task);
}

int cotp_task_supervisor_start_child(cotp_server sup, cotp_task_fn *fn,
                                     void *arg,
                                     const cotp_task_child_opts *opts,
                                     cotp_pid *pid) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  if (!fn)
    return COTP_EINVAL;
  return start_in(sup, start_fire,
                  COTP_LIST(h, cotp_uint(h, (uint64_t)(uintptr_t)fn),
                            cotp_uint(h, (uint64_t)(uintptr_t)arg)),
                  opts, pid);
}

cotp_term cotp_task_supervisor_children(cotp_server sup) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_NONE;
  cotp_term l = cotp_supervisor_which_children(sup), out = COTP_NIL;
  for (; cotp_is_cons(l); l = cotp_tail(l)) {
    cotp_term pid = cotp_tuple_get(cotp_head(l), 1);
    if (cotp_is_pid(pid))
      out = cotp_cons(h, pid, out);
  }
  return out;
}

int cotp_task_supervisor_terminate_child(cotp_server sup, cotp_pid pid) {
  return cotp_dynamic_supervisor_terminate_child(sup, pid);
}

/* --- streams --- */

/* The spawner's context is the server pointer with its low bit set for
 * nolink (a cotp_server is 8-byte aligned), which saves an allocation
 * that the stream would have no way to free. */
static int spawn_under(void *ctx, cotp_entry *entry, void *arg,
                       const cotp_task_stream_opts *opts, cotp_pid *pid,
                       bool *linked) {
  cotp_server *sup = ctx;
  bool link = ((uintptr_t)sup & 1u) == 0;
  sup = (cotp_server *)((uintptr_t)sup & ~(uintptr_t)1);
  cotp_heap *h = cotp_self_heap();
  if (entry == cotp_task_entry && !arg)
    arg = cotp_task_entry_owner(cotp_self());
  cotp_task_child_opts co = COTP_TASK_CHILD_OPTS_INIT;
  co.shutdown = opts->shutdown;
  int rc = start_in(*sup, start_entry,
                    COTP_LIST(h, cotp_uint(h, (uint64_t)(uintptr_t)entry),
                              cotp_uint(h, (uint64_t)(uintptr_t)arg)),
                    &co, pid);
  if (rc != 0)
    return rc;
  if (link && (rc = cotp_link(*pid)) != 0)
    return rc;
  *linked = link;
  return 0;
}

static int stream(cotp_server *sup, bool link, cotp_iter *input,
                  cotp_task_stream_fn *fn, void *ctx,
                  const cotp_task_stream_opts *opts, cotp_iter **out,
                  cotp_error *err) {
  if (!sup || ((uintptr_t)sup & 1u))
    return COTP_EINVAL;
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  if (opts)
    o = *opts;
  o.spawn = spawn_under;
  o.spawn_ctx = (void *)((uintptr_t)sup | (link ? 0u : 1u));
  return cotp_task_async_stream(input, fn, ctx, &o, out, err);
}

int cotp_task_supervisor_async_stream(cotp_server *sup, cotp_iter *input,
                                      cotp_task_stream_fn *fn, void *ctx,
                                      const cotp_task_stream_opts *opts,
                                      cotp_iter **out, cotp_error *err) {
  return stream(sup, true, input, fn, ctx, opts, out, err);
}

int cotp_task_supervisor_async_stream_nolink(cotp_server *sup, cotp_iter *input,
                                             cotp_task_stream_fn *fn, void *ctx,
                                             const cotp_task_stream_opts *opts,
                                             cotp_iter **out, cotp_error *err) {
  return stream(sup, false, input, fn, ctx, opts, out, err);
}
