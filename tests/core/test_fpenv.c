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

/* Spawns fn(arg) with fp_env. */
static cotp_pid spawn_fp(cotp_entry *fn, void *arg) {
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  o.fp_env = true;
  cotp_pid pid;
  cr_assert_eq(cotp_spawn_opt(fn, arg, &o, &pid), 0);
  return pid;
}

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
  cotp_pid up = spawn_fp(upward, NULL);
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
  for (int i = 0; i < 20; i++) {
    cotp_term ok;
    spawn_fp(exits_upward, (void *)(uintptr_t)cotp_self().bits);
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

/* A handler has no frames between messages, and no context to keep the
 * state in: it is kept in the control block, and each message starts with
 * it.  A GenServer sets it in init. */
static cotp_gs_ret up_init(cotp_term arg, void **state) {
  (void)arg, (void)state;
  fesetround(FE_UPWARD);
  return cotp_gs_ok();
}

static cotp_gs_ret up_call(cotp_term request, cotp_genserver_from from,
                           void **state) {
  (void)request, (void)from, (void)state;
  return cotp_gs_reply(cotp_bool(fegetround() == FE_UPWARD));
}

static const cotp_genserver_callbacks up_server = {
    .name = "Up", .init = up_init, .handle_call = up_call};

static void a_server_keeps_it(void *arg) {
  (void)arg;
  cotp_genserver_opts o = COTP_GENSERVER_OPTS_INIT;
  o.spawn.fp_env = true;
  cotp_pid pid;
  cr_assert_eq(cotp_genserver_start(&up_server, COTP_NIL, &o, &pid, NULL), 0);
  for (int i = 0; i < 50; i++) {
    cotp_term up = cotp_genserver_call(cotp_server_pid(pid), COTP_ATOM_OK,
                                       COTP_GENSERVER_TIMEOUT);
    cr_assert(cotp_term_eq(up, COTP_ATOM_TRUE), "call %d", i);
    cr_assert_eq(fegetround(), FE_TONEAREST);
  }
  cotp_genserver_stop(cotp_server_pid(pid), COTP_ATOM_NORMAL, COTP_INFINITY);
}

Test(fpenv, a_genserver_with_fp_env_keeps_its_rounding_between_messages) {
  cotp_test_run(a_server_keeps_it, NULL, 1);
}

/* And so does a process that hibernates. */
static void after_hibernation(void *arg) {
  cotp_term msg;
  cotp_receive(COTP_INFINITY, &msg);
  cotp_send(cotp_get_pid(msg), cotp_bool(fegetround() == FE_UPWARD));
  (void)arg;
}

static void hibernates_upward(void *arg) {
  fesetround(FE_UPWARD);
  cotp_hibernate(after_hibernation, arg);
}

static void hibernation_keeps_it(void *arg) {
  (void)arg;
  cotp_pid pid = spawn_fp(hibernates_upward, NULL);
  cotp_yield(); /* it hibernates */
  cr_assert_eq(fegetround(), FE_TONEAREST);
  cotp_term up;
  cotp_send(pid, cotp_pid_term(cotp_self()));
  cr_assert_eq(cotp_receive(COTP_INFINITY, &up), 0);
  cr_assert(cotp_term_eq(up, COTP_ATOM_TRUE));
}

Test(fpenv, a_process_with_fp_env_keeps_its_rounding_through_hibernation) {
  cotp_test_run(hibernation_keeps_it, NULL, 1);
}
