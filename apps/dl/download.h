/* SPDX-License-Identifier: Apache-2.0 */
/*
 * download.h: the Download record of the book's download manager (ch. 6.0)
 * and the DownloadWorker and DownloadManager that keep it.
 *
 * A record travels between processes as a term, the map an Elixir
 * %Download{} struct is (__struct__: Download, id: "3", status: :active,
 * ...); C code reads it back into a dl_download.  The book's resp and fd
 * fields are the worker's private state (the request's reference and the
 * file), never sent.
 *
 * Partial files.  A worker writes to DEST.part and renames it to DEST when
 * the body is complete (and as long as the server announced); a download
 * that fails or is cancelled deletes its .part file, so DEST only ever
 * holds a whole file.  Its record keeps bytes_downloaded.
 */
#ifndef DL_DOWNLOAD_H
#define DL_DOWNLOAD_H

#include <cotp.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dl_status {
  DL_INITIATE, /* the worker is starting */
  DL_ACTIVE,   /* the response is streaming */
  DL_FINISH,   /* complete: DEST holds the file */
  DL_ERROR,    /* failed: error_reason says why */
  DL_CANCEL    /* removed or interrupted before the end */
} dl_status;

typedef struct dl_download {
  char *id;          /* unique in the manager: "1", "2", ... */
  char *name;        /* from the URL's path: "100MB.bin" */
  char *src;         /* the URL */
  char *dest;        /* the file path */
  cotp_pid from;     /* who asked for it: the manager */
  cotp_pid pid;      /* the worker */
  int64_t size;      /* bytes announced by the server; -1: unknown */
  dl_status status;
  int64_t bytes_downloaded;
  char *exit_status; /* the worker's exit: "normal", "shutdown", ...; NULL */
  char *error_reason; /* NULL unless status is DL_ERROR */
  int http_status;   /* the response's status; 0 before it comes */
  int64_t start_time; /* wall clock, ms since 1970, when the body began; 0: nil */
  int64_t end_time;   /* when it ended; 0: nil */
} dl_download;

const char *dl_status_name(dl_status s);
bool dl_status_final(dl_status s);

/* The record as a term built in h. */
cotp_term dl_download_to_term(cotp_heap *h, const dl_download *d);

/* Reads a record back from its term: 0, or COTP_EBADTYPE.  Ownership: *d
 * owns copies of the strings; free them with dl_download_clear. */
int dl_download_from_term(cotp_term t, dl_download *d);

/* A deep copy of src into *dst (strings duplicated).  0 or COTP_ENOMEM. */
int dl_download_copy(dl_download *dst, const dl_download *src);

/* Frees the strings of *d and zeroes it. */
void dl_download_clear(dl_download *d);

/* Frees a vector of records. */
void dl_downloads_free(dl_download *v, size_t n);

/* Sets *field to a copy of text (NULL allowed), freeing what was there. */
void dl_set_text(char **field, const char *text);

/* The wall clock in ms since 1970. */
int64_t dl_now_ms(void);

/* The file name a URL suggests: the last segment of its path, "" when it
 * has none ("http://host/" gives ""). */
void dl_guess_filename(const char *url, char *out, size_t cap);

/* --- DownloadWorker --- */

typedef struct dl_worker_opts {
  /* A response that delivers nothing for this long fails with a timeout
   * (a stalled server); 0: 30 s. */
  int64_t idle_timeout_ms;
  /* Milliseconds to connect; 0: 10 s. */
  int64_t connect_timeout_ms;
} dl_worker_opts;

#define DL_WORKER_OPTS_INIT {0, 0}

/* The DownloadWorker behaviour.  Its init argument is the term
 * {download, idle_timeout_ms, connect_timeout_ms}. */
extern const cotp_genserver_callbacks dl_worker_callbacks;

/* --- DownloadManager --- */

typedef struct dl_manager_opts {
  const char *dir;    /* where files go; NULL: /tmp/async_elixir_temp_downloads */
  int64_t refresh_ms; /* how often active downloads are asked for their
                         status; 0: 1000 (the book's @update_interval) */
  dl_worker_opts worker;
} dl_manager_opts;

#define DL_MANAGER_OPTS_INIT {NULL, 0, DL_WORKER_OPTS_INIT}

/* The name the manager is registered under. */
#define DL_MANAGER COTP_ATOM(Elixir.DownloadManager)

/*
 * Starts the manager, linked to the caller, registered as DL_MANAGER.  It
 * needs the HTTP client (dl_http_start_link) running.  Context: inside a
 * process.  Returns as cotp_genserver_start_link.
 */
int dl_manager_start_link(const dl_manager_opts *opts, cotp_pid *pid);

/*
 * Adds a download of src (DownloadManager.add/1): a worker starts at once.
 * dest NULL: the manager's folder and the name the URL suggests (made
 * unique).  *id (may be NULL) receives the new id, malloc'ed.
 * Returns: 0; COTP_EINVAL; COTP_ENOPROC (no manager).  A URL that is not
 * valid is no error here: the download fails with a reason that says so.
 */
int dl_manager_add(const char *src, const char *dest, char **id);

/* Removes a download: its worker is stopped (as a supervisor stops a
 * child: exit :shutdown, killed after 5 s) and its file deleted.
 * Returns 0, COTP_ENOTFOUND, COTP_ENOPROC. */
int dl_manager_remove(const char *id);

/* Cancels every download that has not ended; the records stay, with
 * status DL_CANCEL.  Returns 0 or COTP_ENOPROC. */
int dl_manager_cancel_all(void);

/* The latest record of a download: 0, COTP_ENOTFOUND, COTP_ENOPROC. */
int dl_manager_get(const char *id, dl_download *out);

/* Every record, in the order they were added (free with
 * dl_downloads_free).  Returns 0, COTP_ENOPROC, COTP_ENOMEM. */
int dl_manager_list(dl_download **out, size_t *n);

#ifdef __cplusplus
}
#endif

#endif
