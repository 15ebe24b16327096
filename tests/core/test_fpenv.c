/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The floating-point control state (rounding mode here) and processes: one
 * spawned with fp_env keeps its own across switches, as a thread would;
 * the others run in the default state, whatever cotp_run was called in.
 * One scheduler, so that every process here runs right after the others
 * on the same thread, where a leak would show.
 */
#include "harness.h"
#include <fenv.h>

/* 1/3 rounds down to nearest and up upward: the two results differ. */
static double third(void) {
  volatile double one = 1.0, three = 3.0;
  return one / three;
}

/* Sets the rounding upward, then each time it is asked: waits (switching
 * out), and answers whether the rounding is still upward and 1/3 rounded
 * up. */
static void upward(void *arg) {
  (void)arg;
  fesetround(FE_UPWARD);
  double up = third();
  for (;;) {
    cotp_term msg;
    cotp_receive(COTP_INFINITY, &msg);
    if (cotp_term_eq(msg, COTP_ATOM_STOP))
      return;
    bool kept = fegetround() == FE_UPWARD && third() == up;
    cotp_send(cotp_get_pid(msg), kept ? COTP_ATOM_TRUE : COTP_ATOM_FALSE);
  }
}

/* Answers whether it runs in the default rounding. */
static void plain(void *arg) {
  cotp_pid to = {(uint64_t)(uintptr_t)arg};
  cotp_send(to, fegetround() == FE_TONEAREST ? COTP_ATOM_TRUE : COTP_ATOM_FALSE);
}

static void keeps_its_own(void *arg) {
  (void)arg;
  double nearest = third();
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  o.fp_env = true;
  cotp_pid up;
  cr_assert_eq(cotp_spawn_opt(upward, NULL, &o, &up), 0);
  cotp_term me = cotp_pid_term(cotp_self());
  for (int i = 0; i < 100; i++) {
    cotp_term kept;
    cr_assert_eq(cotp_send(up, me), 0);
    cr_assert_eq(cotp_receive(COTP_INFINITY, &kept), 0);
    cr_assert(cotp_term_eq(kept, COTP_ATOM_TRUE), "the rounding was lost at round %d", i);
    /* and it did not reach this process, which ran in between */
    cr_assert_eq(fegetround(), FE_TONEAREST);
    cr_assert(third() == nearest);
    /* nor a process that starts fresh after it */
    cotp_pid p;
    cotp_term fine;
    cr_assert_eq(cotp_spawn(plain, (void *)(uintptr_t)cotp_self().bits, &p), 0);
    cr_assert_eq(cotp_receive(COTP_INFINITY, &fine), 0);
    cr_assert(cotp_term_eq(fine, COTP_ATOM_TRUE));
    if (i % 10 == 0)
      cotp_yield(); /* through the scheduler's own context too */
  }
  cotp_send(up, COTP_ATOM_STOP);
}

Test(fpenv, a_process_spawned_with_fp_env_keeps_its_rounding) {
  cotp_test_run(keeps_its_own, NULL, 1);
}

/* An fp_env process that exits (its last switch) leaves the default. */
static void exits_upward(void *arg) {
  cotp_pid to = {(uint64_t)(uintptr_t)arg};
  fesetround(FE_UPWARD);
  cotp_send(to, COTP_ATOM_OK);
}

static void exit_leaves_the_default(void *arg) {
  (void)arg;
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  o.fp_env = true;
  for (int i = 0; i < 20; i++) {
    cotp_term ok;
    cr_assert_eq(cotp_spawn_opt(exits_upward, (void *)(uintptr_t)cotp_self().bits, &o, NULL), 0);
    cr_assert_eq(cotp_receive(COTP_INFINITY, &ok), 0);
    cotp_yield(); /* let it finish */
    cr_assert_eq(fegetround(), FE_TONEAREST, "round %d", i);
  }
}

Test(fpenv, an_fp_env_process_that_exits_leaves_the_default) {
  cotp_test_run(exit_leaves_the_default, NULL, 1);
}

static void reports_rounding(void *arg) {
  cr_assert_eq(fegetround(), FE_TONEAREST);
  *(bool *)arg = true;
}

/* Processes start in the default state even when the thread that calls
 * cotp_run rounds otherwise, and that thread gets its own state back. */
Test(fpenv, processes_run_in_the_default_whatever_cotp_run_is_called_in) {
  cr_assert_eq(fesetround(FE_DOWNWARD), 0);
  bool ran = false;
  cotp_config cfg = COTP_CONFIG_INIT;
  cfg.schedulers = 2;
  cr_assert_eq(cotp_run(reports_rounding, &ran, &cfg, NULL, NULL), 0);
  cr_assert(ran);
  cr_assert_eq(fegetround(), FE_DOWNWARD);
  fesetround(FE_TONEAREST);
}
