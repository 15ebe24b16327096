/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 3.2, "Building a GenServer": MyGenServer from scratch, out of
 * spawn_link, send and receive, and the Stack module that uses it.
 *
 *   {:ok, stack_server_pid} = MyGenServer.start_link(Stack, [])
 *   MyGenServer.cast(stack_server_pid, {:push, 1})
 *   ...
 *   MyGenServer.call(stack_server_pid, :get_stack) |> IO.inspect(label: "STACK")
 *   MyGenServer.call(stack_server_pid, :pop) |> IO.inspect(label: "POP")
 *   send(stack_server_pid, :stats)
 *
 * As in the book, the callbacks return Elixir's tuples as terms
 * ({:ok, state}, {:reply, response, new_state}, {:noreply, new_state})
 * and the state is a term.  The server loop is an ordinary process in a
 * receive loop; it keeps the state in a heap of its own and copies each
 * new state there, so the process's heap can be released after every
 * message.  (cotp's GenServer, cotp/genserver.h, is this loop grown up:
 * monitors instead of trusting the server to answer, names, timeouts,
 * and a handler process that holds no stack between messages.)
 */
#include <cotp.h>
#include <stdio.h>
#include <stdlib.h>

/* --- MyGenServer --- */

/* Callbacks to implement */
struct my_genserver {
  cotp_term (*init)(cotp_term args);                                 /* {:ok, state} */
  cotp_term (*handle_call)(cotp_term args, cotp_pid from, cotp_term state); /* {:reply, response, state} */
  cotp_term (*handle_cast)(cotp_term args, cotp_term state);         /* {:noreply, state} */
  cotp_term (*handle_info)(cotp_term msg, cotp_term state);          /* {:noreply, state} */
  void (*terminate)(cotp_term reason, cotp_term state);
};

struct start_args {
  const struct my_genserver *module;
  cotp_term args; /* in the starter's heap: copied before it returns */
};

/* The state, moved to a fresh heap of its own; the old one goes. */
static cotp_term keep(cotp_heap **kept, cotp_term state) {
  cotp_heap *fresh = cotp_heap_new();
  cotp_term copy = cotp_term_copy(fresh, state);
  cotp_heap_free(*kept);
  *kept = fresh;
  return copy;
}

/* Recursively loop and wait for messages (a loop, in C) */
static void genserver_loop(const struct my_genserver *module, cotp_term state,
                           cotp_heap *kept) {
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  for (;;) {
    cotp_term caps[2];
    cotp_clause clauses[4] = {
        {cotp_pattern_cached("{:call, parent_pid, args}", NULL), NULL, caps},
        {cotp_pattern_cached("{:cast, args}", NULL), NULL, caps},
        {cotp_pattern_cached("{:stop, reason}", NULL), NULL, caps},
        {cotp_pattern_cached("request", NULL), NULL, caps},
    };
    int clause = cotp_receive_match(clauses, 4, COTP_INFINITY, 0, NULL);
    cotp_term result;
    switch (clause) {
    case 0: { /* {:call, parent_pid, args} */
      cotp_pid parent = cotp_get_pid(caps[0]);
      result = module->handle_call(caps[1], parent, state);
      cotp_send(parent, COTP_TUPLE(h, COTP_ATOM(response), cotp_tuple_get(result, 1)));
      state = keep(&kept, cotp_tuple_get(result, 2));
      break;
    }
    case 1: /* {:cast, args} */
      result = module->handle_cast(caps[0], state);
      state = keep(&kept, cotp_tuple_get(result, 1));
      break;
    case 2: /* {:stop, reason} */
      module->terminate(caps[0], state);
      cotp_heap_free(kept);
      cotp_exit(caps[0]);
    default: /* request -> handle_info */
      result = module->handle_info(caps[0], state);
      state = keep(&kept, cotp_tuple_get(result, 1));
      break;
    }
    cotp_heap_release(h, mark);
  }
}

static void server_init(void *arg) {
  struct start_args a = *(struct start_args *)arg;
  free(arg);
  cotp_term result = a.module->init(a.args); /* {:ok, state} */
  cotp_heap *kept = NULL;
  cotp_term state = keep(&kept, cotp_tuple_get(result, 1));
  genserver_loop(a.module, state, kept);
}

/* == Public API == */

static cotp_pid my_genserver_start_link(const struct my_genserver *module,
                                        cotp_term args) {
  struct start_args *a = malloc(sizeof *a);
  a->module = module;
  a->args = args;
  cotp_pid pid;
  cotp_spawn_link(server_init, a, &pid);
  return pid;
}

static cotp_term my_genserver_call(cotp_pid server, cotp_term args) {
  cotp_heap *h = cotp_self_heap();
  cotp_send(server, COTP_TUPLE(h, COTP_ATOM(call), cotp_pid_term(cotp_self()), args));
  cotp_term response;
  cotp_clause c = {cotp_pattern_cached("{:response, response}", NULL), NULL, &response};
  cotp_receive_match(&c, 1, COTP_INFINITY, 0, NULL);
  return response;
}

static void my_genserver_cast(cotp_pid server, cotp_term args) {
  cotp_send(server, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(cast), args));
}

/* --- Stack, on MyGenServer --- */

static cotp_term stack_init(cotp_term args) {
  return COTP_TUPLE(cotp_self_heap(), COTP_ATOM_OK, args);
}

static cotp_term stack_handle_call(cotp_term args, cotp_pid from, cotp_term state) {
  (void)from;
  cotp_heap *h = cotp_self_heap();
  if (args.w == COTP_ATOM(pop).w) /* [num | state] */
    return COTP_TUPLE(h, COTP_ATOM_REPLY, cotp_head(state), cotp_tail(state));
  return COTP_TUPLE(h, COTP_ATOM_REPLY, state, state); /* :get_stack */
}

static cotp_term stack_handle_cast(cotp_term args, cotp_term state) {
  cotp_heap *h = cotp_self_heap();
  cotp_term num = cotp_tuple_get(args, 1); /* {:push, num} */
  printf("PUSH: ");
  cotp_term_fprint(stdout, num);
  printf("\n");
  return COTP_TUPLE(h, COTP_ATOM_NOREPLY, cotp_cons(h, num, state));
}

static cotp_term stack_handle_info(cotp_term msg, cotp_term state) {
  if (msg.w == COTP_ATOM(stats).w) {
    size_t n = 0;
    cotp_list_length(state, &n);
    printf("\"Stack length: %zu\"\n", n);
  }
  return COTP_TUPLE(cotp_self_heap(), COTP_ATOM_NOREPLY, state);
}

static void stack_terminate(cotp_term reason, cotp_term state) {
  (void)reason, (void)state;
}

static const struct my_genserver stack = {stack_init, stack_handle_call,
                                          stack_handle_cast, stack_handle_info,
                                          stack_terminate};

static void inspect(const char *label, cotp_term t) {
  printf("%s: ", label);
  cotp_term_fprint(stdout, t);
  printf("\n");
}

static void root(void *arg) {
  (void)arg;
  setvbuf(stdout, NULL, _IOLBF, 0);
  cotp_heap *h = cotp_self_heap();
  cotp_pid stack_server_pid = my_genserver_start_link(&stack, COTP_NIL);
  my_genserver_cast(stack_server_pid, cotp_format(h, "{:push, 1}"));
  my_genserver_cast(stack_server_pid, cotp_format(h, "{:push, 2}"));
  my_genserver_cast(stack_server_pid, cotp_format(h, "{:push, 3}"));
  inspect("STACK", my_genserver_call(stack_server_pid, COTP_ATOM(get_stack)));
  inspect("POP", my_genserver_call(stack_server_pid, COTP_ATOM(pop)));
  inspect("STACK", my_genserver_call(stack_server_pid, COTP_ATOM(get_stack)));
  cotp_send(stack_server_pid, COTP_ATOM(stats));
  /* the livebook goes on running; a program waits for the server to have
   * handled :stats before it ends */
  my_genserver_call(stack_server_pid, COTP_ATOM(get_stack));
  /* MyGenServer.stop(stack_server_pid), then wait for it to be gone (it
   * frees its state on the way out) */
  cotp_term ref;
  cotp_monitor(stack_server_pid, &ref);
  cotp_send(stack_server_pid, cotp_format(h, "{:stop, :normal}"));
  cotp_clause c = {cotp_pattern_cached("{:DOWN, ^ref, _, _, _}", NULL), &ref, NULL};
  cotp_receive_match(&c, 1, COTP_INFINITY, 0, NULL);
}

int main(void) { return cotp_run(root, NULL, NULL, NULL, NULL); }
