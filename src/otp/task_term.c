/* SPDX-License-Identifier: Apache-2.0 */
/*
 * task_term.c: the terms Task shows the world: the %Task{} map, the exit
 * reasons of the waiting functions, Elixir's ArgumentError, and the atoms
 * they are made of.
 *
 * The reasons are exactly Elixir 1.14's, checked with elixir on the
 * development machine: await exits with {reason, {Task, :await, [task,
 * timeout]}}, where Task is :"Elixir.Task" and task the struct, a map with
 * __struct__.  A C program cannot raise, so where Elixir raises
 * ArgumentError the caller exits with the reason an uncaught raise gives,
 * {%ArgumentError{message: text}, stacktrace}, with an empty stacktrace.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "task_int.h"

/* --- atoms --- */

static struct cotp__task_atoms atoms;
static pthread_once_t atoms_once = PTHREAD_ONCE_INIT;

static void make_atoms(void) {
  struct cotp__task_atoms *a = &atoms;
  a->task = cotp_atom("Elixir.Task");
  a->supervised = cotp_atom("Elixir.Task.Supervised");
  a->argument_error = cotp_atom("Elixir.ArgumentError");
  a->cotp_task = cotp_atom("cotp_task");
  a->await = cotp_atom("await");
  a->await_many = cotp_atom("await_many");
  a->yield = cotp_atom("yield");
  a->yield_many = cotp_atom("yield_many");
  a->ignore = cotp_atom("ignore");
  a->shutdown = cotp_atom("shutdown");
  a->stream = cotp_atom("stream");
  a->brutal_kill = cotp_atom("brutal_kill");
  a->exit = cotp_atom("exit");
  a->nodedown = cotp_atom("nodedown");
  a->undef = cotp_atom("undef");
  a->erlang = cotp_atom("erlang");
  a->apply = cotp_atom("apply");
  a->completed = cotp_atom("completed");
  a->struct_ = cotp_atom("__struct__");
  a->exception_ = cotp_atom("__exception__");
  a->message = cotp_atom("message");
  a->mfa = cotp_atom("mfa");
  a->owner = cotp_atom("owner");
  a->pid = cotp_atom("pid");
  a->ref = cotp_atom("ref");
  a->callers = cotp_atom("$callers");
  a->ancestors = cotp_atom("$ancestors");
  a->initial_call = cotp_atom("$initial_call");
  a->c = cotp_atom("c");
  a->unknown = cotp_atom("unknown");
  a->nonode = cotp_atom("nonode@nohost");
  a->go = cotp_atom("$cotp_task");
  a->enforce_exit = cotp_atom("enforce_exit");
  a->trap_exit = cotp_atom("trap_exit");
}

const struct cotp__task_atoms *cotp__task_atoms(void) {
  pthread_once(&atoms_once, make_atoms);
  return &atoms;
}

/* --- pointers as terms --- */

/* Pointers travel in the go-ahead as integers: user-space addresses fit
 * in a small integer on every platform cotp runs on, and a bigger one is
 * boxed, so the round trip is exact either way. */
cotp_term cotp__task_ptr_term(cotp_heap *h, const void *p) {
  return cotp_int(h, (int64_t)(uintptr_t)p);
}

void *cotp__task_term_ptr(cotp_term t) {
  int64_t v = 0;
  cotp_get_int(t, &v);
  return (void *)(uintptr_t)v;
}

/* ISO C has no cast between function and object pointers; the bits are
 * copied instead (POSIX guarantees they fit, dlsym depends on it). */
cotp_term cotp__task_fn_term(cotp_heap *h, void (*fn)(void)) {
  uintptr_t bits;
  _Static_assert(sizeof bits == sizeof fn, "function pointers fit a word");
  memcpy(&bits, &fn, sizeof bits);
  return cotp_int(h, (int64_t)bits);
}

void (*cotp__task_term_fn(cotp_term t))(void) {
  int64_t v = 0;
  cotp_get_int(t, &v);
  uintptr_t bits = (uintptr_t)v;
  void (*fn)(void);
  memcpy(&fn, &bits, sizeof fn);
  return fn;
}

/* --- the %Task{} --- */

static cotp_term pid_or_nil(cotp_pid p) {
  return p.bits ? cotp_pid_term(p) : COTP_ATOM_NIL;
}

cotp_term cotp_task_term(cotp_heap *h, const cotp_task *t) {
  if (!t)
    return COTP_NONE;
  const struct cotp__task_atoms *a = cotp__task_atoms();
  cotp_term keys[] = {a->struct_, a->mfa, a->owner, a->pid, a->ref};
  cotp_term mfa = COTP_TUPLE(h, t->module, t->function,
                             cotp_int(h, (int64_t)t->arity));
  cotp_term values[] = {a->task, mfa, pid_or_nil(t->owner), pid_or_nil(t->pid),
                        t->ref};
  return cotp_map(h, 5, keys, values);
}

int cotp_task_from_term(cotp_term t, cotp_task *task) {
  if (!task)
    return COTP_EINVAL;
  const struct cotp__task_atoms *a = cotp__task_atoms();
  cotp_term mfa = cotp_map_get(t, a->mfa), owner = cotp_map_get(t, a->owner);
  cotp_term pid = cotp_map_get(t, a->pid), ref = cotp_map_get(t, a->ref);
  int64_t arity;
  if (cotp_map_get(t, a->struct_).w != a->task.w || cotp_tuple_size(mfa) != 3 ||
      !cotp_is_atom(cotp_tuple_get(mfa, 0)) || !cotp_is_atom(cotp_tuple_get(mfa, 1)) ||
      cotp_get_int(cotp_tuple_get(mfa, 2), &arity) != 0 || arity < 0 ||
      arity > UINT32_MAX || !(cotp_is_pid(owner) || owner.w == COTP_ATOM_NIL.w) ||
      !(cotp_is_pid(pid) || pid.w == COTP_ATOM_NIL.w) || !cotp_is_ref(ref))
    return COTP_EBADTYPE;
  *task = (cotp_task){cotp_get_pid(owner), cotp_get_pid(pid), ref,
                      cotp_tuple_get(mfa, 0), cotp_tuple_get(mfa, 1),
                      (unsigned)arity};
  return 0;
}

cotp_term cotp__task_list_term(cotp_heap *h, const cotp_task *tasks, size_t n) {
  cotp_term list = COTP_NIL;
  for (size_t i = n; i > 0; i--)
    list = cotp_cons(h, cotp_task_term(h, &tasks[i - 1]), list);
  return list;
}

/* --- reasons --- */

cotp_term cotp__task_reason(cotp_heap *h, cotp_term reason, cotp_term mod,
                            cotp_term fun, cotp_term args) {
  return COTP_TUPLE(h, reason, COTP_TUPLE(h, mod, fun, args));
}

cotp_term cotp__task_down_reason(cotp_heap *h, cotp_term object,
                                 cotp_term reason) {
  if (reason.w != COTP_ATOM_NOCONNECTION.w)
    return reason;
  const struct cotp__task_atoms *a = cotp__task_atoms();
  /* a pid's node: this one, as distribution is not there yet */
  cotp_term node = cotp_tuple_size(object) == 2 ? cotp_tuple_get(object, 1)
                                                : a->nonode;
  return COTP_TUPLE(h, a->nodedown, node);
}

cotp_term cotp__task_timeout_term(cotp_heap *h, int64_t timeout_ms) {
  if (timeout_ms == COTP_INFINITY)
    return COTP_ATOM_INFINITY;
  if (timeout_ms == COTP_TASK_BRUTAL_KILL)
    return cotp__task_atoms()->brutal_kill;
  return cotp_int(h, timeout_ms);
}

/* --- ArgumentError --- */

_Noreturn void cotp__task_raise(const char *fmt, ...) {
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  const struct cotp__task_atoms *a = cotp__task_atoms();
  cotp_heap *h = cotp_self_heap();
  cotp_term keys[] = {a->exception_, a->struct_, a->message};
  cotp_term values[] = {COTP_ATOM_TRUE, a->argument_error, cotp_string(h, text)};
  cotp_term error = cotp_map(h, 3, keys, values);
  cotp_exit(cotp_is_none(error) ? a->argument_error
                                : COTP_TUPLE(h, error, COTP_NIL));
}

/* The task as Elixir's inspect shows a struct: %Task{mfa: ..., ...}. */
static void print_task(char *buf, size_t cap, const cotp_task *t) {
  char mfa[256], owner[64], pid[64], ref[64];
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  cotp_term_print(mfa, sizeof mfa,
                  COTP_TUPLE(h, t->module, t->function,
                             cotp_int(h, (int64_t)t->arity)));
  cotp_term_print(owner, sizeof owner, pid_or_nil(t->owner));
  cotp_term_print(pid, sizeof pid, pid_or_nil(t->pid));
  cotp_term_print(ref, sizeof ref, t->ref);
  cotp_heap_release(h, mark);
  snprintf(buf, cap, "%%Task{mfa: %s, owner: %s, pid: %s, ref: %s}", mfa, owner,
           pid, ref);
}

void cotp__task_check_owner(const cotp_task *task, const char *what) {
  if (!task)
    cotp__task_raise("%s: the task is NULL", what);
  cotp_pid self = cotp_self();
  if (cotp_pid_eq(task->owner, self))
    return;
  char t[512], me[64];
  print_task(t, sizeof t, task);
  cotp_term_print(me, sizeof me, cotp_pid_term(self));
  cotp__task_raise("task %s must be queried from the owner but was queried "
                   "from %s",
                   t, me);
}

void cotp__task_check_timeout(int64_t timeout_ms, const char *what) {
  if (timeout_ms < 0 && timeout_ms != COTP_INFINITY)
    cotp__task_raise("%s: the timeout must be COTP_INFINITY or a non-negative "
                     "number of milliseconds, got %lld",
                     what, (long long)timeout_ms);
}
