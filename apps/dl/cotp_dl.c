/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp-dl: the book's download manager as a command (ch. 6.0).
 *
 *   cotp-dl [-d DIR] [-t IDLE_S] [-r REFRESH_MS] [--plain] URL...
 *   cotp-dl [-d DIR] [--plain]            the embedded scenario
 *
 * With URLs, downloads them into DIR (default ".") with a live table
 * refreshed every second when stdout is a terminal, plain lines (one per
 * change of state) otherwise, and a summary.  Exit status: 0 when every
 * download finished, 1 when one failed, 130 after Ctrl-C.
 *
 * With no URL, the chapter's scenario against a file server started in
 * the same runtime on a loopback port: four downloads of different sizes,
 * one of them a file the server does not have, which fails with 404 while
 * the others go on; the failed one is removed and the supervision tree
 * printed; the files that arrived are checked byte by byte.  Exit status
 * 0 when all of that happened as said.
 *
 * Ctrl-C (SIGINT, SIGTERM): every download that has not ended is
 * cancelled (its worker stopped, its partial file deleted), the summary
 * printed.  The signals are blocked in every thread and read from a
 * signalfd by a process parked in cotp_wait_fd, which sends the root a
 * message: cotp has no signal API of its own.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "download.h"
#include "http.h"
#include "server.h"
#include "table.h"

#define A(name) COTP_ATOM(name)

static struct {
  const char *dir;
  int64_t idle_ms, refresh_ms;
  bool plain;
  char **urls;
  int n_urls;
  int sigfd;
  int status; /* the exit status */
} cfg = {NULL, 0, 1000, false, NULL, 0, -1, 0};

/* --- Ctrl-C --- */

struct sig_arg {
  int fd;
  cotp_pid to;
};

static void signals(void *arg) {
  struct sig_arg s = *(struct sig_arg *)arg;
  for (;;) {
    if (cotp_wait_fd(s.fd, COTP_READABLE, COTP_INFINITY, NULL) != 0)
      return;
    struct signalfd_siginfo si;
    if (read(s.fd, &si, sizeof si) == (ssize_t)sizeof si)
      cotp_send(s.to, COTP_TUPLE(cotp_self_heap(), A(signal), cotp_int(NULL, si.ssi_signo)));
  }
}

/* --- showing --- */

struct view {
  bool tty;
  int lines;           /* of the table on screen, to redraw over */
  dl_status *last;     /* plain output: the status last printed, by index */
  char **last_id;
  size_t n_last;
};

/* Prints text above the live table (or as a line when plain). */
static void event(struct view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void event(struct view *v, const char *fmt, ...) {
  if (v->tty && v->lines) {
    printf("\033[%dF\033[J", v->lines); /* up over the table, clear below */
    v->lines = 0;
  }
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
}

static dl_status last_status(struct view *v, const char *id, bool *known) {
  for (size_t i = 0; i < v->n_last; i++)
    if (strcmp(v->last_id[i], id) == 0) {
      *known = true;
      return v->last[i];
    }
  *known = false;
  return DL_INITIATE;
}

static void set_last(struct view *v, const char *id, dl_status s) {
  for (size_t i = 0; i < v->n_last; i++)
    if (strcmp(v->last_id[i], id) == 0) {
      v->last[i] = s;
      return;
    }
  v->last = realloc(v->last, (v->n_last + 1) * sizeof *v->last);
  v->last_id = realloc(v->last_id, (v->n_last + 1) * sizeof *v->last_id);
  v->last[v->n_last] = s;
  v->last_id[v->n_last++] = strdup(id);
}

static void show(struct view *v, const dl_download *d, size_t n) {
  int64_t now = dl_now_ms();
  if (v->tty) {
    if (v->lines)
      printf("\033[%dF\033[J", v->lines);
    struct winsize ws = {0}; /* asked each time: the terminal may be resized */
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0)
      ws.ws_col = ws.ws_row = 0;
    v->lines = dl_table_print(stdout, d, n, now, ws.ws_col, ws.ws_row);
  } else {
    for (size_t i = 0; i < n; i++) {
      bool known;
      dl_status was = last_status(v, d[i].id, &known);
      if (known && was == d[i].status)
        continue;
      if (!known && d[i].status == DL_INITIATE) {
        set_last(v, d[i].id, d[i].status);
        continue;
      }
      char line[1024];
      dl_line(line, sizeof line, &d[i], now);
      puts(line);
      set_last(v, d[i].id, d[i].status);
    }
  }
  fflush(stdout);
}

static void view_free(struct view *v) {
  for (size_t i = 0; i < v->n_last; i++)
    free(v->last_id[i]);
  free(v->last_id);
  free(v->last);
}

static bool all_final(const dl_download *d, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!dl_status_final(d[i].status))
      return false;
  return true;
}

static void summary(const dl_download *d, size_t n) {
  int fin = 0, err = 0, can = 0;
  int64_t bytes = 0;
  for (size_t i = 0; i < n; i++) {
    fin += d[i].status == DL_FINISH;
    err += d[i].status == DL_ERROR;
    can += d[i].status == DL_CANCEL;
    bytes += d[i].bytes_downloaded;
  }
  char b[16];
  dl_human_bytes(b, sizeof b, (double)bytes);
  printf("\nSummary: %d finished, %d failed, %d cancelled, %s received\n", fin, err, can, b);
  for (size_t i = 0; i < n; i++) {
    if (d[i].status == DL_FINISH)
      printf("  %s -> %s\n", d[i].src, d[i].dest);
    else if (d[i].status == DL_ERROR)
      printf("  %s failed: %s\n", d[i].src, d[i].error_reason ? d[i].error_reason : "?");
    else if (d[i].status == DL_CANCEL)
      printf("  %s cancelled (partial file deleted)\n", d[i].src);
  }
  fflush(stdout);
}

/* --- the supervision tree (the book's Kino.Process.render_sup_tree) --- */

/* An id or module atom without Elixir's prefix. */
static const char *short_name(cotp_term atom) {
  const char *s = cotp_is_atom(atom) ? cotp_atom_name(atom, NULL) : NULL;
  if (!s)
    return "?";
  return strncmp(s, "Elixir.", 7) == 0 ? s + 7 : s;
}

/* The workers of DownloadsSupervisor, as which_children tells them, each
 * with its download (the manager's record of that pid). */
static void print_workers(struct view *v, cotp_pid sup, const dl_download *d, size_t n) {
  cotp_term kids = cotp_supervisor_which_children(cotp_server_pid(sup));
  size_t count = 0, k = 0;
  cotp_list_length(kids, &count);
  if (!count)
    event(v, "     └─ (no workers: every download has ended)");
  char pid[40];
  for (cotp_term t = kids; cotp_is_cons(t); t = cotp_tail(t)) {
    cotp_term child = cotp_tuple_get(cotp_head(t), 1);
    cotp_term_print(pid, sizeof pid, child);
    const dl_download *rec = NULL;
    for (size_t i = 0; i < n && cotp_is_pid(child); i++)
      if (d[i].pid.bits == cotp_get_pid(child).bits)
        rec = &d[i];
    event(v, "     %s %s %s  %s (%s)", ++k == count ? "└─" : "├─",
          short_name(cotp_head(cotp_tuple_get(cotp_head(t), 3))), pid,
          rec ? rec->name : "?", rec ? dl_status_name(rec->status) : "?");
  }
}

/* The tree as the supervisors tell it: which_children of the top
 * supervisor, and of DownloadsSupervisor below it. */
static void print_tree(struct view *v) {
  dl_download *d;
  size_t n;
  if (dl_manager_list(&d, &n) != 0)
    return;
  cotp_pid top = {0};
  cotp_whereis(DL_SUPERVISOR, &top);
  char pid[40];
  cotp_term_print(pid, sizeof pid, cotp_pid_term(top));
  event(v, "Supervision tree (which_children of each supervisor):");
  event(v, "  %s %s  (rest_for_one)", short_name(DL_SUPERVISOR), pid);
  /* which_children lists the newest child first, as OTP's does; the tree
   * reads in start order */
  cotp_term kids = COTP_NIL;
  for (cotp_term t = cotp_supervisor_which_children(cotp_server_pid(top));
       cotp_is_cons(t); t = cotp_tail(t))
    kids = cotp_cons(cotp_self_heap(), cotp_head(t), kids);
  for (cotp_term t = kids; cotp_is_cons(t); t = cotp_tail(t)) {
    cotp_term c = cotp_head(t), child = cotp_tuple_get(c, 1);
    bool sup = cotp_term_eq(cotp_tuple_get(c, 2), COTP_ATOM(supervisor));
    cotp_term_print(pid, sizeof pid, child);
    event(v, "  %s %s %s  %s", cotp_is_cons(cotp_tail(t)) ? "├─" : "└─",
          short_name(cotp_tuple_get(c, 0)), pid,
          sup ? "supervisor (DynamicSupervisor)" : "worker");
    if (sup && cotp_is_pid(child))
      print_workers(v, cotp_get_pid(child), d, n);
  }
  dl_downloads_free(d, n);
}

/* --- the run --- */

/* Runs until every download has ended; on_tick (may be NULL) sees each
 * fresh list first.  Returns whether a signal interrupted it. */
typedef void tick_fn(struct view *v, dl_download *d, size_t n, void *ctx);

static bool run_downloads(struct view *v, tick_fn *on_tick, void *ctx) {
  bool interrupted = false;
  for (;;) {
    dl_download *d;
    size_t n;
    if (dl_manager_list(&d, &n) != 0)
      return interrupted;
    if (on_tick)
      on_tick(v, d, n, ctx);
    show(v, d, n);
    bool done = all_final(d, n);
    dl_downloads_free(d, n);
    if (done)
      return interrupted;
    cotp_term msg;
    cotp_clause c = {cotp_pattern_cached("{:signal, _}", NULL), NULL, NULL};
    if (cotp_receive_match(&c, 1, cfg.refresh_ms, 0, &msg) >= 0 && !interrupted) {
      interrupted = true;
      event(v, "Interrupted: cancelling the downloads that have not ended");
      dl_manager_cancel_all();
    }
  }
}

static void finish_run(struct view *v) {
  dl_download *d;
  size_t n;
  if (dl_manager_list(&d, &n) != 0)
    return;
  if (v->tty) /* the last table stays on screen */
    v->lines = 0;
  summary(d, n);
  dl_downloads_free(d, n);
}

/* --- the embedded scenario --- */

static const dl_server_file demo_files[] = {
    {"4MB.bin", 4000000, 1000000},
    {"10MB.bin", 10000000, 2000000},
    {"20MB.bin", 20000000, 4000000},
};

struct scenario {
  char *failed_id;
  bool removed;
  bool tree_printed;
};

static void scenario_tick(struct view *v, dl_download *d, size_t n, void *ctx) {
  struct scenario *s = ctx;
  for (size_t i = 0; i < n; i++)
    if (d[i].status == DL_ERROR && !s->removed) {
      s->removed = true;
      s->failed_id = strdup(d[i].id);
      event(v, "Download %s (%s) failed: %s; removing it", d[i].id, d[i].name,
            d[i].error_reason ? d[i].error_reason : "?");
      dl_manager_remove(d[i].id);
      print_tree(v);
      s->tree_printed = true;
    }
}

/* Whether the file at path holds the generated bytes of key. */
static bool verify(const char *path, const char *key, int64_t size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return false;
  uint8_t got[65536], want[65536];
  int64_t off = 0;
  size_t n;
  bool same = true;
  while (same && (n = fread(got, 1, sizeof got, f)) > 0) {
    dl_server_fill(key, off, want, n);
    same = memcmp(got, want, n) == 0;
    off += (int64_t)n;
  }
  fclose(f);
  return same && off == size;
}

static int scenario(struct view *v) {
  unsigned port;
  cotp_pid server;
  int rc = dl_server_start("127.0.0.1", 0, demo_files, 3, &server, &port);
  if (rc != 0) {
    fprintf(stderr, "cotp-dl: cannot start the file server: %s\n", cotp_strerror(rc));
    return 1;
  }
  event(v, "File server on http://127.0.0.1:%u/ (files generated, throttled)", port);
  const char *names[] = {"4MB.bin", "10MB.bin", "20MB.bin", "bad_file.bin"};
  for (int i = 0; i < 4; i++) {
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/files/%s", port, names[i]);
    char *id = NULL;
    dl_manager_add(url, NULL, &id);
    event(v, "DownloadManager.add(\"%s\") -> {:ok, \"%s\"}", url, id ? id : "?");
    free(id);
  }
  struct scenario s = {0};
  bool interrupted = run_downloads(v, scenario_tick, &s);
  finish_run(v);
  print_tree(v);
  dl_download *d;
  size_t n;
  int ok = 0;
  if (dl_manager_list(&d, &n) == 0) {
    for (size_t i = 0; i < n; i++) {
      char key[128];
      snprintf(key, sizeof key, "/files/%s", d[i].name);
      const dl_server_file *f = NULL;
      for (size_t k = 0; k < 3; k++)
        if (strcmp(demo_files[k].name, d[i].name) == 0)
          f = &demo_files[k];
      bool good = f && d[i].status == DL_FINISH && verify(d[i].dest, key, f->size);
      printf("%s: %s\n", d[i].name, good ? "content verified" : "NOT as served");
      ok += good;
      if (!cfg.dir)
        unlink(d[i].dest);
    }
    dl_downloads_free(d, n);
  }
  dl_server_stop(server);
  bool expected = ok == 3 && s.removed && !interrupted;
  printf("Scenario %s: 3 files downloaded and verified, the missing one failed "
         "with 404 and was removed\n",
         expected ? "complete" : "FAILED");
  free(s.failed_id);
  return interrupted ? 130 : expected ? 0 : 1;
}

/* --- the root --- */

static void root(void *arg) {
  (void)arg;
  struct view v = {.tty = !cfg.plain && isatty(STDOUT_FILENO)};
  if (cfg.sigfd >= 0) {
    struct sig_arg s = {cfg.sigfd, cotp_self()};
    cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
    o.arg_size = sizeof s;
    cotp_spawn_opt(signals, &s, &o, NULL);
  }
  /* the scenario's files go to a fresh folder in $TMPDIR (or /tmp) */
  const char *tmpdir = getenv("TMPDIR");
  char tmp[512];
  int tmp_len = snprintf(tmp, sizeof tmp, "%s/cotp-dl-XXXXXX",
                         tmpdir && *tmpdir ? tmpdir : "/tmp");
  dl_manager_opts mo = DL_MANAGER_OPTS_INIT;
  mo.dir = cfg.dir       ? cfg.dir
           : cfg.n_urls  ? "."
           : tmp_len > 0 && (size_t)tmp_len < sizeof tmp ? mkdtemp(tmp)
                                                         : NULL;
  mo.worker.idle_timeout_ms = cfg.idle_ms;
  if (!mo.dir || dl_start_link(&mo, NULL) != 0) {
    fprintf(stderr, "cotp-dl: cannot start the download manager\n");
    cfg.status = 1;
    return;
  }
  if (cfg.n_urls == 0) {
    cfg.status = scenario(&v);
    if (!cfg.dir)
      rmdir(tmp);
  } else {
    for (int i = 0; i < cfg.n_urls; i++)
      dl_manager_add(cfg.urls[i], NULL, NULL);
    bool interrupted = run_downloads(&v, NULL, NULL);
    finish_run(&v);
    dl_download *d;
    size_t n;
    int failed = 0;
    if (dl_manager_list(&d, &n) == 0) {
      for (size_t i = 0; i < n; i++)
        failed += d[i].status != DL_FINISH;
      dl_downloads_free(d, n);
    }
    cfg.status = interrupted ? 130 : failed ? 1 : 0;
  }
  dl_stop();
  view_free(&v);
}

static void usage(void) {
  fprintf(stderr,
          "usage: cotp-dl [-d DIR] [-t IDLE_SECONDS] [-r REFRESH_MS] [--plain] [URL...]\n"
          "  with no URL: the embedded demo (a local file server, four downloads)\n");
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {{"plain", no_argument, NULL, 'p'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "d:t:r:ph", longopts, NULL)) != -1) {
    switch (c) {
    case 'd': cfg.dir = optarg; break;
    case 't': cfg.idle_ms = (int64_t)(atof(optarg) * 1000); break;
    case 'r': cfg.refresh_ms = atol(optarg) > 0 ? atol(optarg) : 1000; break;
    case 'p': cfg.plain = true; break;
    default: usage(); return c == 'h' ? 0 : 2;
    }
  }
  cfg.urls = argv + optind;
  cfg.n_urls = argc - optind;
  setvbuf(stdout, NULL, _IOLBF, 0);
  /* Blocked here, before the runtime starts its threads, so every thread
   * inherits the mask and the signals wait in the signalfd. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (sigprocmask(SIG_BLOCK, &set, NULL) == 0)
    cfg.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  signal(SIGPIPE, SIG_IGN);
  if (!getenv("COTP_DL_LOG"))
    cotp_set_log_level(COTP_LOG_ERROR + 1); /* failed downloads are in the table */
  if (cotp_run(root, NULL, NULL, NULL, NULL) < 0) {
    fprintf(stderr, "cotp-dl: cannot start the runtime\n");
    return 1;
  }
  if (cfg.sigfd >= 0)
    close(cfg.sigfd);
  return cfg.status;
}
