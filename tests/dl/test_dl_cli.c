/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The download manager's programs (issue 7): cotp-dl run as a user runs
 * it, book ch. 7.3's cotp-reach against local servers, and the http
 * client over TLS with openssl s_server as the peer.  The manager itself
 * is test_dl.c.  Only loopback; every test well under 10 s.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "download.h"
#include "harness.h"
#include "http.h"
#include "peer.h"
#include "server.h"

static unsigned port;
static cotp_pid server;

/* What the embedded server serves to cotp-reach. */
static const dl_server_file files[] = {
    {"small.bin", 100000, 0},
    {"big.bin", 3000000, 0},
    {"slow.bin", 2000000, 400000},
};

/* --- the program --- */

static const char *run_cli(const char *cmd, int *status) {
  static char out[16384];
  FILE *f = popen(cmd, "r");
  cr_assert_not_null(f);
  size_t n = fread(out, 1, sizeof out - 1, f);
  out[n] = '\0';
  int st = pclose(f);
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

Test(dl_cli, the_embedded_scenario_completes, .timeout = 30) {
  int status;
  const char *out = run_cli(COTP_BINARY_DIR "/apps/dl/cotp-dl --plain 2>&1", &status);
  cr_assert_eq(status, 0, "%s", out);
  cr_assert(strstr(out, "failed: HTTP status 404; removing it"), "%s", out);
  /* the tree printed after the removal is the supervisors' own */
  cr_assert(strstr(out, "Supervision tree (which_children"), "%s", out);
  cr_assert(strstr(out, "└─ DownloadsSupervisor #PID<"), "%s", out);
  cr_assert(strstr(out, "├─ DownloadWorker #PID<"), "%s", out);
  cr_assert(strstr(out, "DownloadWorker #PID<") < strstr(out, "Summary:"), "%s", out);
  cr_assert(!strstr(out, "bad_file.bin (") , "the removed one is no child: %s", out);
  cr_assert(strstr(out, "4MB.bin: content verified"), "%s", out);
  cr_assert(strstr(out, "20MB.bin: content verified"), "%s", out);
  cr_assert(strstr(out, "Scenario complete"), "%s", out);
}

Test(dl_cli, a_bad_url_fails_naming_it) {
  int status;
  const char *out = run_cli(COTP_BINARY_DIR "/apps/dl/cotp-dl --plain -d /tmp "
                                            "'htp://example/x.bin' 2>&1",
                            &status);
  cr_assert_eq(status, 1, "%s", out);
  cr_assert(strstr(out, "htp://example/x.bin failed:"), "%s", out);
  cr_assert(strstr(out, "Summary: 0 finished, 1 failed"), "%s", out);
}

Test(dl_cli, ctrl_c_cancels_and_deletes_partial_files, .timeout = 30) {
  int status;
  const char *out = run_cli(
      "d=$(mktemp -d); " COTP_BINARY_DIR "/apps/dl/cotp-dl --plain -d $d & p=$!; "
      "sleep 1.5; kill -INT $p; wait $p; echo \"exit=$?\"; "
      "echo \"left=$(ls $d | grep -c part)\"; rm -rf $d",
      &status);
  cr_assert(strstr(out, "Interrupted: cancelling"), "%s", out);
  cr_assert(strstr(out, "cancelled (partial file deleted)"), "%s", out);
  cr_assert(strstr(out, "exit=130"), "%s", out);
  cr_assert(strstr(out, "left=0"), "%s", out);
}

/* --- book ch. 7.3: cotp-reach --- */

struct cli_run {
  char cmd[1024];
  char out[8192];
  int status;
};

/* popen on the blocking pool: the test's servers keep running meanwhile */
static void run_blocking(void *arg) {
  struct cli_run *r = arg;
  FILE *f = popen(r->cmd, "r");
  size_t n = f ? fread(r->out, 1, sizeof r->out - 1, f) : 0;
  r->out[n] = '\0';
  int st = f ? pclose(f) : -1;
  r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

COTP_TEST(dl_cli, reachability_counts_answers_and_names_failures, .timeout = 30) {
  cr_assert_eq(dl_server_start("127.0.0.1", 0, files, 3, &server, &port), 0);
  unsigned dead, silent;
  close(cotp_tcp_listen("127.0.0.1", 0, 1, &dead)); /* refuses */
  int quiet = cotp_tcp_listen("127.0.0.1", 0, 8, &silent); /* accepts, never answers */
  char csv[512];
  int fd = mkstemp(cotp_test_tmp_template(csv, sizeof csv, "cotp-reach"));
  cr_assert_geq(fd, 0, "mkstemp %s", csv);
  FILE *f = fdopen(fd, "w");
  cr_assert_not_null(f);
  fprintf(f, "1,\"127.0.0.1:%u\",10\n", port);
  fprintf(f, "2,\"127.0.0.1:%u/status/500\",10\n", port); /* an answer: reachable */
  fprintf(f, "3,\"127.0.0.1:%u\",9.5\n", dead);
  fprintf(f, "4,\"unterminated,9\n");
  fprintf(f, "5,\"127.0.0.1:%u\",9\n", silent);
  fprintf(f, "6,\"127.0.0.1:%u/files/small.bin\",8\n", port);
  fclose(f);
  struct cli_run *r = calloc(1, sizeof *r);
  snprintf(r->cmd, sizeof r->cmd, "%s/apps/dl/cotp-reach -c 2 -t 500 %s 2>&1",
           COTP_BINARY_DIR, csv);
  cr_assert_eq(cotp_blocking(run_blocking, r), 0);
  unlink(csv);
  close(quiet);
  dl_server_stop(server);
  cr_assert_eq(r->status, 0, "%s", r->out);
  cr_assert(strstr(r->out, "Reachable website count: 3\n"), "%s", r->out);
  cr_assert(strstr(r->out, ":4: malformed row"), "%s", r->out);
  char want[64];
  snprintf(want, sizeof want, "127.0.0.1:%u: Couldn't connect", dead);
  cr_assert(strstr(r->out, want), "%s", r->out);
  snprintf(want, sizeof want, "127.0.0.1:%u: :timeout", silent);
  cr_assert(strstr(r->out, want), "%s", r->out);
  free(r);
}

/* The web of examples/task/reachability.c as an HTTP proxy on loopback:
 * every host answers 200 but the ones whose name says they are down, for
 * which it hangs up.  A process per connection. */
static void fake_site(void *arg) {
  int fd = (int)(intptr_t)arg;
  char req[2048];
  ssize_t n = cotp_read(fd, req, sizeof req - 1, 5000);
  req[n > 0 ? n : 0] = '\0';
  if (!strstr(req, "down.") && !strstr(req, "gone.")) {
    const char *ok = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
    cotp_write(fd, ok, strlen(ok), 5000);
  }
  close(fd);
}

static void fake_web(void *arg) {
  int listener = (int)(intptr_t)arg;
  for (;;) {
    int fd = cotp_accept(listener, COTP_INFINITY);
    if (fd >= 0)
      cotp_spawn(fake_site, (void *)(intptr_t)fd, NULL);
  }
}

/* Runs cotp-reach on csv with curl's http_proxy pointing at the loopback
 * web above, the output in r, and checks that it succeeded and counted
 * `reachable` sites. */
static void reach_through_proxy(struct cli_run *r, const char *csv, int reachable) {
  unsigned p;
  int listener = cotp_tcp_listen("127.0.0.1", 0, 64, &p);
  cr_assert_geq(listener, 0);
  cotp_pid web;
  cotp_spawn(fake_web, (void *)(intptr_t)listener, &web);
  snprintf(r->cmd, sizeof r->cmd,
           "http_proxy=http://127.0.0.1:%u no_proxy=127.0.0.1 %s/apps/dl/cotp-reach -t 5000 "
           "%s 2>&1",
           p, COTP_BINARY_DIR, csv);
  cr_assert_eq(cotp_blocking(run_blocking, r), 0);
  cotp_term mon;
  cotp_monitor(web, &mon);
  cotp_exit_signal(web, COTP_ATOM_KILL);
  cotp_clause down = {cotp_test_pattern("{:DOWN, ^ref, _, _, _}"), &mon, NULL};
  cotp_receive_match(&down, 1, COTP_INFINITY, 0, NULL); /* its accept is over */
  close(listener);
  char count[64];
  snprintf(count, sizeof count, "Reachable website count: %d\n", reachable);
  cr_assert_eq(r->status, 0, "%s", r->out);
  cr_assert(strstr(r->out, count), "%s", r->out);
}

/* The chapter's sample, its 100 real sites (apps/dl/top_websites.csv,
 * copied from the book's sample_data), as the program would check them on
 * the real web: every one answers the loopback web, so all 100 count. */
COTP_TEST(dl_cli, reachability_of_the_chapters_100_sites, .timeout = 60) {
  struct cli_run *r = calloc(1, sizeof *r);
  reach_through_proxy(r, COTP_SOURCE_DIR "/apps/dl/top_websites.csv", 100);
  free(r);
}

/* The example's list (examples/task/reachability.c reads it: the
 * chapter's format, with two made-up hosts that are down) through
 * cotp-reach: the program asks for http://google.com/ and the
 * rest as it would on the real web, and curl's http_proxy sends every
 * request to the loopback web above, so the count is the example's. */
COTP_TEST(dl_cli, reachability_of_the_examples_list_matches_the_example, .timeout = 30) {
  struct cli_run *r = calloc(1, sizeof *r);
  reach_through_proxy(r, COTP_SOURCE_DIR "/examples/task/top_websites.csv", 8);
  cr_assert(strstr(r->out, "down.example: "), "%s", r->out);
  cr_assert(strstr(r->out, "gone.example: "), "%s", r->out);
  cr_assert(!strstr(r->out, "google.com: "), "%s", r->out);
  free(r);
}

/* --- https: openssl s_server as the peer --- */

/* Collects the response to ref: its status, and its body into buf (at most
 * cap bytes; *got says how many came), or the error message into err. */
static int collect(cotp_term ref, uint8_t *buf, size_t cap, size_t *got, char *err,
                   size_t err_cap) {
  int status = 0;
  *got = 0;
  err[0] = '\0';
  for (;;) {
    cotp_term msg;
    cr_assert_eq(cotp_receive(10000, &msg), 0);
    const char *tag = cotp_atom_name(cotp_tuple_get(msg, 0), NULL);
    if (strcmp(tag, "http_status") == 0) {
      status = (int)cotp_int_value(cotp_tuple_get(msg, 2));
    } else if (strcmp(tag, "http_chunk") == 0) {
      size_t len;
      const uint8_t *data = cotp_binary_data(cotp_tuple_get(msg, 2), &len);
      cr_assert_leq(*got + len, cap);
      memcpy(buf + *got, data, len);
      *got += len;
      dl_http_stream_next(ref);
    } else if (strcmp(tag, "http_error") == 0) {
      size_t len;
      const uint8_t *s = cotp_binary_data(cotp_tuple_get(msg, 2), &len);
      snprintf(err, err_cap, "%.*s", (int)len, s ? (const char *)s : "");
      return status;
    } else if (strcmp(tag, "http_end") == 0) {
      return status;
    }
  }
}

/* A transfer over TLS goes through the same socket and timer callbacks as
 * plain http (curl's handshake reads and writes wait on the epoll set):
 * a file served by openssl s_server with a certificate made for the test
 * arrives byte-identical when the client trusts that certificate
 * (dl_http_opts.ca_file), and fails on verification when it does not. */
COTP_TEST(dl_peer, https_from_openssl_s_server, .timeout = 30) {
  char root[512];
  cr_assert_not_null(mkdtemp(cotp_test_tmp_template(root, sizeof root, "cotp-dl-tls")));
  struct cli_run *r = calloc(1, sizeof *r);
  snprintf(r->cmd, sizeof r->cmd,
           "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
           "-nodes -keyout key.pem -out cert.pem -days 1 -subj /CN=localhost "
           "-addext subjectAltName=IP:127.0.0.1 2>&1",
           root);
  cr_assert_eq(cotp_blocking(run_blocking, r), 0);
  if (r->status == 127 || strstr(r->out, "not found"))
    cr_skip_test("no openssl program: %s", r->out);
  cr_assert_eq(r->status, 0, "%s", r->out);
  static uint8_t want[300000], body[300000];
  dl_test_write_data_bin(root, "tls", want, sizeof want);
  unsigned p = dl_test_free_port();
  char accept[32];
  snprintf(accept, sizeof accept, "127.0.0.1:%u", p);
  char *argv[] = {"openssl", "s_server", "-quiet", "-accept", accept, "-cert", "cert.pem",
                  "-key", "key.pem", "-WWW", NULL};
  pid_t child = dl_test_start_peer(root, argv, p); /* -WWW serves its working folder */
  cr_assert_eq(dl_http_start_link(NULL), 0);
  char u[64], ca[600], err[512];
  snprintf(u, sizeof u, "https://127.0.0.1:%u/data.bin", p);
  snprintf(ca, sizeof ca, "%s/cert.pem", root);
  dl_http_opts o = DL_HTTP_OPTS_INIT;
  o.ca_file = ca;
  cotp_term ref;
  size_t got;
  cr_assert_eq(dl_http_get(u, &o, &ref), 0);
  int status = collect(ref, body, sizeof body, &got, err, sizeof err);
  cr_assert_eq(err[0], '\0', "%s", err);
  cr_assert_eq(status, 200);
  cr_assert_eq(got, sizeof want);
  cr_assert(memcmp(body, want, got) == 0, "the bytes differ");
  /* the system's authorities do not know the test's certificate */
  cr_assert_eq(dl_http_get(u, NULL, &ref), 0);
  collect(ref, body, sizeof body, &got, err, sizeof err);
  cr_assert(strstr(err, "certificate"), "%s", err);
  dl_http_stop();
  kill(child, SIGTERM);
  waitpid(child, NULL, 0);
  snprintf(r->cmd, sizeof r->cmd, "rm -rf %s", root);
  cotp_blocking(run_blocking, r);
  free(r);
}
