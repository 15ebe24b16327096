/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.c: the HTTP client, a GenServer driving a curl multi handle.
 *
 * curl's multi socket interface asks the application two things: watch
 * these sockets for these events (CURLMOPT_SOCKETFUNCTION) and call me
 * back after this many milliseconds (CURLMOPT_TIMERFUNCTION); the
 * application then reports each event with curl_multi_socket_action().
 * Here:
 *
 *  - Sockets go into a private epoll set, never into the runtime's.  One
 *    small waiter process parks in cotp_wait_fd() on that epoll descriptor
 *    (an epoll set is itself pollable: readable when any member is ready)
 *    and sends {:curl_io} to the client.  The client drains the ready
 *    sockets with epoll_wait(..., 0), hands each to curl, and sends the
 *    waiter {:curl_rearm}: one waiter and two messages per round however
 *    many sockets were ready, and no busy loop on level-triggered events.
 *  - curl's timer is a cotp_send_after() of {:curl_timer, seq} to the
 *    client; a newer timer cancels the older one, and the sequence number
 *    recognises one that fired while it was being replaced.
 *  - The body goes to the receiver in {:http_chunk} messages; a second
 *    chunk before the receiver's stream_next pauses the transfer
 *    (CURL_WRITEFUNC_PAUSE keeps that data in curl) until stream_next
 *    unpauses it.
 *
 * Rejected: a waiter process per socket, waiting in the runtime's epoll.
 * A socket's waiter must be stopped before curl closes the socket, and a
 * process killed while in cotp_wait_fd disarms its descriptor number only
 * after its monitors and cleanups ran (docs/http.md): by then curl may
 * have closed the socket and the number may belong to another process's
 * wait.  With a private set, curl closes its sockets as it likes and the
 * runtime only ever sees the set, which lives as long as the client.
 *
 * Invariants:
 *  1. All curl calls happen inside the client process (the multi handle is
 *     not thread-safe; the process may change threads between calls, which
 *     curl does not mind).
 *  2. The waiter is in cotp_wait_fd only between a {:curl_rearm} (or its
 *     start) and its next {:curl_io}; the client closes the epoll set only
 *     after the waiter has exited on its own (terminate), never while it
 *     may still be armed.
 *  3. A request's messages go to its receiver in order: status and
 *     headers before the first chunk, the end or the error last.
 *
 * Context: every function here but the public API runs inside the client.
 */
#define _GNU_SOURCE
#include "http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define A(name) COTP_ATOM(name)

struct client;

/* One transfer.  Owned by the client process. */
struct req {
  struct client *c;
  CURL *easy;
  cotp_term ref;     /* the request's reference (immediate) */
  cotp_pid to;       /* the receiver */
  cotp_term mon;     /* the client's monitor of the receiver */
  bool awaiting;     /* a chunk was sent; no stream_next yet */
  bool paused;       /* curl holds data until stream_next */
  bool head_sent;    /* status and headers went out */
  cotp_heap *heap;   /* the headers of the response being read */
  cotp_term headers; /* reversed list of {name, value} in heap */
  char err[CURL_ERROR_SIZE];
};

struct client {
  CURLM *multi;
  int epfd;  /* the private epoll set of curl's sockets */
  int evfd;  /* in the set: written to wake the waiter for a stop */
  cotp_pid waiter;
  cotp_term waiter_mon;
  uint64_t timer_seq;  /* the armed timer's number */
  cotp_term timer_ref; /* NONE when no timer is armed */
  /* O(n) lookups by reference; fine for the hundreds of transfers a
   * download manager runs. */
  struct req **reqs;
  size_t n, cap;
  bool closed; /* terminate closed the set (invariant 2) */
};

/* --- sending to receivers --- */

static void send_to(struct req *r, cotp_term msg) { cotp_send(r->to, msg); }

static void send_head(struct req *r) {
  if (r->head_sent)
    return;
  r->head_sent = true;
  cotp_heap *h = cotp_self_heap();
  long code = 0;
  curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
  send_to(r, COTP_TUPLE(h, A(http_status), r->ref, cotp_int(h, code)));
  /* the list was built newest first */
  cotp_term list = COTP_NIL;
  for (cotp_term t = r->headers; cotp_is_cons(t); t = cotp_tail(t))
    list = cotp_cons(h, cotp_head(t), list);
  send_to(r, COTP_TUPLE(h, A(http_headers), r->ref, list));
}

static void send_error(struct req *r, const char *what, const char *detail) {
  cotp_heap *h = cotp_self_heap();
  char text[CURL_ERROR_SIZE + 128];
  if (detail && *detail)
    snprintf(text, sizeof text, "%s: %s", what, detail);
  else
    snprintf(text, sizeof text, "%s", what);
  send_to(r, COTP_TUPLE(h, A(http_error), r->ref, cotp_string(h, text)));
}

/* --- curl's callbacks (called inside curl calls the client makes) --- */

static size_t on_header(char *line, size_t size, size_t n, void *arg) {
  struct req *r = arg;
  size_t len = size * n;
  if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
    /* a new response (after a redirect or a 100): forget the last one */
    cotp_heap_free(r->heap);
    r->heap = cotp_heap_new();
    r->headers = COTP_NIL;
    return len;
  }
  const char *colon = memchr(line, ':', len);
  if (!colon || !r->heap)
    return len;
  char name[128];
  size_t nl = (size_t)(colon - line);
  if (nl >= sizeof name)
    return len;
  for (size_t i = 0; i < nl; i++)
    name[i] = (char)tolower((unsigned char)line[i]);
  const char *v = colon + 1, *end = line + len;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
    end--;
  cotp_term pair = COTP_TUPLE(r->heap, cotp_binary(r->heap, name, nl),
                              cotp_binary(r->heap, v, (size_t)(end - v)));
  r->headers = cotp_cons(r->heap, pair, r->headers);
  return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg) {
  struct req *r = arg;
  if (r->awaiting) {
    r->paused = true;
    return CURL_WRITEFUNC_PAUSE;
  }
  size_t len = size * n;
  send_head(r);
  cotp_heap *h = cotp_self_heap();
  send_to(r, COTP_TUPLE(h, A(http_chunk), r->ref, cotp_binary(h, data, len)));
  r->awaiting = true;
  return len;
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *arg,
                     void *sockp) {
  (void)easy;
  (void)sockp;
  struct client *c = arg;
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(c->epfd, EPOLL_CTL_DEL, s, NULL);
    return 0;
  }
  struct epoll_event ev = {.events = 0, .data.fd = s};
  if (what & CURL_POLL_IN)
    ev.events |= EPOLLIN;
  if (what & CURL_POLL_OUT)
    ev.events |= EPOLLOUT;
  if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, s, &ev) != 0)
    epoll_ctl(c->epfd, EPOLL_CTL_ADD, s, &ev);
  return 0;
}

static int on_timer(CURLM *multi, long ms, void *arg) {
  (void)multi;
  struct client *c = arg;
  if (!cotp_is_none(c->timer_ref)) {
    cotp_cancel_timer(c->timer_ref, NULL);
    c->timer_ref = COTP_NONE;
  }
  c->timer_seq++;
  if (ms < 0)
    return 0;
  cotp_heap *h = cotp_self_heap();
  cotp_term msg = COTP_TUPLE(h, A(curl_timer), cotp_int(h, (int64_t)c->timer_seq));
  /* curl may not be called back from inside its own callback: even "now"
   * is a message to ourselves */
  if (ms == 0)
    cotp_send(cotp_self(), msg);
  else
    cotp_send_after(ms, cotp_self(), msg, &c->timer_ref);
  return 0;
}

/* --- requests --- */

static struct req *find(struct client *c, cotp_term ref, size_t *at) {
  for (size_t i = 0; i < c->n; i++)
    if (cotp_term_eq(c->reqs[i]->ref, ref)) {
      if (at)
        *at = i;
      return c->reqs[i];
    }
  return NULL;
}

static void req_free(struct client *c, struct req *r, bool demonitor) {
  curl_multi_remove_handle(c->multi, r->easy);
  curl_easy_cleanup(r->easy);
  cotp_heap_free(r->heap);
  if (demonitor) {
    /* the receiver may have other requests: keep their monitor */
    bool shared = false;
    for (size_t i = 0; i < c->n; i++)
      shared |= c->reqs[i] != r && cotp_term_eq(c->reqs[i]->mon, r->mon);
    if (!shared)
      cotp_demonitor(r->mon, COTP_DEMONITOR_FLUSH);
  }
  free(r);
}

static void req_remove(struct client *c, size_t at, bool demonitor) {
  struct req *r = c->reqs[at];
  c->reqs[at] = c->reqs[--c->n];
  req_free(c, r, demonitor);
}

static void start_get(struct client *c, cotp_term msg) {
  /* {:get, to, ref, url, connect_timeout_ms, follow, ca_file | nil} */
  cotp_pid to = cotp_get_pid(cotp_tuple_get(msg, 1));
  cotp_term ref = cotp_tuple_get(msg, 2);
  size_t len;
  const uint8_t *u = cotp_binary_data(cotp_tuple_get(msg, 3), &len);
  int64_t connect_ms = cotp_int_value(cotp_tuple_get(msg, 4));
  bool follow = cotp_term_eq(cotp_tuple_get(msg, 5), COTP_ATOM_TRUE);
  /* One monitor per receiver, shared by its requests.  Made before
   * anything is allocated: cotp_monitor may give way, and a kill then
   * would strand what this holds. */
  cotp_term mon = COTP_NONE;
  for (size_t i = 0; i < c->n; i++)
    if (cotp_pid_eq(c->reqs[i]->to, to)) {
      mon = c->reqs[i]->mon;
      break;
    }
  bool known = !cotp_is_none(mon);
  if (!known)
    cotp_monitor(to, &mon);
  struct req *r = calloc(1, sizeof *r);
  char *url = strndup((const char *)u, len);
  size_t ca_len = 0;
  const uint8_t *ca = cotp_binary_data(cotp_tuple_get(msg, 6), &ca_len);
  char *ca_file = ca ? strndup((const char *)ca, ca_len) : NULL;
  if (!r || !url || (ca && !ca_file) || (c->n == c->cap &&
                     !(c->reqs = realloc(c->reqs, (c->cap = c->cap * 2 + 8) *
                                                      sizeof *c->reqs)))) {
    free(r);
    free(url);
    free(ca_file);
    if (!known)
      cotp_demonitor(mon, COTP_DEMONITOR_FLUSH);
    cotp_heap *h = cotp_self_heap();
    cotp_send(to, COTP_TUPLE(h, A(http_error), ref, cotp_string(h, "out of memory")));
    return;
  }
  *r = (struct req){.c = c, .ref = ref, .to = to, .heap = cotp_heap_new(),
                    .headers = COTP_NIL, .mon = mon};
  r->easy = curl_easy_init();
  CURL *e = r->easy;
  curl_easy_setopt(e, CURLOPT_URL, url);
  free(url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, r);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->err);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(connect_ms > 0 ? connect_ms : 10000));
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 65536L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "cotp-dl/0.1");
  if (ca_file) { /* curl copies the string */
    curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
    free(ca_file);
  }
  /* a proxy from the environment must not capture loopback (the tests,
   * the embedded server) unless the user said so with no_proxy */
  if (!getenv("no_proxy") && !getenv("NO_PROXY"))
    curl_easy_setopt(e, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
  c->reqs[c->n++] = r;
  CURLMcode mc = curl_multi_add_handle(c->multi, e);
  if (mc != CURLM_OK) {
    send_error(r, "cannot start the request", curl_multi_strerror(mc));
    req_remove(c, c->n - 1, true);
  }
}

/* Reports and frees the transfers curl has finished. */
static void reap(struct client *c) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(c->multi, &left))) {
    if (m->msg != CURLMSG_DONE)
      continue;
    struct req *r = NULL;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
    CURLcode rc = m->data.result;
    size_t at;
    if (!r || !find(c, r->ref, &at))
      continue;
    if (rc == CURLE_OK) {
      send_head(r);
      cotp_heap *h = cotp_self_heap();
      send_to(r, COTP_TUPLE(h, A(http_end), r->ref));
    } else {
      send_error(r, curl_easy_strerror(rc), r->err);
    }
    req_remove(c, at, true);
  }
}

static void socket_action(struct client *c, curl_socket_t s, int events) {
  int running;
  curl_multi_socket_action(c->multi, s, events, &running);
  reap(c);
}

/* The waiter said the set is readable: serve what is ready, then rearm. */
static void serve_io(struct client *c) {
  struct epoll_event ev[64];
  int n = epoll_wait(c->epfd, ev, 64, 0);
  for (int i = 0; i < n; i++) {
    if (ev[i].data.fd == c->evfd)
      continue; /* a stop is coming; the waiter reads it as a message */
    int flags = 0;
    if (ev[i].events & EPOLLIN)
      flags |= CURL_CSELECT_IN;
    if (ev[i].events & EPOLLOUT)
      flags |= CURL_CSELECT_OUT;
    if (ev[i].events & (EPOLLERR | EPOLLHUP))
      flags |= CURL_CSELECT_ERR;
    socket_action(c, ev[i].data.fd, flags);
  }
  cotp_send(c->waiter, A(curl_rearm));
}

/* --- the waiter --- */

struct waiter_arg {
  int epfd;
  cotp_pid client;
};

static void waiter(void *arg) {
  struct waiter_arg w = *(struct waiter_arg *)arg;
  cotp_term io = COTP_TUPLE(cotp_self_heap(), A(curl_io));
  for (;;) {
    if (cotp_wait_fd(w.epfd, COTP_READABLE, COTP_INFINITY, NULL) != 0)
      cotp_exit(A(epoll_wait_failed));
    cotp_send(w.client, io);
    cotp_term msg;
    cotp_receive(COTP_INFINITY, &msg);
    if (!cotp_term_eq(msg, A(curl_rearm)))
      return; /* :curl_stop */
  }
}

/* --- the GenServer --- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static cotp_gs_ret init(cotp_term arg, void **state) {
  (void)arg;
  pthread_once(&curl_once, curl_init);
  if (curl_init_rc != CURLE_OK)
    return cotp_gs_stop(A(curl_global_init_failed));
  struct client *c = calloc(1, sizeof *c);
  if (!c)
    return cotp_gs_stop(A(enomem));
  *state = c;
  c->timer_ref = COTP_NONE;
  c->epfd = epoll_create1(EPOLL_CLOEXEC);
  c->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  c->multi = curl_multi_init();
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = c->evfd};
  if (c->epfd < 0 || c->evfd < 0 || !c->multi ||
      epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->evfd, &ev) != 0) {
    c->closed = true; /* no waiter yet: free_state may close them */
    return cotp_gs_stop(A(cannot_start_curl));
  }
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
  curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
  struct waiter_arg w = {c->epfd, cotp_self()};
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  o.arg_size = sizeof w;
  o.link = true; /* the client is useless without it, and vice versa */
  o.monitor = true;
  o.monitor_ref = &c->waiter_mon;
  if (cotp_spawn_opt(waiter, &w, &o, &c->waiter) != 0) {
    c->closed = true;
    return cotp_gs_stop(A(cannot_spawn_waiter));
  }
  return cotp_gs_ok();
}

static cotp_gs_ret handle_cast(cotp_term req, void **state) {
  struct client *c = *state;
  cotp_term tag = cotp_tuple_get(req, 0);
  if (cotp_term_eq(tag, A(get))) {
    start_get(c, req);
  } else if (cotp_term_eq(tag, A(next))) {
    struct req *r = find(c, cotp_tuple_get(req, 1), NULL);
    if (r) {
      r->awaiting = false;
      if (r->paused) {
        r->paused = false;
        /* may deliver the held data at once (on_body, inside this call) */
        curl_easy_pause(r->easy, CURLPAUSE_CONT);
        reap(c);
      }
    }
  }
  return cotp_gs_noreply();
}

static cotp_gs_ret handle_call(cotp_term req, cotp_genserver_from from,
                               void **state) {
  (void)from;
  struct client *c = *state;
  /* {:cancel, ref} */
  size_t at;
  if (find(c, cotp_tuple_get(req, 1), &at))
    req_remove(c, at, true);
  return cotp_gs_reply(COTP_ATOM_OK);
}

static cotp_gs_ret handle_info(cotp_term msg, void **state) {
  struct client *c = *state;
  cotp_term tag = cotp_tuple_get(msg, 0);
  if (cotp_term_eq(tag, A(curl_io))) {
    serve_io(c);
  } else if (cotp_term_eq(tag, A(curl_timer))) {
    if ((uint64_t)cotp_int_value(cotp_tuple_get(msg, 1)) == c->timer_seq) {
      c->timer_ref = COTP_NONE;
      socket_action(c, CURL_SOCKET_TIMEOUT, 0);
    }
  } else if (cotp_term_eq(tag, COTP_ATOM_DOWN)) {
    /* a receiver died: its transfers go */
    cotp_term mon = cotp_tuple_get(msg, 1);
    for (size_t i = c->n; i-- > 0;)
      if (cotp_term_eq(c->reqs[i]->mon, mon))
        req_remove(c, i, false);
  }
  return cotp_gs_noreply();
}

static void terminate(cotp_term reason, void *state) {
  (void)reason;
  struct client *c = state;
  if (!c || c->closed)
    return;
  /* Stop the waiter cooperatively (invariant 2): the message ends its
   * receive, the event ends its fd wait, whichever it is in. */
  cotp_send(c->waiter, A(curl_stop));
  uint64_t one = 1;
  ssize_t w = write(c->evfd, &one, sizeof one);
  (void)w;
  cotp_clause down = {cotp_pattern_cached("{:DOWN, ^ref, _, _, _}", NULL),
                      &c->waiter_mon, NULL};
  if (cotp_receive_match(&down, 1, 5000, 0, NULL) < 0)
    return; /* never close a set the waiter may still wait on */
  for (size_t i = c->n; i-- > 0;) {
    send_error(c->reqs[i], "client stopped", NULL);
    req_remove(c, i, true);
  }
  curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, NULL);
  if (!cotp_is_none(c->timer_ref))
    cotp_cancel_timer(c->timer_ref, NULL);
  curl_multi_cleanup(c->multi);
  c->multi = NULL;
  close(c->epfd);
  close(c->evfd);
  c->epfd = c->evfd = -1;
  c->closed = true;
}

static void free_state(void *state) {
  struct client *c = state;
  if (!c)
    return;
  /* Not the process API here: curl calls only.  A client that died
   * without terminate (killed) keeps its epoll set open rather than risk
   * closing a descriptor number the waiter may still have armed. */
  if (c->multi) {
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, NULL);
    for (size_t i = 0; i < c->n; i++) {
      curl_multi_remove_handle(c->multi, c->reqs[i]->easy);
      curl_easy_cleanup(c->reqs[i]->easy);
      cotp_heap_free(c->reqs[i]->heap);
      free(c->reqs[i]);
    }
    curl_multi_cleanup(c->multi);
  }
  if (c->closed) {
    if (c->epfd >= 0)
      close(c->epfd);
    if (c->evfd >= 0)
      close(c->evfd);
  }
  free(c->reqs);
  free(c);
}

static const cotp_genserver_callbacks client_callbacks = {
    .name = "HttpClient",
    .init = init,
    .handle_call = handle_call,
    .handle_cast = handle_cast,
    .handle_info = handle_info,
    .terminate = terminate,
    .free_state = free_state,
};

/* --- the public API --- */

int dl_http_start_link(cotp_pid *pid) {
  cotp_genserver_opts o = COTP_GENSERVER_OPTS_INIT;
  o.name = cotp_name_local(DL_HTTP_CLIENT);
  return cotp_genserver_start_link(&client_callbacks, COTP_NIL, &o, pid, NULL);
}

int dl_http_stop(void) {
  cotp_pid pid;
  if (cotp_whereis(DL_HTTP_CLIENT, &pid) != 0)
    return COTP_ENOPROC;
  return cotp_genserver_stop(cotp_server_pid(pid), COTP_ATOM_NORMAL, 10000);
}

int dl_http_get(const char *url, const dl_http_opts *opts, cotp_term *ref) {
  if (!url || !ref)
    return COTP_EINVAL;
  dl_http_opts o = DL_HTTP_OPTS_INIT;
  if (opts)
    o = *opts;
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  *ref = cotp_make_ref();
  cotp_term msg = COTP_TUPLE(h, A(get), cotp_pid_term(cotp_self()), *ref,
                             cotp_binary(h, url, strlen(url)),
                             cotp_int(h, o.connect_timeout_ms),
                             cotp_bool(o.follow_redirects),
                             o.ca_file ? cotp_binary(h, o.ca_file, strlen(o.ca_file))
                                       : COTP_ATOM_NIL);
  if (cotp_is_none(msg))
    return COTP_ENOMEM;
  return cotp_genserver_cast(cotp_server_name(DL_HTTP_CLIENT), msg);
}

int dl_http_stream_next(cotp_term ref) {
  cotp_heap *h = cotp_heap_new();
  if (!h)
    return COTP_ENOMEM;
  int rc = cotp_genserver_cast(cotp_server_name(DL_HTTP_CLIENT),
                               COTP_TUPLE(h, A(next), ref));
  cotp_heap_free(h);
  return rc;
}

int dl_http_cancel(cotp_term ref) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  cotp_term out;
  int rc = cotp_genserver_call_result(cotp_server_name(DL_HTTP_CLIENT),
                                      COTP_TUPLE(h, A(cancel), ref), 5000, &out);
  return rc == 0 ? 0 : rc;
}
