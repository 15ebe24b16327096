/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sup_client.c: the Supervisor and DynamicSupervisor functions clients
 * call: starts, and the admin requests as GenServer calls with OTP's
 * request shapes.  Calls wait forever, as Supervisor's do: a supervisor
 * answers between restarts, and a start_child waits for the child's init.
 */
#include "sup_impl.h"

int cotp__sup_start(const cotp_supervisor_module *mod, bool dynamic,
                    cotp_term arg, const cotp_supervisor_opts *opts,
                    cotp_pid *pid, cotp_term *reason);

int cotp_supervisor_start_link(const cotp_supervisor_module *mod,
                               cotp_term arg, const cotp_supervisor_opts *opts,
                               cotp_pid *pid, cotp_term *reason) {
  return cotp__sup_start(mod, false, arg, opts, pid, reason);
}

/* The list-based start and the option-based DynamicSupervisor start: init
 * returns what the starter built. */
static cotp_term given_init(cotp_term arg) { return arg; }
static const cotp_supervisor_module list_mod = {"Supervisor.Default",
                                                given_init};
static const cotp_supervisor_module dyn_mod = {"DynamicSupervisor",
                                               given_init};

int cotp_supervisor_start_link_children(const cotp_child_spec *specs, size_t n,
                                        const cotp_supervisor_flags *flags,
                                        const cotp_supervisor_opts *opts,
                                        cotp_pid *pid, cotp_term *reason) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  if (n && !specs)
    return COTP_EINVAL;
  cotp_term arg = cotp_supervisor_init(h, flags, specs, n);
  if (cotp_is_none(arg))
    return COTP_ENOMEM;
  return cotp__sup_start(&list_mod, false, arg, opts, pid, reason);
}

int cotp_dynamic_supervisor_start_link(const cotp_dynamic_supervisor_opts *opts,
                                       cotp_pid *pid, cotp_term *reason) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  cotp_dynamic_supervisor_opts d = COTP_DYNAMIC_SUPERVISOR_OPTS_INIT;
  if (!opts)
    opts = &d;
  cotp_term flags = cotp_format(
      h,
      "%{strategy: :one_for_one, intensity: ~L, period: ~L, max_children: ~t, "
      "extra_arguments: ~t}",
      (long long)opts->max_restarts, (long long)opts->max_seconds,
      opts->max_children == COTP_INFINITY ? COTP_ATOM_INFINITY
                                          : cotp_int(h, opts->max_children),
      cotp_is_none(opts->extra_arguments) ? COTP_NIL : opts->extra_arguments);
  if (opts->backoff_ms)
    flags = cotp_map_put(h, flags, COTP_ATOM(backoff),
                         COTP_TUPLE(h, cotp_int(h, opts->backoff_ms),
                                    cotp_int(h, opts->backoff_max_ms)));
  cotp_supervisor_opts so = {opts->name, opts->spawn};
  return cotp__sup_start(&dyn_mod, true, COTP_TUPLE(h, COTP_ATOM_OK, flags),
                         &so, pid, reason);
}

int cotp_dynamic_supervisor_start_link_module(const cotp_supervisor_module *mod,
                                              cotp_term arg,
                                              const cotp_supervisor_opts *opts,
                                              cotp_pid *pid, cotp_term *reason) {
  return cotp__sup_start(mod, true, arg, opts, pid, reason);
}

/* --- requests --- */

static cotp_term call(cotp_server sup, cotp_term req) {
  return cotp_genserver_call(sup, req, COTP_INFINITY);
}

static bool is_error(cotp_term r) {
  return cotp_tuple_size(r) == 2 && cotp_tuple_get(r, 0).w == COTP_ATOM_ERROR.w;
}

/* Reads a start_child or restart_child reply. */
static int start_reply(cotp_term r, cotp_pid *pid, cotp_term *reply) {
  if (reply)
    *reply = r;
  if (pid)
    *pid = (cotp_pid){0};
  if (r.w == COTP_ATOM_IGNORE.w)
    return COTP_SUPERVISOR_IGNORE;
  if (is_error(r) || cotp_is_none(r))
    return COTP_SUPERVISOR_ERROR;
  if (pid)
    *pid = cotp_get_pid(cotp_tuple_get(r, 1));
  return 0;
}

int cotp_supervisor_start_child_term(cotp_server sup, cotp_term spec,
                                     cotp_pid *pid, cotp_term *reply) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  if (cotp_is_none(spec))
    return COTP_EINVAL;
  /* a shorthand is expanded here, in the caller, as Elixir does */
  if (cotp_child_spec_expand(h, spec, &spec) != 0)
    return start_reply(COTP_TUPLE(h, COTP_ATOM_ERROR, spec), pid, reply);
  return start_reply(call(sup, COTP_TUPLE(h, SUP_ATOM(start_child), spec)), pid,
                     reply);
}

int cotp_supervisor_start_child(cotp_server sup, const cotp_child_spec *spec,
                                cotp_pid *pid, cotp_term *reply) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  if (!spec)
    return COTP_EINVAL;
  cotp_term t = cotp_child_spec_term(h, spec), why;
  if (cotp_is_none(t))
    return COTP_ENOMEM;
  /* checked here, before any message is sent (J8); the words for it go
   * to the log as the supervisor's would (sup_server.c) */
  if (cotp_child_spec_check(h, t, &why) != 0) {
    if (cotp_log_enabled(COTP_LOG_INFO)) {
      char text[1024];
      cotp__sup_spec_explain(text, sizeof text, t, 0, why);
      cotp_log(COTP_LOG_INFO, "start_child rejected: %s", text);
    }
    return start_reply(COTP_TUPLE(h, COTP_ATOM_ERROR, why), pid, reply);
  }
  return cotp_supervisor_start_child_term(sup, t, pid, reply);
}

int cotp_dynamic_supervisor_start_child(cotp_server sup,
                                        const cotp_child_spec *spec,
                                        cotp_pid *pid, cotp_term *reply) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  if (!spec)
    return COTP_EINVAL;
  cotp_child_spec s = *spec;
  if (cotp_is_none(s.id))
    s.id = COTP_ATOM_UNDEFINED; /* ids mean nothing here */
  if (s.significant) {
    if (reply)
      *reply = cotp_format(h, "{:error, {:invalid_significant, true}}");
    return COTP_SUPERVISOR_ERROR;
  }
  return cotp_supervisor_start_child(sup, &s, pid, reply);
}

static int simple(cotp_term r, cotp_term *reason) {
  if (is_error(r)) {
    if (reason)
      *reason = cotp_tuple_get(r, 1);
    return COTP_SUPERVISOR_ERROR;
  }
  return 0;
}

int cotp_supervisor_terminate_child(cotp_server sup, cotp_term id,
                                    cotp_term *reason) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  return simple(call(sup, COTP_TUPLE(h, COTP_ATOM(terminate_child), id)), reason);
}

int cotp_dynamic_supervisor_terminate_child(cotp_server sup, cotp_pid child) {
  int rc = cotp_supervisor_terminate_child(sup, cotp_pid_term(child), NULL);
  return rc == COTP_SUPERVISOR_ERROR ? COTP_ENOTFOUND : rc;
}

int cotp_supervisor_restart_child(cotp_server sup, cotp_term id, cotp_pid *pid,
                                  cotp_term *reply) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  int rc = start_reply(call(sup, COTP_TUPLE(h, COTP_ATOM(restart_child), id)),
                       pid, reply);
  return rc;
}

int cotp_supervisor_delete_child(cotp_server sup, cotp_term id,
                                 cotp_term *reason) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  return simple(call(sup, COTP_TUPLE(h, COTP_ATOM(delete_child), id)), reason);
}

cotp_term cotp_supervisor_which_children(cotp_server sup) {
  if (!cotp_self_heap())
    return COTP_NONE;
  return call(sup, COTP_ATOM(which_children));
}

cotp_term cotp_child_counts_term(cotp_heap *h, const cotp_child_counts *c) {
  return cotp_format(h, "%{specs: ~L, active: ~L, supervisors: ~L, workers: ~L}",
                     (long long)c->specs, (long long)c->active,
                     (long long)c->supervisors, (long long)c->workers);
}

int cotp_supervisor_count_children(cotp_server sup, cotp_child_counts *counts) {
  if (!cotp_self_heap())
    return COTP_ENOTPROC;
  if (!counts)
    return COTP_EINVAL;
  cotp_term m = call(sup, COTP_ATOM(count_children));
  counts->specs = (size_t)cotp_int_value(cotp_map_get(m, COTP_ATOM(specs)));
  counts->active = (size_t)cotp_int_value(cotp_map_get(m, COTP_ATOM(active)));
  counts->supervisors =
      (size_t)cotp_int_value(cotp_map_get(m, COTP_ATOM(supervisors)));
  counts->workers = (size_t)cotp_int_value(cotp_map_get(m, COTP_ATOM(workers)));
  return 0;
}

int cotp_supervisor_get_childspec(cotp_server sup, cotp_term id,
                                  cotp_term *spec) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  cotp_term r = call(sup, COTP_TUPLE(h, COTP_ATOM(get_childspec), id));
  if (spec)
    *spec = cotp_tuple_get(r, 1);
  return is_error(r) ? COTP_SUPERVISOR_ERROR : 0;
}

int cotp_supervisor_stop(cotp_server sup, cotp_term reason, int64_t timeout_ms) {
  return cotp_genserver_stop(sup, reason, timeout_ms);
}
