/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 4.0, "Naming processes using Registry": two Stack servers named
 * through a unique registry, one of them with a value stored next to its
 * entry, found again with lookup.
 *
 *   {:ok, _} = Registry.start_link(keys: :unique, name: Registry.ProcessStore)
 *   GenServer.start_link(Stack, [],
 *     name: {:via, Registry, {Registry.ProcessStore, "stack_server_1"}})
 *   GenServer.start_link(Stack, [],
 *     name: {:via, Registry, {Registry.ProcessStore, "stack_server_2", :second_stack}})
 *   [{stack_server_one_pid, nil}] = Registry.lookup(Registry.ProcessStore, "stack_server_1")
 *   GenServer.cast(stack_server_one_pid, {:push, "stack1"})
 *   [{stack_server_two_pid, value}] = Registry.lookup(Registry.ProcessStore, "stack_server_2")
 *   IO.inspect(value, label: "Stack server 2 value")
 *   ...
 *   IO.inspect(:sys.get_state(stack_server_one_pid), label: "Stack Server1 state")
 */
#include <cotp.h>
#include <stdio.h>
#include <stdlib.h>

/* The book's Stack: init and handle_cast({:push, e}).  The list lives in
 * a heap the state owns (the server's own heap is released after each
 * message). */
struct stack {
  cotp_heap *heap;
  cotp_term list;
};

static cotp_gs_ret init(cotp_term arg, void **state) {
  struct stack *s = malloc(sizeof *s);
  s->heap = cotp_heap_new();
  s->list = cotp_term_copy(s->heap, arg);
  *state = s;
  return cotp_gs_ok();
}

static cotp_gs_ret handle_cast(cotp_term request, void **state) {
  struct stack *s = *state;
  cotp_term e = cotp_tuple_get(request, 1); /* {:push, e} */
  s->list = cotp_cons(s->heap, cotp_term_copy(s->heap, e), s->list);
  return cotp_gs_noreply();
}

static void free_state(void *state) {
  struct stack *s = state;
  cotp_heap_free(s->heap);
  free(s);
}

static const cotp_genserver_callbacks stack_cb = {
    .name = "Stack", .init = init, .handle_cast = handle_cast, .free_state = free_state};

static void inspect(const char *label, cotp_term t) {
  printf("%s: ", label);
  cotp_term_fprint(stdout, t);
  printf("\n");
}

static cotp_pid start_stack(cotp_term via_name) {
  cotp_genserver_opts o = COTP_GENSERVER_OPTS_INIT;
  o.name = cotp_registry_name_via(via_name);
  cotp_pid pid;
  if (cotp_genserver_start_link(&stack_cb, COTP_NIL, &o, &pid, NULL) != 0)
    cotp_exit(COTP_ATOM(start_failed));
  return pid;
}

static void root(void *arg) {
  (void)arg;
  setvbuf(stdout, NULL, _IOLBF, 0);
  cotp_heap *h = cotp_self_heap();
  cotp_registry_opts o = COTP_REGISTRY_OPTS_INIT;
  o.keys = COTP_REGISTRY_UNIQUE;
  o.name = cotp_parse(h, "Registry.ProcessStore");
  cotp_registry *reg;
  if (cotp_registry_start_link(&o, &reg, NULL) != 0)
    cotp_exit(COTP_ATOM(registry_failed));

  start_stack(cotp_format(h, "{Registry.ProcessStore, \"stack_server_1\"}"));
  start_stack(cotp_format(h, "{Registry.ProcessStore, \"stack_server_2\", :second_stack}"));

  /* [{stack_server_one_pid, nil}] = Registry.lookup(...) */
  cotp_term one = cotp_head(cotp_registry_lookup(reg, cotp_string(h, "stack_server_1")));
  cotp_pid pid1 = cotp_get_pid(cotp_tuple_get(one, 0));
  cotp_genserver_cast(cotp_server_pid(pid1), cotp_format(h, "{:push, \"stack1\"}"));

  cotp_term two = cotp_head(cotp_registry_lookup(reg, cotp_string(h, "stack_server_2")));
  cotp_pid pid2 = cotp_get_pid(cotp_tuple_get(two, 0));
  inspect("Stack server 2 value", cotp_tuple_get(two, 1));
  cotp_genserver_cast(cotp_server_pid(pid2), cotp_format(h, "{:push, \"stack2\"}"));

  void *state;
  cotp_genserver_get_state(cotp_server_pid(pid1), 5000, &state);
  inspect("Stack Server1 state", ((struct stack *)state)->list);
  cotp_genserver_get_state(cotp_server_pid(pid2), 5000, &state);
  inspect("Stack Server2 state", ((struct stack *)state)->list);

  /* and calls by the via name reach the same server */
  cotp_server by_name = cotp_server_via(
      &cotp_registry_via, cotp_format(h, "{Registry.ProcessStore, \"stack_server_1\"}"));
  cotp_pid where;
  cotp_genserver_whereis(by_name, &where);
  printf("whereis stack_server_1 == lookup: %s\n", cotp_pid_eq(where, pid1) ? "true" : "false");
  cotp_genserver_stop(cotp_server_pid(pid1), COTP_ATOM_NORMAL, 5000);
  cotp_genserver_stop(cotp_server_pid(pid2), COTP_ATOM_NORMAL, 5000);
  cotp_registry_release(reg);
}

int main(void) { return cotp_run(root, NULL, NULL, NULL, NULL); }
