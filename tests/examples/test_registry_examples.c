/* SPDX-License-Identifier: Apache-2.0 */
/* The Registry examples (examples/registry/, book ch. 4.0) print what the
 * chapter shows, pids being cotp's. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "run_example.h"

static void expect(const char *name, const char *want) {
  example_expect_output(name, example_run("", name), want);
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
