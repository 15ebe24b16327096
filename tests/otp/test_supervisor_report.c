/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Supervisor reports in Elixir 1.14's words (docs/crash_reports.md):
 * "Child <id> of Supervisor <name> terminated / started / caused
 * shutdown / shut down abnormally", with the exit, the pid and the child's
 * spec.
 */
#include <stdio.h>
#include <string.h>

#include "sup_util.h"

static cotp_gs_ret crashy_init(cotp_term arg, void **state) {
  (void)arg, (void)state;
  return cotp_gs_ok();
}

static cotp_gs_ret crashy_cast(cotp_term req, void **state) {
  (void)state;
  cotp_exit(req);
}

static const cotp_genserver_callbacks crashy = {
    .name = "Crashy", .init = crashy_init, .handle_cast = crashy_cast};

static cotp_child_spec crashy_spec(cotp_term id) {
  return cotp_genserver_child_spec(id, &crashy, cotp_int(cotp_self_heap(), 1), COTP_NIL);
}

/* Waits until child id runs with a pid other than old. */
static cotp_pid restarted(cotp_pid sup, cotp_term id, cotp_pid old) {
  for (int i = 0; i < 500; i++) {
    cotp_pid p = child_pid(sup, id);
    if (p.bits && !cotp_pid_eq(p, old))
      return p;
    cotp_sleep(10);
  }
  cr_assert_fail("child was not restarted");
  return old;
}

static char *pid_text(cotp_pid p) {
  static char buf[2][64];
  static int k;
  k ^= 1;
  cotp_term_print(buf[k], sizeof buf[k], cotp_pid_term(p));
  return buf[k];
}

static void assert_logged(const char *want) {
  const char *log = log_capture_text();
  cr_assert(strstr(log, want), "missing from the log:\n%s\n--- log:\n%s", want, log);
}

COTP_TEST(supervisor, report_child_terminated_and_restarted_in_elixirs_words) {
  log_capture_start(COTP_LOG_DEBUG);
  cotp_child_spec s = crashy_spec(COTP_ATOM(w0));
  cotp_supervisor_opts o = COTP_SUPERVISOR_OPTS_INIT;
  o.name = cotp_name_local(COTP_ATOM(report_sup));
  cotp_pid sup;
  cotp_assert_rc(cotp_supervisor_start_link_children(&s, 1, NULL, &o, &sup, NULL), 0);
  cotp_pid first = child_pid(sup, COTP_ATOM(w0));
  cotp_genserver_cast(cotp_server_pid(first), cotp_test_parse("{:bad, 1}"));
  cotp_pid second = restarted(sup, COTP_ATOM(w0), first);
  char want[1024];
  snprintf(want, sizeof want,
           "Child :w0 of Supervisor :report_sup started\nPid: %s\n"
           "Start Call: Crashy.start_link(1)\nRestart: :permanent\n"
           "Shutdown: 5000\nType: :worker",
           pid_text(first));
  assert_logged(want);
  snprintf(want, sizeof want,
           "Child :w0 of Supervisor :report_sup terminated\n** (exit) {:bad, 1}\n"
           "Pid: %s\nStart Call: Crashy.start_link(1)\nRestart: :permanent\n"
           "Shutdown: 5000\nType: :worker",
           pid_text(first));
  assert_logged(want);
  snprintf(want, sizeof want, "Child :w0 of Supervisor :report_sup started\nPid: %s\n",
           pid_text(second));
  assert_logged(want);
  log_capture_stop();
}

COTP_TEST(supervisor, report_intensity_reached_in_elixirs_words) {
  cotp_trap_exit(true, NULL);
  log_capture_start(COTP_LOG_INFO);
  cotp_child_spec s = crashy_spec(COTP_ATOM(w1));
  s.restart = COTP_TRANSIENT;
  s.shutdown = COTP_SHUTDOWN_BRUTAL_KILL;
  cotp_supervisor_flags f = COTP_SUPERVISOR_FLAGS_INIT;
  f.max_restarts = 0;
  cotp_pid sup;
  cotp_assert_rc(cotp_supervisor_start_link_children(&s, 1, &f, NULL, &sup, NULL), 0);
  cotp_pid w = child_pid(sup, COTP_ATOM(w1));
  cotp_genserver_cast(cotp_server_pid(w), COTP_ATOM_KILL); /* exits with :kill */
  cotp_assert_term_eq(cotp_test_exit_from(sup, 5000), COTP_ATOM_SHUTDOWN);
  char want[1024];
  snprintf(want, sizeof want,
           "Child :w1 of Supervisor %s (Supervisor.Default) terminated\n** (exit) :kill\n"
           "Pid: %s\nStart Call: Crashy.start_link(1)\nRestart: :transient\n"
           "Shutdown: :brutal_kill\nType: :worker",
           pid_text(sup), pid_text(w));
  assert_logged(want);
  snprintf(want, sizeof want,
           "Child :w1 of Supervisor %s (Supervisor.Default) caused shutdown\n"
           "** (exit) :reached_max_restart_intensity\nStart Call: Crashy.start_link(1)\n",
           pid_text(sup));
  assert_logged(want);
  /* progress reports are debug: not at this level */
  cr_assert(!strstr(log_capture_text(), " started\n"), "%s", log_capture_text());
  log_capture_stop();
}

/* A child that traps exits and dies of something else than the shutdown
 * it was sent is "shut down abnormally"; a normal exit of a transient
 * child is not reported, and exits with shutdown reasons never are. */
static cotp_gs_ret trapper_init(cotp_term arg, void **state) {
  (void)arg, (void)state;
  cotp_trap_exit(true, NULL);
  return cotp_gs_ok();
}

static void trapper_terminate(cotp_term reason, void *state) {
  (void)reason, (void)state;
  cotp_exit(COTP_ATOM(oops));
}

static const cotp_genserver_callbacks trapper = {
    .name = "Trapper", .init = trapper_init, .terminate = trapper_terminate};

COTP_TEST(supervisor, report_shut_down_abnormally_in_elixirs_words) {
  log_capture_start(COTP_LOG_INFO);
  cotp_child_spec s =
      cotp_genserver_child_spec(COTP_ATOM(t0), &trapper, COTP_NIL, COTP_NIL);
  cotp_pid sup;
  cotp_assert_rc(cotp_supervisor_start_link_children(&s, 1, NULL, NULL, &sup, NULL), 0);
  cotp_pid t = child_pid(sup, COTP_ATOM(t0));
  cotp_assert_rc(cotp_supervisor_terminate_child(cotp_server_pid(sup), COTP_ATOM(t0), NULL), 0);
  char want[1024];
  snprintf(want, sizeof want,
           "Child :t0 of Supervisor %s (Supervisor.Default) shut down abnormally\n"
           "** (exit) :oops\nPid: %s\nStart Call: Trapper.start_link([])\n",
           pid_text(sup), pid_text(t));
  assert_logged(want);
  log_capture_stop();
}

/* A supervisor killed while it reports a start leaks nothing (the
 * sanitizer runs check): the report asks for the supervisor's name, which
 * acts on pending signals, before it allocates.  The child's start leaves
 * a kill pending in the supervisor, which acts at the first drain after
 * it: in the "started" report. */
static cotp_term start_and_hold(cotp_term args, void *ctx) {
  (void)args, (void)ctx;
  cotp_pid pid = {0};
  cotp_spawn_link(cotp_test_idle, NULL, &pid); /* dies with the supervisor */
  cotp_test_hold_for_kill();
  return COTP_TUPLE(cotp_self_heap(), COTP_ATOM_OK, cotp_pid_term(pid));
}

static void start_held_child(void *arg) {
  cotp_pid sup = *(cotp_pid *)arg;
  cotp_child_spec s = COTP_CHILD_SPEC_INIT;
  s.id = COTP_ATOM(held);
  s.start = start_and_hold;
  cotp_supervisor_start_child(cotp_server_pid(sup), &s, NULL, NULL);
}

/* A client process, monitored, that runs fn(&sup): it asks sup to start
 * a child. */
static cotp_pid client_of(cotp_pid sup, cotp_entry *fn, cotp_term *mon) {
  cotp_spawn_opts so = COTP_SPAWN_OPTS_INIT;
  so.arg_size = sizeof sup;
  so.monitor = true;
  so.monitor_ref = mon;
  cotp_pid client;
  cotp_assert_rc(cotp_spawn_opt(fn, &sup, &so, &client), 0);
  return client;
}

static void killed_while_reporting(void *arg) {
  (void)arg;
  log_capture_start(COTP_LOG_DEBUG);
  cotp_supervisor_flags f = COTP_SUPERVISOR_FLAGS_INIT;
  cotp_supervisor_opts o = COTP_SUPERVISOR_OPTS_INIT;
  o.spawn.priority = COTP_PRIORITY_HIGH; /* it holds one scheduler */
  cotp_pid sup;
  cotp_assert_rc(cotp_supervisor_start_link_children(NULL, 0, &f, &o, &sup, NULL), 0);
  cotp_unlink(sup);
  cotp_term sup_mon, client_mon;
  cotp_assert_rc(cotp_monitor(sup, &sup_mon), 0);
  cotp_pid client = client_of(sup, start_held_child, &client_mon);
  cr_assert(cotp_pid_eq(cotp_test_kill_holder(), sup));
  cotp_assert_term_eq(cotp_test_down_of(sup_mon, sup), COTP_ATOM_KILLED);
  cotp_test_down_of(client_mon, client);
  cr_assert_eq(strstr(log_capture_text(), "Child :held"), NULL);
  log_capture_stop();
}

Test(supervisor, a_supervisor_killed_while_it_reports_leaks_nothing) {
  cotp_test_run(killed_while_reporting, NULL, 2);
}

/* ...nor while its logger takes a report: a logger may wait (a call to a
 * logger process), so the report goes to it from the process heap.  This
 * logger tells the root about the "started" report of :logged, then
 * waits. */
static cotp_pid logging_root;

static bool nothing(cotp_term msg, void *ctx) {
  (void)msg, (void)ctx;
  return false;
}

static void waiting_logger(cotp_log_level level, const char *message, void *ctx) {
  (void)level, (void)ctx;
  if (!cotp_self().bits || !strstr(message, "Child :logged"))
    return;
  cotp_send(logging_root, COTP_ATOM(logging));
  cotp_receive_if(nothing, NULL, COTP_INFINITY, 0, NULL);
}

static void start_logged_child(void *arg) {
  cotp_pid sup = *(cotp_pid *)arg;
  cotp_child_spec s = crashy_spec(COTP_ATOM(logged));
  cotp_supervisor_start_child(cotp_server_pid(sup), &s, NULL, NULL);
}

COTP_TEST(supervisor, a_supervisor_killed_while_its_logger_runs_leaks_nothing) {
  logging_root = cotp_self();
  cotp_set_logger(waiting_logger, NULL);
  cotp_set_log_level(COTP_LOG_DEBUG);
  cotp_supervisor_flags f = COTP_SUPERVISOR_FLAGS_INIT;
  cotp_pid sup;
  cotp_assert_rc(cotp_supervisor_start_link_children(NULL, 0, &f, NULL, &sup, NULL), 0);
  cotp_unlink(sup);
  cotp_term sup_mon, client_mon;
  cotp_assert_rc(cotp_monitor(sup, &sup_mon), 0);
  cotp_pid client = client_of(sup, start_logged_child, &client_mon);
  cotp_clause c = {cotp_test_pattern(":logging"), NULL, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
  cotp_exit_signal(sup, COTP_ATOM_KILL);
  cotp_assert_term_eq(cotp_test_down_of(sup_mon, sup), COTP_ATOM_KILLED);
  cotp_test_down_of(client_mon, client);
  cotp_set_log_level(COTP_LOG_ERROR + 1);
  cotp_set_logger(NULL, NULL);
}
