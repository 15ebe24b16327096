/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 5.2, supervision strategies: three CrashDummyServers (:dummy1,
 * :dummy2, :dummy3) under a module-based CrashDummySupervisor, once per
 * strategy; :dummy2 crashes and the states show who was restarted (a
 * restarted server draws a new "random" number).  The children are given
 * as the book gives them, Supervisor.child_spec({CrashDummyServer, name},
 * id: name), through CrashDummyServer's registered child_spec function.
 *
 *   elixir: {:ok, supervisor_pid} = CrashDummySupervisor.start_link(:one_for_one)
 *           GenServer.cast(:dummy2, :boom)
 */
#include "sup_example.h"

/* --- CrashDummyServer --- */

static cotp_gs_ret dummy_init(cotp_term name, void **state) {
  say("%s starting up!", cotp_atom_name(name, NULL));
  *state = (void *)(intptr_t)unique_integer(); /* the random state */
  return cotp_gs_ok();
}

static cotp_gs_ret dummy_cast(cotp_term req, void **state) {
  (void)req, (void)state;
  char msg[128], *pid = cotp_term_to_string(cotp_pid_term(cotp_self()));
  snprintf(msg, sizeof msg, "BOOM! CrashDummyServer process: %s crashed!", pid);
  free(pid);
  cotp_exit(runtime_error(msg)); /* raise */
}

static const cotp_genserver_callbacks dummy_cb = {
    .name = "CrashDummyServer", .init = dummy_init, .handle_cast = dummy_cast};

/* CrashDummyServer.child_spec(name): start_link(name) registers name. */
static cotp_term dummy_child_spec(cotp_heap *h, cotp_term name, void *ctx) {
  (void)ctx;
  cotp_child_spec s =
      cotp_genserver_child_spec(cotp_format(h, "CrashDummyServer"), &dummy_cb, name, name);
  return cotp_child_spec_term(h, &s);
}

/* --- CrashDummySupervisor --- */

static cotp_term child_spec(cotp_term name) {
  cotp_heap *h = cotp_self_heap();
  return cotp_child_spec_override(h, cotp_format(h, "{CrashDummyServer, ~t}", name),
                                  cotp_format(h, "[id: ~t]", name));
}

static cotp_term sup_init(cotp_term strategy) {
  cotp_heap *h = cotp_self_heap();
  cotp_supervisor_flags f = COTP_SUPERVISOR_FLAGS_INIT;
  f.strategy = strategy.w == COTP_ATOM(one_for_all).w    ? COTP_ONE_FOR_ALL
               : strategy.w == COTP_ATOM(rest_for_one).w ? COTP_REST_FOR_ONE
                                                         : COTP_ONE_FOR_ONE;
  cotp_term children = COTP_LIST(h, child_spec(COTP_ATOM(dummy1)),
                                 child_spec(COTP_ATOM(dummy2)),
                                 child_spec(COTP_ATOM(dummy3)));
  return cotp_format(h, "{:ok, {~t, ~t}}", cotp_supervisor_flags_term(h, &f), children);
}

static const cotp_supervisor_module sup_mod = {"CrashDummySupervisor", sup_init};

static int sup_start_link(cotp_term strategy, cotp_pid *pid) {
  cotp_supervisor_opts o = COTP_SUPERVISOR_OPTS_INIT;
  o.name = cotp_name_local(cotp_format(cotp_self_heap(), "CrashDummySupervisor"));
  return cotp_supervisor_start_link(&sup_mod, strategy, &o, pid, NULL);
}

/* --- the chapter --- */

static void states(long out[3]) {
  static const char *labels[] = {"Dummy 1 state", "Dummy 2 state", "Dummy 3 state"};
  cotp_term names[] = {COTP_ATOM(dummy1), COTP_ATOM(dummy2), COTP_ATOM(dummy3)};
  for (int i = 0; i < 3; i++) {
    out[i] = int_state(names[i]);
    printf("%s: %ld\n", labels[i], out[i]);
  }
}

static void run_strategy(cotp_term strategy) {
  printf("# strategy ");
  show(NULL, strategy);
  cotp_pid sup;
  if (sup_start_link(strategy, &sup) != 0)
    exit(1);
  cotp_term links;
  cotp_process_info(sup, COTP_ATOM(links), &links);
  show("Supervisors links", COTP_TUPLE(cotp_self_heap(), COTP_ATOM(links), links));
  show("Supervisors Children", cotp_supervisor_which_children(cotp_server_pid(sup)));
  long before[3], after[3];
  states(before);

  cotp_genserver_cast(cotp_server_name(COTP_ATOM(dummy2)), COTP_ATOM(boom));
  cotp_sleep(200); /* wait for the crash and the restart */
  show("Supervisors Children", cotp_supervisor_which_children(cotp_server_pid(sup)));
  states(after);
  printf("Restarted:");
  for (int i = 0; i < 3; i++)
    if (after[i] != before[i])
      printf(" :dummy%d", i + 1);
  puts("");
  cotp_supervisor_stop(cotp_server_name(cotp_format(cotp_self_heap(), "CrashDummySupervisor")),
                       COTP_ATOM_NORMAL, COTP_INFINITY);
}

static void root(void *arg) {
  (void)arg;
  cotp_supervisor_register_module(cotp_format(cotp_self_heap(), "CrashDummyServer"),
                                  dummy_child_spec, NULL);
  run_strategy(COTP_ATOM(one_for_one));
  run_strategy(COTP_ATOM(one_for_all));
  run_strategy(COTP_ATOM(rest_for_one));
}

int main(void) {
  cotp_config cfg = COTP_CONFIG_INIT;
  cfg.schedulers = 2;
  return cotp_run(root, NULL, &cfg, NULL, NULL) == 0 ? 0 : 1;
}
