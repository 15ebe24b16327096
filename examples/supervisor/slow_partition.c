/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 5.6, scaling a DynamicSupervisor: five processes at once ask
 * one DynamicSupervisor to start a SlowGenServer (init sleeps a second),
 * and the supervisor starts them one after the other; then they ask a
 * PartitionSupervisor of six DynamicSupervisors, keys 1 to 5, and the
 * five start side by side.  argv[1] is the book's second in ms (1000).
 *
 * The output says how many seconds each way took, in the book's unit,
 * rounded: about 5 against about 1.
 */
#include "sup_example.h"

static cotp_gs_ret slow_init(cotp_term arg, void **state) {
  (void)arg, (void)state;
  cotp_sleep(unit_ms); /* :timer.sleep(1000) */
  say("Started new SlowGenServer %s", "#PID<...>");
  return cotp_gs_ok();
}

static const cotp_genserver_callbacks slow_cb = {.name = "SlowGenServer", .init = slow_init};

/* DynamicSupervisor.child_spec([]) for a partition */
static cotp_term dynsup_start(cotp_term args, void *ctx) {
  (void)args, (void)ctx;
  cotp_dynamic_supervisor_opts o = COTP_DYNAMIC_SUPERVISOR_OPTS_INIT;
  cotp_pid pid;
  cotp_term reason = COTP_NONE;
  int rc = cotp_dynamic_supervisor_start_link(&o, &pid, &reason);
  cotp_heap *h = cotp_self_heap();
  return rc == 0 ? COTP_TUPLE(h, COTP_ATOM_OK, cotp_pid_term(pid))
                 : COTP_TUPLE(h, COTP_ATOM_ERROR, reason);
}

struct starter {
  int key;          /* 0: the single DynamicSupervisor; else the routing key */
  cotp_pid parent;
};

/* spawn(fn -> DynamicSupervisor.start_child(sup, SlowGenServer) end),
 * telling the parent when the start returned.  The via name is
 * {:via, PartitionSupervisor, {MySlowPartitionSupervisor, key}}. */
static void starter(void *arg) {
  struct starter *st = arg;
  cotp_heap *h = cotp_self_heap();
  cotp_server sup =
      st->key == 0
          ? cotp_server_name(COTP_ATOM(MySlowDynamicSupervisor))
          : cotp_server_via(&cotp_partition_supervisor_via,
                            COTP_TUPLE(h, COTP_ATOM(MySlowPartitionSupervisor),
                                       cotp_int(h, st->key)));
  cotp_child_spec s = cotp_genserver_child_spec(cotp_format(h, "SlowGenServer"), &slow_cb,
                                                COTP_NIL, COTP_ATOM_NIL);
  cotp_dynamic_supervisor_start_child(sup, &s, NULL, NULL);
  cotp_send(st->parent, COTP_ATOM(started));
}

static bool is_started(cotp_term msg, void *ctx) {
  (void)ctx;
  return cotp_term_eq(msg, COTP_ATOM(started));
}

static void start_five(bool partitioned) {
  for (int i = 0; i < 5; i++) {
    struct starter st = {partitioned ? i + 1 : 0, cotp_self()};
    cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
    o.arg_size = sizeof st; /* copied: a process must not read another's stack */
    cotp_spawn_opt(starter, &st, &o, NULL);
  }
  for (int i = 0; i < 5; i++) /* receive do :started -> ... end */
    cotp_receive_if(is_started, NULL, COTP_INFINITY, 0, NULL);
}

static void root(void *arg) {
  (void)arg;
  cotp_dynamic_supervisor_opts o = COTP_DYNAMIC_SUPERVISOR_OPTS_INIT;
  o.name = cotp_name_local(COTP_ATOM(MySlowDynamicSupervisor));
  cotp_pid sup;
  cotp_dynamic_supervisor_start_link(&o, &sup, NULL);
  puts("# five starts through one DynamicSupervisor");
  int64_t t0 = cotp_monotonic_ms();
  start_five(false);
  double one = (double)(cotp_monotonic_ms() - t0) / (double)unit_ms;
  cotp_child_counts c;
  cotp_supervisor_count_children(cotp_server_pid(sup), &c);
  show("count_children", cotp_child_counts_term(cotp_self_heap(), &c));
  cotp_supervisor_stop(cotp_server_pid(sup), COTP_ATOM_NORMAL, COTP_INFINITY);

  puts("# five starts through a PartitionSupervisor of 6 DynamicSupervisors");
  cotp_partition_supervisor_opts p = COTP_PARTITION_SUPERVISOR_OPTS_INIT;
  p.name = COTP_ATOM(MySlowPartitionSupervisor);
  p.partitions = 6;
  p.child.id = cotp_format(cotp_self_heap(), "DynamicSupervisor");
  p.child.start = dynsup_start;
  p.child.type = COTP_SUPERVISOR;
  cotp_pid psup;
  cotp_partition_supervisor_start_link(&p, &psup, NULL, NULL);
  t0 = cotp_monotonic_ms();
  start_five(true);
  double many = (double)(cotp_monotonic_ms() - t0) / (double)unit_ms;
  cotp_term kids = cotp_supervisor_which_children(cotp_server_pid(psup));
  int busy = 0;
  for (; cotp_is_cons(kids); kids = cotp_tail(kids)) {
    cotp_supervisor_count_children(cotp_server_pid(cotp_get_pid(cotp_tuple_get(cotp_head(kids), 1))),
                                   &c);
    busy += c.active > 0;
  }
  printf("partitions with a SlowGenServer: %d\n", busy);
  printf("one DynamicSupervisor: about %.0f s; partitioned: about %.0f s\n", one, many);
  cotp_supervisor_stop(cotp_server_pid(psup), COTP_ATOM_NORMAL, COTP_INFINITY);
}

int main(int argc, char **argv) {
  read_unit(argc, argv);
  cotp_config cfg = COTP_CONFIG_INIT;
  cfg.schedulers = 2;
  return cotp_run(root, NULL, &cfg, NULL, NULL) == 0 ? 0 : 1;
}
