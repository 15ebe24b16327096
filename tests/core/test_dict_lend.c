/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A dictionary lent its first pairs (cotp__dict_lend, and lazily,
 * cotp__dict_lend_lazy: a Task's lineage):
 * the process sees exactly what cotp_dict_put_many would have left,
 * whether it reads the pairs, changes them, is asked about them from
 * outside, hibernates, or never looks.
 */
#include "harness.h"

static cotp_pid parent;

static void tell(cotp_term what) { cotp_send(parent, what); }

static void wait_for(cotp_term what) {
  cotp_term got;
  cotp_assert_rc(cotp_receive(10000, &got), 0);
  cotp_assert_term_eq(got, what);
}

static void wait_go(void) {
  cotp_term msg;
  cotp_receive(COTP_INFINITY, &msg);
}

#define PAIRS "{:a, [1, \"x\"], {:k, 2}, %{m: 1.5}, :b, :same, :c, :same}"

/* Reads the dictionary, then changes it, telling the parent what it saw
 * at each step. */
static void read_then_change(void) {
  cotp_heap *h = cotp_self_heap();
  tell(COTP_TUPLE(h, cotp_dict_get(COTP_ATOM(a)), cotp_dict_get(cotp_test_parse("{:k, 2}")),
                  cotp_is_none(cotp_dict_get(COTP_ATOM(zz))) ? COTP_ATOM(none) : COTP_ATOM(some)));
  tell(cotp_dict_keys());
  tell(cotp_dict_keys_of(COTP_ATOM(same)));
  tell(cotp_dict_all());
  wait_go(); /* the parent has looked from outside */
  cotp_term old;
  cotp_assert_rc(cotp_dict_put(COTP_ATOM(a), COTP_ATOM(changed), &old), 0);
  tell(old);
  cotp_assert_rc(cotp_dict_erase(cotp_test_parse("{:k, 2}"), &old), 0);
  tell(old);
  cotp_assert_rc(cotp_dict_put(COTP_ATOM(new), cotp_int(h, 7), NULL), 0);
  tell(cotp_dict_all());
  wait_go();
}

/* Lends PAIRS, then reads and changes them. */
static void lender(void *arg) {
  (void)arg;
  cotp_assert_rc(cotp__dict_lend(cotp_test_parse(PAIRS)), 0);
  read_then_change();
}

/* The same with cotp_dict_put_many: what the lender must match. */
static void putter(void *arg) {
  (void)arg;
  cotp_term t = cotp_test_parse(PAIRS);
  cotp_term kv[8];
  for (size_t i = 0; i < 8; i++)
    kv[i] = cotp_tuple_get(t, i);
  cotp_assert_rc(cotp_dict_put_many(kv, 4), 0);
  read_then_change();
}

/* A maker of pairs, for cotp__dict_lend_lazy: the pairs are src. */
static int made;
static cotp_term copy_of(cotp_heap *h, cotp_term src) {
  made++;
  return cotp_term_copy(h, src);
}

/* Lends PAIRS lazily, then reads and changes them. */
static void lazy_lender(void *arg) {
  (void)arg;
  cotp_assert_rc(cotp__dict_lend_lazy(cotp_test_parse(PAIRS), copy_of), 0);
  read_then_change();
}

COTP_TEST(dict_lend, lent_pairs_read_and_change_as_put_ones) {
  parent = cotp_self();
  cotp_entry *fns[] = {putter, lender, lazy_lender};
  cotp_term seen[3][9];
  for (int k = 0; k < 3; k++) {
    cotp_pid p;
    cotp_assert_rc(cotp_spawn(fns[k], NULL, &p), 0);
    for (int i = 0; i < 4; i++)
      cotp_assert_rc(cotp_receive(10000, &seen[k][i]), 0);
    cotp_assert_rc(cotp_process_info(p, COTP_ATOM(dictionary), &seen[k][4]), 0);
    cotp_send(p, COTP_ATOM(go));
    for (int i = 5; i < 8; i++)
      cotp_assert_rc(cotp_receive(10000, &seen[k][i]), 0);
    cotp_assert_rc(cotp_process_info(p, COTP_ATOM(dictionary), &seen[k][8]), 0);
    cotp_send(p, COTP_ATOM(go));
  }
  for (int k = 1; k < 3; k++)
    for (int i = 0; i < 9; i++)
      cotp_assert_term_eq(seen[k][i], seen[0][i]);
  cr_assert_eq(made, 1, "the lazy pairs were made %d times", made);
  /* and what that is */
  cotp_assert_term_eq(seen[1][1], cotp_test_parse("[:c, :b, {:k, 2}, :a]"));
  cotp_assert_term_eq(seen[1][7], cotp_test_parse(
                                      "[{:new, 7}, {:c, :same}, {:b, :same}, {:a, :changed}]"));
}

/* Lazily lent pairs first used from outside, or by a change, or never;
 * lent with a second maker, or to a dictionary in use, they are put at
 * once; a maker that makes no pairs is refused. */
static void lends_lazily_and_waits(void *arg) {
  cotp_assert_rc(cotp__dict_lend_lazy(cotp_test_parse("{:a, 1, :b, 2}"), copy_of), 0);
  if (arg == (void *)1)
    cotp_assert_rc(cotp_dict_put(COTP_ATOM(c), COTP_ATOM(three), NULL), 0);
  tell(COTP_ATOM(lent));
  wait_go();
  if (arg)
    tell(cotp_dict_all());
}

static cotp_term other_maker(cotp_heap *h, cotp_term src) {
  return cotp_term_copy(h, src);
}

static cotp_term no_pairs(cotp_heap *h, cotp_term src) {
  (void)h, (void)src;
  return COTP_ATOM(nope);
}

static void lends_with_others(void *arg) {
  (void)arg;
  cotp_assert_rc(cotp__dict_lend_lazy(COTP_NONE, copy_of), COTP_EINVAL);
  cotp_assert_rc(cotp__dict_lend_lazy(COTP_ATOM(x), NULL), COTP_EINVAL);
  cotp_assert_rc(cotp__dict_lend_lazy(cotp_test_parse("{:a, 1}"), other_maker), 0);
  cotp_assert_rc(cotp__dict_lend_lazy(cotp_test_parse("{:b, 2}"), copy_of), 0);
  cotp_assert_rc(cotp__dict_lend_lazy(COTP_ATOM(x), no_pairs), COTP_EINVAL);
  tell(cotp_dict_all());
}

COTP_TEST(dict_lend, lazily_lent_pairs_are_made_once_when_first_used) {
  parent = cotp_self();
  made = 0;
  cotp_pid p;
  /* first used from outside */
  cotp_assert_rc(cotp_spawn(lends_lazily_and_waits, (void *)2, &p), 0);
  wait_for(COTP_ATOM(lent));
  cr_assert_eq(made, 0);
  cotp_term d;
  cotp_assert_rc(cotp_process_info(p, COTP_ATOM(dictionary), &d), 0);
  cotp_assert_term_eq(d, cotp_test_parse("[{:b, 2}, {:a, 1}]"));
  cotp_send(p, COTP_ATOM(go));
  wait_for(cotp_test_parse("[{:b, 2}, {:a, 1}]"));
  cr_assert_eq(made, 1);
  /* first used by a change */
  cotp_assert_rc(cotp_spawn(lends_lazily_and_waits, (void *)1, &p), 0);
  wait_for(COTP_ATOM(lent));
  cr_assert_eq(made, 2);
  cotp_send(p, COTP_ATOM(go));
  wait_for(cotp_test_parse("[{:c, :three}, {:b, 2}, {:a, 1}]"));
  /* never used: never made */
  cotp_assert_rc(cotp_spawn(lends_lazily_and_waits, NULL, &p), 0);
  wait_for(COTP_ATOM(lent));
  cotp_send(p, COTP_ATOM(go));
  cotp_sleep(20);
  cr_assert_eq(made, 2);
  /* copy_of is the lazy maker now: other_maker's pairs are put at once,
   * and copy_of's then too, the dictionary being in use */
  cotp_assert_rc(cotp_spawn(lends_with_others, NULL, NULL), 0);
  wait_for(cotp_test_parse("[{:b, 2}, {:a, 1}]"));
}

/* Lent to a dictionary that has pairs already, or lent twice: put. */
static void lends_late(void *arg) {
  (void)arg;
  cotp_assert_rc(cotp_dict_put(COTP_ATOM(first), COTP_ATOM(one), NULL), 0);
  cotp_assert_rc(cotp__dict_lend(cotp_test_parse("{:first, :two, :b, 2}")), 0);
  cotp_assert_rc(cotp__dict_lend(cotp_test_parse("{:c, 3, :b, :again}")), 0);
  cotp_assert_rc(cotp__dict_lend(cotp_test_parse("{}")), 0);
  tell(cotp_dict_all());
}

static void lends_twice(void *arg) {
  (void)arg;
  cotp_assert_rc(cotp__dict_lend(cotp_test_parse("{:b, 2}")), 0);
  cotp_assert_rc(cotp__dict_lend(cotp_test_parse("{:c, 3, :b, :again}")), 0);
  tell(cotp_dict_all());
}

COTP_TEST(dict_lend, lending_to_a_dictionary_with_pairs_puts_them) {
  parent = cotp_self();
  cotp_assert_rc(cotp_spawn(lends_late, NULL, NULL), 0);
  wait_for(cotp_test_parse("[{:c, 3}, {:b, :again}, {:first, :two}]"));
  cotp_assert_rc(cotp_spawn(lends_twice, NULL, NULL), 0);
  wait_for(cotp_test_parse("[{:c, 3}, {:b, :again}]"));
}

static void hibernates(void *arg) {
  if (!arg) {
    cotp_assert_rc(cotp__dict_lend(cotp_test_parse("{:a, 1}")), 0);
    cotp_hibernate(hibernates, (void *)1);
  }
  tell(cotp_dict_all());
  if (arg == (void *)1) {
    cotp_dict_put(COTP_ATOM(woke), COTP_ATOM_TRUE, NULL);
    cotp_hibernate(hibernates, (void *)2);
  }
}

/* The lent pairs stay the dictionary across hibernations (the heap is
 * kept), before and after a change. */
COTP_TEST(dict_lend, lent_pairs_survive_a_hibernation) {
  parent = cotp_self();
  cotp_pid p;
  cotp_assert_rc(cotp_spawn(hibernates, NULL, &p), 0);
  cotp_send(p, COTP_ATOM(wake));
  wait_for(cotp_test_parse("[{:a, 1}]"));
  cotp_send(p, COTP_ATOM(wake));
  wait_for(cotp_test_parse("[{:woke, true}, {:a, 1}]"));
}

static void lends_and_waits(void *arg) {
  (void)arg;
  cotp__dict_lend(cotp_test_parse("{:\"$callers\", [:x], :\"$initial_call\", {:m, :f, 1}}"));
  tell(COTP_ATOM(lent));
  if (arg)
    cotp_exit(COTP_ATOM(bye));
  cotp_test_idle(NULL);
}

/* Processes that exit or are killed with lent pairs leave nothing behind
 * (the sanitizer runs would see it), and a handler cannot lend. */
COTP_TEST(dict_lend, exits_with_lent_pairs_and_handlers) {
  parent = cotp_self();
  for (int i = 0; i < 50; i++) {
    cotp_pid p;
    cotp_assert_rc(cotp_spawn(lends_and_waits, (void *)(intptr_t)(i % 2), &p), 0);
    wait_for(COTP_ATOM(lent));
    if (i % 2 == 0)
      cotp_exit_signal(p, COTP_ATOM_KILL);
  }
  const char *bad[] = {"[:a, 1]", "{:a}", "{:a, 1, :b}", "{:a, 1, :a, 2}",
                       "{{:k, 1}, :x, {:k, 1}, :y}", ":a", "42"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    cr_assert_eq(cotp__dict_lend(cotp_test_parse(bad[i])), COTP_EINVAL, "%s", bad[i]);
  cotp_assert_prints(cotp_dict_all(), "[]");
}

static bool lend_in_handler(void *state, cotp_term msg) {
  (void)state, (void)msg;
  /* a handler's heap goes after each message: the pairs are put */
  cotp_assert_rc(cotp__dict_lend(cotp_test_parse("{:h, 1}")), 0);
  tell(cotp_dict_all());
  return true;
}

COTP_TEST(dict_lend, a_handler_puts_what_it_lends) {
  parent = cotp_self();
  cotp_pid p;
  cotp_assert_rc(cotp_spawn_handler(lend_in_handler, NULL, NULL, &p), 0);
  cotp_send(p, COTP_ATOM(one));
  wait_for(cotp_test_parse("[{:h, 1}]"));
  cotp_send(p, COTP_ATOM(two)); /* its heap was released in between */
  wait_for(cotp_test_parse("[{:h, 1}]"));
  cotp_exit_signal(p, COTP_ATOM_KILL);
}
