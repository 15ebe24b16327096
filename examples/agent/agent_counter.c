/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 8.0, "Agents": the first session, a counter in an Agent.
 *
 *   {:ok, my_counter_pid} = Agent.start_link(fn -> 0 end)
 *   Agent.get(my_counter_pid, fn state -> state end) |> IO.inspect(label: "GET")
 *   Agent.cast(my_counter_pid, fn state -> state + 1 end) |> IO.inspect(label: "CAST")
 *   Agent.update(my_counter_pid, fn state -> state + 1 end) |> IO.inspect(label: "UPDATE")
 *   Agent.get_and_update(my_counter_pid, fn state -> {state, state + 1} end)
 *   |> IO.inspect(label: "get_and_update")
 *   Agent.get(my_counter_pid, fn state -> state end) |> IO.inspect(label: "GET")
 *   Agent.stop(my_counter_pid)
 *
 * Each fn is a C function; the count lives in the state pointer.
 */
#include <cotp.h>
#include <stdio.h>

/* fn -> 0 end */
static void *zero(cotp_term arg) {
  (void)arg;
  return (void *)0;
}

/* fn state -> state end */
static cotp_term identity(void *state, cotp_term arg) {
  (void)arg;
  return cotp_int(cotp_self_heap(), (intptr_t)state);
}

/* fn state -> state + 1 end */
static void *increment(void *state, cotp_term arg) {
  (void)arg;
  return (void *)((intptr_t)state + 1);
}

/* fn state -> {state, state + 1} end */
static cotp_term get_then_increment(void **state, cotp_term arg) {
  (void)arg;
  intptr_t n = (intptr_t)*state;
  *state = (void *)(n + 1);
  return cotp_int(cotp_self_heap(), n);
}

static void inspect(const char *label, cotp_term t) {
  printf("%s: ", label);
  cotp_term_fprint(stdout, t);
  printf("\n");
}

static void root(void *arg) {
  (void)arg;
  cotp_pid my_counter_pid;
  if (cotp_agent_start_link(zero, COTP_NIL, NULL, &my_counter_pid, NULL) != 0)
    cotp_exit(COTP_ATOM(start_failed));
  cotp_server counter = cotp_server_pid(my_counter_pid);
  inspect("GET", cotp_agent_get(counter, identity, COTP_NIL, 5000));
  cotp_agent_cast(counter, increment, COTP_NIL);
  inspect("CAST", COTP_ATOM_OK);
  cotp_agent_update(counter, increment, COTP_NIL, 5000);
  inspect("UPDATE", COTP_ATOM_OK);
  inspect("get_and_update",
          cotp_agent_get_and_update(counter, get_then_increment, COTP_NIL, 5000));
  inspect("GET", cotp_agent_get(counter, identity, COTP_NIL, 5000));
  cotp_agent_stop(counter, COTP_ATOM_NORMAL, COTP_INFINITY);
}

int main(void) { return cotp_run(root, NULL, NULL, NULL, NULL); }
