/* SPDX-License-Identifier: Apache-2.0 */
/*
 * table.c: the live table and the plain lines of cotp-dl (table.h).  The
 * columns are the book's Runner's, less the source URL and the
 * destination (too wide for a terminal; the final summary names them).
 */
#include "table.h"

#include <string.h>

void dl_human_bytes(char *buf, size_t cap, double bytes) {
  static const char *const units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) {
    bytes /= 1000;
    u++;
  }
  if (u == 0)
    snprintf(buf, cap, "%.0f B", bytes);
  else
    snprintf(buf, cap, "%.1f %s", bytes, units[u]);
}

double dl_speed(const dl_download *d, int64_t now_ms) {
  if (!d->start_time || d->bytes_downloaded == 0)
    return 0;
  int64_t end = d->end_time ? d->end_time : now_ms;
  int64_t ms = end - d->start_time;
  return ms > 0 ? (double)d->bytes_downloaded * 1000.0 / (double)ms : 0;
}

static void bar(char *buf, size_t width, double frac) {
  size_t full = (size_t)(frac * (double)width + 0.5);
  if (full > width)
    full = width;
  for (size_t i = 0; i < width; i++)
    buf[i] = i < full ? '#' : '.';
  buf[width] = '\0';
}

/* Writes line to out cut to cols - 1 bytes (0: uncut), never inside a
 * UTF-8 sequence: a row that wrapped would take two screen lines, and the
 * redraw, which moves up one line per row, would leave copies behind. */
static void put_cut(FILE *out, const char *line, int cols) {
  size_t len = strlen(line);
  if (cols > 0 && len > (size_t)cols - 1) {
    len = (size_t)cols - 1;
    while (len > 0 && ((unsigned char)line[len] & 0xC0) == 0x80)
      len--; /* back to the start of the cut character */
  }
  fprintf(out, "%.*s\n", (int)len, line);
}

/* The columns take 73 bytes plus the bar's width; a failed download shows
 * its error after its status instead of numbers. */
enum { FIXED_COLS = 73, BAR_MAX = 20, BAR_MIN = 4 };

static void row(char *buf, size_t cap, const dl_download *d, int64_t now_ms, int bw) {
  if (d->status == DL_ERROR) { /* what went wrong matters more than numbers */
    snprintf(buf, cap, "%-3.3s %-16.16s %-8s %s", d->id ? d->id : "?",
             d->name ? d->name : "?", dl_status_name(d->status),
             d->error_reason ? d->error_reason : "?");
    return;
  }
  char pct[8] = "NA", pb[BAR_MAX + 3] = "", done[12], total[12], bytes[32], speed[20] = "NA";
  double frac = 0;
  if (d->size > 0) {
    frac = (double)d->bytes_downloaded / (double)d->size;
    snprintf(pct, sizeof pct, "%d%%", (int)(frac * 100));
  } else if (d->status == DL_FINISH) {
    frac = 1;
    snprintf(pct, sizeof pct, "100%%");
  }
  if (bw > 0) {
    pb[0] = '[';
    bar(pb + 1, (size_t)bw, frac);
    strcat(pb, "]");
  }
  dl_human_bytes(done, sizeof done, (double)d->bytes_downloaded);
  if (d->size >= 0) {
    dl_human_bytes(total, sizeof total, (double)d->size);
    snprintf(bytes, sizeof bytes, "%s / %s", done, total);
  } else {
    snprintf(bytes, sizeof bytes, "%s / ?", done);
  }
  double s = dl_speed(d, now_ms);
  if (s > 0) {
    dl_human_bytes(speed, sizeof speed - 2, s);
    strcat(speed, "/s");
  }
  snprintf(buf, cap, "%-3.3s %-16.16s %-8s %5s %-*s %-21s %s", d->id ? d->id : "?",
           d->name ? d->name : "?", dl_status_name(d->status), pct, bw > 0 ? bw + 2 : 0,
           pb, bytes, speed);
}

int dl_table_print(FILE *out, const dl_download *v, size_t n, int64_t now_ms, int cols,
                   int rows) {
  /* the bar gives up its width first, then the line is cut */
  int bw = BAR_MAX;
  if (cols > 0 && cols - 1 - FIXED_COLS < BAR_MAX)
    bw = cols - 1 - FIXED_COLS >= BAR_MIN ? cols - 1 - FIXED_COLS : 0;
  /* rows: the header, the downloads that fit, a line for the rest, and
   * the line the cursor is on */
  size_t shown = n;
  if (rows > 0 && n + 2 > (size_t)rows)
    shown = rows >= 4 ? (size_t)rows - 3 : 0;
  char line[1024];
  snprintf(line, sizeof line, "%-3s %-16s %-8s %5s %-*s %-21s %s", "ID", "NAME", "STATUS",
           "%", bw > 0 ? bw + 2 : 0, bw > 0 ? "PROGRESS" : "", "BYTES", "SPEED");
  put_cut(out, line, cols);
  for (size_t i = 0; i < shown; i++) {
    row(line, sizeof line, &v[i], now_ms, bw);
    put_cut(out, line, cols);
  }
  if (shown == n)
    return (int)n + 1;
  size_t count[4] = {0}; /* initiate, active, finish, error */
  for (size_t i = shown; i < n; i++)
    count[v[i].status == DL_ACTIVE ? 1 : v[i].status == DL_FINISH ? 2
          : v[i].status == DL_ERROR ? 3 : 0]++;
  snprintf(line, sizeof line, "... %zu more: %zu active, %zu finished, %zu failed, %zu waiting",
           n - shown, count[1], count[2], count[3], count[0]);
  put_cut(out, line, cols);
  return (int)shown + 2;
}

void dl_line(char *buf, size_t cap, const dl_download *d, int64_t now_ms) {
  char size[16], speed[16];
  const char *id = d->id ? d->id : "?", *name = d->name ? d->name : "?";
  switch (d->status) {
  case DL_FINISH:
    dl_human_bytes(size, sizeof size, (double)d->bytes_downloaded);
    dl_human_bytes(speed, sizeof speed, dl_speed(d, now_ms));
    snprintf(buf, cap, "[%s] %s: finish, %s in %.1f s (%s/s)", id, name, size,
             (double)(d->end_time - d->start_time) / 1000.0, speed);
    break;
  case DL_ERROR:
    snprintf(buf, cap, "[%s] %s: error: %s (%s)", id, name,
             d->error_reason ? d->error_reason : "?", d->src ? d->src : "?");
    break;
  case DL_ACTIVE:
    if (d->size >= 0) {
      dl_human_bytes(size, sizeof size, (double)d->size);
      snprintf(buf, cap, "[%s] %s: active, %s", id, name, size);
    } else {
      snprintf(buf, cap, "[%s] %s: active, size unknown", id, name);
    }
    break;
  default:
    snprintf(buf, cap, "[%s] %s: %s", id, name, dl_status_name(d->status));
  }
}
