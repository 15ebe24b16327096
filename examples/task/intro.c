/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book chapter 7.1, "Introduction to Tasks": starting tasks for their side
 * effects with a function and with module, function and arguments, and
 * what the Task struct holds.
 */
#include "example.h"

static cotp_term hello(void *arg) {
  (void)arg;
  puts("Hello from the first task!");
  fflush(stdout);
  return COTP_ATOM_OK;
}

/* IO.puts/1, as a function named by module and function */
static cotp_term io_puts(cotp_term args) {
  size_t n;
  const uint8_t *text = cotp_binary_data(cotp_head(args), &n);
  printf("%.*s\n", (int)n, (const char *)text);
  fflush(stdout);
  return COTP_ATOM_OK;
}

static cotp_term empty_task(void *arg) {
  (void)arg;
  return COTP_ATOM(empty_task);
}

static void root(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  cotp_task_register(cotp_atom("Elixir.IO"), COTP_ATOM(puts), io_puts);

  puts("Task.start(fn -> IO.puts(\"Hello from the first task!\") end)");
  cotp_pid first;
  cotp_task_start(hello, NULL, &first);
  cotp_sleep(50);
  puts("Task.start(IO, :puts, [\"Hello from the second task!\"])");
  cotp_pid second;
  cotp_task_start_mfa(cotp_atom("Elixir.IO"), COTP_ATOM(puts),
                      COTP_LIST(h, cotp_string(h, "Hello from the second task!")), &second);
  cotp_sleep(50);

  puts("Task.async(fn -> :empty_task end)");
  cotp_task t;
  cotp_task_async(empty_task, NULL, &t);
  /* the struct: mfa, owner, pid, ref */
  inspect(cotp_task_term(h, &t));
  printf("owner is self(): %s\n", cotp_pid_eq(t.owner, cotp_self()) ? "true" : "false");
  cotp_task_await(&t, COTP_TASK_DEFAULT_TIMEOUT);
}

int main(int argc, char **argv) {
  read_unit(argc, argv);
  return run(root);
}
