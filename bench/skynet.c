/* SPDX-License-Identifier: Apache-2.0 */
/*
 * skynet.c: the skynet benchmark, twin of bench/beam/skynet.exs.
 *
 * A 10-ary tree of processes with 1,000,000 leaves (1,111,111 processes in
 * all): each inner node spawns its ten children and sums what they send
 * back, each leaf sends its own number.  The root checks the sum,
 * 499999500000, and prints the wall time from the first spawn to the
 * answer.
 *
 *   skynet <ms> ms
 */
#include "bench.h"

#define LEAVES 1000000
#define FANOUT 10
#define EXPECTED 499999500000ll

/* A node's orders, copied for each child by the runtime (arg_size), as
 * the twin's closures are copied with the process they start. */
struct node {
  cotp_pid parent;
  int64_t num;
  int64_t size;
};

static const cotp_spawn_opts copy_node = {.priority = COTP_PRIORITY_NORMAL,
                                          .arg_size = sizeof(struct node)};

static void node(void *arg) {
  struct node n = *(struct node *)arg;
  if (n.size == 1) {
    bench_check(cotp_send(n.parent, cotp_int(NULL, n.num)), "send");
    return;
  }
  int64_t sub = n.size / FANOUT;
  cotp_pid self = cotp_self();
  for (int i = 0; i < FANOUT; i++) {
    struct node c = {self, n.num + i * sub, sub};
    bench_check(cotp_spawn_opt(node, &c, &copy_node, NULL), "spawn");
  }
  /* the children's numbers land in this heap: give them back at once */
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  int64_t sum = 0;
  for (int i = 0; i < FANOUT; i++) {
    cotp_term x;
    bench_check(cotp_receive(COTP_INFINITY, &x), "receive");
    sum += cotp_int_value(x);
    cotp_heap_release(h, mark);
  }
  bench_check(cotp_send(n.parent, cotp_int(NULL, sum)), "send");
}

static void root(void *arg) {
  (void)arg;
  struct node top = {cotp_self(), 0, LEAVES};
  int64_t t0 = bench_now_ns();
  bench_check(cotp_spawn_opt(node, &top, &copy_node, NULL), "spawn");
  cotp_term x;
  bench_check(cotp_receive(COTP_INFINITY, &x), "receive");
  int64_t t1 = bench_now_ns();
  if (cotp_int_value(x) != EXPECTED)
    bench_die("skynet: sum %lld, expected %lld",
              (long long)cotp_int_value(x), EXPECTED);
  bench_figure("skynet", (double)(t1 - t0) / 1e6, "ms");
}

int main(void) {
  bench_run(root, NULL);
  return 0;
}
