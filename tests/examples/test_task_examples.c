/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Task examples (examples/task/) run and print what their seeds say.
 * Each takes the length of a seed "second" as its argument; the tests use
 * a short one, so output that depends on time is checked loosely (the
 * speed-up of the lesson) and the rest exactly.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "run_example.h"

static const char *run(const char *cmdline) { return example_run("", cmdline); }

static void has(const char *out, const char *text) {
  cr_assert(strstr(out, text), "expected\n%s\nin:\n%s", text, out);
}

Test(examples, task_seed001_lesson, .timeout = 60) {
  const char *out = run("task_lesson 100");
  has(out, "# Starting a process\nspawn ran!\nspawn is dead\ntask ran!\ntask is dead\n");
  has(out, "Task.async(fn -> {:msg, \"hello\"} end) |> Task.await()\n# => {:msg, \"hello\"}\n");
  has(out, "Enum.map(1..5, &Task.async(fn -> &1 * 2 end)) |> Enum.map(&Task.await/1)\n"
           "# => [2, 4, 6, 8, 10]\n");
  has(out, "Enum.map(1..5, &Task.async(fn -> &1 * 2 end)) |> Task.await_many()\n"
           "# => [2, 4, 6, 8, 10]\n");
  has(out, "Task.async(fn -> Process.sleep(600) end) |> Task.await(500)\n"
           "** (exit) exited in: Task.await(%Task{...}, 500)\n"
           "    ** (EXIT) time out\n");
  has(out, "Task.async(fn -> Process.sleep(600) end) |> Task.await(700)\n# => :ok\n");
  has(out, "Task.await_many([task1, task2], 700)\n# => [:ok, :ok]\n");
  /* the parallel run is faster; how much is the machine's business */
  long seq = 0, par = 0;
  const char *s = strstr(out, "sequential: "), *p = strstr(out, "parallel: ");
  cr_assert(s && p && sscanf(s, "sequential: %ld", &seq) == 1 && sscanf(p, "parallel: %ld", &par) == 1,
            "%s", out);
  cr_assert(seq >= 200, "two computations of 100 ms in a row took %ld ms", seq);
  cr_assert(par < seq, "parallel %ld ms, sequential %ld ms", par, seq);
}

Test(examples, task_seed002_003_documentation, .timeout = 60) {
  const char *out = run("task_docs 100");
  has(out, "res + Task.await(task)\n# => 42\n");
  has(out, "iex> Task.await(task)\n2\n");
  has(out, "Task.start_link(fn -> IO.puts \"ok\" end)\nok\n");
  has(out, "case Task.yield(task, timeout) || Task.shutdown(task) do ... end\n:result\n"
           "[warning] Failed to get a result in 5ms\n");
  has(out, "for {:ok, value} <- results, do: IO.inspect(value)\n1\n2\n3\n4\n5\niex>");
  has(out, "Enum.reduce(stream, 0, fn {:ok, num}, acc -> num + acc end)\n47\n");
  has(out, "Enum.to_list(stream)\n[ok: 1, ok: 4, ok: 9, ok: 16, ok: 25, ok: 36, ok: 49, ok: 64]\n");
}

Test(examples, task_book_7_1_intro) {
  const char *out = run("task_intro 100");
  has(out, "Task.start(fn -> IO.puts(\"Hello from the first task!\") end)\n"
           "Hello from the first task!\n"
           "Task.start(IO, :puts, [\"Hello from the second task!\"])\n"
           "Hello from the second task!\n");
  has(out, "Task.async(fn -> :empty_task end)\n%{__struct__: Task, mfa: {:erlang, :apply, 2}, owner: #PID<");
  has(out, "owner is self(): true\n");
}

Test(examples, task_book_7_2_time_bomb) {
  const char *out = run("task_time_bomb 100");
  has(out, "Parent process links: [#PID<");
  has(out, "Task.ignore(time_bomb_task)\nnil\nParent process links: []\n");
  has(out, "the bomb went off: {%{__exception__: true, __struct__: RuntimeError, "
           "message: \"BOOOOM!\"}, []}\nParent process survived!\n");
}

Test(examples, task_book_7_2_awaiting, .timeout = 60) {
  const char *out = run("task_awaiting 60");
  has(out, "Done sleeping\nTask returned: \"~U[");
  has(out, ", \"return value\"}, {:DOWN, #Reference<");
  has(out, ":normal}]\n\"return value\"\n");
  /* three random numbers, from 0..10, 10..20 and 20..30: about once in
   * 80 runs all three are printable characters ([7, 12, 27]) and inspect
   * shows a charlist ('\a\f\e'), as Elixir does */
  cr_assert(strstr(out, "Results from await_many: [") ||
                strstr(out, "Results from await_many: '"),
            "%s", out);
  has(out, "** (exit) exited in: Task.await(%Task{...}, 300)\n    ** (EXIT) time out\n");
  has(out, "after 1 second: nil\nafter 2 second: nil\nafter 3 second: nil\nafter 4 second: nil\n"
           "Messages in mailbox: [{#Reference<");
  has(out, ", :finished_heavy_task}, {:DOWN, #Reference<");
  has(out, "After task finished: {:ok, :finished_heavy_task}\nMessages in mailbox: []\n"
           "After message from task was consumed: nil\n");
  has(out, "tasks_with_results = Task.yield_many(tasks)\n1\n2\n3\n4\nTask.yield_many");
  has(out, "{:ok, 1}\n{:ok, 2}\nnil\nthe third task is gone\n");
}

/* Words as the example counts them: runs of non-space bytes. */
static long count_words(const char *path, long *lines) {
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "%s", path);
  long words = 0;
  int c, in = 0;
  *lines = 0;
  while ((c = fgetc(f)) != EOF) {
    int space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
    words += !space && !in;
    in = !space;
    *lines += c == '\n';
  }
  fclose(f);
  return words;
}

Test(examples, task_book_7_3_word_count_and_jokes, .timeout = 60) {
  const char *out = run("task_word_count 50");
  has(out, "lines: 5\nwords: 41\n");
  has(out, "10 jokes, the first: {:ok, \"Chuck Norris");
  char cmd[512], want[128];
  const char *file = COTP_SOURCE_DIR "/examples/task/word_count.c";
  snprintf(cmd, sizeof cmd, "task_word_count 50 %s", file);
  long lines, words = count_words(file, &lines);
  snprintf(want, sizeof want, "lines: %ld\nwords: %ld\n", lines, words);
  has(run(cmd), want);
}

Test(examples, task_book_7_3_reachability, .timeout = 60) {
  has(run("task_reachability 100"), "Reachable website count: 8\n");
}
