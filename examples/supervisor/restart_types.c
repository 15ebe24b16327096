/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 5.3, restart types: CrashDummyServers started as
 * :permanent_dummy, :temporary_dummy and :transient_dummy, each with that
 * restart value (Supervisor.child_spec({CrashDummyServer, name}, id: name,
 * restart: r)), stopped gracefully (:normal) or crashed, in the chapter's
 * order, restarting the supervisor between the cases as the chapter does.
 *
 *   permanent: restarted after both;  temporary: restarted after neither,
 *   and gone from which_children;     transient: restarted after a crash
 *   only, and left :undefined after a graceful stop.
 */
#include "sup_example.h"

static cotp_gs_ret dummy_init(cotp_term name, void **state) {
  say("%s starting up!", cotp_atom_name(name, NULL));
  *state = (void *)(intptr_t)unique_integer();
  return cotp_gs_ok();
}

static cotp_gs_ret dummy_cast(cotp_term req, void **state) {
  (void)state;
  if (req.w == COTP_ATOM(stop_gracefully).w)
    return cotp_gs_stop(COTP_ATOM_NORMAL); /* {:stop, :normal, state} */
  char msg[128], *pid = cotp_term_to_string(cotp_pid_term(cotp_self()));
  snprintf(msg, sizeof msg, "BOOM! CrashDummyServer process: %s crashed!", pid);
  free(pid);
  cotp_exit(runtime_error(msg));
}

static const cotp_genserver_callbacks dummy_cb = {
    .name = "CrashDummyServer", .init = dummy_init, .handle_cast = dummy_cast};

static cotp_term dummy_child_spec(cotp_heap *h, cotp_term name, void *ctx) {
  (void)ctx;
  cotp_child_spec s =
      cotp_genserver_child_spec(cotp_format(h, "CrashDummyServer"), &dummy_cb, name, name);
  return cotp_child_spec_term(h, &s);
}

static cotp_term child_spec(const char *name, const char *restart) {
  cotp_heap *h = cotp_self_heap();
  return cotp_child_spec_override(h, cotp_format(h, "{CrashDummyServer, ~a}", name),
                                  cotp_format(h, "[id: ~a, restart: ~a]", name, restart));
}

static cotp_term sup_init(cotp_term arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  cotp_supervisor_flags f = COTP_SUPERVISOR_FLAGS_INIT; /* one_for_one */
  cotp_term children = COTP_LIST(h, child_spec("permanent_dummy", "permanent"),
                                 child_spec("temporary_dummy", "temporary"),
                                 child_spec("transient_dummy", "transient"));
  return cotp_format(h, "{:ok, {~t, ~t}}", cotp_supervisor_flags_term(h, &f), children);
}

static const cotp_supervisor_module sup_mod = {"CrashDummySupervisor", sup_init};

static cotp_pid start_sup(void) {
  cotp_supervisor_opts o = COTP_SUPERVISOR_OPTS_INIT;
  o.name = cotp_name_local(cotp_format(cotp_self_heap(), "CrashDummySupervisor"));
  cotp_pid sup;
  if (cotp_supervisor_start_link(&sup_mod, COTP_ATOM(noop), &o, &sup, NULL) != 0)
    exit(1);
  return sup;
}

static cotp_pid restart_sup(cotp_pid sup) {
  puts("# Supervisor.stop(supervisor_pid); CrashDummySupervisor.start_link()");
  cotp_supervisor_stop(cotp_server_pid(sup), COTP_ATOM_NORMAL, COTP_INFINITY);
  return start_sup();
}

static void cast(const char *name, const char *msg) {
  printf("# GenServer.cast(:%s, :%s)\n", name, msg);
  cotp_genserver_cast(cotp_server_name(cotp_atom(name)), cotp_atom(msg));
  cotp_sleep(100); /* the next cell of the notebook */
}

static void children(cotp_pid sup) {
  show("Supervisors Children", cotp_supervisor_which_children(cotp_server_pid(sup)));
}

static void root(void *arg) {
  (void)arg;
  cotp_supervisor_register_module(cotp_format(cotp_self_heap(), "CrashDummyServer"),
                                  dummy_child_spec, NULL);
  puts("## :permanent");
  cotp_pid sup = start_sup();
  children(sup);
  cast("permanent_dummy", "stop_gracefully");
  cast("permanent_dummy", "crash");

  puts("## :temporary");
  cast("temporary_dummy", "stop_gracefully");
  children(sup);
  sup = restart_sup(sup);
  cast("temporary_dummy", "crash");
  children(sup);

  puts("## :transient");
  sup = restart_sup(sup);
  children(sup);
  cast("transient_dummy", "stop_gracefully");
  children(sup);
  sup = restart_sup(sup);
  cast("transient_dummy", "crash");
  children(sup);
  cotp_supervisor_stop(cotp_server_pid(sup), COTP_ATOM_NORMAL, COTP_INFINITY);
}

int main(void) {
  cotp_config cfg = COTP_CONFIG_INIT;
  cfg.schedulers = 2;
  return cotp_run(root, NULL, &cfg, NULL, NULL) == 0 ? 0 : 1;
}
