/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 5.5, PartitionSupervisor: an EchoServer per partition (one per
 * scheduler: this program runs 2), then EchoServerV2 on 3 partitions with
 * with_arguments giving each its partition number, reached through
 * {:via, PartitionSupervisor, {EchoServerPartitionSupervisor, key}} with
 * the keys 0, 1, 2, 1000 (rem(1000, 3) = 1) and "1000" (phash2).
 */
#include "sup_example.h"

/* --- EchoServer and EchoServerV2 --- */

static cotp_gs_ret echo_init(cotp_term args, void **state) {
  (void)state;
  char *a = cotp_term_to_string(args), *p = cotp_term_to_string(cotp_pid_term(cotp_self()));
  say("EchoServer %s started with args: %s", p, a);
  free(a), free(p);
  return cotp_gs_ok();
}

static cotp_gs_ret echo_call(cotp_term req, cotp_genserver_from from, void **state) {
  (void)from, (void)state;
  cotp_term msg = cotp_tuple_get(req, 1);
  char *m = cotp_term_to_string(msg), *p = cotp_term_to_string(cotp_pid_term(cotp_self()));
  say("EchoServer(%s) echoing: %s", p, m);
  free(m), free(p);
  return cotp_gs_reply(msg);
}

static const cotp_genserver_callbacks echo_cb = {
    .name = "EchoServer", .init = echo_init, .handle_call = echo_call};

/* init([args, partition_number]) */
static cotp_gs_ret v2_init(cotp_term args, void **state) {
  int64_t partition = cotp_int_value(cotp_head(cotp_tail(args)));
  char *a = cotp_term_to_string(cotp_head(args));
  char *p = cotp_term_to_string(cotp_pid_term(cotp_self()));
  say("EchoServer %s started on partition %lld with args: %s", p, (long long)partition, a);
  free(a), free(p);
  *state = (void *)(intptr_t)partition; /* the partition number is the state */
  return cotp_gs_ok();
}

static cotp_gs_ret v2_call(cotp_term req, cotp_genserver_from from, void **state) {
  (void)from;
  cotp_term msg = cotp_tuple_get(req, 1);
  char *m = cotp_term_to_string(msg), *p = cotp_term_to_string(cotp_pid_term(cotp_self()));
  say("EchoServer(%s)(partition=%ld) echoing: %s", p, (long)(intptr_t)*state, m);
  free(m), free(p);
  return cotp_gs_reply(msg);
}

static const cotp_genserver_callbacks v2_cb = {
    .name = "EchoServerV2", .init = v2_init, .handle_call = v2_call};

/* fn [existing_args], partition -> [existing_args, partition] end; the C
 * start's arguments are [init_arg, name], so the pair goes in init_arg. */
static cotp_term with_partition(cotp_term args, int64_t partition, void *ctx) {
  (void)ctx;
  cotp_heap *h = cotp_self_heap();
  return COTP_LIST(h, COTP_LIST(h, cotp_head(args), cotp_int(h, partition)),
                   cotp_head(cotp_tail(args)));
}

/* --- the chapter --- */

static cotp_term call(cotp_term key, cotp_term msg) {
  cotp_heap *h = cotp_self_heap();
  cotp_server s = cotp_server_via(&cotp_partition_supervisor_via,
                                  COTP_TUPLE(h, COTP_ATOM(EchoServerPartitionSupervisor), key));
  return cotp_genserver_call(s, COTP_TUPLE(h, COTP_ATOM(echo), msg), 5000);
}

static void root(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  cotp_term name = COTP_ATOM(EchoServerPartitionSupervisor);
  cotp_partition_supervisor_opts o = COTP_PARTITION_SUPERVISOR_OPTS_INIT;
  o.name = name;
  o.child = cotp_genserver_child_spec(cotp_format(h, "EchoServer"), &echo_cb,
                                      COTP_ATOM(test_arg), COTP_ATOM_NIL);
  cotp_pid sup;
  if (cotp_partition_supervisor_start_link(&o, &sup, NULL, NULL) != 0)
    exit(1);
  show("System.schedulers_online()", cotp_int(h, cotp_schedulers_online()));
  show("which_children", cotp_supervisor_which_children(cotp_server_pid(sup)));
  cotp_supervisor_stop(cotp_server_name(name), COTP_ATOM_NORMAL, COTP_INFINITY);

  puts("# partitions: 3, with_arguments");
  o.child = cotp_genserver_child_spec(cotp_format(h, "EchoServerV2"), &v2_cb,
                                      COTP_ATOM(test_arg), COTP_ATOM_NIL);
  o.partitions = 3;
  o.with_arguments = with_partition;
  if (cotp_partition_supervisor_start_link(&o, &sup, NULL, NULL) != 0)
    exit(1);
  show("which_children", cotp_supervisor_which_children(cotp_server_pid(sup)));
  show(NULL, call(cotp_int(h, 0), COTP_ATOM(hi)));
  show(NULL, call(cotp_int(h, 1), COTP_ATOM(ola)));
  show(NULL, call(cotp_int(h, 2), COTP_ATOM(adios)));
  show(NULL, call(cotp_int(h, 1000), COTP_ATOM(boom)));
  show("Partition", cotp_int(h, cotp_partition_for_key(cotp_string(h, "1000"), 3)));
  show(NULL, call(cotp_string(h, "1000"), COTP_ATOM(hello_world)));
  cotp_pid p, p1;
  cotp_genserver_whereis(cotp_server_via(&cotp_partition_supervisor_via,
                                         COTP_TUPLE(h, name, cotp_string(h, "1000"))),
                         &p);
  show("GenServer.whereis(\"1000\")", cotp_pid_term(p));
  cotp_genserver_whereis(cotp_server_via(&cotp_partition_supervisor_via,
                                         COTP_TUPLE(h, name, cotp_int(h, 0))),
                         &p1);
  printf("the same as partition 0's: %s\n", p.bits == p1.bits ? "true" : "false");
  cotp_supervisor_stop(cotp_server_name(name), COTP_ATOM_NORMAL, COTP_INFINITY);
}

int main(void) {
  cotp_config cfg = COTP_CONFIG_INIT;
  cfg.schedulers = 2;
  return cotp_run(root, NULL, &cfg, NULL, NULL) == 0 ? 0 : 1;
}
