/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp/io.h: waiting for file descriptors, sockets, and blocking calls.
 *
 * A process that waits for I/O parks; the thread it ran on goes on with
 * other processes.  Readiness comes from epoll, polled by idle schedulers
 * (which sleep in it) and by busy ones between processes.  The helpers
 * below set O_NONBLOCK on the descriptors they are given and park on
 * EAGAIN, so code written for blocking sockets reads the same.
 *
 * A C call that blocks the thread (a DNS lookup, fsync, a library without
 * a non-blocking mode) would stall every process of its scheduler: hand it
 * to cotp_blocking(), which runs it on a separate pool of threads while the
 * caller is parked (the BEAM's dirty schedulers).
 */
#ifndef COTP_IO_H
#define COTP_IO_H

#include <sys/types.h>

#include "process.h"

struct sockaddr;

#ifdef __cplusplus
extern "C" {
#endif

/* Readiness events (epoll's values). */
#define COTP_READABLE 0x001u
#define COTP_WRITABLE 0x004u
#define COTP_ERRORED 0x008u
#define COTP_HUNGUP 0x010u

/*
 * Parks the calling process until fd is ready for any of events, or
 * timeout_ms passes.  *ready (may be NULL) receives the events that
 * happened (COTP_ERRORED and COTP_HUNGUP are always reported).
 * Context: inside a process.
 * Returns: 0, COTP_ETIMEDOUT, COTP_EBADF (fd not open, or not pollable),
 * COTP_EINVAL, COTP_ENOTPROC.
 */
COTP_API int cotp_wait_fd(int fd, unsigned events, int64_t timeout_ms,
                          unsigned *ready);

/*
 * read(2) and write(2) that park instead of blocking.  cotp_read returns the
 * bytes read (0 at end of file); cotp_write writes all n bytes unless an
 * error comes first and returns n.  Negative: COTP_ETIMEDOUT, COTP_EBADF,
 * COTP_ECLOSED (peer gone while writing), COTP_EIO (errno tells).
 */
COTP_API ssize_t cotp_read(int fd, void *buf, size_t n, int64_t timeout_ms);
COTP_API ssize_t cotp_write(int fd, const void *buf, size_t n,
                            int64_t timeout_ms);

/* accept(2) that parks: the new descriptor (non-blocking, close-on-exec),
 * or a negative code as above. */
COTP_API int cotp_accept(int listen_fd, int64_t timeout_ms);

/* connect(2) that parks until the connection is up: 0 or a negative code
 * (COTP_EIO with errno ECONNREFUSED, ...). */
COTP_API int cotp_connect(int fd, const struct sockaddr *addr,
                          unsigned addrlen, int64_t timeout_ms);

/* A listening TCP socket on host:port ("127.0.0.1", 0 for any free port),
 * non-blocking; *bound_port (may be NULL) receives the port.  Returns the
 * descriptor or a negative code. */
COTP_API int cotp_tcp_listen(const char *host, unsigned port, int backlog,
                             unsigned *bound_port);

/* A TCP connection to host:port (numeric address), parking while it
 * connects.  Returns the descriptor or a negative code. */
COTP_API int cotp_tcp_connect(const char *host, unsigned port,
                              int64_t timeout_ms);

/*
 * Runs fn(arg) on a thread of the blocking pool while the calling process
 * is parked, and returns when it has returned.  fn may use memory on the
 * caller's stack: the stack is pinned for the duration.  fn must not call
 * into cotp's process API (it is not a process).
 * Context: inside a process.
 * Returns: 0, COTP_EINVAL, COTP_ENOMEM, COTP_ENOTPROC.
 */
COTP_API int cotp_blocking(void (*fn)(void *arg), void *arg);

#ifdef __cplusplus
}
#endif

#endif
