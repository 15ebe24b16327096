/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sup_util.h: workers for supervisor tests.
 *
 * A worker is numbered by a tag (0..63).  Its start function
 * (worker_start, args [tag]) does what mode[tag] says, and a worker that
 * starts sends the test's root {:started, tag, pid}; when it ends it does
 * not report (watch it with a monitor).  A running worker obeys
 * {:die, reason} (exits with it) and :unlink (unlinks from its supervisor,
 * then acks {:unlinked, tag}).  With slow[tag] > 0 it traps exits and takes
 * that many ms to exit after an exit signal, with the signal's reason;
 * slow[tag] < 0 ignores exit signals altogether (only kill ends it).
 */
#ifndef COTP_TEST_SUP_UTIL_H
#define COTP_TEST_SUP_UTIL_H

#include <stdatomic.h>

#include "probe.h"

enum worker_mode {
  W_OK = 0,
  W_IGNORE,      /* start returns :ignore */
  W_ERROR,       /* start returns {:error, :nope} */
  W_EXIT,        /* start exits with :boom */
  W_BAD,         /* start returns :weird */
  W_INFO,        /* start returns {:ok, pid, :info} */
  W_FAIL_ONCE    /* start returns {:error, :nope} once, then starts */
};

extern _Atomic int mode[64];
extern _Atomic int slow[64];
extern _Atomic int starts[64]; /* start attempts per tag */
extern cotp_pid test_root;
/* Tags in the order their start functions ran (in the supervisor). */
extern _Atomic int start_log[256];
extern _Atomic int nstart_log;

cotp_term worker_start(cotp_term args, void *ctx);
/* A spec for worker tag with id :wN (or the given id). */
cotp_child_spec worker_spec(int tag);
/* Starts a supervisor of workers tags[0..n-1] linked to the caller (who
 * becomes test_root), waits for their :started reports. */
cotp_pid sup_of(cotp_strategy st, int intensity, int period, const int *tags,
                size_t n);
/* The pid in the next {:started, tag, pid} (fails after 5 s). */
cotp_pid started(int tag);
/* Fails if a :started for tag comes within ms. */
void refute_started(int tag, int64_t ms);
/* The pid of child id in which_children (bits 0 if undefined or absent). */
cotp_pid child_pid(cotp_pid sup, cotp_term id);
/* The status term (pid, :undefined, :restarting) of child id, or NONE. */
cotp_term child_status(cotp_pid sup, cotp_term id);
cotp_term wid(int tag); /* :wN */
cotp_child_counts counts(cotp_pid sup);
/* Monitors pid and waits for its DOWN reason. */
cotp_term kill_and_wait(cotp_pid pid, cotp_term reason);
cotp_term down_reason(cotp_pid pid);

#endif
