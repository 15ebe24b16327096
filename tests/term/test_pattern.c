/* SPDX-License-Identifier: Apache-2.0 */
/* Patterns: wildcards, captures, pins, maps, guards, the cache. */
#include <pthread.h>
#include <string.h>

#include "harness.h"

static cotp_heap *h;
static void setup(void) { h = cotp_heap_new(); }
static void teardown(void) { cotp_heap_free(h); }
TestSuite(pattern, .init = setup, .fini = teardown);

static cotp_pattern *compile(const char *src) {
  cotp_pattern *p = NULL;
  cotp_error err;
  int rc = cotp_pattern_compile(src, &p, &err);
  cr_assert_eq(rc, 0, "%s: %s", src, err.message);
  return p;
}

static bool matches(const char *pat, const char *term) {
  cotp_pattern *p = compile(pat);
  cotp_term t = cotp_parse(h, term);
  cr_assert(!cotp_is_none(t), "%s: %s", term, cotp_heap_error_message(h));
  bool m = cotp_match(p, t, NULL, NULL);
  cotp_pattern_free(p);
  return m;
}

Test(pattern, literals_and_wildcards) {
  cr_assert(matches("{:ok, _}", "{:ok, 42}"));
  cr_assert(!matches("{:ok, _}", "{:error, 42}"));
  cr_assert(!matches("{:ok, _}", "{:ok, 1, 2}"));
  cr_assert(matches("_", "[1, 2]"));
  cr_assert(matches("[_ | _]", "[1]"));
  cr_assert(!matches("[_ | _]", "[]"));
  cr_assert(matches("[1, _ignored, 3]", "[1, 2, 3]"));
  cr_assert(!matches("1", "1.0")); /* exact, as Erlang's matching */
  cr_assert(matches("%{}", "%{a: 1}"));
  cr_assert(!matches("%{}", "[]"));
  cr_assert(matches("\"text\"", "\"text\""));
  cr_assert(matches("{}", "{}"));
}

Test(pattern, captures_in_order_of_appearance) {
  cotp_pattern *p = compile("{:DOWN, ref, :process, pid, reason}");
  cr_assert_eq(cotp_pattern_captures(p), 3);
  cr_assert_eq(cotp_pattern_capture_index(p, "ref"), 0);
  cr_assert_eq(cotp_pattern_capture_index(p, "reason"), 2);
  cotp_assert_rc(cotp_pattern_capture_index(p, "nope"), COTP_ENOTFOUND);
  cotp_term ref = cotp_make_ref();
  cotp_term down = cotp_format(h, "{:DOWN, ~t, :process, ~p, {:shutdown, :x}}", ref,
                               cotp_pid_make(0, 7, 0));
  cotp_term caps[3];
  cr_assert(cotp_match(p, down, NULL, caps));
  cotp_assert_term_eq(caps[0], ref);
  cotp_assert_prints(caps[1], "#PID<0.7.0>");
  cotp_assert_prints(caps[2], "{:shutdown, :x}");
  cotp_pattern_free(p);
}

Test(pattern, repeated_name_must_match_equal_parts) {
  cr_assert(matches("{x, x}", "{[1], [1]}"));
  cr_assert(!matches("{x, x}", "{1, 2}"));
  cr_assert(!matches("{x, x}", "{1, 1.0}"));
}

Test(pattern, pins_take_values_at_match_time) {
  cotp_pattern *p = compile("{:reply, ^tag, value}");
  cr_assert_eq(cotp_pattern_pins(p), 1);
  cr_assert_eq(cotp_pattern_pin_index(p, "tag"), 0);
  cotp_term r1 = cotp_make_ref(), r2 = cotp_make_ref();
  cotp_term msg = cotp_format(h, "{:reply, ~t, 42}", r1);
  cotp_term cap;
  cr_assert(cotp_match(p, msg, &r1, &cap));
  cr_assert_eq(cotp_int_value(cap), 42);
  cr_assert(!cotp_match(p, msg, &r2, &cap));
  cr_assert(!cotp_match(p, msg, NULL, &cap)); /* pins are required */
  cotp_pattern_free(p);
}

Test(pattern, captures_written_only_on_success) {
  cotp_pattern *p = compile("{a, :x}");
  cotp_term cap = COTP_ATOM_OK;
  cr_assert(!cotp_match(p, cotp_parse(h, "{1, :y}"), NULL, &cap));
  cotp_assert_term_eq(cap, COTP_ATOM_OK);
  cotp_pattern_free(p);
}

Test(pattern, lists_keywords_and_tails) {
  cotp_pattern *p = compile("[first, second | rest]");
  cotp_term caps[3];
  cr_assert(cotp_match(p, cotp_parse(h, "[1, 2, 3, 4]"), NULL, caps));
  cotp_assert_prints(caps[2], "[3, 4]");
  cr_assert(!cotp_match(p, cotp_parse(h, "[1]"), NULL, caps));
  cotp_pattern_free(p);
  cr_assert(matches("[a: _, b: 2]", "[a: 1, b: 2]"));
  cr_assert(!matches("[a: _]", "[a: 1, b: 2]"));
}

Test(pattern, maps_match_subsets_by_key) {
  cr_assert(matches("%{name: _}", "%{name: \"x\", age: 3}"));
  cr_assert(!matches("%{name: _}", "%{age: 3}"));
  cr_assert(matches("%{\"k\" => [_ | _]}", "%{\"k\" => [1], \"j\" => 2}"));
  cotp_pattern *p = compile("%{^key => v}");
  cotp_term key = cotp_atom("dyn");
  cotp_term cap;
  cr_assert(cotp_match(p, cotp_parse(h, "%{dyn: 5}"), &key, &cap));
  cr_assert_eq(cotp_int_value(cap), 5);
  cotp_pattern_free(p);
}

Test(pattern, guards) {
  cr_assert(matches("{:message, m} when m in [:start, :stop]", "{:message, :stop}"));
  cr_assert(!matches("{:message, m} when m in [:start, :stop]", "{:message, :go}"));
  cr_assert(matches("{:message, m} when m not in [:start]", "{:message, :go}"));
  cr_assert(matches("%{age: a} when is_integer(a) and a >= 18", "%{age: 30}"));
  cr_assert(!matches("%{age: a} when is_integer(a) and a >= 18", "%{age: 3}"));
  cr_assert(!matches("%{age: a} when is_integer(a) and a >= 18", "%{age: \"x\"}"));
  cr_assert(matches("x when is_binary(x) or is_atom(x)", ":a"));
  cr_assert(matches("x when tuple_size(x) == 2", "{1, 2}"));
  cr_assert(!matches("x when tuple_size(x) == 2", "[1, 2]")); /* error: false */
  cr_assert(matches("x when not is_nil(x)", "1"));
  cr_assert(matches("x when length(x) > 1 and hd(x) == 1", "[1, 2]"));
  cr_assert(matches("t when elem(t, 1) === :b", "{:a, :b}"));
  cr_assert(matches("x when x == 1", "1.0"));
  cr_assert(!matches("x when x === 1", "1.0"));
  cr_assert(matches("x when (x > 1 and x < 3) or x == 10", "10"));
  cr_assert(matches("m when is_map_key(m, :a) and map_size(m) == 1", "%{a: 1}"));
  cr_assert(matches("b when byte_size(b) == 3", "\"abc\""));
  cr_assert(matches("x when abs(x) == 3", "-3"));
  cr_assert(matches("x when is_list(tl(x))", "[1, 2]"));
  /* short circuit: the right side would fail, but is not evaluated */
  cr_assert(matches("x when is_list(x) or tuple_size(x) == 0", "[]"));
}

Test(pattern, guard_with_pin) {
  cotp_pattern *p = compile("{:n, n} when n > ^limit");
  cotp_term limit = cotp_int(h, 10), n;
  cr_assert(cotp_match(p, cotp_parse(h, "{:n, 11}"), &limit, &n));
  cr_assert(!cotp_match(p, cotp_parse(h, "{:n, 10}"), &limit, &n));
  cotp_pattern_free(p);
}

static void expect_error(const char *src, int code, const char *words) {
  cotp_pattern *p = NULL;
  cotp_error err;
  cotp_assert_rc(cotp_pattern_compile(src, &p, &err), code);
  cr_assert_null(p);
  cr_assert(strstr(err.message, words), "%s: message was: %s", src, err.message);
}

Test(pattern, malformed_patterns_are_clear_errors) {
  expect_error("{:ok, ", COTP_ESYNTAX, "expected a term");
  expect_error("{x, ^x}", COTP_ESYNTAX, "both pinned and captured");
  expect_error("{:ok, ~i}", COTP_ESYNTAX, "not allowed in patterns");
  expect_error("%{k => 1}", COTP_ESYNTAX, "map keys in a pattern");
  expect_error("x when y > 1", COTP_ESYNTAX, "not a variable of the pattern");
  expect_error("x when frob(x)", COTP_ESYNTAX, "unknown function");
  expect_error("x when (x > 1", COTP_ESYNTAX, "expected ')'");
  expect_error("x when", COTP_ESYNTAX, "expected a term");
  expect_error("{a} junk", COTP_ESYNTAX, "after the pattern");
  expect_error("^_", COTP_ESYNTAX, "cannot pin");
  cotp_pattern *p;
  cotp_assert_rc(cotp_pattern_compile(NULL, &p, NULL), COTP_EINVAL);
}

Test(pattern, too_many_variables) {
  char src[2000] = "{";
  for (int i = 0; i < 70; i++)
    sprintf(src + strlen(src), "%sv%d", i ? ", " : "", i);
  strcat(src, "}");
  expect_error(src, COTP_ESYSLIMIT, "more than 64 variables");
}

Test(pattern, cached_patterns_are_compiled_once) {
  const cotp_pattern *a = cotp_pattern_cached("{:cached, x}", NULL);
  const cotp_pattern *b = cotp_pattern_cached("{:cached, x}", NULL);
  cr_assert_not_null(a);
  cr_assert_eq(a, b);
  cr_assert_str_eq(cotp_pattern_source(a), "{:cached, x}");
  cotp_error err;
  cr_assert_null(cotp_pattern_cached("{:bad", &err));
  cotp_assert_rc(err.code, COTP_ESYNTAX);
}

static void *cache_many(void *arg) {
  const cotp_pattern **out = arg;
  char src[64];
  for (int i = 0; i < 500; i++) {
    snprintf(src, sizeof src, "{:k%d, x}", i);
    out[i] = cotp_pattern_cached(src, NULL);
  }
  return NULL;
}

Test(pattern, cache_is_shared_between_threads) {
  static const cotp_pattern *got[4][500];
  pthread_t th[4];
  for (int i = 0; i < 4; i++)
    pthread_create(&th[i], NULL, cache_many, got[i]);
  for (int i = 0; i < 4; i++)
    pthread_join(th[i], NULL);
  for (int k = 0; k < 500; k++)
    for (int i = 1; i < 4; i++)
      cr_assert_eq(got[i][k], got[0][k]);
}

Test(pattern, deep_and_long_terms) {
  cotp_pattern *p = compile("[1 | rest]");
  cotp_term l = COTP_NIL;
  for (int i = 0; i < 100000; i++)
    l = cotp_cons(h, cotp_int(h, 1), l);
  cotp_term rest;
  cr_assert(cotp_match(p, l, NULL, &rest));
  cotp_pattern_free(p);
  p = compile("[1, 1, 1, 1, 1 | _]");
  cr_assert(cotp_match(p, l, NULL, NULL));
  cotp_pattern_free(p);
}
