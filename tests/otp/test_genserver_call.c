/* SPDX-License-Identifier: Apache-2.0 */
/* GenServer clients: call, cast, reply, stop and whereis, and how each
 * fails (H6-H11, H13, H14, H22, H28, H33, H35). */
#include <pthread.h>
#include <string.h>

#include "probe.h"

static cotp_heap *h(void) { return cotp_self_heap(); }

/* The exit reason of a fresh process running fn(arg). */
static cotp_term exit_of(cotp_entry *fn, void *arg) {
  cotp_pid pid;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn_monitor(fn, arg, &pid, &ref), 0);
  return cotp_test_down_of(ref, pid);
}

COTP_TEST(genserver, h6_stop_is_synchronous_by_pid_local_and_via_name) {
  cotp_genserver_opts o = COTP_GENSERVER_OPTS_INIT;
  cotp_name names[3] = {COTP_NAME_NONE_INIT, cotp_name_local(COTP_ATOM(h6)),
                        cotp_name_via(&test_via, cotp_test_parse("{:h6, 1}"))};
  for (int k = 0; k < 3; k++) {
    o.name = names[k];
    cotp_pid pid;
    cotp_assert_rc(cotp_genserver_start(&probe_cb, probe_arg(":ok"), &o, &pid,
                                        NULL),
                   0);
    probe_expect("init");
    cotp_server s = {pid, names[k]};
    cotp_assert_rc(cotp_genserver_stop(s, COTP_ATOM(bye), COTP_INFINITY), 0);
    cr_assert(!cotp_is_alive(pid), "dead when stop returns");
    cotp_assert_term_eq(probe_expect("terminate"), COTP_ATOM(bye));
  }
}

static cotp_pid dead_pid;

static void stop_dead(void *arg) {
  (void)arg;
  cotp_genserver_stop(srv(dead_pid), COTP_ATOM_NORMAL, COTP_INFINITY);
  cotp_exit(COTP_ATOM(returned));
}

static void stop_unregistered(void *arg) {
  (void)arg;
  cotp_genserver_stop(cotp_server_name(COTP_ATOM(nobody)), COTP_ATOM_NORMAL,
                      100);
  cotp_exit(COTP_ATOM(returned));
}

COTP_TEST(genserver, h7_stop_of_a_dead_server_exits_noproc_bad_timeout_keeps_it) {
  dead_pid = probe_start(":ok");
  cotp_genserver_stop(srv(dead_pid), COTP_ATOM_NORMAL, 1000);
  probe_expect("terminate");
  cotp_assert_term_eq(
      exit_of(stop_dead, NULL),
      cotp_format(h(), "{:noproc, {GenServer, :stop, [~p, :normal, :infinity]}}",
                  dead_pid));
  cotp_assert_prints(exit_of(stop_unregistered, NULL),
                     "{:noproc, {GenServer, :stop, [:nobody, :normal, 100]}}");
  /* a bad timeout is refused and the server keeps running */
  cotp_pid pid = probe_start(":ok");
  cotp_assert_rc(cotp_genserver_stop(srv(pid), COTP_ATOM_NORMAL, -5), COTP_EINVAL);
  cotp_assert_rc(cotp_genserver_stop(srv(pid), COTP_NONE, 10), COTP_EINVAL);
  cr_assert(cotp_is_alive(pid));
  cotp_assert_term_eq(cotp_genserver_call(srv(pid), COTP_ATOM(get), 1000),
                      cotp_int(h(), 0));
  probe_refute("terminate", 20);
}

COTP_TEST(genserver, h8_a_server_stopping_itself_exits_calling_self) {
  cotp_pid pid = probe_start(":ok");
  cotp_term why = call_exit_reason(srv(pid), COTP_ATOM(stop_self), 1000);
  cotp_term server_reason = cotp_format(
      h(), "{:calling_self, {GenServer, :stop, [~p, :normal, :infinity]}}", pid);
  cotp_assert_term_eq(why, COTP_TUPLE(h(), server_reason,
                                      cotp_format(h(), "{GenServer, :call, [~p, :stop_self, 1000]}", pid)));
  cotp_assert_term_eq(probe_expect("terminate"), server_reason);
}

static void call_self_by_name(void *arg) {
  cotp_register(COTP_ATOM(me), cotp_self());
  cotp_server s = arg ? cotp_server_via(&test_via, COTP_ATOM(me_via))
                      : cotp_server_name(COTP_ATOM(me));
  if (arg)
    test_via.register_name(NULL, COTP_ATOM(me_via), cotp_self());
  cotp_genserver_call(s, COTP_ATOM(hello), 100);
  cotp_exit(COTP_ATOM(returned));
}

static void call_self_by_pid(void *arg) {
  (void)arg;
  cotp_genserver_call(srv(cotp_self()), COTP_ATOM(hello), COTP_INFINITY);
  cotp_exit(COTP_ATOM(returned));
}

COTP_TEST(genserver, h9_call_to_self_exits_calling_self_after_name_resolution) {
  cotp_assert_prints(exit_of(call_self_by_name, NULL),
                     "{:calling_self, {GenServer, :call, [:me, :hello, 100]}}");
  cotp_assert_prints(
      exit_of(call_self_by_name, (void *)1),
      "{:calling_self, {GenServer, :call, [{:via, TestVia, :me_via}, :hello, 100]}}");
  cotp_term why = exit_of(call_self_by_pid, NULL);
  cr_assert(cotp_test_is_cmd(why, "calling_self", 2));
}

COTP_TEST(genserver, h10_call_to_nil_unregistered_or_stopped_exits_noproc) {
  cotp_server nil = {{0}, COTP_NAME_NONE_INIT};
  cotp_assert_prints(call_exit_reason(nil, COTP_ATOM(x), 5000),
                     "{:noproc, {GenServer, :call, [nil, :x, 5000]}}");
  cotp_assert_prints(
      call_exit_reason(cotp_server_name(COTP_ATOM(nobody)), COTP_ATOM(x), 5000),
      "{:noproc, {GenServer, :call, [:nobody, :x, 5000]}}");
  cotp_assert_prints(
      call_exit_reason(cotp_server_via(&test_via, COTP_ATOM(nobody)), COTP_ATOM(x),
                       COTP_INFINITY),
      "{:noproc, {GenServer, :call, [{:via, TestVia, :nobody}, :x, :infinity]}}");
  cotp_pid pid = probe_start(":ok");
  cotp_genserver_stop(srv(pid), COTP_ATOM_NORMAL, 1000);
  cotp_assert_term_eq(
      call_exit_reason(srv(pid), COTP_ATOM(x), 5000),
      cotp_format(h(), "{:noproc, {GenServer, :call, [~p, :x, 5000]}}", pid));
}

COTP_TEST(genserver, h11_call_timeout_exits_timeout_and_the_late_reply_is_dropped) {
  cotp_pid pid = probe_start(":ok");
  cotp_term req = cotp_test_parse("{:sleep, 100}");
  cotp_assert_term_eq(call_exit_reason(srv(pid), req, 10),
                      cotp_format(h(), "{:timeout, {GenServer, :call, [~p, ~t, 10]}}",
                                  pid, req));
  cotp_term out;
  cotp_assert_rc(cotp_genserver_call_result(srv(pid), req, 10, &out),
                 COTP_ETIMEDOUT);
  cotp_assert_term_eq(out, COTP_ATOM_TIMEOUT);
  /* the server replies later; the alias is gone, so nothing arrives */
  cotp_assert_term_eq(cotp_genserver_call(srv(pid), COTP_ATOM(get), 1000),
                      cotp_int(h(), 0));
  cotp_test_refute_received("{[:alias | _], _}", 150);
  cotp_test_refute_received("{:DOWN, _, _, _, _}", 1);
}

COTP_TEST(genserver, h13_bad_return_from_handle_call_exits_server_and_caller) {
  cotp_pid pid = probe_start(":ok");
  cotp_term ref;
  cotp_monitor(pid, &ref);
  cotp_term why = call_exit_reason(srv(pid), COTP_ATOM(bad), 1000);
  cotp_assert_term_eq(why, cotp_format(h(),
                                       "{{:bad_return_value, 0}, {GenServer, :call, [~p, :bad, 1000]}}",
                                       pid));
  cotp_assert_prints(cotp_test_down_of(ref, pid), "{:bad_return_value, 0}");
  /* terminate ran with the reason */
  cotp_assert_prints(probe_expect("terminate"), "{:bad_return_value, 0}");
  /* a reply kind handle_call may not return */
  pid = probe_start(":ok");
  cotp_term out;
  cotp_assert_rc(cotp_genserver_call_result(srv(pid), COTP_ATOM(reply_noreply_kind),
                                            1000, &out),
                 COTP_GENSERVER_DOWN);
  cotp_assert_prints(out, "{:bad_return_value, {:ok, :state}}");
}

struct deferred {
  cotp_pid server;
  cotp_pid owner;
};

static void deferred_caller(void *arg) {
  struct deferred d = *(struct deferred *)arg;
  cotp_term r = cotp_genserver_call(srv(d.server), COTP_ATOM(defer), 5000);
  cotp_send(d.owner, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(got), r));
}

COTP_TEST(genserver, h14_deferred_reply_is_delivered) {
  static struct deferred d;
  d.server = probe_start(":ok");
  d.owner = cotp_self();
  cotp_spawn(deferred_caller, &d, NULL);
  probe_expect("call"); /* :defer arrived */
  cotp_assert_term_eq(cotp_genserver_call(srv(d.server),
                                          cotp_test_parse("{:reply_deferred, :later}"),
                                          1000),
                      COTP_ATOM_OK);
  cotp_clause c = {cotp_test_pattern("{:got, r}"), NULL, (cotp_term[1]){{0}}};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
  cotp_assert_term_eq(c.captures[0], COTP_ATOM(later));
}

COTP_TEST(genserver, h22_cast_returns_ok_at_once_to_anything) {
  cotp_server nil = {{0}, COTP_NAME_NONE_INIT};
  cotp_assert_rc(cotp_genserver_cast(nil, COTP_ATOM(x)), 0);
  cotp_assert_rc(cotp_genserver_cast(cotp_server_name(COTP_ATOM(nobody)),
                                     COTP_ATOM(x)),
                 0);
  cotp_assert_rc(cotp_genserver_cast(cotp_server_via(&test_via, COTP_ATOM(nobody)),
                                     COTP_ATOM(x)),
                 0);
  cotp_pid pid = probe_start(":ok");
  cotp_genserver_stop(srv(pid), COTP_ATOM_NORMAL, 1000);
  cotp_assert_rc(cotp_genserver_cast(srv(pid), COTP_ATOM(x)), 0);
  cotp_assert_rc(cotp_genserver_cast(srv(pid), COTP_NONE), COTP_EINVAL);
}

static void *cast_from_thread(void *arg) {
  cotp_pid pid = *(cotp_pid *)arg;
  cotp_heap *hp = cotp_heap_new();
  cotp_genserver_cast(srv(pid), cotp_parse(hp, "{:set, 9}"));
  cotp_heap_free(hp);
  return NULL;
}

COTP_TEST(genserver, cast_works_from_a_thread_outside_the_runtime) {
  static cotp_pid pid;
  pid = probe_start(":ok");
  pthread_t t;
  pthread_create(&t, NULL, cast_from_thread, &pid);
  pthread_join(t, NULL);
  cotp_assert_prints(probe_expect("cast"), "{:set, 9}");
  cotp_assert_term_eq(cotp_genserver_call(srv(pid), COTP_ATOM(get), 1000),
                      cotp_int(h(), 9));
}

COTP_TEST(genserver, h28_shutdown_in_handle_call_exits_the_caller_with_it) {
  log_capture_start(COTP_LOG_ERROR);
  cotp_trap_exit(true, NULL);
  const char *reqs[2] = {"{:exit, :shutdown}", "{:stop_noreply, {:shutdown, :r}}"};
  const char *whys[2] = {":shutdown", "{:shutdown, :r}"};
  for (int i = 0; i < 2; i++) {
    cotp_pid pid = probe_start_link(":ok");
    cotp_term req = cotp_test_parse(reqs[i]);
    cotp_term out;
    cotp_assert_rc(cotp_genserver_call_result(srv(pid), req, 1000, &out),
                   COTP_GENSERVER_DOWN);
    cotp_assert_term_eq(out, cotp_test_parse(whys[i]));
    cotp_assert_term_eq(call_exit_reason(srv(pid), req, 1000),
                        cotp_format(h(), "{:noproc, {GenServer, :call, [~p, ~t, 1000]}}",
                                    pid, req));
    /* the linked trapper gets the same reason */
    cotp_assert_term_eq(cotp_test_exit_from(pid, 1000), cotp_test_parse(whys[i]));
  }
  /* H27: shutdown reasons are not reported */
  cotp_sleep(20);
  cr_assert_eq(strstr(log_capture_text(), "GenServer #PID"), NULL, "%s",
               log_capture_text());
  log_capture_stop();
}

COTP_TEST(genserver, h33_reply_through_alias_tags_plain_tags_and_payloads) {
  cotp_term alias;
  cotp_assert_rc(cotp_alias(0, &alias), 0);
  /* [[:alias | ref] | payload], OTP 25's reserved form */
  cotp_term tag = cotp_cons(h(), cotp_cons(h(), COTP_ATOM_ALIAS, alias),
                            cotp_string(h(), "payload"));
  cotp_term from = COTP_TUPLE(h(), COTP_ATOM_UNDEFINED, tag);
  cotp_assert_rc(cotp_genserver_reply_term(from, COTP_ATOM(r1)), 0);
  cotp_term msg;
  cotp_assert_rc(cotp_receive(1000, &msg), 0);
  cotp_assert_term_eq(msg, COTP_TUPLE(h(), tag, COTP_ATOM(r1)));
  /* the from struct, both forms, through its term and back */
  cotp_genserver_from f = {cotp_self(), alias, true}, g;
  cotp_assert_rc(cotp_genserver_from_get(cotp_genserver_from_term(h(), f), &g), 0);
  cr_assert(cotp_pid_eq(g.pid, f.pid) && g.ref.w == alias.w && g.alias);
  cotp_assert_rc(cotp_genserver_reply(g, COTP_ATOM(r2)), 0);
  cotp_assert_rc(cotp_receive(1000, &msg), 0);
  cotp_assert_term_eq(msg, COTP_TUPLE(h(), cotp_cons(h(), COTP_ATOM_ALIAS, alias),
                                      COTP_ATOM(r2)));
  cotp_term ref = cotp_make_ref();
  cotp_genserver_from plain = {cotp_self(), ref, false};
  cotp_assert_term_eq(cotp_genserver_from_term(h(), plain),
                      COTP_TUPLE(h(), cotp_pid_term(cotp_self()), ref));
  cotp_assert_rc(cotp_genserver_reply(plain, COTP_ATOM(r3)), 0);
  cotp_assert_rc(cotp_receive(1000, &msg), 0);
  cotp_assert_term_eq(msg, COTP_TUPLE(h(), ref, COTP_ATOM(r3)));
  /* bad froms */
  cotp_assert_rc(cotp_genserver_from_get(COTP_ATOM(x), &g), COTP_EBADTYPE);
  cotp_assert_rc(cotp_genserver_reply_term(COTP_ATOM(x), COTP_ATOM(r)),
                 COTP_EBADTYPE);
  cotp_assert_rc(cotp_genserver_reply(plain, COTP_NONE), COTP_EINVAL);
  /* the server sees the alias form */
  cotp_pid pid = probe_start(":ok");
  cotp_term fromterm = cotp_genserver_call(srv(pid), COTP_ATOM(from), 1000);
  cotp_assert_rc(cotp_genserver_from_get(fromterm, &g), 0);
  cr_assert(g.alias && cotp_pid_eq(g.pid, cotp_self()));
}

COTP_TEST(genserver, h35_whereis_resolves_pids_and_names) {
  cotp_pid pid = probe_start(":ok"), got;
  cotp_register(COTP_ATOM(h35), pid);
  test_via.register_name(NULL, COTP_ATOM(h35v), pid);
  cotp_assert_rc(cotp_genserver_whereis(srv(pid), &got), 0);
  cr_assert(cotp_pid_eq(got, pid));
  cotp_assert_rc(cotp_genserver_whereis(cotp_server_name(COTP_ATOM(h35)), &got), 0);
  cr_assert(cotp_pid_eq(got, pid));
  cotp_assert_rc(cotp_genserver_whereis(cotp_server_via(&test_via, COTP_ATOM(h35v)),
                                        &got),
                 0);
  cr_assert(cotp_pid_eq(got, pid));
  cotp_assert_rc(cotp_genserver_whereis(cotp_server_name(COTP_ATOM(nope)), &got),
                 COTP_ENOTFOUND);
  cotp_server nil = {{0}, COTP_NAME_NONE_INIT};
  cotp_assert_rc(cotp_genserver_whereis(nil, &got), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_genserver_whereis(nil, NULL), COTP_EINVAL);
}

COTP_TEST(genserver, call_result_returns_each_failure) {
  cotp_pid pid = probe_start(":ok");
  cotp_term out;
  cotp_assert_rc(cotp_genserver_call_result(srv(pid), COTP_ATOM(get), 1000, &out), 0);
  cotp_assert_term_eq(out, cotp_int(h(), 0));
  cotp_assert_rc(cotp_genserver_call_result(srv(cotp_self()), COTP_ATOM(get), 1000,
                                            &out),
                 COTP_EINVAL);
  cotp_assert_prints(out, ":calling_self");
  cotp_assert_rc(cotp_genserver_call_result(srv(pid), COTP_NONE, 1000, &out),
                 COTP_EINVAL);
  cotp_assert_rc(cotp_genserver_call_result(srv(pid), COTP_ATOM(get), -2, &out),
                 COTP_EINVAL);
  cotp_assert_term_eq(out, COTP_ATOM_BADARG);
  cotp_assert_rc(cotp_genserver_call_result(srv(pid), COTP_ATOM(get), 1000, NULL),
                 COTP_EINVAL);
  cotp_assert_rc(cotp_genserver_call_result(srv(pid), cotp_test_parse("{:exit, :oops}"),
                                            1000, &out),
                 COTP_GENSERVER_DOWN);
  cotp_assert_term_eq(out, COTP_ATOM(oops));
  cotp_assert_rc(cotp_genserver_call_result(srv(pid), COTP_ATOM(get), 1000, &out),
                 COTP_ENOPROC);
  cotp_assert_term_eq(out, COTP_ATOM_NOPROC);
}

COTP_TEST(genserver, call_with_a_bad_timeout_exits_badarg_and_server_goes_on) {
  cotp_pid pid = probe_start(":ok");
  cotp_assert_term_eq(call_exit_reason(srv(pid), COTP_ATOM(get), -5),
                      cotp_format(h(), "{:badarg, {GenServer, :call, [~p, :get, -5]}}",
                                  pid));
  cotp_assert_term_eq(cotp_genserver_call(srv(pid), COTP_ATOM(get), 1000),
                      cotp_int(h(), 0));
  cotp_assert_term_eq(probe_expect("call"), COTP_ATOM(get)); /* only that */
}

COTP_TEST(genserver, call_does_not_scan_or_disturb_a_long_mailbox) {
  cotp_pid pid = probe_start(":ok");
  for (int i = 0; i < 10000; i++)
    cotp_send(cotp_self(), COTP_TUPLE(h(), COTP_ATOM(junk), cotp_int(h(), i)));
  for (int i = 0; i < 100; i++)
    cotp_assert_term_eq(cotp_genserver_call(srv(pid), cotp_test_parse("{:set, 1}"),
                                            1000),
                        COTP_ATOM_OK);
  /* the reports of the probe came after the junk; the junk is intact and
   * first, in order */
  cotp_term msg;
  cotp_assert_rc(cotp_receive(0, &msg), 0);
  cotp_assert_prints(msg, "{:junk, 0}");
  cr_assert_eq(cotp_mailbox_length(), (size_t)(9999 + 100));
}

COTP_TEST(genserver, a_callback_may_call_another_server) {
  cotp_pid a = probe_start(":ok"), b = probe_start(":ok");
  cotp_genserver_call(srv(b), cotp_test_parse("{:set, 42}"), 1000);
  cotp_assert_term_eq(cotp_genserver_call(srv(a), COTP_TUPLE(h(), COTP_ATOM(call),
                                                             cotp_pid_term(b)),
                                          1000),
                      cotp_int(h(), 42));
}

/* A server that hands each call's from to a helper and does not reply. */
static cotp_pid helper_of_forwarder;

static cotp_gs_ret forward_call(cotp_term request, cotp_genserver_from from, void **state) {
  (void)request, (void)state;
  cotp_send(helper_of_forwarder, cotp_genserver_from_term(cotp_self_heap(), from));
  return cotp_gs_noreply();
}

static cotp_gs_ret forwarder_init(cotp_term arg, void **state) {
  (void)arg, (void)state;
  return cotp_gs_ok();
}

static const cotp_genserver_callbacks forwarder = {
    .name = "Forwarder", .init = forwarder_init, .handle_call = forward_call};

static cotp_pid forwarder_pid;

/* Calls the forwarder with the timeout in arg (ms). */
static void forwarding_caller(void *arg) {
  cotp_term r;
  int rc = cotp_genserver_call_result(srv(forwarder_pid), COTP_ATOM(q), (intptr_t)arg, &r);
  cotp_send(helper_of_forwarder, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(result),
                                            cotp_int(NULL, rc), r));
}

static cotp_term next_from(void) {
  cotp_term from;
  cotp_assert_rc(cotp_receive(5000, &from), 0);
  return from;
}

static cotp_term call_result(void) {
  cotp_clause c = {cotp_test_pattern("{:result, rc, r}"), NULL, (cotp_term[2]){{0}}};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
  return COTP_TUPLE(cotp_self_heap(), c.captures[0], c.captures[1]);
}

/* H14, H33: any process the server hands from to can reply, through
 * GenServer.reply with the struct or the term, or with a bare send to the
 * alias taken out of from, as OTP 25's gen:reply does; only the first
 * reply counts, and a reply after the caller gave up is dropped. */
COTP_TEST(genserver, a_third_process_replies_through_from) {
  helper_of_forwarder = cotp_self();
  cotp_pid server;
  cotp_assert_rc(cotp_genserver_start(&forwarder, COTP_NIL, NULL, &server, NULL), 0);
  forwarder_pid = server;
  void *patient = (void *)(intptr_t)30000, *hasty = (void *)(intptr_t)100;
  cotp_heap *hp = h();

  cotp_assert_rc(cotp_spawn(forwarding_caller, patient, NULL), 0);
  cotp_genserver_from f;
  cotp_assert_rc(cotp_genserver_from_get(next_from(), &f), 0);
  cotp_assert_rc(cotp_genserver_reply(f, COTP_ATOM(by_struct)), 0);
  cotp_assert_term_eq(call_result(), COTP_TUPLE(hp, cotp_int(NULL, 0), COTP_ATOM(by_struct)));
  cotp_assert_rc(cotp_genserver_reply(f, COTP_ATOM(twice)), 0); /* dropped */

  cotp_assert_rc(cotp_spawn(forwarding_caller, patient, NULL), 0);
  cotp_assert_rc(cotp_genserver_reply_term(next_from(), COTP_ATOM(by_term)), 0);
  cotp_assert_term_eq(call_result(), COTP_TUPLE(hp, cotp_int(NULL, 0), COTP_ATOM(by_term)));

  cotp_assert_rc(cotp_spawn(forwarding_caller, patient, NULL), 0);
  cotp_assert_rc(cotp_genserver_from_get(next_from(), &f), 0);
  cotp_assert_rc(cotp_send_alias(f.ref, COTP_TUPLE(hp, cotp_cons(hp, COTP_ATOM_ALIAS, f.ref),
                                                  COTP_ATOM(bare))),
                 0);
  cotp_assert_term_eq(call_result(), COTP_TUPLE(hp, cotp_int(NULL, 0), COTP_ATOM(bare)));

  cotp_assert_rc(cotp_spawn(forwarding_caller, hasty, NULL), 0);
  cotp_assert_rc(cotp_genserver_from_get(next_from(), &f), 0);
  cotp_term r = call_result(); /* no reply: the caller times out */
  cotp_assert_term_eq(cotp_tuple_get(r, 0), cotp_int(NULL, COTP_ETIMEDOUT));
  cotp_assert_rc(cotp_genserver_reply(f, COTP_ATOM(late)), 0); /* after the timeout */
  cotp_test_refute_received("_", 50);
  cotp_exit_signal(server, COTP_ATOM_KILL);
}
