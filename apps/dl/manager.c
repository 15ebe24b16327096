/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manager.c: DownloadManager, the GenServer that keeps every download's
 * record (book ch. 6.0): add, remove, get, list, and every refresh_ms the
 * status of the active downloads, asked of their workers.  Workers report
 * their end with {:terminating, id, download}; the manager also monitors
 * them, so a worker that dies without terminate (killed) still ends as an
 * error instead of staying :active forever.
 *
 * The records are a vector in the order they were added (the table shows
 * them in that order); lookups by id are O(n), fine for the hundreds of
 * downloads a command line gets.
 *
 * Workers are started and stopped by start_worker and stop_worker alone:
 * the two places where the book's DownloadsSupervisor (a DynamicSupervisor,
 * issue 6) goes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "download.h"

#define A(name) COTP_ATOM(name)

struct entry {
  dl_download d;
  cotp_term mon; /* the manager's monitor of the worker; NONE when none */
};

struct manager {
  char *dir;
  int64_t refresh_ms;
  dl_worker_opts wopts;
  struct entry *v;
  size_t n, cap;
  uint64_t next_id;
};

/* --- the DownloadsSupervisor's place --- */

/*
 * Starts the worker of e.
 *
 * TODO(#6): DownloadsSupervisor.add(download), i.e.
 * DynamicSupervisor.start_child(DownloadsSupervisor, {DownloadWorker,
 * download}) with restart :temporary, once the DynamicSupervisor of issue
 * 6 is on main.  Until then the worker is started on its own (not linked
 * to the manager, so a failing download cannot take the manager down) and
 * monitored; keep the monitor when switching, it is how the manager
 * learns of a worker killed without terminate.
 */
static int start_worker(struct manager *m, struct entry *e) {
  cotp_heap *h = cotp_self_heap();
  cotp_term arg = COTP_TUPLE(h, dl_download_to_term(h, &e->d),
                             cotp_int(h, m->wopts.idle_timeout_ms),
                             cotp_int(h, m->wopts.connect_timeout_ms));
  return cotp_genserver_start_monitor(&dl_worker_callbacks, arg, NULL, &e->d.pid,
                                      &e->mon, NULL);
}

static void merge(struct entry *e, cotp_term latest);

/*
 * Stops the worker of e as a supervisor stops a child: exit :shutdown
 * (the worker traps exits, so its terminate runs), and kill if it is not
 * gone after 5 s.  Returns once it is gone, with its last record merged.
 *
 * TODO(#6): DownloadsSupervisor.remove(pid), i.e.
 * DynamicSupervisor.terminate_child(DownloadsSupervisor, pid), once issue
 * 6 is on main; then wait for the monitor's DOWN as here.
 */
static void stop_worker(struct entry *e) {
  if (cotp_is_none(e->mon))
    return;
  cotp_pid pid = e->d.pid;
  cotp_exit_signal(pid, COTP_ATOM_SHUTDOWN);
  cotp_clause down = {cotp_pattern_cached("{:DOWN, ^ref, _, _, _}", NULL), &e->mon, NULL};
  if (cotp_receive_match(&down, 1, 5000, 0, NULL) < 0) {
    cotp_exit_signal(pid, COTP_ATOM_KILL);
    cotp_receive_match(&down, 1, COTP_INFINITY, 0, NULL);
  }
  e->mon = COTP_NONE;
  /* its {:terminating, ...} came before its DOWN */
  cotp_term id = cotp_string(cotp_self_heap(), e->d.id), last;
  cotp_clause term = {cotp_pattern_cached("{:terminating, ^id, last}", NULL), &id, &last};
  if (cotp_receive_match(&term, 1, 0, 0, NULL) == 0)
    merge(e, last);
}

/* --- records --- */

static struct entry *find(struct manager *m, const uint8_t *id, size_t len) {
  for (size_t i = 0; i < m->n; i++)
    if (strlen(m->v[i].d.id) == len && memcmp(m->v[i].d.id, id, len) == 0)
      return &m->v[i];
  return NULL;
}

static struct entry *find_term(struct manager *m, cotp_term id) {
  size_t len;
  const uint8_t *s = cotp_binary_data(id, &len);
  return s ? find(m, s, len) : NULL;
}

/* The book's merge_with_old_state: what the worker knows replaces what
 * the manager knew. */
static void merge(struct entry *e, cotp_term latest) {
  dl_download n;
  if (dl_download_from_term(latest, &n) != 0)
    return;
  e->d.size = n.size;
  e->d.status = n.status;
  e->d.bytes_downloaded = n.bytes_downloaded;
  e->d.start_time = n.start_time;
  e->d.end_time = n.end_time;
  e->d.http_status = n.http_status;
  dl_set_text(&e->d.error_reason, n.error_reason);
  dl_set_text(&e->d.exit_status, n.exit_status);
  dl_download_clear(&n);
}

static bool taken(struct manager *m, const char *path) {
  for (size_t i = 0; i < m->n; i++)
    if (m->v[i].d.dest && strcmp(m->v[i].d.dest, path) == 0)
      return true;
  return access(path, F_OK) == 0;
}

/* DEST for a new download: the folder and the name, made unique. */
static char *destination(struct manager *m, const char *name) {
  char *path = NULL;
  for (int k = 0; k < 10000; k++) {
    free(path);
    if ((k == 0 ? asprintf(&path, "%s/%s", m->dir, name)
                : asprintf(&path, "%s/%s.%d", m->dir, name, k)) < 0)
      return NULL;
    if (!taken(m, path))
      return path;
  }
  return path;
}

static void mkdirs(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s", dir);
  for (char *p = path + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      mkdir(path, 0755);
      *p = '/';
    }
  mkdir(path, 0755);
}

static cotp_term add(struct manager *m, cotp_term request) {
  cotp_heap *h = cotp_self_heap();
  if (m->n == m->cap) {
    size_t cap = m->cap * 2 + 8;
    struct entry *v = realloc(m->v, cap * sizeof *v);
    if (!v)
      return cotp_format(h, "{:error, :enomem}");
    m->v = v;
    m->cap = cap;
  }
  size_t len;
  const uint8_t *src = cotp_binary_data(cotp_tuple_get(request, 1), &len);
  struct entry *e = &m->v[m->n];
  *e = (struct entry){.mon = COTP_NONE};
  e->d.src = strndup((const char *)src, len);
  char id[32], name[256];
  snprintf(id, sizeof id, "%llu", (unsigned long long)++m->next_id);
  dl_set_text(&e->d.id, id);
  dl_guess_filename(e->d.src, name, sizeof name);
  if (!name[0])
    snprintf(name, sizeof name, "download-%s", id);
  dl_set_text(&e->d.name, name);
  const uint8_t *dest = cotp_binary_data(cotp_tuple_get(request, 2), &len);
  if (dest) {
    e->d.dest = strndup((const char *)dest, len);
  } else {
    mkdirs(m->dir);
    e->d.dest = destination(m, name);
  }
  e->d.from = cotp_self();
  e->d.size = -1;
  m->n++;
  int rc = start_worker(m, e);
  if (rc != 0) {
    e->mon = COTP_NONE;
    e->d.pid = (cotp_pid){0};
    e->d.status = DL_ERROR;
    dl_set_text(&e->d.error_reason, "cannot start a worker");
  }
  return COTP_TUPLE(h, COTP_ATOM_OK, cotp_string(h, id));
}

static void remove_at(struct manager *m, size_t i) {
  dl_download_clear(&m->v[i].d);
  memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof m->v[0]);
  m->n--;
}

/* --- the GenServer --- */

static cotp_gs_ret init(cotp_term arg, void **state) {
  (void)arg;
  struct manager *m = *state; /* opts.state, set by dl_manager_start_link */
  /* Send a message to itself to begin aggregating the latest statuses */
  cotp_send_after(m->refresh_ms, cotp_self(), A(fetch_all), NULL);
  return cotp_gs_ok();
}

static cotp_gs_ret handle_call(cotp_term request, cotp_genserver_from from,
                               void **state) {
  (void)from;
  struct manager *m = *state;
  cotp_heap *h = cotp_self_heap();
  cotp_term tag = cotp_tuple_get(request, 0);
  if (cotp_term_eq(tag, A(add)))
    return cotp_gs_reply(add(m, request));
  if (cotp_term_eq(tag, A(get))) {
    struct entry *e = find_term(m, cotp_tuple_get(request, 1));
    return cotp_gs_reply(e ? COTP_TUPLE(h, COTP_ATOM_OK, dl_download_to_term(h, &e->d))
                           : cotp_format(h, "{:error, :not_found}"));
  }
  if (cotp_term_eq(tag, A(remove))) {
    struct entry *e = find_term(m, cotp_tuple_get(request, 1));
    if (!e)
      return cotp_gs_reply(cotp_format(h, "{:error, :not_found}"));
    /* Stop the worker that is downloading the file */
    stop_worker(e);
    /* Delete the file from disk */
    char *part;
    if (asprintf(&part, "%s.part", e->d.dest) >= 0) {
      unlink(part);
      free(part);
    }
    unlink(e->d.dest);
    remove_at(m, (size_t)(e - m->v));
    return cotp_gs_reply(COTP_TUPLE(h, COTP_ATOM_OK, cotp_tuple_get(request, 1)));
  }
  if (cotp_term_eq(request, A(cancel_all))) {
    for (size_t i = 0; i < m->n; i++)
      if (!dl_status_final(m->v[i].d.status))
        stop_worker(&m->v[i]);
    return cotp_gs_reply(COTP_ATOM_OK);
  }
  /* :list */
  cotp_term list = COTP_NIL;
  for (size_t i = m->n; i-- > 0;)
    list = cotp_cons(h, dl_download_to_term(h, &m->v[i].d), list);
  return cotp_gs_reply(list);
}

/* Asks a worker for its latest record (the book's fetch_status). */
static void fetch_status(struct entry *e) {
  cotp_term latest;
  if (cotp_genserver_call_result(cotp_server_pid(e->d.pid), A(status), 1000, &latest) == 0)
    merge(e, latest);
  /* a worker that is gone reports with {:terminating} or its DOWN */
}

static cotp_gs_ret handle_info(cotp_term msg, void **state) {
  struct manager *m = *state;
  cotp_term tag = cotp_tuple_get(msg, 0);
  if (cotp_term_eq(msg, A(fetch_all))) {
    for (size_t i = 0; i < m->n; i++)
      if (!dl_status_final(m->v[i].d.status) && !cotp_is_none(m->v[i].mon))
        fetch_status(&m->v[i]);
    cotp_send_after(m->refresh_ms, cotp_self(), A(fetch_all), NULL);
  } else if (cotp_term_eq(tag, A(terminating))) {
    /* A worker tells how its download ended; an entry removed meanwhile
     * is not brought back */
    struct entry *e = find_term(m, cotp_tuple_get(msg, 1));
    if (e)
      merge(e, cotp_tuple_get(msg, 2));
  } else if (cotp_term_eq(tag, COTP_ATOM_DOWN)) {
    cotp_term mon = cotp_tuple_get(msg, 1);
    for (size_t i = 0; i < m->n; i++) {
      struct entry *e = &m->v[i];
      if (cotp_is_none(e->mon) || !cotp_term_eq(e->mon, mon))
        continue;
      e->mon = COTP_NONE;
      if (!dl_status_final(e->d.status)) {
        /* died without terminate: killed */
        char *why = cotp_term_to_string(cotp_tuple_get(msg, 4)), *text = NULL;
        if (asprintf(&text, "worker exited: %s", why ? why : "?") >= 0)
          dl_set_text(&e->d.error_reason, text);
        free(text);
        free(why);
        e->d.status = DL_ERROR;
        e->d.end_time = dl_now_ms();
        char *part;
        if (asprintf(&part, "%s.part", e->d.dest) >= 0) {
          unlink(part);
          free(part);
        }
      }
    }
  }
  return cotp_gs_noreply();
}

static void free_state(void *state) {
  struct manager *m = state;
  for (size_t i = 0; i < m->n; i++)
    dl_download_clear(&m->v[i].d);
  free(m->v);
  free(m->dir);
  free(m);
}

static cotp_term format_status(cotp_heap *h, void *state) {
  struct manager *m = state;
  return cotp_format(h, "%{downloads: ~i}", (int)m->n);
}

static const cotp_genserver_callbacks manager_callbacks = {
    .name = "DownloadManager",
    .init = init,
    .handle_call = handle_call,
    .handle_info = handle_info,
    .format_status = format_status,
    .free_state = free_state,
};

/* --- the public API --- */

int dl_manager_start_link(const dl_manager_opts *opts, cotp_pid *pid) {
  dl_manager_opts o = DL_MANAGER_OPTS_INIT;
  if (opts)
    o = *opts;
  struct manager *m = calloc(1, sizeof *m);
  if (!m)
    return COTP_ENOMEM;
  m->dir = strdup(o.dir ? o.dir : "/tmp/async_elixir_temp_downloads");
  m->refresh_ms = o.refresh_ms > 0 ? o.refresh_ms : 1000;
  m->wopts = o.worker;
  cotp_genserver_opts g = COTP_GENSERVER_OPTS_INIT;
  g.name = cotp_name_local(DL_MANAGER);
  g.state = m;
  int rc = cotp_genserver_start_link(&manager_callbacks, COTP_NIL, &g, pid, NULL);
  if (rc < 0) {
    free(m->dir);
    free(m);
  }
  return rc;
}

/* Calls the manager; COTP_ENOPROC when it is not running. */
static int call(cotp_term request, cotp_term *reply) {
  int rc = cotp_genserver_call_result(cotp_server_name(DL_MANAGER), request,
                                      COTP_INFINITY, reply);
  return rc == 0 ? 0 : rc == COTP_GENSERVER_DOWN ? COTP_ENOPROC : rc;
}

int dl_manager_add(const char *src, const char *dest, char **id) {
  if (!src)
    return COTP_EINVAL;
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  cotp_term reply;
  int rc = call(COTP_TUPLE(h, A(add), cotp_binary(h, src, strlen(src)),
                           dest ? cotp_binary(h, dest, strlen(dest)) : COTP_ATOM_NIL),
                &reply);
  if (rc)
    return rc;
  size_t len;
  const uint8_t *s = cotp_binary_data(cotp_tuple_get(reply, 1), &len);
  if (!s)
    return COTP_ENOMEM;
  if (id)
    *id = strndup((const char *)s, len);
  return 0;
}

int dl_manager_remove(const char *id) {
  cotp_heap *h = cotp_self_heap();
  cotp_term reply;
  int rc = call(COTP_TUPLE(h, A(remove), cotp_string(h, id)), &reply);
  if (rc)
    return rc;
  return cotp_term_eq(cotp_tuple_get(reply, 0), COTP_ATOM_OK) ? 0 : COTP_ENOTFOUND;
}

int dl_manager_cancel_all(void) {
  cotp_term reply;
  return call(A(cancel_all), &reply);
}

int dl_manager_get(const char *id, dl_download *out) {
  cotp_heap *h = cotp_self_heap();
  cotp_term reply;
  int rc = call(COTP_TUPLE(h, A(get), cotp_string(h, id)), &reply);
  if (rc)
    return rc;
  if (!cotp_term_eq(cotp_tuple_get(reply, 0), COTP_ATOM_OK))
    return COTP_ENOTFOUND;
  return dl_download_from_term(cotp_tuple_get(reply, 1), out);
}

int dl_manager_list(dl_download **out, size_t *n) {
  cotp_term reply;
  int rc = call(A(list), &reply);
  if (rc)
    return rc;
  size_t len = 0;
  cotp_list_length(reply, &len);
  dl_download *v = calloc(len ? len : 1, sizeof *v);
  if (!v)
    return COTP_ENOMEM;
  size_t i = 0;
  for (cotp_term t = reply; cotp_is_cons(t) && i < len; t = cotp_tail(t))
    dl_download_from_term(cotp_head(t), &v[i++]);
  *out = v;
  *n = i;
  return 0;
}
