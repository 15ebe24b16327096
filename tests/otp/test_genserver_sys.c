/* SPDX-License-Identifier: Apache-2.0 */
/* GenServer debugging (get_state, replace_state, trace: H34) and requests
 * without waiting (send_request and friends: H31, H32). */
#include <stdio.h>
#include <string.h>

#include "probe.h"

static cotp_heap *h(void) { return cotp_self_heap(); }

/* A counter whose state is the count itself, in the pointer. */
static cotp_gs_ret counter_init(cotp_term arg, void **state) {
  *state = (void *)(intptr_t)cotp_int_value(arg);
  return cotp_gs_ok();
}

static cotp_gs_ret counter_call(cotp_term req, cotp_genserver_from from,
                                void **state) {
  (void)from;
  if (cotp_test_is_cmd(req, "sleep", 2))
    cotp_sleep(cotp_int_value(cotp_tuple_get(req, 1)));
  return cotp_gs_reply(cotp_int(cotp_self_heap(), (intptr_t)*state));
}

static cotp_gs_ret counter_cast(cotp_term req, void **state) {
  *state = (void *)((intptr_t)*state + cotp_int_value(req));
  return cotp_gs_noreply();
}

static cotp_gs_ret counter_info(cotp_term msg, void **state) {
  (void)msg, (void)state;
  return cotp_gs_noreply();
}

static cotp_term counter_status(cotp_heap *hp, void *state) {
  return cotp_int(hp, (intptr_t)state);
}

static const cotp_genserver_callbacks counter = {
    .name = "Counter",
    .init = counter_init,
    .handle_call = counter_call,
    .handle_cast = counter_cast,
    .handle_info = counter_info,
    .format_status = counter_status,
};

static cotp_pid start_counter(int64_t n) {
  cotp_pid pid;
  cotp_assert_rc(cotp_genserver_start(&counter, cotp_int(h(), n), NULL, &pid, NULL),
                 0);
  return pid;
}

static void *add(void *state, cotp_term arg) {
  return (void *)((intptr_t)state + cotp_int_value(arg));
}

static void *crash(void *state, cotp_term arg) {
  (void)state;
  cotp_exit(arg);
}

COTP_TEST(genserver, h34_get_state_and_replace_state) {
  cotp_pid pid = start_counter(5);
  void *state = NULL;
  cotp_assert_rc(cotp_genserver_get_state(srv(pid), 1000, &state), 0);
  cr_assert_eq((intptr_t)state, 5);
  cotp_assert_rc(cotp_genserver_replace_state(srv(pid), add, cotp_int(h(), 10),
                                              1000, &state, NULL),
                 0);
  cr_assert_eq((intptr_t)state, 15);
  cotp_assert_term_eq(cotp_genserver_call(srv(pid), COTP_ATOM(get), 1000),
                      cotp_int(h(), 15));
  /* a replace function that exits leaves the state as it was */
  cotp_term reason;
  cotp_assert_rc(cotp_genserver_replace_state(srv(pid), crash, COTP_ATOM(x), 1000,
                                              &state, &reason),
                 COTP_GENSERVER_ERROR);
  cotp_assert_prints(reason, "{:callback_failed, {:gen_server, :system_replace_state}, "
                             "{:exit, :x}}");
  cotp_assert_rc(cotp_genserver_get_state(srv(pid), 1000, &state), 0);
  cr_assert_eq((intptr_t)state, 15);
  cr_assert(cotp_is_alive(pid));
}

COTP_TEST(genserver, h34_sys_functions_fail_with_codes) {
  cotp_pid pid = start_counter(0);
  void *state;
  cotp_assert_rc(cotp_genserver_get_state(srv(pid), 1000, NULL), COTP_EINVAL);
  cotp_assert_rc(cotp_genserver_get_state(srv(pid), -3, &state), COTP_EINVAL);
  cotp_assert_rc(cotp_genserver_get_state(srv(cotp_self()), 1000, &state),
                 COTP_EINVAL);
  cotp_assert_rc(cotp_genserver_replace_state(srv(pid), NULL, COTP_ATOM(x), 1000,
                                              NULL, NULL),
                 COTP_EINVAL);
  /* busy: a timeout */
  cotp_genserver_cast(srv(pid), cotp_int(h(), 1));
  cotp_term out;
  cotp_genserver_send_request(srv(pid), cotp_test_parse("{:sleep, 200}"),
                              &(cotp_genserver_request){{0}, {0}});
  cotp_assert_rc(cotp_genserver_get_state(srv(pid), 20, &state), COTP_ETIMEDOUT);
  cotp_assert_rc(cotp_genserver_trace(srv(pid), true, 20), COTP_ETIMEDOUT);
  cotp_genserver_stop(srv(pid), COTP_ATOM_NORMAL, 5000);
  cotp_assert_rc(cotp_genserver_get_state(srv(pid), 1000, &state), COTP_ENOPROC);
  cotp_assert_rc(cotp_genserver_trace(srv(pid), true, 1000), COTP_ENOPROC);
  cotp_assert_rc(cotp_genserver_replace_state(cotp_server_name(COTP_ATOM(nobody)),
                                              add, cotp_int(h(), 1), 1000, NULL,
                                              NULL),
                 COTP_ENOPROC);
  (void)out;
}

COTP_TEST(genserver, an_unknown_system_message_gets_an_error_reply) {
  cotp_pid pid = start_counter(0);
  cotp_term ref;
  cotp_monitor_alias(pid, COTP_ALIAS_REPLY_DEMONITOR, &ref);
  cotp_term tag = cotp_cons(h(), COTP_ATOM_ALIAS, ref);
  cotp_send(pid, COTP_TUPLE(h(), COTP_ATOM(system),
                            COTP_TUPLE(h(), cotp_pid_term(cotp_self()), tag),
                            COTP_ATOM(get_status_of_the_moon)));
  cotp_term msg;
  cotp_assert_rc(cotp_receive(1000, &msg), 0);
  cotp_assert_term_eq(msg, cotp_format(h(), "{~t, {:error, :unknown_system_msg}}", tag));
  cr_assert(cotp_is_alive(pid));
}

static void expect_log(const char *want) {
  const char *got = NULL;
  for (int i = 0; i < 100; i++) {
    got = log_capture_text();
    if (strstr(got, want))
      return;
    cotp_sleep(5);
  }
  cr_assert_fail("not logged:\n%s\nlogged:\n%s", want, got);
}

COTP_TEST(genserver, trace_logs_every_message_in_and_out) {
  log_capture_start(COTP_LOG_NOTICE);
  cotp_pid pid = start_counter(1);
  cotp_assert_rc(cotp_genserver_trace(srv(pid), true, 1000), 0);
  cotp_genserver_cast(srv(pid), cotp_int(h(), 10));
  cotp_genserver_call(srv(pid), COTP_ATOM(get), 1000);
  cotp_send(pid, COTP_ATOM(hi));
  cotp_assert_rc(cotp_genserver_trace(srv(pid), false, 1000), 0);
  cotp_genserver_cast(srv(pid), cotp_int(h(), 100));
  cotp_genserver_call(srv(pid), COTP_ATOM(get), 1000);
  char it[64], me[64], want[1024];
  cotp_term_print(it, sizeof it, cotp_pid_term(pid));
  cotp_term_print(me, sizeof me, cotp_pid_term(cotp_self()));
  snprintf(want, sizeof want,
           "*DBG* %s got cast 10\n"
           "*DBG* %s new state 11\n"
           "*DBG* %s got call :get from %s\n"
           "*DBG* %s sent 11 to %s, new state 11\n"
           "*DBG* %s got :hi\n"
           "*DBG* %s new state 11\n",
           it, it, it, me, it, me, it, it);
  expect_log(want);
  cr_assert_str_eq(log_capture_text(), want); /* and nothing after */
  log_capture_stop();
}

COTP_TEST(genserver, trace_from_the_start_option) {
  log_capture_start(COTP_LOG_NOTICE);
  cotp_genserver_opts o = COTP_GENSERVER_OPTS_INIT;
  o.trace = true;
  o.name = cotp_name_local(COTP_ATOM(traced));
  cotp_pid pid;
  cotp_assert_rc(cotp_genserver_start(&counter, cotp_int(h(), 2), &o, &pid, NULL), 0);
  cotp_genserver_cast(srv(pid), cotp_int(h(), 1));
  expect_log("*DBG* :traced got cast 1\n*DBG* :traced new state 3\n");
  log_capture_stop();
}

/* --- requests --- */

COTP_TEST(genserver, h31_send_request_wait_timeout_zero_then_reply) {
  cotp_pid pid = probe_start(":ok");
  cotp_genserver_request req;
  cotp_assert_rc(cotp_genserver_send_request(srv(pid), cotp_test_parse("{:sleep, 50}"),
                                             &req),
                 0);
  cotp_term out;
  cotp_assert_rc(cotp_genserver_wait_response(&req, 0, &out), COTP_ETIMEDOUT);
  cotp_assert_rc(cotp_genserver_wait_response(&req, 5000, &out), 0);
  cotp_assert_term_eq(out, COTP_ATOM(slept));
  /* several outstanding, answered in any order of waiting */
  cotp_genserver_request a, b;
  cotp_genserver_send_request(srv(pid), cotp_test_parse("{:echo, :a}"), &a);
  cotp_genserver_send_request(srv(pid), cotp_test_parse("{:echo, :b}"), &b);
  cotp_assert_rc(cotp_genserver_receive_response(&b, 1000, &out), 0);
  cotp_assert_term_eq(out, COTP_ATOM(b));
  cotp_assert_rc(cotp_genserver_receive_response(&a, 1000, &out), 0);
  cotp_assert_term_eq(out, COTP_ATOM(a));
}

COTP_TEST(genserver, h31_responses_carry_errors_with_the_server) {
  cotp_genserver_request req;
  cotp_term out;
  /* noproc */
  cotp_assert_rc(cotp_genserver_send_request(cotp_server_name(COTP_ATOM(nobody)),
                                             COTP_ATOM(x), &req),
                 0);
  cotp_assert_rc(cotp_genserver_wait_response(&req, 1000, &out), COTP_GENSERVER_DOWN);
  cotp_assert_prints(out, "{:noproc, nil}");
  /* shutdown */
  cotp_pid pid = probe_start(":ok");
  cotp_genserver_send_request(srv(pid), cotp_test_parse("{:exit, :shutdown}"), &req);
  cotp_assert_rc(cotp_genserver_wait_response(&req, 1000, &out), COTP_GENSERVER_DOWN);
  cotp_assert_term_eq(out, COTP_TUPLE(h(), COTP_ATOM_SHUTDOWN, cotp_pid_term(pid)));
  /* bad_return_value */
  pid = probe_start(":ok");
  cotp_genserver_send_request(srv(pid), COTP_ATOM(bad), &req);
  cotp_assert_rc(cotp_genserver_receive_response(&req, 1000, &out),
                 COTP_GENSERVER_DOWN);
  cotp_assert_term_eq(out, cotp_format(h(), "{{:bad_return_value, 0}, ~p}", pid));
}

COTP_TEST(genserver, h31_check_response_tells_replies_from_other_messages) {
  cotp_pid pid = probe_start(":ok");
  cotp_genserver_request req;
  cotp_genserver_send_request(srv(pid), cotp_test_parse("{:echo, 7}"), &req);
  cotp_term out;
  cotp_assert_rc(cotp_genserver_check_response(COTP_ATOM(unrelated), &req, &out),
                 COTP_ENOTFOUND);
  /* receive everything and check each */
  for (;;) {
    cotp_term msg;
    cotp_assert_rc(cotp_receive(1000, &msg), 0);
    int rc = cotp_genserver_check_response(msg, &req, &out);
    if (rc == COTP_ENOTFOUND)
      continue; /* the probe's report */
    cotp_assert_rc(rc, 0);
    cotp_assert_term_eq(out, cotp_int(h(), 7));
    break;
  }
  cotp_assert_rc(cotp_genserver_check_response(COTP_ATOM(x), NULL, &out), COTP_EINVAL);
}

COTP_TEST(genserver, h32_receive_response_abandons_on_timeout_wait_keeps) {
  cotp_pid pid = probe_start(":ok");
  cotp_genserver_request req;
  cotp_term out;
  cotp_genserver_send_request(srv(pid), cotp_test_parse("{:sleep, 50}"), &req);
  cotp_assert_rc(cotp_genserver_receive_response(&req, 0, &out), COTP_ETIMEDOUT);
  /* the late reply is dropped: neither a wait nor the mailbox sees it */
  cotp_assert_rc(cotp_genserver_wait_response(&req, 150, &out), COTP_ETIMEDOUT);
  cotp_test_refute_received("{[:alias | _], _}", 10);
  cotp_test_refute_received("{:DOWN, _, _, _, _}", 1);
  cotp_assert_rc(cotp_genserver_wait_response(NULL, 0, &out), COTP_EINVAL);
  cotp_assert_rc(cotp_genserver_send_request(srv(pid), COTP_NONE, &req), COTP_EINVAL);
}
