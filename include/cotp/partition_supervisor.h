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
 * name, and which_children and count_children work on it as on any
 * supervisor, with the partition index as the child id (K9); on a name
 * that no supervisor has they exit the caller with {:noproc, _}, as any
 * supervisor call does (K7).
 *
 * The name is an atom, or, as Elixir's {:via, module, name}, a term that
 * a via module keeps (opts.via; Registry's for instance).  Routing then
 * names the supervisor {:via, Module, name}, Module the atom of the via
 * module's name field, as Elixir's {:via, PartitionSupervisor,
 * {{:via, Registry, {MyReg, :ps}}, key}} does:
 *
 *     cotp_term ps = COTP_TUPLE(h, COTP_ATOM_VIA, COTP_ATOM(Registry),
 *                               COTP_TUPLE(h, my_reg, COTP_ATOM(ps)));
 *     cotp_server s = cotp_server_via(&cotp_partition_supervisor_via,
 *                                     COTP_TUPLE(h, ps, key));
 *
 * and cotp_partition_supervisor_partitions() takes the same form.
 *
 * Differences from Elixir (docs/design.md lists them with the catalogue's
 * other deviations):
 *  - partitions 0 means the default, one per scheduler (a C struct cannot
 *    leave the option out); Elixir raises for 0.  A negative count is
 *    COTP_EINVAL, as Elixir raises ArgumentError (K5).
 *  - cotp_partition_supervisor_partitions() on an unknown name returns
 *    COTP_ENOPROC where Elixir exits noproc (K7).
 *  - No resize! (K8, not in the reference Elixir 1.14).
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
  cotp_term name;               /* an atom, or via's term; required */
  int partitions;               /* 0: cotp_schedulers_online(); < 0 is
                                   COTP_EINVAL */
  cotp_child_spec child;        /* started once per partition */
  cotp_partition_args_fn *with_arguments; /* NULL: the spec's args */
  void *with_arguments_ctx;
  int max_restarts, max_seconds; /* 3 and 5 */
  cotp_spawn_opts spawn;
  const cotp_via *via;          /* NULL: name is a registered atom; else
                                   the via module that keeps name (it must
                                   outlive the supervisor) */
} cotp_partition_supervisor_opts;

#define COTP_PARTITION_SUPERVISOR_OPTS_INIT                                 \
  {{0}, 0, COTP_CHILD_SPEC_INIT, NULL, NULL, 3, 5, COTP_SPAWN_OPTS_INIT, NULL}

/*
 * Starts a PartitionSupervisor linked to the caller, registered as
 * opts->name, and waits until every partition has started.
 * Context: inside a process.
 * Returns: as cotp_supervisor_start_link(); COTP_EINVAL with a sentence
 * in *err (may be NULL) for a name that is not an atom or is nil (or,
 * with a via module, is COTP_NONE, or the module cannot register and look
 * up names), a missing child spec, a negative partition count or more than 65,536
 * partitions (Elixir raises ArgumentError, K5).
 */
COTP_API int cotp_partition_supervisor_start_link(
    const cotp_partition_supervisor_opts *opts, cotp_pid *pid,
    cotp_term *reason, cotp_error *err);

/*
 * PartitionSupervisor.child_spec/1: a spec, in the caller's heap, that
 * starts the PartitionSupervisor *opts describes as a child of another
 * supervisor.  Its id is opts->name (the atom, or the via module's term:
 * Elixir's id is the name, or the name inside a via tuple, K1), its type
 * COTP_SUPERVISOR (so shutdown infinity), modules [PartitionSupervisor].
 * opts is read here and not kept: the name, the child spec and the spawn
 * options' priority and stack size travel in the spec as terms;
 * with_arguments, its context and the via module as addresses (they must
 * outlive the supervisor; spawn's link, monitor and arg fields are
 * ignored).
 * Context: inside a process.
 * Returns the spec; its start fails with {:error, {:badarg, message}}
 * (message a binary, the sentence start_link puts in *err) for options
 * start_link rejects with COTP_EINVAL.
 */
COTP_API cotp_child_spec cotp_partition_supervisor_child_spec(
    const cotp_partition_supervisor_opts *opts);

/* The number of partitions of the supervisor named name (an atom, or
 * {:via, Module, name} as above): 0 with *n, or COTP_ENOPROC when no such
 * supervisor is running (K7). */
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
