/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp.h: the one header users include.
 *
 * cotp brings Erlang's process model and OTP, with Elixir's Task, to C.
 * Each part of the API has a header of its own under cotp/, documented
 * function by function: what context it may be called from, who owns what,
 * and what it returns.
 *
 *   cotp/common.h    error codes, COTP_INFINITY, cotp_error, cotp_mem_alloc
 *   cotp/term.h      terms: Erlang's data model, building, printing, hashing
 *   cotp/pattern.h   patterns with captures, pins and guards
 *   cotp/process.h   the runtime, spawning, messages, receive, handlers
 *   cotp/signal.h    exits, exit signals, links, monitors, aliases
 *   cotp/name.h      registered names and via names
 *   cotp/info.h      dictionary, label, cleanups, process_info
 *   cotp/timer.h     send_after, cancel_timer, read_timer
 *   cotp/io.h        waiting for file descriptors, sockets, blocking calls
 *   cotp/log.h       the runtime's log
 *   cotp/iter.h      lazy sequences of terms (iterators)
 *   cotp/task.h      Elixir's Task: async/await, yield, shutdown, async_stream
 *   cotp/genserver.h GenServer: the generic server behaviour
 *   cotp/agent.h     Agent: a process that keeps a state, on GenServer
 *   cotp/match_spec.h Erlang match specifications over terms
 *   cotp/registry.h  Registry: a local key-value process store, via names
 *   cotp/supervisor.h Supervisor and DynamicSupervisor
 *   cotp/partition_supervisor.h PartitionSupervisor
 *   cotp/task_supervisor.h Task.Supervisor
 */
#ifndef COTP_H
#define COTP_H

#include "cotp/agent.h"
#include "cotp/common.h"
#include "cotp/genserver.h"
#include "cotp/info.h"
#include "cotp/io.h"
#include "cotp/iter.h"
#include "cotp/log.h"
#include "cotp/match_spec.h"
#include "cotp/name.h"
#include "cotp/pattern.h"
#include "cotp/process.h"
#include "cotp/registry.h"
#include "cotp/partition_supervisor.h"
#include "cotp/signal.h"
#include "cotp/supervisor.h"
#include "cotp/task.h"
#include "cotp/task_supervisor.h"
#include "cotp/term.h"
#include "cotp/timer.h"

#define COTP_VERSION_MAJOR 0
#define COTP_VERSION_MINOR 1
#define COTP_VERSION_PATCH 0

#endif
