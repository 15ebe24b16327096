/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book chapter 7.3, "A practical example": which of the top websites in a
 * CSV file answer an HTTP request, four requests at a time.
 *
 *   "top_websites.csv"
 *   |> File.stream!()
 *   |> NimbleCSV.RFC4180.parse_stream()
 *   |> Stream.map(fn [_, website, _] -> website end)
 *   |> Task.async_stream(&HTTPoison.get/1, timeout: :infinity,
 *                        ordered: false, max_concurrency: 4)
 *   |> Stream.filter(fn {:ok, _} -> true; _ -> false end)
 *   |> Enum.count()
 *
 *   reachability [unit_ms [csv]]
 *
 * The web is replaced by a server on 127.0.0.1 that this program starts,
 * so it runs anywhere: it answers every host but the ones whose name says
 * they are down, for which it hangs up.  HTTPoison.get/1 gives {:ok, _}
 * for any answer and {:error, _} when the connection fails, and so does
 * http_get below.  The file is read a line at a time as the stream asks.
 *
 * cotp-reach (apps/dl/reachability.c) is the same pipeline as a tool for
 * the real list: libcurl, a real CSV parser, timeouts; docs/http.md
 * compares the two.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <unistd.h>

#include "example.h"

static unsigned port;

/* --- the web: one process per connection --- */

static void serve(void *arg) {
  int fd = (int)(intptr_t)arg;
  char req[512];
  ssize_t n = cotp_read(fd, req, sizeof req - 1, secs(5));
  req[n > 0 ? n : 0] = '\0';
  cotp_sleep(secs(0.05)); /* the network is slow */
  if (!strstr(req, "down.") && !strstr(req, "gone.")) {
    const char *ok = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
    cotp_write(fd, ok, strlen(ok), secs(5));
  }
  close(fd);
}

static void web(void *arg) {
  int listener = (int)(intptr_t)arg;
  for (;;) {
    int fd = cotp_accept(listener, COTP_INFINITY);
    if (fd >= 0)
      cotp_spawn(serve, (void *)(intptr_t)fd, NULL);
  }
}

/* --- HTTPoison.get/1 --- */

static cotp_term http_get(cotp_term website, void *ctx) {
  (void)ctx;
  cotp_heap *h = cotp_self_heap();
  size_t len;
  const uint8_t *host = cotp_binary_data(website, &len);
  int fd = cotp_tcp_connect("127.0.0.1", port, secs(5));
  if (fd < 0)
    return cotp_format(h, "{:error, %{reason: :econnrefused}}");
  char req[512], resp[256];
  int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nhost: %.*s\r\n\r\n", (int)len, host);
  cotp_write(fd, req, (size_t)n, secs(5));
  ssize_t got = cotp_read(fd, resp, sizeof resp - 1, secs(5));
  close(fd);
  if (got <= 0)
    return cotp_format(h, "{:error, %{reason: :closed}}");
  resp[got] = '\0';
  int status = 0;
  sscanf(resp, "HTTP/1.1 %d", &status);
  return cotp_format(h, "{:ok, %{status_code: ~i}}", status);
}

/* --- File.stream! |> parse_stream |> Stream.map(second field) --- */

struct websites {
  cotp_iter it;
  FILE *f;
  char *buf;
  size_t cap;
};

static int websites_next(cotp_iter *it, cotp_heap *h, cotp_term *out) {
  struct websites *w = (struct websites *)it;
  for (;;) {
    if (!w->f || getline(&w->buf, &w->cap, w->f) < 0)
      return 0;
    /* 1,"fonts.googleapis.com",10: the quoted second field */
    char *open = strchr(w->buf, '"'), *end = open ? strchr(open + 1, '"') : NULL;
    if (!end)
      continue; /* a line that is not a row */
    *out = cotp_binary(h, open + 1, (size_t)(end - open - 1));
    return cotp_is_none(*out) ? COTP_ENOMEM : 1;
  }
}

static void websites_close(cotp_iter *it) {
  struct websites *w = (struct websites *)it;
  if (w->f)
    fclose(w->f);
  free(w->buf);
  w->f = NULL;
  w->buf = NULL;
}

static const char *csv = TASK_EXAMPLES_DIR "/top_websites.csv";

static void root(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  int listener = cotp_tcp_listen("127.0.0.1", 0, 64, &port);
  if (listener < 0) {
    printf("cannot listen: %s\n", cotp_strerror(listener));
    return;
  }
  cotp_pid server;
  cotp_spawn(web, (void *)(intptr_t)listener, &server);

  struct websites rows = {{websites_next, websites_close, NULL}, fopen(csv, "r"), NULL, 0};
  if (!rows.f) {
    perror(csv);
    cotp_exit_signal(server, COTP_ATOM_KILL);
    return;
  }
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  o.timeout_ms = COTP_INFINITY;
  o.ordered = false;
  o.max_concurrency = 4;
  cotp_iter *responses;
  cotp_task_async_stream(&rows.it, http_get, NULL, &o, &responses, NULL);
  int reachable = 0;
  cotp_term r;
  while (cotp_iter_next(responses, h, &r) == 1) {
    cotp_term response = cotp_tuple_get(r, 1); /* {:ok, response} of the task */
    reachable += cotp_term_eq(cotp_tuple_get(response, 0), COTP_ATOM_OK);
  }
  cotp_iter_close(responses);
  printf("Reachable website count: %d\n", reachable);
  cotp_exit_signal(server, COTP_ATOM_SHUTDOWN);
  close(listener);
}

int main(int argc, char **argv) {
  read_unit(argc, argv);
  if (argc > 2)
    csv = argv[2];
  return run(root);
}
