/* SPDX-License-Identifier: Apache-2.0 */
/* PartitionSupervisor (K1-K7, K9). */
#include <stdint.h>
#include <string.h>

#include "sup_util.h"

static cotp_heap *h(void) { return cotp_self_heap(); }

/* A GenServer that answers every call with its init argument. */
static cotp_gs_ret echo_init(cotp_term arg, void **state) {
  *state = (void *)(intptr_t)cotp_int_value(arg);
  return cotp_gs_ok();
}
static cotp_gs_ret echo_call(cotp_term req, cotp_genserver_from from, void **state) {
  (void)req;
  (void)from;
  return cotp_gs_reply(cotp_int(cotp_self_heap(), (intptr_t)*state));
}
static const cotp_genserver_callbacks echo_cb = {.name = "Echo", .init = echo_init,
                                                 .handle_call = echo_call};

/* with_arguments: [arg, name] becomes [partition, name] */
static cotp_term with_partition(cotp_term args, int64_t p, void *ctx) {
  (void)ctx;
  return cotp_cons(h(), cotp_int(h(), p), cotp_tail(args));
}

static cotp_pid start(unsigned n, cotp_term name) {
  cotp_partition_supervisor_opts o = COTP_PARTITION_SUPERVISOR_OPTS_INIT;
  o.name = name;
  o.partitions = n;
  o.child = cotp_genserver_child_spec(COTP_ATOM(echo), &echo_cb, cotp_int(h(), 0),
                                      COTP_NONE);
  o.with_arguments = with_partition;
  cotp_pid sup;
  cotp_assert_rc(cotp_partition_supervisor_start_link(&o, &sup, NULL, NULL), 0);
  return sup;
}

static int64_t call_key(cotp_term name, cotp_term key) {
  cotp_server s =
      cotp_server_via(&cotp_partition_supervisor_via, COTP_TUPLE(h(), name, key));
  return cotp_int_value(cotp_genserver_call(s, COTP_ATOM(which), 5000));
}

COTP_TEST(partition_supervisor, k2_default_partitions_and_via) {
  cotp_pid sup = start(0, COTP_ATOM(ps));
  unsigned n;
  cotp_assert_rc(cotp_partition_supervisor_partitions(COTP_ATOM(ps), &n), 0);
  cr_assert_eq(n, cotp_schedulers_online());
  cr_assert_eq(counts(sup).active, n);
  for (unsigned k = 0; k < n; k++)
    cr_assert_eq(call_key(COTP_ATOM(ps), cotp_int(h(), k)), k);
}

COTP_TEST(partition_supervisor, k3_k4_routing_and_with_arguments) {
  start(3, COTP_ATOM(ps3));
  cr_assert_eq(call_key(COTP_ATOM(ps3), cotp_int(h(), 3)), 0);
  cr_assert_eq(call_key(COTP_ATOM(ps3), cotp_int(h(), -1)), 1);
  cr_assert_eq(call_key(COTP_ATOM(ps3), cotp_int(h(), 1000)), 1);
  cotp_term s1000 = cotp_string(h(), "1000");
  cr_assert_eq(call_key(COTP_ATOM(ps3), s1000), cotp_term_phash2_range(s1000, 3));
  cr_assert_eq(cotp_partition_for_key(cotp_int(h(), -4), 3), 1);
}

COTP_TEST(partition_supervisor, k5_bad_options) {
  cotp_partition_supervisor_opts o = COTP_PARTITION_SUPERVISOR_OPTS_INIT;
  cotp_error err;
  cotp_assert_rc(cotp_partition_supervisor_start_link(&o, NULL, NULL, &err), COTP_EINVAL);
  cr_assert(strstr(err.message, ":name"));
  o.name = COTP_ATOM(x);
  cotp_assert_rc(cotp_partition_supervisor_start_link(&o, NULL, NULL, &err), COTP_EINVAL);
  cr_assert(strstr(err.message, ":child_spec"));
  o.child = worker_spec(0);
  o.partitions = 100000;
  cotp_assert_rc(cotp_partition_supervisor_start_link(&o, NULL, NULL, &err), COTP_EINVAL);
}

COTP_TEST(partition_supervisor, k6_k7_stop_unregisters) {
  cotp_pid sup = start(2, COTP_ATOM(ps6));
  cotp_assert_rc(cotp_supervisor_stop(cotp_server_pid(sup), COTP_ATOM_NORMAL, 5000), 0);
  cotp_pid w;
  cotp_assert_rc(cotp_whereis(COTP_ATOM(ps6), &w), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_partition_supervisor_partitions(COTP_ATOM(ps6), NULL), COTP_ENOPROC);
  cotp_assert_rc(cotp_partition_supervisor_partitions(COTP_ATOM(never_was), NULL),
                 COTP_ENOPROC);
  cotp_pid p;
  cotp_assert_rc(cotp_genserver_whereis(
                     cotp_server_via(&cotp_partition_supervisor_via,
                                     COTP_TUPLE(h(), COTP_ATOM(ps6), cotp_int(h(), 1))),
                     &p),
                 COTP_ENOTFOUND);
}

COTP_TEST(partition_supervisor, k1_k9_children_are_numbered_by_partition) {
  cotp_pid sup = start(2, COTP_ATOM(ps9));
  cotp_term l = cotp_supervisor_which_children(cotp_server_pid(sup));
  for (int i = 1; i >= 0; i--, l = cotp_tail(l)) { /* last first, as OTP */
    cotp_term c = cotp_head(l);
    cotp_assert_term_eq(cotp_tuple_get(c, 0), cotp_int(h(), i));
    cotp_assert_term_eq(cotp_tuple_get(c, 3), cotp_test_parse("[Echo]"));
  }
  /* a restarted partition is found again through the via name */
  cotp_pid p0 = child_pid(sup, cotp_int(h(), 0));
  kill_and_wait(p0, COTP_ATOM_KILL);
  for (int i = 0; i < 1000; i++) {
    cotp_pid now = child_pid(sup, cotp_int(h(), 0));
    if (now.bits && now.bits != p0.bits)
      break;
    cotp_sleep(1);
  }
  cr_assert_eq(call_key(COTP_ATOM(ps9), cotp_int(h(), 0)), 0);
}

/* A starter killed while its partitions start leaks nothing (the sanitizer
 * runs check): the specs it built belong to its heap. */
static cotp_gs_ret slow_init(cotp_term arg, void **state) {
  (void)arg;
  cotp_sleep(20);
  *state = NULL;
  return cotp_gs_ok();
}
static const cotp_genserver_callbacks slow_cb = {.name = "Slow", .init = slow_init};

static void slow_starter(void *arg) {
  (void)arg;
  cotp_partition_supervisor_opts o = COTP_PARTITION_SUPERVISOR_OPTS_INIT;
  o.name = COTP_ATOM(ps_killed);
  o.partitions = 8;
  o.child = cotp_genserver_child_spec(COTP_ATOM(slow), &slow_cb, COTP_NIL, COTP_NONE);
  cotp_partition_supervisor_start_link(&o, NULL, NULL, NULL);
  cotp_receive(COTP_INFINITY, NULL);
}

COTP_TEST(partition_supervisor, a_starter_killed_mid_start_leaks_nothing) {
  cotp_pid starter;
  cotp_term mon, caps[2];
  cotp_assert_rc(cotp_spawn_monitor(slow_starter, NULL, &starter, &mon), 0);
  cotp_sleep(50); /* two or three of the eight partitions are up */
  cotp_exit_signal(starter, COTP_ATOM_KILL);
  cotp_clause c = {cotp_test_pattern("{:DOWN, ^ref, :process, _, reason}"), &mon, caps};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
  cotp_assert_term_eq(caps[0], COTP_ATOM_KILLED);
  /* the supervisor, linked to the starter, goes too; the name can be
   * taken again */
  cotp_pid pid = {0};
  for (int i = 0; i < 500 && cotp_whereis(COTP_ATOM(ps_killed), &pid) == 0; i++)
    cotp_sleep(2);
  cotp_pid sup = start(2, COTP_ATOM(ps_killed));
  cr_assert(cotp_is_alive_now(sup));
}
