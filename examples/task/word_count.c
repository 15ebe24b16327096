/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book chapter 7.3, Task.async_stream: a file read lazily, one line at a
 * time, each line's words counted in a task, the counts added up; and the
 * chapter's first example, ten calls to a slow service one after the
 * other and then through async_stream.
 *
 *   "file.txt" |> File.stream!() |> Task.async_stream(&count_words/1)
 *   |> Enum.reduce(0, fn {:ok, n}, acc -> n + acc end)
 *
 *   word_count [unit_ms [file]]    (the file: this program's source, by
 *                                    default the lines below)
 *
 * The input iterator reads a line only when the stream asks for one, and
 * the stream runs at most max_concurrency tasks, so a file of any size
 * is counted in the memory of a few lines.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <string.h>

#include "example.h"

/* --- File.stream!/1: the lines of a file, read as they are asked for --- */

struct lines {
  cotp_iter it;
  FILE *f;
  char *buf;
  size_t cap;
};

static int lines_next(cotp_iter *it, cotp_heap *h, cotp_term *out) {
  struct lines *l = (struct lines *)it;
  ssize_t n = l->f ? getline(&l->buf, &l->cap, l->f) : -1;
  if (n < 0)
    return 0;
  *out = cotp_binary(h, l->buf, (size_t)n);
  return cotp_is_none(*out) ? COTP_ENOMEM : 1;
}

static void lines_close(cotp_iter *it) {
  struct lines *l = (struct lines *)it;
  if (l->f)
    fclose(l->f);
  free(l->buf);
  l->f = NULL;
  l->buf = NULL;
}

/* --- the work of one task: the words of a line --- */

static cotp_term count_words(cotp_term line, void *ctx) {
  (void)ctx;
  size_t n;
  const uint8_t *s = cotp_binary_data(line, &n);
  int64_t words = 0;
  bool in_word = false;
  for (size_t i = 0; i < n; i++) {
    bool space = isspace(s[i]);
    words += !space && !in_word;
    in_word = !space;
  }
  return cotp_int(NULL, words);
}

static const char *poem =
    "[\"Tasks are processes meant to execute one particular action\",\n"
    " \"throughout their lifetime, often with little or no communication\",\n"
    " \"with other processes.\",\n"
    " \"The most common use case for tasks is to convert sequential code\",\n"
    " \"into concurrent code by computing a value asynchronously.\"]";

static void count_file(const char *path) {
  cotp_heap *h = cotp_self_heap();
  struct lines file = {{lines_next, lines_close, NULL}, NULL, NULL, 0};
  cotp_iter_list text;
  cotp_iter *input;
  if (path) {
    file.f = fopen(path, "r");
    if (!file.f) {
      perror(path);
      return;
    }
    input = &file.it;
  } else {
    input = cotp_iter_list_init(&text, cotp_parse(h, poem));
  }
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  o.ordered = false; /* a sum does not care about order */
  cotp_iter *counts;
  cotp_error err;
  if (cotp_task_async_stream(input, count_words, NULL, &o, &counts, &err) != 0) {
    printf("async_stream: %s\n", err.message);
    return;
  }
  int64_t words = 0, lines = 0;
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  cotp_term r;
  while (cotp_iter_next(counts, h, &r) == 1) { /* {:ok, n} */
    words += cotp_int_value(cotp_tuple_get(r, 1));
    lines++;
    cotp_heap_release(h, mark);
  }
  cotp_iter_close(counts); /* closes the file too */
  printf("lines: %lld\nwords: %lld\n", (long long)lines, (long long)words);
}

/* --- get_chuknorris_joke.(): a slow service, simulated --- */

static const char *jokes[] = {
    "Chuck Norris counted to infinity. Twice.",
    "Chuck Norris can unit test an entire application with a single assert.",
    "Chuck Norris's keyboard has no Ctrl key. Chuck Norris is always in control.",
};

static cotp_term get_joke(cotp_term n, void *ctx) {
  (void)ctx;
  cotp_sleep(secs(0.2)); /* the round trip to the API */
  return cotp_string(cotp_self_heap(), jokes[cotp_int_value(n) % 3]);
}

static void jokes_sequential_then_concurrent(void) {
  cotp_heap *h = cotp_self_heap();
  puts("Enum.map(1..10, fn _ -> get_chuknorris_joke.() end)");
  int64_t t0 = now_ms();
  for (int i = 1; i <= 10; i++)
    get_joke(cotp_int(h, i), NULL);
  int64_t sequential = now_ms() - t0;
  printf("took %lld ms\n", (long long)sequential);

  puts("1..10 |> Task.async_stream(fn _ -> get_chuknorris_joke.() end) |> Enum.to_list()");
  t0 = now_ms();
  cotp_iter_range in;
  cotp_iter *stream;
  cotp_task_async_stream(cotp_iter_range_init(&in, 1, 10, 1), get_joke, NULL, NULL, &stream, NULL);
  cotp_term r, first = COTP_NONE;
  int n = 0;
  while (cotp_iter_next(stream, h, &r) == 1)
    if (n++ == 0)
      first = r;
  cotp_iter_close(stream);
  int64_t concurrent = now_ms() - t0;
  printf("%d jokes, the first: ", n);
  inspect(first);
  printf("took %lld ms (%u at a time)\n", (long long)concurrent, cotp_schedulers_online());
  printf("faster: %s\n", concurrent < sequential ? "yes" : "no");
}

static const char *path;

static void root(void *arg) {
  (void)arg;
  count_file(path);
  jokes_sequential_then_concurrent();
}

int main(int argc, char **argv) {
  read_unit(argc, argv);
  path = argc > 2 ? argv[2] : NULL;
  return run(root);
}
