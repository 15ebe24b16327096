/* SPDX-License-Identifier: Apache-2.0 */
/* The typed builder and the accessors, for every type. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

Test(build, integers_small_and_boxed) {
  cotp_heap *h = cotp_heap_new();
  int64_t values[] = {0, 1, -1, (int64_t)1 << 59, ((int64_t)1 << 60) - 1,
                      -((int64_t)1 << 60), (int64_t)1 << 60,
                      -((int64_t)1 << 60) - 1, INT64_MAX, INT64_MIN};
  for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
    cotp_term t = cotp_int(h, values[i]);
    cr_assert(cotp_is_integer(t));
    cr_assert(cotp_is_number(t));
    cr_assert_eq(cotp_term_type(t), COTP_TINTEGER);
    int64_t v;
    cotp_assert_rc(cotp_get_int(t, &v), 0);
    cr_assert_eq(v, values[i]);
  }
  /* integers in 61 bits need no heap */
  cr_assert(!cotp_is_none(cotp_int(NULL, ((int64_t)1 << 60) - 1)));
  cr_assert(cotp_is_none(cotp_int(NULL, (int64_t)1 << 60)));
  cotp_assert_prints(cotp_int(h, INT64_MIN), "-9223372036854775808");
  cotp_assert_prints(cotp_uint(h, INT64_MAX), "9223372036854775807");
  cotp_heap_free(h);
}

Test(build, unsigned_over_int64_max_is_erange) {
  cotp_heap *h = cotp_heap_new();
  cr_assert(cotp_is_none(cotp_uint(h, UINT64_MAX)));
  cotp_assert_rc(cotp_heap_error(h), COTP_ERANGE);
  cr_assert(strstr(cotp_heap_error_message(h), "18446744073709551615"));
  cotp_heap_free(h);
}

Test(build, heap_fail_records_the_first_error_for_callers_to_read) {
  cotp_heap *h = cotp_heap_new();
  cotp_heap_fail(h, COTP_EBADTYPE, "a %s, not %d", "tuple", 42);
  cotp_heap_fail(h, COTP_ERANGE, "the second is dropped");
  cotp_assert_rc(cotp_heap_error(h), COTP_EBADTYPE);
  cr_assert_str_eq(cotp_heap_error_message(h), "a tuple, not 42");
  cotp_heap_clear_error(h);
  cotp_assert_rc(cotp_heap_error(h), 0);
  /* long messages are cut, not overflowed */
  char big[400];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  cotp_heap_fail(h, COTP_EINVAL, "%s", big);
  cr_assert(strlen(cotp_heap_error_message(h)) < sizeof big - 1);
  cotp_heap_fail(NULL, COTP_EINVAL, "no heap: nothing recorded");
  cotp_heap_free(h);
}

Test(build, floats) {
  cotp_heap *h = cotp_heap_new();
  cotp_term f = cotp_float(h, 1.5);
  cr_assert(cotp_is_float(f));
  double d;
  cotp_assert_rc(cotp_get_float(f, &d), 0);
  cr_assert_eq(d, 1.5);
  cotp_assert_rc(cotp_get_float(cotp_int(h, 3), &d), 0);
  cr_assert_eq(d, 3.0);
  cr_assert(cotp_is_none(cotp_float(h, NAN)));
  cotp_assert_rc(cotp_heap_error(h), COTP_ERANGE);
  cotp_heap_clear_error(h);
  cr_assert(cotp_is_none(cotp_float(h, INFINITY)));
  cotp_assert_rc(cotp_heap_error(h), COTP_ERANGE);
  cotp_heap_free(h);
}

Test(build, binaries_inline_and_shared) {
  cotp_heap *h = cotp_heap_new();
  cotp_term s = cotp_string(h, "text");
  size_t len;
  const uint8_t *p = cotp_binary_data(s, &len);
  cr_assert_eq(len, 4);
  cr_assert(memcmp(p, "text", 4) == 0);
  uint8_t big[1000];
  for (int i = 0; i < 1000; i++)
    big[i] = (uint8_t)i;
  cotp_term b = cotp_binary(h, big, sizeof big);
  cr_assert(cotp_is_binary(b));
  p = cotp_binary_data(b, &len);
  cr_assert_eq(len, 1000);
  cr_assert(memcmp(p, big, 1000) == 0);
  cotp_term empty = cotp_binary(h, NULL, 0);
  cr_assert(cotp_binary_data(empty, &len) != NULL);
  cr_assert_eq(len, 0);
  cotp_assert_prints(empty, "\"\"");
  /* a part of a shared binary shares its bytes */
  cotp_term part = cotp_binary_part(h, b, 100, 200);
  cr_assert_eq(cotp_binary_data(part, &len), p + 100);
  cr_assert_eq(len, 200);
  cotp_term small = cotp_binary_part(h, b, 1, 3);
  cotp_assert_prints(small, "<<1, 2, 3>>");
  cr_assert(cotp_is_none(cotp_binary_part(h, b, 999, 2)));
  cotp_assert_rc(cotp_heap_error(h), COTP_ERANGE);
  cotp_heap_free(h);
}

Test(build, binary_alloc_fills_in_place) {
  cotp_heap *h = cotp_heap_new();
  uint8_t *data;
  cotp_term b = cotp_binary_alloc(h, 3, &data);
  memcpy(data, "abc", 3);
  cotp_assert_prints(b, "\"abc\"");
  cotp_heap_free(h);
}

Test(build, tuples) {
  cotp_heap *h = cotp_heap_new();
  cotp_term t = COTP_TUPLE(h, COTP_ATOM_OK, cotp_int(h, 42));
  cr_assert(cotp_is_tuple(t));
  cr_assert_eq(cotp_tuple_size(t), 2);
  cotp_assert_term_eq(cotp_tuple_get(t, 0), COTP_ATOM_OK);
  cr_assert_eq(cotp_int_value(cotp_tuple_get(t, 1)), 42);
  cr_assert(cotp_is_none(cotp_tuple_get(t, 2)));
  cotp_term empty = cotp_tuple(h, 0, NULL);
  cr_assert_eq(cotp_tuple_size(empty), 0);
  cotp_assert_prints(empty, "{}");
  cotp_heap_free(h);
}

Test(build, lists_proper_and_improper) {
  cotp_heap *h = cotp_heap_new();
  cotp_term l = COTP_LIST(h, cotp_int(h, 1), cotp_int(h, 2), cotp_int(h, 3));
  size_t n;
  cotp_assert_rc(cotp_list_length(l, &n), 0);
  cr_assert_eq(n, 3);
  cr_assert_eq(cotp_int_value(cotp_head(cotp_tail(l))), 2);
  cr_assert(cotp_is_list(COTP_NIL));
  cr_assert(!cotp_is_cons(COTP_NIL));
  cotp_term improper = cotp_cons(h, cotp_int(h, 1), cotp_int(h, 2));
  cotp_assert_rc(cotp_list_length(improper, &n), COTP_EBADTYPE);
  cotp_assert_prints(improper, "[1 | 2]");
  cr_assert(cotp_is_none(cotp_head(COTP_NIL)));
  cotp_term chars = cotp_charlist(h, "h\xC3\xA9");
  cotp_assert_prints(chars, "[104, 233]");
  cotp_assert_prints(cotp_charlist(h, "abc"), "'abc'");
  cotp_heap_free(h);
}

Test(build, maps) {
  cotp_heap *h = cotp_heap_new();
  cotp_term keys[] = {cotp_atom("b"), cotp_atom("a"), cotp_int(h, 1)};
  cotp_term vals[] = {cotp_int(h, 2), cotp_int(h, 1), cotp_string(h, "one")};
  cotp_term m = cotp_map(h, 3, keys, vals);
  cr_assert(cotp_is_map(m));
  cr_assert_eq(cotp_map_size(m), 3);
  cotp_assert_term_eq(cotp_map_key(m, 0), cotp_int(h, 1)); /* numbers first */
  cr_assert_eq(cotp_int_value(cotp_map_get(m, cotp_atom("a"))), 1);
  cr_assert(cotp_is_none(cotp_map_get(m, cotp_atom("c"))));
  cotp_term m2 = cotp_map_put(h, m, cotp_atom("c"), cotp_int(h, 3));
  cr_assert_eq(cotp_map_size(m2), 4);
  cr_assert_eq(cotp_map_size(m), 3); /* terms are immutable */
  cotp_term m3 = cotp_map_put(h, m2, cotp_atom("a"), cotp_int(h, 10));
  cr_assert_eq(cotp_int_value(cotp_map_get(m3, cotp_atom("a"))), 10);
  cr_assert_eq(cotp_map_size(m3), 4);
  cotp_term m4 = cotp_map_remove(h, m3, cotp_atom("b"));
  cotp_assert_prints(m4, "%{1 => \"one\", :a => 10, :c => 3}");
  cotp_assert_term_eq(cotp_map_remove(h, m4, cotp_atom("zz")), m4);
  /* 1 and 1.0 are different keys */
  cotp_term nk[] = {cotp_int(h, 1), cotp_float(h, 1.0)};
  cotp_term nv[] = {COTP_ATOM_TRUE, COTP_ATOM_FALSE};
  cotp_term m5 = cotp_map(h, 2, nk, nv);
  cr_assert_eq(cotp_map_size(m5), 2);
  cotp_assert_prints(m5, "%{1 => true, 1.0 => false}");
  cotp_heap_free(h);
}

Test(build, map_with_many_keys_sorts_and_finds_all) {
  cotp_heap *h = cotp_heap_new();
  enum { N = 1000 };
  static cotp_term k[N], v[N];
  for (int i = 0; i < N; i++) {
    k[i] = cotp_int(h, (i * 7919) % N);
    v[i] = cotp_int(h, i);
  }
  cotp_term m = cotp_map(h, N, k, v);
  cr_assert_eq(cotp_map_size(m), N);
  for (int i = 0; i < N; i++) {
    cr_assert_eq(cotp_int_value(cotp_map_key(m, (size_t)i)), i);
    cr_assert_eq(cotp_int_value(cotp_map_get(m, k[i])), i);
  }
  cotp_heap_free(h);
}

Test(build, map_duplicate_key_is_an_error) {
  cotp_heap *h = cotp_heap_new();
  cotp_term k[] = {cotp_atom("a"), cotp_atom("b"), cotp_atom("a")};
  cotp_term v[] = {cotp_int(h, 1), cotp_int(h, 2), cotp_int(h, 3)};
  cr_assert(cotp_is_none(cotp_map(h, 3, k, v)));
  cotp_assert_rc(cotp_heap_error(h), COTP_EDUPKEY);
  cr_assert_str_eq(cotp_heap_error_message(h), "map has a duplicate key: :a");
  cotp_heap_free(h);
}

/* Every sequence of up to 6 keys from 4 (two atoms that share a first
 * letter, 1 and 1.0, which are different keys): a map is refused exactly
 * when a key repeats, and otherwise holds the keys in term order.  The
 * sort of a small map finds duplicates without a second pass (map.c). */
Test(build, small_maps_find_every_duplicate_in_any_order) {
  cotp_heap *h = cotp_heap_new();
  cotp_term pool[] = {cotp_atom("shutdown"), cotp_atom("start"),
                      cotp_int(h, 1), cotp_float(h, 1.0)};
  for (size_t n = 1; n <= 6; n++) {
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
      total *= 4;
    for (size_t code = 0; code < total; code++) {
      cotp_term k[6], v[6];
      unsigned seen = 0;
      bool repeats = false;
      for (size_t i = 0, c = code; i < n; i++, c /= 4) {
        repeats |= (seen >> (c % 4)) & 1;
        seen |= 1u << (c % 4);
        k[i] = pool[c % 4];
        v[i] = cotp_int(h, (int64_t)i);
      }
      cotp_term m = cotp_map(h, n, k, v);
      cr_assert_eq(cotp_is_none(m), repeats, "keys %zu, code %zu", n, code);
      if (repeats) {
        cotp_assert_rc(cotp_heap_error(h), COTP_EDUPKEY);
        cotp_heap_free(h); /* the first error stays: a fresh heap */
        h = cotp_heap_new();
        pool[2] = cotp_int(h, 1);
        pool[3] = cotp_float(h, 1.0);
        continue;
      }
      for (size_t i = 1; i < n; i++) { /* 1 then 1.0, which compare equal */
        cotp_term a = cotp_map_key(m, i - 1), b = cotp_map_key(m, i);
        int c = cotp_term_compare(a, b);
        cr_assert(c < 0 || (c == 0 && cotp_is_integer(a) && cotp_is_float(b)));
      }
      for (size_t i = 0; i < n; i++)
        cr_assert_eq(cotp_int_value(cotp_map_get(m, k[i])), (int64_t)i);
    }
  }
  cotp_heap_free(h);
}

/* An immediate key is looked for word by word in a map of up to 32 keys,
 * and by binary search in a larger one (map.c): both find every key, miss
 * one that is not a key, and put replaces the value of the key found.
 * Integers, [] and a float equal to an integer key share the maps. */
Test(build, atom_keys_are_found_in_maps_of_every_size) {
  cotp_heap *h = cotp_heap_new();
  cotp_term k[40], v[40];
  for (int i = 0; i < 40; i++) {
    char name[16];
    snprintf(name, sizeof name, "key_%02d", 39 - i); /* not in term order */
    k[i] = cotp_atom(name);
    v[i] = cotp_int(h, i);
  }
  cotp_term absent = cotp_atom("key_99"), first = cotp_atom("a_first");
  for (size_t n = 1; n <= 40; n++) {
    cotp_term m = cotp_map(h, n, k, v);
    cr_assert(!cotp_is_none(m), "%zu keys", n);
    for (size_t i = 0; i < n; i++)
      cr_assert_eq(cotp_int_value(cotp_map_get(m, k[i])), (int64_t)i,
                   "key %zu of %zu", i, n);
    cr_assert(cotp_is_none(cotp_map_get(m, absent)), "%zu keys", n);
    cr_assert(cotp_is_none(cotp_map_get(m, first)), "%zu keys", n);
    cotp_term m2 = cotp_map_put(h, m, k[n / 2], cotp_int(h, -1));
    cr_assert_eq(cotp_map_size(m2), n);
    cr_assert_eq(cotp_int_value(cotp_map_get(m2, k[n / 2])), -1);
    cotp_term m3 = cotp_map_put(h, m, absent, cotp_int(h, -2));
    cr_assert_eq(cotp_map_size(m3), n + 1);
    cr_assert_eq(cotp_int_value(cotp_map_get(m3, absent)), -2);
    cotp_term m4 = cotp_map_remove(h, m, k[0]);
    cr_assert_eq(cotp_map_size(m4), n - 1);
    cr_assert(cotp_is_none(cotp_map_get(m4, k[0])));
    /* numbers sort before every atom and [] after: they move them all */
    cotp_term m5 = cotp_map_put(h, m, cotp_int(h, 7), cotp_int(h, -3));
    m5 = cotp_map_put(h, m5, cotp_float(h, 7.0), cotp_int(h, -4));
    m5 = cotp_map_put(h, m5, COTP_NIL, cotp_int(h, -5));
    for (size_t i = 0; i < n; i++)
      cr_assert_eq(cotp_int_value(cotp_map_get(m5, k[i])), (int64_t)i);
    cr_assert_eq(cotp_int_value(cotp_map_get(m5, cotp_int(h, 7))), -3);
    cr_assert_eq(cotp_int_value(cotp_map_get(m5, cotp_float(h, 7.0))), -4);
    cr_assert_eq(cotp_int_value(cotp_map_get(m5, COTP_NIL)), -5);
    cr_assert(cotp_is_none(cotp_map_get(m5, cotp_int(h, 8))));
  }
  cr_assert_eq(cotp_heap_error(h), 0);
  cotp_heap_free(h);
}

Test(build, pids_and_refs) {
  cotp_pid p = cotp_pid_make(0, 12, 3);
  cotp_term t = cotp_pid_term(p);
  cr_assert(cotp_is_pid(t));
  cr_assert(cotp_pid_eq(cotp_get_pid(t), p));
  cr_assert_eq(cotp_pid_number(p), 12);
  cr_assert_eq(cotp_pid_serial(p), 3);
  cotp_assert_prints(t, "#PID<0.12.3>");
  cotp_term r1 = cotp_make_ref(), r2 = cotp_make_ref();
  cr_assert(cotp_is_ref(r1));
  cr_assert(!cotp_term_eq(r1, r2));
  cr_assert(cotp_term_eq(r1, r1));
}

Test(build, none_propagates_to_the_top) {
  cotp_heap *h = cotp_heap_new();
  cotp_term bad = cotp_float(h, NAN);
  cotp_term t = COTP_TUPLE(h, COTP_ATOM_OK, COTP_LIST(h, cotp_int(h, 1), bad));
  cr_assert(cotp_is_none(t));
  cotp_assert_rc(cotp_heap_error(h), COTP_ERANGE);
  cr_assert(strstr(cotp_heap_error_message(h), "not finite"));
  cotp_heap_free(h);
}

Test(build, type_of_each_kind) {
  cotp_heap *h = cotp_heap_new();
  cr_assert_eq(cotp_term_type(COTP_NONE), COTP_TNONE);
  cr_assert_eq(cotp_term_type(COTP_NIL), COTP_TNIL);
  cr_assert_eq(cotp_term_type(cotp_float(h, 1)), COTP_TFLOAT);
  cr_assert_eq(cotp_term_type(COTP_ATOM_OK), COTP_TATOM);
  cr_assert_eq(cotp_term_type(cotp_make_ref()), COTP_TREF);
  cr_assert_eq(cotp_term_type(cotp_pid_term(cotp_pid_make(0, 1, 0))), COTP_TPID);
  cr_assert_eq(cotp_term_type(cotp_tuple(h, 0, NULL)), COTP_TTUPLE);
  cr_assert_eq(cotp_term_type(cotp_map(h, 0, NULL, NULL)), COTP_TMAP);
  cr_assert_eq(cotp_term_type(COTP_LIST(h, COTP_NIL)), COTP_TLIST);
  cr_assert_eq(cotp_term_type(cotp_string(h, "")), COTP_TBINARY);
  cr_assert(cotp_is_boolean(cotp_bool(true)));
  cr_assert(!cotp_is_boolean(COTP_ATOM_OK));
  cotp_heap_free(h);
}
