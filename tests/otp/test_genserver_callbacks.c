/* SPDX-License-Identifier: Apache-2.0 */
/* GenServer callbacks: timeouts, hibernate, continue, info, terminate,
 * reports and the default callbacks (H15, H16, H18, H20, H21, H23-H27,
 * H29, H30). */
#include <stdio.h>
#include <string.h>

#include "probe.h"

static cotp_heap *h(void) { return cotp_self_heap(); }

static cotp_term call(cotp_pid pid, const char *req) {
  return cotp_genserver_call(srv(pid), cotp_test_parse(req), 1000);
}

static void cast(cotp_pid pid, const char *req) {
  cotp_assert_rc(cotp_genserver_cast(srv(pid), cotp_test_parse(req)), 0);
}

COTP_TEST(genserver, h15_timeout_fires_when_no_message_comes) {
  cotp_pid pid = probe_start(":ok");
  cotp_assert_term_eq(call(pid, "{:timeout, 20}"), COTP_ATOM_OK);
  cotp_assert_term_eq(probe_expect("info"), COTP_ATOM_TIMEOUT);
  /* from init too */
  pid = probe_start("{:timeout, 10}");
  cotp_assert_term_eq(probe_expect("info"), COTP_ATOM_TIMEOUT);
  probe_refute("info", 50); /* once */
}

COTP_TEST(genserver, h15_any_message_cancels_the_timeout_a_system_message_does_not) {
  cotp_pid pid = probe_start(":ok");
  /* the server queues itself a message, then returns a timeout: the
   * message comes first and cancels it (no race with the clock: it is
   * queued before the timer even starts) */
  cast(pid, "{:send_then_timeout, :first, 50}");
  probe_expect("cast");
  cotp_assert_term_eq(probe_expect("info"), COTP_ATOM(first));
  probe_refute("info", 150);
  /* get_state is a system message: the timeout still fires */
  call(pid, "{:timeout, 60}");
  void *state;
  cotp_assert_rc(cotp_genserver_get_state(srv(pid), 1000, &state), 0);
  cotp_assert_rc(cotp_genserver_get_state(srv(pid), 1000, &state), 0);
  cotp_assert_term_eq(probe_expect("info"), COTP_ATOM_TIMEOUT);
}

COTP_TEST(genserver, h15_a_stale_timeout_is_never_delivered) {
  cotp_pid pid = probe_start(":ok");
  /* a zero timeout whose timer message, fired or not, is overtaken by a
   * message that arms a newer, long timeout: the old one must not fire */
  for (int i = 0; i < 20; i++) {
    cast(pid, "{:send_then_timeout, {:timeout, 100000}, 0}");
    probe_expect("cast");
    cotp_assert_prints(probe_expect("info"), "{:timeout, 100000}");
  }
  probe_refute("info", 100);
}

COTP_TEST(genserver, h16_a_zero_timeout_yields_to_queued_messages) {
  cotp_pid pid = probe_start(":ok");
  cast(pid, "{:send_then_timeout, :queued, 0}");
  probe_expect("cast");
  cotp_assert_term_eq(probe_expect("info"), COTP_ATOM(queued));
  probe_refute("info", 100); /* the queued message cancelled it */
  /* with nothing queued it fires */
  cast(pid, "{:timeout, 0}");
  cotp_assert_term_eq(probe_expect("info"), COTP_ATOM_TIMEOUT);
}

COTP_TEST(genserver, h18_hibernate_keeps_serving_with_its_state) {
  cotp_pid pid = probe_start(":ok");
  call(pid, "{:set, 5}");
  cotp_assert_term_eq(call(pid, ":hibernate"), COTP_ATOM_OK);
  cotp_assert_term_eq(call(pid, ":get"), cotp_int(h(), 5));
  cast(pid, ":hibernate");
  cast(pid, "{:set, 6}");
  cotp_send(pid, COTP_ATOM(hibernate));
  cotp_assert_term_eq(call(pid, ":get"), cotp_int(h(), 6));
}

COTP_TEST(genserver, h20_continue_runs_before_messages_queued_in_the_same_callback) {
  cotp_pid pid = probe_start(":ok");
  cast(pid, "{:send_then_continue, :queued, :cont}");
  cotp_term msg;
  const char *want[3] = {"{:cb, :cast, {:send_then_continue, :queued, :cont}}",
                         "{:cb, :continue, :cont}", "{:cb, :info, :queued}"};
  for (int i = 0; i < 3; i++) {
    cotp_assert_rc(cotp_receive(1000, &msg), 0);
    cotp_assert_prints(msg, want[i]);
  }
  /* continue, then after_continue, then the message it sent itself */
  cast(pid, "{:continue, {:send_self, :mine}}");
  const char *want2[4] = {"{:cb, :cast, {:continue, {:send_self, :mine}}}",
                          "{:cb, :continue, {:send_self, :mine}}",
                          "{:cb, :continue, :after}", "{:cb, :info, :mine}"};
  for (int i = 0; i < 4; i++) {
    cotp_assert_rc(cotp_receive(1000, &msg), 0);
    cotp_assert_prints(msg, want2[i]);
  }
}

COTP_TEST(genserver, h21_continue_from_every_callback_and_stop_from_continue) {
  cotp_pid pid = probe_start("{:continue, :from_init}");
  cotp_assert_term_eq(probe_expect("continue"), COTP_ATOM(from_init));
  cotp_assert_term_eq(call(pid, "{:continue, :from_call}"), COTP_ATOM_OK);
  cotp_assert_term_eq(probe_expect("continue"), COTP_ATOM(from_call));
  cast(pid, "{:continue, :from_cast}");
  cotp_assert_term_eq(probe_expect("continue"), COTP_ATOM(from_cast));
  cotp_send(pid, cotp_test_parse("{:continue, :from_info}"));
  cotp_assert_term_eq(probe_expect("continue"), COTP_ATOM(from_info));
  cast(pid, "{:continue, {:chain, {:chain, :last}}}");
  cotp_assert_prints(probe_expect("continue"), "{:chain, {:chain, :last}}");
  cotp_assert_prints(probe_expect("continue"), "{:chain, :last}");
  cotp_assert_prints(probe_expect("continue"), ":last");
  /* the reply is sent before the continue runs; a stop from the continue
   * stops the server */
  cotp_term ref;
  cotp_monitor(pid, &ref);
  cotp_assert_term_eq(call(pid, "{:continue, {:stop, :normal}}"), COTP_ATOM_OK);
  cotp_assert_term_eq(cotp_test_down_of(ref, pid), COTP_ATOM_NORMAL);
  cotp_assert_term_eq(probe_expect("terminate"), COTP_ATOM_NORMAL);
}

COTP_TEST(genserver, h23_info_gets_any_message_and_stop_from_any_callback_terminates) {
  cotp_pid pid = probe_start(":ok");
  cotp_term odd = cotp_test_parse("{\"any\", [1, 2.5], %{a: :b}}");
  cotp_send(pid, odd);
  cotp_assert_term_eq(probe_expect("info"), odd);
  cotp_send(pid, cotp_test_parse("{:stop, :from_info}"));
  cotp_assert_term_eq(probe_expect("terminate"), COTP_ATOM(from_info));
  cotp_assert_term_eq(wait_down(pid), COTP_ATOM_NOPROC);
  pid = probe_start(":ok");
  cast(pid, "{:stop, :from_cast}");
  cotp_assert_term_eq(probe_expect("terminate"), COTP_ATOM(from_cast));
}

/* A parent for a linked server: start_link a probe owned by `owner`,
 * report it, then exit as told. */
struct parent_args {
  cotp_pid owner;
  const char *action;
};

static void parent(void *arg) {
  struct parent_args a = *(struct parent_args *)arg;
  cotp_heap *hp = cotp_self_heap();
  cotp_term init = COTP_TUPLE(hp, cotp_pid_term(a.owner), cotp_parse(hp, a.action));
  cotp_pid server;
  if (cotp_genserver_start_link(&probe_cb, init, NULL, &server, NULL) != 0)
    cotp_exit(COTP_ATOM(start_failed));
  cotp_send(a.owner, COTP_TUPLE(hp, COTP_ATOM(server), cotp_pid_term(server)));
  cotp_term msg;
  cotp_receive(COTP_INFINITY, &msg); /* {:casts_then_exit, n, reason} */
  int64_t n = cotp_int_value(cotp_tuple_get(msg, 1));
  for (int64_t i = 1; i <= n; i++)
    cotp_genserver_cast(srv(server), COTP_TUPLE(hp, COTP_ATOM(set), cotp_int(hp, i)));
  cotp_term reason = cotp_tuple_get(msg, 2);
  if (reason.w == COTP_ATOM_NORMAL.w)
    return;
  cotp_exit(reason);
}

static cotp_pid start_parent(const char *action, cotp_pid *server) {
  static struct parent_args a;
  a = (struct parent_args){cotp_self(), action};
  cotp_pid p;
  cotp_assert_rc(cotp_spawn(parent, &a, &p), 0);
  cotp_term caps[1];
  cotp_clause c = {cotp_test_pattern("{:server, pid}"), NULL, caps};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
  *server = cotp_get_pid(caps[0]);
  probe_expect("init");
  return p;
}

static void parent_exits(cotp_pid p, int casts, const char *reason) {
  cotp_send(p, COTP_TUPLE(h(), COTP_ATOM(casts_then_exit), cotp_int(h(), casts),
                          cotp_test_parse(reason)));
}

COTP_TEST(genserver, h24_terminate_runs_on_stop_crash_bad_return_and_trapped_parent_exit) {
  cotp_pid pid = probe_start(":ok");
  cast(pid, "{:exit, :crashed}");
  cotp_assert_term_eq(probe_expect("terminate"), COTP_ATOM(crashed));
  pid = probe_start(":ok");
  cast(pid, ":bad");
  cotp_assert_prints(probe_expect("terminate"), "{:bad_return_value, 0}");
  pid = probe_start(":ok");
  cast(pid, ":reply");
  cotp_assert_prints(probe_expect("terminate"),
                     "{:bad_return_value, {:reply, :ok, :state}}");
  cotp_pid server;
  cotp_pid p = start_parent(":trap", &server);
  parent_exits(p, 0, ":shutdown");
  cotp_assert_term_eq(probe_expect("terminate"), COTP_ATOM_SHUTDOWN);
  cotp_assert_term_eq(wait_down(server), COTP_ATOM_NOPROC);
}

COTP_TEST(genserver, h24_terminate_does_not_run_on_kill_or_untrapped_exit_signal) {
  long frees0 = atomic_load(&probe_frees);
  cotp_pid pid = probe_start(":ok");
  cotp_term ref;
  cotp_monitor(pid, &ref);
  cotp_exit_signal(pid, COTP_ATOM_KILL);
  cotp_assert_term_eq(cotp_test_down_of(ref, pid), COTP_ATOM_KILLED);
  pid = probe_start(":trap"); /* trapping, but kill cannot be trapped */
  cotp_monitor(pid, &ref);
  cotp_exit_signal(pid, COTP_ATOM_KILL);
  cotp_assert_term_eq(cotp_test_down_of(ref, pid), COTP_ATOM_KILLED);
  pid = probe_start(":ok");
  cotp_monitor(pid, &ref);
  cotp_exit_signal(pid, COTP_ATOM(boom));
  cotp_assert_term_eq(cotp_test_down_of(ref, pid), COTP_ATOM(boom));
  cotp_pid server;
  cotp_pid p = start_parent(":ok", &server); /* linked, not trapping */
  parent_exits(p, 0, ":boom");
  cotp_term why = wait_down(server); /* :noproc if it is already gone */
  cr_assert(why.w == COTP_ATOM(boom).w || why.w == COTP_ATOM_NOPROC.w);
  probe_refute("terminate", 50);
  /* the state was freed every time all the same */
  for (int i = 0; i < 200 && atomic_load(&probe_frees) - frees0 < 4; i++)
    cotp_sleep(5);
  cr_assert_eq(atomic_load(&probe_frees) - frees0, 4);
}

COTP_TEST(genserver, h24_an_exit_from_another_process_is_an_info_when_trapping) {
  cotp_pid pid = probe_start(":trap");
  cotp_exit_signal(pid, COTP_ATOM(other));
  cotp_assert_term_eq(probe_expect("info"),
                      COTP_TUPLE(h(), COTP_ATOM_EXIT, cotp_pid_term(cotp_self()),
                                 COTP_ATOM(other)));
  cr_assert(cotp_is_alive(pid));
}

COTP_TEST(genserver, h25_terminate_runs_after_the_messages_before_the_parent_exit) {
  cotp_pid server;
  cotp_pid p = start_parent(":trap", &server);
  parent_exits(p, 3, ":shutdown");
  for (int i = 1; i <= 3; i++)
    cotp_assert_term_eq(probe_expect("cast"),
                        COTP_TUPLE(h(), COTP_ATOM(set), cotp_int(h(), i)));
  cotp_assert_term_eq(probe_expect("terminate"), COTP_ATOM_SHUTDOWN);
}

COTP_TEST(genserver, h26_a_trapping_server_terminates_when_its_parent_exits_normally) {
  cotp_pid server;
  cotp_pid p = start_parent(":trap", &server);
  cotp_term ref;
  cotp_monitor(server, &ref);
  parent_exits(p, 0, ":normal");
  cotp_assert_term_eq(probe_expect("terminate"), COTP_ATOM_NORMAL);
  cotp_assert_term_eq(cotp_test_down_of(ref, server), COTP_ATOM_NORMAL);
}

static void expect_report(const char *want) {
  const char *got = NULL;
  for (int i = 0; i < 100; i++) {
    got = log_capture_text();
    if (strstr(got, want))
      return;
    cotp_sleep(5);
  }
  cr_assert_fail("report not found:\n%s\nlogged:\n%s", want, got);
}

COTP_TEST(genserver, h27_abnormal_stops_are_reported_with_message_state_and_client) {
  log_capture_start(COTP_LOG_ERROR);
  cotp_pid pid = probe_start(":ok");
  call(pid, "{:set, 3}");
  cotp_term out;
  cotp_genserver_call_result(srv(pid), cotp_test_parse("{:stop, :oops}"), 1000, &out);
  char want[512], me[64], it[64];
  cotp_term_print(me, sizeof me, cotp_pid_term(cotp_self()));
  cotp_term_print(it, sizeof it, cotp_pid_term(pid));
  snprintf(want, sizeof want,
           "GenServer %s terminating\n** (stop) :oops\n"
           "Last message (from %s): {:stop, :oops}\nState: {:probe, 3}\n"
           "Client %s is alive",
           it, me, me);
  expect_report(want);

  pid = probe_start(":ok");
  cast(pid, ":bad");
  cotp_term_print(it, sizeof it, cotp_pid_term(pid));
  snprintf(want, sizeof want,
           "GenServer %s terminating\n** (stop) bad return value: 0\n"
           "Last message: {:\"$gen_cast\", :bad}\nState: {:probe, 0}",
           it);
  expect_report(want);

  cotp_genserver_opts o = COTP_GENSERVER_OPTS_INIT;
  o.name = cotp_name_local(COTP_ATOM(reported));
  cotp_assert_rc(cotp_genserver_start(&probe_cb, probe_arg(":ok"), &o, &pid, NULL), 0);
  cotp_send(pid, cotp_test_parse("{:exit, {:some, \"reason\"}}"));
  expect_report("GenServer :reported terminating\n** (stop) {:some, \"reason\"}\n"
                "Last message: {:exit, {:some, \"reason\"}}\nState: {:probe, 0}");

  /* normal, shutdown and {:shutdown, _} are not reported */
  const char *quiet[3] = {":normal", ":shutdown", "{:shutdown, :x}"};
  for (int i = 0; i < 3; i++) {
    pid = probe_start(":ok");
    cotp_term ref;
    cotp_monitor(pid, &ref);
    cotp_genserver_cast(srv(pid), COTP_TUPLE(h(), COTP_ATOM(stop), cotp_test_parse(quiet[i])));
    cotp_test_down_of(ref, pid);
    cotp_term_print(it, sizeof it, cotp_pid_term(pid));
    snprintf(want, sizeof want, "GenServer %s terminating", it);
    cr_assert_eq(strstr(log_capture_text(), want), NULL, "%s reported", quiet[i]);
  }
  log_capture_stop();
}

COTP_TEST(genserver, h29_a_crash_in_terminate_replaces_the_reason) {
  cotp_pid pid = probe_start(":ok");
  call(pid, "{:terminate_exit, {:crash, :terminate}}");
  cotp_term ref;
  cotp_monitor(pid, &ref);
  cast(pid, "{:stop, :normal}");
  cotp_assert_term_eq(probe_expect("terminate"), COTP_ATOM_NORMAL);
  cotp_assert_prints(cotp_test_down_of(ref, pid), "{:crash, :terminate}");
}

/* init only: every other callback is the default */
static cotp_gs_ret bare_init(cotp_term arg, void **state) {
  *state = (void *)(intptr_t)cotp_int_value(arg);
  return cotp_gs_ok();
}

static cotp_gs_ret bare_continue_init(cotp_term arg, void **state) {
  (void)arg, (void)state;
  return cotp_gs_continue(cotp_gs_ok(), COTP_ATOM(go));
}

static cotp_gs_ret undef_info(cotp_term msg, void **state) {
  (void)msg, (void)state;
  cotp_exit(cotp_test_parse("{:undef, [{Foo, :bar, 0, []}]}"));
}

COTP_TEST(genserver, h30_default_callbacks_behave_as_elixirs) {
  static const cotp_genserver_callbacks bare = {.name = "Bare", .init = bare_init};
  log_capture_start(COTP_LOG_ERROR);
  cotp_pid pid;
  char want[256], it[64];
  /* handle_info: logged, and the server goes on */
  cotp_assert_rc(cotp_genserver_start(&bare, cotp_int(h(), 7), NULL, &pid, NULL), 0);
  cotp_term_print(it, sizeof it, cotp_pid_term(pid));
  cotp_send(pid, COTP_ATOM(hello));
  snprintf(want, sizeof want,
           "Bare %s received unexpected message in handle_info/2: :hello", it);
  expect_report(want);
  cr_assert(cotp_is_alive(pid));
  /* handle_call: the server and the caller exit with a RuntimeError */
  cotp_term ref;
  cotp_monitor(pid, &ref);
  snprintf(want, sizeof want,
           "attempted to call GenServer %s but no handle_call/3 clause was provided",
           it);
  cotp_term err = COTP_TUPLE(h(), COTP_ATOM(runtime_error), cotp_string(h(), want));
  cotp_assert_term_eq(call_exit_reason(srv(pid), COTP_ATOM(x), 1000),
                      cotp_format(h(), "{~t, {GenServer, :call, [~p, :x, 1000]}}",
                                  err, pid));
  cotp_assert_term_eq(cotp_test_down_of(ref, pid), err);
  snprintf(want, sizeof want, "** (RuntimeError) attempted to call GenServer %s", it);
  expect_report(want);
  /* handle_cast: the server exits */
  cotp_assert_rc(cotp_genserver_start(&bare, cotp_int(h(), 7), NULL, &pid, NULL), 0);
  cotp_monitor(pid, &ref);
  cotp_genserver_cast(srv(pid), COTP_ATOM(x));
  cotp_term_print(it, sizeof it, cotp_pid_term(pid));
  snprintf(want, sizeof want,
           "attempted to cast GenServer %s but no handle_cast/2 clause was provided",
           it);
  cotp_assert_term_eq(cotp_test_down_of(ref, pid),
                      COTP_TUPLE(h(), COTP_ATOM(runtime_error), cotp_string(h(), want)));
  /* terminate: the stop reason stays */
  cotp_assert_rc(cotp_genserver_start(&bare, cotp_int(h(), 7), NULL, &pid, NULL), 0);
  cotp_assert_rc(cotp_genserver_stop(srv(pid), COTP_ATOM(my_reason), 1000), 0);
  /* handle_continue: undef */
  static const cotp_genserver_callbacks cont = {.name = "Bare",
                                                .init = bare_continue_init};
  cotp_assert_rc(cotp_genserver_start(&cont, COTP_ATOM_OK, NULL, &pid, NULL), 0);
  cotp_assert_prints(wait_down(pid), ":noproc");
  expect_report("** (stop) {:undef, [{Bare, :handle_continue, 2, []}]}");
  /* an undef raised inside handle_info is not swallowed */
  static const cotp_genserver_callbacks inner = {.name = "Bare", .init = bare_init,
                                                 .handle_info = undef_info};
  cotp_assert_rc(cotp_genserver_start(&inner, cotp_int(h(), 7), NULL, &pid, NULL), 0);
  cotp_monitor(pid, &ref);
  cotp_send(pid, COTP_ATOM(x));
  cotp_assert_prints(cotp_test_down_of(ref, pid), "{:undef, [{Foo, :bar, 0, []}]}");
  log_capture_stop();
}

static cotp_term exiting_status(cotp_heap *hp, void *state) {
  (void)hp, (void)state;
  cotp_exit(COTP_ATOM(fs));
}

COTP_TEST(genserver, h34_format_status_crash_is_caught_and_reported) {
  log_capture_start(COTP_LOG_ERROR);
  static cotp_genserver_callbacks cb;
  cb = probe_cb;
  cb.format_status = exiting_status;
  cotp_pid pid;
  cotp_assert_rc(cotp_genserver_start(&cb, probe_arg(":ok"), NULL, &pid, NULL), 0);
  cast(pid, "{:stop, :x}");
  expect_report("** (stop) :x\nLast message: {:\"$gen_cast\", {:stop, :x}}\n"
                "State: (format_status exited: :fs)");
  /* without format_status the report shows the pointer */
  cb.format_status = NULL;
  cotp_assert_rc(cotp_genserver_start(&cb, probe_arg(":ok"), NULL, &pid, NULL), 0);
  cast(pid, "{:stop, :y}");
  expect_report("** (stop) :y\nLast message: {:\"$gen_cast\", {:stop, :y}}\n"
                "State: (C state 0x");
  log_capture_stop();
}

/* A server killed while it reports its crash leaks nothing (the sanitizer
 * runs check): what the report waits for (whether the client is alive, a
 * round trip; the state's format_status) comes before it allocates.  This
 * format_status tells the root it runs, then waits. */
static cotp_pid reporting_root;

static bool nothing(cotp_term msg, void *ctx) {
  (void)msg, (void)ctx;
  return false;
}

static cotp_term waiting_status(cotp_heap *hp, void *state) {
  (void)hp, (void)state;
  cotp_send(reporting_root, COTP_ATOM(reporting));
  cotp_receive_if(nothing, NULL, COTP_INFINITY, 0, NULL);
  return COTP_ATOM_NIL;
}

/* Starts a server of cb, stops it with a cast, and kills it once it says
 * `said` from inside its crash report: it must die of the kill. */
static void kill_while_reporting(const cotp_genserver_callbacks *cb,
                                 const char *said) {
  reporting_root = cotp_self();
  cotp_pid pid;
  cotp_assert_rc(cotp_genserver_start(cb, probe_arg(":ok"), NULL, &pid, NULL), 0);
  cotp_term mon;
  cotp_assert_rc(cotp_monitor(pid, &mon), 0);
  cast(pid, "{:stop, :x}");
  cotp_clause c = {cotp_test_pattern(said), NULL, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
  cotp_exit_signal(pid, COTP_ATOM_KILL);
  cotp_assert_term_eq(cotp_test_down_of(mon, pid), COTP_ATOM_KILLED);
}

COTP_TEST(genserver, a_server_killed_while_it_reports_its_crash_leaks_nothing) {
  log_capture_start(COTP_LOG_ERROR);
  static cotp_genserver_callbacks cb;
  cb = probe_cb;
  cb.format_status = waiting_status;
  kill_while_reporting(&cb, ":reporting");
  cr_assert_eq(strstr(log_capture_text(), "terminating"), NULL);
  log_capture_stop();
}

/* ...nor while its logger takes the report: a logger may wait (a call to
 * a logger process, as Elixir's Logger in sync mode), so the report goes
 * to it from the process heap.  This logger tells the root, then waits. */
static void waiting_logger(cotp_log_level level, const char *message, void *ctx) {
  (void)level, (void)ctx;
  if (!cotp_self().bits || !strstr(message, "terminating"))
    return; /* not the server's report */
  cotp_send(reporting_root, COTP_ATOM(logging));
  cotp_receive_if(nothing, NULL, COTP_INFINITY, 0, NULL);
}

COTP_TEST(genserver, a_server_killed_while_its_logger_runs_leaks_nothing) {
  cotp_set_logger(waiting_logger, NULL);
  cotp_set_log_level(COTP_LOG_ERROR);
  kill_while_reporting(&probe_cb, ":logging");
  cotp_set_log_level(COTP_LOG_ERROR + 1);
  cotp_set_logger(NULL, NULL);
}
