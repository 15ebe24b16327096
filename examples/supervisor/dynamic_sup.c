/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 5.4, DynamicSupervisor.  First MyTestDynamicSupervisor, started
 * as the child {DynamicSupervisor, name: MyTestDynamicSupervisor} of a
 * Supervisor, gets two TestServers ({TestServer, :echo1}) from
 * start_child; then a module-based MyTestDynamicSupervisorV2 with
 * max_children: 2 and extra_arguments: [init_arg] starts TestServerV2s
 * (start_link(extra_arg, name, arg)) until the third is refused.
 *
 * The book's cells count and list MyTestDynamicSupervisor after starting
 * the V2 children, plainly meaning MyTestDynamicSupervisorV2; this program
 * asks V2.
 */
#include "sup_example.h"

/* --- {DynamicSupervisor, name: name} as a child --- */

static cotp_term dynsup_start(cotp_term args, void *ctx) {
  (void)ctx;
  cotp_dynamic_supervisor_opts o = COTP_DYNAMIC_SUPERVISOR_OPTS_INIT;
  o.name = cotp_name_local(cotp_head(args));
  cotp_pid pid;
  cotp_term reason = COTP_NONE;
  int rc = cotp_dynamic_supervisor_start_link(&o, &pid, &reason);
  cotp_heap *h = cotp_self_heap();
  return rc == 0 ? COTP_TUPLE(h, COTP_ATOM_OK, cotp_pid_term(pid))
                 : COTP_TUPLE(h, COTP_ATOM_ERROR, reason);
}

/* --- TestServer --- */

static cotp_gs_ret echo_call(cotp_term req, cotp_genserver_from from, void **state) {
  (void)from, (void)state;
  return cotp_gs_reply(cotp_tuple_get(req, 1)); /* {:echo, arg} */
}

static cotp_gs_ret test_init(cotp_term arg, void **state) {
  (void)arg, (void)state;
  return cotp_gs_ok();
}

static const cotp_genserver_callbacks test_cb = {
    .name = "TestServer", .init = test_init, .handle_call = echo_call};

/* TestServer.child_spec(name): start_link(name) */
static cotp_term test_child_spec(cotp_heap *h, cotp_term name, void *ctx) {
  (void)ctx;
  cotp_child_spec s =
      cotp_genserver_child_spec(cotp_format(h, "TestServer"), &test_cb, COTP_ATOM(noop), name);
  return cotp_child_spec_term(h, &s);
}

/* --- TestServerV2 --- */

static cotp_gs_ret v2_init(cotp_term args, void **state) {
  (void)state;
  char *extra = cotp_term_to_string(cotp_head(args));
  char *arg = cotp_term_to_string(cotp_head(cotp_tail(args)));
  say("New TestServerV2 started with extra_arg = %s and arg = %s", extra, arg);
  free(extra);
  free(arg);
  return cotp_gs_ok();
}

static const cotp_genserver_callbacks v2_cb = {
    .name = "TestServerV2", .init = v2_init, .handle_call = echo_call};

/* TestServerV2.start_link(extra_arg, name, arg) */
static cotp_term v2_start_link(cotp_term args, void *ctx) {
  (void)ctx;
  cotp_heap *h = cotp_self_heap();
  size_t n = 0;
  cotp_list_length(args, &n);
  if (n != 3) /* TestServerV2.start_link/2 does not exist */
    return cotp_format(h, "{:error, {:undef, [{TestServerV2, :start_link, ~t, []}]}}", args);
  cotp_term extra = cotp_head(args), name = cotp_head(cotp_tail(args));
  cotp_term arg = cotp_head(cotp_tail(cotp_tail(args)));
  cotp_genserver_opts o = COTP_GENSERVER_OPTS_INIT;
  o.name = cotp_name_local(name);
  cotp_pid pid;
  cotp_term reason = COTP_NONE;
  int rc = cotp_genserver_start_link(&v2_cb, COTP_LIST(h, extra, arg), &o, &pid, &reason);
  return rc == 0 ? COTP_TUPLE(h, COTP_ATOM_OK, cotp_pid_term(pid))
                 : COTP_TUPLE(h, COTP_ATOM_ERROR, reason);
}

/* `use GenServer`'s TestServerV2.child_spec(arg): start_link(arg) */
static cotp_term v2_child_spec(cotp_heap *h, cotp_term arg, void *ctx) {
  (void)ctx;
  return cotp_format(h, "%{id: TestServerV2, start: {TestServerV2, :start_link, [~t]}}", arg);
}

/* --- MyTestDynamicSupervisorV2 --- */

static cotp_term v2_sup_init(cotp_term init_arg) {
  cotp_heap *h = cotp_self_heap();
  cotp_term ret = cotp_format(h,
                              "{:ok, %{strategy: :one_for_one, intensity: 3, period: 5, "
                              "max_children: 2, extra_arguments: [~t]}}",
                              init_arg);
  show("DynamicSupervisor initialized with", ret);
  return ret;
}

static const cotp_supervisor_module v2_sup = {"MyTestDynamicSupervisorV2", v2_sup_init};

static cotp_term v2_name(void) {
  return cotp_format(cotp_self_heap(), "MyTestDynamicSupervisorV2");
}

static cotp_term v2_start_child(const char *name, const char *arg) {
  cotp_heap *h = cotp_self_heap();
  cotp_term spec = cotp_format(h, "%{id: TestServerV2, start: {TestServerV2, :start_link, [~a, ~a]}}",
                               name, arg);
  cotp_term reply = COTP_NONE;
  cotp_supervisor_start_child_term(cotp_server_name(v2_name()), spec, NULL, &reply);
  return reply;
}

/* --- the chapter --- */

static void root(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  cotp_supervisor_register_module(cotp_format(h, "TestServer"), test_child_spec, NULL);
  cotp_supervisor_register_module(cotp_format(h, "TestServerV2"), v2_child_spec, NULL);
  cotp_supervisor_register_start(cotp_format(h, "TestServerV2"), COTP_ATOM(start_link),
                                 v2_start_link);

  cotp_term name = cotp_format(h, "MyTestDynamicSupervisor");
  cotp_child_spec child = COTP_CHILD_SPEC_INIT;
  child.id = cotp_format(h, "DynamicSupervisor");
  child.start = dynsup_start;
  child.args = COTP_LIST(h, name);
  child.type = COTP_SUPERVISOR;
  child.modules = cotp_format(h, "[DynamicSupervisor]");
  cotp_pid top;
  cotp_supervisor_start_link_children(&child, 1, NULL, NULL, &top, NULL);
  cotp_server dyn = cotp_server_name(name);

  cotp_term r1 = COTP_NONE, r2 = COTP_NONE;
  cotp_supervisor_start_child_term(dyn, cotp_format(h, "{TestServer, :echo1}"), NULL, &r1);
  cotp_supervisor_start_child_term(dyn, cotp_format(h, "{TestServer, :echo2}"), NULL, &r2);
  show("{:ok, echo_1}", r1);
  show("{:ok, echo_2}", r2);
  cotp_term echoed = cotp_genserver_call(cotp_server_name(COTP_ATOM(echo1)),
                                         cotp_format(h, "{:echo, :hi}"), 5000);
  show("GenServer.call(:echo1, {:echo, :hi})", echoed);
  cotp_child_counts c;
  cotp_supervisor_count_children(dyn, &c);
  show("count_children", cotp_child_counts_term(h, &c));
  show("which_children", cotp_supervisor_which_children(dyn));
  cotp_pid echo_2 = cotp_get_pid(cotp_tuple_get(r2, 1));
  show("terminate_child(echo_2)",
       cotp_dynamic_supervisor_terminate_child(dyn, echo_2) == 0 ? COTP_ATOM_OK
                                                                 : COTP_ATOM(not_found));
  cotp_supervisor_count_children(dyn, &c);
  show("count_children", cotp_child_counts_term(h, &c));
  show("which_children", cotp_supervisor_which_children(dyn));

  puts("# module based");
  cotp_supervisor_opts o = COTP_SUPERVISOR_OPTS_INIT;
  o.name = cotp_name_local(v2_name());
  cotp_pid v2;
  cotp_dynamic_supervisor_start_link_module(&v2_sup, cotp_string(h, "Elixir is ❤"), &o, &v2,
                                            NULL);
  show("{:ok, echo_1}", v2_start_child("echov2_1", "yolo"));
  show("{:ok, echo_2}", v2_start_child("echov2_2", "awesome_elixir"));
  cotp_server v2s = cotp_server_name(v2_name());
  cotp_supervisor_count_children(v2s, &c);
  show("count_children", cotp_child_counts_term(h, &c));
  show("which_children", cotp_supervisor_which_children(v2s));
  cotp_term r3 = COTP_NONE;
  cotp_supervisor_start_child_term(v2s, cotp_format(h, "{TestServerV2, :echo3}"), NULL, &r3);
  show("start_child({TestServerV2, :echo3})", r3);
  cotp_pid echo1;
  cotp_whereis(COTP_ATOM(echov2_1), &echo1);
  show("terminate_child(echo_1)",
       cotp_dynamic_supervisor_terminate_child(v2s, echo1) == 0 ? COTP_ATOM_OK
                                                                : COTP_ATOM(not_found));
  cotp_supervisor_count_children(v2s, &c);
  show("count_children", cotp_child_counts_term(h, &c));
  show("which_children", cotp_supervisor_which_children(v2s));
}

int main(void) {
  cotp_config cfg = COTP_CONFIG_INIT;
  cfg.schedulers = 2;
  return cotp_run(root, NULL, &cfg, NULL, NULL) == 0 ? 0 : 1;
}
