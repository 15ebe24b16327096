/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Invalid child specs at a supervisor's start (I9, I10): rejected before
 * any child starts, with OTP's {:start_spec, e}, and a log line naming the
 * child (by id, or by position when it has none) and the field; a child
 * whose start fails at the supervisor's start (I7); and
 * Supervisor.child_spec/2's overrides (cotp_child_spec_override).
 */
#include <stdio.h>
#include <string.h>

#include "sup_util.h"

static cotp_heap *h(void) { return cotp_self_heap(); }
static cotp_server S(cotp_pid p) { return cotp_server_pid(p); }

static void assert_logged(const char *want) {
  const char *log = log_capture_text();
  cr_assert(strstr(log, want), "missing from the log:\n%s\n--- log:\n%s", want,
            log);
}

/* Starts a list-based supervisor of specs[0..n-1], which must fail with
 * {:start_spec, reason} before starting any child, and logs at
 * COTP_LOG_ERROR a line containing `words`. */
static void expect_list_rejected(const cotp_child_spec *specs, size_t n,
                                 const char *reason, const char *words) {
  cotp_trap_exit(true, NULL);
  test_root = cotp_self();
  for (int t = 0; t < 4; t++)
    atomic_store(&starts[t], 0);
  log_capture_start(COTP_LOG_ERROR);
  cotp_term why = COTP_NONE;
  cotp_assert_rc(
      cotp_supervisor_start_link_children(specs, n, NULL, NULL, NULL, &why),
      COTP_SUPERVISOR_ERROR);
  char want[256];
  snprintf(want, sizeof want, "{:start_spec, %s}", reason);
  cotp_assert_term_eq(why, cotp_test_parse(want));
  assert_logged(words);
  assert_logged("(Supervisor.Default) failed to start: invalid child spec");
  log_capture_stop();
  for (int t = 0; t < 4; t++)
    cr_assert_eq(atomic_load(&starts[t]), 0, "worker %d was started", t);
}

COTP_TEST(supervisor_spec, i9_start_rejects_a_missing_id_naming_the_position) {
  cotp_child_spec specs[2] = {worker_spec(0), worker_spec(1)};
  specs[1].id = COTP_NONE;
  expect_list_rejected(specs, 2, ":missing_id",
                       "for child number 2 in the list, which has no id: "
                       "field :id is missing");
}

COTP_TEST(supervisor_spec, i9_start_rejects_a_missing_start_naming_the_child) {
  cotp_child_spec specs[2] = {worker_spec(0), worker_spec(1)};
  specs[1].start = NULL;
  expect_list_rejected(specs, 2, ":missing_start",
                       "for child :w1 (number 2 in the list): "
                       "field :start is missing");
}

COTP_TEST(supervisor_spec, i10_start_rejects_an_unknown_restart_value) {
  cotp_child_spec specs[2] = {worker_spec(0), worker_spec(1)};
  specs[1].restart = (cotp_restart)7;
  expect_list_rejected(specs, 2, "{:invalid_restart_type, 7}",
                       "for child :w1 (number 2 in the list): field :restart "
                       "is 7; expected :permanent, :transient or :temporary");
}

COTP_TEST(supervisor_spec, i10_start_rejects_an_unknown_shutdown_value) {
  cotp_child_spec specs[2] = {worker_spec(0), worker_spec(1)};
  specs[0].shutdown = -7;
  expect_list_rejected(specs, 2, "{:invalid_shutdown, -7}",
                       "for child :w0 (number 1 in the list): field :shutdown "
                       "is -7; expected a non-negative integer, :brutal_kill "
                       "or :infinity");
}

COTP_TEST(supervisor_spec, i10_start_rejects_an_unknown_type_value) {
  cotp_child_spec specs[3] = {worker_spec(0), worker_spec(1), worker_spec(2)};
  specs[2].type = (cotp_child_type)5;
  expect_list_rejected(specs, 3, "{:invalid_child_type, 5}",
                       "for child :w2 (number 3 in the list): field :type is "
                       "5; expected :worker or :supervisor");
}

COTP_TEST(supervisor_spec, i10_start_rejects_a_duplicate_id) {
  cotp_child_spec specs[3] = {worker_spec(0), worker_spec(1), worker_spec(2)};
  specs[2].id = wid(0);
  expect_list_rejected(specs, 3, "{:duplicate_child_name, :w0}",
                       "for child :w0 (number 3 in the list): field :id is "
                       ":w0; expected an id no earlier child has");
}

/* A supervisor module whose init returns {:ok, {%{}, specs}}, specs given
 * as the argument. */
static cotp_term list_init(cotp_term arg) {
  return cotp_format(h(), "{:ok, {%{}, ~t}}", arg);
}
static const cotp_supervisor_module list_mod = {"SpecSup", list_init};

COTP_TEST(supervisor_spec, i9_i10_module_init_rejects_bad_specs_naming_child_and_field) {
  cotp_trap_exit(true, NULL);
  static const char *const cases[][3] = {
      {"[%{id: :a, start: {W, :run, []}}, %{start: {W, :run, []}}]",
       ":missing_id", "child number 2 in the list, which has no id: field :id "
                      "is missing"},
      {"[%{id: :a}]", ":missing_start",
       "child :a (number 1 in the list): field :start is missing"},
      {"[%{id: :a, start: {W, :run, []}, restart: :sometimes}]",
       "{:invalid_restart_type, :sometimes}",
       "child :a (number 1 in the list): field :restart is :sometimes"},
      {"[%{id: :a, start: {W, :run, []}, shutdown: :later}]",
       "{:invalid_shutdown, :later}",
       "child :a (number 1 in the list): field :shutdown is :later"},
      {"[%{id: :a, start: {W, :run, []}, type: :boss}]",
       "{:invalid_child_type, :boss}",
       "child :a (number 1 in the list): field :type is :boss"},
      {"[%{id: \"a\", start: {W, :run}}]", "{:invalid_mfa, {W, :run}}",
       "child \"a\" (number 1 in the list): field :start is {W, :run}; "
       "expected {module, function, args}"},
      {"[%{id: :a, start: {W, :run, []}, modules: [1]}]", "{:invalid_module, 1}",
       "child :a (number 1 in the list): field :modules has the element 1"},
      {"[{:b, {W, :run, []}, :sometimes, 10, :worker, [W]}]",
       "{:invalid_restart_type, :sometimes}",
       "child :b (number 1 in the list): field :restart is :sometimes"},
      {"[%{id: :a, start: {W, :run, []}}, %{id: :a, start: {W, :run, []}}]",
       "{:duplicate_child_name, :a}",
       "child :a (number 2 in the list): field :id is :a"},
      {"[%{id: :a, start: {W, :run, []}}, :foo]",
       "{:invalid_child_spec, :foo}",
       "child number 2 in the list: :foo is not a child spec"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    log_capture_start(COTP_LOG_ERROR);
    cotp_term why = COTP_NONE;
    cotp_assert_rc(cotp_supervisor_start_link(&list_mod,
                                              cotp_test_parse(cases[i][0]),
                                              NULL, NULL, &why),
                   COTP_SUPERVISOR_ERROR);
    char want[256];
    snprintf(want, sizeof want, "{:start_spec, %s}", cases[i][1]);
    cotp_assert_term_eq(why, cotp_test_parse(want));
    assert_logged(cases[i][2]);
    assert_logged("(SpecSup) failed to start: invalid child spec");
    log_capture_stop();
  }
}

COTP_TEST(supervisor_spec, i10_start_child_logs_the_child_and_field) {
  cotp_pid sup = sup_of(COTP_ONE_FOR_ONE, 3, 5, NULL, 0);
  log_capture_start(COTP_LOG_INFO);
  /* a term spec: rejected by the supervisor */
  cotp_term reply;
  cotp_assert_rc(cotp_supervisor_start_child_term(
                     S(sup),
                     cotp_test_parse("%{id: :x, start: {W, :run, []}, restart: :bad}"),
                     NULL, &reply),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reply, cotp_test_parse("{:error, {:invalid_restart_type, :bad}}"));
  assert_logged("rejected start_child: invalid child spec for child :x: field "
                ":restart is :bad");
  /* a C spec: rejected in the caller, before any message (J8) */
  cotp_child_spec s = worker_spec(3);
  s.type = (cotp_child_type)9;
  cotp_assert_rc(cotp_supervisor_start_child(S(sup), &s, NULL, &reply),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reply, cotp_test_parse("{:error, {:invalid_child_type, 9}}"));
  assert_logged("start_child rejected: invalid child spec for child :w3: field "
                ":type is 9");
  s = worker_spec(3);
  s.id = COTP_NONE;
  cotp_assert_rc(cotp_supervisor_start_child(S(sup), &s, NULL, &reply),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reply, cotp_test_parse("{:error, :missing_id}"));
  assert_logged("invalid child spec for a child without an id: field :id is missing");
  log_capture_stop();
  cr_assert_eq(counts(sup).specs, 0);
}

COTP_TEST(supervisor_spec, i7_child_start_error_at_init_fails_the_start_with_its_reason) {
  cotp_trap_exit(true, NULL);
  test_root = cotp_self();
  atomic_store(&mode[1], W_ERROR);
  log_capture_start(COTP_LOG_INFO);
  cotp_child_spec specs[3] = {worker_spec(0), worker_spec(1), worker_spec(2)};
  cotp_term reason;
  cotp_assert_rc(cotp_supervisor_start_link_children(specs, 3, NULL, NULL, NULL,
                                                     &reason),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reason, cotp_test_parse(
                                  "{:shutdown, {:failed_to_start_child, :w1, :nope}}"));
  cotp_pid w0 = started(0);
  refute_started(2, 0);
  cr_assert_eq(atomic_load(&starts[2]), 0);
  cr_assert(!cotp_is_alive(w0));
  /* reported as OTP's start_error, with the child and the reason */
  assert_logged("Child :w1 of Supervisor ");
  assert_logged(" failed to start\n** (exit) :nope\n");
  log_capture_stop();
}

/* --- Supervisor.child_spec/2 --- */

static cotp_term base_spec(void) {
  cotp_child_spec s = worker_spec(0);
  return cotp_child_spec_term(h(), &s);
}

COTP_TEST(supervisor_spec, override_replaces_restart_shutdown_and_type) {
  cotp_term base = base_spec();
  cotp_term out = cotp_child_spec_override(
      h(), base,
      cotp_test_parse("[restart: :temporary, shutdown: :brutal_kill, type: :supervisor]"));
  cr_assert(cotp_is_map(out));
  cotp_assert_term_eq(cotp_map_get(out, COTP_ATOM(restart)), COTP_ATOM(temporary));
  cotp_assert_term_eq(cotp_map_get(out, COTP_ATOM(shutdown)), COTP_ATOM(brutal_kill));
  cotp_assert_term_eq(cotp_map_get(out, COTP_ATOM(type)), COTP_ATOM(supervisor));
  /* the other keys are kept, and the input is not changed */
  cotp_assert_term_eq(cotp_map_get(out, COTP_ATOM(id)), wid(0));
  cotp_assert_term_eq(cotp_map_get(out, COTP_ATOM(start)),
                      cotp_map_get(base, COTP_ATOM(start)));
  cotp_assert_term_eq(cotp_map_get(base, COTP_ATOM(restart)), COTP_ATOM(permanent));
  cotp_assert_term_eq(cotp_map_get(base, COTP_ATOM(shutdown)), cotp_int(NULL, 5000));
  /* a map of overrides does the same */
  out = cotp_child_spec_override(h(), base,
                                 cotp_test_parse("%{restart: :transient, shutdown: 10}"));
  cotp_assert_term_eq(cotp_map_get(out, COTP_ATOM(restart)), COTP_ATOM(transient));
  cotp_assert_term_eq(cotp_map_get(out, COTP_ATOM(shutdown)), cotp_int(NULL, 10));
  cotp_assert_term_eq(cotp_map_get(out, COTP_ATOM(type)), COTP_ATOM(worker));
}

COTP_TEST(supervisor_spec, override_takes_effect_in_the_supervisor) {
  cotp_pid sup = sup_of(COTP_ONE_FOR_ONE, 3, 5, NULL, 0);
  cotp_term spec = cotp_child_spec_override(
      h(), base_spec(), cotp_test_parse("[id: :t, restart: :temporary, shutdown: 7]"));
  cotp_pid p;
  cotp_assert_rc(cotp_supervisor_start_child_term(S(sup), spec, &p, NULL), 0);
  cr_assert_eq(started(0).bits, p.bits);
  cotp_term got;
  cotp_assert_rc(cotp_supervisor_get_childspec(S(sup), COTP_ATOM(t), &got), 0);
  cotp_assert_term_eq(cotp_map_get(got, COTP_ATOM(restart)), COTP_ATOM(temporary));
  cotp_assert_term_eq(cotp_map_get(got, COTP_ATOM(shutdown)), cotp_int(NULL, 7));
  /* temporary: not restarted, and forgotten (I17) */
  kill_and_wait(p, COTP_ATOM(crash));
  refute_started(0, 50);
  cr_assert_eq(counts(sup).specs, 0);
}

/* Each refusal is COTP_NONE with the heap's error saying why; the first is
 * Elixir 1.14's message for Supervisor.child_spec(spec, color: :red). */
static void assert_refused(cotp_term out, const char *message) {
  cotp_assert_term_eq(out, COTP_NONE);
  cr_assert_eq(cotp_heap_error(h()), COTP_EINVAL);
  cr_assert_str_eq(cotp_heap_error_message(h()), message);
  cotp_heap_clear_error(h());
}

COTP_TEST(supervisor_spec, override_with_an_unknown_key_or_bad_overrides_is_none) {
  cotp_term base = base_spec();
  assert_refused(cotp_child_spec_override(h(), base, cotp_test_parse("[color: :red]")),
                 "unknown key :color in child specification override");
  assert_refused(
      cotp_child_spec_override(h(), base, cotp_test_parse("%{restart: :temporary, colour: 1}")),
      "unknown key :colour in child specification override");
  assert_refused(cotp_child_spec_override(h(), base, cotp_test_parse("[:restart]")),
                 "child specification override: :restart is not a {key, value} pair");
  assert_refused(cotp_child_spec_override(h(), base, COTP_ATOM(restart)),
                 "child specification override: not a map or a keyword list");
  assert_refused(cotp_child_spec_override(h(), base, cotp_test_parse("[{:restart, :temporary} | 5]")),
                 "child specification override: not a map or a keyword list");
  assert_refused(cotp_child_spec_override(h(), COTP_ATOM(foo), COTP_NIL),
                 "child specification override: :foo names no registered module with a child spec");
  assert_refused(cotp_child_spec_override(h(), cotp_int(h(), 5), COTP_NIL),
                 "child specification override: 5 is not a map");
  /* an override is not checked: a bad value is start_child's to reject */
  cotp_term bad = cotp_child_spec_override(h(), base, cotp_test_parse("[restart: :sometimes]"));
  cr_assert(cotp_is_map(bad));
  cotp_term why;
  cotp_assert_rc(cotp_child_spec_check(h(), bad, &why), COTP_EINVAL);
  cotp_assert_term_eq(why, cotp_test_parse("{:invalid_restart_type, :sometimes}"));
}
