/* SPDX-License-Identifier: Apache-2.0 */
/* Registry queries: match, count_match, select, count_select,
 * unregister_match, update_value, dispatch and metadata (L10-L14). */
#include "reg_util.h"

static cotp_heap *h(void) { return cotp_self_heap(); }
static cotp_term t(const char *text) { return cotp_test_parse(text); }

/* The book's ch. 4.0 registry: "my_key" with five values. */
static cotp_registry *book_registry(void) {
  cotp_registry *reg = reg_start("MatchSpec", COTP_REGISTRY_DUPLICATE, 1);
  const char *values[5] = {"1", "\"one\"", "{1, 2}", "{2, 1}", "{2, 2}"};
  for (int i = 0; i < 5; i++)
    cotp_assert_rc(cotp_registry_register(reg, t("\"my_key\""), t(values[i]), NULL), 0);
  return reg;
}

/* The values of a [{pid, value}] list, as a list. */
static cotp_term values_of(cotp_term entries) {
  cotp_term out = COTP_NIL;
  size_t n;
  cotp_list_length(entries, &n);
  cotp_term v[n ? n : 1];
  size_t i = 0;
  for (cotp_term l = entries; cotp_is_cons(l); l = cotp_tail(l)) {
    cr_assert(cotp_pid_eq(cotp_get_pid(cotp_tuple_get(cotp_head(l), 0)), cotp_self()));
    v[i++] = cotp_tuple_get(cotp_head(l), 1);
  }
  out = cotp_list(h(), n, v);
  return out;
}

static cotp_term match(cotp_registry *reg, const char *pattern, const char *guards) {
  cotp_term out;
  cotp_assert_rc(cotp_registry_match(reg, t("\"my_key\""), t(pattern),
                                     guards ? t(guards) : COTP_NONE, &out),
                 0);
  return values_of(out);
}

COTP_TEST(registry, l10_match_and_count_match_take_patterns_and_guards) {
  cotp_registry *reg = book_registry();
  cotp_assert_term_eq(match(reg, "1", NULL), t("[1]"));
  cotp_assert_term_eq(match(reg, ":_", NULL), t("[1, \"one\", {1, 2}, {2, 1}, {2, 2}]"));
  cotp_assert_term_eq(match(reg, "{2, :_}", NULL), t("[{2, 1}, {2, 2}]"));
  cotp_assert_term_eq(match(reg, "{:\"$1\", :\"$1\"}", NULL), t("[{2, 2}]"));
  cotp_assert_term_eq(match(reg, "{:\"$1\", :\"$2\"}", "[{:>, :\"$1\", :\"$2\"}]"),
                      t("[{2, 1}]"));
  cotp_assert_term_eq(match(reg, ":\"$1\"", "[{:is_binary, :\"$1\"}]"), t("[\"one\"]"));
  size_t n;
  cotp_assert_rc(cotp_registry_count_match(reg, t("\"my_key\""), t("{:\"$1\", :_}"),
                                           t("[{:>=, :\"$1\", 2}]"), &n),
                 0);
  cr_assert_eq(n, 2);
  cotp_assert_rc(cotp_registry_count_match(reg, t("\"other\""), t(":_"), COTP_NONE, &n), 0);
  cr_assert_eq(n, 0);
  cotp_registry_release(reg);
}

COTP_TEST(registry, l10_select_and_count_select_run_match_specs) {
  cotp_registry *reg = reg_start("Select", COTP_REGISTRY_UNIQUE, 4);
  cotp_registry_register(reg, COTP_ATOM(a), cotp_int(h(), 1), NULL);
  cotp_registry_register(reg, COTP_ATOM(b), cotp_int(h(), 5), NULL);
  cotp_registry_register(reg, COTP_ATOM(c), t("\"x\""), NULL);
  cotp_term out;
  cotp_assert_rc(cotp_registry_select(reg, t("[{{:\"$1\", :_, :\"$3\"}, "
                                             "[{:is_integer, :\"$3\"}, {:>, :\"$3\", 2}], "
                                             "[{{:\"$1\", :\"$3\"}}]}]"),
                                      &out),
                 0);
  cotp_assert_term_eq(out, t("[{:b, 5}]"));
  /* $_ is {key, {pid, value}} and $$ the head's variables, as in Elixir */
  cotp_assert_rc(
      cotp_registry_select(reg, t("[{{:b, :\"$2\", :\"$3\"}, [], [:\"$_\"]}]"), &out), 0);
  cotp_assert_term_eq(out, cotp_format(h(), "[{:b, {~p, 5}}]", cotp_self()));
  cotp_assert_rc(
      cotp_registry_select(reg, t("[{{:c, :\"$2\", :\"$3\"}, [], [:\"$$\"]}]"), &out), 0);
  cotp_assert_term_eq(out, cotp_format(h(), "[[~p, \"x\"]]", cotp_self()));
  size_t n;
  cotp_assert_rc(cotp_registry_count_select(reg, t("[{{:_, :_, :\"$1\"}, "
                                                   "[{:is_integer, :\"$1\"}], [true]}]"),
                                            &n),
                 0);
  cr_assert_eq(n, 2);
  /* a body that is not true counts for nothing, as :ets.select_count */
  cotp_assert_rc(cotp_registry_count_select(reg, t("[{{:_, :_, :\"$1\"}, [], [:\"$1\"]}]"), &n), 0);
  cr_assert_eq(n, 0);
  cotp_assert_rc(cotp_registry_select(reg, t("[{:_, [], [true]}]"), &out), 0);
  cotp_assert_term_eq(out, t("[true, true, true]"));
  cotp_registry_release(reg);
}

COTP_TEST(registry, l11_keys_that_look_like_match_specs_are_literal) {
  cotp_registry *reg = reg_start("Reserved", COTP_REGISTRY_DUPLICATE, 1);
  const char *keys[6] = {":_", "{:\"$1\", :x}", "[:\"$$\", 1]", "%{a: 1, b: 2}", ":\"$1\"",
                         "{:x, :y}"};
  for (int i = 0; i < 6; i++)
    cotp_registry_register(reg, t(keys[i]), cotp_int(h(), i), NULL);
  for (int i = 0; i < 6; i++) {
    cotp_term l = cotp_registry_lookup(reg, t(keys[i]));
    cotp_assert_term_eq(values_of(l), COTP_LIST(h(), cotp_int(h(), i)));
    cotp_term m;
    cotp_assert_rc(cotp_registry_match(reg, t(keys[i]), t(":_"), COTP_NONE, &m), 0);
    cotp_assert_term_eq(values_of(m), COTP_LIST(h(), cotp_int(h(), i)));
  }
  /* a map key does not find a superset map */
  cotp_assert_term_eq(cotp_registry_lookup(reg, t("%{a: 1}")), COTP_NIL);
  /* unregister_match by a reserved key touches only that key */
  cotp_assert_rc(cotp_registry_unregister_match(reg, t(":_"), t(":_"), COTP_NONE), 0);
  cotp_assert_term_eq(cotp_registry_lookup(reg, t(":_")), COTP_NIL);
  cr_assert_eq(cotp_registry_count(reg), 5);
  cotp_registry_release(reg);
}

COTP_TEST(registry, l12_malformed_match_specs_are_rejected) {
  cotp_registry *reg = book_registry();
  cotp_term out;
  size_t n;
  const char *bad_specs[] = {
      ":bad", "[:bad]", "[{:_, [], []}]", "[{:_, :notalist, [true]}]",
      "[{{:\"$1\", :\"$2\", :\"$3\"}, [], [:\"$4\"]}]", "[{:_, [{:foo, 1}], [true]}]",
      "[{:_, [], [{1, 2}]}]", "[{:_, [{:element, 1}], [true]}]", "[{:_, [], [true]} | :x]"};
  for (size_t i = 0; i < sizeof bad_specs / sizeof *bad_specs; i++) {
    cotp_assert_rc(cotp_registry_select(reg, t(bad_specs[i]), &out), COTP_EINVAL);
    cotp_assert_rc(cotp_registry_count_select(reg, t(bad_specs[i]), &n), COTP_EINVAL);
  }
  cotp_assert_rc(cotp_registry_match(reg, t("\"my_key\""), t(":\"$1\""),
                                     t("[{:foo, :\"$1\"}]"), &out),
                 COTP_EINVAL);
  cotp_assert_rc(cotp_registry_match(reg, t("\"my_key\""), t(":\"$1\""),
                                     t("[{:<=, :\"$1\", 3}]"), &out),
                 COTP_EINVAL); /* Erlang spells it =< */
  cotp_assert_rc(cotp_registry_count_match(reg, t("\"my_key\""), t(":_"), t(":notalist"), &n),
                 COTP_EINVAL);
  cotp_assert_rc(cotp_registry_unregister_match(reg, t("\"my_key\""), t(":_"),
                                                t("[{:>, :\"$9\", 1}]")),
                 COTP_EINVAL);
  cr_assert_eq(cotp_registry_count(reg), 5);
  cotp_registry_release(reg);
}

COTP_TEST(registry, unregister_match_removes_only_matching_own_entries) {
  cotp_registry *reg = book_registry();
  cotp_pid w = reg_worker_start(reg);
  reg_worker_do(w, "{:register, \"my_key\", {2, 9}}", COTP_NONE);
  cotp_assert_rc(cotp_registry_unregister_match(reg, t("\"my_key\""), t("{2, :_}"), COTP_NONE), 0);
  cotp_term l = cotp_registry_lookup(reg, t("\"my_key\""));
  cotp_assert_term_eq(l, cotp_format(h(), "[{~p, 1}, {~p, \"one\"}, {~p, {1, 2}}, {~p, {2, 9}}]",
                                     cotp_self(), cotp_self(), cotp_self(), w));
  reg_worker_kill(w);
  cotp_registry_release(reg);
}

static cotp_term add_one(cotp_term old, void *ctx) {
  (void)ctx;
  return cotp_int(cotp_self_heap(), cotp_int_value(old) + 1);
}

COTP_TEST(registry, l13_update_value_changes_only_the_callers_unique_entry) {
  cotp_registry *reg = reg_start("Update", COTP_REGISTRY_UNIQUE, 1);
  cotp_registry_register(reg, COTP_ATOM(mine), cotp_int(h(), 5), NULL);
  cotp_term nv, old;
  cotp_assert_rc(cotp_registry_update_value(reg, COTP_ATOM(mine), add_one, NULL, &nv, &old), 0);
  cotp_assert_term_eq(COTP_TUPLE(h(), nv, old), t("{6, 5}"));
  cotp_assert_term_eq(cotp_registry_lookup(reg, COTP_ATOM(mine)),
                      cotp_format(h(), "[{~p, 6}]", cotp_self()));
  cotp_assert_rc(cotp_registry_update_value(reg, COTP_ATOM(none), add_one, NULL, &nv, &old),
                 COTP_ENOTFOUND);
  /* another process's entry is not the caller's */
  cotp_pid w = reg_worker_start(reg);
  cotp_assert_term_eq(reg_worker_do(w, "{:update, :mine, \"boxed new value\"}", COTP_NONE),
                      COTP_ATOM_ERROR);
  reg_worker_do(w, "{:register, :theirs, 1}", COTP_NONE);
  cotp_assert_term_eq(reg_worker_do(w, "{:update, :theirs, \"boxed new value\"}", COTP_NONE),
                      t("{\"boxed new value\", 1}"));
  cotp_assert_term_eq(cotp_registry_lookup(reg, COTP_ATOM(theirs)),
                      cotp_format(h(), "[{~p, \"boxed new value\"}]", w));
  reg_worker_kill(w);
  cotp_registry *dup = reg_start("UpdateDup", COTP_REGISTRY_DUPLICATE, 1);
  cotp_registry_register(dup, COTP_ATOM(k), cotp_int(h(), 1), NULL);
  cotp_assert_rc(cotp_registry_update_value(dup, COTP_ATOM(k), add_one, NULL, &nv, &old),
                 COTP_EINVAL);
  cotp_registry_release(reg);
  cotp_registry_release(dup);
}

struct seen {
  int calls;
  int entries;
  bool other_process;
};

static void record(cotp_term entries, void *ctx) {
  struct seen *s = ctx;
  size_t n;
  cotp_list_length(entries, &n);
  s->calls++;
  s->entries += (int)n;
  for (cotp_term l = entries; cotp_is_cons(l); l = cotp_tail(l))
    cotp_send(cotp_get_pid(cotp_tuple_get(cotp_head(l), 0)),
              COTP_TUPLE(cotp_self_heap(), COTP_ATOM(broadcast), cotp_tuple_get(cotp_head(l), 1)));
}

/* Parallel jobs run in other processes: they report through messages. */
static void report(cotp_term entries, void *ctx) {
  cotp_pid owner = *(cotp_pid *)ctx;
  size_t n;
  cotp_list_length(entries, &n);
  cotp_send(owner, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(job), cotp_pid_term(cotp_self()),
                              cotp_int(cotp_self_heap(), (int64_t)n)));
}

COTP_TEST(registry, l14_dispatch_calls_back_with_entries_and_not_without) {
  cotp_registry *reg = reg_start("Dispatch", COTP_REGISTRY_DUPLICATE, 1);
  struct seen s = {0, 0, false};
  cotp_assert_rc(cotp_registry_dispatch(reg, COTP_ATOM(nobody), record, &s, 0), 0);
  cr_assert_eq(s.calls, 0);
  cotp_registry_register(reg, COTP_ATOM(topic), cotp_int(h(), 1), NULL);
  cotp_registry_register(reg, COTP_ATOM(topic), cotp_int(h(), 2), NULL);
  cotp_assert_rc(cotp_registry_dispatch(reg, COTP_ATOM(topic), record, &s, 0), 0);
  cr_assert_eq(s.calls, 1);
  cr_assert_eq(s.entries, 2);
  cotp_clause c = {cotp_test_pattern("{:broadcast, _}"), NULL, NULL};
  cotp_assert_rc(cotp_receive_match(&c, 1, 1000, 0, NULL), 0);
  cotp_assert_rc(cotp_receive_match(&c, 1, 1000, 0, NULL), 0);
  cotp_registry_release(reg);
}

COTP_TEST(registry, l14_parallel_dispatch_runs_in_tasks_and_leaks_no_exits) {
  cotp_registry *reg = reg_start("Parallel", COTP_REGISTRY_DUPLICATE, 4);
  cotp_pid ws[16];
  for (int i = 0; i < 16; i++) {
    ws[i] = reg_worker_start(reg);
    reg_worker_do(ws[i], "{:register, :topic, ~t}", cotp_int(h(), i));
  }
  /* ctx is read by other processes: not on the caller's stack */
  static cotp_pid me;
  me = cotp_self();
  cotp_assert_rc(cotp_registry_dispatch(reg, COTP_ATOM(topic), report, &me,
                                        COTP_REGISTRY_PARALLEL),
                 0);
  int total = 0;
  cotp_term pid, n;
  cotp_term caps[2];
  cotp_clause c = {cotp_test_pattern("{:job, pid, n}"), NULL, caps};
  while (cotp_receive_match(&c, 1, 0, 0, NULL) == 0) {
    pid = caps[0];
    n = caps[1];
    cr_assert(!cotp_pid_eq(cotp_get_pid(pid), me), "ran in another process");
    total += (int)cotp_int_value(n);
  }
  cr_assert_eq(total, 16);
  cotp_test_refute_received("_", 50);
  cr_assert_eq(cotp_mailbox_length(), 0);
  for (int i = 0; i < 16; i++)
    reg_worker_kill(ws[i]);
  cotp_registry_release(reg);
}

COTP_TEST(registry, meta_put_and_get) {
  cotp_registry_opts o = COTP_REGISTRY_OPTS_INIT;
  o.name = COTP_ATOM(Meta);
  o.meta = t("[custom: \"initial\", other: {1, 2}]");
  cotp_registry *reg;
  cotp_assert_rc(cotp_registry_start_link(&o, &reg, NULL), 0);
  cotp_term v;
  cotp_assert_rc(cotp_registry_meta(reg, COTP_ATOM(custom), h(), &v), 0);
  cotp_assert_term_eq(v, t("\"initial\""));
  cotp_assert_rc(cotp_registry_meta(reg, COTP_ATOM(missing), h(), &v), COTP_ENOTFOUND);
  cotp_assert_rc(cotp_registry_put_meta(reg, COTP_ATOM(custom), t("{:new, \"value\"}")), 0);
  cotp_assert_rc(cotp_registry_put_meta(reg, t("{:tuple, :key}"), COTP_ATOM(ok)), 0);
  cotp_assert_rc(cotp_registry_put_meta(reg, t("\"string key\""), COTP_ATOM(ok)), COTP_EINVAL);
  cotp_assert_rc(cotp_registry_meta(reg, COTP_ATOM(custom), h(), &v), 0);
  cotp_assert_term_eq(v, t("{:new, \"value\"}"));
  cotp_assert_rc(cotp_registry_meta(reg, t("{:tuple, :key}"), h(), &v), 0);
  cotp_assert_term_eq(v, COTP_ATOM(ok));
  cotp_registry_release(reg);
}

/* A process killed as unregister_match unlinks it from the partition
 * leaks nothing (the sanitizer runs check): the compiled spec is freed
 * before the unlink, which acts on the pending kill. */
static void unregister_with_a_kill_pending(void *arg) {
  cotp_registry *reg = *(cotp_registry **)arg;
  cotp_assert_rc(cotp_registry_register(reg, COTP_ATOM(k), COTP_ATOM(v), NULL), 0);
  cotp_test_hold_for_kill();
  cotp_registry_unregister_match(reg, COTP_ATOM(k), t(":v"), COTP_NONE);
  cotp_exit(COTP_ATOM(unregistered)); /* not reached: the kill acts first */
}

static void killed_in_unregister_match(void *arg) {
  (void)arg;
  cotp_registry *reg = reg_start("KilledUnregister", COTP_REGISTRY_DUPLICATE, 1);
  cotp_test_kill_at_hold(unregister_with_a_kill_pending, &reg, sizeof reg);
  reg_wait_count(reg, 0);
  cotp_registry_release(reg);
}

Test(registry, a_process_killed_in_unregister_match_leaks_nothing) {
  cotp_test_run(killed_in_unregister_match, NULL, 2);
}
