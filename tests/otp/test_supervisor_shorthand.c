/* SPDX-License-Identifier: Apache-2.0 */
/* Child spec shorthands: {Module, arg} and Module through a registered
 * child_spec function (Supervisor.child_spec/2, book ch 5.1). */
#include "sup_util.h"

static cotp_heap *h(void) { return cotp_self_heap(); }
static cotp_server S(cotp_pid p) { return cotp_server_pid(p); }

/* Worker.child_spec(tag): %{id: Worker, start: worker tag}; Worker alone
 * gives tag 0 ([] is its argument). */
static cotp_term worker_child_spec(cotp_heap *hp, cotp_term arg, void *ctx) {
  (void)ctx;
  cotp_child_spec s = worker_spec(cotp_is_nil(arg) ? 0 : (int)cotp_int_value(arg));
  s.id = cotp_format(hp, "Worker");
  return cotp_child_spec_term(hp, &s);
}

static cotp_term shorthand_init(cotp_term arg) {
  return cotp_format(h(), "{:ok, {~t, ~t}}",
                     cotp_supervisor_flags_term(h(), &(cotp_supervisor_flags)
                                                COTP_SUPERVISOR_FLAGS_INIT),
                     arg);
}
static const cotp_supervisor_module shorthand_mod = {"ShortSup", shorthand_init};

static void setup(void) {
  test_root = cotp_self();
  cotp_assert_rc(cotp_supervisor_register_module(cotp_format(h(), "Worker"),
                                                 worker_child_spec, NULL), 0);
}

COTP_TEST(supervisor, shorthand_module_arg_in_init_list) {
  setup();
  /* [{Worker, 1}, Supervisor.child_spec({Worker, 2}, id: :two), Worker] */
  cotp_term two = cotp_child_spec_override(h(), cotp_format(h(), "{Worker, 2}"),
                                           cotp_format(h(), "[id: :two]"));
  cr_assert(cotp_is_map(two));
  cotp_term zero = cotp_child_spec_override(h(), cotp_format(h(), "Worker"),
                                            cotp_format(h(), "[id: :zero]"));
  cotp_term list = cotp_format(h(), "[{Worker, 1}, ~t, ~t]", two, zero);
  cotp_pid sup;
  cotp_term reason = COTP_NONE;
  cotp_assert_rc(cotp_supervisor_start_link(&shorthand_mod, list, NULL, &sup, &reason), 0);
  cotp_pid w1 = started(1), w2 = started(2), w0 = started(0);
  cotp_assert_term_eq(child_pid(sup, cotp_format(h(), "Worker")).bits ? COTP_ATOM_TRUE : COTP_ATOM_FALSE,
                      COTP_ATOM_TRUE);
  cr_assert_eq(child_pid(sup, cotp_format(h(), "Worker")).bits, w1.bits);
  cr_assert_eq(child_pid(sup, COTP_ATOM(two)).bits, w2.bits);
  cr_assert_eq(child_pid(sup, COTP_ATOM(zero)).bits, w0.bits);
}

COTP_TEST(supervisor, shorthand_in_start_child_and_unknown_module) {
  setup();
  cotp_pid sup = sup_of(COTP_ONE_FOR_ONE, 3, 5, NULL, 0);
  cotp_pid pid;
  cotp_term reply;
  cotp_assert_rc(cotp_supervisor_start_child_term(S(sup), cotp_format(h(), "{Worker, 3}"),
                                                  &pid, &reply), 0);
  cr_assert_eq(started(3).bits, pid.bits);
  /* the same shorthand again: the same id, already started */
  cotp_assert_rc(cotp_supervisor_start_child_term(S(sup), cotp_format(h(), "{Worker, 4}"),
                                                  &pid, &reply),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(cotp_tuple_get(cotp_tuple_get(reply, 1), 0), COTP_ATOM_ALREADY_STARTED);
  cotp_assert_rc(cotp_supervisor_start_child_term(S(sup), cotp_format(h(), "Nobody"), &pid, &reply),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reply, cotp_format(h(), "{:error, {:invalid_child_spec, Nobody}}"));
  cotp_assert_term_eq(cotp_child_spec_override(h(), cotp_format(h(), "Nobody"), COTP_NIL), COTP_NONE);
  cr_assert_str_eq(cotp_heap_error_message(h()),
                   "child specification override: Nobody names no registered "
                   "module with a child spec");
}

COTP_TEST(supervisor, shorthand_unknown_module_in_init_fails_the_start) {
  setup();
  cotp_trap_exit(true, NULL);
  cotp_term reason = COTP_NONE;
  cotp_assert_rc(cotp_supervisor_start_link(&shorthand_mod, cotp_format(h(), "[{Nobody, 1}]"),
                                            NULL, NULL, &reason),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reason, cotp_format(h(), "{:start_spec, {:invalid_child_spec, {Nobody, 1}}}"));
}

/* `use GenServer`'s child_spec: id the module, the server started with
 * init(arg), unnamed. */
static cotp_gs_ret counter_init(cotp_term arg, void **state) {
  *state = (void *)(intptr_t)cotp_int_value(arg);
  return cotp_gs_ok();
}
static cotp_gs_ret counter_call(cotp_term req, cotp_genserver_from from, void **state) {
  (void)req, (void)from;
  return cotp_gs_reply(cotp_int(cotp_self_heap(), (intptr_t)*state));
}
static const cotp_genserver_callbacks counter_cb = {
    .name = "Counter", .init = counter_init, .handle_call = counter_call};

COTP_TEST(supervisor, shorthand_genserver_default_child_spec) {
  test_root = cotp_self();
  cotp_assert_rc(cotp_supervisor_register_module(cotp_format(h(), "Counter"),
                                                 cotp_genserver_default_child_spec,
                                                 (void *)&counter_cb), 0);
  cotp_term spec;
  cotp_assert_rc(cotp_child_spec_expand(h(), cotp_format(h(), "{Counter, 7}"), &spec), 0);
  cotp_assert_term_eq(cotp_map_get(spec, COTP_ATOM(id)), cotp_format(h(), "Counter"));
  cotp_assert_term_eq(cotp_map_get(spec, COTP_ATOM(modules)), cotp_format(h(), "[Counter]"));
  cotp_pid sup = sup_of(COTP_ONE_FOR_ONE, 3, 5, NULL, 0), pid;
  cotp_assert_rc(cotp_supervisor_start_child_term(S(sup), cotp_format(h(), "{Counter, 7}"),
                                                  &pid, NULL), 0);
  cotp_assert_term_eq(cotp_genserver_call(S(pid), COTP_ATOM(get), 5000), cotp_int(h(), 7));
}
