/* SPDX-License-Identifier: Apache-2.0 */
/* Waiting for file descriptors, sockets, and the blocking offload. */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "platform/clock.h"

static int fds[2];

static void reader(void *arg) {
  cotp_pid to = *(cotp_pid *)arg;
  char buf[64];
  ssize_t n = cotp_read(fds[1], buf, sizeof buf, 5000);
  cotp_send(to, cotp_binary(cotp_self_heap(), buf, n > 0 ? (size_t)n : 0));
}

COTP_TEST(io, wait_on_a_socketpair) {
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  static cotp_pid me;
  me = cotp_self();
  cotp_spawn(reader, &me, NULL);
  cotp_sleep(20); /* the reader is parked, waiting for data */
  cr_assert_eq(cotp_write(fds[0], "hello", 5, 1000), 5);
  cotp_term msg;
  cotp_assert_rc(cotp_receive(5000, &msg), 0);
  cotp_assert_prints(msg, "\"hello\"");
  unsigned ready = 0;
  cotp_assert_rc(cotp_wait_fd(fds[1], COTP_READABLE, 20, &ready), COTP_ETIMEDOUT);
  cotp_assert_rc(cotp_wait_fd(fds[0], COTP_WRITABLE, 1000, &ready), 0);
  cr_assert(ready & COTP_WRITABLE);
  close(fds[0]);
  cotp_assert_rc(cotp_wait_fd(fds[1], COTP_READABLE, 1000, &ready), 0);
  cr_assert(ready & (COTP_READABLE | COTP_HUNGUP));
  char b;
  cr_assert_eq(cotp_read(fds[1], &b, 1, 1000), 0); /* end of file */
  close(fds[1]);
}

COTP_TEST(io, bad_descriptors_and_arguments) {
  cotp_assert_rc(cotp_wait_fd(-1, COTP_READABLE, 0, NULL), COTP_EBADF);
  cotp_assert_rc(cotp_wait_fd(12345, COTP_READABLE, 0, NULL), COTP_EBADF);
  cotp_assert_rc(cotp_wait_fd(0, 0, 0, NULL), COTP_EINVAL);
  cotp_assert_rc(cotp_wait_fd(0, COTP_READABLE, -7, NULL), COTP_EINVAL);
  char b;
  cr_assert_eq(cotp_read(12345, &b, 1, 0), COTP_EBADF);
  cotp_assert_rc(cotp_tcp_listen("not an address", 0, 1, NULL), COTP_EINVAL);
}

static unsigned port;

static void echo_server(void *arg) {
  int lfd = *(int *)arg;
  int c = cotp_accept(lfd, 5000);
  cr_assert_geq(c, 0);
  char buf[256];
  ssize_t n;
  while ((n = cotp_read(c, buf, sizeof buf, 5000)) > 0)
    cotp_write(c, buf, (size_t)n, 5000);
  close(c);
  close(lfd);
}

COTP_TEST(io, tcp_echo_over_loopback) {
  static int lfd;
  lfd = cotp_tcp_listen("127.0.0.1", 0, 16, &port);
  cr_assert_geq(lfd, 0);
  cotp_pid server;
  cotp_term mon;
  cotp_spawn_monitor(echo_server, &lfd, &server, &mon);
  int fd = cotp_tcp_connect("127.0.0.1", port, 5000);
  cr_assert_geq(fd, 0);
  for (int i = 0; i < 100; i++) {
    char out[32], in[32];
    int len = snprintf(out, sizeof out, "message %d", i);
    cr_assert_eq(cotp_write(fd, out, (size_t)len, 5000), len);
    ssize_t got = 0;
    while (got < len) {
      ssize_t n = cotp_read(fd, in + got, sizeof in - (size_t)got, 5000);
      cr_assert_gt(n, 0);
      got += n;
    }
    cr_assert(memcmp(in, out, (size_t)len) == 0);
  }
  close(fd);
  /* once the server has closed its listening socket, connecting is refused */
  cotp_clause down = {cotp_pattern_cached("{:DOWN, ^ref, _, _, _}", NULL), &mon, NULL};
  cotp_assert_rc(cotp_receive_match(&down, 1, 5000, 0, NULL), 0);
  cotp_assert_rc(cotp_tcp_connect("127.0.0.1", port, 1000), COTP_EIO);
}

static void slow_call(void *arg) {
  int *done = arg; /* on the caller's stack: the offload pins it */
  sleep(1);
  *done = 1;
}

static void blocker(void *arg) {
  cotp_pid to = *(cotp_pid *)arg;
  int done = 0;
  cotp_assert_rc(cotp_blocking(slow_call, &done), 0);
  cr_assert_eq(done, 1);
  cotp_send(to, COTP_ATOM(blocked_done));
}

static void flood(void *arg) {
  cotp_pid to = *(cotp_pid *)arg;
  for (int i = 0; i < 10000; i++)
    cotp_send(to, cotp_int(NULL, i));
}

/* A call that blocks its thread for a second runs on the pool: 10,000
 * messages still flow meanwhile, and the blocked process is not woken by
 * them. */
COTP_TEST(io, blocking_offload_while_messages_flow, .timeout = 30) {
  static cotp_pid me;
  me = cotp_self();
  cotp_pid b;
  cotp_spawn(blocker, &me, &b);
  int64_t t0 = cotp__now_ms();
  cotp_spawn(flood, &me, NULL);
  for (int i = 0; i < 10000; i++) {
    cotp_term msg;
    cotp_assert_rc(cotp_receive(5000, &msg), 0);
    cr_assert(cotp_is_integer(msg), "message %d came after the blocking call", i);
  }
  cr_assert_lt(cotp__now_ms() - t0, 900, "the messages waited for the call");
  for (int i = 0; i < 50; i++) /* the blocked process ignores messages */
    cotp_send(b, COTP_ATOM(noise));
  cotp_term msg;
  cotp_assert_rc(cotp_receive(5000, &msg), 0);
  cotp_assert_term_eq(msg, COTP_ATOM(blocked_done));
  cotp_assert_rc(cotp_blocking(NULL, NULL), COTP_EINVAL);
}
