/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 8.0, "Agents": the FibonacciStore, an Agent named after its
 * module that keeps the last two numbers of the series.
 *
 *   def start_link(_), do: Agent.start_link(fn -> [0, 1] end, name: __MODULE__)
 *   def next_fibonacci() do
 *     Agent.get_and_update(__MODULE__, fn [num1, num2] ->
 *       next_fibonacci = num1 + num2
 *       {next_fibonacci, [num2, next_fibonacci]}
 *     end)
 *   end
 *   def current_fibonacci(), do: Agent.get(__MODULE__, fn [_num1, num2] -> num2 end)
 *
 * The state [num1, num2] is a C struct.  (The chapter's last part runs the
 * store under a Supervisor, which is the supervisor issue's.)
 */
#include <cotp.h>
#include <stdio.h>
#include <stdlib.h>

#define STORE COTP_ATOM(Elixir.FibonacciStore)

struct pair {
  int64_t num1, num2;
};

/* fn -> [0, 1] end */
static void *first_two(cotp_term arg) {
  (void)arg;
  struct pair *p = malloc(sizeof *p);
  *p = (struct pair){0, 1};
  return p;
}

static cotp_term next(void **state, cotp_term arg) {
  (void)arg;
  struct pair *p = *state;
  int64_t next_fibonacci = p->num1 + p->num2;
  *p = (struct pair){p->num2, next_fibonacci};
  return cotp_int(cotp_self_heap(), next_fibonacci);
}

static cotp_term current(void *state, cotp_term arg) {
  (void)arg;
  return cotp_int(cotp_self_heap(), ((struct pair *)state)->num2);
}

/* "Starts the FibonacciStore agent" */
static int start_link(void) {
  cotp_agent_opts opts = COTP_AGENT_OPTS_INIT;
  opts.name = cotp_name_local(STORE);
  opts.free_state = free;
  return cotp_agent_start_link(first_two, COTP_NIL, &opts, NULL, NULL);
}

/* "Gets the next number in the Fibonacci series" */
static cotp_term next_fibonacci(void) {
  return cotp_agent_get_and_update(cotp_server_name(STORE), next, COTP_NIL, 5000);
}

/* "Gets the last generated number in the Fibonacci series" */
static cotp_term current_fibonacci(void) {
  return cotp_agent_get(cotp_server_name(STORE), current, COTP_NIL, 5000);
}

static void root(void *arg) {
  (void)arg;
  start_link();
  printf("Current Fibonacci: ");
  cotp_term_fprint(stdout, current_fibonacci());
  printf("\n");
  for (int i = 0; i < 10; i++) {
    cotp_term_fprint(stdout, next_fibonacci());
    printf("\n");
  }
  printf("Current Fibonacci: ");
  cotp_term_fprint(stdout, current_fibonacci());
  printf("\n");
  cotp_pid pid;
  cotp_whereis(STORE, &pid);
  cotp_agent_stop(cotp_server_pid(pid), COTP_ATOM_NORMAL, COTP_INFINITY);
}

int main(void) { return cotp_run(root, NULL, NULL, NULL, NULL); }
