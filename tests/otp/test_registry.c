/* SPDX-License-Identifier: Apache-2.0 */
/* Registry: registering, lookups, cleanup after exits, links, listeners
 * and via names (L1-L9, L16-L19; the queries are in
 * test_registry_query.c). */
#include <string.h>

#include "reg_util.h"

static cotp_heap *h(void) { return cotp_self_heap(); }
static cotp_term t(const char *text) { return cotp_test_parse(text); }

COTP_TEST(registry, l1_unique_register_returns_owner_and_rejects_taken_keys) {
  cotp_registry *reg = reg_start("L1", COTP_REGISTRY_UNIQUE, 1);
  cotp_pid part, owner;
  cotp_assert_rc(cotp_registry_partition_pid(reg, 0, &part), 0);
  cotp_assert_rc(cotp_registry_register(reg, t("\"hello\""), t(":world"), &owner), 0);
  cr_assert(cotp_pid_eq(owner, part), "register answers the owner partition");
  /* taken, by the caller itself and across processes */
  cotp_assert_rc(cotp_registry_register(reg, t("\"hello\""), t(":again"), &owner),
                 COTP_EEXIST);
  cr_assert(cotp_pid_eq(owner, cotp_self()));
  cotp_pid w = reg_worker_start(reg);
  cotp_assert_term_eq(reg_worker_do(w, "{:register, \"hello\", 1}", COTP_NONE),
                      cotp_format(h(), "{:error, {:already_registered, ~p}}", cotp_self()));
  cotp_assert_term_eq(reg_worker_do(w, "{:register, \"other\", 2}", COTP_NONE),
                      cotp_format(h(), "{:ok, ~p}", part));
  /* keys/2 and values/3 per pid */
  cotp_term out;
  cotp_assert_rc(cotp_registry_keys(reg, cotp_self(), &out), 0);
  cotp_assert_term_eq(out, t("[\"hello\"]"));
  cotp_assert_rc(cotp_registry_keys(reg, w, &out), 0);
  cotp_assert_term_eq(out, t("[\"other\"]"));
  cotp_assert_rc(cotp_registry_values(reg, t("\"hello\""), cotp_self(), &out), 0);
  cotp_assert_term_eq(out, t("[:world]"));
  cotp_assert_rc(cotp_registry_values(reg, t("\"hello\""), w, &out), 0);
  cotp_assert_term_eq(out, COTP_NIL);
  cotp_assert_term_eq(cotp_registry_lookup(reg, t("\"hello\"")),
                      cotp_format(h(), "[{~p, :world}]", cotp_self()));
  reg_worker_kill(w);
  cotp_registry_release(reg);
}

COTP_TEST(registry, l2_unique_register_succeeds_once_the_holder_is_dead) {
  cotp_registry *reg = reg_start("L2", COTP_REGISTRY_UNIQUE, 1);
  cotp_pid part;
  cotp_registry_partition_pid(reg, 0, &part);
  cotp_pid w = reg_worker_start(reg);
  reg_worker_do(w, "{:register, :key, :old}", COTP_NONE);
  /* the partition never hears of the death (as if it were suspended) */
  reg_worker_do(w, "{:unlink, ~t}", cotp_pid_term(part));
  reg_worker_kill(w);
  /* L5: the dead holder's entry stays until cleanup, but a unique lookup
   * and whereis hide it at once, as Elixir 1.14's Registry.lookup and
   * whereis_name check Process.alive? (checked with elixir) */
  cr_assert_eq(cotp_registry_count(reg), 1);
  cotp_assert_term_eq(cotp_registry_lookup(reg, COTP_ATOM(key)), COTP_NIL);
  cotp_pid held;
  cotp_assert_rc(cotp_registry_lookup_pid(reg, COTP_ATOM(key), &held), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_registry_register(reg, COTP_ATOM(key), COTP_ATOM(new), NULL), 0);
  cotp_assert_term_eq(cotp_registry_lookup(reg, COTP_ATOM(key)),
                      cotp_format(h(), "[{~p, :new}]", cotp_self()));
  cr_assert_eq(cotp_registry_count(reg), 1);
  cotp_term out;
  cotp_assert_rc(cotp_registry_keys(reg, w, &out), 0);
  cotp_assert_term_eq(out, COTP_NIL);
  cotp_registry_release(reg);
}

COTP_TEST(registry, l3_duplicate_allows_the_same_key_many_times) {
  cotp_registry *reg = reg_start("L3", COTP_REGISTRY_DUPLICATE, 1);
  cotp_assert_rc(cotp_registry_register(reg, COTP_ATOM(k), cotp_int(h(), 1), NULL), 0);
  cotp_assert_rc(cotp_registry_register(reg, COTP_ATOM(k), cotp_int(h(), 1), NULL), 0);
  cotp_assert_rc(cotp_registry_register(reg, COTP_ATOM(k), cotp_int(h(), 2), NULL), 0);
  cotp_pid me = cotp_self();
  cotp_assert_term_eq(cotp_registry_lookup(reg, COTP_ATOM(k)),
                      cotp_format(h(), "[{~p, 1}, {~p, 1}, {~p, 2}]", me, me, me));
  cotp_term out;
  cotp_assert_rc(cotp_registry_keys(reg, me, &out), 0);
  cotp_assert_term_eq(out, t("[:k, :k, :k]"));
  cotp_assert_rc(cotp_registry_values(reg, COTP_ATOM(k), me, &out), 0);
  cotp_assert_term_eq(out, t("[1, 1, 2]"));
  cr_assert_eq(cotp_registry_count(reg), 3);
  cotp_registry_release(reg);
}

COTP_TEST(registry, l4_keys_compare_exactly) {
  cotp_registry *u = reg_start("L4u", COTP_REGISTRY_UNIQUE, 1);
  cotp_assert_rc(cotp_registry_register(u, cotp_int(h(), 1), COTP_ATOM(int), NULL), 0);
  cotp_assert_rc(cotp_registry_register(u, cotp_float(h(), 1.0), COTP_ATOM(float), NULL), 0);
  cotp_assert_term_eq(cotp_registry_lookup(u, cotp_float(h(), 1.0)),
                      cotp_format(h(), "[{~p, :float}]", cotp_self()));
  cotp_registry *d = reg_start("L4d", COTP_REGISTRY_DUPLICATE, 1);
  cotp_registry_register(d, cotp_int(h(), 1), COTP_ATOM(int), NULL);
  cotp_registry_register(d, cotp_float(h(), 1.0), COTP_ATOM(float), NULL);
  cotp_assert_term_eq(cotp_registry_lookup(d, cotp_int(h(), 1)),
                      cotp_format(h(), "[{~p, :int}]", cotp_self()));
  cotp_registry_release(u);
  cotp_registry_release(d);
}

COTP_TEST(registry, l5_entries_vanish_when_their_process_exits) {
  cotp_registry_key_kind kinds[3] = {COTP_REGISTRY_UNIQUE, COTP_REGISTRY_DUPLICATE,
                                     COTP_REGISTRY_DUPLICATE_KEY};
  const char *names[3] = {"L5u", "L5d", "L5k"};
  for (int k = 0; k < 3; k++) {
    cotp_registry *reg = reg_start(names[k], kinds[k], 4);
    cotp_pid ws[8];
    for (int i = 0; i < 8; i++) {
      ws[i] = reg_worker_start(reg);
      for (int j = 0; j < 5; j++) {
        cotp_term key = cotp_format(h(), "{~i, ~i}", i, j);
        reg_worker_do(ws[i], "{:register, ~t, \"a boxed value that must be copied\"}", key);
      }
    }
    reg_wait_count(reg, 40);
    for (int i = 0; i < 8; i++) {
      if (i % 2)
        reg_worker_kill(ws[i]);
      else
        cotp_send(ws[i], t("{:exit, :crash}"));
    }
    reg_wait_count(reg, 0);
    cotp_term all;
    cotp_assert_rc(cotp_registry_select(reg, t("[{:_, [], [:\"$_\"]}]"), &all), 0);
    cotp_assert_term_eq(all, COTP_NIL);
    cotp_registry_release(reg);
  }
}

static bool links_has(cotp_term links, cotp_pid p) {
  for (cotp_term l = links; cotp_is_cons(l); l = cotp_tail(l))
    if (cotp_pid_eq(cotp_get_pid(cotp_head(l)), p))
      return true;
  return false;
}

COTP_TEST(registry, l6_register_links_and_the_last_unregister_unlinks) {
  cotp_registry *reg = reg_start("L6", COTP_REGISTRY_UNIQUE, 1);
  cotp_pid part;
  cotp_registry_partition_pid(reg, 0, &part);
  cotp_pid w = reg_worker_start(reg);
  cr_assert(!links_has(reg_worker_do(w, ":links", COTP_NONE), part));
  reg_worker_do(w, "{:register, :a, 1}", COTP_NONE);
  reg_worker_do(w, "{:register, :b, 1}", COTP_NONE);
  cr_assert(links_has(reg_worker_do(w, ":links", COTP_NONE), part));
  reg_worker_do(w, "{:unregister, :a}", COTP_NONE);
  cr_assert(links_has(reg_worker_do(w, ":links", COTP_NONE), part), "a key is left");
  reg_worker_do(w, "{:unregister, :b}", COTP_NONE);
  cr_assert(!links_has(reg_worker_do(w, ":links", COTP_NONE), part));
  /* the partition's side of the link went too */
  cotp_term plinks;
  cotp_assert_rc(cotp_process_info(part, COTP_ATOM(links), &plinks), 0);
  cr_assert(!links_has(plinks, w));
  reg_worker_kill(w);
  cotp_registry_release(reg);
}

COTP_TEST(registry, l7_unregister_unknown_is_ok_and_removes_all_own_duplicates) {
  cotp_registry *reg = reg_start("L7", COTP_REGISTRY_DUPLICATE, 1);
  cotp_assert_rc(cotp_registry_unregister(reg, COTP_ATOM(never)), 0);
  cotp_pid w = reg_worker_start(reg);
  cotp_registry_register(reg, COTP_ATOM(k), cotp_int(h(), 1), NULL);
  cotp_registry_register(reg, COTP_ATOM(k), cotp_int(h(), 2), NULL);
  reg_worker_do(w, "{:register, :k, 3}", COTP_NONE);
  cotp_assert_rc(cotp_registry_unregister(reg, COTP_ATOM(k)), 0);
  cotp_assert_term_eq(cotp_registry_lookup(reg, COTP_ATOM(k)),
                      cotp_format(h(), "[{~p, 3}]", w));
  reg_worker_kill(w);
  cotp_registry_release(reg);
}

/* A listener registered as :l8_listener forwards what it gets. */
static void listener(void *arg) {
  cotp_pid owner = *(cotp_pid *)arg;
  cotp_register(COTP_ATOM(l8_listener), cotp_self());
  cotp_send(owner, COTP_ATOM(listening));
  for (;;) {
    cotp_term msg;
    cotp_receive(COTP_INFINITY, &msg);
    cotp_send(owner, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(heard), msg));
  }
}

static cotp_term heard(void) {
  cotp_term msg;
  cotp_clause c = {cotp_test_pattern("{:heard, msg}"), NULL, &msg};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
  return msg;
}

COTP_TEST(registry, l8_listeners_hear_register_and_unregister_but_not_crashes) {
  cotp_pid me = cotp_self(), lis;
  cotp_spawn_opts so = COTP_SPAWN_OPTS_INIT;
  so.arg_size = sizeof me;
  cotp_spawn_opt(listener, &me, &so, &lis);
  cotp_clause c = {cotp_test_pattern(":listening"), NULL, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 5000, 0, NULL), 0);
  cotp_registry_opts o = COTP_REGISTRY_OPTS_INIT;
  o.name = COTP_ATOM(L8);
  o.listeners = t("[:l8_listener]");
  cotp_registry *reg;
  cotp_assert_rc(cotp_registry_start_link(&o, &reg, NULL), 0);
  cotp_registry_register(reg, COTP_ATOM(a), t("{:v, \"x\"}"), NULL);
  cotp_assert_term_eq(heard(), cotp_format(h(), "{:register, :L8, :a, ~p, {:v, \"x\"}}", me));
  cotp_registry_unregister(reg, COTP_ATOM(a));
  cotp_assert_term_eq(heard(), cotp_format(h(), "{:unregister, :L8, :a, ~p}", me));
  cotp_pid w = reg_worker_start(reg);
  reg_worker_do(w, "{:register, :b, 1}", COTP_NONE);
  cotp_assert_term_eq(heard(), cotp_format(h(), "{:register, :L8, :b, ~p, 1}", w));
  reg_worker_kill(w);
  reg_wait_count(reg, 0);
  cotp_test_refute_received("{:heard, _}", 100);
  cotp_exit_signal(lis, COTP_ATOM_KILL);
  cotp_registry_release(reg);
}

/* --- via (L9) --- */

static cotp_gs_ret echo_init(cotp_term arg, void **state) {
  (void)arg;
  (void)state;
  return cotp_gs_ok();
}
static cotp_gs_ret echo_call(cotp_term req, cotp_genserver_from from, void **state) {
  (void)from;
  (void)state;
  return cotp_gs_reply(req);
}
static const cotp_genserver_callbacks echo_cb = {.name = "Echo", .init = echo_init,
                                                 .handle_call = echo_call};

static int start_via(cotp_term name, cotp_pid *pid, cotp_term *reason) {
  cotp_genserver_opts o = COTP_GENSERVER_OPTS_INIT;
  o.name = cotp_registry_name_via(name);
  return cotp_genserver_start(&echo_cb, COTP_NIL, &o, pid, reason);
}

COTP_TEST(registry, l9_via_names_register_find_call_and_unregister) {
  cotp_registry *reg = reg_start("L9", COTP_REGISTRY_UNIQUE, 2);
  cotp_pid a, b;
  cotp_term reason;
  cotp_term name = t("{:L9, \"server_a\"}");
  cotp_assert_rc(start_via(name, &a, &reason), 0);
  cotp_assert_rc(start_via(t("{:L9, \"server_b\", :second}"), &b, &reason), 0);
  cotp_server sa = cotp_server_via(&cotp_registry_via, name);
  cotp_pid where;
  cotp_assert_rc(cotp_genserver_whereis(sa, &where), 0);
  cr_assert(cotp_pid_eq(where, a));
  cotp_assert_term_eq(cotp_genserver_call(sa, COTP_ATOM(ping), 1000), COTP_ATOM(ping));
  cotp_assert_term_eq(cotp_registry_lookup(reg, t("\"server_a\"")),
                      cotp_format(h(), "[{~p, nil}]", a));
  cotp_assert_term_eq(cotp_registry_lookup(reg, t("\"server_b\"")),
                      cotp_format(h(), "[{~p, :second}]", b));
  /* a taken name: already_started */
  cotp_assert_rc(start_via(name, NULL, &reason), COTP_GENSERVER_ERROR);
  cotp_assert_term_eq(reason, cotp_format(h(), "{:already_started, ~p}", a));
  /* the name goes with the server */
  cotp_assert_rc(cotp_genserver_stop(sa, COTP_ATOM_NORMAL, 1000), 0);
  reg_wait_count(reg, 1);
  cotp_assert_rc(cotp_genserver_whereis(sa, &where), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_name_send(&sa.name, COTP_ATOM(x)), COTP_ENOPROC);
  /* register_name/unregister_name directly */
  cotp_name n = cotp_registry_name_via(t("{:L9, :me}"));
  cotp_assert_rc(cotp_name_register(&n, cotp_self()), 0);
  cotp_assert_rc(cotp_name_register(&n, cotp_self()), COTP_EEXIST);
  cotp_assert_rc(cotp_name_register(&n, b), COTP_EINVAL); /* only oneself */
  cotp_assert_rc(cotp_name_whereis(&n, &where), 0);
  cr_assert(cotp_pid_eq(where, cotp_self()));
  cotp_assert_rc(cotp_name_send(&n, COTP_ATOM(hi)), 0);
  cotp_clause c = {cotp_test_pattern(":hi"), NULL, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 1000, 0, NULL), 0);
  cotp_assert_rc(cotp_name_unregister(&n), 0);
  cotp_assert_rc(cotp_name_whereis(&n, &where), COTP_ENOTFOUND);
  cotp_genserver_stop(cotp_server_pid(b), COTP_ATOM_NORMAL, 1000);
  cotp_registry_release(reg);
}

COTP_TEST(registry, l9_via_is_refused_on_duplicate_and_unknown_registries) {
  cotp_registry *reg = reg_start("L9d", COTP_REGISTRY_DUPLICATE, 1);
  cotp_term reason;
  cotp_assert_rc(start_via(t("{:L9d, :x}"), NULL, &reason), COTP_GENSERVER_ERROR);
  cotp_assert_term_eq(reason, COTP_ATOM_BADARG);
  cotp_assert_rc(start_via(t("{NoSuchRegistry, :x}"), NULL, &reason), COTP_GENSERVER_ERROR);
  cotp_name n = cotp_registry_name_via(t("{:L9d, :x}"));
  cotp_assert_rc(cotp_name_register(&n, cotp_self()), COTP_EINVAL);
  cr_assert_eq(cotp_registry_count(reg), 0);
  cotp_registry_release(reg);
}

COTP_TEST(registry, l16_already_registered_leaves_no_rows_nor_links) {
  cotp_registry *reg = reg_start("L16", COTP_REGISTRY_UNIQUE, 1);
  cotp_pid part;
  cotp_registry_partition_pid(reg, 0, &part);
  cotp_registry_register(reg, COTP_ATOM(k), t("\"a value on the heap\""), NULL);
  cotp_pid w = reg_worker_start(reg);
  for (int i = 0; i < 100; i++)
    reg_worker_do(w, "{:register, :k, \"another value on the heap\"}", COTP_NONE);
  cr_assert_eq(cotp_registry_count(reg), 1);
  cotp_term keys;
  cotp_assert_rc(cotp_registry_keys(reg, w, &keys), 0);
  cotp_assert_term_eq(keys, COTP_NIL);
  cr_assert(!links_has(reg_worker_do(w, ":links", COTP_NONE), part));
  reg_worker_kill(w);
  cotp_registry_release(reg);
}

COTP_TEST(registry, l17_unknown_names_and_stopped_registries_are_errors) {
  cr_assert_null(cotp_registry_get(COTP_ATOM(NoSuch)));
  cotp_registry *reg = reg_start("L17", COTP_REGISTRY_DUPLICATE, 3);
  cr_assert_eq(cotp_registry_partitions(reg), 3);
  cotp_pid p[3];
  for (unsigned i = 0; i < 3; i++)
    cotp_assert_rc(cotp_registry_partition_pid(reg, i, &p[i]), 0);
  cotp_pid x;
  cotp_assert_rc(cotp_registry_partition_pid(reg, 3, &x), COTP_ENOTFOUND);
  cotp_registry *again = cotp_registry_get(COTP_ATOM(L17));
  cr_assert_eq(again, reg);
  cotp_registry_release(again);
  cotp_pid whereis;
  cotp_assert_rc(cotp_whereis(COTP_ATOM(L17), &whereis), 0);
  cr_assert(cotp_pid_eq(whereis, p[0]));
  /* a second start with the name: already started */
  cotp_registry_opts o = COTP_REGISTRY_OPTS_INIT;
  o.name = COTP_ATOM(L17);
  cotp_assert_rc(cotp_registry_start_link(&o, NULL, &x), COTP_EEXIST);
  cr_assert(cotp_pid_eq(x, p[0]));
  cotp_registry_register(reg, COTP_ATOM(k), COTP_ATOM(v), NULL);
  cotp_assert_rc(cotp_registry_stop(reg, COTP_ATOM_NORMAL), 0);
  for (unsigned i = 0; i < 3; i++) {
    for (int j = 0; j < 1000 && cotp_is_alive(p[i]); j++)
      cotp_sleep(1);
    cr_assert(!cotp_is_alive(p[i]));
  }
  cotp_assert_rc(cotp_registry_register(reg, COTP_ATOM(k), COTP_ATOM(v), NULL), COTP_ENOPROC);
  cotp_assert_rc(cotp_registry_unregister(reg, COTP_ATOM(k)), COTP_ENOPROC);
  cr_assert(cotp_is_none(cotp_registry_lookup(reg, COTP_ATOM(k))));
  cotp_assert_rc(cotp_registry_lookup_pid(reg, COTP_ATOM(k), &x), COTP_ENOPROC);
  cotp_assert_rc(cotp_registry_stop(reg, COTP_ATOM_NORMAL), COTP_ENOPROC);
  cr_assert_null(cotp_registry_get(COTP_ATOM(L17)));
  /* the name is free again */
  cotp_registry *next;
  cotp_assert_rc(cotp_registry_start_link(&o, &next, NULL), 0);
  cotp_registry_release(next);
  cotp_registry_release(reg);
  /* bad options */
  o.name = t("\"not an atom\"");
  cotp_assert_rc(cotp_registry_start_link(&o, NULL, NULL), COTP_EINVAL);
  cotp_assert_rc(cotp_registry_start_link(NULL, NULL, NULL), COTP_EINVAL);
}

COTP_TEST(registry, l18_count_counts_entries) {
  cotp_registry *reg = reg_start("L18", COTP_REGISTRY_DUPLICATE, 2);
  cr_assert_eq(cotp_registry_count(reg), 0);
  for (int i = 0; i < 10; i++)
    cotp_registry_register(reg, cotp_int(h(), i % 3), COTP_NIL, NULL);
  cr_assert_eq(cotp_registry_count(reg), 10);
  cotp_registry_unregister(reg, cotp_int(h(), 0));
  cr_assert_eq(cotp_registry_count(reg), 6);
  cotp_registry_release(reg);
}

static void count_calls(cotp_term entries, void *ctx) {
  size_t n;
  cotp_list_length(entries, &n);
  ((size_t *)ctx)[0]++;
  ((size_t *)ctx)[1] += n;
}

COTP_TEST(registry, l19_duplicate_by_key_keeps_a_key_in_one_partition) {
  cotp_registry *byk = reg_start("L19k", COTP_REGISTRY_DUPLICATE_KEY, 4);
  cotp_registry *byp = reg_start("L19p", COTP_REGISTRY_DUPLICATE, 4);
  cotp_pid ws[16];
  for (int i = 0; i < 16; i++) {
    ws[i] = reg_worker_start(byk);
    reg_worker_do(ws[i], "{:register, \"topic\", ~t}", cotp_int(h(), i));
  }
  /* the pid-partitioned one, registered through a helper process each */
  cotp_pid wp[16];
  for (int i = 0; i < 16; i++) {
    wp[i] = reg_worker_start(byp);
    reg_worker_do(wp[i], "{:register, \"topic\", ~t}", cotp_int(h(), i));
  }
  size_t calls[2] = {0, 0};
  cotp_assert_rc(cotp_registry_dispatch(byk, t("\"topic\""), count_calls, calls, 0), 0);
  cr_assert_eq(calls[0], 1, "one partition holds the key");
  cr_assert_eq(calls[1], 16);
  calls[0] = calls[1] = 0;
  cotp_assert_rc(cotp_registry_dispatch(byp, t("\"topic\""), count_calls, calls, 0), 0);
  cr_assert_gt(calls[0], 1, "entries spread over the pid partitions");
  cr_assert_eq(calls[1], 16);
  for (int i = 0; i < 16; i++) {
    reg_worker_kill(ws[i]);
    reg_worker_kill(wp[i]);
  }
  cotp_registry_release(byk);
  cotp_registry_release(byp);
}

COTP_TEST(registry, values_and_keys_survive_the_registering_heap) {
  cotp_registry *reg = reg_start("Heap", COTP_REGISTRY_UNIQUE, 1);
  cotp_heap_mark m = cotp_heap_mark_now(h());
  cotp_term big = cotp_format(h(), "{\"a key long enough to be a shared binary, well over "
                                   "sixty-four bytes\", [1, 2.5, %{a: \"b\"}]}");
  cotp_registry_register(reg, big, t("{:value, \"text\", 3.25}"), NULL);
  cotp_heap_release(h(), m);
  cotp_term key = cotp_format(h(), "{\"a key long enough to be a shared binary, well over "
                                   "sixty-four bytes\", [1, 2.5, %{a: \"b\"}]}");
  cotp_assert_term_eq(cotp_registry_lookup(reg, key),
                      cotp_format(h(), "[{~p, {:value, \"text\", 3.25}}]", cotp_self()));
  cotp_registry_release(reg);
}

COTP_TEST(registry, parent_keeps_its_link_after_unregistering) {
  /* the caller of start_link is partition 0's parent: unregistering its
   * last key must not drop that link */
  cotp_registry *reg = reg_start("Parent", COTP_REGISTRY_UNIQUE, 1);
  cotp_pid part;
  cotp_registry_partition_pid(reg, 0, &part);
  cotp_registry_register(reg, COTP_ATOM(k), COTP_NIL, NULL);
  cotp_registry_unregister(reg, COTP_ATOM(k));
  cotp_term links;
  cotp_process_info(cotp_self(), COTP_ATOM(links), &links);
  cr_assert(links_has(links, part));
  cotp_registry_release(reg);
}

/* Many processes register, look up and exit at once, over 4 partitions. */
struct churn_arg {
  cotp_registry *reg;
  cotp_pid owner;
  int id;
};

static void churn(void *arg) {
  struct churn_arg *a = arg;
  cotp_heap *hp = cotp_self_heap();
  for (int i = 0; i < 50; i++) {
    cotp_term key = cotp_format(hp, "{:k, ~i, ~i}", a->id, i % 7);
    cotp_registry_register(a->reg, key, cotp_string(hp, "v"), NULL);
    cotp_term l = cotp_registry_lookup(a->reg, key);
    if (!cotp_is_cons(l))
      cotp_exit(COTP_ATOM(lost));
    if (i % 3 == 0)
      cotp_registry_unregister(a->reg, key);
  }
  cotp_send(a->owner, COTP_ATOM(done));
}

COTP_TEST(registry, concurrent_churn_leaves_nothing_behind, .timeout = 60) {
  cotp_registry_key_kind kinds[2] = {COTP_REGISTRY_UNIQUE, COTP_REGISTRY_DUPLICATE};
  for (int k = 0; k < 2; k++) {
    cotp_registry *reg = reg_start(k ? "ChurnD" : "ChurnU", kinds[k], 4);
    int n = cotp_test_sanitized() ? 20 : 100;
    for (int i = 0; i < n; i++) {
      struct churn_arg a = {reg, cotp_self(), i};
      cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
      o.arg_size = sizeof a;
      cotp_assert_rc(cotp_spawn_opt(churn, &a, &o, NULL), 0);
    }
    cotp_clause c = {cotp_test_pattern(":done"), NULL, NULL};
    for (int i = 0; i < n; i++)
      cotp_assert_rc(cotp_receive_match(&c, 1, 20000, 0, NULL), 0);
    reg_wait_count(reg, 0);
    cotp_registry_release(reg);
  }
}

COTP_TEST(registry, a_stopped_registry_takes_its_linked_registrants_down) {
  cotp_registry *reg = reg_start("StopLinks", COTP_REGISTRY_UNIQUE, 2);
  cotp_pid w = reg_worker_start(reg);
  reg_worker_do(w, "{:register, :k, 1}", COTP_NONE);
  cotp_term ref;
  cotp_monitor(w, &ref);
  cotp_pid part;
  cotp_registry_partition_pid(reg, 0, &part);
  cotp_trap_exit(true, NULL); /* the caller is linked too, as its parent */
  cotp_assert_rc(cotp_registry_stop(reg, COTP_ATOM_SHUTDOWN), 0);
  cotp_assert_term_eq(cotp_test_down_of(ref, w), COTP_ATOM_SHUTDOWN);
  cotp_assert_term_eq(cotp_test_exit_from(part, 5000), COTP_ATOM_SHUTDOWN);
  cotp_registry_release(reg);
}

/* Readers and a writer on one key: a reader sees no entry or a whole one. */
struct rw_arg {
  cotp_registry *reg;
  cotp_pid owner;
  int rounds;
};

static void rw_reader(void *arg) {
  struct rw_arg *a = arg;
  cotp_heap *hp = cotp_self_heap();
  cotp_heap_mark m = cotp_heap_mark_now(hp);
  for (int i = 0; i < a->rounds; i++) {
    cotp_term l = cotp_registry_lookup(a->reg, COTP_ATOM(hot));
    if (cotp_is_cons(l)) {
      cotp_term v = cotp_tuple_get(cotp_head(l), 1);
      size_t len;
      if (cotp_tuple_size(v) != 2 || !cotp_binary_data(cotp_tuple_get(v, 1), &len) ||
          len != 80)
        cotp_exit(COTP_ATOM(torn));
    }
    cotp_heap_release(hp, m);
    if (i % 64 == 0)
      cotp_yield();
  }
  cotp_send(a->owner, COTP_ATOM(done));
}

static cotp_term next_value(cotp_term old, void *ctx) {
  (void)ctx;
  cotp_heap *hp = cotp_self_heap();
  char text[81];
  memset(text, 'x', 80);
  text[80] = '\0';
  return COTP_TUPLE(hp, cotp_int(hp, cotp_int_value(cotp_tuple_get(old, 0)) + 1),
                    cotp_string(hp, text));
}

static void rw_writer(void *arg) {
  struct rw_arg *a = arg;
  cotp_heap *hp = cotp_self_heap();
  for (int i = 0; i < a->rounds / 8; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(hp);
    cotp_term v = next_value(COTP_TUPLE(hp, cotp_int(hp, i), COTP_NIL), NULL);
    if (cotp_registry_register(a->reg, COTP_ATOM(hot), v, NULL) != 0)
      cotp_exit(COTP_ATOM(register_failed));
    for (int j = 0; j < 4; j++)
      cotp_registry_update_value(a->reg, COTP_ATOM(hot), next_value, NULL, NULL, NULL);
    cotp_registry_unregister(a->reg, COTP_ATOM(hot));
    cotp_heap_release(hp, m);
  }
  cotp_send(a->owner, COTP_ATOM(done));
}

COTP_TEST(registry, readers_see_whole_entries_while_a_writer_churns, .timeout = 60) {
  cotp_registry *reg = reg_start("ReadWrite", COTP_REGISTRY_UNIQUE, 1);
  int rounds = cotp_test_sanitized() ? 2000 : 20000;
  struct rw_arg a = {reg, cotp_self(), rounds};
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  o.arg_size = sizeof a;
  cotp_pid pids[4];
  cotp_term refs[4];
  for (int i = 0; i < 4; i++) {
    o.monitor = true;
    o.monitor_ref = &refs[i];
    cotp_assert_rc(cotp_spawn_opt(i == 0 ? rw_writer : rw_reader, &a, &o, &pids[i]), 0);
  }
  for (int i = 0; i < 4; i++)
    cotp_assert_term_eq(cotp_test_down_of(refs[i], pids[i]), COTP_ATOM_NORMAL);
  reg_wait_count(reg, 0);
  cotp_registry_release(reg);
}

/* A starter killed while its registry starts leaks nothing (the sanitizer
 * runs check).  On one scheduler, with the root and the starter at high
 * priority and the partitions at normal, the root sees the starter wait
 * for partition 0's answer and kills it before any partition has run. */
static void killed_starter(void *arg) {
  (void)arg;
  cotp_registry_opts o = COTP_REGISTRY_OPTS_INIT;
  o.name = COTP_ATOM(KilledStarter);
  o.partitions = 4;
  cotp_registry_start_link(&o, NULL, NULL);
  /* started after all: the starter exits normally and the test fails */
}

static void starter_killed_mid_start(void *arg) {
  (void)arg;
  cotp_assert_rc(cotp_set_priority(COTP_PRIORITY_HIGH, NULL), 0);
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  cotp_term mon;
  o.priority = COTP_PRIORITY_HIGH;
  o.monitor = true;
  o.monitor_ref = &mon;
  cotp_pid starter;
  cotp_assert_rc(cotp_spawn_opt(killed_starter, NULL, &o, &starter), 0);
  cotp_term status = COTP_NONE;
  while (cotp_process_info(starter, COTP_ATOM(status), &status) == 0 &&
         status.w != COTP_ATOM(waiting).w)
    cotp_yield();
  cotp_exit_signal(starter, COTP_ATOM_KILL);
  cotp_assert_term_eq(cotp_test_down_of(mon, starter), COTP_ATOM_KILLED);
  /* partition 0 runs now, finds its parent gone, and exits */
  cotp_assert_rc(cotp_set_priority(COTP_PRIORITY_NORMAL, NULL), 0);
  cotp_registry *old;
  for (int i = 0; i < 5000 && (old = cotp_registry_get(COTP_ATOM(KilledStarter))); i++) {
    cotp_registry_release(old);
    cotp_sleep(1);
  }
  cr_assert_null(cotp_registry_get(COTP_ATOM(KilledStarter)));
  /* the name can be taken again */
  cotp_registry *reg = reg_start("KilledStarter", COTP_REGISTRY_UNIQUE, 1);
  cotp_assert_rc(cotp_registry_stop(reg, COTP_ATOM_NORMAL), 0);
  cotp_registry_release(reg);
}

Test(registry, a_starter_killed_mid_start_leaks_nothing) {
  cotp_test_run(starter_killed_mid_start, NULL, 1);
}
