/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 3.2's Stack on cotp's GenServer instead of the hand-made one
 * (examples/genserver/my_genserver.c): the same calls, the same output.
 *
 *   {:ok, pid} = GenServer.start_link(Stack, [])
 *   GenServer.cast(pid, {:push, 1}) ...
 *   GenServer.call(pid, :get_stack) |> IO.inspect(label: "STACK")
 *   GenServer.call(pid, :pop) |> IO.inspect(label: "POP")
 *   send(pid, :stats)
 *
 * The state is the list, as in the book.  A term a callback keeps must
 * outlive the message it came in (the server's heap is released after
 * each one), so the state owns a heap and pushes copy the element there.
 * Popped cells stay in that heap until the server ends: fine for an
 * example; a long-lived stack would compact now and then.
 */
#include <cotp.h>
#include <stdio.h>
#include <stdlib.h>

struct stack {
  cotp_heap *heap;
  cotp_term list;
};

static cotp_gs_ret init(cotp_term stack, void **state) {
  struct stack *s = malloc(sizeof *s);
  s->heap = cotp_heap_new();
  s->list = cotp_term_copy(s->heap, stack);
  *state = s;
  return cotp_gs_ok();
}

static cotp_gs_ret handle_call(cotp_term request, cotp_genserver_from from,
                               void **state) {
  (void)from;
  struct stack *s = *state;
  if (request.w == COTP_ATOM(pop).w) { /* [num | state] */
    cotp_term num = cotp_head(s->list);
    s->list = cotp_tail(s->list);
    return cotp_gs_reply(num);
  }
  return cotp_gs_reply(s->list); /* :get_stack */
}

static cotp_gs_ret handle_cast(cotp_term request, void **state) {
  struct stack *s = *state;
  cotp_term num = cotp_tuple_get(request, 1); /* {:push, num} */
  printf("PUSH: ");
  cotp_term_fprint(stdout, num);
  printf("\n");
  s->list = cotp_cons(s->heap, cotp_term_copy(s->heap, num), s->list);
  return cotp_gs_noreply();
}

static cotp_gs_ret handle_info(cotp_term msg, void **state) {
  struct stack *s = *state;
  if (msg.w == COTP_ATOM(stats).w) {
    size_t n = 0;
    cotp_list_length(s->list, &n);
    printf("\"Stack length: %zu\"\n", n);
  }
  return cotp_gs_noreply();
}

static void free_state(void *state) {
  struct stack *s = state;
  cotp_heap_free(s->heap);
  free(s);
}

static const cotp_genserver_callbacks stack = {
    .name = "Stack",
    .init = init,
    .handle_call = handle_call,
    .handle_cast = handle_cast,
    .handle_info = handle_info,
    .free_state = free_state,
};

static void inspect(const char *label, cotp_term t) {
  printf("%s: ", label);
  cotp_term_fprint(stdout, t);
  printf("\n");
}

static void root(void *arg) {
  (void)arg;
  setvbuf(stdout, NULL, _IOLBF, 0);
  cotp_heap *h = cotp_self_heap();
  cotp_pid pid;
  if (cotp_genserver_start_link(&stack, COTP_NIL, NULL, &pid, NULL) != 0)
    cotp_exit(COTP_ATOM(start_failed));
  cotp_server server = cotp_server_pid(pid);
  cotp_genserver_cast(server, cotp_format(h, "{:push, 1}"));
  cotp_genserver_cast(server, cotp_format(h, "{:push, 2}"));
  cotp_genserver_cast(server, cotp_format(h, "{:push, 3}"));
  inspect("STACK", cotp_genserver_call(server, COTP_ATOM(get_stack), 5000));
  inspect("POP", cotp_genserver_call(server, COTP_ATOM(pop), 5000));
  inspect("STACK", cotp_genserver_call(server, COTP_ATOM(get_stack), 5000));
  cotp_send(pid, COTP_ATOM(stats));
  /* stop is synchronous: :stats is handled first */
  cotp_genserver_stop(server, COTP_ATOM_NORMAL, COTP_INFINITY);
}

int main(void) { return cotp_run(root, NULL, NULL, NULL, NULL); }
