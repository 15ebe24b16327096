/* SPDX-License-Identifier: Apache-2.0 */
/* Match specs: heads, guards, bodies and rejected specs, checked against
 * what :ets.test_ms/2 answers in Erlang/OTP 25. */
#include "harness.h"

/* Runs spec (text) on obj (text): the result's printed form, "nomatch",
 * or "error:<code name>" for a spec that does not compile. */
static const char *run(const char *spec, const char *obj) {
  static char buf[256];
  cotp_heap *h = cotp_heap_new();
  cotp_match_spec *ms;
  cotp_error err;
  int rc = cotp_match_spec_compile(cotp_parse(h, spec), &ms, &err);
  if (rc) {
    snprintf(buf, sizeof buf, "error:%s", cotp_err_name(rc));
    cotp_heap_free(h);
    return buf;
  }
  cotp_term result;
  rc = cotp_match_spec_run(ms, cotp_parse(h, obj), COTP_NONE, h, &result);
  if (rc == 1)
    cotp_term_print(buf, sizeof buf, result);
  else
    snprintf(buf, sizeof buf, rc == 0 ? "nomatch" : "run:%d", rc);
  cotp_match_spec_free(ms);
  cotp_heap_free(h);
  return buf;
}

#define check(spec, obj, want) cr_assert_str_eq(run(spec, obj), want, "%s on %s", spec, obj)

Test(match_spec, heads_bind_and_compare_variables) {
  check("[{{:\"$1\", :\"$1\"}, [], [:\"$1\"]}]", "{2, 2}", "2");
  check("[{{:\"$1\", :\"$1\"}, [], [:\"$1\"]}]", "{2, 1}", "nomatch");
  check("[{{:\"$1\", :\"$1\"}, [], [:\"$1\"]}]", "{1, 1.0}", "nomatch");
  check("[{{2, :_}, [], [:\"$_\"]}]", "{2, :x}", "{2, :x}");
  check("[{[:\"$1\" | :\"$2\"], [], [:\"$2\"]}]", "[1, 2]", "[2]");
  check("[{%{a: :\"$1\"}, [], [:\"$1\"]}]", "%{a: 1, b: 2}", "1");
  check("[{%{c: :\"$1\"}, [], [:\"$1\"]}]", "%{a: 1, b: 2}", "nomatch");
  check("[{:\"$1\", [], [:\"$$\"]}, {:_, [], [:second]}]", "5", "[5]");
  check("[{{1}, [], [:first]}, {:_, [], [:second]}]", "5", ":second");
}

Test(match_spec, guards_compare_test_types_and_compute) {
  check("[{{:\"$1\", :\"$2\"}, [{:>, :\"$1\", :\"$2\"}], [true]}]", "{2, 1}", "true");
  check("[{{:\"$1\", :\"$2\"}, [{:>, :\"$1\", :\"$2\"}], [true]}]", "{1, 2}", "nomatch");
  check("[{{:\"$1\", :\"$2\"}, [{:\"=<\", {:+, :\"$1\", 0.5}, :\"$2\"}], "
        "[{{:\"$2\", :\"$1\", :\"$$\"}}]}]",
        "{1, 2}", "{2, 1, [1, 2]}");
  check("[{:\"$1\", [{:is_binary, :\"$1\"}], [:\"$1\"]}]", "\"one\"", "\"one\"");
  check("[{:\"$1\", [{:is_binary, :\"$1\"}], [:\"$1\"]}]", "1", "nomatch");
  check("[{{:\"$1\"}, [{:andalso, true, {:>, :\"$1\", 0}, {:is_integer, :\"$1\"}}], "
        "[%{x: :\"$1\"}]}]",
        "{1}", "%{x: 1}");
  check("[{{:\"$1\"}, [{:orelse, {:is_atom, :\"$1\"}, {:==, :\"$1\", 1.0}}], [:ok]}]", "{1}",
        ":ok");
  check("[{{:\"$1\"}, [{:\"=:=\", :\"$1\", 1.0}], [:ok]}]", "{1}", "nomatch");
  check("[{{:\"$1\"}, [{:not, {:is_list, :\"$1\"}}], [{:element, 1, :\"$_\"}]}]", "{7}", "7");
  check("[{{:\"$1\"}, [{:==, {:rem, :\"$1\", 3}, 1}], [{:div, :\"$1\", 3}]}]", "{7}", "2");
  check("[{:\"$1\", [{:\"=:=\", {:tuple_size, :\"$1\"}, 2}], [{:hd, {:tl, [1, 2]}}]}]",
        "{1, 2}", "2");
  check("[{:\"$1\", [{:is_map_key, :a, :\"$1\"}], [{:map_get, :a, :\"$1\"}]}]", "%{a: 3}", "3");
  check("[{:\"$1\", [{:>, {:byte_size, :\"$1\"}, 2}], [{:length, [1, 2, 3]}]}]", "\"abc\"",
        "3");
  /* a guard whose evaluation fails is false, a body's gives :EXIT */
  check("[{:\"$1\", [{:>, {:element, 5, :\"$1\"}, 0}], [true]}]", "{1}", "nomatch");
  check("[{{:\"$1\", :\"$2\"}, [], [{:element, 5, :\"$_\"}]}]", "{1, 2}", ":EXIT");
  check("[{{:\"$1\", :\"$2\"}, [], [{:+, :\"$1\", :a}]}]", "{1, 2}", ":EXIT");
  check("[{{:\"$1\"}, [], [{:const, {1, 2}}]}]", "{1}", "{1, 2}");
  check("[{{:\"$1\"}, [:\"$1\"], [:ok]}]", "{true}", ":ok");
  check("[{{:\"$1\"}, [:\"$1\"], [:ok]}]", "{1}", "nomatch");
  check("[{{:\"$1\"}, [], [{:*, :\"$1\", 1152921504606846975}]}]", "{16}", ":EXIT");
}

Test(match_spec, malformed_specs_are_errors_not_crashes) {
  check("[{{:\"$1\"}, [], [:\"$2\"]}]", "{1}", "error:COTP_EINVAL");
  check("[{{:\"$1\"}, [{:foo, 1}], [:\"$1\"]}]", "{1}", "error:COTP_EINVAL");
  check("[{{:\"$1\"}, [], []}]", "{1}", "error:COTP_EINVAL");
  check("[{{:\"$1\"}, [{:element, :\"$1\"}], [:x]}]", "{1}", "error:COTP_EINVAL");
  check("[{{:\"$1\"}, [], [{1, 2}]}]", "{1}", "error:COTP_EINVAL");
  check("[{{:\"$1\"}, [], [{}]}]", "{1}", "error:COTP_EINVAL");
  check("[{{:\"$1\"}, [{:<=, :\"$1\", 1}], [true]}]", "{1}", "error:COTP_EINVAL");
  check("{:_, [], [true]}", "{1}", "error:COTP_EINVAL");
  check("[{:_, [], [true]}, :oops]", "{1}", "error:COTP_EINVAL");
  check("[{%{:\"$1\" => 1}, [], [true]}]", "{1}", "error:COTP_EINVAL");
  check("[]", "{1}", "nomatch");
  cotp_match_spec *ms;
  cr_assert_eq(cotp_match_spec_compile(COTP_NONE, &ms, NULL), COTP_EINVAL);
  cotp_error err;
  cotp_heap *h = cotp_heap_new();
  cr_assert_eq(cotp_match_spec_compile(cotp_parse(h, "[{:_, [{:nope, 1}], [true]}]"), &ms,
                                       &err),
               COTP_EINVAL);
  cr_assert(strstr(err.message, "unknown function"), "%s", err.message);
  cotp_heap_free(h);
}

/* Random terms as specs: compile either fails cleanly or runs. */
Test(match_spec, random_specs_never_crash) {
  cotp_test_rng rng = cotp_test_rng_new();
  const char *parts[] = {":_", ":\"$1\"", ":\"$2\"", ":\"$_\"", ":\"$$\"", "1", "2.5", ":a",
                         "\"s\"", "[]", "{:>, :\"$1\", 1}", "{:is_atom, :\"$1\"}",
                         "{{:\"$1\"}}", "{:+, 1}", "{:element, 1}", "{:const, :x}",
                         "[:\"$1\"]", "%{a: :\"$1\"}", "{:andalso}", "{:self}"};
  size_t np = sizeof parts / sizeof *parts;
  cotp_heap *h = cotp_heap_new();
  for (int i = 0; i < 2000; i++) {
    char spec[256];
    snprintf(spec, sizeof spec, "[{{%s, %s}, [%s], [%s]}]", parts[cotp_test_below(&rng, np)],
             parts[cotp_test_below(&rng, np)], parts[cotp_test_below(&rng, np)],
             parts[cotp_test_below(&rng, np)]);
    cotp_match_spec *ms;
    if (cotp_match_spec_compile(cotp_parse(h, spec), &ms, NULL) == 0) {
      cotp_term r;
      cotp_match_spec_run(ms, cotp_parse(h, "{1, {:a, [1]}}"), COTP_NONE, h, &r);
      cotp_match_spec_run(ms, cotp_parse(h, "{true, 2}"), COTP_NONE, NULL, NULL);
      cotp_match_spec_free(ms);
    }
  }
  cotp_heap_free(h);
}
