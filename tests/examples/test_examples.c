/* SPDX-License-Identifier: Apache-2.0 */
/* The examples run and print what their seed chapters say they print. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

/* Runs an example and returns its standard output (static buffer). */
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
