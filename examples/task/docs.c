/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seeds 002 and 003, Elixir's Task documentation (v1.2 and v1.7): every
 * example there that runs on its own, in C.  Task.Supervisor's examples
 * come with Task.Supervisor.
 *
 *   docs [unit_ms]     (unit_ms: what the documentation calls a second)
 */
#include <string.h>

#include "example.h"

/* --- task = Task.async(fn -> do_some_work() end); res + Task.await(task) --- */

static cotp_term do_some_work(void *arg) {
  (void)arg;
  cotp_sleep(secs(0.1));
  return cotp_int(NULL, 40);
}

static int64_t do_some_other_work(void) { return 2; }

static void sequential_to_concurrent(void) {
  puts("task = Task.async(fn -> do_some_work() end)");
  puts("res = do_some_other_work()");
  puts("res + Task.await(task)");
  cotp_task task;
  cotp_task_async(do_some_work, NULL, &task);
  int64_t res = do_some_other_work();
  result(cotp_int(NULL, res + cotp_int_value(cotp_task_await(&task, COTP_TASK_DEFAULT_TIMEOUT))));
}

/* --- iex> Task.await(Task.async(fn -> 1 + 1 end)) --- */

static cotp_term one_plus_one(void *arg) {
  (void)arg;
  return cotp_int(NULL, 1 + 1);
}

static void doctest(void) {
  puts("iex> task = Task.async(fn -> 1 + 1 end)");
  puts("iex> Task.await(task)");
  cotp_task task;
  cotp_task_async(one_plus_one, NULL, &task);
  inspect(cotp_task_await(&task, COTP_TASK_DEFAULT_TIMEOUT));
}

/* --- Task.start_link(fn -> IO.puts "ok" end) --- */

static cotp_term puts_ok(void *arg) {
  (void)arg;
  puts("ok");
  fflush(stdout);
  cotp_send(cotp_get_pid(cotp_head(cotp_dict_get(cotp_atom("$callers")))), COTP_ATOM(printed));
  return COTP_ATOM_OK;
}

static void start_link(void) {
  puts("Task.start_link(fn -> IO.puts \"ok\" end)");
  cotp_task_start_link(puts_ok, NULL, NULL);
  cotp_clause c = {cotp_pattern_cached(":printed", NULL), NULL, NULL};
  cotp_receive_match(&c, 1, COTP_INFINITY, 0, NULL);
}

/* --- Task.yield(task, timeout) || Task.shutdown(task) --- */

static cotp_term sleep_for(void *arg) {
  cotp_sleep((int64_t)(intptr_t)arg);
  return cotp_int(NULL, (int64_t)(intptr_t)arg);
}

static cotp_term quick_or_slow(void *arg) {
  cotp_sleep((int64_t)(intptr_t)arg);
  return COTP_ATOM(result);
}

static void yield_or_shutdown(int64_t work_ms, int64_t timeout) {
  cotp_task task;
  cotp_task_async(quick_or_slow, (void *)(intptr_t)work_ms, &task);
  cotp_term r = cotp_task_yield(&task, timeout);
  if (cotp_term_eq(r, COTP_ATOM_NIL))
    r = cotp_task_shutdown(&task, COTP_TASK_DEFAULT_TIMEOUT);
  if (cotp_tuple_size(r) == 2 && cotp_term_eq(cotp_tuple_get(r, 0), COTP_ATOM_OK))
    inspect(cotp_tuple_get(r, 1));
  else if (cotp_term_eq(r, COTP_ATOM_NIL))
    printf("[warning] Failed to get a result in %lldms\n", (long long)timeout);
}

static void yield_then_shutdown(void) {
  puts("case Task.yield(task, timeout) || Task.shutdown(task) do ... end");
  yield_or_shutdown(secs(0.01), secs(0.5));
  yield_or_shutdown(secs(2), secs(0.05));
}

/* --- Task.yield_many(tasks, 5000), then shut down the rest --- */

static void yield_many_and_shutdown(void) {
  puts("tasks = for i <- 1..10, do: Task.async(fn -> Process.sleep(i * 1000); i end)");
  puts("tasks_with_results = Task.yield_many(tasks, 5000)");
  puts("results = Enum.map(tasks_with_results, fn {task, res} ->");
  puts("  res || Task.shutdown(task, :brutal_kill) end)");
  puts("for {:ok, value} <- results, do: IO.inspect(value)");
  cotp_task tasks[10];
  cotp_term results[10];
  for (int i = 1; i <= 10; i++)
    cotp_task_async(sleep_for, (void *)(intptr_t)secs(i), &tasks[i - 1]);
  /* task 5 sleeps exactly as long as the timeout: the documentation's
   * "1 up to 5" needs it to win, so the timeout here has half a second to
   * spare */
  cotp_task_yield_opts o = COTP_TASK_YIELD_OPTS_INIT;
  o.timeout_ms = secs(5.5);
  cotp_task_yield_many(tasks, 10, &o, results);
  for (int i = 0; i < 10; i++) {
    if (cotp_term_eq(results[i], COTP_ATOM_NIL))
      results[i] = cotp_task_shutdown(&tasks[i], COTP_TASK_BRUTAL_KILL);
    if (cotp_tuple_size(results[i]) == 2 && cotp_term_eq(cotp_tuple_get(results[i], 0), COTP_ATOM_OK))
      printf("%lld\n", (long long)(cotp_int_value(cotp_tuple_get(results[i], 1)) / unit_ms));
  }
}

/* --- async_stream: count the code points of strings --- */

static size_t codepoints(const uint8_t *s, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < n; i++)
    count += (s[i] & 0xC0) != 0x80; /* every byte but continuation bytes */
  return count;
}

static cotp_term count_codepoints(cotp_term text, void *ctx) {
  (void)ctx;
  size_t n;
  const uint8_t *s = cotp_binary_data(text, &n);
  return cotp_int(NULL, (int64_t)codepoints(s, n));
}

static void stream_codepoints(void) {
  puts("iex> strings = [\"long string\", \"longer string\", \"there are many of these\"]");
  puts("iex> stream = Task.async_stream(strings, fn text -> text |> String.codepoints() |> Enum.count() end)");
  puts("iex> Enum.reduce(stream, 0, fn {:ok, num}, acc -> num + acc end)");
  cotp_heap *h = cotp_self_heap();
  cotp_term strings = cotp_parse(h, "[\"long string\", \"longer string\", \"there are many of these\"]");
  cotp_iter_list in;
  cotp_iter *stream;
  cotp_task_async_stream(cotp_iter_list_init(&in, strings), count_codepoints, NULL, NULL, &stream, NULL);
  int64_t acc = 0;
  cotp_term r;
  while (cotp_iter_next(stream, h, &r) == 1)
    acc += cotp_int_value(cotp_tuple_get(r, 1));
  cotp_iter_close(stream);
  inspect(cotp_int(h, acc));
}

/* --- async_stream(collection, Mod, :expensive_fun, [], max_concurrency: ...) --- */

static cotp_term expensive_fun(cotp_term args) {
  int64_t x = cotp_int_value(cotp_head(args));
  cotp_sleep(secs(0.01));
  return cotp_int(NULL, x * x);
}

static void stream_mfa(void) {
  cotp_task_register(cotp_atom("Elixir.Mod"), COTP_ATOM(expensive_fun), expensive_fun);
  puts("max_concurrency = System.schedulers_online() * 2");
  puts("stream = Task.async_stream(1..8, Mod, :expensive_fun, [], max_concurrency: max_concurrency)");
  puts("Enum.to_list(stream)");
  cotp_heap *h = cotp_self_heap();
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  o.max_concurrency = cotp_schedulers_online() * 2;
  cotp_iter_range in;
  cotp_iter *stream;
  cotp_task_async_stream_mfa(cotp_iter_range_init(&in, 1, 8, 1), cotp_atom("Elixir.Mod"),
                             COTP_ATOM(expensive_fun), COTP_NIL, &o, &stream, NULL);
  cotp_term all[8], r;
  size_t n = 0;
  while (n < 8 && cotp_iter_next(stream, h, &r) == 1)
    all[n++] = r;
  cotp_iter_close(stream);
  inspect(cotp_list(h, n, all));
}

static void root(void *arg) {
  (void)arg;
  cotp_set_log_level(COTP_LOG_ERROR + 1);
  sequential_to_concurrent();
  doctest();
  start_link();
  yield_then_shutdown();
  yield_many_and_shutdown();
  stream_codepoints();
  stream_mfa();
}

int main(int argc, char **argv) {
  read_unit(argc, argv);
  return run(root);
}
