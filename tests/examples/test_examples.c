/* SPDX-License-Identifier: Apache-2.0 */
/* The examples run and print what their seed chapters say they print. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "run_example.h"

static const char *run(const char *name) { return example_run("", name); }

static void expect(const char *name, const char *want) {
  example_expect_output(name, run(name), want);
}

Test(examples, quickstart) { expect("quickstart", "{:hello, \"world\"}\n"); }

Test(examples, seed000_async_receive) {
  expect("async_receive", "Async.perform(fn -> 1 + 1 end) |> Async.resolve()\n"
                          "# => 2\n");
}

Test(examples, seed000_async_monitor) {
  expect("async_monitor",
         "Async.perform(fn -> 1 + 1 end) |> Async.resolve()\n"
         "# => 2\n"
         "Async.perform(fn -> raise \"boom!\" end) |> Async.resolve()\n"
         "# => \"I'm sorry, the process has failed!\"\n");
}

Test(examples, seed000_async_link) {
  expect("async_link", "Async.perform(fn -> 1 + 1 end); Async.resolve()\n"
                       "# => 2\n"
                       "Async.perform(fn -> raise \"boom!\" end)\n"
                       "# the process we're in fails: {:runtime_error, \"boom!\"}\n");
}

Test(examples, seed000_async_trap_exit) {
  expect("async_trap_exit",
         "Async.perform(fn -> 1 + 1 end); Async.resolve()\n"
         "# => 2\n"
         "Async.perform(fn -> raise \"boom!\" end); Async.resolve()\n"
         "# => \"I'm sorry, the process failed!\"\n");
}

Test(examples, demo_spawns_links_monitors_and_awaits, .timeout = 60) {
  const char *out = run("demo");
  cr_assert(strstr(out, "worker 3: DOWN, reason {:bad_range, 600000, 799999}") ||
                strstr(out, "worker 3: DOWN, reason {:bad_range,"),
            "%s", out);
  cr_assert(strstr(out, "worker 6: no answer by the deadline: killed"), "%s", out);
  cr_assert(strstr(out, "exited with :something_broke; trapped, so we carry on"), "%s", out);
  cr_assert(strstr(out, "root exited normally"), "%s", out);
}

/* Book ch. 3 and 8: GenServer and Agent */

Test(examples, book_ch3_1_counter_traced) {
  expect("counter",
         "\"Starting Genserver\"\n"
         "\"init called, initial counter state: 0\"\n"
         "\"Genserver Started\"\n"
         "*DBG* #PID<0.2.0> got cast {:inc, 10}\n"
         "*DBG* #PID<0.2.0> new state 10\n"
         "*DBG* #PID<0.2.0> got cast {:dec, 5}\n"
         "*DBG* #PID<0.2.0> new state 5\n"
         "*DBG* #PID<0.2.0> got cast {:inc, 2}\n"
         "*DBG* #PID<0.2.0> new state 7\n"
         "*DBG* #PID<0.2.0> got call :get_count from #PID<0.1.0>\n"
         "*DBG* #PID<0.2.0> sent \"The count is 7\" to #PID<0.1.0>, new state 7\n"
         "Current count = The count is 7\n"
         "*DBG* #PID<0.2.0> got \"Hi genserver!\"\n"
         "\"Handle info called with message \\\"Hi genserver!\\\"\"\n"
         "*DBG* #PID<0.2.0> new state 7\n"
         "\"Genserver Terminating with reason boom...\"\n");
}

static const char *stack_output = "PUSH: 1\n"
                                  "PUSH: 2\n"
                                  "PUSH: 3\n"
                                  "STACK: [3, 2, 1]\n"
                                  "POP: 3\n"
                                  "STACK: [2, 1]\n"
                                  "\"Stack length: 2\"\n";

Test(examples, book_ch3_2_my_genserver_from_scratch) {
  expect("my_genserver", stack_output);
}

Test(examples, book_ch3_2_stack_on_genserver) { expect("stack", stack_output); }

Test(examples, book_ch3_3_password_manager) {
  const char *out = run("password_manager");
  const char *lines[] = {
      "Saving Gmail creds: :saved\n"
      "Saving Spotify creds: {:error, \"Password must be atleast 3 character long\"}\n"
      "Saving Apple creds: :saved\n"
      "Gmail creds: %{inserted_at: \"",
      "Z\", password: \"12345\", url: \"gmail.com\", username: \"john_doe@gmail.com\"}\n"
      "Spotify creds: :not_found\n"
      "Deleting Gmail: :ok\n"
      "Gmail creds: :not_found\n"};
  const char *at = strstr(out, lines[0]);
  cr_assert(at == out, "printed:\n%s", out);
  at = strstr(at, lines[1]);
  cr_assert(at && !strcmp(at, lines[1]), "printed:\n%s", out);
}

Test(examples, book_ch3_3_password_manager_tests) {
  example_expect_output("password_manager --test", example_run("", "password_manager --test"),
                        "...\n\n3 tests, 0 failures\n");
}

Test(examples, book_ch3_3_cron_job) {
  example_expect_output("cron_job", example_run("CRON_INTERVAL_MS=20 CRON_RUNS=3", "cron_job"),
                        "\"Working...\"\n\"Working...\"\n\"Working...\"\n");
}

Test(examples, book_ch3_4_food_ordering_with_reply) {
  const char *out = example_run("ORDER_MS=300", "food_ordering");
  const char *in_order[] = {"Recieved new order request from {#PID<", "[:alias | #Reference<",
                            "Order sandwich ready for Jhon\n",
                            "Recieved new order request from",
                            "Order pizza ready for Tom\n"};
  const char *at = out;
  for (size_t i = 0; i < sizeof in_order / sizeof *in_order; i++) {
    at = strstr(at, in_order[i]);
    cr_assert(at, "no %s in:\n%s", in_order[i], out);
  }
  /* the server answers list_orders while the orders are being placed */
  const char *listed = strstr(out, "Toms orders: [\"pizza\"]\n");
  cr_assert(listed, "%s", out);
  cr_assert(strstr(out, "Order burger ready for Jhon\n") > listed, "%s", out);
  cr_assert(strstr(out, "Order ice cream ready for Tom\n") > listed, "%s", out);
  cr_assert(strstr(strstr(out, "Order ice cream ready for Tom\n"),
                   "Toms orders: [\"ice cream\", \"pizza\"]\n"),
            "%s", out);
}

Test(examples, book_ch8_agent_counter) {
  expect("agent_counter", "GET: 0\nCAST: :ok\nUPDATE: :ok\nget_and_update: 2\nGET: 3\n");
}

Test(examples, book_ch8_fibonacci_store) {
  expect("fibonacci_store", "Current Fibonacci: 1\n1\n2\n3\n5\n8\n13\n21\n34\n55\n89\n"
                            "Current Fibonacci: 89\n");
}
