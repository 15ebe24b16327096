/* SPDX-License-Identifier: Apache-2.0 */
/* Supervisor start, init, child specs and flags (I1-I14, I36, I38). */
#include "sup_util.h"

static cotp_heap *h(void) { return cotp_self_heap(); }
static void idle_mfa(cotp_term args) {
  (void)args;
  cotp_test_idle(NULL);
}
static cotp_server S(cotp_pid p) { return cotp_server_pid(p); }

/* init returns its argument, or exits with it when it is {:exit, r} */
static cotp_term echo_init(cotp_term arg) {
  if (cotp_test_is_cmd(arg, "exit", 2))
    cotp_exit(cotp_tuple_get(arg, 1));
  return arg;
}
static const cotp_supervisor_module echo_mod = {"EchoSup", echo_init};

static int start_echo(const char *text, cotp_pid *pid, cotp_term *reason) {
  return cotp_supervisor_start_link(&echo_mod, cotp_test_parse(text), NULL, pid,
                                    reason);
}

COTP_TEST(supervisor, i1_init_ignore_returns_ignore) {
  cotp_trap_exit(true, NULL);
  cotp_pid pid;
  cotp_term reason;
  cotp_assert_rc(start_echo(":ignore", &pid, &reason), COTP_SUPERVISOR_IGNORE);
}

COTP_TEST(supervisor, i2_bad_init_return_or_crash_is_an_error) {
  cotp_trap_exit(true, NULL);
  cotp_pid pid;
  cotp_term reason;
  cotp_assert_rc(start_echo(":foo", &pid, &reason), COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reason, cotp_test_parse("{:bad_return, {EchoSup, :init, :foo}}"));
  cotp_assert_rc(start_echo("{:exit, :crashed}", &pid, &reason),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reason, COTP_ATOM(crashed));
}

COTP_TEST(supervisor, i3_ignore_child_is_kept_undefined) {
  int tags[] = {0, 1};
  mode[1] = W_IGNORE;
  cotp_pid sup = sup_of(COTP_ONE_FOR_ONE, 3, 5, tags, 2);
  started(0);
  cotp_child_counts c = counts(sup);
  cr_assert_eq(c.specs, 2);
  cr_assert_eq(c.active, 1);
  cotp_assert_term_eq(child_status(sup, wid(1)), COTP_ATOM_UNDEFINED);
  mode[2] = W_IGNORE;
  cotp_child_spec s = worker_spec(2);
  cotp_term reply;
  cotp_pid p;
  cotp_assert_rc(cotp_supervisor_start_child(S(sup), &s, &p, &reply), 0);
  cotp_assert_term_eq(reply, cotp_test_parse("{:ok, :undefined}"));
  cr_assert_eq(counts(sup).specs, 3);
}

COTP_TEST(supervisor, i4_temporary_ignore_child_is_not_stored) {
  mode[1] = W_IGNORE;
  test_root = cotp_self();
  cotp_child_spec specs[2] = {worker_spec(0), worker_spec(1)};
  specs[1].restart = COTP_TEMPORARY;
  cotp_pid sup;
  cotp_assert_rc(
      cotp_supervisor_start_link_children(specs, 2, NULL, NULL, &sup, NULL), 0);
  cr_assert_eq(counts(sup).specs, 1);
  mode[2] = W_IGNORE;
  cotp_child_spec s = worker_spec(2);
  s.restart = COTP_TEMPORARY;
  cotp_term reply;
  cotp_assert_rc(cotp_supervisor_start_child(S(sup), &s, NULL, &reply), 0);
  cotp_assert_term_eq(reply, cotp_test_parse("{:ok, :undefined}"));
  cr_assert_eq(counts(sup).specs, 1);
}

COTP_TEST(supervisor, i5_start_child_error_gives_reason_and_child_info) {
  cotp_pid sup = sup_of(COTP_ONE_FOR_ONE, 3, 5, NULL, 0);
  mode[0] = W_ERROR;
  mode[1] = W_BAD;
  mode[2] = W_EXIT;
  const char *want[] = {":nope", ":weird", "{:EXIT, :boom}"};
  for (int t = 0; t < 3; t++) {
    cotp_child_spec s = worker_spec(t);
    cotp_term reply;
    cotp_assert_rc(cotp_supervisor_start_child(S(sup), &s, NULL, &reply),
                   COTP_SUPERVISOR_ERROR);
    cotp_term r = cotp_tuple_get(reply, 1);
    cotp_assert_term_eq(cotp_tuple_get(r, 0), cotp_test_parse(want[t]));
    cotp_term info = cotp_tuple_get(r, 1);
    cotp_assert_term_eq(cotp_tuple_get(info, 0), COTP_ATOM(child));
    cotp_assert_term_eq(cotp_tuple_get(info, 2), wid(t));
  }
  cr_assert_eq(counts(sup).specs, 0);
}

COTP_TEST(supervisor, i6_restart_child_that_fails_stays_undefined) {
  int tags[] = {0};
  cotp_pid sup = sup_of(COTP_ONE_FOR_ONE, 3, 5, tags, 1);
  started(0);
  cotp_assert_rc(cotp_supervisor_terminate_child(S(sup), wid(0), NULL), 0);
  mode[0] = W_ERROR;
  cotp_term reply;
  cotp_assert_rc(cotp_supervisor_restart_child(S(sup), wid(0), NULL, &reply),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reply, cotp_test_parse("{:error, :nope}"));
  cotp_assert_term_eq(child_status(sup, wid(0)), COTP_ATOM_UNDEFINED);
  mode[0] = W_OK;
  cotp_pid p;
  cotp_assert_rc(cotp_supervisor_restart_child(S(sup), wid(0), &p, &reply), 0);
  cr_assert_eq(started(0).bits, p.bits);
}

COTP_TEST(supervisor, i7_failed_child_at_init_stops_started_ones_in_reverse) {
  cotp_trap_exit(true, NULL);
  test_root = cotp_self();
  mode[2] = W_EXIT;
  cotp_child_spec specs[3] = {worker_spec(0), worker_spec(1), worker_spec(2)};
  cotp_pid sup;
  cotp_term reason;
  cotp_term refs[2];
  /* the two started workers are watched from their :started reports */
  int rc = cotp_supervisor_start_link_children(specs, 3, NULL, NULL, &sup, &reason);
  cotp_assert_rc(rc, COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(
      reason, cotp_test_parse("{:shutdown, {:failed_to_start_child, :w2, {:EXIT, :boom}}}"));
  cotp_pid w0 = started(0), w1 = started(1);
  (void)refs;
  cr_assert(!cotp_is_alive(w0) && !cotp_is_alive(w1));
}

COTP_TEST(supervisor, i8_map_spec_defaults_and_get_childspec) {
  cotp_pid sup = sup_of(COTP_ONE_FOR_ONE, 3, 5, NULL, 0);
  cotp_assert_rc(cotp_register_function(cotp_atom("Elixir.W"), COTP_ATOM(run), idle_mfa), 0);
  cotp_assert_rc(cotp_supervisor_start_child_term(
                     S(sup), cotp_test_parse("%{id: :a, start: {W, :run, []}}"),
                     NULL, NULL),
                 0);
  cotp_term spec;
  cotp_assert_rc(cotp_supervisor_get_childspec(S(sup), COTP_ATOM(a), &spec), 0);
  cotp_assert_term_eq(spec, cotp_test_parse(
                                "%{id: :a, start: {W, :run, []}, restart: :permanent,"
                                " shutdown: 5000, type: :worker, modules: [W],"
                                " significant: false}"));
  cotp_assert_rc(cotp_supervisor_start_child_term(
                     S(sup),
                     cotp_test_parse("%{id: :b, start: {W, :run, []}, type: :supervisor}"),
                     NULL, NULL),
                 0);
  cotp_assert_rc(cotp_supervisor_get_childspec(S(sup), COTP_ATOM(b), &spec), 0);
  cotp_assert_term_eq(cotp_map_get(spec, COTP_ATOM(shutdown)), COTP_ATOM_INFINITY);
  cotp_assert_rc(cotp_supervisor_get_childspec(S(sup), COTP_ATOM(zz), &spec),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(spec, COTP_ATOM(not_found));
}

static void expect_bad_spec(cotp_pid sup, const char *spec, const char *reason) {
  cotp_term reply;
  cotp_assert_rc(cotp_supervisor_start_child_term(S(sup), cotp_test_parse(spec),
                                                  NULL, &reply),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(cotp_tuple_get(reply, 1), cotp_test_parse(reason));
}

COTP_TEST(supervisor, i9_i10_faulty_specs_are_reported_by_field) {
  cotp_pid sup = sup_of(COTP_ONE_FOR_ONE, 3, 5, NULL, 0);
  expect_bad_spec(sup, "%{start: {W, :run, []}}", ":missing_id");
  expect_bad_spec(sup, "%{id: 1}", ":missing_start");
  expect_bad_spec(sup, ":foo", "{:invalid_child_spec, :foo}");
  expect_bad_spec(sup, "%{id: 1, start: {W, :run}}", "{:invalid_mfa, {W, :run}}");
  expect_bad_spec(sup, "%{id: 1, start: {W, :run, []}, restart: :bad}",
                  "{:invalid_restart_type, :bad}");
  expect_bad_spec(sup, "%{id: 1, start: {W, :run, []}, shutdown: -1}",
                  "{:invalid_shutdown, -1}");
  expect_bad_spec(sup, "%{id: 1, start: {W, :run, []}, type: :boss}",
                  "{:invalid_child_type, :boss}");
  expect_bad_spec(sup, "%{id: 1, start: {W, :run, []}, modules: :x}",
                  "{:invalid_modules, :x}");
  expect_bad_spec(sup, "%{id: 1, start: {W, :run, []}, modules: [1]}",
                  "{:invalid_module, 1}");
  /* unknown keys are ignored; the 6-tuple form works */
  cotp_assert_rc(cotp_register_function(cotp_atom("Elixir.W"), COTP_ATOM(run), idle_mfa), 0);
  cotp_assert_rc(cotp_supervisor_start_child_term(
                     S(sup), cotp_test_parse("%{id: 1, start: {W, :run, []}, color: :red}"),
                     NULL, NULL),
                 0);
  cotp_assert_rc(cotp_supervisor_start_child_term(
                     S(sup),
                     cotp_test_parse("{2, {W, :run, []}, :temporary, 10, :worker, [W]}"),
                     NULL, NULL),
                 0);
  cr_assert_eq(counts(sup).active, 2);
  /* at start: a bad spec and a duplicate id name the child and the field */
  cotp_trap_exit(true, NULL);
  cotp_child_spec specs[2] = {worker_spec(0), worker_spec(1)};
  specs[1].restart = (cotp_restart)7;
  cotp_term reason;
  cotp_assert_rc(cotp_supervisor_start_link_children(specs, 2, NULL, NULL, NULL, &reason),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reason, cotp_test_parse("{:start_spec, {:invalid_restart_type, 7}}"));
  specs[1] = worker_spec(0);
  cotp_assert_rc(cotp_supervisor_start_link_children(specs, 2, NULL, NULL, NULL, &reason),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reason, cotp_test_parse("{:start_spec, {:duplicate_child_name, :w0}}"));
}

COTP_TEST(supervisor, i12_flag_errors) {
  cotp_trap_exit(true, NULL);
  const char *cases[][2] = {
      {"{:ok, {%{strategy: :bad}, []}}", "{:supervisor_data, {:invalid_strategy, :bad}}"},
      {"{:ok, {%{intensity: :infinity}, []}}",
       "{:supervisor_data, {:invalid_intensity, :infinity}}"},
      {"{:ok, {%{period: 0}, []}}", "{:supervisor_data, {:invalid_period, 0}}"},
      {"{:ok, {{:one_for_one, 1}, []}}",
       "{:supervisor_data, {:invalid_type, {:one_for_one, 1}}}"},
  };
  for (size_t i = 0; i < 4; i++) {
    cotp_term reason;
    cotp_assert_rc(start_echo(cases[i][0], NULL, &reason), COTP_SUPERVISOR_ERROR);
    cotp_assert_term_eq(reason, cotp_test_parse(cases[i][1]));
  }
  /* unknown flags are ignored, the tuple form works */
  cotp_assert_rc(start_echo("{:ok, {%{color: :red}, []}}", NULL, NULL), 0);
  cotp_assert_rc(start_echo("{:ok, {{:one_for_all, 1, 2}, []}}", NULL, NULL), 0);
}

COTP_TEST(supervisor, i13_defaults_are_elixirs_3_in_5) {
  cotp_supervisor_flags f = COTP_SUPERVISOR_FLAGS_INIT;
  cr_assert_eq(f.max_restarts, 3);
  cr_assert_eq(f.max_seconds, 5);
  cotp_assert_term_eq(cotp_supervisor_flags_term(h(), &f),
                      cotp_test_parse("%{strategy: :one_for_one, intensity: 3, period: 5,"
                                      " auto_shutdown: :never}"));
  /* and the supervisor uses them: the 4th restart within 5 s stops it */
  cotp_trap_exit(true, NULL);
  int tags[] = {0};
  cotp_pid sup = sup_of(COTP_ONE_FOR_ONE, 3, 5, tags, 1);
  for (int i = 0; i < 3; i++)
    cotp_send(started(0), cotp_test_parse("{:die, :crash}"));
  cotp_send(started(0), cotp_test_parse("{:die, :crash}"));
  cotp_assert_term_eq(cotp_test_exit_from(sup, 5000), COTP_ATOM_SHUTDOWN);
}

COTP_TEST(supervisor, i14_start_may_return_info) {
  cotp_pid sup = sup_of(COTP_ONE_FOR_ONE, 3, 5, NULL, 0);
  mode[0] = W_INFO;
  cotp_child_spec s = worker_spec(0);
  cotp_term reply;
  cotp_pid p;
  cotp_assert_rc(cotp_supervisor_start_child(S(sup), &s, &p, &reply), 0);
  cotp_assert_term_eq(reply, cotp_format(h(), "{:ok, ~p, :info}", p));
  started(0);
  cotp_send(p, cotp_test_parse("{:die, :crash}"));
  cotp_pid p2 = started(0); /* still restarted */
  cr_assert_neq(p2.bits, p.bits);
  cotp_assert_rc(cotp_supervisor_terminate_child(S(sup), wid(0), NULL), 0);
  cotp_assert_rc(cotp_supervisor_restart_child(S(sup), wid(0), &p, &reply), 0);
  cotp_assert_term_eq(reply, cotp_format(h(), "{:ok, ~p, :info}", p));
}

COTP_TEST(supervisor, i36_admin_errors) {
  int tags[] = {0};
  cotp_pid sup = sup_of(COTP_ONE_FOR_ONE, 3, 5, tags, 1);
  cotp_pid w0 = started(0);
  cotp_term r;
  cotp_assert_rc(cotp_supervisor_terminate_child(S(sup), COTP_ATOM(nope), &r),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(r, COTP_ATOM(not_found));
  cotp_assert_rc(cotp_supervisor_delete_child(S(sup), COTP_ATOM(nope), &r),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(r, COTP_ATOM(not_found));
  cotp_assert_rc(cotp_supervisor_restart_child(S(sup), COTP_ATOM(nope), NULL, &r),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(r, cotp_test_parse("{:error, :not_found}"));
  cotp_assert_rc(cotp_supervisor_delete_child(S(sup), wid(0), &r),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(r, COTP_ATOM(running));
  cotp_assert_rc(cotp_supervisor_restart_child(S(sup), wid(0), NULL, &r),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(r, cotp_test_parse("{:error, :running}"));
  cotp_child_spec s = worker_spec(0);
  cotp_assert_rc(cotp_supervisor_start_child(S(sup), &s, NULL, &r),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(r, cotp_format(h(), "{:error, {:already_started, ~p}}", w0));
  cotp_assert_rc(cotp_supervisor_terminate_child(S(sup), cotp_pid_term(w0), &r),
                 COTP_SUPERVISOR_ERROR); /* by pid: not on a static supervisor */
  cotp_assert_rc(cotp_supervisor_terminate_child(S(sup), wid(0), NULL), 0);
  cotp_assert_rc(cotp_supervisor_terminate_child(S(sup), wid(0), NULL), 0);
  cotp_assert_rc(cotp_supervisor_start_child(S(sup), &s, NULL, &r),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(r, cotp_test_parse("{:error, :already_present}"));
  cotp_assert_rc(cotp_supervisor_delete_child(S(sup), wid(0), NULL), 0);
  cotp_assert_rc(cotp_supervisor_delete_child(S(sup), wid(0), &r),
                 COTP_SUPERVISOR_ERROR);
  /* a supervisor that does not exist: the caller exits with noproc */
  cotp_assert_rc(cotp_supervisor_stop(S(sup), COTP_ATOM_NORMAL, 5000), 0);
  cotp_term why = call_exit_reason(S(sup), COTP_ATOM(which_children), COTP_INFINITY);
  cotp_assert_term_eq(cotp_tuple_get(why, 0), COTP_ATOM_NOPROC);
}

COTP_TEST(supervisor, i38_which_and_count_children) {
  int tags[] = {0, 1};
  cotp_pid sup = sup_of(COTP_ONE_FOR_ONE, 3, 5, tags, 2);
  cotp_pid w0 = started(0), w1 = started(1);
  cotp_assert_term_eq(cotp_supervisor_which_children(S(sup)),
                      cotp_format(h(), "[{:w1, ~p, :worker, []}, {:w0, ~p, :worker, []}]",
                                  w1, w0)); /* last started first, as OTP */
  cotp_assert_term_eq(cotp_child_counts_term(h(), &(cotp_child_counts){0}),
                      cotp_test_parse("%{specs: 0, active: 0, supervisors: 0, workers: 0}"));
  cotp_child_counts c = counts(sup);
  cr_assert(c.specs == 2 && c.active == 2 && c.workers == 2 && c.supervisors == 0);
}
