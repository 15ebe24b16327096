#include "harness.h"

static void child(void *arg) {
  cotp_pid parent = *(cotp_pid *)arg;
  cotp_heap *h = cotp_self_heap();
  cotp_send(parent, cotp_format(h, "{:hello, ~p}", cotp_self()));
}

static cotp_pid root_pid;
static int got;

static void root(void *arg) {
  (void)arg;
  root_pid = cotp_self();
  cotp_pid c;
  cr_assert_eq(cotp_spawn(child, &root_pid, &c), 0);
  cotp_term msg;
  cr_assert_eq(cotp_receive(1000, &msg), 0);
  char buf[64];
  cotp_term_print(buf, sizeof buf, msg);
  fprintf(stderr, "got %s\n", buf);
  got = 1;
}

Test(smoke, spawn_and_receive) {
  cotp_config cfg = COTP_CONFIG_INIT;
  cfg.schedulers = 2;
  int rc = cotp_run(root, NULL, &cfg, NULL, NULL);
  cr_assert_eq(rc, 0);
  cr_assert_eq(got, 1);
}
