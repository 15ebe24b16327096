/* SPDX-License-Identifier: Apache-2.0 */
/* DynamicSupervisor (J1-J14, J16). */
#include "sup_util.h"

static cotp_heap *h(void) { return cotp_self_heap(); }
static cotp_server S(cotp_pid p) { return cotp_server_pid(p); }

static cotp_pid dyn(const cotp_dynamic_supervisor_opts *o) {
  test_root = cotp_self();
  cotp_pid sup;
  cotp_term reason = COTP_NONE;
  int rc = cotp_dynamic_supervisor_start_link(o, &sup, &reason);
  cr_assert_eq(rc, 0, "%s", cotp_term_to_string(reason));
  return sup;
}

static cotp_term flags_init(cotp_term arg) { return arg; }
static const cotp_supervisor_module flags_mod = {"Dyn", flags_init};

COTP_TEST(dynamic_supervisor, j1_j16_defaults_and_undefined_ids) {
  cotp_dynamic_supervisor_opts o = COTP_DYNAMIC_SUPERVISOR_OPTS_INIT;
  cr_assert(o.max_restarts == 3 && o.max_seconds == 5 &&
            o.max_children == COTP_INFINITY);
  cotp_pid sup = dyn(NULL);
  cotp_assert_term_eq(cotp_supervisor_which_children(S(sup)), COTP_NIL);
  cotp_child_spec s = worker_spec(0);
  cotp_pid p;
  cotp_assert_rc(cotp_dynamic_supervisor_start_child(S(sup), &s, &p, NULL), 0);
  cotp_assert_term_eq(cotp_supervisor_which_children(S(sup)),
                      cotp_format(h(), "[{:undefined, ~p, :worker, []}]", p));
}

COTP_TEST(dynamic_supervisor, j2_invalid_flags_ignore_and_bad_return) {
  cotp_trap_exit(true, NULL);
  const char *cases[][2] = {
      {"{:ok, %{strategy: :one_for_all}}",
       "{:supervisor_data, {:invalid_strategy, :one_for_all}}"},
      {"{:ok, %{intensity: -1}}", "{:supervisor_data, {:invalid_intensity, -1}}"},
      {"{:ok, %{period: 0}}", "{:supervisor_data, {:invalid_period, 0}}"},
      {"{:ok, %{max_children: -1}}", "{:supervisor_data, {:invalid_max_children, -1}}"},
      {"{:ok, %{extra_arguments: :x}}",
       "{:supervisor_data, {:invalid_extra_arguments, :x}}"},
      {"{:ok, %{auto_shutdown: :any_significant}}",
       "{:supervisor_data, {:invalid_auto_shutdown, :any_significant}}"},
      {":bad", "{:bad_return, {Dyn, :init, :bad}}"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    cotp_term reason;
    cotp_assert_rc(cotp_dynamic_supervisor_start_link_module(
                       &flags_mod, cotp_test_parse(cases[i][0]), NULL, NULL, &reason),
                   COTP_SUPERVISOR_ERROR);
    cotp_assert_term_eq(reason, cotp_test_parse(cases[i][1]));
  }
  cotp_assert_rc(cotp_dynamic_supervisor_start_link_module(
                     &flags_mod, COTP_ATOM_IGNORE, NULL, NULL, NULL),
                 COTP_SUPERVISOR_IGNORE);
}

COTP_TEST(dynamic_supervisor, j3_named_supervisor_and_stop) {
  cotp_dynamic_supervisor_opts o = COTP_DYNAMIC_SUPERVISOR_OPTS_INIT;
  o.name = cotp_name_local(COTP_ATOM(my_dyn));
  cotp_pid sup = dyn(&o);
  cotp_pid where;
  cotp_assert_rc(cotp_whereis(COTP_ATOM(my_dyn), &where), 0);
  cr_assert_eq(where.bits, sup.bits);
  cotp_child_counts c;
  cotp_assert_rc(cotp_supervisor_count_children(cotp_server_name(COTP_ATOM(my_dyn)), &c), 0);
  cotp_assert_rc(cotp_supervisor_stop(cotp_server_name(COTP_ATOM(my_dyn)),
                                      COTP_ATOM_NORMAL, 5000),
                 0);
  cotp_assert_rc(cotp_whereis(COTP_ATOM(my_dyn), &where), COTP_ENOTFOUND);
}

COTP_TEST(dynamic_supervisor, j4_j5_start_child_results) {
  cotp_pid sup = dyn(NULL);
  const int modes[] = {W_OK, W_INFO, W_IGNORE, W_ERROR, W_BAD, W_EXIT};
  const char *want[] = {NULL, NULL, ":ignore", "{:error, :nope}", "{:error, :weird}",
                        "{:error, :boom}"};
  const int rcs[] = {0, 0, COTP_SUPERVISOR_IGNORE, COTP_SUPERVISOR_ERROR,
                     COTP_SUPERVISOR_ERROR, COTP_SUPERVISOR_ERROR};
  for (int i = 0; i < 6; i++) {
    atomic_store(&mode[i], modes[i]);
    cotp_child_spec s = worker_spec(i);
    cotp_term reply;
    cotp_pid p;
    cotp_assert_rc(cotp_dynamic_supervisor_start_child(S(sup), &s, &p, &reply), rcs[i]);
    if (want[i])
      cotp_assert_term_eq(reply, cotp_test_parse(want[i]));
    else if (modes[i] == W_INFO)
      cotp_assert_term_eq(reply, cotp_format(h(), "{:ok, ~p, :info}", p));
    else
      cotp_assert_term_eq(reply, cotp_format(h(), "{:ok, ~p}", p));
  }
  cr_assert_eq(counts(sup).specs, 2);
  cr_assert(cotp_is_alive(sup));
}

COTP_TEST(dynamic_supervisor, j6_max_children_counts_restarting_children) {
  cotp_dynamic_supervisor_opts o = COTP_DYNAMIC_SUPERVISOR_OPTS_INIT;
  o.max_children = 1;
  o.max_restarts = 100000;
  cotp_pid sup = dyn(&o);
  cotp_child_spec s0 = worker_spec(0), s1 = worker_spec(1);
  cotp_pid p;
  cotp_assert_rc(cotp_dynamic_supervisor_start_child(S(sup), &s0, &p, NULL), 0);
  cotp_term reply;
  cotp_assert_rc(cotp_dynamic_supervisor_start_child(S(sup), &s1, NULL, &reply),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reply, cotp_test_parse("{:error, :max_children}"));
  started(0);
  atomic_store(&mode[0], W_ERROR);
  cotp_send(p, cotp_test_parse("{:die, :crash}"));
  while (atomic_load(&starts[0]) < 3)
    cotp_sleep(1);
  cotp_assert_term_eq(cotp_supervisor_which_children(S(sup)),
                      cotp_test_parse("[{:undefined, :restarting, :worker, []}]"));
  cotp_assert_rc(cotp_dynamic_supervisor_start_child(S(sup), &s1, NULL, &reply),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reply, cotp_test_parse("{:error, :max_children}"));
  /* J14: a restarting child is terminated by its old pid */
  cotp_assert_rc(cotp_dynamic_supervisor_terminate_child(S(sup), p), 0);
  cr_assert_eq(counts(sup).specs, 0);
}

/* A start that reports its arguments: [tag | _] are the extra arguments
 * when there are any, so the tag goes last here. */
static cotp_term args_start(cotp_term args, void *ctx) {
  (void)ctx;
  cotp_send(test_root, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(args), args));
  cotp_pid p;
  cotp_spawn_link(cotp_test_idle, NULL, &p);
  return COTP_TUPLE(cotp_self_heap(), COTP_ATOM_OK, cotp_pid_term(p));
}

COTP_TEST(dynamic_supervisor, j7_extra_arguments_on_start_and_restart) {
  cotp_dynamic_supervisor_opts o = COTP_DYNAMIC_SUPERVISOR_OPTS_INIT;
  o.extra_arguments = cotp_test_parse("[:x, 1]");
  cotp_pid sup = dyn(&o);
  cotp_child_spec s = COTP_CHILD_SPEC_INIT;
  s.id = COTP_ATOM(a);
  s.start = args_start;
  s.args = cotp_test_parse("[:y]");
  cotp_pid p;
  cotp_assert_rc(cotp_dynamic_supervisor_start_child(S(sup), &s, &p, NULL), 0);
  cotp_term m;
  cotp_assert_rc(cotp_receive(5000, &m), 0);
  cotp_assert_term_eq(m, cotp_test_parse("{:args, [:x, 1, :y]}"));
  kill_and_wait(p, COTP_ATOM(crash));
  cotp_assert_rc(cotp_receive(5000, &m), 0);
  cotp_assert_term_eq(m, cotp_test_parse("{:args, [:x, 1, :y]}"));
}

COTP_TEST(dynamic_supervisor, j8_spec_is_checked_before_sending) {
  /* a name nobody has: the call would exit, so an answer proves the check
   * happened on the client side */
  cotp_server nobody = cotp_server_name(COTP_ATOM(nobody_here));
  cotp_child_spec s = COTP_CHILD_SPEC_INIT;
  cotp_term reply;
  cotp_assert_rc(cotp_dynamic_supervisor_start_child(nobody, &s, NULL, &reply),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reply, cotp_test_parse("{:error, :missing_start}"));
  s = worker_spec(0);
  s.significant = true;
  cotp_assert_rc(cotp_dynamic_supervisor_start_child(nobody, &s, NULL, &reply),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reply, cotp_test_parse("{:error, {:invalid_significant, true}}"));
  s = worker_spec(0);
  s.shutdown = -7;
  cotp_assert_rc(cotp_dynamic_supervisor_start_child(nobody, &s, NULL, &reply),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reply, cotp_test_parse("{:error, {:invalid_shutdown, -7}}"));
}

COTP_TEST(dynamic_supervisor, j9_restart_types) {
  cotp_pid sup = dyn(NULL);
  cotp_restart types[] = {COTP_TEMPORARY, COTP_TRANSIENT, COTP_PERMANENT};
  for (int i = 0; i < 3; i++) {
    cotp_child_spec s = worker_spec(i);
    s.restart = types[i];
    cotp_pid p;
    cotp_assert_rc(cotp_dynamic_supervisor_start_child(S(sup), &s, &p, NULL), 0);
    started(i);
    kill_and_wait(p, COTP_ATOM_SHUTDOWN);
  }
  refute_started(0, 20);
  refute_started(1, 20);
  started(2);
  cotp_child_counts c = counts(sup);
  cr_assert(c.specs == 1 && c.active == 1);
}

COTP_TEST(dynamic_supervisor, j10_j12_restart_outcomes) {
  cotp_dynamic_supervisor_opts o = COTP_DYNAMIC_SUPERVISOR_OPTS_INIT;
  cotp_pid sup = dyn(&o);
  cotp_child_spec s0 = worker_spec(0), s1 = worker_spec(1);
  cotp_pid p0, p1;
  cotp_assert_rc(cotp_dynamic_supervisor_start_child(S(sup), &s0, &p0, NULL), 0);
  cotp_assert_rc(cotp_dynamic_supervisor_start_child(S(sup), &s1, &p1, NULL), 0);
  started(0);
  started(1);
  /* a restart that fails once is retried and accepted (J12) */
  atomic_store(&mode[0], W_FAIL_ONCE);
  kill_and_wait(p0, COTP_ATOM(crash));
  started(0);
  /* a restart returning ignore removes the child */
  atomic_store(&mode[1], W_IGNORE);
  kill_and_wait(p1, COTP_ATOM(crash));
  for (int i = 0; i < 100 && counts(sup).specs != 1; i++)
    cotp_sleep(5);
  cr_assert_eq(counts(sup).specs, 1);
  cr_assert(cotp_is_alive(sup));
}

COTP_TEST(dynamic_supervisor, j11_try_again_counts_toward_intensity) {
  cotp_trap_exit(true, NULL);
  for (int max = 1; max <= 10; max += 9) {
    cotp_dynamic_supervisor_opts o = COTP_DYNAMIC_SUPERVISOR_OPTS_INIT;
    o.max_restarts = max;
    atomic_store(&mode[0], W_OK);
    cotp_pid sup = dyn(&o);
    cotp_child_spec s = worker_spec(0);
    cotp_pid p;
    cotp_assert_rc(cotp_dynamic_supervisor_start_child(S(sup), &s, &p, NULL), 0);
    started(0);
    atomic_store(&mode[0], W_ERROR);
    cotp_exit_signal(p, COTP_ATOM(crash));
    cotp_assert_term_eq(cotp_test_exit_from(sup, 5000), COTP_ATOM_SHUTDOWN);
  }
}

COTP_TEST(dynamic_supervisor, j13_shutdown_reasons_with_mixed_shutdowns) {
  cotp_trap_exit(true, NULL);
  cotp_pid sup = dyn(NULL);
  int64_t shut[] = {COTP_SHUTDOWN_BRUTAL_KILL, COTP_INFINITY, 100, 50};
  int slw[] = {0, 0, 0, -1};
  const char *want[] = {":killed", ":shutdown", ":shutdown", ":killed"};
  cotp_pid pids[4];
  cotp_term refs[4];
  for (int i = 0; i < 4; i++) {
    atomic_store(&slow[i], slw[i]);
    cotp_child_spec s = worker_spec(i);
    s.shutdown = shut[i];
    cotp_assert_rc(cotp_dynamic_supervisor_start_child(S(sup), &s, &pids[i], NULL), 0);
    started(i);
    cotp_monitor(pids[i], &refs[i]);
  }
  cotp_assert_rc(cotp_supervisor_stop(S(sup), COTP_ATOM_NORMAL, COTP_INFINITY), 0);
  for (int i = 0; i < 4; i++)
    cotp_assert_term_eq(cotp_test_down_of(refs[i], pids[i]), cotp_test_parse(want[i]));
}

COTP_TEST(dynamic_supervisor, j14_terminate_child) {
  cotp_pid sup = dyn(NULL);
  cotp_child_spec s = worker_spec(0);
  s.shutdown = COTP_SHUTDOWN_BRUTAL_KILL;
  cotp_pid p;
  cotp_assert_rc(cotp_dynamic_supervisor_start_child(S(sup), &s, &p, NULL), 0);
  cotp_term ref;
  cotp_monitor(p, &ref);
  cotp_assert_rc(cotp_dynamic_supervisor_terminate_child(S(sup), p), 0);
  cotp_assert_term_eq(cotp_test_down_of(ref, p), COTP_ATOM_KILLED);
  cotp_assert_rc(cotp_dynamic_supervisor_terminate_child(S(sup), p), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_dynamic_supervisor_terminate_child(S(sup), cotp_self()),
                 COTP_ENOTFOUND);
}

/* A supervisor killed while a child starts leaks nothing (the sanitizer
 * runs check): the child it was starting is not yet among its children,
 * and must go with it all the same.  The start below tells the root it
 * runs, then keeps the supervisor waiting, as a slow init would. */
static bool nothing(cotp_term msg, void *ctx) {
  (void)msg;
  (void)ctx;
  return false;
}

static cotp_term stuck_start(cotp_term args, void *ctx) {
  (void)args;
  (void)ctx;
  cotp_send(test_root, COTP_ATOM(starting));
  cotp_receive_if(nothing, NULL, COTP_INFINITY, 0, NULL);
  return COTP_ATOM_IGNORE;
}

static void start_stuck_child(void *arg) {
  cotp_pid sup = *(cotp_pid *)arg;
  cotp_child_spec s = COTP_CHILD_SPEC_INIT;
  s.start = stuck_start;
  s.args = cotp_test_parse("[{:a, \"boxed\", :argument}]"); /* its own heap too */
  cotp_dynamic_supervisor_start_child(S(sup), &s, NULL, NULL);
}

COTP_TEST(dynamic_supervisor, a_supervisor_killed_mid_start_child_leaks_nothing) {
  cotp_pid sup = dyn(NULL);
  cotp_unlink(sup);
  cotp_term sup_mon, client_mon;
  cotp_assert_rc(cotp_monitor(sup, &sup_mon), 0);
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  o.arg_size = sizeof sup;
  o.monitor = true;
  o.monitor_ref = &client_mon;
  cotp_pid client;
  cotp_assert_rc(cotp_spawn_opt(start_stuck_child, &sup, &o, &client), 0);
  cotp_term msg;
  cotp_assert_rc(cotp_receive(5000, &msg), 0);
  cotp_assert_term_eq(msg, COTP_ATOM(starting));
  cotp_exit_signal(sup, COTP_ATOM_KILL);
  cotp_assert_term_eq(cotp_test_down_of(sup_mon, sup), COTP_ATOM_KILLED);
  /* the caller's call exits with the supervisor's end */
  cotp_term why = cotp_test_down_of(client_mon, client);
  cotp_assert_term_eq(cotp_tuple_get(why, 0), COTP_ATOM_KILLED);
}
