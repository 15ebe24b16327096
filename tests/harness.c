/* SPDX-License-Identifier: Apache-2.0 */
/*
 * harness.c: the seed, the generator and the assertions of harness.h.
 *
 * The seed is chosen once per run, in the runner process (the PRE_ALL
 * hook), and put in the environment, so every test process forked after it
 * sees the same value; the POST_TEST hook, also in the runner, prints it
 * next to each failure.
 */
#include <criterion/hooks.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

ReportHook(PRE_ALL)(struct criterion_test_set *set) {
  (void)set;
  if (getenv("COTP_TEST_SEED"))
    return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRIu64,
           (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec);
  setenv("COTP_TEST_SEED", buf, 1);
}

ReportHook(POST_TEST)(struct criterion_test_stats *stats) {
  if (stats->test_status == CR_STATUS_FAILED)
    fprintf(stderr, "[cotp] %s::%s failed; replay with COTP_TEST_SEED=%s\n",
            stats->test->category, stats->test->name,
            getenv("COTP_TEST_SEED") ? getenv("COTP_TEST_SEED") : "?");
}

uint64_t cotp_test_seed(void) {
  const char *s = getenv("COTP_TEST_SEED");
  return s ? strtoull(s, NULL, 10) : 1;
}

cotp_test_rng cotp_test_rng_new(void) {
  return (cotp_test_rng){cotp_test_seed() ^ 0x9E3779B97F4A7C15ull};
}

uint64_t cotp_test_rand(cotp_test_rng *r) {
  /* splitmix64 */
  uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t cotp_test_below(cotp_test_rng *r, uint64_t n) {
  return n ? cotp_test_rand(r) % n : 0;
}

void cotp_test_term_eq(cotp_term a, cotp_term b, const char *as,
                       const char *bs, const char *file, int line) {
  if (cotp_term_eq(a, b))
    return;
  char *x = cotp_term_to_string(a), *y = cotp_term_to_string(b);
  cr_log_error("%s:%d: %s == %s\n  left:  %s\n  right: %s", file, line, as, bs,
               x ? x : "?", y ? y : "?");
  free(x);
  free(y);
  cr_assert_fail("terms differ (see above)");
}

void cotp_test_rc_eq(int got, int want, const char *expr, const char *file,
                     int line) {
  if (got == want)
    return;
  cr_assert_fail("%s:%d: %s\n  got:  %s (%d)\n  want: %s (%d)", file, line,
                 expr, cotp_err_name(got), got, cotp_err_name(want), want);
}

void cotp_test_prints(cotp_term t, const char *text, const char *expr,
                      const char *file, int line) {
  char *got = cotp_term_to_string(t);
  if (got && strcmp(got, text) == 0) {
    free(got);
    return;
  }
  cr_log_error("%s:%d: %s\n  prints: %s\n  want:   %s", file, line, expr,
               got ? got : "(out of memory)", text);
  free(got);
  cr_assert_fail("printed form differs (see above)");
}

bool cotp_test_sanitized(void) {
#if defined(COTP_ASAN) || defined(COTP_TSAN)
  return true;
#else
  return false;
#endif
}

char *cotp_test_tmp_template(char *buf, size_t cap, const char *name) {
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !*tmp)
    tmp = "/tmp";
  int n = snprintf(buf, cap, "%s/%s-XXXXXX", tmp, name);
  cr_assert(n > 0 && (size_t)n < cap, "temporary path %s/%s-XXXXXX is too long",
            tmp, name);
  return buf;
}

size_t cotp_test_max_alive(size_t wanted) {
#if defined(COTP_TSAN)
  return wanted < 4000 ? wanted : 4000;
#elif defined(COTP_ASAN)
  return wanted / 10;
#else
  return wanted;
#endif
}

void cotp_test_run(cotp_entry *root, void *arg, unsigned schedulers) {
  cotp_config cfg = COTP_CONFIG_INIT;
  const char *env = getenv("COTP_TEST_SCHEDULERS");
  cfg.schedulers = schedulers ? schedulers : env ? (unsigned)atoi(env) : 2;
  cfg.sched_seed = cotp_test_seed();
  cotp_set_log_level(COTP_LOG_ERROR + 1);
  cotp_heap *h = cotp_heap_new();
  cotp_term reason = COTP_NONE;
  int rc = cotp_run(root, arg, &cfg, h, &reason);
  char *text = cotp_term_to_string(reason);
  cotp_heap_free(h);
  if (rc != 0) {
    cr_log_error("root process exited with %s (cotp_run returned %d)",
                 text ? text : "?", rc);
    free(text);
    cr_assert_fail("the test's root process did not exit normally");
  }
  free(text);
}

const cotp_pattern *cotp_test_pattern(const char *src) {
  cotp_error err;
  const cotp_pattern *p = cotp_pattern_cached(src, &err);
  cr_assert_not_null(p, "%s: %s", src, err.message);
  return p;
}

cotp_term cotp_test_parse(const char *text) {
  cotp_term t = cotp_parse(cotp_self_heap(), text);
  cr_assert(!cotp_is_none(t), "%s", text);
  return t;
}

cotp_term cotp_test_exit_from(cotp_pid pid, int64_t timeout_ms) {
  cotp_term pin = cotp_pid_term(pid), reason;
  cotp_clause c = {cotp_test_pattern("{:EXIT, ^pid, reason}"), &pin, &reason};
  cotp_test_rc_eq(cotp_receive_match(&c, 1, timeout_ms, 0, NULL), 0,
                  "receive {:EXIT, pid, reason}", __FILE__, __LINE__);
  return reason;
}

cotp_term cotp_test_down_of(cotp_term ref, cotp_pid pid) {
  cotp_term pins[2] = {ref, cotp_pid_term(pid)}, reason;
  cotp_clause c = {cotp_test_pattern("{:DOWN, ^ref, :process, ^pid, reason}"),
                   pins, &reason};
  cotp_test_rc_eq(cotp_receive_match(&c, 1, 10000, 0, NULL), 0,
                  "receive {:DOWN, ref, :process, pid, reason}", __FILE__, __LINE__);
  return reason;
}

void cotp_test_refute_received(const char *pattern, int64_t ms) {
  cotp_clause c = {cotp_test_pattern(pattern), NULL, NULL};
  cotp_term msg;
  if (cotp_receive_match(&c, 1, ms, 0, &msg) != COTP_ETIMEDOUT) {
    char *s = cotp_term_to_string(msg);
    cr_assert_fail("unexpected message %s", s ? s : "?");
  }
}

const char *cotp_test_show(cotp_term t) {
  static __thread char buf[256];
  cotp_term_print(buf, sizeof buf, t);
  return buf;
}

bool cotp_test_is_cmd(cotp_term msg, const char *name, size_t arity) {
  return cotp_tuple_size(msg) == arity &&
         cotp_term_eq(cotp_tuple_get(msg, 0), cotp_atom(name));
}

void cotp_test_idle(void *arg) {
  (void)arg;
  cotp_clause c = {cotp_pattern_cached(":never", NULL), NULL, NULL};
  cotp_receive_match(&c, 1, COTP_INFINITY, 0, NULL);
}

static _Atomic uint64_t kill_holder; /* the holder's pid bits, 0: none */
static _Atomic bool kill_sent;

void cotp_test_hold_for_kill(void) {
  atomic_store(&kill_sent, false);
  atomic_store(&kill_holder, cotp_self().bits);
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while (!atomic_load(&kill_sent)) {
    clock_gettime(CLOCK_MONOTONIC, &t);
    if (t.tv_sec - t0.tv_sec > 10)
      cr_assert_fail("cotp_test_hold_for_kill: no kill within 10 s");
  }
}

cotp_pid cotp_test_kill_holder(void) {
  /* yields rather than sleeps: a runnable killer is taken by the other
   * scheduler, where a sleeping one's timer could wait on the holder's */
  uint64_t bits = 0;
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while (!(bits = atomic_load(&kill_holder))) {
    clock_gettime(CLOCK_MONOTONIC, &t);
    cr_assert(t.tv_sec - t0.tv_sec <= 10, "cotp_test_kill_holder: no holder within 10 s");
    cotp_yield();
  }
  atomic_store(&kill_holder, 0);
  cotp_pid pid = {bits};
  cotp_exit_signal(pid, COTP_ATOM_KILL);
  atomic_store(&kill_sent, true);
  return pid;
}

void cotp_test_kill_at_hold(cotp_entry *fn, void *arg, size_t arg_size) {
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  cotp_term mon;
  o.priority = COTP_PRIORITY_HIGH; /* wakes the other scheduler */
  o.arg_size = arg_size;
  o.monitor = true;
  o.monitor_ref = &mon;
  cotp_pid pid;
  cotp_assert_rc(cotp_spawn_opt(fn, arg, &o, &pid), 0);
  cr_assert(cotp_pid_eq(cotp_test_kill_holder(), pid));
  cotp_assert_term_eq(cotp_test_down_of(mon, pid), COTP_ATOM_KILLED);
}

__attribute__((noinline)) void cotp_test_scribble_stack(void) {
  volatile unsigned char junk[4096];
  for (size_t i = 0; i < sizeof junk; i++)
    junk[i] = 0xA5;
}

void cotp_test_busy(void *arg) {
  (void)arg;
  volatile uint64_t x = 0;
  for (;;) {
    for (int i = 0; i < 1000; i++)
      x += (uint64_t)i;
    cotp_yield();
  }
}
