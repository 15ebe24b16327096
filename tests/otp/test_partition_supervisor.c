/* SPDX-License-Identifier: Apache-2.0 */
/* PartitionSupervisor (K1-K7, K9), and DynamicSupervisor through one. */
#include <stdint.h>
#include <string.h>

#include "reg_util.h"
#include "sup_util.h"
#include "task_util.h"

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

/* n Echo partitions named name (via's term when via is not NULL), each
 * answering with its partition number. */
static cotp_partition_supervisor_opts echo_opts(const cotp_via *via, cotp_term name,
                                                int n) {
  cotp_partition_supervisor_opts o = COTP_PARTITION_SUPERVISOR_OPTS_INIT;
  o.via = via;
  o.name = name;
  o.partitions = n;
  o.child = cotp_genserver_child_spec(COTP_ATOM(echo), &echo_cb, cotp_int(h(), 0),
                                      COTP_NONE);
  o.with_arguments = with_partition;
  return o;
}

static cotp_pid start(unsigned n, cotp_term name) {
  cotp_partition_supervisor_opts o = echo_opts(NULL, name, (int)n);
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

/* K5: Elixir raises for partitions that are not a positive integer.  In
 * cotp 0 is the default (one per scheduler; a C struct cannot leave the
 * option out), a negative count is COTP_EINVAL with a sentence naming it. */
COTP_TEST(partition_supervisor, k5_negative_partitions_are_an_error_zero_the_default) {
  cotp_partition_supervisor_opts o = COTP_PARTITION_SUPERVISOR_OPTS_INIT;
  o.name = COTP_ATOM(ps5);
  o.child = cotp_genserver_child_spec(COTP_ATOM(echo), &echo_cb, cotp_int(h(), 0), COTP_NONE);
  cotp_error err;
  int bad_counts[] = {-1, -7, INT32_MIN, 65537};
  for (size_t i = 0; i < sizeof bad_counts / sizeof *bad_counts; i++) {
    o.partitions = bad_counts[i];
    memset(&err, 0, sizeof err);
    cotp_assert_rc(cotp_partition_supervisor_start_link(&o, NULL, NULL, &err), COTP_EINVAL);
    cr_assert(strstr(err.message, ":partitions must be a positive integer"), "%s",
              err.message);
    char got[40];
    snprintf(got, sizeof got, "got: %d", bad_counts[i]);
    cr_assert(strstr(err.message, got), "%s", err.message);
    cotp_pid w;
    cotp_assert_rc(cotp_whereis(COTP_ATOM(ps5), &w), COTP_ENOTFOUND); /* nothing started */
  }
  o.partitions = 0;
  cotp_pid sup;
  cotp_assert_rc(cotp_partition_supervisor_start_link(&o, &sup, NULL, &err), 0);
  unsigned n;
  cotp_assert_rc(cotp_partition_supervisor_partitions(COTP_ATOM(ps5), &n), 0);
  cr_assert_eq(n, cotp_schedulers_online());
  cr_assert_eq(counts(sup).specs, n);
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

static void count_children_of(void *name) {
  cotp_child_counts c;
  cotp_supervisor_count_children(cotp_server_name(tu_term(name)), &c);
}
static void which_children_of(void *name) {
  cotp_supervisor_which_children(cotp_server_name(tu_term(name)));
}

/* K7: on a name no PartitionSupervisor has (never had, or had and
 * stopped), count_children and which_children exit the caller with
 * {:noproc, _} as any supervisor call does; partitions returns
 * COTP_ENOPROC (Elixir exits noproc there too). */
COTP_TEST(partition_supervisor, k7_count_and_which_children_of_an_unknown_name_exit_noproc) {
  cotp_pid sup = start(2, COTP_ATOM(ps7));
  cotp_assert_rc(cotp_supervisor_stop(cotp_server_pid(sup), COTP_ATOM_NORMAL, 5000), 0);
  cotp_term names[] = {COTP_ATOM(ps7_never), COTP_ATOM(ps7)};
  for (int i = 0; i < 2; i++) {
    cotp_term why;
    cotp_assert_rc(cotp_catch_exit(count_children_of, TU_ARG(names[i]), &why), 1);
    cotp_assert_term_eq(cotp_tuple_get(why, 0), COTP_ATOM_NOPROC);
    cotp_assert_rc(cotp_catch_exit(which_children_of, TU_ARG(names[i]), &why), 1);
    cotp_assert_term_eq(cotp_tuple_get(why, 0), COTP_ATOM_NOPROC);
    cotp_assert_rc(cotp_partition_supervisor_partitions(names[i], NULL), COTP_ENOPROC);
  }
  cr_assert(cotp_is_alive_now(cotp_self()));
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

/* K1: a PartitionSupervisor under a Supervisor, from its child spec: the
 * child's id is the name, its type supervisor, and the options (the child
 * spec, with_arguments) reach the partitions. */
COTP_TEST(partition_supervisor, k1_child_spec_id_is_the_name) {
  cotp_partition_supervisor_opts o = COTP_PARTITION_SUPERVISOR_OPTS_INIT;
  o.name = COTP_ATOM(ps1);
  o.partitions = 3;
  o.child = cotp_genserver_child_spec(COTP_ATOM(echo), &echo_cb, cotp_int(h(), 0),
                                      COTP_NONE);
  o.with_arguments = with_partition;
  cotp_child_spec spec = cotp_partition_supervisor_child_spec(&o);
  cotp_assert_term_eq(spec.id, COTP_ATOM(ps1));
  cr_assert_eq(spec.type, COTP_SUPERVISOR);
  cotp_pid top;
  cotp_assert_rc(cotp_supervisor_start_link_children(&spec, 1, NULL, NULL, &top, NULL), 0);
  cotp_pid ps;
  cotp_assert_rc(cotp_whereis(COTP_ATOM(ps1), &ps), 0);
  cotp_assert_term_eq(cotp_supervisor_which_children(cotp_server_pid(top)),
                      cotp_format(h(), "[{:ps1, ~p, :supervisor, [PartitionSupervisor]}]", ps));
  cotp_child_counts c = counts(top);
  cr_assert(c.specs == 1 && c.active == 1 && c.supervisors == 1 && c.workers == 0);
  cotp_term map = cotp_child_spec_term(h(), &spec);
  cotp_assert_term_eq(cotp_map_get(map, COTP_ATOM(shutdown)), COTP_ATOM_INFINITY);
  unsigned n;
  cotp_assert_rc(cotp_partition_supervisor_partitions(COTP_ATOM(ps1), &n), 0);
  cr_assert_eq(n, 3);
  for (int k = 0; k < 3; k++)
    cr_assert_eq(call_key(COTP_ATOM(ps1), cotp_int(h(), k)), k);
  cotp_assert_term_eq(cotp_tuple_get(cotp_head(cotp_supervisor_which_children(
                                         cotp_server_pid(ps))),
                                     3),
                      cotp_test_parse("[Echo]"));
  /* restarted by its parent, it is found again by name and key */
  kill_and_wait(ps, COTP_ATOM_KILL);
  cotp_pid again = {0};
  for (int i = 0; i < 1000; i++) {
    again = child_pid(top, COTP_ATOM(ps1));
    if (again.bits && again.bits != ps.bits)
      break;
    cotp_sleep(1);
  }
  cr_assert(again.bits && again.bits != ps.bits);
  cr_assert_eq(call_key(COTP_ATOM(ps1), cotp_int(h(), 2)), 2);
}

/* K1, K5: options start_link rejects fail the child's start with
 * {:badarg, message}. */
COTP_TEST(partition_supervisor, k1_k5_child_spec_with_bad_options_fails_to_start) {
  cotp_trap_exit(true, NULL);
  cotp_partition_supervisor_opts o = COTP_PARTITION_SUPERVISOR_OPTS_INIT;
  o.name = COTP_ATOM(ps1bad);
  o.partitions = -2;
  o.child = cotp_genserver_child_spec(COTP_ATOM(echo), &echo_cb, cotp_int(h(), 0),
                                      COTP_NONE);
  cotp_child_spec spec = cotp_partition_supervisor_child_spec(&o);
  cotp_term reason;
  cotp_assert_rc(cotp_supervisor_start_link_children(&spec, 1, NULL, NULL, NULL, &reason),
                 COTP_SUPERVISOR_ERROR);
  cotp_term msg = cotp_string(h(), "PartitionSupervisor: :partitions must be a positive "
                                   "integer (at most 65536; 0: one per scheduler), got: -2");
  cotp_assert_term_eq(reason, cotp_format(h(), "{:shutdown, {:failed_to_start_child, "
                                               ":ps1bad, {:badarg, ~t}}}",
                                          msg));
  /* the failed supervisor's EXIT */
  cotp_term m;
  cotp_assert_rc(cotp_receive(5000, &m), 0);
  cotp_assert_term_eq(cotp_tuple_get(m, 0), COTP_ATOM_EXIT);
}

/* DynamicSupervisor.child_spec([]) for a partition. */
static cotp_term dynsup_start(cotp_term args, void *ctx) {
  (void)args, (void)ctx;
  cotp_dynamic_supervisor_opts o = COTP_DYNAMIC_SUPERVISOR_OPTS_INIT;
  cotp_pid pid;
  cotp_term reason = COTP_NONE;
  int rc = cotp_dynamic_supervisor_start_link(&o, &pid, &reason);
  return rc == 0 ? COTP_TUPLE(h(), COTP_ATOM_OK, cotp_pid_term(pid))
                 : COTP_TUPLE(h(), COTP_ATOM_ERROR, reason);
}

static cotp_pid dynsup_partitions(cotp_term name, int n) {
  cotp_partition_supervisor_opts o = COTP_PARTITION_SUPERVISOR_OPTS_INIT;
  o.name = name;
  o.partitions = n;
  o.child.id = COTP_ATOM(dyn);
  o.child.start = dynsup_start;
  o.child.type = COTP_SUPERVISOR;
  o.child.modules = COTP_LIST(h(), COTP_ATOM_STR("Elixir.DynamicSupervisor"));
  cotp_pid sup;
  cotp_assert_rc(cotp_partition_supervisor_start_link(&o, &sup, NULL, NULL), 0);
  return sup;
}

static cotp_server via(cotp_term name, cotp_term key) {
  return cotp_server_via(&cotp_partition_supervisor_via, COTP_TUPLE(h(), name, key));
}

/* K9: DynamicSupervisor partitions count as supervisors. */
COTP_TEST(partition_supervisor, k9_count_children_counts_dynamic_supervisors) {
  cotp_pid sup = dynsup_partitions(COTP_ATOM(ps9d), 3);
  cotp_child_counts c = counts(sup);
  cr_assert(c.specs == 3 && c.active == 3 && c.supervisors == 3 && c.workers == 0,
            "specs %zu active %zu supervisors %zu workers %zu", c.specs, c.active,
            c.supervisors, c.workers);
  cotp_assert_term_eq(cotp_child_counts_term(h(), &c),
                      cotp_test_parse("%{specs: 3, active: 3, supervisors: 3, workers: 0}"));
  int seen = 0;
  for (cotp_term l = cotp_supervisor_which_children(cotp_server_pid(sup)); cotp_is_cons(l);
       l = cotp_tail(l)) {
    cotp_term e = cotp_head(l);
    cotp_assert_term_eq(cotp_tuple_get(e, 2), COTP_ATOM(supervisor));
    cotp_assert_term_eq(cotp_tuple_get(e, 3), cotp_test_parse("[DynamicSupervisor]"));
    seen |= 1 << cotp_int_value(cotp_tuple_get(e, 0));
  }
  cr_assert_eq(seen, 7);
}

/* K2, J4: DynamicSupervisor.start_child, count_children, which_children
 * and terminate_child through {:via, PartitionSupervisor, {name, key}}
 * reach the key's partition and only it. */
COTP_TEST(partition_supervisor, k2_dynamic_supervisor_start_child_through_via) {
  cotp_pid sup = dynsup_partitions(COTP_ATOM(psdyn), 2);
  cotp_server p1 = via(COTP_ATOM(psdyn), cotp_int(h(), 3)); /* partition 1 */
  cotp_server p0 = via(COTP_ATOM(psdyn), cotp_int(h(), -2)); /* partition 0 */
  cotp_child_spec s = cotp_genserver_child_spec(COTP_ATOM(echo), &echo_cb,
                                                cotp_int(h(), 77), COTP_ATOM_NIL);
  cotp_pid w;
  cotp_assert_rc(cotp_dynamic_supervisor_start_child(p1, &s, &w, NULL), 0);
  cotp_assert_term_eq(cotp_genserver_call(cotp_server_pid(w), COTP_ATOM(which), 5000),
                      cotp_int(h(), 77));
  cotp_assert_term_eq(cotp_supervisor_which_children(p1),
                      cotp_format(h(), "[{:undefined, ~p, :worker, [Echo]}]", w));
  cr_assert_eq(counts(child_pid(sup, cotp_int(h(), 1))).active, 1);
  cotp_child_counts c;
  cotp_assert_rc(cotp_supervisor_count_children(p0, &c), 0);
  cr_assert_eq(c.active, 0);
  cotp_assert_rc(cotp_dynamic_supervisor_terminate_child(p0, w), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_dynamic_supervisor_terminate_child(p1, w), 0);
  cotp_assert_rc(cotp_supervisor_count_children(p1, &c), 0);
  cr_assert_eq(c.active, 0);
  /* a key that is not an integer goes by its hash */
  cotp_term key = cotp_string(h(), "some key");
  cotp_assert_rc(cotp_dynamic_supervisor_start_child(via(COTP_ATOM(psdyn), key), &s, &w, NULL),
                 0);
  cotp_pid part = child_pid(sup, cotp_int(h(), cotp_term_phash2_range(key, 2)));
  cotp_assert_term_eq(cotp_supervisor_which_children(cotp_server_pid(part)),
                      cotp_format(h(), "[{:undefined, ~p, :worker, [Echo]}]", w));
}

/* --- a via name for the supervisor itself (K1, K6) --- */

/* {:via, Registry, {reg, ps}}: how routing names a via-named supervisor */
static cotp_term via_ps(cotp_term reg, cotp_term ps) {
  return COTP_TUPLE(h(), COTP_ATOM_VIA, COTP_ATOM_STR("Registry"), COTP_TUPLE(h(), reg, ps));
}

static cotp_partition_supervisor_opts via_opts(cotp_term reg_and_name, int n) {
  return echo_opts(&cotp_registry_via, reg_and_name, n);
}

/* Elixir 1.14: PartitionSupervisor.start_link(name: {:via, Registry,
 * {MyReg, :ps}}, ...) registers the supervisor in the registry, routing
 * goes through {:via, PartitionSupervisor, {{:via, Registry, {MyReg,
 * :ps}}, key}}, a second start is already_started, and stop unregisters
 * the name (K6). */
COTP_TEST(partition_supervisor, k1_k6_a_via_name_registers_routes_and_unregisters) {
  cotp_registry *reg = reg_start("ps_names", COTP_REGISTRY_UNIQUE, 1);
  cotp_term key = COTP_TUPLE(h(), COTP_ATOM(ps_names), COTP_ATOM(ps));
  cotp_partition_supervisor_opts o = via_opts(key, 3);
  cotp_pid sup;
  cotp_assert_rc(cotp_partition_supervisor_start_link(&o, &sup, NULL, NULL), 0);
  cotp_name in_reg = cotp_registry_name_via(key);
  cotp_pid found;
  cotp_assert_rc(cotp_name_whereis(&in_reg, &found), 0);
  cr_assert_eq(found.bits, sup.bits);
  cotp_term name = via_ps(COTP_ATOM(ps_names), COTP_ATOM(ps));
  unsigned n;
  cotp_assert_rc(cotp_partition_supervisor_partitions(name, &n), 0);
  cr_assert_eq(n, 3);
  for (int k = 0; k < 6; k++)
    cr_assert_eq(call_key(name, cotp_int(h(), k)), k % 3);
  /* the atom form does not name it, nor another via module's */
  cotp_assert_rc(cotp_partition_supervisor_partitions(COTP_ATOM(ps), NULL), COTP_ENOPROC);
  cotp_term other = COTP_TUPLE(h(), COTP_ATOM_VIA, COTP_ATOM(Other),
                               COTP_TUPLE(h(), COTP_ATOM(ps_names), COTP_ATOM(ps)));
  cotp_assert_rc(cotp_partition_supervisor_partitions(other, NULL), COTP_ENOPROC);

  cotp_term reason;
  cotp_assert_rc(cotp_partition_supervisor_start_link(&o, NULL, &reason, NULL),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reason, COTP_TUPLE(h(), COTP_ATOM_ALREADY_STARTED, cotp_pid_term(sup)));

  cotp_assert_rc(cotp_supervisor_stop(cotp_server_pid(sup), COTP_ATOM_NORMAL, 5000), 0);
  cotp_assert_rc(cotp_name_whereis(&in_reg, &found), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_partition_supervisor_partitions(name, NULL), COTP_ENOPROC);
  cotp_pid p;
  cotp_assert_rc(cotp_genserver_whereis(via(name, cotp_int(h(), 1)), &p), COTP_ENOTFOUND);
  /* the name is free again */
  cotp_assert_rc(cotp_partition_supervisor_start_link(&o, &sup, NULL, NULL), 0);
  cr_assert_eq(call_key(name, cotp_int(h(), 2)), 2);
  cotp_registry_release(reg);
}

/* K1: as a child, a via-named supervisor's id is the name inside the via
 * tuple, as Elixir's child_spec does. */
COTP_TEST(partition_supervisor, k1_via_named_child_spec_id_is_the_via_term) {
  cotp_registry *reg = reg_start("ps_names1", COTP_REGISTRY_UNIQUE, 1);
  cotp_term key = COTP_TUPLE(h(), COTP_ATOM(ps_names1), COTP_ATOM(child));
  cotp_partition_supervisor_opts o = via_opts(key, 2);
  cotp_child_spec spec = cotp_partition_supervisor_child_spec(&o);
  cotp_assert_term_eq(spec.id, key);
  cotp_pid top;
  cotp_assert_rc(cotp_supervisor_start_link_children(&spec, 1, NULL, NULL, &top, NULL), 0);
  cotp_term name = via_ps(COTP_ATOM(ps_names1), COTP_ATOM(child));
  for (int k = 0; k < 2; k++)
    cr_assert_eq(call_key(name, cotp_int(h(), k)), k);
  cotp_pid ps = child_pid(top, key);
  cr_assert(ps.bits);
  cotp_pid found;
  cotp_name in_reg = cotp_registry_name_via(key);
  cotp_assert_rc(cotp_name_whereis(&in_reg, &found), 0);
  cr_assert_eq(found.bits, ps.bits);
  cotp_registry_release(reg);
}

COTP_TEST(partition_supervisor, k5_a_via_name_needs_a_term_and_a_full_via_module) {
  cotp_partition_supervisor_opts o = via_opts(COTP_NONE, 2);
  cotp_error err;
  cotp_assert_rc(cotp_partition_supervisor_start_link(&o, NULL, NULL, &err), COTP_EINVAL);
  cr_assert(strstr(err.message, "via"), "%s", err.message);
  static const cotp_via lookup_only = {"LookupOnly", NULL, NULL, NULL, NULL, NULL};
  o = via_opts(COTP_ATOM(x), 2);
  o.via = &lookup_only;
  cotp_assert_rc(cotp_partition_supervisor_start_link(&o, NULL, NULL, &err), COTP_EINVAL);
}

/* --- two starts of one name at once --- */

/* Echo, but each partition takes a while to start, so that a second start
 * of the same name comes while the first is still starting. */
static cotp_gs_ret slow_echo_init(cotp_term arg, void **state) {
  cotp_sleep(5);
  return echo_init(arg, state);
}
static const cotp_genserver_callbacks slow_echo_cb = {
    .name = "SlowEcho", .init = slow_echo_init, .handle_call = echo_call};

static cotp_partition_supervisor_opts slow_echo_opts(cotp_term name, int n) {
  cotp_partition_supervisor_opts o = echo_opts(NULL, name, n);
  o.child = cotp_genserver_child_spec(COTP_ATOM(echo), &slow_echo_cb, cotp_int(h(), 0),
                                      COTP_NONE);
  return o;
}

/* Starts ps_race and tells the test process (its pid's bits in arg) how it
 * went. */
static void race_starter(void *arg) {
  cotp_partition_supervisor_opts o = slow_echo_opts(COTP_ATOM(ps_race), 6);
  cotp_pid sup = {0};
  int rc = cotp_partition_supervisor_start_link(&o, &sup, NULL, NULL);
  cotp_send((cotp_pid){(uint64_t)(uintptr_t)arg},
            COTP_TUPLE(h(), COTP_ATOM(started), cotp_int(h(), rc), cotp_pid_term(sup)));
  cotp_receive(COTP_INFINITY, NULL); /* keeps the supervisor linked, alive */
}

/* A second start of a name whose supervisor is still starting its
 * partitions is already_started, as the name's registration says, and
 * leaves the first one's routing whole: every key reaches its partition.
 * (It used to replace the routing table the first one was filling.) */
COTP_TEST(partition_supervisor, a_second_start_during_the_first_leaves_its_routing) {
  cotp_pid first;
  cotp_assert_rc(cotp_spawn(race_starter, (void *)(uintptr_t)cotp_self().bits, &first), 0);
  cotp_pid sup = {0};
  for (int i = 0; i < 1000 && cotp_whereis(COTP_ATOM(ps_race), &sup) != 0; i++)
    cotp_sleep(1);
  cr_assert(sup.bits, "the first start registered its name");
  cotp_partition_supervisor_opts o = slow_echo_opts(COTP_ATOM(ps_race), 2);
  cotp_term reason;
  cotp_assert_rc(cotp_partition_supervisor_start_link(&o, NULL, &reason, NULL),
                 COTP_SUPERVISOR_ERROR);
  cotp_assert_term_eq(reason, COTP_TUPLE(h(), COTP_ATOM_ALREADY_STARTED, cotp_pid_term(sup)));
  cotp_term msg, caps[2];
  cotp_clause c = {cotp_test_pattern("{:started, rc, pid}"), NULL, caps};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, &msg), 0);
  cr_assert_eq(cotp_int_value(caps[0]), 0);
  cr_assert_eq(cotp_get_pid(caps[1]).bits, sup.bits);
  unsigned n;
  cotp_assert_rc(cotp_partition_supervisor_partitions(COTP_ATOM(ps_race), &n), 0);
  cr_assert_eq(n, 6);
  for (int k = 0; k < 6; k++)
    cr_assert_eq(call_key(COTP_ATOM(ps_race), cotp_int(h(), k)), k);
  cotp_exit_signal(first, COTP_ATOM_KILL);
}
