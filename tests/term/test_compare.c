/* SPDX-License-Identifier: Apache-2.0 */
/* Exact equality and Erlang's term order. */
#include <math.h>

#include "harness.h"

static cotp_heap *h;
static void setup(void) { h = cotp_heap_new(); }
static void teardown(void) { cotp_heap_free(h); }
TestSuite(compare, .init = setup, .fini = teardown);

static cotp_term p(const char *text) {
  cotp_term t = cotp_parse(h, text);
  cr_assert(!cotp_is_none(t), "%s: %s", text, cotp_heap_error_message(h));
  return t;
}

Test(compare, order_across_types) {
  /* number < atom < reference < pid < tuple < map < [] < list < binary */
  cotp_resource *r = cotp_resource_new(NULL, NULL);
  cotp_term ordered[] = {
      cotp_int(h, -5), cotp_float(h, 1.5), cotp_int(h, 2), p(":a"), p(":b"),
      cotp_make_ref(), cotp_resource_term(h, r),
      cotp_pid_term(cotp_pid_make(0, 1, 0)), p("{}"), p("{1, 2}"), p("%{}"),
      COTP_NIL, p("[1]"), p("<<>>"), p("\"a\"")};
  size_t n = sizeof ordered / sizeof *ordered;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      int c = cotp_term_compare(ordered[i], ordered[j]);
      int want = (i > j) - (i < j);
      cr_assert_eq((c > 0) - (c < 0), want, "%zu vs %zu", i, j);
    }
  cotp_resource_release(r);
}

Test(compare, numbers_by_value_but_exact_equality_differs) {
  cotp_term one = cotp_int(h, 1), onef = cotp_float(h, 1.0);
  cr_assert_eq(cotp_term_compare(one, onef), 0);
  cr_assert(!cotp_term_eq(one, onef));
  cr_assert(cotp_term_eq(cotp_float(h, 0.0), cotp_float(h, -0.0)));
  /* exact for integers beyond 2^53 */
  int64_t big = ((int64_t)1 << 53) + 1;
  cr_assert_gt(cotp_term_compare(cotp_int(h, big), cotp_float(h, 9007199254740992.0)), 0);
  cr_assert_lt(cotp_term_compare(cotp_int(h, INT64_MAX), cotp_float(h, 9.3e18)), 0);
  cr_assert_gt(cotp_term_compare(cotp_int(h, INT64_MIN), cotp_float(h, -9.3e18)), 0);
  cr_assert_lt(cotp_term_compare(cotp_float(h, 2.5), cotp_int(h, 3)), 0);
  cr_assert_gt(cotp_term_compare(cotp_float(h, -2.5), cotp_int(h, -3)), 0);
}

Test(compare, structure) {
  cr_assert_lt(cotp_term_compare(p("{1, 2}"), p("{1, 3}")), 0);
  cr_assert_lt(cotp_term_compare(p("{9, 9}"), p("{1, 1, 1}")), 0); /* size first */
  cr_assert_lt(cotp_term_compare(p("[1, 2]"), p("[1, 2, 3]")), 0);
  cr_assert_lt(cotp_term_compare(p("[1, 2]"), p("[1, 3]")), 0);
  cr_assert_lt(cotp_term_compare(p("[1 | 2]"), p("[1, 2]")), 0);
  cr_assert_lt(cotp_term_compare(p("\"abc\""), p("\"abd\"")), 0);
  cr_assert_lt(cotp_term_compare(p("\"ab\""), p("\"abc\"")), 0);
  cr_assert_lt(cotp_term_compare(p(":abc"), p(":abd")), 0);
  cr_assert_lt(cotp_term_compare(p(":zz"), p(":zza")), 0);
  cr_assert_lt(cotp_term_compare(p("%{a: 2}"), p("%{b: 1}")), 0); /* keys first */
  cr_assert_lt(cotp_term_compare(p("%{a: 1}"), p("%{a: 2}")), 0);
  cr_assert_lt(cotp_term_compare(p("%{z: 1}"), p("%{a: 1, b: 1}")), 0);
  cr_assert(cotp_term_eq(p("%{a: [1, {2}], b: \"x\"}"), p("%{b: \"x\", a: [1, {2}]}")));
  cr_assert(!cotp_term_eq(p("{1}"), p("{1.0}")));
  cr_assert_eq(cotp_term_compare(p("{1}"), p("{1.0}")), 0);
}

Test(compare, map_keys_are_exact_all_the_way_down) {
  /* Erlang: %{1 => a} < %{1.0 => a}, and so are keys nested in tuples */
  cr_assert_lt(cotp_term_compare(p("%{1 => :a}"), p("%{1.0 => :a}")), 0);
  cr_assert_lt(cotp_term_compare(p("%{{1} => :a}"), p("%{{1.0} => :a}")), 0);
  /* but values compare by value */
  cr_assert_eq(cotp_term_compare(p("%{a: 1}"), p("%{a: 1.0}")), 0);
}

Test(compare, large_binaries_shared_or_not) {
  char big[200];
  memset(big, 'x', sizeof big);
  cotp_term a = cotp_binary(h, big, sizeof big), b = cotp_binary(h, big, sizeof big);
  cr_assert(cotp_term_eq(a, b));
  cr_assert(cotp_term_eq(a, cotp_binary_part(h, a, 0, sizeof big)));
  cr_assert(cotp_term_eq(cotp_binary_part(h, a, 0, 100), cotp_binary(h, big, 100)));
}

Test(compare, long_and_deep_terms_in_constant_stack) {
  cotp_term a = COTP_NIL, b = COTP_NIL, x = COTP_NIL, y = COTP_NIL;
  for (int i = 0; i < 1000000; i++) {
    a = cotp_cons(h, cotp_int(h, i), a);
    b = cotp_cons(h, cotp_int(h, i), b);
  }
  cr_assert(cotp_term_eq(a, b));
  for (int i = 0; i < 100000; i++) {
    x = COTP_TUPLE(h, x, cotp_int(h, i));
    y = COTP_TUPLE(h, y, cotp_int(h, i));
  }
  cr_assert(cotp_term_eq(x, y));
  cr_assert_eq(cotp_term_compare(x, y), 0);
}

/* Property: compare is antisymmetric and consistent with eq on random
 * terms (seeded). */
static cotp_term random_term(cotp_test_rng *r, int depth) {
  switch (cotp_test_below(r, depth > 3 ? 5 : 9)) {
  case 0: return cotp_int(h, (int64_t)cotp_test_below(r, 5) - 2);
  case 1: return cotp_float(h, (double)cotp_test_below(r, 5) - 2);
  case 2: return cotp_test_below(r, 2) ? p(":a") : p(":b");
  case 3: return cotp_binary(h, "ab", cotp_test_below(r, 3));
  case 4: return COTP_NIL;
  case 5: {
    cotp_term e[3];
    size_t n = cotp_test_below(r, 3);
    for (size_t i = 0; i < n; i++)
      e[i] = random_term(r, depth + 1);
    return cotp_tuple(h, n, e);
  }
  case 6: return cotp_cons(h, random_term(r, depth + 1), random_term(r, depth + 1));
  case 7: {
    cotp_term k[2] = {cotp_int(h, 1), random_term(r, depth + 1)};
    cotp_term v[2] = {random_term(r, depth + 1), random_term(r, depth + 1)};
    cotp_term m = cotp_map(h, cotp_term_eq(k[0], k[1]) ? 1 : 2, k, v);
    return m;
  }
  default: return cotp_int(h, (int64_t)cotp_test_below(r, 3));
  }
}

Test(compare, random_terms_are_ordered_consistently) {
  cotp_test_rng r = cotp_test_rng_new();
  for (int i = 0; i < 5000; i++) {
    cotp_term a = random_term(&r, 0), b = random_term(&r, 0), c = random_term(&r, 0);
    int ab = cotp_term_compare(a, b), ba = cotp_term_compare(b, a);
    cr_assert_eq((ab > 0) - (ab < 0), -((ba > 0) - (ba < 0)));
    if (cotp_term_eq(a, b))
      cr_assert_eq(ab, 0);
    int bc = cotp_term_compare(b, c), ac = cotp_term_compare(a, c);
    if (ab <= 0 && bc <= 0)
      cr_assert_leq(ac, 0, "transitivity");
    cr_assert(cotp_term_eq(a, cotp_term_copy(h, a)));
  }
}
