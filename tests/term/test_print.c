/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Printing in Elixir's inspect syntax.  Every expected string here is what
 * `inspect/1` of Elixir 1.14 on OTP 25 prints for the same term (see
 * tools/inspect_check.exs, which prints the Elixir side).
 */
#include <float.h>
#include <string.h>

#include "harness.h"

static cotp_heap *h;
static void setup(void) { h = cotp_heap_new(); }
static void teardown(void) { cotp_heap_free(h); }
TestSuite(print, .init = setup, .fini = teardown);

static cotp_term f(double d) { return cotp_float(h, d); }

Test(print, integers_and_floats) {
  cotp_assert_prints(cotp_int(h, 42), "42");
  cotp_assert_prints(cotp_int(h, -7), "-7");
  cotp_assert_prints(f(1.0), "1.0");
  cotp_assert_prints(f(-0.0), "-0.0");
  cotp_assert_prints(f(0.1), "0.1");
  cotp_assert_prints(f(100.0), "100.0");
  cotp_assert_prints(f(1.0e15), "1000000000000000.0");
  cotp_assert_prints(f(1.0e16), "1.0e16");
  cotp_assert_prints(f(1.0e20), "1.0e20");
  cotp_assert_prints(f(1.5e300), "1.5e300");
  cotp_assert_prints(f(1.0e-5), "1.0e-5");
  cotp_assert_prints(f(0.0001), "0.0001");
  cotp_assert_prints(f(1.2345e-4), "1.2345e-4");
  cotp_assert_prints(f(0.001), "0.001");
  cotp_assert_prints(f(123456789.0), "123456789.0");
  cotp_assert_prints(f(12345678901234567.0), "1.2345678901234568e16");
  cotp_assert_prints(f(1.0e15 + 0.5), "1000000000000000.5");
  cotp_assert_prints(f(123.456), "123.456");
  cotp_assert_prints(f(5.0e-324), "5.0e-324");
  cotp_assert_prints(f(DBL_MAX), "1.7976931348623157e308");
  cotp_assert_prints(f(0.1 + 0.2), "0.30000000000000004");
  cotp_assert_prints(f(1.2e15), "1200000000000000.0");
  cotp_assert_prints(f(1.23e16), "1.23e16");
}

Test(print, atoms) {
  const char *cases[][2] = {
      {"ok", ":ok"},           {"EXIT", ":EXIT"},
      {"Elixir.Foo", "Foo"},   {"Elixir.Foo.Bar", "Foo.Bar"},
      {"Foo", ":Foo"},         {"hello world", ":\"hello world\""},
      {"+", ":+"},             {"foo?", ":foo?"},
      {"foo-bar", ":\"foo-bar\""}, {"1a", ":\"1a\""},
      {"_x", ":_x"},           {"nil", "nil"},
      {"true", "true"},        {"false", "false"},
      {"Elixir", "Elixir"},    {"Elixir.foo", ":\"Elixir.foo\""},
      {"@", ":@"},             {"a@b", ":a@b"},
      {"\xC3\xA9", ":\xC3\xA9"}, {"", ":\"\""},
      {"::", ":\"::\""},       {"\\\\", ":\\\\"},
      {"%{}", ":%{}"},         {"<<>>", ":<<>>"},
      {"a\"b", ":\"a\\\"b\""}, {"a\nb", ":\"a\\nb\""},
      {"Elixir.Foo.Bar-1", ":\"Elixir.Foo.Bar-1\""},
      {"Elixir.F_b@", ":\"Elixir.F_b@\""},
      {"a!b", ":\"a!b\""},     {"@a", ":\"@a\""},
      {"_", ":_"},             {"?", ":\"?\""},
      {"A@b", ":A@b"},         {"^^^", ":\"^^^\""},
      {"Elixir.Elixir", "Elixir.Elixir"}, {"Elixir.Elixir.Foo", "Elixir.Elixir.Foo"},
      {"Elixir.Foo.Elixir", "Foo.Elixir"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    cotp_assert_prints(cotp_atom(cases[i][0]), cases[i][1]);
}

Test(print, binaries) {
  cotp_assert_prints(cotp_string(h, "h\xC3\xA9\n\"x"), "\"h\xC3\xA9\\n\\\"x\"");
  cotp_assert_prints(cotp_binary(h, "\x01\x02\x03", 3), "<<1, 2, 3>>");
  cotp_assert_prints(cotp_binary(h, "\xFF", 1), "<<255>>");
  cotp_assert_prints(cotp_binary(h, "\0", 1), "<<0>>");
  cotp_assert_prints(cotp_string(h, "\a\b\t\n\v\f\r\x1b\x7f"),
                     "\"\\a\\b\\t\\n\\v\\f\\r\\e\\d\"");
  cotp_assert_prints(cotp_string(h, "a#{b}"), "\"a\\#{b}\"");
  cotp_assert_prints(cotp_string(h, "\\"), "\"\\\\\"");
  cotp_assert_prints(cotp_string(h, "\xC2\x80"), "<<194, 128>>");
  cotp_assert_prints(cotp_string(h, "\xEF\xBB\xBF"), "\"\\uFEFF\"");
  cotp_assert_prints(cotp_string(h, "\xC2\xA0"), "\"\xC2\xA0\"");
}

Test(print, lists_and_charlists) {
  cotp_assert_prints(cotp_parse(h, "[104, 105]"), "'hi'");
  cotp_assert_prints(cotp_parse(h, "[7, 97]"), "'\\aa'");
  cotp_assert_prints(cotp_parse(h, "[127, 97]"), "[127, 97]");
  cotp_assert_prints(cotp_parse(h, "[233]"), "[233]");
  cotp_assert_prints(cotp_parse(h, "[39, 98]"), "'\\'b'");
  cotp_assert_prints(COTP_NIL, "[]");
  cotp_assert_prints(cotp_parse(h, "[1, 2 | 3]"), "[1, 2 | 3]");
  cotp_assert_prints(cotp_parse(h, "[{1, 2} | 3]"), "[{1, 2} | 3]");
  cotp_assert_prints(cotp_parse(h, "[a: 1, b: 2]"), "[a: 1, b: 2]");
  cotp_assert_prints(cotp_parse(h, "[{:a, 1}, {\"b\", 2}]"),
                     "[{:a, 1}, {\"b\", 2}]");
  cotp_assert_prints(cotp_parse(h, "[{:\"a b\", 1}]"), "[\"a b\": 1]");
  cotp_assert_prints(cotp_parse(h, "[{nil, 1}]"), "[nil: 1]");
  cotp_assert_prints(cotp_parse(h, "[{Foo, 1}]"), "[{Foo, 1}]");
  cotp_assert_prints(cotp_parse(h, "[{:\"1\", 1}]"), "[\"1\": 1]");
  cotp_assert_prints(cotp_parse(h, "[{:+, 1}]"), "[+: 1]");
}

Test(print, tuples_maps_pids_refs) {
  cotp_assert_prints(cotp_parse(h, "{:ok, 1}"), "{:ok, 1}");
  cotp_assert_prints(cotp_parse(h, "{}"), "{}");
  cotp_assert_prints(cotp_parse(h, "%{}"), "%{}");
  cotp_assert_prints(cotp_parse(h, "%{a: 1, b: 2}"), "%{a: 1, b: 2}");
  cotp_assert_prints(cotp_parse(h, "%{1 => 2, a: 3}"), "%{1 => 2, :a => 3}");
  cotp_assert_prints(cotp_parse(h, "%{\"a\" => 1}"), "%{\"a\" => 1}");
  cotp_assert_prints(cotp_parse(h, "%{:\"a b\" => 1}"), "%{\"a b\": 1}");
  cotp_assert_prints(cotp_parse(h, "%{{1} => 1, {1.0} => 2}"),
                     "%{{1} => 1, {1.0} => 2}");
  cotp_assert_prints(cotp_pid_term(cotp_pid_make(0, 96, 0)), "#PID<0.96.0>");
  char buf[64];
  cotp_term_print(buf, sizeof buf, cotp_make_ref());
  cr_assert(strncmp(buf, "#Reference<0.0.", 15) == 0, "%s", buf);
}

Test(print, truncates_like_snprintf) {
  char buf[8];
  cotp_term t = cotp_parse(h, "{:hello, :world}");
  size_t n = cotp_term_print(buf, sizeof buf, t);
  cr_assert_eq(n, strlen("{:hello, :world}"));
  cr_assert_str_eq(buf, "{:hello");
  cr_assert_eq(cotp_term_print(NULL, 0, t), n);
}

Test(print, deep_nesting_is_cut_not_a_crash) {
  cotp_term t = COTP_NIL;
  for (int i = 0; i < 5000; i++)
    t = COTP_TUPLE(h, t);
  char *s = cotp_term_to_string(t);
  cr_assert(s != NULL);
  cr_assert(strstr(s, "...") != NULL);
  free(s);
}

Test(print, long_lists_print_whole) {
  enum { N = 100000 };
  cotp_term l = COTP_NIL;
  for (int i = 0; i < N; i++)
    l = cotp_cons(h, cotp_int(h, 1000), l);
  size_t n = cotp_term_print(NULL, 0, l);
  cr_assert_eq(n, 2 + (size_t)N * 4 + (size_t)(N - 1) * 2);
}
