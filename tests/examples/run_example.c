/* SPDX-License-Identifier: Apache-2.0 */
#include "run_example.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* The last `cap - 1` bytes of the file at `path`, in `buf`. */
static const char *tail_of(const char *path, char *buf, size_t cap) {
  buf[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f)
    return buf;
  if (fseek(f, 0, SEEK_END) == 0) {
    long size = ftell(f);
    fseek(f, size > (long)cap - 1 ? size - ((long)cap - 1) : 0, SEEK_SET);
  }
  size_t n = fread(buf, 1, cap - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

const char *example_run(const char *env, const char *cmdline) {
  static char out[32768];
  char err_path[512];
  int fd = mkstemp(cotp_test_tmp_template(err_path, sizeof err_path,
                                          "cotp-example-stderr"));
  cr_assert_geq(fd, 0, "cannot make a file for %s's standard error", cmdline);
  close(fd);
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s %s/examples/%s 2>%s", env, COTP_BINARY_DIR, cmdline,
           err_path);
  FILE *f = popen(cmd, "r");
  if (!f)
    unlink(err_path);
  cr_assert_not_null(f, "cannot run %s", cmdline);
  size_t n = fread(out, 1, sizeof out - 1, f);
  out[n] = '\0';
  int status = pclose(f);
  static char err[4096];
  tail_of(err_path, err, sizeof err);
  unlink(err_path);
  cr_assert_eq(status, 0, "%s printed:\n%s\n%s %s %d; its standard error ended with:\n%s",
               cmdline, out, cmdline,
               WIFSIGNALED(status) ? "was killed by signal" : "exited with status",
               WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), err);
  return out;
}

/* The line of `s` starting at `line`, without its newline, in `buf`. */
static const char *line_at(const char *line, char *buf, size_t cap) {
  size_t n = strcspn(line, "\n");
  if (n > cap - 1)
    n = cap - 1;
  memcpy(buf, line, n);
  buf[n] = '\0';
  return buf;
}

void example_expect_output(const char *what, const char *got, const char *want) {
  if (strcmp(got, want) == 0)
    return;
  const char *g = got, *w = want;
  int line = 1;
  for (;;) { /* to the start of the first line that differs */
    size_t gn = strcspn(g, "\n"), wn = strcspn(w, "\n");
    if (gn != wn || memcmp(g, w, gn) != 0 || !g[gn] || !w[wn])
      break;
    g += gn + 1, w += wn + 1, line++;
  }
  char gl[512], wl[512];
  cr_assert_fail("%s printed:\n%s\nexpected:\n%s\nfirst difference, line %d:\n"
                 "  printed:  \"%s\"%s\n  expected: \"%s\"%s",
                 what, got, want, line, line_at(g, gl, sizeof gl), *g ? "" : " (end of output)",
                 line_at(w, wl, sizeof wl), *w ? "" : " (end of expected)");
}
