/* SPDX-License-Identifier: Apache-2.0 */
/* Registered names and via names (behaviours D1-D4, D8, A19). */
#include <pthread.h>
#include <stdatomic.h>

#include "harness.h"

static cotp_pid root;

static void return_at_once(void *arg) { (void)arg; }

static bool registered(cotp_term name) {
  for (cotp_term l = cotp_registered(cotp_self_heap()); cotp_is_cons(l); l = cotp_tail(l))
    if (cotp_term_eq(cotp_head(l), name))
      return true;
  return false;
}

static void assert_whereis(cotp_term name, cotp_pid want) {
  cotp_pid got = {0};
  cotp_assert_rc(cotp_whereis(name, &got), 0);
  cr_assert(cotp_pid_eq(got, want), "whereis %s", cotp_atom_name(name, NULL));
}

/* D1: register, whereis, unregister; the name goes when its process
 * terminates. */
COTP_TEST(names, d1_register_whereis_unregister) {
  root = cotp_self();
  cotp_term name = COTP_ATOM(d1_worker);
  cotp_pid p, got;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn(cotp_test_idle, NULL, &p), 0);
  cotp_assert_rc(cotp_whereis(name, &got), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_register(name, p), 0);
  assert_whereis(name, p);
  cr_assert(registered(name));
  /* the reverse of whereis */
  cotp_assert_term_eq(cotp_registered_name(p), name);
  cr_assert(cotp_is_none(cotp_registered_name(cotp_self())));
  cotp_assert_rc(cotp_send_name(name, COTP_ATOM(hello)), 0);
  cotp_term msgs;
  cotp_assert_rc(cotp_process_info(p, COTP_ATOM(messages), &msgs), 0);
  cotp_assert_term_eq(msgs, cotp_test_parse("[:hello]"));
  cotp_assert_rc(cotp_unregister(name), 0);
  cotp_assert_rc(cotp_whereis(name, &got), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_unregister(name), COTP_ENOTFOUND); /* Erlang: badarg */
  cr_assert(!registered(name));
  cotp_term rn;
  cotp_assert_rc(cotp_process_info(p, COTP_ATOM(registered_name), &rn), 0);
  cotp_assert_term_eq(rn, COTP_NIL);
  cr_assert(cotp_is_none(cotp_registered_name(p)));

  /* registered again (it may take a new name once it lost the old) */
  cotp_assert_rc(cotp_register(COTP_ATOM(d1_other), p), 0);
  cotp_assert_rc(cotp_unregister(COTP_ATOM(d1_other)), 0);
  cotp_assert_rc(cotp_register(name, p), 0);
  cotp_assert_rc(cotp_monitor(p, &ref), 0);
  cotp_exit_signal(p, COTP_ATOM_KILL);
  cotp_test_down_of(ref, p);
  cotp_assert_rc(cotp_whereis(name, &got), COTP_ENOTFOUND);
  cr_assert(!registered(name));
  cr_assert(cotp_is_none(cotp_registered_name(p))); /* dead */

  /* a process may name itself, and a process that returns loses it too */
  cotp_assert_rc(cotp_register(COTP_ATOM(d1_root), root), 0);
  assert_whereis(COTP_ATOM(d1_root), root);
  cotp_assert_rc(cotp_spawn_monitor(cotp_test_idle, NULL, &p, &ref), 0);
  cotp_assert_rc(cotp_register(name, p), 0);
  cotp_send(p, COTP_ATOM(never));
  cotp_assert_term_eq(cotp_test_down_of(ref, p), COTP_ATOM_NORMAL);
  cotp_assert_rc(cotp_whereis(name, &got), COTP_ENOTFOUND);
}

/* Registers itself, says so, then exits (kind 0) or waits (kind 1). */
static void named_self(void *arg) {
  cotp_term name = COTP_ATOM(d2_self);
  cotp_register(name, cotp_self());
  cotp_send(root, COTP_ATOM(named));
  cotp_clause c = {cotp_pattern_cached(":go", NULL), NULL, NULL};
  cotp_receive_match(&c, 1, COTP_INFINITY, 0, NULL);
  if (arg == NULL)
    cotp_exit(COTP_ATOM(boom));
  cotp_test_idle(NULL);
}

/* A19, D2: the name is released before the EXIT and DOWN signals go out:
 * whoever handles them finds the name free, and can register it again at
 * once (a supervisor restarting a named child never gets
 * already_started). */
COTP_TEST(names, a19_d2_name_is_free_when_down_or_exit_arrives) {
  root = cotp_self();
  cotp_trap_exit(true, NULL);
  cotp_heap *h = cotp_self_heap();
  cotp_term name = COTP_ATOM(d2_worker);
  for (int i = 0; i < 300; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_pid p, got;
    cotp_term ref = COTP_NONE, reason;
    bool linked = i % 2;
    if (linked)
      cotp_assert_rc(cotp_spawn_link(cotp_test_idle, NULL, &p), 0);
    else
      cotp_assert_rc(cotp_spawn_monitor(cotp_test_idle, NULL, &p, &ref), 0);
    cotp_assert_rc(cotp_register(name, p), 0);
    if (i % 3 == 0)
      cotp_yield();
    cotp_exit_signal(p, i % 4 < 2 ? COTP_ATOM_KILL : COTP_ATOM(boom));
    cotp_term pin = cotp_pid_term(p);
    if (linked) {
      cotp_clause c = {cotp_test_pattern("{:EXIT, ^p, r}"), &pin, &reason};
      cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
    } else {
      reason = cotp_test_down_of(ref, p);
    }
    /* in the handler: */
    cotp_assert_rc(cotp_whereis(name, &got), COTP_ENOTFOUND);
    cotp_assert_rc(cotp_register(name, root), 0);
    cotp_assert_rc(cotp_unregister(name), 0);
    cotp_heap_release(h, m);
  }
  /* a process that named itself and exits on its own */
  for (int i = 0; i < 50; i++) {
    cotp_pid p, got;
    cotp_term ref;
    cotp_assert_rc(cotp_spawn_monitor(named_self, NULL, &p, &ref), 0);
    cotp_assert_rc(cotp_receive_match(&(cotp_clause){cotp_test_pattern(":named"), NULL, NULL}, 1, 5000, 0, NULL), 0);
    assert_whereis(COTP_ATOM(d2_self), p);
    cotp_send(p, COTP_ATOM(go));
    cotp_assert_term_eq(cotp_test_down_of(ref, p), COTP_ATOM(boom));
    cotp_assert_rc(cotp_whereis(COTP_ATOM(d2_self), &got), COTP_ENOTFOUND);
    cotp_assert_rc(cotp_register(COTP_ATOM(d2_self), root), 0);
    cotp_assert_rc(cotp_unregister(COTP_ATOM(d2_self)), 0);
  }
}

/* D3 (bad_register): register fails when the name is taken
 * (COTP_EEXIST), when the pid already has a name (COTP_ENAMED), when the
 * pid is not alive (COTP_ENOPROC), and for undefined or a non-atom
 * (COTP_EINVAL).  A failed register changes nothing. */
COTP_TEST(names, d3_register_errors) {
  root = cotp_self();
  cotp_pid p, q, dead, got;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn(cotp_test_idle, NULL, &p), 0);
  cotp_assert_rc(cotp_spawn(cotp_test_idle, NULL, &q), 0);
  cotp_assert_rc(cotp_spawn_monitor(return_at_once, NULL, &dead, &ref), 0);
  cotp_test_down_of(ref, dead);

  cotp_term foo = COTP_ATOM(d3_foo), bar = COTP_ATOM(d3_bar);
  cotp_assert_rc(cotp_register(foo, p), 0);
  cotp_assert_rc(cotp_register(foo, q), COTP_EEXIST);
  cotp_assert_rc(cotp_register(foo, p), COTP_EEXIST);
  cotp_assert_rc(cotp_register(bar, p), COTP_ENAMED);
  cotp_assert_rc(cotp_whereis(bar, &got), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_register(bar, dead), COTP_ENOPROC);
  cotp_assert_rc(cotp_whereis(bar, &got), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_register(bar, cotp_pid_make(0, 1u << 20, 3)), COTP_ENOPROC);
  cotp_assert_rc(cotp_register(COTP_ATOM_UNDEFINED, q), COTP_EINVAL);
  cotp_assert_rc(cotp_register(cotp_int(NULL, 1), q), COTP_EINVAL);
  cotp_assert_rc(cotp_register(cotp_test_parse("\"d3_bar\""), q), COTP_EINVAL);
  cotp_assert_rc(cotp_register(cotp_test_parse("{:d3_bar}"), q), COTP_EINVAL);
  cotp_assert_rc(cotp_register(COTP_NONE, q), COTP_EINVAL);
  assert_whereis(foo, p);
  cotp_term rn;
  cotp_assert_rc(cotp_process_info(q, COTP_ATOM(registered_name), &rn), 0);
  cotp_assert_term_eq(rn, COTP_NIL);
  cotp_assert_rc(cotp_register(bar, q), 0);
  cotp_exit_signal(p, COTP_ATOM_KILL);
  cotp_exit_signal(q, COTP_ATOM_KILL);
}

/* D1, D3 race: a name given to a process as it exits is either refused
 * (COTP_ENOPROC) or released with it; it never outlives the process. */
COTP_TEST(names, d1_name_given_to_an_exiting_process_never_outlives_it, .timeout = 60) {
  root = cotp_self();
  cotp_heap *h = cotp_self_heap();
  cotp_term name = COTP_ATOM(d1_race);
  int refused = 0, n = cotp_test_sanitized() ? 2000 : 20000;
  for (int i = 0; i < n; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_pid p, got;
    cotp_term ref;
    cotp_assert_rc(cotp_spawn_monitor(return_at_once, NULL, &p, &ref), 0);
    for (int y = 0; y < i % 3; y++)
      cotp_yield();
    int rc = cotp_register(name, p);
    cr_assert(rc == 0 || rc == COTP_ENOPROC, "iteration %d: %s", i, cotp_err_name(rc));
    refused += rc != 0;
    cotp_test_down_of(ref, p);
    rc = cotp_whereis(name, &got);
    cr_assert_eq(rc, COTP_ENOTFOUND, "iteration %d: the name outlived its process", i);
    cotp_heap_release(h, m);
  }
  cr_log_info("d1 race: %d of %d refused", refused, n);
}

/* D4: sending to a name that is not registered is an error (Erlang raises
 * badarg), sending to a dead pid is not. */
COTP_TEST(names, d4_send_to_unregistered_name_fails_send_to_dead_pid_does_not) {
  root = cotp_self();
  cotp_pid dead;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn_monitor(return_at_once, NULL, &dead, &ref), 0);
  cotp_test_down_of(ref, dead);
  cotp_assert_rc(cotp_send(dead, COTP_ATOM(hi)), 0);
  cotp_assert_rc(cotp_send_name(COTP_ATOM(d4_nobody), COTP_ATOM(hi)), COTP_ENOPROC);
  cotp_name local = cotp_name_local(COTP_ATOM(d4_nobody));
  cotp_assert_rc(cotp_name_send(&local, COTP_ATOM(hi)), COTP_ENOPROC);
  cotp_assert_rc(cotp_send_name(cotp_int(NULL, 4), COTP_ATOM(hi)), COTP_EINVAL);
  cotp_assert_rc(cotp_register(COTP_ATOM(d4_me), root), 0);
  cotp_assert_rc(cotp_send_name(COTP_ATOM(d4_me), COTP_ATOM(hi)), 0);
  cotp_assert_rc(cotp_send_name(COTP_ATOM(d4_me), COTP_NONE), COTP_EINVAL);
  cotp_term msg;
  cotp_assert_rc(cotp_receive(1000, &msg), 0);
  cotp_assert_term_eq(msg, COTP_ATOM(hi));
  cotp_assert_rc(cotp_receive(20, &msg), COTP_ETIMEDOUT);
}

/* D5 (already_started), D6 (no name left after init fails) and D7
 * (enter_loop with a name it does not hold) are GenServer behaviours:
 * they are tested with the GenServer. */

/* A via module for the tests: a fixed table of (term, pid), any term as a
 * name, its own rules (it does not watch its processes die). */
#define VIA_SLOTS 8
struct via_table {
  pthread_mutex_t lock;
  cotp_heap *heap; /* the names' copies */
  struct {
    bool used;
    cotp_term name;
    cotp_pid pid;
  } at[VIA_SLOTS];
  _Atomic int sends;
};

static int via_find(struct via_table *t, cotp_term name) {
  for (int i = 0; i < VIA_SLOTS; i++)
    if (t->at[i].used && cotp_term_eq(t->at[i].name, name))
      return i;
  return -1;
}

static int via_register(void *ctx, cotp_term name, cotp_pid pid) {
  struct via_table *t = ctx;
  pthread_mutex_lock(&t->lock);
  int rc = COTP_ENOMEM;
  if (via_find(t, name) >= 0) {
    rc = COTP_EEXIST;
  } else {
    for (int i = 0; i < VIA_SLOTS; i++) {
      if (!t->at[i].used) {
        t->at[i].used = true;
        t->at[i].name = cotp_term_copy(t->heap, name);
        t->at[i].pid = pid;
        rc = 0;
        break;
      }
    }
  }
  pthread_mutex_unlock(&t->lock);
  return rc;
}

static int via_unregister(void *ctx, cotp_term name) {
  struct via_table *t = ctx;
  pthread_mutex_lock(&t->lock);
  int i = via_find(t, name);
  if (i >= 0)
    t->at[i].used = false;
  pthread_mutex_unlock(&t->lock);
  return i >= 0 ? 0 : COTP_ENOTFOUND;
}

static int via_whereis(void *ctx, cotp_term name, cotp_pid *pid) {
  struct via_table *t = ctx;
  pthread_mutex_lock(&t->lock);
  int i = via_find(t, name);
  if (i >= 0 && pid)
    *pid = t->at[i].pid;
  pthread_mutex_unlock(&t->lock);
  return i >= 0 ? 0 : COTP_ENOTFOUND;
}

static int via_send(void *ctx, cotp_term name, cotp_term msg) {
  struct via_table *t = ctx;
  atomic_fetch_add(&t->sends, 1);
  cotp_pid pid;
  if (via_whereis(ctx, name, &pid) != 0)
    return COTP_ENOPROC;
  return cotp_send(pid, cotp_format(cotp_self_heap(), "{:via, ~t}", msg));
}

static struct via_table table = {PTHREAD_MUTEX_INITIALIZER, NULL, {{0}}, 0};
static const cotp_via with_send = {"Elixir.CotpTest.Via", &table, via_register,
                                   via_unregister, via_whereis, via_send};
static const cotp_via without_send = {"Elixir.CotpTest.ViaPlain", &table, via_register,
                                      via_unregister, via_whereis, NULL};

/* Via names: cotp_name_register, whereis, send and unregister go through
 * the module, with any term as the name; without a send of its own, send
 * is whereis and cotp_send. */
COTP_TEST(names, via_names_go_through_the_module) {
  root = cotp_self();
  table.heap = cotp_heap_new();
  cotp_name a = cotp_name_via(&with_send, cotp_test_parse("{:worker, 1}"));
  cotp_name b = cotp_name_via(&without_send, cotp_test_parse("\"any term\""));
  cotp_pid p, got;
  cotp_assert_rc(cotp_spawn(cotp_test_idle, NULL, &p), 0);

  cotp_assert_rc(cotp_name_whereis(&a, &got), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_name_send(&a, COTP_ATOM(hi)), COTP_ENOPROC);
  cotp_assert_rc(cotp_name_register(&a, root), 0);
  cotp_assert_rc(cotp_name_register(&a, p), COTP_EEXIST);
  cotp_assert_rc(cotp_name_whereis(&a, &got), 0);
  cr_assert(cotp_pid_eq(got, root));
  int sends = atomic_load(&table.sends);
  cotp_assert_rc(cotp_name_send(&a, COTP_ATOM(one)), 0);
  cr_assert_eq(atomic_load(&table.sends), sends + 1); /* the module's own send */
  cotp_term msg;
  cotp_assert_rc(cotp_receive(1000, &msg), 0);
  cotp_assert_term_eq(msg, cotp_test_parse("{:via, :one}"));

  cotp_assert_rc(cotp_name_register(&b, root), 0); /* its rules: two names */
  cotp_assert_rc(cotp_name_send(&b, COTP_ATOM(two)), 0);
  cr_assert_eq(atomic_load(&table.sends), sends + 1); /* whereis and cotp_send */
  cotp_assert_rc(cotp_receive(1000, &msg), 0);
  cotp_assert_term_eq(msg, COTP_ATOM(two));
  /* via names are not registered names */
  cr_assert(!registered(cotp_test_parse("{:worker, 1}")));
  cotp_term rn;
  cotp_assert_rc(cotp_process_info(root, COTP_ATOM(registered_name), &rn), 0);
  cotp_assert_term_eq(rn, COTP_NIL);

  cotp_assert_rc(cotp_name_unregister(&a), 0);
  cotp_assert_rc(cotp_name_unregister(&a), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_name_whereis(&a, &got), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_name_send(&a, COTP_ATOM(three)), COTP_ENOPROC);
  cotp_assert_rc(cotp_name_unregister(&b), 0);
  cotp_assert_rc(cotp_name_send(&b, COTP_ATOM(three)), COTP_ENOPROC);
  cotp_assert_rc(cotp_receive(20, &msg), COTP_ETIMEDOUT);
  cotp_assert_rc(cotp_name_register(&a, p), 0);
  cotp_assert_rc(cotp_name_whereis(&a, &got), 0);
  cr_assert(cotp_pid_eq(got, p));
  cotp_assert_rc(cotp_name_unregister(&a), 0);
  cotp_exit_signal(p, COTP_ATOM_KILL);
  cotp_heap_free(table.heap);
}

/* D8: what stands for Elixir's name validation.  A name of kind NONE
 * (name: nil) registers nothing; a local name must be an atom (a string
 * is rejected); a via name needs a module that can register. */
COTP_TEST(names, d8_name_validation) {
  root = cotp_self();
  cotp_pid got;
  cotp_name none = COTP_NAME_NONE_INIT;
  cotp_term before = cotp_registered(cotp_self_heap());
  cotp_assert_rc(cotp_name_register(&none, root), 0);
  cotp_assert_term_eq(cotp_registered(cotp_self_heap()), before);
  cotp_assert_rc(cotp_name_whereis(&none, &got), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_name_send(&none, COTP_ATOM(hi)), COTP_ENOPROC);
  cotp_assert_rc(cotp_name_unregister(&none), 0);
  cotp_term rn;
  cotp_assert_rc(cotp_process_info(root, COTP_ATOM(registered_name), &rn), 0);
  cotp_assert_term_eq(rn, COTP_NIL);

  cotp_name string = cotp_name_local(cotp_test_parse("\"d8_name\""));
  cotp_assert_rc(cotp_name_register(&string, root), COTP_EINVAL);
  cotp_name undefined = cotp_name_local(COTP_ATOM_UNDEFINED);
  cotp_assert_rc(cotp_name_register(&undefined, root), COTP_EINVAL);
  cotp_name no_module = cotp_name_via(NULL, COTP_ATOM(d8));
  cotp_assert_rc(cotp_name_register(&no_module, root), COTP_EINVAL);
  cotp_assert_rc(cotp_name_whereis(&no_module, &got), COTP_EINVAL);
  static const cotp_via lame = {"Elixir.Lame", NULL, NULL, NULL, NULL, NULL};
  cotp_name lame_name = cotp_name_via(&lame, COTP_ATOM(d8));
  cotp_assert_rc(cotp_name_register(&lame_name, root), COTP_EINVAL);
  cotp_assert_rc(cotp_name_unregister(&lame_name), COTP_EINVAL);
  cotp_assert_rc(cotp_name_register(NULL, root), COTP_EINVAL);
  cotp_assert_rc(cotp_name_whereis(NULL, &got), COTP_EINVAL);

  cotp_name local = cotp_name_local(COTP_ATOM(d8_local));
  cotp_assert_rc(cotp_name_register(&local, root), 0);
  cotp_assert_rc(cotp_name_whereis(&local, &got), 0);
  cr_assert(cotp_pid_eq(got, root));
  cotp_assert_rc(cotp_name_send(&local, COTP_ATOM(hi)), 0);
  cotp_term msg;
  cotp_assert_rc(cotp_receive(1000, &msg), 0);
  cotp_assert_rc(cotp_name_unregister(&local), 0);
  cotp_assert_rc(cotp_name_unregister(&local), COTP_ENOTFOUND);
}
