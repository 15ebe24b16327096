/* SPDX-License-Identifier: Apache-2.0 */
/* Workers for supervisor tests (see sup_util.h). */
#include <stdio.h>

#include "sup_util.h"

_Atomic int mode[64];
_Atomic int slow[64];
_Atomic int starts[64];
cotp_pid test_root;
_Atomic int start_log[256];
_Atomic int nstart_log;

struct wargs {
  int tag;
  cotp_pid sup;
};

static void worker_body(void *arg) {
  struct wargs *w = arg;
  cotp_heap *h = cotp_self_heap();
  int tag = w->tag;
  int sl = atomic_load(&slow[tag]);
  if (sl)
    cotp_trap_exit(true, NULL);
  cotp_send(test_root, COTP_TUPLE(h, COTP_ATOM(started), cotp_int(h, tag),
                                  cotp_pid_term(cotp_self())));
  for (;;) {
    cotp_term m;
    cotp_receive(COTP_INFINITY, &m);
    if (cotp_test_is_cmd(m, "die", 2))
      cotp_exit(cotp_tuple_get(m, 1));
    if (m.w == COTP_ATOM(unlink).w) {
      cotp_unlink(w->sup);
      cotp_send(test_root, COTP_TUPLE(h, COTP_ATOM(unlinked), cotp_int(h, tag)));
    }
    if (cotp_test_is_cmd(m, "EXIT", 3) && sl > 0) {
      cotp_sleep(sl);
      cotp_exit(cotp_tuple_get(m, 2));
    }
  }
}

cotp_term worker_start(cotp_term args, void *ctx) {
  (void)ctx;
  cotp_heap *h = cotp_self_heap();
  int tag = (int)cotp_int_value(cotp_head(args));
  atomic_fetch_add(&starts[tag], 1);
  int k = atomic_fetch_add(&nstart_log, 1);
  if (k < 256)
    atomic_store(&start_log[k], tag);
  switch (atomic_load(&mode[tag])) {
  case W_IGNORE:
    return COTP_ATOM_IGNORE;
  case W_ERROR:
    return cotp_format(h, "{:error, :nope}");
  case W_EXIT:
    cotp_exit(COTP_ATOM(boom));
  case W_BAD:
    return COTP_ATOM(weird);
  case W_FAIL_ONCE:
    atomic_store(&mode[tag], W_OK);
    return cotp_format(h, "{:error, :nope}");
  default:
    break;
  }
  struct wargs w = {tag, cotp_self()};
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  o.link = true;
  o.arg_size = sizeof w;
  cotp_pid pid;
  cr_assert_eq(cotp_spawn_opt(worker_body, &w, &o, &pid), 0);
  if (atomic_load(&mode[tag]) == W_INFO)
    return COTP_TUPLE(h, COTP_ATOM_OK, cotp_pid_term(pid), COTP_ATOM(info));
  return COTP_TUPLE(h, COTP_ATOM_OK, cotp_pid_term(pid));
}

cotp_term wid(int tag) {
  char b[16];
  snprintf(b, sizeof b, "w%d", tag);
  return cotp_atom(b);
}

cotp_child_spec worker_spec(int tag) {
  cotp_child_spec s = COTP_CHILD_SPEC_INIT;
  s.id = wid(tag);
  s.start = worker_start;
  s.args = COTP_LIST(cotp_self_heap(), cotp_int(cotp_self_heap(), tag));
  return s;
}

static bool started_of(cotp_term m, void *ctx) {
  int tag = *(int *)ctx;
  return cotp_test_is_cmd(m, "started", 3) &&
         cotp_int_value(cotp_tuple_get(m, 1)) == tag;
}

cotp_pid started(int tag) {
  cotp_term m;
  int rc = cotp_receive_if(started_of, &tag, 5000, 0, &m);
  cr_assert_eq(rc, 0, "worker %d did not start", tag);
  return cotp_get_pid(cotp_tuple_get(m, 2));
}

void refute_started(int tag, int64_t ms) {
  cotp_term m;
  cr_assert_neq(cotp_receive_if(started_of, &tag, ms, 0, &m), 0,
                "worker %d started", tag);
}

cotp_pid sup_of(cotp_strategy st, int intensity, int period, const int *tags,
                size_t n) {
  test_root = cotp_self();
  cotp_child_spec specs[n ? n : 1];
  for (size_t i = 0; i < n; i++)
    specs[i] = worker_spec(tags[i]);
  cotp_supervisor_flags f = COTP_SUPERVISOR_FLAGS_INIT;
  f.strategy = st;
  f.max_restarts = intensity;
  f.max_seconds = period;
  cotp_pid sup;
  cotp_term reason = COTP_NONE;
  int rc = cotp_supervisor_start_link_children(specs, n, &f, NULL, &sup, &reason);
  cr_assert_eq(rc, 0, "supervisor start: %d %s", rc,
               cotp_term_to_string(reason));
  return sup;
}

cotp_term child_status(cotp_pid sup, cotp_term id) {
  cotp_term l = cotp_supervisor_which_children(cotp_server_pid(sup));
  for (; cotp_is_cons(l); l = cotp_tail(l))
    if (cotp_term_eq(cotp_tuple_get(cotp_head(l), 0), id))
      return cotp_tuple_get(cotp_head(l), 1);
  return COTP_NONE;
}

cotp_pid child_pid(cotp_pid sup, cotp_term id) {
  return cotp_get_pid(child_status(sup, id));
}

cotp_child_counts counts(cotp_pid sup) {
  cotp_child_counts c;
  cr_assert_eq(cotp_supervisor_count_children(cotp_server_pid(sup), &c), 0);
  return c;
}

cotp_term down_reason(cotp_pid pid) {
  cotp_term ref;
  cotp_monitor(pid, &ref);
  return cotp_test_down_of(ref, pid);
}

cotp_term kill_and_wait(cotp_pid pid, cotp_term reason) {
  cotp_term ref;
  cotp_monitor(pid, &ref);
  cotp_exit_signal(pid, reason);
  return cotp_test_down_of(ref, pid);
}
