/* SPDX-License-Identifier: Apache-2.0 */
/*
 * task_run.c: the task process.  It waits for its go-ahead (task_int.h),
 * records where it comes from in its dictionary, runs the function and
 * replies through the alias.  Task functions named by module and function
 * atoms are the kind Task of the runtime's table (cotp_register_code).
 *
 * The reply is the task's last act: it returns right after, so its DOWN
 * (:normal) follows the reply at once.  A function that exits instead of
 * returning ends the process with that reason, and the link and monitor
 * carry it to the owner, as an exception in an Elixir task does.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "task_int.h"

/* --- task functions by name: the kind Task of cotp_register_code --- */

int cotp_task_register(cotp_term module, cotp_term function,
                       cotp_task_mfa_fn *fn) {
  return cotp_register_code(cotp__task_atoms()->task, module, function,
                            (cotp_code_fn *)fn);
}

static cotp_task_mfa_fn *lookup(cotp_term module, cotp_term function) {
  return (cotp_task_mfa_fn *)cotp_lookup_code(cotp__task_atoms()->task,
                                              module, function);
}

/* --- $initial_call --- */

/* {:c, name, arity} for a C function, with its name from the dynamic
 * symbol table ({:c, :unknown, arity} when it is not there: link with
 * -rdynamic to see names), as the core names a process's function.
 * dladdr costs microseconds, so the last few answers are kept per thread:
 * nothing here yields, so the process cannot move between threads while
 * it uses the cache. */
static cotp_term c_function_name(void (*fn)(void)) {
  static _Thread_local struct {
    void (*fn)(void);
    cotp_term name;
  } cache[8];
  static _Thread_local unsigned next;
  for (unsigned i = 0; i < 8; i++)
    if (cache[i].fn == fn && !cotp_is_none(cache[i].name))
      return cache[i].name;
  void *addr;
  memcpy(&addr, &fn, sizeof addr);
  Dl_info dl;
  cotp_term name = addr && dladdr(addr, &dl) && dl.dli_sname
                       ? cotp_atom(dl.dli_sname)
                       : COTP_NONE;
  if (cotp_is_none(name))
    name = cotp__task_atoms()->unknown;
  cache[next % 8].fn = fn;
  cache[next % 8].name = name;
  next++;
  return name;
}

/* --- running --- */

/* Runs module:function(args): from the task table, else the core's table
 * (whose functions return nothing: the result is :ok), else undef. */
static cotp_term run_mfa(cotp_heap *h, cotp_term module, cotp_term function,
                         cotp_term args) {
  cotp_task_mfa_fn *fn = lookup(module, function);
  if (fn)
    return fn(args);
  cotp_mfa_fn *plain = cotp_lookup_function(module, function);
  if (plain) {
    plain(args);
    return COTP_ATOM_OK;
  }
  cotp_term where = COTP_TUPLE(h, module, function, args, COTP_NIL);
  cotp_exit(COTP_TUPLE(h, cotp__task_atoms()->undef, COTP_LIST(h, where)));
}

/* The task's lineage, made from its go-ahead when its dictionary is first
 * used: $callers is [owner | the owner's]; the owner made the whole of
 * $ancestors when it has a name or ancestors of its own (proc_lib names
 * an ancestor by its registered name), else it is [owner];
 * $initial_call names the function. */
static cotp_term lineage(cotp_heap *h, cotp_term go) {
  const struct cotp__task_atoms *a = cotp__task_atoms();
  cotp_term owner = cotp_tuple_get(go, COTP__GO_OWNER);
  cotp_term callers = cotp_tuple_get(go, COTP__GO_CALLERS);
  cotp_term ancestors = cotp_tuple_get(go, COTP__GO_ANCESTORS);
  cotp_term fn = cotp_tuple_get(go, COTP__GO_FN);
  cotp_term initial;
  if (cotp_is_atom(fn)) {
    size_t arity = 0;
    cotp_list_length(cotp_tuple_get(go, COTP__GO_ITEM), &arity);
    initial = COTP_TUPLE(h, fn, cotp_tuple_get(go, COTP__GO_ARG),
                         cotp_int(h, (int64_t)arity));
  } else {
    bool stream = cotp_tuple_size(go) > COTP__GO_ITEM;
    initial = COTP_TUPLE(h, a->c, c_function_name(cotp__task_term_fn(fn)),
                         cotp_int(h, stream ? 2 : 1));
  }
  return COTP_TUPLE(h, a->callers,
                    cotp_cons(h, owner, cotp_is_list(callers) ? callers : COTP_NIL),
                    a->ancestors,
                    cotp_is_cons(ancestors) ? ancestors : cotp_cons(h, owner, COTP_NIL),
                    a->initial_call, initial);
}

/* Does what the go-ahead says; returns when the task is done. */
static void run(cotp_term go) {
  cotp_heap *h = cotp_self_heap();
  size_t n = cotp_tuple_size(go);
  cotp_term alias = cotp_tuple_get(go, COTP__GO_ALIAS);
  cotp_term owner = cotp_tuple_get(go, COTP__GO_OWNER);
  int64_t flags = cotp_int_value(cotp_tuple_get(go, COTP__GO_FLAGS));
  cotp_term fn = cotp_tuple_get(go, COTP__GO_FN);
  cotp_term arg = cotp_tuple_get(go, COTP__GO_ARG);
  bool mfa = cotp_is_atom(fn);
  /* the go-ahead stays in the heap to the task's end: lent to the
   * dictionary, which makes the lineage only if it is ever used, as few
   * tasks read it (cotp/info.h) */
  cotp__dict_lend_lazy(go, lineage);
  void (*code)(void) = mfa ? NULL : cotp__task_term_fn(fn);
  bool stream = !mfa && n > COTP__GO_ITEM;
  cotp_term args = mfa ? cotp_tuple_get(go, COTP__GO_ITEM) : COTP_NIL;

  cotp_term result;
  if (mfa) {
    result = run_mfa(h, fn, arg, args);
  } else {
    if (stream)
      result = ((cotp_task_stream_fn *)code)(cotp_tuple_get(go, COTP__GO_ITEM),
                                             cotp__task_term_ptr(arg));
    else
      result = ((cotp_task_fn *)code)(cotp__task_term_ptr(arg));
  }
  if (cotp_is_none(result)) /* the function's build failed: say so */
    cotp_exit(COTP_TUPLE(h, cotp_atom("bad_result"), cotp_atom("none")));
  if (cotp_is_ref(alias))
    cotp_send_alias(alias, COTP_TUPLE(h, alias, result));
  if (flags & COTP__TASK_UNLINK_OWNER)
    cotp_unlink(cotp_get_pid(owner));
}

static bool accept_go(cotp_term msg, void *ctx) {
  (void)ctx;
  return cotp_tuple_size(msg) >= COTP__GO_ITEM &&
         cotp_tuple_get(msg, COTP__GO_TAG).w == cotp__task_atoms()->go.w;
}

static bool accept_go_or_down(cotp_term msg, void *ctx) {
  return accept_go(msg, NULL) || cotp__task_is_down(msg, *(cotp_term *)ctx);
}

/* The longest a task started for someone else waits for its go-ahead
 * (Elixir's @ref_timeout). */
#define GO_TIMEOUT_MS 5000

void cotp_task_entry(void *arg) {
  cotp_term go;
  if (!arg) {
    cotp_receive_if(accept_go, NULL, COTP_INFINITY, 0, &go);
    run(go);
    return;
  }
  /* started by a supervisor for an owner: give up if the owner dies
   * first or never sends the go-ahead (G17) */
  cotp_pid owner = {(uint64_t)(uintptr_t)arg};
  cotp_term mon;
  if (cotp_monitor(owner, &mon) != 0)
    cotp_exit(COTP_ATOM_NOPROC);
  if (cotp_receive_if(accept_go_or_down, &mon, GO_TIMEOUT_MS, 0, &go) != 0)
    cotp_exit(COTP_ATOM_TIMEOUT);
  if (cotp__task_is_down(go, mon))
    cotp_exit(COTP_TUPLE(cotp_self_heap(), COTP_ATOM_SHUTDOWN,
                         cotp_tuple_get(go, 4)));
  cotp_demonitor(mon, COTP_DEMONITOR_FLUSH);
  run(go);
}

void *cotp_task_entry_owner(cotp_pid owner) {
  _Static_assert(sizeof(void *) >= sizeof owner.bits, "a pid fits a pointer");
  return (void *)(uintptr_t)owner.bits;
}

/* Task.start and async: the go-ahead is the spawn's message, in the new
 * process's mailbox before it runs, so the task never waits for an owner
 * that died before sending one.  A plain spawn, not one by name: its
 * monitor's watcher then lives in the control block (no extension's set
 * to fill and free for each task), and nothing is looked up by name. */
int cotp__task_spawn_go(cotp_term go, cotp_term *ref, cotp_pid *pid) {
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  if (ref) {
    o.link = o.monitor = o.monitor_ref_given = true;
    o.monitor_alias = COTP_ALIAS_DEMONITOR;
    o.monitor_ref = ref;
  }
  o.message = go;
  return cotp_spawn_opt(cotp_task_entry, NULL, &o, pid);
}
