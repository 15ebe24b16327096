/* SPDX-License-Identifier: Apache-2.0 */
/* The supervisor examples (book ch. 5) print what the chapters show. */
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

Test(examples, seed004_ch5_1_stack_under_a_supervisor) {
  const char *got = run("stack_sup");
  const char *want = "Stack GenServer starting up!\n"
                     "Supervisor's children: [{:stack_1, #PID<...>, :worker, [Stack]}]\n"
                     "Stack Genserver Process pid: #PID<...>\n"
                     "Intial Genserver state: [0]\n"
                     "Pushed 10\n"
                     "Pushed 20\n"
                     "Popped 20\n"
                     "Popped 10\n"
                     "Popped 0\n"
                     "Genserver state just before crash: []\n"
                     "Stack GenServer starting up!\n"
                     "Restarted stack Genserver Process pid: #PID<...> (a new process)\n"
                     "Genserver state after crash: [0]\n";
  cr_assert_str_eq(got, want, "printed:\n%s\nexpected:\n%s", got, want);
}
