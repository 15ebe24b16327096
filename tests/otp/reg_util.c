/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the Registry tests (see reg_util.h). */
#include "reg_util.h"

cotp_registry *reg_start(const char *name, cotp_registry_key_kind keys,
                         unsigned partitions) {
  cotp_registry_opts o = COTP_REGISTRY_OPTS_INIT;
  o.name = cotp_atom(name);
  o.keys = keys;
  o.partitions = partitions;
  cotp_registry *reg = NULL;
  cotp_assert_rc(cotp_registry_start_link(&o, &reg, NULL), 0);
  cr_assert_not_null(reg);
  return reg;
}

struct worker_arg {
  cotp_registry *reg;
  cotp_pid owner;
};

static cotp_term rc_term(cotp_heap *h, int rc) {
  return COTP_TUPLE(h, cotp_atom("rc"), cotp_atom(cotp_err_name(rc)));
}

static cotp_term bump(cotp_term old, void *ctx) {
  (void)old;
  return *(cotp_term *)ctx;
}

static void worker(void *arg) {
  struct worker_arg *a = arg;
  for (;;) {
    cotp_heap *h = cotp_self_heap();
    cotp_term msg, result = COTP_ATOM_OK;
    cotp_receive(COTP_INFINITY, &msg);
    cotp_term cmd = cotp_is_tuple(msg) ? cotp_tuple_get(msg, 0) : msg;
    if (cmd.w == COTP_ATOM(register).w) {
      cotp_pid owner;
      int rc = cotp_registry_register(a->reg, cotp_tuple_get(msg, 1),
                                      cotp_tuple_get(msg, 2), &owner);
      result = rc == 0 ? COTP_TUPLE(h, COTP_ATOM_OK, cotp_pid_term(owner))
               : rc == COTP_EEXIST
                   ? cotp_format(h, "{:error, {:already_registered, ~p}}", owner)
                   : rc_term(h, rc);
    } else if (cmd.w == COTP_ATOM(unregister).w) {
      int rc = cotp_registry_unregister(a->reg, cotp_tuple_get(msg, 1));
      result = rc == 0 ? COTP_ATOM_OK : rc_term(h, rc);
    } else if (cmd.w == COTP_ATOM(update).w) {
      cotp_term v = cotp_tuple_get(msg, 2), nv, old;
      int rc = cotp_registry_update_value(a->reg, cotp_tuple_get(msg, 1), bump,
                                          &v, &nv, &old);
      result = rc == 0 ? COTP_TUPLE(h, nv, old)
               : rc == COTP_ENOTFOUND ? COTP_ATOM_ERROR
                                      : rc_term(h, rc);
    } else if (cmd.w == COTP_ATOM(links).w) {
      cotp_process_info(cotp_self(), COTP_ATOM(links), &result);
    } else if (cmd.w == COTP_ATOM(unlink).w) {
      cotp_unlink(cotp_get_pid(cotp_tuple_get(msg, 1)));
    } else if (cmd.w == COTP_ATOM_EXIT.w || cmd.w == COTP_ATOM(exit).w) {
      cotp_exit(cotp_tuple_get(msg, 1));
    }
    cotp_send(a->owner, COTP_TUPLE(h, COTP_ATOM_REPLY, cotp_pid_term(cotp_self()), result));
  }
}

cotp_pid reg_worker_start(cotp_registry *reg) {
  struct worker_arg a = {reg, cotp_self()};
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  o.arg_size = sizeof a;
  cotp_pid pid;
  cotp_assert_rc(cotp_spawn_opt(worker, &a, &o, &pid), 0);
  return pid;
}

static cotp_term ask(cotp_pid w, cotp_term cmd) {
  cr_assert(!cotp_is_none(cmd));
  cotp_send(w, cmd);
  cotp_term pin = cotp_pid_term(w), result;
  cotp_clause c = {cotp_test_pattern("{:reply, ^w, result}"), &pin, &result};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
  return result;
}

cotp_term reg_worker_do(cotp_pid w, const char *cmd, cotp_term t) {
  return ask(w, cotp_format(cotp_self_heap(), cmd, t));
}

cotp_term reg_worker_do2(cotp_pid w, const char *cmd, cotp_term a, cotp_term b) {
  return ask(w, cotp_format(cotp_self_heap(), cmd, a, b));
}

void reg_worker_kill(cotp_pid w) {
  cotp_term ref;
  cotp_monitor(w, &ref);
  cotp_exit_signal(w, COTP_ATOM_KILL);
  cotp_test_down_of(ref, w);
}

void reg_wait_count(cotp_registry *reg, size_t n) {
  for (int i = 0; i < 5000 && cotp_registry_count(reg) != n; i++)
    cotp_sleep(1);
  cr_assert_eq(cotp_registry_count(reg), n, "count %zu, wanted %zu",
               cotp_registry_count(reg), n);
}
