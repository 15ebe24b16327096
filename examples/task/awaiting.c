/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book chapter 7.2, "Awaiting Tasks" (the Task.ignore time bomb is
 * time_bomb.c): async and await, the messages a task sends, tasks named by
 * module and function, await_many, await running out of time, yield, and
 * yield_many.
 *
 *   awaiting [unit_ms]     (unit_ms: what the book calls a second, 1000)
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "example.h"

static void show_links(void) {
  cotp_term links;
  cotp_process_info(cotp_self(), COTP_ATOM(links), &links);
  printf("Parent process links: ");
  inspect(links);
}

static void show_messages(const char *label) {
  cotp_term messages;
  cotp_process_info(cotp_self(), COTP_ATOM(messages), &messages);
  inspect_label(label, messages);
}

/* Waits until pid has exited (the book sleeps a little longer than the
 * task takes; a monitor makes it certain). */
static void wait_finished(cotp_pid pid) {
  cotp_term ref;
  cotp_monitor(pid, &ref);
  cotp_clause down = {cotp_pattern_cached("{:DOWN, ^ref, _, _, _}", NULL), &ref, NULL};
  cotp_receive_match(&down, 1, COTP_INFINITY, 0, NULL);
}

/* --- async, await, and the messages a task sends --- */

static cotp_term sleep_then_date(void *arg) {
  (void)arg;
  cotp_sleep(secs(2));
  puts("Done sleeping");
  fflush(stdout);
  char date[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(date, sizeof date, "~U[%Y-%m-%d %H:%M:%SZ]", &tm);
  return cotp_string(cotp_self_heap(), date);
}

static cotp_term return_value(void *arg) {
  (void)arg;
  return cotp_string(cotp_self_heap(), "return value");
}

static void async_and_await(void) {
  cotp_heap *h = cotp_self_heap();
  cotp_task my_task;
  cotp_task_async(sleep_then_date, NULL, &my_task);
  inspect(cotp_task_term(h, &my_task));
  show_links(); /* the task is linked to us */
  inspect_label("Task returned", cotp_task_await(&my_task, COTP_TASK_DEFAULT_TIMEOUT));

  cotp_task_async(return_value, NULL, &my_task);
  inspect(cotp_task_term(h, &my_task));
  wait_finished(my_task.pid); /* :timer.sleep(100) */
  show_messages("Messages in mailbox"); /* {ref, "return value"}, then the DOWN */
  inspect(cotp_task_await(&my_task, COTP_TASK_DEFAULT_TIMEOUT));
}

/* --- Task.async(Enum, :random, [0..10]) --- */

/* Enum.random/1 for a range, %Range{first: f, last: l, step: 1} */
static cotp_term enum_random(cotp_term args) {
  cotp_term range = cotp_head(args);
  int64_t first = cotp_int_value(cotp_map_get(range, COTP_ATOM(first)));
  int64_t last = cotp_int_value(cotp_map_get(range, COTP_ATOM(last)));
  return cotp_int(NULL, first + (int64_t)((unsigned)rand() % (unsigned)(last - first + 1)));
}

static cotp_term range_args(int64_t first, int64_t last) {
  cotp_heap *h = cotp_self_heap();
  return COTP_LIST(h, cotp_format(h, "%{__struct__: Range, first: ~L, last: ~L, step: 1}",
                                  (long long)first, (long long)last));
}

static void named_functions(void) {
  cotp_heap *h = cotp_self_heap();
  cotp_term enumm = cotp_atom("Elixir.Enum");
  cotp_task_register(enumm, COTP_ATOM(random), enum_random);
  cotp_task t[3];
  cotp_term r[3];
  for (int i = 0; i < 3; i++)
    cotp_task_async_mfa(enumm, COTP_ATOM(random), range_args(10 * i, 10 * i + 10), &t[i]);
  int64_t sum = 0;
  for (int i = 0; i < 3; i++)
    sum += cotp_int_value(cotp_task_await(&t[i], COTP_TASK_DEFAULT_TIMEOUT));
  printf("Task.await(my_task1) + Task.await(my_task2) + Task.await(my_task3)\n");
  result(cotp_int(h, sum));
  for (int i = 0; i < 3; i++)
    cotp_task_async_mfa(enumm, COTP_ATOM(random), range_args(10 * i, 10 * i + 10), &t[i]);
  cotp_task_await_many(t, 3, COTP_TASK_DEFAULT_TIMEOUT, r);
  inspect_label("Results from await_many", cotp_list(h, 3, r));
  sum = 0;
  for (int i = 0; i < 3; i++)
    sum += cotp_int_value(r[i]);
  result(cotp_int(h, sum));
}

/* --- await timeouts --- */

static cotp_term sleep_forever(void *arg) {
  (void)arg;
  cotp_sleep(COTP_INFINITY);
  return COTP_ATOM_OK;
}

static void await_default(void *arg) {
  cotp_task_await(arg, secs(5)); /* Task.await/1: the default 5 s */
}

static void await_timeout(void) {
  puts("dont_await_me = Task.async(fn -> :timer.sleep(:infinity) end)");
  puts("Task.await(dont_await_me)");
  cotp_task dont_await_me;
  cotp_task_async(sleep_forever, NULL, &dont_await_me);
  cotp_term reason;
  if (cotp_catch_exit(await_default, &dont_await_me, &reason) == 1) {
    printf("** (exit) exited in: Task.await(%%Task{...}, %lld)\n    ** (EXIT) ",
           (long long)secs(5));
    puts(cotp_term_eq(cotp_tuple_get(reason, 0), COTP_ATOM_TIMEOUT) ? "time out" : "?");
  }
  cotp_task_shutdown(&dont_await_me, COTP_TASK_BRUTAL_KILL);
}

/* --- yield --- */

static cotp_term heavy(void *arg) {
  (void)arg;
  cotp_sleep(secs(5));
  return COTP_ATOM(finished_heavy_task);
}

static void yielding(void) {
  cotp_task heavy_task;
  cotp_task_async(heavy, NULL, &heavy_task);
  const char *labels[] = {"after 1 second", "after 2 second", "after 3 second",
                          "after 4 second"};
  for (int i = 0; i < 4; i++)
    inspect_label(labels[i], cotp_task_yield(&heavy_task, secs(1)));
  cotp_sleep(secs(1.5));
  wait_finished(heavy_task.pid);
  show_messages("Messages in mailbox");
  inspect_label("After task finished", cotp_task_yield(&heavy_task, secs(1)));
  show_messages("Messages in mailbox");
  inspect_label("After message from task was consumed", cotp_task_yield(&heavy_task, secs(1)));
}

/* --- yield_many --- */

static cotp_term sleep_seconds(void *arg) {
  int64_t i = (int64_t)(intptr_t)arg;
  cotp_sleep(secs((double)i));
  return cotp_int(NULL, i);
}

static void yield_many(void) {
  puts("tasks_with_results = Task.yield_many(tasks)");
  cotp_task tasks[10];
  cotp_term results[10];
  for (int i = 1; i <= 10; i++)
    cotp_task_async(sleep_seconds, (void *)(intptr_t)i, &tasks[i - 1]);
  /* the book's default 5 s timeout races with the task that sleeps 5 s
   * (the book saw 1 up to 4): 4.5 s gives its output every time */
  cotp_task_yield_opts o = COTP_TASK_YIELD_OPTS_INIT;
  o.timeout_ms = secs(4.5);
  cotp_task_yield_many(tasks, 10, &o, results);
  for (int i = 0; i < 10; i++) {
    cotp_term res = results[i];
    if (cotp_term_eq(res, COTP_ATOM_NIL)) /* res || Task.shutdown(task, :brutal_kill) */
      res = cotp_task_shutdown(&tasks[i], COTP_TASK_BRUTAL_KILL);
    if (cotp_tuple_size(res) == 2 && cotp_term_eq(cotp_tuple_get(res, 0), COTP_ATOM_OK))
      inspect(cotp_tuple_get(res, 1));
  }

  puts("Task.yield_many(tasks, timeout: 2500, on_timeout: :kill_task)");
  for (int i = 1; i <= 3; i++)
    cotp_task_async(sleep_seconds, (void *)(intptr_t)i, &tasks[i - 1]);
  o.timeout_ms = secs(2.5);
  o.on_timeout = COTP_TASK_ON_TIMEOUT_KILL_TASK;
  cotp_task_yield_many(tasks, 3, &o, results);
  for (int i = 0; i < 3; i++)
    inspect(results[i]);
  printf("the third task is %s\n", cotp_is_alive(tasks[2].pid) ? "alive" : "gone");
}

static void root(void *arg) {
  (void)arg;
  cotp_set_log_level(COTP_LOG_ERROR + 1);
  srand((unsigned)time(NULL));
  async_and_await();
  named_functions();
  await_timeout();
  yielding();
  yield_many();
}

int main(int argc, char **argv) {
  read_unit(argc, argv);
  return run(root);
}
