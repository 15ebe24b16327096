/* SPDX-License-Identifier: Apache-2.0 */
/* Building terms from text: cotp_format and cotp_parse. */
#include <string.h>

#include "harness.h"

static cotp_heap *h;
static void setup(void) { h = cotp_heap_new(); }
static void teardown(void) { cotp_heap_free(h); }
TestSuite(format, .init = setup, .fini = teardown);

Test(format, placeholders_of_every_kind) {
  cotp_pid pid = cotp_pid_make(0, 5, 1);
  cotp_term inner = cotp_parse(h, "[1, 2]");
  cotp_term t = cotp_format(h, "{~i, ~l, ~L, ~u, ~f, ~a, ~s, ~b, ~c, ~p, ~t}",
                            -3, 40000000000L, 5LL, 7UL, 2.5, "name", "text",
                            "\x01\x02", (size_t)2, "hi", pid, inner);
  cr_assert(!cotp_is_none(t), "%s", cotp_heap_error_message(h));
  cotp_assert_prints(t, "{-3, 40000000000, 5, 7, 2.5, :name, \"text\", <<1, 2>>, "
                        "'hi', #PID<0.5.1>, [1, 2]}");
}

Test(format, resource_placeholder_holds_a_reference) {
  cotp_resource *r = cotp_resource_new(NULL, NULL);
  cotp_term t = cotp_format(h, "{:file, ~r}", r);
  cr_assert_eq(cotp_get_resource(cotp_tuple_get(t, 1)), r);
  cotp_resource_release(r);
}

Test(format, printed_terms_read_back_equal) {
  const char *texts[] = {
      "{:ok, 1}", "[1, 2 | 3]", "%{a: 1, b: [2, 3]}", "%{1 => 2, :a => 3}",
      "\"h\xC3\xA9\\n\\\"x\"", "<<1, 2, 3>>", "'abc'", "[a: 1, b: 2]",
      "Foo.Bar", ":\"two words\"", "1.0e16", "-0.0", "0.30000000000000004",
      "{}", "[]", "%{}", "nil", "true", ":\"Elixir.foo\"", "-9223372036854775808",
      "[\"a b\": 1]", ":\\\\", ":<<>>", "\"\\uFEFF\"", "'\\aa'", "\"a\\#{b}\"",
      "%{\"a b\": 1}", "[+: 1]", "%{{1} => 1, {1.0} => 2}", ":\"\"", "Elixir",
      "Elixir.Elixir", "Elixir.Elixir.Foo"};
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
    cotp_term t = cotp_parse(h, texts[i]);
    cr_assert(!cotp_is_none(t), "%s: %s", texts[i], cotp_heap_error_message(h));
    cotp_assert_prints(t, texts[i]);
  }
}

Test(format, literal_forms) {
  cotp_assert_prints(cotp_parse(h, "1_000_000"), "1000000");
  cotp_assert_prints(cotp_parse(h, "0xff"), "255");
  cotp_assert_prints(cotp_parse(h, "0b101"), "5");
  cotp_assert_prints(cotp_parse(h, "0o17"), "15");
  cotp_assert_prints(cotp_parse(h, "?a"), "97");
  cotp_assert_prints(cotp_parse(h, "?\\n"), "10");
  cotp_assert_prints(cotp_parse(h, "2.0e-3"), "0.002");
  cotp_assert_prints(cotp_parse(h, "\"\\x41\\u{1F600}\\u00e9\""),
                     "\"A\xF0\x9F\x98\x80\xC3\xA9\"");
  cotp_assert_prints(cotp_parse(h, "<<\"ab\", 99>>"), "\"abc\"");
  cotp_assert_prints(cotp_parse(h, " { :a ,\n\t1 } "), "{:a, 1}");
  cotp_assert_prints(cotp_parse(h, "[1, a: 2]"), "[1, {:a, 2}]");
  cotp_assert_prints(cotp_parse(h, ":EXIT"), ":EXIT");
  cotp_assert_prints(cotp_parse(h, "9223372036854775807"), "9223372036854775807");
}

static void expect_error(const char *text, int code, const char *words) {
  cotp_heap_clear_error(h);
  cotp_term t = cotp_parse(h, text);
  cr_assert(cotp_is_none(t), "%s parsed", text);
  cotp_assert_rc(cotp_heap_error(h), code);
  cr_assert(strstr(cotp_heap_error_message(h), words), "%s: message was: %s",
            text, cotp_heap_error_message(h));
}

Test(format, malformed_text_is_a_clear_error) {
  expect_error("{1, 2", COTP_ESYNTAX, "expected ',' or '}' in a tuple");
  expect_error("[1, 2", COTP_ESYNTAX, "in a list");
  expect_error("{1 2}", COTP_ESYNTAX, "at offset 3");
  expect_error("%{:a => }", COTP_ESYNTAX, "expected a term");
  expect_error("foo", COTP_ESYNTAX, "atoms are written :name");
  expect_error("\"open", COTP_ESYNTAX, "unterminated string");
  expect_error("{:a} extra", COTP_ESYNTAX, "after the term");
  expect_error("", COTP_ESYNTAX, "unexpected end");
  expect_error("<<256>>", COTP_ERANGE, "not a byte");
  expect_error("~i", COTP_ESYNTAX, "placeholders");
  expect_error("^x", COTP_ESYNTAX, "only allowed in patterns");
  expect_error("\"\\u{D800}\"", COTP_EUTF8, "not a code point");
  expect_error("1.0e999", COTP_ERANGE, "out of range");
  expect_error("1.0e5e3", COTP_ESYNTAX, "malformed number");
}

Test(format, integer_that_does_not_fit) {
  expect_error("9223372036854775808", COTP_ERANGE, "does not fit in 64 signed bits");
  expect_error("-9223372036854775809", COTP_ERANGE, "does not fit");
  expect_error("0x1_0000_0000_0000_0000", COTP_ERANGE, "does not fit");
}

Test(format, atom_over_the_length_limit) {
  char text[400] = ":";
  memset(text + 1, 'a', 256);
  expect_error(text, COTP_EATOMLEN, "bad atom");
}

Test(format, map_with_duplicate_keys) {
  expect_error("%{a: 1, a: 2}", COTP_EDUPKEY, "duplicate key: :a");
  expect_error("%{1 => 1, 1 => 2}", COTP_EDUPKEY, "duplicate key: 1");
}

Test(format, nesting_limit) {
  char text[1000];
  memset(text, '[', 500);
  text[500] = '\0';
  expect_error(text, COTP_ESYSLIMIT, "nesting deeper than 200");
}

Test(format, placeholder_errors) {
  cotp_heap_clear_error(h);
  cr_assert(cotp_is_none(cotp_format(h, "{~q}", 1)));
  cotp_assert_rc(cotp_heap_error(h), COTP_ESYNTAX);
  cr_assert(strstr(cotp_heap_error_message(h), "unknown placeholder ~q"));
  cotp_heap_clear_error(h);
  cr_assert(cotp_is_none(cotp_format(h, "{~a}", (const char *)NULL)));
  cotp_assert_rc(cotp_heap_error(h), COTP_EINVAL);
  cotp_heap_clear_error(h);
  cr_assert(cotp_is_none(cotp_format(h, "{~t}", COTP_NONE)));
  cotp_assert_rc(cotp_heap_error(h), COTP_EINVAL);
  cotp_heap_clear_error(h);
  cr_assert(cotp_is_none(cotp_format(h, NULL)));
  cotp_assert_rc(cotp_heap_error(h), COTP_EINVAL);
}
