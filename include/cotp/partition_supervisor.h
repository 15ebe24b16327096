/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp/partition_supervisor.h: Elixir's PartitionSupervisor.
 *
 * A supervisor that starts one child spec once per partition (a partition
 * per scheduler by default) and routes a key to one of them: an integer
 * key to rem(abs(key), partitions), any other key by phash2(key,
 * partitions) (K3).  The partitions are addressed as servers through the
 * via module cotp_partition_supervisor_via, with the term {name, key}:
 *
 *     cotp_server s = cotp_server_via(&cotp_partition_supervisor_via,
 *                                     COTP_TUPLE(h, COTP_ATOM(echo), key));
 *     cotp_genserver_call(s, request, 5000);
 *
 * so GenServer calls, DynamicSupervisor and Task.Supervisor functions all
 * reach a partition by key.  The supervisor itself is registered under the
 * name (an atom), and which_children and count_children work on it as on
 * any supervisor, with the partition index as the child id (K9).
 */
#ifndef COTP_PARTITION_SUPERVISOR_H
#define COTP_PARTITION_SUPERVISOR_H

#include "supervisor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The start arguments of a partition, built from the spec's in the
 * caller's heap (Elixir's with_arguments, K4). */
typedef cotp_term cotp_partition_args_fn(cotp_term args, int64_t partition,
                                         void *ctx);

typedef struct cotp_partition_supervisor_opts {
  cotp_term name;               /* an atom; required */
  unsigned partitions;          /* 0: cotp_schedulers_online() */
  cotp_child_spec child;        /* started once per partition */
  cotp_partition_args_fn *with_arguments; /* NULL: the spec's args */
  void *with_arguments_ctx;
  int max_restarts, max_seconds; /* 3 and 5 */
  cotp_spawn_opts spawn;
} cotp_partition_supervisor_opts;

#define COTP_PARTITION_SUPERVISOR_OPTS_INIT                                 \
  {{0}, 0, COTP_CHILD_SPEC_INIT, NULL, NULL, 3, 5, COTP_SPAWN_OPTS_INIT}

/*
 * Starts a PartitionSupervisor linked to the caller, registered as
 * opts->name, and waits until every partition has started.
 * Context: inside a process.
 * Returns: as cotp_supervisor_start_link(); COTP_EINVAL with a sentence
 * in *err (may be NULL) for a name that is not an atom, a missing child
 * spec, more than 65,536 partitions (Elixir raises ArgumentError, K5).
 */
COTP_API int cotp_partition_supervisor_start_link(
    const cotp_partition_supervisor_opts *opts, cotp_pid *pid,
    cotp_term *reason, cotp_error *err);

/* The number of partitions of the supervisor named name: 0 with *n, or
 * COTP_ENOPROC when no such supervisor is running (K7). */
COTP_API int cotp_partition_supervisor_partitions(cotp_term name, unsigned *n);

/* The partition a key goes to among n (K3). */
COTP_API unsigned cotp_partition_for_key(cotp_term key, unsigned n);

/* The via module of partitions: names are {name, key}; whereis answers
 * the current pid of the key's partition.  Registering through it is not
 * supported (register_name returns COTP_EINVAL). */
COTP_API extern const cotp_via cotp_partition_supervisor_via;

#ifdef __cplusplus
}
#endif

#endif
