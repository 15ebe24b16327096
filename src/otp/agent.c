/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent.c: Agent on GenServer, as Elixir's is.
 *
 * Each request carries the C function to run as an integer, with its
 * argument term: {:get | :update | :get_and_update, function, arg} for
 * calls, {:cast, function, arg} for casts.  Function addresses are only
 * meaningful in this program, which is fine for a local agent (the
 * distribution layer will have to refuse these requests, or name functions
 * by module and function atoms).  The server's state is a small box
 * holding the user's state and its free function, since the free function
 * is per agent while GenServer's callbacks are shared by all agents.
 */
#include <stdlib.h>

#include "genserver_impl.h"

struct box {
  void *state;
  void (*free_state)(void *state);
};

static cotp_term fn_term(cotp_heap *h, void (*fn)(void)) {
  return cotp_int(h, (int64_t)(intptr_t)fn);
}

static void (*term_fn(cotp_term t))(void) {
  int64_t v = 0;
  cotp_get_int(t, &v);
  return (void (*)(void))(intptr_t)v;
}

/* --- the callbacks --- */

static cotp_gs_ret init(cotp_term arg, void **state) {
  struct box *b = *state;
  cotp_agent_init_fn *fn = (cotp_agent_init_fn *)term_fn(cotp_tuple_get(arg, 0));
  b->state = fn(cotp_tuple_get(arg, 1));
  return cotp_gs_ok();
}

static cotp_gs_ret handle_call(cotp_term request, cotp_genserver_from from,
                               void **state) {
  (void)from;
  struct box *b = *state;
  cotp_term tag = cotp_tuple_get(request, 0), arg = cotp_tuple_get(request, 2);
  void (*fn)(void) = term_fn(cotp_tuple_get(request, 1));
  if (cotp_tuple_size(request) != 3 || !fn)
    return cotp_gs_stop(COTP_TUPLE(cotp_self_heap(), cotp_atom("bad_call"), request));
  if (tag.w == COTP_ATOM(get).w)
    return cotp_gs_reply(((cotp_agent_get_fn *)fn)(b->state, arg));
  if (tag.w == COTP_ATOM(update).w) {
    b->state = ((cotp_agent_update_fn *)fn)(b->state, arg);
    return cotp_gs_reply(COTP_ATOM_OK);
  }
  if (tag.w == COTP_ATOM(get_and_update).w)
    return cotp_gs_reply(((cotp_agent_get_and_update_fn *)fn)(&b->state, arg));
  return cotp_gs_stop(COTP_TUPLE(cotp_self_heap(), cotp_atom("bad_call"), request));
}

static cotp_gs_ret handle_cast(cotp_term request, void **state) {
  struct box *b = *state;
  void (*fn)(void) = term_fn(cotp_tuple_get(request, 1));
  if (cotp_tuple_size(request) != 3 || !fn)
    return cotp_gs_stop(COTP_TUPLE(cotp_self_heap(), cotp_atom("bad_cast"), request));
  b->state = ((cotp_agent_update_fn *)fn)(b->state, cotp_tuple_get(request, 2));
  return cotp_gs_noreply();
}

static void free_box(void *state) {
  struct box *b = state;
  if (b->free_state && b->state)
    b->free_state(b->state);
  free(b);
}

static const cotp_genserver_callbacks agent = {
    .name = "Agent",
    .init = init,
    .handle_call = handle_call,
    .handle_cast = handle_cast,
    .free_state = free_box,
};

/* --- starting --- */

static int start(bool link, cotp_agent_init_fn *fn, cotp_term arg,
                 const cotp_agent_opts *opts, cotp_pid *pid,
                 cotp_term *reason) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  if (!fn || cotp_is_none(arg))
    return COTP_EINVAL;
  cotp_agent_opts defaults = COTP_AGENT_OPTS_INIT;
  if (!opts)
    opts = &defaults;
  struct box *b = calloc(1, sizeof *b);
  if (!b)
    return COTP_ENOMEM;
  b->free_state = opts->free_state;
  cotp_genserver_opts gopts = COTP_GENSERVER_OPTS_INIT;
  gopts.name = opts->name;
  gopts.timeout_ms = opts->timeout_ms;
  gopts.spawn = opts->spawn;
  gopts.state = b;
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  cotp_term init_arg = COTP_TUPLE(h, fn_term(h, (void (*)(void))fn), arg);
  int rc = cotp_is_none(init_arg) ? COTP_ENOMEM
           : link ? cotp_genserver_start_link(&agent, init_arg, &gopts, pid, reason)
                  : cotp_genserver_start(&agent, init_arg, &gopts, pid, reason);
  if (rc < 0) {
    cotp_heap_release(h, mark);
    free(b); /* no process was made: the box is still ours */
  }
  return rc;
}

int cotp_agent_start(cotp_agent_init_fn *init_fn, cotp_term arg,
                     const cotp_agent_opts *opts, cotp_pid *pid,
                     cotp_term *reason) {
  return start(false, init_fn, arg, opts, pid, reason);
}

int cotp_agent_start_link(cotp_agent_init_fn *init_fn, cotp_term arg,
                          const cotp_agent_opts *opts, cotp_pid *pid,
                          cotp_term *reason) {
  return start(true, init_fn, arg, opts, pid, reason);
}

/* --- under a supervisor --- */

/* args [arg, name] (a DynamicSupervisor's extra_arguments in front: then
 * init gets the list of all but the name, as a GenServer child's does). */
cotp_term cotp_agent_start_child(cotp_term args, void *ctx) {
  cotp_heap *h = cotp_self_heap();
  size_t n = 0;
  if (cotp_list_length(args, &n) != 0 || n == 0)
    return COTP_TUPLE(h, COTP_ATOM_ERROR, cotp_atom("badarg"));
  cotp_term arg = COTP_NIL, name = COTP_ATOM_NIL;
  if (n == 1) {
    arg = cotp_head(args);
  } else {
    cotp_term front[n - 1];
    cotp_term l = args;
    for (size_t i = 0; i < n - 1; i++, l = cotp_tail(l))
      front[i] = cotp_head(l);
    name = cotp_head(l);
    arg = n == 2 ? front[0] : cotp_list(h, n - 1, front);
  }
  cotp_agent_opts o = COTP_AGENT_OPTS_INIT;
  if (cotp_is_atom(name) && name.w != COTP_ATOM_NIL.w)
    o.name = cotp_name_local(name);
  cotp_pid pid = {0};
  cotp_term reason = COTP_NONE;
  int rc = start(true, (cotp_agent_init_fn *)(uintptr_t)ctx, arg, &o, &pid, &reason);
  if (rc == 0)
    return COTP_TUPLE(h, COTP_ATOM_OK, cotp_pid_term(pid));
  if (rc == COTP_GENSERVER_ERROR)
    return COTP_TUPLE(h, COTP_ATOM_ERROR, reason);
  return COTP_TUPLE(h, COTP_ATOM_ERROR, cotp_atom(cotp_err_name(rc)));
}

cotp_child_spec cotp_agent_child_spec(cotp_term id, cotp_agent_init_fn *init_fn,
                                      cotp_term arg, cotp_term name) {
  cotp_child_spec s = COTP_CHILD_SPEC_INIT;
  cotp_heap *h = cotp_self_heap();
  s.id = cotp_is_none(id) ? cotp_atom("Elixir.Agent") : id;
  /* no init: no start, so the supervisor refuses the spec (missing_start) */
  s.start = init_fn ? cotp_agent_start_child : NULL;
  s.ctx = (void *)(uintptr_t)init_fn;
  s.args = COTP_LIST(h, arg, cotp_is_none(name) ? COTP_ATOM_NIL : name);
  s.modules = COTP_LIST(h, cotp_atom("Elixir.Agent"));
  return s;
}

/* --- requests --- */

/* {tag, function, arg}, or NONE for a bad argument (the call then exits
 * with badarg, as any call with a bad request does). */
static cotp_term request(const char *tag, void (*fn)(void), cotp_term arg) {
  cotp_heap *h = cotp_self_heap();
  if (!h || !fn || cotp_is_none(arg))
    return COTP_NONE;
  return COTP_TUPLE(h, cotp_atom(tag), fn_term(h, fn), arg);
}

cotp_term cotp_agent_get(cotp_server a, cotp_agent_get_fn *fn, cotp_term arg,
                         int64_t timeout_ms) {
  return cotp_genserver_call(a, request("get", (void (*)(void))fn, arg),
                             timeout_ms);
}

int cotp_agent_update(cotp_server a, cotp_agent_update_fn *fn, cotp_term arg,
                      int64_t timeout_ms) {
  if (!cotp_self_heap())
    return COTP_ENOTPROC;
  if (!fn || cotp_is_none(arg))
    return COTP_EINVAL;
  cotp_genserver_call(a, request("update", (void (*)(void))fn, arg),
                      timeout_ms);
  return 0;
}

cotp_term cotp_agent_get_and_update(cotp_server a,
                                    cotp_agent_get_and_update_fn *fn,
                                    cotp_term arg, int64_t timeout_ms) {
  return cotp_genserver_call(
      a, request("get_and_update", (void (*)(void))fn, arg), timeout_ms);
}

int cotp_agent_cast(cotp_server a, cotp_agent_update_fn *fn, cotp_term arg) {
  if (!fn || cotp_is_none(arg))
    return COTP_EINVAL;
  struct cotp__gs_scratch sc;
  if (!cotp__gs_scratch_open(&sc))
    return COTP_ENOMEM;
  cotp_term req = COTP_TUPLE(sc.h, cotp_atom("cast"),
                             fn_term(sc.h, (void (*)(void))fn), arg);
  int rc = cotp_is_none(req) ? COTP_ENOMEM : cotp_genserver_cast(a, req);
  cotp__gs_scratch_close(&sc);
  return rc;
}

int cotp_agent_stop(cotp_server a, cotp_term reason, int64_t timeout_ms) {
  return cotp_genserver_stop(a, reason, timeout_ms);
}
