/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 5.1: a Stack GenServer with a bug (popping an empty stack
 * crashes it) under a one_for_one Supervisor, which restarts it with its
 * initial state.
 *
 *   children = [%{id: :stack_1,
 *                 start: {Stack, :start_link, [%{initial_value: 0, name: :stack_1}]}}]
 *   {:ok, supervisor_pid} = Supervisor.start_link(children, strategy: :one_for_one)
 *
 * Pids differ from run to run, so they print as #PID<...>; the program
 * prints whether the restarted stack has a new pid instead.
 */
#include <cotp.h>
#include <stdio.h>
#include <stdlib.h>

struct stack {
  cotp_heap *heap;
  cotp_term list;
};

static cotp_gs_ret init(cotp_term arg, void **state) {
  puts("Stack GenServer starting up!");
  struct stack *s = malloc(sizeof *s);
  s->heap = cotp_heap_new();
  s->list = cotp_cons(s->heap, cotp_term_copy(s->heap, arg), COTP_NIL);
  *state = s;
  return cotp_gs_ok();
}

static cotp_gs_ret handle_call(cotp_term req, cotp_genserver_from from, void **state) {
  (void)from;
  struct stack *s = *state;
  cotp_term el = cotp_tuple_get(req, 1); /* {:push, element} */
  printf("Pushed ");
  cotp_term_fprint(stdout, el);
  puts("");
  s->list = cotp_cons(s->heap, cotp_term_copy(s->heap, el), s->list);
  return cotp_gs_reply(COTP_ATOM(pushed));
}

static cotp_gs_ret handle_cast(cotp_term req, void **state) {
  (void)req;
  struct stack *s = *state;
  if (cotp_is_nil(s->list)) /* no clause matches [] : the bug */
    cotp_exit(cotp_format(cotp_self_heap(), "{:function_clause, [{Stack, :handle_cast, 2, []}]}"));
  printf("Popped ");
  cotp_term_fprint(stdout, cotp_head(s->list));
  puts("");
  s->list = cotp_tail(s->list);
  return cotp_gs_noreply();
}

static void free_state(void *state) {
  struct stack *s = state;
  cotp_heap_free(s->heap);
  free(s);
}

static const cotp_genserver_callbacks stack_cb = {
    .name = "Stack", .init = init, .handle_call = handle_call,
    .handle_cast = handle_cast, .free_state = free_state};

static void inspect(const char *label, cotp_term t) {
  printf("%s: ", label);
  cotp_term_fprint(stdout, t);
  puts("");
}

static cotp_term state_of(cotp_term name) {
  void *st;
  cotp_genserver_get_state(cotp_server_name(name), 5000, &st);
  return ((struct stack *)st)->list;
}

static void root(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  cotp_term name = COTP_ATOM(stack_1);
  cotp_child_spec child = cotp_genserver_child_spec(name, &stack_cb, cotp_int(h, 0), name);
  cotp_pid sup;
  cotp_supervisor_start_link_children(&child, 1, NULL, NULL, &sup, NULL);
  cotp_term kids = cotp_supervisor_which_children(cotp_server_pid(sup));
  cotp_term k = cotp_head(kids);
  printf("Supervisor's children: [{");
  cotp_term_fprint(stdout, cotp_tuple_get(k, 0));
  printf(", #PID<...>, ");
  cotp_term_fprint(stdout, cotp_tuple_get(k, 2));
  printf(", ");
  cotp_term_fprint(stdout, cotp_tuple_get(k, 3));
  puts("}]");

  cotp_pid before;
  cotp_whereis(name, &before);
  puts("Stack Genserver Process pid: #PID<...>");
  inspect("Intial Genserver state", state_of(name));
  cotp_server s = cotp_server_name(name);
  cotp_genserver_call(s, cotp_format(h, "{:push, 10}"), 5000);
  cotp_genserver_call(s, cotp_format(h, "{:push, 20}"), 5000);
  for (int i = 0; i < 3; i++)
    cotp_genserver_cast(s, COTP_ATOM(pop));
  inspect("Genserver state just before crash", state_of(name));
  cotp_genserver_cast(s, COTP_ATOM(pop)); /* Boom! */
  cotp_sleep(200);
  cotp_pid after;
  cotp_whereis(name, &after);
  printf("Restarted stack Genserver Process pid: #PID<...> (%s)\n",
         after.bits != before.bits ? "a new process" : "the same process");
  inspect("Genserver state after crash", state_of(name));
}

int main(void) {
  cotp_config cfg = COTP_CONFIG_INIT;
  cfg.schedulers = 2;
  return cotp_run(root, NULL, &cfg, NULL, NULL) == 0 ? 0 : 1;
}
