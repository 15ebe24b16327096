/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe.h: a GenServer for tests that does what its messages say and
 * reports each callback to its owner, so tests can check what ran, with
 * what, and in what order.
 *
 * init(arg): arg is {owner_pid, action}; action is :ok, :ignore,
 *   {:stop, r}, {:exit, r}, :bad, {:sleep, ms}, {:continue, x},
 *   {:timeout, ms}, :trap (trap exits), {:send_self, m} (then ok).
 * Every callback sends the owner {:cb, name, data}: name is :init, :call,
 * :cast, :info, :continue, :terminate; data is what the callback got.
 *
 * handle_call(req):
 *   :get -> n                {:set, v} -> :ok       {:echo, t} -> t
 *   {:stop, r} -> stops with reply :ok              {:stop_noreply, r}
 *   {:exit, r} -> exits      :bad -> a zeroed return
 *   {:sleep, ms} -> :slept   :defer -> keeps from, no reply
 *   {:reply_deferred, t} -> replies t to the kept from, then :ok
 *   {:continue, x} -> :ok then continue x           {:timeout, ms} -> :ok
 *   :hibernate -> :ok        {:call, server_pid} -> calls it with :get
 *   {:send_self, m} -> sends m to itself, :ok        :from -> the from term
 *   {:terminate_exit, r} -> terminate will exit with r; :ok
 *   :reply_noreply_kind -> returns ok (a bad return for a call)
 *   :stop_self -> stops itself with cotp_genserver_stop (calling_self)
 * handle_cast and handle_info take {:set, v}, {:stop, r}, {:exit, r},
 *   {:continue, x}, {:timeout, ms}, {:send_self, m}, :bad, :hibernate,
 *   :reply (a bad return), {:send_then_continue, m, x} (sends itself m,
 *   then continues with x), {:send_then_timeout, m, ms}.
 * handle_continue(x): {:stop, r}, {:chain, y} (continue again),
 *   {:send_self, m} (then continue :after), anything else: noreply.
 */
#ifndef COTP_TEST_PROBE_H
#define COTP_TEST_PROBE_H

#include <stdatomic.h>

#include "harness.h"

extern const cotp_genserver_callbacks probe_cb;
/* free_state calls so far, program-wide (free_state cannot send). */
extern _Atomic long probe_frees;

/* Starts a probe owned by the caller; fails the test unless it starts. */
cotp_pid probe_start(const char *action);
cotp_pid probe_start_link(const char *action);
/* The action in Elixir syntax, as text. */
cotp_term probe_arg(const char *action);

/* The next {:cb, name, data} report: its data (fails the test after 5 s). */
cotp_term probe_expect(const char *name);
/* Fails the test if a report named name comes within ms. */
void probe_refute(const char *name, int64_t ms);

/* Waits until pid is dead; returns its exit reason. */
cotp_term wait_down(cotp_pid pid);

/* A server by pid. */
static inline cotp_server srv(cotp_pid p) { return cotp_server_pid(p); }

/* The reason a fresh process exits with when it calls
 * cotp_genserver_call(server, request, timeout) (request copied). */
cotp_term call_exit_reason(cotp_server server, cotp_term request,
                           int64_t timeout);

/* A via module for tests: names are any terms, kept in a table. */
extern const cotp_via test_via;

/* Captures log messages of a level (and above) into a buffer. */
void log_capture_start(cotp_log_level level);
/* Everything logged since the start, joined with newlines (static). */
const char *log_capture_text(void);
void log_capture_stop(void);

#endif
