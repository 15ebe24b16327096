/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker.c: DownloadWorker, the GenServer that downloads one file (book
 * ch. 6.0), in the book's order:
 *
 *   init              traps exits, prepares the record (status :initiate),
 *                     and returns {:continue, :kickoff}
 *   handle_continue   opens DEST.part and starts the GET (dl_http_get),
 *                     the response streamed to this process
 *   handle_info       {:http_status} (>= 400 stops with the status),
 *                     {:http_headers} (the size; status :active),
 *                     {:http_chunk} (appended; stream_next asks for more),
 *                     {:http_end} (renames DEST.part to DEST; :finish),
 *                     {:http_error}, the idle check, {:EXIT, ...}
 *   handle_call       :status answers the record
 *   terminate         tells the manager how it ended ({:terminating, id,
 *                     download}), closes the file, deletes a partial one
 *
 * A download ends with a stop return: reason :normal when it finished,
 * {:shutdown, reason} when it failed (a failure of the download, not of
 * the program: no crash report), or whatever reason stopped the worker
 * from outside (:shutdown from the manager's remove).
 *
 * The idle check is a timer of its own, not a GenServer timeout: the
 * manager's status calls every second would keep re-arming a timeout, and
 * a stalled server would never be noticed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "download.h"
#include "http.h"

#define A(name) COTP_ATOM(name)

struct worker {
  dl_download d;
  int fd;             /* DEST.part; -1 when closed */
  char *part;         /* DEST.part's path */
  cotp_term req;      /* the HTTP request (immediate); NONE before and after */
  int64_t idle_ms, connect_ms;
  int64_t last_progress; /* monotonic ms of the last byte or event */
  cotp_term idle_timer;
};

static cotp_gs_ret fail(struct worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Stops with the download in the error state. */
static cotp_gs_ret fail(struct worker *w, const char *fmt, ...) {
  char text[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  w->d.status = DL_ERROR;
  dl_set_text(&w->d.error_reason, text);
  dl_set_text(&w->d.exit_status, "error");
  w->d.end_time = dl_now_ms();
  cotp_heap *h = cotp_self_heap();
  return cotp_gs_stop(COTP_TUPLE(h, COTP_ATOM_SHUTDOWN, cotp_binary(h, text, strlen(text))));
}

static void arm_idle(struct worker *w, int64_t ms) {
  cotp_send_after(ms, cotp_self(), A(idle_check), &w->idle_timer);
}

static cotp_gs_ret init(cotp_term arg, void **state) {
  /* Makes the worker run terminate/2 on an exit signal */
  cotp_trap_exit(true, NULL);
  struct worker *w = calloc(1, sizeof *w);
  if (!w || dl_download_from_term(cotp_tuple_get(arg, 0), &w->d) != 0) {
    free(w);
    return cotp_gs_stop(COTP_ATOM_BADARG);
  }
  *state = w;
  w->fd = -1;
  w->req = COTP_NONE;
  w->idle_timer = COTP_NONE;
  w->idle_ms = cotp_int_value(cotp_tuple_get(arg, 1));
  w->connect_ms = cotp_int_value(cotp_tuple_get(arg, 2));
  if (w->idle_ms <= 0)
    w->idle_ms = 30000;
  /* Prepare the new download record */
  w->d.pid = cotp_self();
  w->d.size = -1;
  w->d.status = DL_INITIATE;
  w->d.bytes_downloaded = 0;
  return cotp_gs_continue(cotp_gs_ok(), A(kickoff));
}

static cotp_gs_ret handle_continue(cotp_term arg, void **state) {
  (void)arg;
  struct worker *w = *state;
  if (asprintf(&w->part, "%s.part", w->d.dest) < 0) {
    w->part = NULL;
    return fail(w, "out of memory");
  }
  w->fd = open(w->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w->fd < 0)
    return fail(w, "cannot open %s: %s", w->part, strerror(errno));
  dl_http_opts o = DL_HTTP_OPTS_INIT;
  o.connect_timeout_ms = w->connect_ms;
  cotp_term ref;
  if (dl_http_get(w->d.src, &o, &ref) != 0)
    return fail(w, "cannot start the request");
  w->req = ref;
  w->last_progress = cotp_monotonic_ms();
  arm_idle(w, w->idle_ms);
  return cotp_gs_noreply();
}

static cotp_gs_ret handle_call(cotp_term request, cotp_genserver_from from,
                               void **state) {
  (void)request; /* :status */
  (void)from;
  struct worker *w = *state;
  return cotp_gs_reply(dl_download_to_term(cotp_self_heap(), &w->d));
}

/* The value of a header, copied into value (cap bytes); NULL if absent. */
static const char *header(cotp_term headers, const char *name, char *value, size_t cap) {
  for (cotp_term t = headers; cotp_is_cons(t); t = cotp_tail(t)) {
    size_t nl, vl;
    const uint8_t *n = cotp_binary_data(cotp_tuple_get(cotp_head(t), 0), &nl);
    const uint8_t *v = cotp_binary_data(cotp_tuple_get(cotp_head(t), 1), &vl);
    if (n && v && nl == strlen(name) && memcmp(n, name, nl) == 0 && vl < cap) {
      memcpy(value, v, vl);
      value[vl] = '\0';
      return value;
    }
  }
  return NULL;
}

/* Writes a chunk to the file: 0, or an errno value. */
static int append(struct worker *w, const uint8_t *data, size_t len) {
  while (len > 0) {
    ssize_t n = write(w->fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errno;
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

static cotp_gs_ret finish(struct worker *w) {
  w->req = COTP_NONE;
  if (w->d.size >= 0 && w->d.bytes_downloaded != w->d.size)
    return fail(w, "the body ended after %lld of %lld bytes",
                (long long)w->d.bytes_downloaded, (long long)w->d.size);
  int fd = w->fd;
  w->fd = -1;
  if (close(fd) != 0)
    return fail(w, "cannot write %s: %s", w->part, strerror(errno));
  if (rename(w->part, w->d.dest) != 0)
    return fail(w, "cannot rename %s: %s", w->part, strerror(errno));
  w->d.status = DL_FINISH;
  dl_set_text(&w->d.exit_status, "normal");
  w->d.end_time = dl_now_ms();
  if (!w->d.start_time)
    w->d.start_time = w->d.end_time;
  /* Since the download is finished we return {:stop, ...}, which invokes
   * the terminate callback */
  return cotp_gs_stop(COTP_ATOM_NORMAL);
}

static cotp_gs_ret handle_info(cotp_term msg, void **state) {
  struct worker *w = *state;
  cotp_term tag = cotp_tuple_get(msg, 0);
  if (cotp_term_eq(msg, A(idle_check))) {
    w->idle_timer = COTP_NONE;
    if (cotp_is_none(w->req))
      return cotp_gs_noreply();
    int64_t quiet = cotp_monotonic_ms() - w->last_progress;
    if (quiet >= w->idle_ms)
      return fail(w, "timeout: no data for %lld ms", (long long)quiet);
    arm_idle(w, w->idle_ms - quiet);
    return cotp_gs_noreply();
  }
  if (cotp_term_eq(tag, COTP_ATOM_EXIT)) /* trapped: stop as asked */
    return cotp_gs_stop(cotp_tuple_get(msg, 2));
  if (cotp_is_none(w->req) || !cotp_term_eq(cotp_tuple_get(msg, 1), w->req))
    return cotp_gs_noreply(); /* a late message of a cancelled request */
  w->last_progress = cotp_monotonic_ms();
  if (cotp_term_eq(tag, A(http_status))) {
    w->d.http_status = (int)cotp_int_value(cotp_tuple_get(msg, 2));
    if (w->d.http_status >= 400)
      return fail(w, "HTTP status %d", w->d.http_status);
  } else if (cotp_term_eq(tag, A(http_headers))) {
    /* The size from the "content-length" header */
    char buf[32];
    const char *len = header(cotp_tuple_get(msg, 2), "content-length", buf, sizeof buf);
    w->d.size = len ? strtoll(len, NULL, 10) : -1;
    w->d.status = DL_ACTIVE;
    w->d.start_time = dl_now_ms();
  } else if (cotp_term_eq(tag, A(http_chunk))) {
    size_t len;
    const uint8_t *data = cotp_binary_data(cotp_tuple_get(msg, 2), &len);
    int e = append(w, data, len);
    if (e)
      return fail(w, "cannot write %s: %s", w->part, strerror(e));
    w->d.bytes_downloaded += (int64_t)len;
    dl_http_stream_next(w->req);
  } else if (cotp_term_eq(tag, A(http_end))) {
    return finish(w);
  } else if (cotp_term_eq(tag, A(http_error))) {
    size_t len;
    const uint8_t *why = cotp_binary_data(cotp_tuple_get(msg, 2), &len);
    w->req = COTP_NONE;
    return fail(w, "%.*s", (int)len, why ? (const char *)why : "");
  }
  return cotp_gs_noreply();
}

static void terminate(cotp_term reason, void *state) {
  struct worker *w = state;
  if (!cotp_is_none(w->req)) {
    dl_http_cancel(w->req);
    w->req = COTP_NONE;
  }
  if (!cotp_is_none(w->idle_timer))
    cotp_cancel_timer(w->idle_timer, NULL);
  if (w->fd >= 0) {
    close(w->fd);
    w->fd = -1;
  }
  if (!dl_status_final(w->d.status)) {
    /* stopped from outside: removed, or the program is stopping */
    w->d.status = DL_CANCEL;
    w->d.end_time = dl_now_ms();
    char *r = cotp_is_atom(reason) ? NULL : cotp_term_to_string(reason);
    dl_set_text(&w->d.exit_status, r ? "shutdown" : cotp_atom_name(reason, NULL));
    free(r);
  }
  if (w->d.status != DL_FINISH && w->part)
    unlink(w->part); /* a partial file is never left behind */
  /* Inform the manager about the download's end */
  cotp_heap *h = cotp_self_heap();
  cotp_send(w->d.from, COTP_TUPLE(h, A(terminating), cotp_string(h, w->d.id),
                                  dl_download_to_term(h, &w->d)));
}

static void free_state(void *state) {
  struct worker *w = state;
  if (!w)
    return;
  if (w->fd >= 0)
    close(w->fd);
  dl_download_clear(&w->d);
  free(w->part);
  free(w);
}

static cotp_term format_status(cotp_heap *h, void *state) {
  struct worker *w = state;
  return dl_download_to_term(h, &w->d);
}

const cotp_genserver_callbacks dl_worker_callbacks = {
    .name = "DownloadWorker",
    .init = init,
    .handle_call = handle_call,
    .handle_info = handle_info,
    .handle_continue = handle_continue,
    .terminate = terminate,
    .format_status = format_status,
    .free_state = free_state,
};
