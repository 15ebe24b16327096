/* SPDX-License-Identifier: Apache-2.0 */
/* The Registry examples (examples/registry/, book ch. 4.0) print what the
 * chapter shows, pids being cotp's. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

static const char *run(const char *name) {
  static char out[8192];
  char cmd[512];
  snprintf(cmd, sizeof cmd, "%s/examples/%s 2>/dev/null", COTP_BINARY_DIR, name);
  FILE *f = popen(cmd, "r");
  cr_assert_not_null(f, "cannot run %s", name);
  size_t n = fread(out, 1, sizeof out - 1, f);
  out[n] = '\0';
  int status = pclose(f);
  cr_assert_eq(status, 0, "%s exited with status %d; printed:\n%s", name, status, out);
  return out;
}

static void expect(const char *name, const char *want) {
  const char *got = run(name);
  cr_assert_str_eq(got, want, "%s printed:\n%s\nexpected:\n%s", name, got, want);
}

Test(examples, book_ch4_0_naming_processes_with_via) {
  expect("registry_process_store", "Stack server 2 value: :second_stack\n"
                                   "Stack Server1 state: [\"stack1\"]\n"
                                   "Stack Server2 state: [\"stack2\"]\n"
                                   "whereis stack_server_1 == lookup: true\n");
}

Test(examples, book_ch4_0_duplicate_registry) {
  expect("registry_duplicate", "[{#PID<0.1.0>, :hello}, {#PID<0.1.0>, :world}]\n"
                               "via on a duplicate registry: COTP_EINVAL\n");
}

Test(examples, book_ch4_0_dispatch) {
  expect("registry_dispatch", "ODD: 1\nODD: 3\nODD: 5\nEVEN: 2\nEVEN: 4\nEVEN: 6\n");
}

Test(examples, book_ch4_0_pubsub) {
  expect("registry_pubsub", "Received broadcast: \"hello world\"\n"
                            "a subscriber received: \"hello world\"\n"
                            "a subscriber received: \"hello world\"\n"
                            "a subscriber received: \"hello world\"\n");
}

Test(examples, book_ch4_0_match_specs) {
  expect("registry_match_specs",
         "* match spec: 1 returned: [{#PID<0.1.0>, 1}]\n"
         "* match spec: :_ returned: [{#PID<0.1.0>, 1}, {#PID<0.1.0>, \"one\"}, "
         "{#PID<0.1.0>, {1, 2}}, {#PID<0.1.0>, {2, 1}}, {#PID<0.1.0>, {2, 2}}]\n"
         "* match spec: {2, :_} returned: [{#PID<0.1.0>, {2, 1}}, {#PID<0.1.0>, {2, 2}}]\n"
         "* match spec: {:\"$1\", :\"$1\"} returned: [{#PID<0.1.0>, {2, 2}}]\n"
         "* match spec: {:\"$1\", :\"$2\"} with guard [{:>, :\"$1\", :\"$2\"}] returned: "
         "[{#PID<0.1.0>, {2, 1}}]\n"
         "* match spec: :\"$1\" with guard [{:is_binary, :\"$1\"}] returned\": "
         "[{#PID<0.1.0>, \"one\"}]\n"
         "count_match {:\"$1\", :_} with $1 >= 2: 2\n"
         "select keys and first elements of tuple values: "
         "[{\"my_key\", 1}, {\"my_key\", 2}, {\"my_key\", 2}]\n"
         "count_select integer values: 1\n"
         "a malformed spec: COTP_EINVAL\n");
}
