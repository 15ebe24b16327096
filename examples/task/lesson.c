/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seed 001, the Task lesson, in C: starting a task, async and await, the
 * speed-up of running two computations in parallel, await_many, and what
 * happens when await runs out of time.
 *
 *   lesson [unit_ms]     (unit_ms: what the lesson calls a second, 1000)
 */
#include "example.h"

/* --- Starting a process --- */

static void say_spawn(void *arg) {
  (void)arg;
  puts("spawn ran!");
}

static cotp_term say_task(void *arg) {
  (void)arg;
  puts("task ran!");
  return COTP_ATOM_OK;
}

/* Process.alive?(pid) once the process had its chance to run. */
static bool alive_after_a_moment(cotp_pid pid) {
  cotp_sleep(10);
  return cotp_is_alive(pid);
}

static void starting(void) {
  cotp_pid spawn_pid, task_pid;
  cotp_spawn(say_spawn, NULL, &spawn_pid);
  if (!alive_after_a_moment(spawn_pid))
    puts("spawn is dead");
  cotp_task_start(say_task, NULL, &task_pid); /* {:ok, task_pid} */
  if (!alive_after_a_moment(task_pid))
    puts("task is dead");
}

/* --- Awaiting processes --- */

static cotp_term hello(void *arg) {
  (void)arg;
  return cotp_format(cotp_self_heap(), "{:msg, \"hello\"}");
}

/* A computation that takes a (lesson) second. */
static cotp_term computation(void *arg) {
  (void)arg;
  cotp_sleep(secs(1));
  return COTP_ATOM_OK;
}

static void awaiting(void) {
  puts("Task.async(fn -> {:msg, \"hello\"} end) |> Task.await()");
  cotp_task t;
  cotp_task_async(hello, NULL, &t);
  result(cotp_task_await(&t, COTP_TASK_DEFAULT_TIMEOUT));

  int64_t t0 = now_ms();
  computation(NULL);
  computation(NULL);
  int64_t sequential = now_ms() - t0;

  t0 = now_ms();
  cotp_task t1, t2;
  cotp_task_async(computation, NULL, &t1);
  cotp_task_async(computation, NULL, &t2);
  cotp_task_await(&t1, COTP_TASK_DEFAULT_TIMEOUT);
  cotp_task_await(&t2, COTP_TASK_DEFAULT_TIMEOUT);
  int64_t parallel = now_ms() - t0;

  printf("two computations of %ld ms each\n", unit_ms);
  printf("sequential: %lld ms\n", (long long)sequential);
  printf("parallel: %lld ms\n", (long long)parallel);
  printf("speed-up: %.1fx\n", (double)sequential / (double)(parallel ? parallel : 1));
}

/* --- Awaiting many tasks --- */

static cotp_term twice(void *arg) { return cotp_int(NULL, 2 * (int64_t)(intptr_t)arg); }

static void awaiting_many(void) {
  cotp_heap *h = cotp_self_heap();
  cotp_task tasks[5];
  cotp_term replies[5];

  puts("Enum.map(1..5, &Task.async(fn -> &1 * 2 end)) |> Enum.map(&Task.await/1)");
  for (int i = 0; i < 5; i++)
    cotp_task_async(twice, (void *)(intptr_t)(i + 1), &tasks[i]);
  for (int i = 0; i < 5; i++)
    replies[i] = cotp_task_await(&tasks[i], COTP_TASK_DEFAULT_TIMEOUT);
  result(cotp_list(h, 5, replies));

  puts("Enum.map(1..5, &Task.async(fn -> &1 * 2 end)) |> Task.await_many()");
  for (int i = 0; i < 5; i++)
    cotp_task_async(twice, (void *)(intptr_t)(i + 1), &tasks[i]);
  cotp_task_await_many(tasks, 5, COTP_TASK_DEFAULT_TIMEOUT, replies);
  result(cotp_list(h, 5, replies));
}

/* --- Timeouts --- */

static cotp_term sleep_six(void *arg) {
  (void)arg;
  cotp_sleep(secs(6));
  return COTP_ATOM_OK;
}

struct await_call {
  cotp_task *task;
  int64_t timeout;
};

static void await_it(void *arg) {
  struct await_call *c = arg;
  cotp_task_await(c->task, c->timeout);
}

/* What iex prints when await exits the shell process. */
static void show_exit(cotp_term reason) {
  cotp_term mfa = cotp_tuple_get(reason, 1);
  cotp_term args = cotp_tuple_get(mfa, 2);
  printf("** (exit) exited in: Task.%s(%%Task{...}, ", cotp_atom_name(cotp_tuple_get(mfa, 1), NULL));
  cotp_term_fprint(stdout, cotp_head(cotp_tail(args)));
  printf(")\n    ** (EXIT) ");
  if (cotp_term_eq(cotp_tuple_get(reason, 0), COTP_ATOM_TIMEOUT))
    puts("time out");
  else
    inspect(cotp_tuple_get(reason, 0));
}

static void timeouts(void) {
  cotp_heap *h = cotp_self_heap();
  cotp_task t;
  printf("Task.async(fn -> Process.sleep(%lld) end) |> Task.await(%lld)\n",
         (long long)secs(6), (long long)secs(5));
  cotp_task_async(sleep_six, NULL, &t);
  struct await_call call = {&t, secs(5)};
  cotp_term reason;
  /* the shell process would die here; catching it lets the lesson go on */
  if (cotp_catch_exit(await_it, &call, &reason) == 1)
    show_exit(reason);
  cotp_task_shutdown(&t, COTP_TASK_BRUTAL_KILL);

  printf("Task.async(fn -> Process.sleep(%lld) end) |> Task.await(%lld)\n",
         (long long)secs(6), (long long)secs(7));
  cotp_task_async(sleep_six, NULL, &t);
  result(cotp_task_await(&t, secs(7)));

  printf("Task.await_many([task1, task2], %lld)\n", (long long)secs(7));
  cotp_task two[2];
  cotp_term replies[2];
  cotp_task_async(sleep_six, NULL, &two[0]);
  cotp_task_async(sleep_six, NULL, &two[1]);
  cotp_task_await_many(two, 2, secs(7), replies);
  result(cotp_list(h, 2, replies));
}

static void root(void *arg) {
  (void)arg;
  cotp_set_log_level(COTP_LOG_ERROR + 1);
  puts("# Starting a process");
  starting();
  puts("# Awaiting processes");
  awaiting();
  puts("# Awaiting many tasks");
  awaiting_many();
  puts("# Timeouts");
  timeouts();
}

int main(int argc, char **argv) {
  read_unit(argc, argv);
  return run(root);
}
