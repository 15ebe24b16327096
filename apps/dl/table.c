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

int dl_table_print(FILE *out, const dl_download *v, size_t n, int64_t now_ms) {
  fprintf(out, "%-3s %-16s %-8s %5s %-22s %-21s %-11s %s\n", "ID", "NAME", "STATUS",
          "%", "PROGRESS", "BYTES", "SPEED", "ERROR");
  for (size_t i = 0; i < n; i++) {
    const dl_download *d = &v[i];
    char pct[8] = "NA", pb[24], done[12], total[12], bytes[32], speed[20] = "NA";
    double frac = 0;
    if (d->size > 0) {
      frac = (double)d->bytes_downloaded / (double)d->size;
      snprintf(pct, sizeof pct, "%d%%", (int)(frac * 100));
    } else if (d->status == DL_FINISH) {
      frac = 1;
      snprintf(pct, sizeof pct, "100%%");
    }
    pb[0] = '[';
    bar(pb + 1, 20, frac);
    strcat(pb, "]");
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
    fprintf(out, "%-3.3s %-16.16s %-8s %5s %-22s %-21s %-11s %s\n", d->id ? d->id : "?",
            d->name ? d->name : "?", dl_status_name(d->status), pct, pb, bytes, speed,
            d->error_reason ? d->error_reason : "");
  }
  return (int)n + 1;
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
