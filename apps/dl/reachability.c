/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp-reach: book chapter 7.3's reachability checker, over real HTTP.
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
 *   cotp-reach [-c MAX_CONCURRENCY] [-t TIMEOUT_MS] [CSV]
 *
 * The file is read a line at a time as the stream asks, each line parsed
 * by libcsv (RFC 4180, strict); a line that is not a row of three fields
 * is reported with its number and skipped, and the others go on.  Each
 * site gets a GET of http://SITE/ through the HTTP client (apps/dl/http.h)
 * in a task of the stream (unordered, max_concurrency 4 by default); any
 * HTTP answer counts as reachable, as HTTPoison's {:ok, response} does.
 * A task that takes longer than the timeout (5000 ms by default) is killed
 * (on_timeout: :kill_task) and counts as a failure.  Prints the count of
 * reachable sites, then each failure with its reason.
 */
#define _GNU_SOURCE
#include <csv.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define A(name) COTP_ATOM(name)

static const char *csv_path = "top_websites.csv";
static unsigned max_concurrency = 4;
static int64_t timeout_ms = 5000;
static int status;

/* --- File.stream! |> parse_stream |> Stream.map(second field) --- */

struct row {
  char *fields[3];
  size_t n; /* fields seen, however many */
};

static void on_field(void *s, size_t len, void *arg) {
  struct row *r = arg;
  if (r->n < 3)
    r->fields[r->n] = strndup(s, len);
  r->n++;
}

static void on_row(int c, void *arg) {
  (void)c;
  (void)arg;
}

struct websites {
  cotp_iter it;
  FILE *f;
  char *buf;
  size_t cap;
  long line;
};

static int websites_next(cotp_iter *it, cotp_heap *h, cotp_term *out) {
  struct websites *w = (struct websites *)it;
  for (;;) {
    ssize_t len;
    if (!w->f || (len = getline(&w->buf, &w->cap, w->f)) < 0)
      return 0;
    w->line++;
    while (len > 0 && (w->buf[len - 1] == '\n' || w->buf[len - 1] == '\r'))
      w->buf[--len] = '\0';
    if (len == 0)
      continue;
    struct csv_parser p;
    struct row r = {{NULL, NULL, NULL}, 0};
    csv_init(&p, CSV_STRICT | CSV_STRICT_FINI);
    bool bad = csv_parse(&p, w->buf, (size_t)len, on_field, on_row, &r) != (size_t)len ||
               csv_fini(&p, on_field, on_row, &r) != 0;
    const char *why = bad ? csv_strerror(csv_error(&p)) : r.n != 3 ? "not 3 fields" : NULL;
    csv_free(&p);
    if (!why && (!r.fields[1] || !r.fields[1][0]))
      why = "empty website";
    if (why)
      fprintf(stderr, "%s:%ld: malformed row (%s), skipped: %s\n", csv_path, w->line, why,
              w->buf);
    else
      *out = cotp_binary(h, r.fields[1], strlen(r.fields[1]));
    for (int i = 0; i < 3; i++)
      free(r.fields[i]);
    if (!why)
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

/* --- HTTPoison.get/1 --- */

/* {:ok, %{status_code: code}} or {:error, %{reason: text}}, for website */
static cotp_term http_get(cotp_term website, void *ctx) {
  (void)ctx;
  cotp_heap *h = cotp_self_heap();
  size_t len;
  const uint8_t *site = cotp_binary_data(website, &len);
  char url[600];
  bool scheme = memmem(site, len, "://", 3) != NULL;
  snprintf(url, sizeof url, "%s%.*s%s", scheme ? "" : "http://", (int)len, site,
           scheme || memchr(site, '/', len) ? "" : "/");
  dl_http_opts o = DL_HTTP_OPTS_INIT;
  o.connect_timeout_ms = timeout_ms;
  cotp_term ref, value;
  if (dl_http_get(url, &o, &ref) != 0)
    return cotp_format(h, "{:error, %{reason: \"cannot start the request\", site: ~t}}",
                       website);
  cotp_clause c[2] = {
      {cotp_pattern_cached("{:http_status, ^ref, value}", NULL), &ref, &value},
      {cotp_pattern_cached("{:http_error, ^ref, value}", NULL), &ref, &value},
  };
  int which = cotp_receive_match(c, 2, COTP_INFINITY, 0, NULL);
  if (which == 0) {
    dl_http_cancel(ref); /* the answer is all we wanted */
    return cotp_format(h, "{:ok, %{status_code: ~t}}", value);
  }
  return cotp_format(h, "{:error, %{reason: ~t, site: ~t}}", value, website);
}

/* --- the pipeline --- */

static void print_binary(cotp_term t) {
  size_t len;
  const uint8_t *s = cotp_binary_data(t, &len);
  if (s)
    printf("%.*s", (int)len, (const char *)s);
  else
    cotp_term_fprint(stdout, t);
}

static void root(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  if (dl_http_start_link(NULL) != 0) {
    fprintf(stderr, "cotp-reach: cannot start the HTTP client\n");
    status = 1;
    return;
  }
  struct websites rows = {{websites_next, websites_close, NULL}, fopen(csv_path, "r"), NULL, 0,
                          0};
  if (!rows.f) {
    perror(csv_path);
    status = 1;
    dl_http_stop();
    return;
  }
  cotp_task_stream_opts o = COTP_TASK_STREAM_OPTS_INIT;
  o.timeout_ms = timeout_ms;
  o.on_timeout = COTP_TASK_ON_TIMEOUT_KILL_TASK;
  o.zip_input_on_exit = true;
  o.ordered = false;
  o.max_concurrency = max_concurrency;
  cotp_iter *responses;
  cotp_error err;
  if (cotp_task_async_stream(&rows.it, http_get, NULL, &o, &responses, &err) != 0) {
    fprintf(stderr, "cotp-reach: %s\n", err.message);
    status = 1;
    dl_http_stop();
    return;
  }
  int reachable = 0;
  cotp_term r, failures = COTP_NIL;
  cotp_heap *keep = cotp_heap_new();
  while (cotp_iter_next(responses, h, &r) == 1) {
    /* {:ok, {:ok, resp}}, {:ok, {:error, e}}, or {:exit, {site, :timeout}} */
    cotp_term result = cotp_tuple_get(r, 1);
    if (cotp_term_eq(cotp_tuple_get(r, 0), COTP_ATOM_OK) &&
        cotp_term_eq(cotp_tuple_get(result, 0), COTP_ATOM_OK))
      reachable++;
    else
      failures = cotp_cons(keep, cotp_term_copy(keep, r), failures);
  }
  cotp_iter_close(responses);
  printf("Reachable website count: %d\n", reachable);
  for (cotp_term t = failures; cotp_is_cons(t); t = cotp_tail(t)) {
    cotp_term f = cotp_head(t), v = cotp_tuple_get(f, 1);
    if (cotp_term_eq(cotp_tuple_get(f, 0), COTP_ATOM_OK)) {
      cotp_term e = cotp_tuple_get(v, 1);
      printf("  ");
      print_binary(cotp_map_get(e, A(site)));
      printf(": ");
      print_binary(cotp_map_get(e, A(reason)));
    } else { /* {site, reason} */
      printf("  ");
      print_binary(cotp_tuple_get(v, 0));
      printf(": ");
      cotp_term_fprint(stdout, cotp_tuple_get(v, 1));
    }
    printf("\n");
  }
  cotp_heap_free(keep);
  dl_http_stop();
}

int main(int argc, char **argv) {
  int c;
  while ((c = getopt(argc, argv, "c:t:h")) != -1) {
    switch (c) {
    case 'c': max_concurrency = (unsigned)atoi(optarg); break;
    case 't': timeout_ms = atol(optarg) > 0 ? atol(optarg) : 5000; break;
    default:
      fprintf(stderr, "usage: cotp-reach [-c MAX_CONCURRENCY] [-t TIMEOUT_MS] [CSV]\n");
      return c == 'h' ? 0 : 2;
    }
  }
  if (optind < argc)
    csv_path = argv[optind];
  setvbuf(stdout, NULL, _IOLBF, 0);
  cotp_set_log_level(COTP_LOG_ERROR + 1);
  if (cotp_run(root, NULL, NULL, NULL, NULL) < 0)
    return 1;
  return status;
}
