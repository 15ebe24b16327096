/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tasks.c: Task.async + await_many and Task.async_stream, twin of
 * bench/beam/tasks.exs.
 *
 *   1..n |> Enum.map(&Task.async(fn -> &1 * 2 end)) |> Task.await_many()
 *        |> Enum.sum()
 *   1..n |> Task.async_stream(fn i -> i * 2 end)
 *        |> Enum.reduce(0, fn {:ok, v}, a -> a + v end)
 *   the same, ordered: false, max_concurrency: 64
 *
 * N (100,000) tasks or items each; the sums are checked.
 *
 *   task_async_await <ns per task> ns
 *   async_stream_ordered <ns per item> ns
 *   async_stream_unordered <ns per item> ns
 */
#include "bench.h"

static cotp_term twice(void *arg) {
  return cotp_int(NULL, 2 * (int64_t)(intptr_t)arg);
}

static cotp_term twice_item(cotp_term x, void *ctx) {
  (void)ctx;
  return cotp_int(NULL, 2 * cotp_int_value(x));
}

static void check_sum(const char *what, int64_t sum, long n) {
  if (sum != (int64_t)n * (n + 1))
    bench_die("%s: sum %lld, expected %lld", what, (long long)sum,
              (long long)n * (n + 1));
}

static double async_await(long n) {
  cotp_task *tasks = malloc((size_t)n * sizeof *tasks);
  cotp_term *replies = malloc((size_t)n * sizeof *replies);
  if (!tasks || !replies)
    bench_die("out of memory");
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  int64_t t0 = bench_now_ns();
  for (long i = 0; i < n; i++)
    bench_check(cotp_task_async(twice, (void *)(intptr_t)(i + 1), &tasks[i]), "async");
  bench_check(cotp_task_await_many(tasks, (size_t)n, COTP_TASK_DEFAULT_TIMEOUT, replies),
              "await_many");
  int64_t sum = 0;
  for (long i = 0; i < n; i++)
    sum += cotp_int_value(replies[i]);
  int64_t t1 = bench_now_ns();
  cotp_heap_release(h, mark);
  check_sum("task_async_await", sum, n);
  free(tasks);
  free(replies);
  return (double)(t1 - t0) / (double)n;
}

static double stream(long n, bool ordered, unsigned max_concurrency) {
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  int64_t t0 = bench_now_ns();
  cotp_iter_range in;
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  o.ordered = ordered;
  o.max_concurrency = max_concurrency;
  cotp_iter *out;
  bench_check(cotp_task_async_stream(cotp_iter_range_init(&in, 1, n, 1), twice_item, NULL,
                                     &o, &out, NULL), "async_stream");
  int64_t sum = 0;
  cotp_term r;
  int rc;
  while ((rc = cotp_iter_next(out, h, &r)) == 1) {
    sum += cotp_int_value(cotp_tuple_get(r, 1));
    cotp_heap_release(h, mark);
  }
  bench_check(rc, "next");
  cotp_iter_close(out);
  int64_t t1 = bench_now_ns();
  check_sum(ordered ? "async_stream_ordered" : "async_stream_unordered", sum, n);
  return (double)(t1 - t0) / (double)n;
}

static void root(void *arg) {
  long n = *(long *)arg;
  bench_figure("task_async_await", async_await(n), "ns");
  bench_figure("async_stream_ordered", stream(n, true, 0), "ns");
  bench_figure("async_stream_unordered", stream(n, false, 64), "ns");
}

int main(void) {
  long n = bench_env("N", 100000);
  bench_run(root, &n);
  return 0;
}
