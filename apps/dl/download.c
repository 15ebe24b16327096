/* SPDX-License-Identifier: Apache-2.0 */
/*
 * download.c: the Download record as a C struct and as a term.
 *
 * The term is the map of an Elixir struct, %Download{}, with nil where
 * the book has nil: what `inspect` of the record shows, and what a BEAM
 * node would read.
 */
#define _GNU_SOURCE
#include "download.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define A(name) COTP_ATOM(name)

static const char *const status_names[] = {"initiate", "active", "finish", "error",
                                           "cancel"};

const char *dl_status_name(dl_status s) {
  return (unsigned)s < 5 ? status_names[s] : "?";
}

bool dl_status_final(dl_status s) {
  return s == DL_FINISH || s == DL_ERROR || s == DL_CANCEL;
}

int64_t dl_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void dl_set_text(char **field, const char *text) {
  char *copy = text ? strdup(text) : NULL;
  free(*field);
  *field = copy;
}

static cotp_term text_or_nil(cotp_heap *h, const char *s) {
  return s ? cotp_binary(h, s, strlen(s)) : COTP_ATOM_NIL;
}

static cotp_term int_or_nil(cotp_heap *h, int64_t v, bool nil) {
  return nil ? COTP_ATOM_NIL : cotp_int(h, v);
}

cotp_term dl_download_to_term(cotp_heap *h, const dl_download *d) {
  cotp_term keys[] = {A(__struct__), A(id), A(name), A(src), A(dest), A(from), A(pid),
                      A(size), A(status), A(bytes_downloaded), A(exit_status),
                      A(error_reason), A(http_status), A(start_time), A(end_time)};
  cotp_term values[] = {
      A(Download),
      text_or_nil(h, d->id),
      text_or_nil(h, d->name),
      text_or_nil(h, d->src),
      text_or_nil(h, d->dest),
      d->from.bits ? cotp_pid_term(d->from) : COTP_ATOM_NIL,
      d->pid.bits ? cotp_pid_term(d->pid) : COTP_ATOM_NIL,
      int_or_nil(h, d->size, d->size < 0),
      cotp_atom(dl_status_name(d->status)),
      cotp_int(h, d->bytes_downloaded),
      d->exit_status ? cotp_atom(d->exit_status) : COTP_ATOM_NIL,
      text_or_nil(h, d->error_reason),
      int_or_nil(h, d->http_status, d->http_status == 0),
      int_or_nil(h, d->start_time, d->start_time == 0),
      int_or_nil(h, d->end_time, d->end_time == 0),
  };
  return cotp_map(h, sizeof keys / sizeof keys[0], keys, values);
}

static char *text_of(cotp_term t) {
  size_t len;
  const uint8_t *s = cotp_binary_data(t, &len);
  if (s)
    return strndup((const char *)s, len);
  const char *a = cotp_is_atom(t) && !cotp_term_eq(t, COTP_ATOM_NIL)
                      ? cotp_atom_name(t, NULL)
                      : NULL;
  return a ? strdup(a) : NULL;
}

static int64_t int_of(cotp_term t, int64_t nil) {
  int64_t v;
  return cotp_get_int(t, &v) == 0 ? v : nil;
}

int dl_download_from_term(cotp_term t, dl_download *d) {
  *d = (dl_download){0};
  if (!cotp_is_map(t) || !cotp_term_eq(cotp_map_get(t, A(__struct__)), A(Download)))
    return COTP_EBADTYPE;
  d->id = text_of(cotp_map_get(t, A(id)));
  d->name = text_of(cotp_map_get(t, A(name)));
  d->src = text_of(cotp_map_get(t, A(src)));
  d->dest = text_of(cotp_map_get(t, A(dest)));
  d->from = cotp_get_pid(cotp_map_get(t, A(from)));
  d->pid = cotp_get_pid(cotp_map_get(t, A(pid)));
  d->size = int_of(cotp_map_get(t, A(size)), -1);
  const char *st = cotp_atom_name(cotp_map_get(t, A(status)), NULL);
  for (unsigned i = 0; st && i < 5; i++)
    if (strcmp(st, status_names[i]) == 0)
      d->status = (dl_status)i;
  d->bytes_downloaded = int_of(cotp_map_get(t, A(bytes_downloaded)), 0);
  d->exit_status = text_of(cotp_map_get(t, A(exit_status)));
  d->error_reason = text_of(cotp_map_get(t, A(error_reason)));
  d->http_status = (int)int_of(cotp_map_get(t, A(http_status)), 0);
  d->start_time = int_of(cotp_map_get(t, A(start_time)), 0);
  d->end_time = int_of(cotp_map_get(t, A(end_time)), 0);
  return 0;
}

int dl_download_copy(dl_download *dst, const dl_download *src) {
  *dst = *src;
  dst->id = dst->name = dst->src = dst->dest = dst->exit_status = dst->error_reason = NULL;
  dl_set_text(&dst->id, src->id);
  dl_set_text(&dst->name, src->name);
  dl_set_text(&dst->src, src->src);
  dl_set_text(&dst->dest, src->dest);
  dl_set_text(&dst->exit_status, src->exit_status);
  dl_set_text(&dst->error_reason, src->error_reason);
  if ((src->id && !dst->id) || (src->src && !dst->src) || (src->dest && !dst->dest)) {
    dl_download_clear(dst);
    return COTP_ENOMEM;
  }
  return 0;
}

void dl_download_clear(dl_download *d) {
  free(d->id);
  free(d->name);
  free(d->src);
  free(d->dest);
  free(d->exit_status);
  free(d->error_reason);
  *d = (dl_download){0};
}

void dl_downloads_free(dl_download *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    dl_download_clear(&v[i]);
  free(v);
}

void dl_guess_filename(const char *url, char *out, size_t cap) {
  /* skip the scheme and authority, stop at the query or fragment */
  const char *p = strstr(url, "://");
  p = p ? strchr(p + 3, '/') : strchr(url, '/');
  if (!p || cap == 0) {
    if (cap)
      out[0] = '\0';
    return;
  }
  size_t end = strcspn(p, "?#");
  const char *last = p;
  for (size_t i = 0; i < end; i++)
    if (p[i] == '/')
      last = p + i + 1;
  size_t len = (size_t)(p + end - last);
  if (len >= cap)
    len = cap - 1;
  memcpy(out, last, len);
  out[len] = '\0';
}
