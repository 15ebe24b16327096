/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 4.0, "Dispatching using Registry": three values under "odd"
 * and three under "even", a number, a string and a function each, turned
 * into numbers by the dispatch callback.
 *
 *   {:ok, _} = Registry.start_link(keys: :duplicate, name: Registry.Numbers)
 *   {:ok, _} = Registry.register(Registry.Numbers, "odd", 1)
 *   {:ok, _} = Registry.register(Registry.Numbers, "odd", "3")
 *   {:ok, _} = Registry.register(Registry.Numbers, "odd", fn -> 5 end)
 *   ...
 *   Registry.dispatch(Registry.Numbers, "odd", fn entries ->
 *     for {_pid, num} <- entries do
 *       cond do
 *         is_number(num) -> num
 *         is_binary(num) -> String.to_integer(num)
 *         is_function(num) -> num.()
 *       end
 *       |> IO.inspect(label: "ODD")
 *     end
 *   end)
 *
 * C has no closures as terms: a function value is a resource wrapping a C
 * function pointer, which the registry stores like any other term (by
 * reference count, not copied).
 */
#include <cotp.h>
#include <stdio.h>
#include <stdlib.h>

typedef int64_t number_fn(void);
static int64_t five(void) { return 5; }
static int64_t six(void) { return 6; }

/* fn -> 5 end, as a term */
static cotp_term fun(cotp_heap *h, number_fn *f) {
  cotp_resource *r = cotp_resource_new((void *)(uintptr_t)f, NULL);
  cotp_term t = cotp_resource_term(h, r);
  cotp_resource_release(r); /* the heap holds it now */
  return t;
}

static void print_numbers(cotp_term entries, void *label) {
  for (cotp_term l = entries; cotp_is_cons(l); l = cotp_tail(l)) {
    cotp_term num = cotp_tuple_get(cotp_head(l), 1);
    int64_t n = 0;
    size_t len;
    const uint8_t *text;
    if (cotp_is_number(num)) {                      /* is_number(num) -> num */
      n = cotp_int_value(num);
    } else if ((text = cotp_binary_data(num, &len))) { /* String.to_integer */
      n = strtoll((const char *)text, NULL, 10);
    } else if (cotp_is_resource(num)) {              /* is_function -> num.() */
      n = ((number_fn *)(uintptr_t)cotp_resource_object(cotp_get_resource(num)))();
    }
    printf("%s: %lld\n", (const char *)label, (long long)n);
  }
}

static void root(void *arg) {
  (void)arg;
  setvbuf(stdout, NULL, _IOLBF, 0);
  cotp_heap *h = cotp_self_heap();
  cotp_registry_opts o = COTP_REGISTRY_OPTS_INIT;
  o.keys = COTP_REGISTRY_DUPLICATE;
  o.name = cotp_parse(h, "Registry.Numbers");
  cotp_registry *reg;
  if (cotp_registry_start_link(&o, &reg, NULL) != 0)
    cotp_exit(COTP_ATOM(registry_failed));
  cotp_term odd = cotp_string(h, "odd"), even = cotp_string(h, "even");
  cotp_registry_register(reg, odd, cotp_int(h, 1), NULL);
  cotp_registry_register(reg, odd, cotp_string(h, "3"), NULL);
  cotp_registry_register(reg, odd, fun(h, five), NULL);
  cotp_registry_register(reg, even, cotp_int(h, 2), NULL);
  cotp_registry_register(reg, even, cotp_string(h, "4"), NULL);
  cotp_registry_register(reg, even, fun(h, six), NULL);
  cotp_registry_dispatch(reg, odd, print_numbers, "ODD", 0);
  cotp_registry_dispatch(reg, even, print_numbers, "EVEN", 0);
  cotp_registry_release(reg);
}

int main(void) { return cotp_run(root, NULL, NULL, NULL, NULL); }
