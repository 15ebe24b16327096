/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sup_server.c: the supervisor process, a GenServer that traps exits.
 *
 * Its requests are OTP's supervisor calls ({:start_child, spec},
 * {:terminate_child, id}, {:restart_child, id}, {:delete_child, id},
 * :which_children, :count_children, {:get_childspec, id}); its info
 * messages are children's EXITs and its own retries; its terminate shuts
 * the children down.  The parent's exit signal is the GenServer's
 * business: it runs terminate and exits with the parent's reason.
 *
 * Why a GenServer and not a bare handler: start, names, calls, stop and
 * the parent protocol are exactly a GenServer's, and the cost of the
 * extra layer is one indirect call per message.
 */
#include <stdlib.h>
#include <string.h>

#include "module_atom.h"
#include "sup_impl.h"

cotp_term cotp__sup_module_name(const struct sup *s) {
  return cotp__module_atom(s->mod && s->mod->name ? s->mod->name : "Supervisor");
}

/* --- init --- */

/* A bad spec in the init list stops the start with OTP's term,
 * {:start_spec, e}, which says the field but not the child (OTP's says no
 * more); the log says both, at the level of the crash report the failed
 * start makes. */
static bool reject(struct sup *s, cotp_term spec, size_t position, cotp_term e,
                   cotp_term *reason) {
  *reason = COTP_TUPLE(cotp_self_heap(), COTP_ATOM(start_spec), e);
  if (cotp_log_enabled(COTP_LOG_ERROR)) {
    char text[1024];
    cotp__sup_spec_explain(text, sizeof text, spec, position, e);
    cotp__sup_report_bad_spec(s, COTP_LOG_ERROR, "failed to start", text);
  }
  return false;
}

struct id_at {
  cotp_term id, spec;
  size_t position; /* 1-based, in the list */
};

static int by_id_then_position(const void *a, const void *b) {
  const struct id_at *x = a, *y = b;
  int c = cotp_term_compare(x->id, y->id);
  return c ? c : (x->position > y->position) - (x->position < y->position);
}

static bool check_specs(struct sup *s, cotp_term specs, cotp_term *reason) {
  cotp_heap *h = cotp_self_heap();
  size_t n;
  if (cotp_list_length(specs, &n) != 0) {
    *reason = COTP_TUPLE(h, COTP_ATOM(start_spec),
                         COTP_TUPLE(h, COTP_ATOM(invalid_child_spec), specs));
    cotp__sup_report_bad_spec(s, COTP_LOG_ERROR, "failed to start",
                              "the child specs are not a list");
    return false;
  }
  /* In list order, the first bad spec or the first id an earlier child
   * has stops the start.  The ids are compared sorted, not each against
   * every earlier one: a supervisor of 30,000 static children took 45 s
   * to start that way (I41). */
  struct id_at *ids = malloc((n ? n : 1) * sizeof *ids);
  if (!ids) {
    *reason = COTP_TUPLE(h, COTP_ATOM(start_spec), COTP_ATOM(enomem));
    return false;
  }
  size_t valid = 0;
  cotp_term bad = COTP_NONE, bad_e = COTP_NONE;
  for (cotp_term l = specs; cotp_is_cons(l); l = cotp_tail(l), valid++) {
    cotp_term e;
    if (cotp_child_spec_check(h, cotp_head(l), &e) != 0) {
      bad = cotp_head(l), bad_e = e;
      break;
    }
    struct child probe;
    cotp__sup_spec_fields(cotp_head(l), &probe);
    if (probe.significant &&
        (s->auto_shutdown == COTP_AUTO_SHUTDOWN_NEVER ||
         probe.restart == COTP_PERMANENT)) {
      bad = cotp_head(l);
      bad_e = COTP_TUPLE(h, COTP_ATOM(invalid_significant), COTP_ATOM_TRUE);
      break;
    }
    ids[valid] = (struct id_at){probe.id, cotp_head(l), valid + 1};
  }
  /* the earliest position at which an id repeats, among the valid ones */
  qsort(ids, valid, sizeof *ids, by_id_then_position);
  size_t dup = 0;
  for (size_t i = 1; i < valid; i++)
    if (cotp_term_eq(ids[i - 1].id, ids[i].id) &&
        (dup == 0 || ids[i].position < ids[dup].position))
      dup = i;
  bool ok = true;
  if (dup)
    ok = reject(s, ids[dup].spec, ids[dup].position,
                COTP_TUPLE(h, COTP_ATOM(duplicate_child_name), ids[dup].id), reason);
  else if (!cotp_is_none(bad))
    ok = reject(s, bad, valid + 1, bad_e, reason);
  free(ids);
  return ok;
  return true;
}

static cotp_gs_ret sup_init(cotp_term arg, void **state) {
  struct sup *s = *state;
  cotp_heap *h = cotp_self_heap();
  cotp_trap_exit(true, NULL);
  s->heap = cotp_heap_new();
  if (!s->heap)
    return cotp_gs_stop(COTP_ATOM(enomem));
  cotp_term ret = s->mod->init(arg);
  if (ret.w == COTP_ATOM_IGNORE.w)
    return cotp_gs_ignore();
  cotp_term flags = COTP_NONE, specs = COTP_NIL, reason;
  bool ok = cotp_tuple_size(ret) == 2 &&
            cotp_tuple_get(ret, 0).w == COTP_ATOM_OK.w;
  if (ok && s->dynamic) {
    flags = cotp_tuple_get(ret, 1);
    ok = cotp_is_map(flags);
  } else if (ok) {
    cotp_term fs = cotp_tuple_get(ret, 1);
    ok = cotp_tuple_size(fs) == 2;
    flags = cotp_tuple_get(fs, 0);
    specs = cotp_tuple_get(fs, 1);
  }
  if (!ok)
    return cotp_gs_stop(cotp_format(h, "{:bad_return, {~t, :init, ~t}}",
                                    cotp__sup_module_name(s), ret));
  if (cotp__sup_parse_flags(s, flags, &reason) != 0)
    return cotp_gs_stop(reason);
  /* Supervisor.init/2 expands module shorthands in the supervisor */
  cotp_term reversed = COTP_NIL;
  size_t position = 1;
  for (cotp_term l = specs; cotp_is_cons(l); l = cotp_tail(l), position++) {
    cotp_term one;
    if (cotp_child_spec_expand(h, cotp_head(l), &one) != 0) {
      reject(s, cotp_head(l), position, one, &reason);
      return cotp_gs_stop(reason);
    }
    reversed = cotp_cons(h, one, reversed);
  }
  if (cotp_is_cons(specs)) {
    specs = COTP_NIL;
    for (; cotp_is_cons(reversed); reversed = cotp_tail(reversed))
      specs = cotp_cons(h, cotp_head(reversed), specs);
  }
  if (!check_specs(s, specs, &reason))
    return cotp_gs_stop(reason);
  for (cotp_term l = specs; cotp_is_cons(l); l = cotp_tail(l)) {
    struct child fields;
    memset(&fields, 0, sizeof fields);
    cotp__sup_spec_fields(cotp_head(l), &fields);
    struct child *c = cotp__sup_child_new(s, &fields);
    if (!c)
      return cotp_gs_stop(COTP_ATOM(enomem));
    cotp__sup_append(s, c);
  }
  if (!cotp__sup_start_initial(s, &reason))
    return cotp_gs_stop(reason);
  return cotp_gs_ok();
}

/* --- requests --- */

static cotp_term error(cotp_term r) {
  return COTP_TUPLE(cotp_self_heap(), COTP_ATOM_ERROR, r);
}

/* A spec start_child rejects: OTP's {:error, e} to the caller, who knows
 * which child it meant, and the words for it in the log at the level of
 * the supervisor's other reports (hidden by default: OTP says nothing). */
static cotp_term spec_error(struct sup *s, cotp_term spec, cotp_term e) {
  if (cotp_log_enabled(COTP_LOG_INFO)) {
    char text[1024];
    cotp__sup_spec_explain(text, sizeof text, spec, 0, e);
    cotp__sup_report_bad_spec(s, COTP_LOG_INFO, "rejected start_child", text);
  }
  return error(e);
}

static cotp_term start_child(struct sup *s, cotp_term spec) {
  cotp_heap *h = cotp_self_heap();
  cotp_term why;
  struct child probe;
  memset(&probe, 0, sizeof probe);
  if (cotp__sup_spec_read(h, spec, &probe, &why) != 0)
    return spec_error(s, spec, why);
  if (!s->dynamic) {
    if (probe.significant && (s->auto_shutdown == COTP_AUTO_SHUTDOWN_NEVER ||
                              probe.restart == COTP_PERMANENT))
      return spec_error(
          s, spec, COTP_TUPLE(h, COTP_ATOM(invalid_significant), COTP_ATOM_TRUE));
    struct child *old = cotp__sup_by_id(s, probe.id);
    if (old && old->status == CHILD_RUNNING)
      return error(COTP_TUPLE(h, COTP_ATOM_ALREADY_STARTED,
                              cotp_pid_term(old->pid)));
    if (old)
      return error(COTP_ATOM(already_present));
  } else {
    if (probe.significant)
      return spec_error(
          s, spec, COTP_TUPLE(h, COTP_ATOM(invalid_significant), COTP_ATOM_TRUE));
    if (s->max_children != COTP_INFINITY &&
        (int64_t)s->nchildren >= s->max_children)
      return error(COTP_ATOM(max_children));
  }
  struct child *c = cotp__sup_child_new(s, &probe);
  if (!c)
    return error(COTP_ATOM(enomem));
  cotp_pid pid;
  cotp_term reply;
  s->starting = c; /* sup_free's while the start waits (sup_impl.h) */
  int rc = cotp__sup_do_start(s, c, &pid, &reply);
  s->starting = NULL;
  if (rc == 0 && pid.bits) {
    cotp__sup_append(s, c);
    cotp__sup_set_running(s, c, pid);
    return reply;
  }
  if (rc == 0) { /* ignore */
    if (s->dynamic) {
      cotp__sup_child_free(c);
      return COTP_ATOM_IGNORE;
    }
    if (c->restart == COTP_TEMPORARY) /* I4 */
      cotp__sup_child_free(c);
    else
      cotp__sup_append(s, c);
    return COTP_TUPLE(h, COTP_ATOM_OK, COTP_ATOM_UNDEFINED);
  }
  if (s->dynamic) {
    cotp__sup_child_free(c);
    return error(reply); /* J4, J5: the reason as is */
  }
  if (rc == 2)
    reply = COTP_TUPLE(h, COTP_ATOM_EXIT, reply);
  cotp_term info = cotp__sup_child_info(h, c);
  cotp__sup_child_free(c);
  return error(COTP_TUPLE(h, reply, info)); /* I5 */
}

static cotp_term terminate_child(struct sup *s, cotp_term id) {
  struct child *c = NULL;
  if (s->dynamic) {
    if (cotp_is_pid(id))
      c = cotp__sup_by_pid(s, cotp_get_pid(id));
  } else {
    c = cotp__sup_by_id(s, id);
  }
  if (!c)
    return error(COTP_ATOM(not_found));
  if (c->status == CHILD_RUNNING)
    cotp__sup_terminate(s, c);
  if (s->dynamic || c->restart == COTP_TEMPORARY)
    cotp__sup_remove(s, c);
  else
    cotp__sup_set_stopped(s, c, CHILD_UNDEFINED); /* ends a retry loop */
  return COTP_ATOM_OK;
}

/* The child restart_child and delete_child act on: a stopped one of a
 * static supervisor.  Returns it, or NULL with the call's {:error, _} in
 * *refused. */
static struct child *stopped_child(struct sup *s, cotp_term id,
                                   cotp_term *refused) {
  if (s->dynamic) {
    *refused = error(COTP_ATOM(simple_one_for_one));
    return NULL;
  }
  struct child *c = cotp__sup_by_id(s, id);
  if (!c)
    *refused = error(COTP_ATOM(not_found));
  else if (c->status == CHILD_RUNNING)
    *refused = error(COTP_ATOM(running));
  else if (c->status == CHILD_RESTARTING)
    *refused = error(COTP_ATOM(restarting));
  else
    return c;
  return NULL;
}

static cotp_term restart_child(struct sup *s, cotp_term id) {
  cotp_term refused;
  struct child *c = stopped_child(s, id, &refused);
  if (!c)
    return refused;
  cotp_pid pid;
  cotp_term reply;
  int rc = cotp__sup_do_start(s, c, &pid, &reply);
  if (rc == 0 && pid.bits) {
    cotp__sup_set_running(s, c, pid);
    return reply;
  }
  if (rc == 0)
    return COTP_TUPLE(cotp_self_heap(), COTP_ATOM_OK, COTP_ATOM_UNDEFINED);
  if (rc == 2)
    reply = COTP_TUPLE(cotp_self_heap(), COTP_ATOM_EXIT, reply);
  return error(reply); /* I6 */
}

static cotp_term delete_child(struct sup *s, cotp_term id) {
  cotp_term refused;
  struct child *c = stopped_child(s, id, &refused);
  if (!c)
    return refused;
  cotp__sup_remove(s, c);
  return COTP_ATOM_OK;
}

/* OTP lists a supervisor's children last started first (its id list
 * grows at the head); a DynamicSupervisor's come in start order (Elixir
 * walks a map of pids, which for new pids is start order).  Consing while
 * walking gives the reverse of the walk. */
static cotp_term which_children(struct sup *s) {
  cotp_heap *h = cotp_self_heap();
  cotp_term l = COTP_NIL;
  for (struct child *c = s->dynamic ? s->last : s->first; c;
       c = s->dynamic ? c->prev : c->next) {
    cotp_term info = cotp__sup_child_info(h, c);
    /* {:child, pid, id, start, restart, significant, shutdown, type, mods} */
    l = cotp_cons(h,
                  COTP_TUPLE(h, cotp_tuple_get(info, 2), cotp_tuple_get(info, 1),
                             cotp_tuple_get(info, 7), cotp_tuple_get(info, 8)),
                  l);
  }
  return l;
}

static cotp_term count_children(struct sup *s) {
  cotp_child_counts k = {0, 0, 0, 0};
  for (struct child *c = s->first; c; c = c->next) {
    k.specs++;
    k.active += c->status == CHILD_RUNNING;
    k.supervisors += c->type == COTP_SUPERVISOR;
    k.workers += c->type == COTP_WORKER;
  }
  return cotp_child_counts_term(cotp_self_heap(), &k);
}

static bool is_cmd(cotp_term t, const char *name, size_t n) {
  return cotp_tuple_size(t) == n && cotp_tuple_get(t, 0).w == cotp_atom(name).w;
}

static cotp_gs_ret sup_call(cotp_term req, cotp_genserver_from from,
                            void **state) {
  (void)from;
  struct sup *s = *state;
  if (cotp_tuple_size(req) == 2 && cotp_tuple_get(req, 0).w == SUP_ATOM(start_child).w)
    return cotp_gs_reply(start_child(s, cotp_tuple_get(req, 1)));
  if (is_cmd(req, "terminate_child", 2))
    return cotp_gs_reply(terminate_child(s, cotp_tuple_get(req, 1)));
  if (is_cmd(req, "restart_child", 2))
    return cotp_gs_reply(restart_child(s, cotp_tuple_get(req, 1)));
  if (is_cmd(req, "delete_child", 2))
    return cotp_gs_reply(delete_child(s, cotp_tuple_get(req, 1)));
  if (req.w == COTP_ATOM(which_children).w)
    return cotp_gs_reply(which_children(s));
  if (req.w == COTP_ATOM(count_children).w)
    return cotp_gs_reply(count_children(s));
  if (is_cmd(req, "get_childspec", 2)) {
    struct child *c = s->dynamic ? NULL : cotp__sup_by_id(s, cotp_tuple_get(req, 1));
    if (s->dynamic && cotp_is_pid(cotp_tuple_get(req, 1)))
      c = cotp__sup_by_pid(s, cotp_get_pid(cotp_tuple_get(req, 1)));
    return cotp_gs_reply(c ? COTP_TUPLE(cotp_self_heap(), COTP_ATOM_OK,
                                        cotp__sup_child_spec_map(cotp_self_heap(), c))
                           : error(COTP_ATOM(not_found)));
  }
  return cotp_gs_reply(error(COTP_TUPLE(cotp_self_heap(),
                                        COTP_ATOM(unknown_call), req)));
}

static cotp_gs_ret sup_info(cotp_term msg, void **state) {
  struct sup *s = *state;
  cotp_term stop;
  /* the EXIT of a crashed child comes first: a restart should not pay
   * for an atom lookup by name (cotp_atom() hashes the string) */
  if (cotp_tuple_size(msg) == 3 && cotp_tuple_get(msg, 0).w == COTP_ATOM_EXIT.w) {
    struct child *c = cotp__sup_by_pid(s, cotp_get_pid(cotp_tuple_get(msg, 1)));
    if (c && c->status == CHILD_RUNNING &&
        !cotp__sup_child_exited(s, c, cotp_tuple_get(msg, 2), &stop))
      return cotp_gs_stop(stop);
    return cotp_gs_noreply();
  }
  if (cotp_tuple_size(msg) == 3 &&
      cotp_tuple_get(msg, 0).w == cotp__sup_atom_retry().w) {
    int64_t key;
    cotp_get_int(cotp_tuple_get(msg, 1), &key);
    if (!cotp__sup_retry(s, (uint64_t)key,
                         cotp_tuple_get(msg, 2).w == COTP_ATOM_TRUE.w, &stop))
      return cotp_gs_stop(stop);
  }
  return cotp_gs_noreply();
}

static void sup_terminate(cotp_term reason, void *state) {
  (void)reason;
  cotp__sup_terminate_all(state);
}

static void sup_free(void *state) {
  struct sup *s = state;
  for (struct child *c = s->first, *next; c; c = next) {
    next = c->next;
    cotp__sup_child_free(c);
  }
  cotp__sup_child_free(s->starting);
  free(s->table);
  free(s->restarts);
  free(s->stopping);
  cotp_heap_free(s->heap);
  free(s);
}

static const cotp_genserver_callbacks sup_cb = {
    .name = "Supervisor",
    .init = sup_init,
    .handle_call = sup_call,
    .handle_info = sup_info,
    .terminate = sup_terminate,
    .free_state = sup_free,
};

/* --- starting --- */

int cotp__sup_start(const cotp_supervisor_module *mod, bool dynamic,
                    cotp_term arg, const cotp_supervisor_opts *opts,
                    cotp_pid *pid, cotp_term *reason);

int cotp__sup_start(const cotp_supervisor_module *mod, bool dynamic,
                    cotp_term arg, const cotp_supervisor_opts *opts,
                    cotp_pid *pid, cotp_term *reason) {
  if (!mod || !mod->init)
    return COTP_EINVAL;
  struct sup *s = calloc(1, sizeof *s);
  if (!s)
    return COTP_ENOMEM;
  s->mod = mod;
  s->dynamic = dynamic;
  s->extra = COTP_NIL;
  cotp_genserver_opts o = COTP_GENSERVER_OPTS_INIT;
  if (opts) {
    o.name = opts->name;
    o.spawn = opts->spawn;
  }
  o.state = s;
  int rc = cotp_genserver_start_link(&sup_cb, arg, &o, pid, reason);
  if (rc < 0)
    free(s);
  return rc;
}
