/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reg_util.h: helpers for the Registry tests: starting a registry, and a
 * worker process that registers, unregisters and reports on command, so a
 * test can act as several processes.
 *
 * Worker commands (each answered with {:reply, worker_pid, result}):
 *   {:register, key, value}  -> {:ok, owner} | {:error, {:already_registered, pid}}
 *                               | {:rc, code}
 *   {:unregister, key}       -> :ok | {:rc, code}
 *   {:update, key, v}        -> {new, old} | :error | {:rc, code}
 *   :links                   -> the worker's links
 *   {:unlink, pid}           -> :ok (drops a link, e.g. to a partition)
 *   {:exit, reason}          -> exits with reason, no answer
 */
#ifndef COTP_TEST_REG_UTIL_H
#define COTP_TEST_REG_UTIL_H

#include "harness.h"

/* Starts a registry linked to the caller; fails the test otherwise. */
cotp_registry *reg_start(const char *name, cotp_registry_key_kind keys,
                         unsigned partitions);

cotp_pid reg_worker_start(cotp_registry *reg);
/* Sends cmd (text in Elixir syntax, with ~t for t) and waits for the
 * answer. */
cotp_term reg_worker_do(cotp_pid w, const char *cmd, cotp_term t);
cotp_term reg_worker_do2(cotp_pid w, const char *cmd, cotp_term a, cotp_term b);
/* Kills the worker and waits until it is dead. */
void reg_worker_kill(cotp_pid w);

/* Waits (up to 5 s) until the registry counts n entries. */
void reg_wait_count(cotp_registry *reg, size_t n);

#endif
