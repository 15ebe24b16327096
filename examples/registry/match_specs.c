/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 4.0, "Other registry functions and match specs": five values
 * under "my_key" and every match spec of the chapter, then count_match,
 * select and count_select, which the chapter mentions.
 *
 *   Registry.match(Registry.MatchSpec, "my_key", {:"$1", :"$2"}, [{:>, :"$1", :"$2"}])
 *   |> IO.inspect(label: ~s(* match spec: {:"$1", :"$2"} with guard ...))
 *
 * Patterns and guards are written as Elixir terms and parsed, as they
 * would be typed in iex.
 */
#include <cotp.h>
#include <stdio.h>

static cotp_registry *reg;

static void match(const char *label, const char *pattern, const char *guards) {
  cotp_heap *h = cotp_self_heap();
  cotp_term out;
  int rc = cotp_registry_match(reg, cotp_string(h, "my_key"), cotp_parse(h, pattern),
                               guards ? cotp_parse(h, guards) : COTP_NONE, &out);
  printf("%s: ", label);
  if (rc == 0)
    cotp_term_fprint(stdout, out);
  else
    printf("%s", cotp_err_name(rc));
  printf("\n");
}

static void root(void *arg) {
  (void)arg;
  setvbuf(stdout, NULL, _IOLBF, 0);
  cotp_heap *h = cotp_self_heap();
  cotp_registry_opts o = COTP_REGISTRY_OPTS_INIT;
  o.keys = COTP_REGISTRY_DUPLICATE;
  o.name = cotp_parse(h, "Registry.MatchSpec");
  if (cotp_registry_start_link(&o, &reg, NULL) != 0)
    cotp_exit(COTP_ATOM(registry_failed));
  const char *values[] = {"1", "\"one\"", "{1, 2}", "{2, 1}", "{2, 2}"};
  for (int i = 0; i < 5; i++)
    cotp_registry_register(reg, cotp_string(h, "my_key"), cotp_parse(h, values[i]), NULL);

  match("* match spec: 1 returned", "1", NULL);
  match("* match spec: :_ returned", ":_", NULL);
  match("* match spec: {2, :_} returned", "{2, :_}", NULL);
  match("* match spec: {:\"$1\", :\"$1\"} returned", "{:\"$1\", :\"$1\"}", NULL);
  match("* match spec: {:\"$1\", :\"$2\"} with guard [{:>, :\"$1\", :\"$2\"}] returned",
        "{:\"$1\", :\"$2\"}", "[{:>, :\"$1\", :\"$2\"}]");
  match("* match spec: :\"$1\" with guard [{:is_binary, :\"$1\"}] returned\"", ":\"$1\"",
        "[{:is_binary, :\"$1\"}]");

  size_t n;
  cotp_registry_count_match(reg, cotp_string(h, "my_key"), cotp_parse(h, "{:\"$1\", :_}"),
                            cotp_parse(h, "[{:>=, :\"$1\", 2}]"), &n);
  printf("count_match {:\"$1\", :_} with $1 >= 2: %zu\n", n);
  cotp_term out;
  cotp_registry_select(reg,
                       cotp_parse(h, "[{{:\"$1\", :_, :\"$3\"}, [{:is_tuple, :\"$3\"}], "
                                     "[{{:\"$1\", {:element, 1, :\"$3\"}}}]}]"),
                       &out);
  printf("select keys and first elements of tuple values: ");
  cotp_term_fprint(stdout, out);
  printf("\n");
  cotp_registry_count_select(
      reg, cotp_parse(h, "[{{:_, :_, :\"$1\"}, [{:is_integer, :\"$1\"}], [true]}]"), &n);
  printf("count_select integer values: %zu\n", n);
  int rc = cotp_registry_select(reg, cotp_parse(h, "[{:_, [], [:\"$4\"]}]"), &out);
  printf("a malformed spec: %s\n", cotp_err_name(rc));
  cotp_registry_release(reg);
}

int main(void) { return cotp_run(root, NULL, NULL, NULL, NULL); }
