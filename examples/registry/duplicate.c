/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 4.0, duplicate registries: one process registers the same key
 * twice, and lookup returns both entries.
 *
 *   {:ok, _} = Registry.start_link(keys: :duplicate, name: Registry.DupProcessStore)
 *   {:ok, _} = Registry.register(Registry.DupProcessStore, "async_city", :hello)
 *   {:ok, _} = Registry.register(Registry.DupProcessStore, "async_city", :world)
 *   Registry.lookup(Registry.DupProcessStore, "async_city")
 */
#include <cotp.h>
#include <stdio.h>

static void root(void *arg) {
  (void)arg;
  setvbuf(stdout, NULL, _IOLBF, 0);
  cotp_heap *h = cotp_self_heap();
  cotp_registry_opts o = COTP_REGISTRY_OPTS_INIT;
  o.keys = COTP_REGISTRY_DUPLICATE;
  o.name = cotp_parse(h, "Registry.DupProcessStore");
  cotp_registry *reg;
  if (cotp_registry_start_link(&o, &reg, NULL) != 0)
    cotp_exit(COTP_ATOM(registry_failed));
  cotp_term key = cotp_string(h, "async_city");
  if (cotp_registry_register(reg, key, COTP_ATOM(hello), NULL) != 0 ||
      cotp_registry_register(reg, key, COTP_ATOM(world), NULL) != 0)
    cotp_exit(COTP_ATOM(register_failed));
  cotp_term_fprint(stdout, cotp_registry_lookup(reg, key));
  printf("\n");
  /* via is for unique registries only */
  cotp_name n = cotp_registry_name_via(cotp_format(h, "{Registry.DupProcessStore, :x}"));
  printf("via on a duplicate registry: %s\n", cotp_err_name(cotp_name_register(&n, cotp_self())));
  cotp_registry_release(reg);
}

int main(void) { return cotp_run(root, NULL, NULL, NULL, NULL); }
