/* SPDX-License-Identifier: Apache-2.0 */
/*
 * poller.c: waiting for file descriptors (epoll), and the socket helpers.
 *
 * One epoll instance for the runtime.  A process that waits arms its
 * descriptor with EPOLLONESHOT; the event's data is the process's pid and
 * a wait number, so an event that comes after the wait gave up (timeout)
 * or after the process exited is recognised and dropped.  Events are
 * collected by whichever scheduler polls: an idle one holding the poller
 * role sleeps in epoll_wait (an eventfd in the set lets others wake it),
 * and busy ones poll without waiting every few ticks, so descriptors are
 * served even when no scheduler is idle.
 *
 * The wait state lives in the process's control block, never on its
 * stack: the poller runs on another thread, and a parked process's stack
 * may have been copied out.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "platform/clock.h"
#include "runtime.h"

static int epfd = -1, evfd = -1;
static _Atomic int waiting;       /* processes in cotp_wait_fd */
static _Atomic bool poller_taken;

#define WAKE_TOKEN UINT64_MAX

int cotp__io_init(void) {
  epfd = epoll_create1(EPOLL_CLOEXEC);
  evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKE_TOKEN};
  if (epfd < 0 || evfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, evfd, &ev) != 0) {
    cotp__io_close();
    return COTP_ENOMEM;
  }
  atomic_store(&waiting, 0);
  atomic_store(&poller_taken, false);
  return 0;
}

void cotp__io_close(void) {
  if (epfd >= 0)
    close(epfd);
  if (evfd >= 0)
    close(evfd);
  epfd = evfd = -1;
}

bool cotp__io_pending(void) {
  return atomic_load_explicit(&waiting, memory_order_relaxed) > 0;
}

bool cotp__io_take_poller(void) {
  bool no = false;
  return atomic_compare_exchange_strong(&poller_taken, &no, true);
}

void cotp__io_release_poller(void) { atomic_store(&poller_taken, false); }

void cotp__io_interrupt(void) {
  uint64_t one = 1;
  ssize_t n = write(evfd, &one, sizeof one);
  (void)n; /* a full counter already means "wake up" */
}

/* data: the low 48 bits of the pid (number and serial), the wait number
 * in the top 16 */
static uint64_t wait_token(cotp_pid pid, uint16_t seq) {
  return (pid.bits & (((uint64_t)1 << 48) - 1)) | (uint64_t)seq << 48;
}

void cotp__io_poll(int64_t timeout_ms) {
  struct epoll_event ev[64];
  int t = timeout_ms < 0 ? -1 : timeout_ms > 3600000 ? 3600000 : (int)timeout_ms;
  int n = epoll_wait(epfd, ev, 64, t);
  for (int i = 0; i < n; i++) {
    if (ev[i].data.u64 == WAKE_TOKEN) {
      /* Only a blocking poll (the poller) consumes the wake-up: a busy
       * scheduler's quick look must not eat the token meant to wake the
       * poller, or the poller sleeps on through a stop. */
      if (timeout_ms != 0) {
        uint64_t drain;
        ssize_t r = read(evfd, &drain, sizeof drain);
        (void)r;
      }
      continue;
    }
    cotp_pid pid = {ev[i].data.u64 & (((uint64_t)1 << 48) - 1)};
    uint16_t seq = (uint16_t)(ev[i].data.u64 >> 48);
    struct cotp__proc *p = cotp__proc_lookup(pid);
    if (!p || atomic_load_explicit(&p->io_seq, memory_order_acquire) != seq)
      continue; /* the wait this was for is over */
    unsigned got = ev[i].events & (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP);
    atomic_store_explicit(&p->io_ready, got ? got : EPOLLERR, memory_order_release);
    cotp__wake(p);
  }
}

void cotp__io_cancel(struct cotp__proc *p) {
  if (p->io_fd < 0)
    return;
  /* disarm, and make any event already on its way stale */
  struct epoll_event ev = {.events = EPOLLONESHOT, .data.u64 = 0};
  epoll_ctl(epfd, EPOLL_CTL_MOD, p->io_fd, &ev);
  atomic_fetch_add_explicit(&p->io_seq, 1, memory_order_release);
  p->io_fd = -1;
  p->flags &= (uint16_t)~PF_IO;
  atomic_fetch_sub_explicit(&waiting, 1, memory_order_relaxed);
}

int cotp_wait_fd(int fd, unsigned events, int64_t timeout_ms, unsigned *ready) {
  struct cotp__proc *p = cotp__proc_self();
  if (!p)
    return COTP_ENOTPROC;
  if (fd < 0)
    return COTP_EBADF;
  if ((timeout_ms < 0 && timeout_ms != COTP_INFINITY) ||
      (events & ~(unsigned)(COTP_READABLE | COTP_WRITABLE)) || !events)
    return COTP_EINVAL;
  cotp_pid pid = cotp_self();
  uint16_t seq = (uint16_t)atomic_load_explicit(&p->io_seq, memory_order_relaxed);
  struct epoll_event ev = {.events = events | EPOLLONESHOT,
                           .data.u64 = wait_token(pid, seq)};
  atomic_store_explicit(&p->io_ready, 0, memory_order_relaxed);
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) != 0) {
    int e = errno;
    if (e == ENOENT && epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0) {
      e = 0;
    } else if (e == ENOENT) {
      e = errno;
    }
    if (e == EPERM) { /* a regular file: always ready, as poll(2) says */
      if (ready)
        *ready = events;
      return 0;
    }
    if (e)
      return COTP_EBADF;
  }
  p->io_fd = fd;
  p->flags |= PF_IO;
  /* a poller already asleep in epoll_wait sees the new registration: epoll
   * reports descriptors added during a wait */
  atomic_fetch_add_explicit(&waiting, 1, memory_order_relaxed);
  int64_t deadline = timeout_ms == COTP_INFINITY ? INT64_MAX
                                                  : cotp__now_ms() + timeout_ms;
  int rc = 0;
  for (;;) {
    unsigned got = atomic_load_explicit(&p->io_ready, memory_order_acquire);
    if (got) {
      if (ready)
        *ready = got;
      break;
    }
    if (timeout_ms == 0 || cotp__now_ms() >= deadline) {
      rc = COTP_ETIMEDOUT;
      break;
    }
    if (deadline != INT64_MAX && !(p->flags & PF_TIMED)) {
      if (cotp__timer_add(&cotp__sched_self()->timers, &p->timer, deadline) == 0)
        p->flags |= PF_TIMED;
    }
    cotp__switch_out(p, (p->flags & PF_TIMED) || deadline == INT64_MAX
                            ? RQ_PARK
                            : RQ_YIELD);
    if (atomic_load_explicit(&cotp__rt->stopping, memory_order_relaxed)) {
      rc = COTP_ETIMEDOUT;
      break;
    }
    cotp__inbox_drain(p); /* messages wake us; keep them from doing so */
  }
  if (p->flags & PF_TIMED) {
    cotp__timer_remove(&p->timer);
    p->flags &= (uint16_t)~PF_TIMED;
  }
  cotp__io_cancel(p);
  cotp__reduce(p, 1);
  return rc;
}

/* --- helpers --- */

static int nonblocking(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0)
    return COTP_EBADF;
  if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return COTP_EBADF;
  return 0;
}

static int errno_code(int e) {
  switch (e) {
  case EBADF:
  case ENOTSOCK:
    return COTP_EBADF;
  case EPIPE:
  case ECONNRESET:
    return COTP_ECLOSED;
  default:
    return COTP_EIO;
  }
}

ssize_t cotp_read(int fd, void *buf, size_t n, int64_t timeout_ms) {
  int rc = nonblocking(fd);
  if (rc)
    return rc;
  for (;;) {
    ssize_t got = read(fd, buf, n);
    if (got >= 0)
      return got;
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN)
      return errno_code(errno);
    if ((rc = cotp_wait_fd(fd, COTP_READABLE, timeout_ms, NULL)) != 0)
      return rc;
  }
}

ssize_t cotp_write(int fd, const void *buf, size_t n, int64_t timeout_ms) {
  int rc = nonblocking(fd);
  if (rc)
    return rc;
  size_t done = 0;
  while (done < n) {
    ssize_t put = send(fd, (const char *)buf + done, n - done, MSG_NOSIGNAL);
    if (put < 0 && errno == ENOTSOCK)
      put = write(fd, (const char *)buf + done, n - done);
    if (put >= 0) {
      done += (size_t)put;
      continue;
    }
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN)
      return errno_code(errno);
    if ((rc = cotp_wait_fd(fd, COTP_WRITABLE, timeout_ms, NULL)) != 0)
      return rc;
  }
  return (ssize_t)n;
}

int cotp_accept(int listen_fd, int64_t timeout_ms) {
  int rc = nonblocking(listen_fd);
  if (rc)
    return rc;
  for (;;) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0)
      return fd;
    if (errno == EINTR || errno == ECONNABORTED)
      continue;
    if (errno != EAGAIN)
      return errno_code(errno);
    if ((rc = cotp_wait_fd(listen_fd, COTP_READABLE, timeout_ms, NULL)) != 0)
      return rc;
  }
}

int cotp_connect(int fd, const struct sockaddr *addr, unsigned addrlen,
                 int64_t timeout_ms) {
  int rc = nonblocking(fd);
  if (rc)
    return rc;
  if (connect(fd, addr, addrlen) == 0)
    return 0;
  if (errno != EINPROGRESS)
    return errno_code(errno);
  if ((rc = cotp_wait_fd(fd, COTP_WRITABLE, timeout_ms, NULL)) != 0)
    return rc;
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err) {
    errno = err;
    return COTP_EIO;
  }
  return 0;
}

static int address(const char *host, unsigned port, struct sockaddr_in *sa) {
  if (port > 65535)
    return COTP_EINVAL;
  *sa = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host ? host : "0.0.0.0", &sa->sin_addr) != 1)
    return COTP_EINVAL;
  return 0;
}

/* A non-blocking TCP socket for host:port with one option set, or a
 * negative code. */
static int tcp_socket(const char *host, unsigned port, struct sockaddr_in *sa,
                      int level, int option) {
  int rc = address(host, port, sa);
  if (rc)
    return rc;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return COTP_EIO;
  int one = 1;
  setsockopt(fd, level, option, &one, sizeof one);
  return fd;
}

int cotp_tcp_listen(const char *host, unsigned port, int backlog,
                    unsigned *bound_port) {
  struct sockaddr_in sa;
  int fd = tcp_socket(host, port, &sa, SOL_SOCKET, SO_REUSEADDR);
  if (fd < 0)
    return fd;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      listen(fd, backlog > 0 ? backlog : 128) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return COTP_EIO;
  }
  if (bound_port) {
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &len);
    *bound_port = ntohs(sa.sin_port);
  }
  return fd;
}

int cotp_tcp_connect(const char *host, unsigned port, int64_t timeout_ms) {
  struct sockaddr_in sa;
  int fd = tcp_socket(host, port, &sa, IPPROTO_TCP, TCP_NODELAY);
  if (fd < 0)
    return fd;
  int rc;
  if ((rc = cotp_connect(fd, (struct sockaddr *)&sa, sizeof sa, timeout_ms)) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return rc;
  }
  return fd;
}
