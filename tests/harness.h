/* SPDX-License-Identifier: Apache-2.0 */
/*
 * harness.h: what every test file includes.
 *
 * Tests run under Criterion: each test in its own process, with a timeout,
 * so a crash or a hang fails one test and not the suite.  On top of it:
 *
 *  - A seed for everything random in a test (generated terms, scheduling
 *    order once the runtime has it).  The runner picks one per run, or takes
 *    COTP_TEST_SEED from the environment, and prints it with every failure,
 *    so `COTP_TEST_SEED=<n> make test` replays the failing run.
 *  - Assertions on terms and error codes that print both sides in a form a
 *    person can read: `{:ok, 1}` and `{:ok, 2}`, COTP_ESYNTAX and 0.
 */
#ifndef COTP_TEST_HARNESS_H
#define COTP_TEST_HARNESS_H

#include <criterion/criterion.h>
#include <stdlib.h>

#include "cotp.h"

/* The run's seed (COTP_TEST_SEED, or chosen by the runner). */
uint64_t cotp_test_seed(void);

/* A small deterministic generator seeded from the run's seed. */
typedef struct cotp_test_rng {
  uint64_t state;
} cotp_test_rng;
cotp_test_rng cotp_test_rng_new(void);
uint64_t cotp_test_rand(cotp_test_rng *r);
/* Uniform in [0, n). */
uint64_t cotp_test_below(cotp_test_rng *r, uint64_t n);

/*
 * A test whose body runs as the root process of a fresh runtime (two
 * schedulers, or COTP_TEST_SCHEDULERS; scheduling perturbed from the run's
 * seed; the log quiet).  The test fails unless the root exits normally.
 *
 *     COTP_TEST(mailbox, keeps_order) { ... cotp_receive(...) ... }
 *
 * Criterion options go after the name: COTP_TEST(s, n, .timeout = 60).
 */
#define COTP_TEST(suite, name, ...)                                         \
  static void suite##__##name##__body(void *cotp_test_arg);                 \
  Test(suite, name, ##__VA_ARGS__) {                                        \
    cotp_test_run(suite##__##name##__body, NULL, 0);                        \
  }                                                                         \
  static void suite##__##name##__body(__attribute__((unused)) void *cotp_test_arg)

/* Runs root(arg) as the root of a fresh runtime with that many schedulers
 * (0: the default above) and fails the test unless it exits normally. */
void cotp_test_run(cotp_entry *root, void *arg, unsigned schedulers);

/* Whether this is a sanitizer build (tests scale their sizes down). */
bool cotp_test_sanitized(void);

/* A template for mkstemp or mkdtemp in the temporary folder: "$TMPDIR/
 * <name>-XXXXXX", or under /tmp when TMPDIR is unset or empty.  Writes it
 * into buf (cap bytes) and returns buf; fails the test if it does not
 * fit. */
char *cotp_test_tmp_template(char *buf, size_t cap, const char *name);

/* How many processes a test may keep alive at once: ThreadSanitizer
 * tracks each one as a fiber and stops at 8,128 of them. */
size_t cotp_test_max_alive(size_t wanted);

/* --- helpers for tests whose body runs as a process --- */

/* The cached pattern for src; fails the test if it does not compile. */
const cotp_pattern *cotp_test_pattern(const char *src);
/* The term text spells, in the process's heap; fails the test if it does
 * not parse. */
cotp_term cotp_test_parse(const char *text);
/* The reason of the {:EXIT, pid, reason} that arrives within timeout_ms
 * (fails the test if none does). */
cotp_term cotp_test_exit_from(cotp_pid pid, int64_t timeout_ms);
/* The reason of the DOWN for (ref, pid), within 10 s. */
cotp_term cotp_test_down_of(cotp_term ref, cotp_pid pid);
/* Fails the test if a message matching pattern arrives within ms. */
void cotp_test_refute_received(const char *pattern, int64_t ms);
/* Process bodies tests spawn often: one that waits forever for a message
 * that never comes, and one that computes and yields, never receiving. */
void cotp_test_idle(void *arg);
void cotp_test_busy(void *arg);
/* Overwrites 4 KB of stack below the caller's frame, for tests that what
 * a process lent from its stack was copied before the stack moved on. */
void cotp_test_scribble_stack(void);

/*
 * A kill that acts at the process's next drain, for tests that a killed
 * process leaks nothing at points where it acts on signals without waiting
 * (cotp_receive_mark, process_info of itself, a yield when its reductions
 * run out): the process calls cotp_test_hold_for_kill(), which spins,
 * never calling into the runtime, until another process has sent it a
 * kill with cotp_test_kill_holder().  Needs two schedulers (spawn the
 * holder at high priority and a sleeping one wakes for it; otherwise the
 * long-schedule watchdog hands the killer over within about 500 ms).
 */
void cotp_test_hold_for_kill(void);
/* Waits (yielding, up to 10 s) for a process in
 * cotp_test_hold_for_kill(), sends it the kill and lets it go on; returns
 * its pid. */
cotp_pid cotp_test_kill_holder(void);
/* Spawns fn(arg) (arg_size bytes of arg copied, 0: arg as is) at high
 * priority, kills it once it holds in cotp_test_hold_for_kill(), and
 * asserts that it was that process and that it died killed. */
void cotp_test_kill_at_hold(cotp_entry *fn, void *arg, size_t arg_size);

/* A pid passed as a spawn's argument, and back. */
static inline void *cotp_test_pid_arg(cotp_pid p) { return (void *)(uintptr_t)p.bits; }
static inline cotp_pid cotp_test_arg_pid(void *arg) {
  return (cotp_pid){(uint64_t)(uintptr_t)arg};
}

/* t printed, for a failure's message: a buffer of the calling thread's,
 * overwritten by the next call. */
const char *cotp_test_show(cotp_term t);

/* Whether msg is a tuple of arity elements whose first is the atom name. */
bool cotp_test_is_cmd(cotp_term msg, const char *name, size_t arity);

/* Prints both terms when they are not exactly equal. */
void cotp_test_term_eq(cotp_term a, cotp_term b, const char *as,
                       const char *bs, const char *file, int line);
#define cotp_assert_term_eq(a, b)                                           \
  cotp_test_term_eq((a), (b), #a, #b, __FILE__, __LINE__)

/* Prints both codes by name when they differ. */
void cotp_test_rc_eq(int got, int want, const char *expr, const char *file,
                     int line);
#define cotp_assert_rc(expr, want)                                          \
  cotp_test_rc_eq((expr), (want), #expr, __FILE__, __LINE__)

/* The printed form of t must be text. */
void cotp_test_prints(cotp_term t, const char *text, const char *expr,
                      const char *file, int line);
#define cotp_assert_prints(t, text)                                         \
  cotp_test_prints((t), (text), #t, __FILE__, __LINE__)

#endif
