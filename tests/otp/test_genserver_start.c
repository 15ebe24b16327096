/* SPDX-License-Identifier: Apache-2.0 */
/* GenServer start, start_link, start_monitor and names (H1-H5, D5, D6,
 * D8, the init half of H30) and bad arguments. */
#include "probe.h"

static cotp_heap *h(void) { return cotp_self_heap(); }

COTP_TEST(genserver, h1_start_forms_work_anonymously_and_noproc_after_stop) {
  cotp_pid a = probe_start(":ok");
  cotp_pid b = probe_start_link(":ok");
  cotp_pid c;
  cotp_term mon, reason;
  cotp_assert_rc(cotp_genserver_start_monitor(&probe_cb, probe_arg(":ok"), NULL,
                                              &c, &mon, &reason),
                 0);
  cotp_pid all[3] = {a, b, c};
  for (int i = 0; i < 3; i++) {
    cotp_assert_term_eq(cotp_genserver_call(srv(all[i]), COTP_ATOM(get), 1000),
                        cotp_int(h(), 0));
    cotp_assert_rc(cotp_genserver_stop(srv(all[i]), COTP_ATOM_NORMAL, 1000), 0);
    cr_assert(!cotp_is_alive(all[i]));
    cotp_term why = call_exit_reason(srv(all[i]), COTP_ATOM(get), 1000);
    cotp_assert_term_eq(
        why, cotp_format(h(), "{:noproc, {GenServer, :call, [~p, :get, 1000]}}",
                         all[i]));
  }
}

static bool is_init_report(cotp_term msg, void *ctx) {
  (void)ctx;
  return cotp_test_is_cmd(msg, "cb", 3) && cotp_tuple_get(msg, 1).w == COTP_ATOM(init).w;
}

COTP_TEST(genserver, h2_start_timeout_returns_timeout_and_kills_the_server) {
  cotp_genserver_opts o = COTP_GENSERVER_OPTS_INIT;
  o.timeout_ms = 50;
  o.name = cotp_name_local(COTP_ATOM(h2));
  for (int link = 0; link < 2; link++) {
    cotp_pid pid = {0};
    cotp_term reason;
    int rc = link ? cotp_genserver_start_link(&probe_cb,
                                              probe_arg("{:sleep, 2000}"), &o,
                                              &pid, &reason)
                  : cotp_genserver_start(&probe_cb, probe_arg("{:sleep, 2000}"),
                                         &o, &pid, &reason);
    cotp_assert_rc(rc, COTP_GENSERVER_ERROR);
    cotp_assert_term_eq(reason, COTP_ATOM_TIMEOUT);
    /* the half-started server was killed (while in init, or before it got
     * there on a slow machine): its name goes, and terminate never ran */
    cotp_pid where;
    for (int i = 0; i < 2000 && cotp_whereis(COTP_ATOM(h2), &where) == 0; i++)
      cotp_sleep(1);
    cotp_assert_rc(cotp_whereis(COTP_ATOM(h2), &where), COTP_ENOTFOUND);
    cotp_receive_if(is_init_report, NULL, 0, 0, NULL);
    probe_refute("terminate", 50);
  }
  /* the caller was not linked to anything that killed it, and no EXIT or
   * late answer is left behind */
  cotp_test_refute_received("_", 50);
}

static int start_with(int how, const char *action, cotp_pid *pid,
                      cotp_term *reason) {
  cotp_term mon;
  switch (how) {
  case 0:
    return cotp_genserver_start(&probe_cb, probe_arg(action), NULL, pid, reason);
  case 1:
    return cotp_genserver_start_link(&probe_cb, probe_arg(action), NULL, pid,
                                     reason);
  default:
    return cotp_genserver_start_monitor(&probe_cb, probe_arg(action), NULL, pid,
                                        &mon, reason);
  }
}

static bool is_exit(cotp_term msg, void *ctx) {
  (void)ctx;
  return cotp_test_is_cmd(msg, "EXIT", 3);
}

COTP_TEST(genserver, h3_init_results_map_to_start_results) {
  cotp_trap_exit(true, NULL); /* start_link's failures arrive as EXITs */
  long frees0 = atomic_load(&probe_frees);
  int starts = 0;
  for (int round = 0; round < 5; round++) {
    for (int how = 0; how < 3; how++) {
      cotp_pid pid;
      cotp_term reason;
      cotp_assert_rc(start_with(how, ":ignore", &pid, &reason),
                     COTP_GENSERVER_IGNORE);
      cotp_assert_term_eq(reason, COTP_ATOM_IGNORE);
      cotp_assert_rc(start_with(how, "{:stop, :bad}", &pid, &reason),
                     COTP_GENSERVER_ERROR);
      cotp_assert_term_eq(reason, COTP_ATOM(bad));
      cotp_assert_rc(start_with(how, "{:exit, :boom}", &pid, &reason),
                     COTP_GENSERVER_ERROR);
      cotp_assert_term_eq(reason, COTP_ATOM(boom));
      cotp_assert_rc(start_with(how, ":bad", &pid, &reason),
                     COTP_GENSERVER_ERROR);
      cotp_assert_term_eq(reason,
                          cotp_test_parse("{:bad_return_value, {:reply, :ok, :state}}"));
      starts += 4;
      if (how == 1) /* the EXITs of the linked ones */
        for (int i = 0; i < 4; i++)
          cotp_assert_rc(cotp_receive_if(is_exit, NULL, 1000, 0, NULL), 0);
    }
  }
  /* no leaks: every server's state was freed (they are all gone) */
  for (int i = 0; i < 200 && atomic_load(&probe_frees) - frees0 < starts; i++)
    cotp_sleep(5);
  cr_assert_eq(atomic_load(&probe_frees) - frees0, starts);
  cr_assert_eq(cotp_mailbox_length(), (size_t)(5 * 3 * 4));
}

static void start_link_stop(void *arg) {
  (void)arg;
  cotp_pid pid;
  cotp_term reason;
  cotp_genserver_start_link(&probe_cb, probe_arg("{:stop, :bad}"), NULL, &pid,
                            &reason);
  cotp_exit(COTP_ATOM(survived));
}

COTP_TEST(genserver, h4_start_link_failure_exits_a_caller_that_does_not_trap) {
  cotp_pid pid;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn_monitor(start_link_stop, NULL, &pid, &ref), 0);
  cotp_assert_term_eq(cotp_test_down_of(ref, pid), COTP_ATOM(bad));

  cotp_trap_exit(true, NULL);
  cotp_pid server = {0};
  cotp_term reason;
  cotp_assert_rc(cotp_genserver_start_link(&probe_cb, probe_arg("{:stop, :bad}"),
                                           NULL, &server, &reason),
                 COTP_GENSERVER_ERROR);
  cotp_assert_term_eq(reason, COTP_ATOM(bad));
  cotp_term msg;
  cotp_assert_rc(cotp_receive_if(is_exit, NULL, 1000, 0, &msg), 0);
  cotp_assert_term_eq(cotp_tuple_get(msg, 2), COTP_ATOM(bad));
}

COTP_TEST(genserver, h5_start_monitor_returns_a_monitor_whose_down_has_the_reason) {
  cotp_pid pid;
  cotp_term mon, reason;
  cotp_assert_rc(cotp_genserver_start_monitor(&probe_cb, probe_arg(":ok"), NULL,
                                              &pid, &mon, &reason),
                 0);
  cr_assert(cotp_is_ref(mon));
  cotp_genserver_cast(srv(pid), cotp_test_parse("{:stop, :going}"));
  cotp_assert_term_eq(cotp_test_down_of(mon, pid), COTP_ATOM(going));
  /* a failed start_monitor leaves no DOWN */
  cotp_assert_rc(cotp_genserver_start_monitor(&probe_cb,
                                              probe_arg("{:stop, :no}"), NULL,
                                              &pid, &mon, &reason),
                 COTP_GENSERVER_ERROR);
  cotp_test_refute_received("{:DOWN, _, _, _, _}", 50);
}

COTP_TEST(genserver, d5_taken_name_gives_already_started_with_the_pid) {
  cotp_genserver_opts o = COTP_GENSERVER_OPTS_INIT;
  cotp_term via_name = cotp_test_parse("{:worker, 7}");
  cotp_name names[2] = {cotp_name_local(COTP_ATOM(d5)),
                        cotp_name_via(&test_via, via_name)};
  for (int k = 0; k < 2; k++) {
    o.name = names[k];
    cotp_pid first, pid;
    cotp_term reason, mon;
    cotp_assert_rc(cotp_genserver_start(&probe_cb, probe_arg(":ok"), &o, &first,
                                        &reason),
                   0);
    cotp_term want = COTP_TUPLE(h(), COTP_ATOM_ALREADY_STARTED, cotp_pid_term(first));
    cotp_assert_rc(cotp_genserver_start(&probe_cb, probe_arg(":ok"), &o, &pid,
                                        &reason),
                   COTP_GENSERVER_ERROR);
    cotp_assert_term_eq(reason, want);
    cotp_assert_rc(cotp_genserver_start_link(&probe_cb, probe_arg(":ok"), &o,
                                             &pid, &reason),
                   COTP_GENSERVER_ERROR);
    cotp_assert_term_eq(reason, want);
    cotp_assert_rc(cotp_genserver_start_monitor(&probe_cb, probe_arg(":ok"), &o,
                                                &pid, &mon, &reason),
                   COTP_GENSERVER_ERROR);
    cotp_assert_term_eq(reason, want);
    /* by name, it is the first one */
    cotp_server by_name = {{0}, names[k]};
    cotp_assert_rc(cotp_genserver_whereis(by_name, &pid), 0);
    cr_assert(cotp_pid_eq(pid, first));
    cotp_assert_term_eq(cotp_genserver_call(by_name, COTP_ATOM(get), 1000),
                        cotp_int(h(), 0));
    cotp_assert_rc(cotp_genserver_stop(by_name, COTP_ATOM_NORMAL, 1000), 0);
  }
}

COTP_TEST(genserver, d6_failed_start_leaves_no_name_registered, .timeout = 60) {
  cotp_genserver_opts o = COTP_GENSERVER_OPTS_INIT;
  o.name = cotp_name_local(COTP_ATOM(d6));
  const char *actions[3] = {":ignore", "{:stop, :no}", "{:exit, :no}"};
  for (int i = 0; i < 100; i++) {
    cotp_pid pid, where;
    cotp_term reason;
    int rc = cotp_genserver_start(&probe_cb, probe_arg(actions[i % 3]), &o, &pid,
                                  &reason);
    cr_assert(rc == COTP_GENSERVER_IGNORE || rc == COTP_GENSERVER_ERROR);
    cotp_assert_rc(cotp_whereis(COTP_ATOM(d6), &where), COTP_ENOTFOUND);
  }
  /* and the name is free for the next start */
  cotp_pid pid;
  cotp_assert_rc(cotp_genserver_start(&probe_cb, probe_arg(":ok"), &o, &pid, NULL),
                 0);
  cotp_assert_rc(cotp_genserver_stop(srv(pid), COTP_ATOM_NORMAL, 1000), 0);
}

COTP_TEST(genserver, d8_name_nil_means_no_name_and_bad_names_are_refused) {
  cotp_genserver_opts o = COTP_GENSERVER_OPTS_INIT;
  o.name = cotp_name_local(COTP_ATOM_NIL);
  cotp_pid pid, where;
  cotp_assert_rc(cotp_genserver_start(&probe_cb, probe_arg(":ok"), &o, &pid, NULL),
                 0);
  probe_expect("init");
  cotp_assert_rc(cotp_whereis(COTP_ATOM_NIL, &where), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_genserver_stop(srv(pid), COTP_ATOM_NORMAL, 1000), 0);

  cotp_term bad[3] = {cotp_string(h(), "name"), COTP_ATOM_UNDEFINED,
                      cotp_int(h(), 3)};
  for (int i = 0; i < 3; i++) {
    o.name = cotp_name_local(bad[i]);
    cotp_assert_rc(cotp_genserver_start(&probe_cb, probe_arg(":ok"), &o, &pid,
                                        NULL),
                   COTP_EINVAL);
  }
  cotp_via incomplete = {"Elixir.Half", NULL, NULL, NULL, NULL, NULL};
  o.name = cotp_name_via(&incomplete, COTP_ATOM(x));
  cotp_assert_rc(cotp_genserver_start(&probe_cb, probe_arg(":ok"), &o, &pid, NULL),
                 COTP_EINVAL);
  o.name = cotp_name_via(NULL, COTP_ATOM(x));
  cotp_assert_rc(cotp_genserver_start(&probe_cb, probe_arg(":ok"), &o, &pid, NULL),
                 COTP_EINVAL);
  /* nothing was started for any of them */
  cotp_test_refute_received("{:cb, :init, _}", 50);
}

COTP_TEST(genserver, h30_missing_init_fails_start_with_undef_and_no_exit) {
  cotp_genserver_callbacks cb = {.name = "NoInit"};
  cotp_trap_exit(true, NULL);
  cotp_pid pid;
  cotp_term reason;
  cotp_assert_rc(cotp_genserver_start(&cb, COTP_ATOM_OK, NULL, &pid, &reason),
                 COTP_GENSERVER_ERROR);
  cotp_assert_prints(reason, "{:undef, [{NoInit, :init, 1, []}]}");
  /* start (unlinked) leaks no EXIT into the caller */
  cotp_test_refute_received("{:EXIT, _, _}", 50);
}

COTP_TEST(genserver, bad_arguments_are_refused_without_a_process) {
  cotp_pid pid;
  cotp_term mon;
  cotp_assert_rc(cotp_genserver_start(NULL, COTP_ATOM_OK, NULL, &pid, NULL),
                 COTP_EINVAL);
  cotp_assert_rc(cotp_genserver_start(&probe_cb, COTP_NONE, NULL, &pid, NULL),
                 COTP_EINVAL);
  cotp_genserver_opts o = COTP_GENSERVER_OPTS_INIT;
  o.timeout_ms = -5;
  cotp_assert_rc(cotp_genserver_start(&probe_cb, probe_arg(":ok"), &o, &pid, NULL),
                 COTP_EINVAL);
  cotp_assert_rc(cotp_genserver_start_monitor(&probe_cb, probe_arg(":ok"), NULL,
                                              &pid, NULL, NULL),
                 COTP_EINVAL);
  o = (cotp_genserver_opts)COTP_GENSERVER_OPTS_INIT;
  o.spawn.priority = (cotp_priority)42;
  cotp_assert_rc(cotp_genserver_start(&probe_cb, probe_arg(":ok"), &o, &pid, NULL),
                 COTP_EINVAL);
  (void)mon;
  cotp_test_refute_received("{:cb, :init, _}", 50);
}

static void outside(void *arg) {
  int *rc = arg;
  cotp_pid pid;
  rc[0] = cotp_genserver_start(&probe_cb, COTP_ATOM_OK, NULL, &pid, NULL);
  cotp_term out;
  rc[1] = cotp_genserver_call_result(srv(pid), COTP_ATOM_OK, 10, &out);
  rc[2] = cotp_genserver_stop(srv(pid), COTP_ATOM_NORMAL, 10);
}

Test(genserver, functions_outside_a_process_return_enotproc) {
  int rc[3];
  outside(rc);
  cr_assert_eq(rc[0], COTP_ENOTPROC);
  cr_assert_eq(rc[1], COTP_ENOTPROC);
  cr_assert_eq(rc[2], COTP_ENOTPROC);
}

COTP_TEST(genserver, init_options_state_trace_and_spawn_are_forwarded) {
  static int token;
  cotp_genserver_opts o = COTP_GENSERVER_OPTS_INIT;
  o.spawn.priority = COTP_PRIORITY_HIGH;
  cotp_pid pid;
  cotp_assert_rc(cotp_genserver_start(&probe_cb, probe_arg(":ok"), &o, &pid, NULL),
                 0);
  cotp_term prio;
  cotp_assert_rc(cotp_process_info(pid, COTP_ATOM(priority), &prio), 0);
  cotp_assert_term_eq(prio, COTP_ATOM(high));
  cotp_genserver_stop(srv(pid), COTP_ATOM_NORMAL, 1000);
  (void)token;
}

/* A starter killed before its server is spawned leaks nothing: until the
 * spawn, the server struct and the state are held in the starter's heap.
 * The kill waits in the starter's inbox as it calls start, and acts at
 * the first drain there (cotp_receive_mark, before the spawn). */
static _Atomic int states_freed;

static void count_free(void *state) {
  free(state);
  atomic_fetch_add(&states_freed, 1);
}

static cotp_gs_ret counted_init(cotp_term arg, void **state) {
  (void)arg;
  (void)state;
  return cotp_gs_ok();
}

static const cotp_genserver_callbacks counted_cb = {
    .name = "Counted", .init = counted_init, .free_state = count_free};

static void start_with_a_kill_pending(void *arg) {
  (void)arg;
  cotp_genserver_opts o = COTP_GENSERVER_OPTS_INIT;
  o.name = cotp_name_local(COTP_ATOM(never_spawned));
  cotp_test_hold_for_kill();
  o.state = malloc(64);
  cotp_genserver_start_link(&counted_cb, COTP_NIL, &o, NULL, NULL);
  cotp_exit(COTP_ATOM(started)); /* not reached: the kill acts first */
}

static void starter_killed_before_the_spawn(void *arg) {
  (void)arg;
  cotp_test_kill_at_hold(start_with_a_kill_pending, NULL, 0);
  for (int i = 0; i < 1000 && atomic_load(&states_freed) == 0; i++)
    cotp_sleep(1);
  cr_assert_eq(atomic_load(&states_freed), 1);
  cotp_pid p;
  cotp_assert_rc(cotp_whereis(COTP_ATOM(never_spawned), &p), COTP_ENOTFOUND);
}

Test(genserver, a_starter_killed_before_the_spawn_leaks_nothing) {
  cotp_test_run(starter_killed_before_the_spawn, NULL, 2);
}
