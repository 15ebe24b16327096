/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.h: an HTTP client for cotp processes, on libcurl's multi socket
 * interface.
 *
 * One process, the client (a GenServer registered as HttpClient), owns a
 * curl multi handle and runs every transfer of the program: no thread per
 * download, and no scheduler ever blocks on a socket.  A process asks for
 * a URL with dl_http_get() and the response comes to it as messages, the
 * way HTTPoison's `stream_to: self(), async: :once` delivers them (book
 * ch. 6.0):
 *
 *   {:http_status, ref, code}        the final status (after redirects)
 *   {:http_headers, ref, headers}    [{"content-length", "1024"}, ...],
 *                                    names in lower case, in order
 *   {:http_chunk, ref, data}         a binary of the body
 *   {:http_end, ref}                 the body is complete
 *   {:http_error, ref, reason}       a binary naming what failed ("Couldn't
 *                                    connect to server: ..."); nothing follows
 *
 * Flow control is HTTPoison's async: :once for the body: after a chunk the
 * client reads nothing more from that response until the receiver calls
 * dl_http_stream_next(ref), so a slow disk slows the socket, not the heap.
 * Status and headers need no stream_next.
 *
 * The client monitors each receiver: a receiver that dies has its
 * transfers cancelled.  docs/http.md explains how curl's socket and timer
 * callbacks become cotp fd waits and timers.
 */
#ifndef DL_HTTP_H
#define DL_HTTP_H

#include <cotp.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The name the client is registered under. */
#define DL_HTTP_CLIENT COTP_ATOM(Elixir.HttpClient)

typedef struct dl_http_opts {
  /* Milliseconds to wait for a connection; 0: 10 seconds. */
  int64_t connect_timeout_ms;
  /* Follow 3xx redirects (up to 10). */
  bool follow_redirects;
  /* For https: a PEM file of the certificate authorities to trust instead
   * of the system's (a private CA, a test's self-signed certificate).
   * NULL: the system's.  Peers are always verified, name included. */
  const char *ca_file;
} dl_http_opts;

#define DL_HTTP_OPTS_INIT {0, true, NULL}

/*
 * Starts the client, linked to the caller, and registers it as
 * DL_HTTP_CLIENT.  Context: inside a process.
 * Returns: 0 (*pid may be NULL); COTP_GENSERVER_ERROR when it is already
 * running or curl cannot start; the codes of cotp_genserver_start_link.
 */
int dl_http_start_link(cotp_pid *pid);

/*
 * Stops the client: transfers in flight end with {:http_error, ref,
 * "client stopped"}.  Returns 0, COTP_ENOPROC when it is not running.
 * Context: inside a process.
 */
int dl_http_stop(void);

/*
 * Starts a GET of url whose response is streamed to the caller.  *ref
 * receives the request's reference (an immediate term).  An invalid URL is
 * not an error here: it comes back as {:http_error, ref, reason}.
 * Context: inside a process.  opts may be NULL.
 * Returns: 0; COTP_EINVAL (url or ref NULL); COTP_ENOMEM.
 */
int dl_http_get(const char *url, const dl_http_opts *opts, cotp_term *ref);

/* Asks for the next chunk of the response ref (after an {:http_chunk}).
 * Returns 0 or COTP_ENOMEM.  Context: any process. */
int dl_http_stream_next(cotp_term ref);

/* Cancels the request ref: no message about it is sent after this returns
 * (one may be in the mailbox already).  Context: inside a process. */
int dl_http_cancel(cotp_term ref);

#ifdef __cplusplus
}
#endif

#endif
