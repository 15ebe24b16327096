/* SPDX-License-Identifier: Apache-2.0 */
/* Agent (M1-M3, M5, M6) and its bad arguments. */
#include <stdatomic.h>
#include <stdlib.h>

#include "probe.h"

static cotp_heap *h(void) { return cotp_self_heap(); }

/* The state: a malloc'ed count, freed by free_count. */
static _Atomic int frees;

static void *init_count(cotp_term arg) {
  int64_t *n = malloc(sizeof *n);
  *n = cotp_int_value(arg);
  return n;
}

static void free_count(void *state) {
  free(state);
  atomic_fetch_add(&frees, 1);
}

static cotp_term get_count(void *state, cotp_term arg) {
  (void)arg;
  return cotp_int(cotp_self_heap(), *(int64_t *)state);
}

static void *add(void *state, cotp_term arg) {
  *(int64_t *)state += cotp_int_value(arg);
  return state;
}

static cotp_term get_and_add(void **state, cotp_term arg) {
  int64_t *n = *state;
  cotp_term old = cotp_int(cotp_self_heap(), *n);
  *n += cotp_int_value(arg);
  return old;
}

static cotp_term sleep_get(void *state, cotp_term arg) {
  cotp_sleep(cotp_int_value(arg));
  return get_count(state, arg);
}

static void *exit_update(void *state, cotp_term arg) {
  (void)state;
  cotp_exit(arg);
}

static void *init_fails(cotp_term arg) { cotp_exit(arg); }

static bool is_exit(cotp_term msg, void *ctx) {
  (void)ctx;
  return cotp_test_is_cmd(msg, "EXIT", 3);
}

COTP_TEST(agent, m1_start_link_workflow) {
  cotp_agent_opts o = COTP_AGENT_OPTS_INIT;
  o.free_state = free_count;
  int frees0 = atomic_load(&frees);
  cotp_pid pid;
  cotp_assert_rc(cotp_agent_start_link(init_count, cotp_int(h(), 0), &o, &pid, NULL), 0);
  cotp_term links;
  cotp_assert_rc(cotp_process_info(cotp_self(), COTP_ATOM(links), &links), 0);
  cotp_assert_term_eq(links, COTP_LIST(h(), cotp_pid_term(pid)));
  cotp_server a = srv(pid);
  cotp_assert_term_eq(cotp_agent_get(a, get_count, COTP_NIL, 1000), cotp_int(h(), 0));
  cotp_assert_rc(cotp_agent_update(a, add, cotp_int(h(), 5), 1000), 0);
  cotp_assert_term_eq(cotp_agent_get_and_update(a, get_and_add, cotp_int(h(), 2), 1000),
                      cotp_int(h(), 5));
  cotp_assert_term_eq(cotp_agent_get(a, get_count, COTP_NIL, 1000), cotp_int(h(), 7));
  cotp_assert_rc(cotp_agent_cast(a, add, cotp_int(h(), 1)), 0);
  cotp_assert_term_eq(cotp_agent_get(a, get_count, COTP_NIL, 1000), cotp_int(h(), 8));
  cotp_assert_rc(cotp_agent_stop(a, COTP_ATOM_NORMAL, 1000), 0);
  cr_assert(!cotp_is_alive(pid));
  for (int i = 0; i < 200 && atomic_load(&frees) == frees0; i++)
    cotp_sleep(5);
  cr_assert_eq(atomic_load(&frees), frees0 + 1);
}

COTP_TEST(agent, m2_a_named_agent_registers_and_stop_unregisters) {
  cotp_agent_opts o = COTP_AGENT_OPTS_INIT;
  o.name = cotp_name_local(COTP_ATOM(fib));
  o.free_state = free_count;
  cotp_pid pid, where;
  cotp_assert_rc(cotp_agent_start(init_count, cotp_int(h(), 1), &o, &pid, NULL), 0);
  cotp_assert_rc(cotp_whereis(COTP_ATOM(fib), &where), 0);
  cr_assert(cotp_pid_eq(where, pid));
  cotp_server a = cotp_server_name(COTP_ATOM(fib));
  cotp_assert_term_eq(cotp_agent_get(a, get_count, COTP_NIL, 1000), cotp_int(h(), 1));
  /* taken */
  cotp_term reason;
  cotp_assert_rc(cotp_agent_start(init_count, cotp_int(h(), 1), &o, NULL, &reason),
                 COTP_GENSERVER_ERROR);
  cotp_assert_term_eq(reason, COTP_TUPLE(h(), COTP_ATOM_ALREADY_STARTED,
                                         cotp_pid_term(pid)));
  cotp_assert_rc(cotp_agent_stop(a, COTP_ATOM_NORMAL, 1000), 0);
  cotp_assert_rc(cotp_whereis(COTP_ATOM(fib), &where), COTP_ENOTFOUND);
}

COTP_TEST(agent, m3_spawn_options_are_forwarded) {
  cotp_agent_opts o = COTP_AGENT_OPTS_INIT;
  o.spawn.priority = COTP_PRIORITY_LOW;
  o.free_state = free_count;
  cotp_pid pid;
  cotp_assert_rc(cotp_agent_start(init_count, cotp_int(h(), 1), &o, &pid, NULL), 0);
  cotp_term prio;
  cotp_assert_rc(cotp_process_info(pid, COTP_ATOM(priority), &prio), 0);
  cotp_assert_term_eq(prio, COTP_ATOM(low));
  cotp_agent_stop(srv(pid), COTP_ATOM_NORMAL, 1000);
}

struct get_args {
  cotp_pid agent;
  int64_t timeout;
};

static void getter(void *arg) {
  struct get_args g = *(struct get_args *)arg;
  cotp_agent_get(srv(g.agent), sleep_get, cotp_int(cotp_self_heap(), 100), g.timeout);
  cotp_exit(COTP_ATOM(returned));
}

COTP_TEST(agent, m6_agent_calls_fail_as_genserver_calls) {
  cotp_agent_opts o = COTP_AGENT_OPTS_INIT;
  o.free_state = free_count;
  cotp_pid pid;
  cotp_assert_rc(cotp_agent_start(init_count, cotp_int(h(), 1), &o, &pid, NULL), 0);
  static struct get_args g;
  g = (struct get_args){pid, 10};
  cotp_pid caller;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn_monitor(getter, &g, &caller, &ref), 0);
  cotp_term why = cotp_test_down_of(ref, caller);
  cr_assert(cotp_test_is_cmd(why, "timeout", 2));
  cotp_term mfa = cotp_tuple_get(why, 1);
  cotp_assert_prints(cotp_tuple_get(mfa, 0), "GenServer");
  cotp_assert_prints(cotp_tuple_get(mfa, 1), ":call");
  /* noproc */
  cotp_agent_stop(srv(pid), COTP_ATOM_NORMAL, 1000);
  cotp_assert_rc(cotp_spawn_monitor(getter, &g, &caller, &ref), 0);
  why = cotp_test_down_of(ref, caller);
  cr_assert(cotp_test_is_cmd(why, "noproc", 2));
}

COTP_TEST(agent, a_function_that_exits_takes_the_agent_down) {
  cotp_agent_opts o = COTP_AGENT_OPTS_INIT;
  o.free_state = free_count;
  cotp_pid pid;
  cotp_assert_rc(cotp_agent_start(init_count, cotp_int(h(), 1), &o, &pid, NULL), 0);
  cotp_term ref;
  cotp_monitor(pid, &ref);
  cotp_assert_rc(cotp_agent_cast(srv(pid), exit_update, COTP_ATOM(boom)), 0);
  cotp_assert_term_eq(cotp_test_down_of(ref, pid), COTP_ATOM(boom));
  /* an init function that exits fails the start */
  cotp_term reason;
  cotp_assert_rc(cotp_agent_start(init_fails, COTP_ATOM(no), NULL, &pid, &reason),
                 COTP_GENSERVER_ERROR);
  cotp_assert_term_eq(reason, COTP_ATOM(no));
  /* start_link: a trapping caller gets the EXIT too */
  cotp_trap_exit(true, NULL);
  cotp_assert_rc(cotp_agent_start_link(init_fails, COTP_ATOM(no), NULL, &pid, &reason),
                 COTP_GENSERVER_ERROR);
  cotp_assert_rc(cotp_receive_if(is_exit, NULL, 1000, 0, NULL), 0);
}

COTP_TEST(agent, bad_arguments) {
  cotp_pid pid;
  cotp_assert_rc(cotp_agent_start(NULL, COTP_NIL, NULL, &pid, NULL), COTP_EINVAL);
  cotp_assert_rc(cotp_agent_start(init_count, COTP_NONE, NULL, &pid, NULL),
                 COTP_EINVAL);
  cotp_agent_opts o = COTP_AGENT_OPTS_INIT;
  o.timeout_ms = -7;
  cotp_assert_rc(cotp_agent_start(init_count, cotp_int(h(), 0), &o, &pid, NULL),
                 COTP_EINVAL);
  o = (cotp_agent_opts)COTP_AGENT_OPTS_INIT;
  o.free_state = free_count;
  cotp_assert_rc(cotp_agent_start(init_count, cotp_int(h(), 0), &o, &pid, NULL), 0);
  cotp_assert_rc(cotp_agent_update(srv(pid), NULL, COTP_NIL, 1000), COTP_EINVAL);
  cotp_assert_rc(cotp_agent_cast(srv(pid), NULL, COTP_NIL), COTP_EINVAL);
  /* a get without a function exits like a call with a bad request */
  cotp_term why = call_exit_reason(srv(pid), COTP_NONE, 1000);
  cr_assert(cotp_test_is_cmd(why, "badarg", 2));
  cotp_assert_term_eq(cotp_agent_get(srv(pid), get_count, COTP_NIL, 1000),
                      cotp_int(h(), 0));
  cotp_agent_stop(srv(pid), COTP_ATOM_NORMAL, 1000);
}

/* --- under a supervisor (M5) --- */

/* The state is the integer itself (nothing to free: a supervised agent
 * has no free_state); every init tells the root. */
static cotp_pid m5_root;
static void *init_value(cotp_term arg) {
  cotp_send(m5_root, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(agent_init),
                                cotp_pid_term(cotp_self()), arg));
  return (void *)(intptr_t)cotp_int_value(arg);
}
static cotp_term get_value(void *state, cotp_term arg) {
  (void)arg;
  return cotp_int(cotp_self_heap(), (int64_t)(intptr_t)state);
}
static void *set_value(void *state, cotp_term arg) {
  (void)state;
  return (void *)(intptr_t)cotp_int_value(arg);
}

static cotp_pid agent_init(int64_t want) {
  cotp_clause c = {cotp_test_pattern("{:agent_init, _, _}"), NULL, NULL};
  cotp_term m;
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, &m), 0);
  cotp_assert_term_eq(cotp_tuple_get(m, 2), cotp_int(h(), want));
  return cotp_get_pid(cotp_tuple_get(m, 1));
}

COTP_TEST(agent, m5_a_supervised_agent_is_restarted_with_its_init_rerun) {
  m5_root = cotp_self();
  cotp_child_spec spec = cotp_agent_child_spec(COTP_NONE, init_value, cotp_int(h(), 10),
                                               COTP_ATOM(m5_agent));
  cotp_pid sup;
  cotp_assert_rc(cotp_supervisor_start_link_children(&spec, 1, NULL, NULL, &sup, NULL), 0);
  /* `use Agent`'s child spec: id Agent, restart left out: permanent */
  cotp_term map;
  cotp_assert_rc(cotp_supervisor_get_childspec(cotp_server_pid(sup), cotp_atom("Elixir.Agent"),
                                               &map),
                 0);
  cotp_assert_term_eq(cotp_map_get(map, COTP_ATOM(restart)), COTP_ATOM(permanent));
  cotp_pid first = agent_init(10);
  cotp_server a = cotp_server_name(COTP_ATOM(m5_agent));
  cotp_assert_rc(cotp_agent_update(a, set_value, cotp_int(h(), 99), 1000), 0);
  cotp_assert_term_eq(cotp_agent_get(a, get_value, COTP_NIL, 1000), cotp_int(h(), 99));
  /* a crash: the supervisor starts it again, init(10) once more, under
   * the same name, and the state is init's again */
  cotp_term ref;
  cotp_monitor(first, &ref);
  cotp_assert_rc(cotp_agent_cast(a, exit_update, COTP_ATOM(boom)), 0);
  cotp_assert_term_eq(cotp_test_down_of(ref, first), COTP_ATOM(boom));
  cotp_pid second = agent_init(10);
  cr_assert_neq(second.bits, first.bits);
  cotp_assert_term_eq(cotp_agent_get(a, get_value, COTP_NIL, 1000), cotp_int(h(), 10));
  cotp_pid named;
  cotp_assert_rc(cotp_whereis(COTP_ATOM(m5_agent), &named), 0);
  cr_assert_eq(named.bits, second.bits);
  cotp_test_refute_received("{:agent_init, _, _}", 0);
}

COTP_TEST(agent, m5_agent_child_spec_under_a_dynamic_supervisor) {
  /* unnamed: the pid is the only way to it */
  m5_root = cotp_self();
  cotp_dynamic_supervisor_opts o = COTP_DYNAMIC_SUPERVISOR_OPTS_INIT;
  cotp_pid sup;
  cotp_assert_rc(cotp_dynamic_supervisor_start_link(&o, &sup, NULL), 0);
  cotp_child_spec spec = cotp_agent_child_spec(COTP_NONE, init_value, cotp_int(h(), 3),
                                               COTP_NONE);
  cotp_pid pid;
  cotp_assert_rc(cotp_dynamic_supervisor_start_child(cotp_server_pid(sup), &spec, &pid, NULL),
                 0);
  cr_assert_eq(agent_init(3).bits, pid.bits);
  cotp_assert_term_eq(cotp_agent_get(cotp_server_pid(pid), get_value, COTP_NIL, 1000),
                      cotp_int(h(), 3));
}

COTP_TEST(agent, m5_agent_child_spec_without_init_is_refused) {
  cotp_child_spec spec = cotp_agent_child_spec(COTP_NONE, NULL, COTP_NIL, COTP_NONE);
  cotp_term reason = COTP_NONE;
  cotp_trap_exit(true, NULL);
  cotp_assert_rc(cotp_supervisor_start_link_children(&spec, 1, NULL, NULL, NULL, &reason),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reason, cotp_test_parse("{:start_spec, :missing_start}"));
}
