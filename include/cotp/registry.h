/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp/registry.h: Registry, Elixir's local key-value process store.
 *
 * A registry maps keys to the processes that registered them, each entry
 * with a value: any terms, copied into the registry's own storage, so they
 * outlive the registering process's heap.  A unique registry holds one
 * process per key; a duplicate registry any number of entries per key
 * (the same process may register a key several times).  Keys compare
 * exactly (1 and 1.0 are different keys) and literally: a key that looks
 * like a pattern (:_, {:"$1", x}) is only itself.
 *
 * A process registers, unregisters and updates only its own entries, from
 * inside itself.  Its entries vanish when it exits: each partition of the
 * registry is a process that traps exits, and registering links the
 * caller to the partition that holds its entries (as Elixir's does); the
 * partition removes a process's entries when its EXIT arrives.  That
 * removal is asynchronous: a lookup may briefly return a process that has
 * just died (L5).  A unique registration never waits for it: registering a
 * key whose holder is dead replaces the dead entry (L2).
 *
 * Reads do not go through the registry's processes: lookup, match, select,
 * count and the rest read the table directly, under read locks split into
 * shards per partition and biased to readers (each thread counts its
 * readers on a cache line of its own), so concurrent readers write to no
 * shared memory and wait only for a writer of the same shard.  What they
 * return is copied into the caller's heap (cotp_self_heap()).
 *
 * Partitions: a unique registry, or a duplicate one partitioned by key,
 * puts a key in the partition its hash picks; a duplicate registry
 * partitioned by pid (the default for duplicates, as in Elixir) puts all of
 * a process's entries in the partition the pid's hash picks, so reads by
 * key visit every partition.  (Elixir uses phash2 for both; cotp a faster
 * hash of its own, so which partition a key lands in differs, which only
 * shows in the owner pid register answers.)
 *
 * Handles.  A registry is named by an atom, as in Elixir, and used through
 * a handle, a counted reference: cotp_registry_start_link() and
 * cotp_registry_get() give one, cotp_registry_release() gives it back.  A
 * handle stays valid after the registry stops; calls through it then return
 * COTP_ENOPROC (Elixir's "unknown registry").  What a handle costs to use
 * is nothing: no lookup by name on each call.
 *
 * Errors are codes, never exits: COTP_EINVAL for misuse (Elixir's
 * ArgumentError: update_value on a duplicate registry, a malformed match
 * spec, a via name on a duplicate registry), COTP_ENOPROC for a stopped
 * registry, COTP_ENOTPROC outside a process where one is needed.
 */
#ifndef COTP_REGISTRY_H
#define COTP_REGISTRY_H

#include "match_spec.h"
#include "name.h"
#include "process.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cotp_registry cotp_registry;

typedef enum cotp_registry_key_kind {
  COTP_REGISTRY_UNIQUE,        /* keys: :unique */
  COTP_REGISTRY_DUPLICATE,     /* keys: :duplicate ({:duplicate, :pid}) */
  COTP_REGISTRY_DUPLICATE_KEY  /* keys: {:duplicate, :key} (L19) */
} cotp_registry_key_kind;

typedef struct cotp_registry_opts {
  cotp_registry_key_kind keys;
  /* The registry's name, an atom (required).  The first partition's
   * process is registered under it, as Elixir registers the Registry's
   * supervisor. */
  cotp_term name;
  /* Number of partitions; 0 means 1. */
  unsigned partitions;
  /* Names (atoms) of processes told of every register and unregister:
   * {:register, name, key, pid, value} and {:unregister, name, key, pid}.
   * A list, or COTP_NONE / [] for none.  Copied. */
  cotp_term listeners;
  /* Initial metadata, a keyword list [{key, value}], or COTP_NONE. */
  cotp_term meta;
} cotp_registry_opts;

#define COTP_REGISTRY_OPTS_INIT                                             \
  {COTP_REGISTRY_UNIQUE, {0}, 0, {0}, {0}}

/* ------------------------------------------------------------------------ */
/* Starting, stopping, handles                                               */

/*
 * Starts a registry linked to the caller (Elixir's Registry.start_link/1):
 * its partition processes trap exits; the first one is linked to the
 * caller and exits, taking the others with it, when the caller does.
 * Context: inside a process.
 * Ownership: *reg (may be NULL) receives a handle the caller owns.
 * Returns: 0 with *pid (may be NULL) the registry's process; COTP_EEXIST
 * when a running registry already has the name (*pid is that registry's
 * process: Elixir's {:error, {:already_started, pid}}); COTP_EINVAL (opts
 * NULL, name not an atom or nil, a bad keys value, listeners or meta not
 * lists of the right shape); COTP_ENOMEM; COTP_ESYSLIMIT; COTP_ENOTPROC.
 */
COTP_API int cotp_registry_start_link(const cotp_registry_opts *opts,
                                      cotp_registry **reg, cotp_pid *pid);

/*
 * A handle on the running registry called name (an atom).
 * Context: any thread.  Ownership: returns a handle the caller owns.
 * Returns: NULL when no running registry has that name (L17).
 */
COTP_API cotp_registry *cotp_registry_get(cotp_term name);

/* Gives back a handle (NULL is allowed).  The registry's storage goes
 * with the last handle once it has stopped.  Context: any thread. */
COTP_API void cotp_registry_release(cotp_registry *reg);

/*
 * Stops the registry (its processes exit with reason) and waits until its
 * first partition has exited.  Processes linked to it get the exit signal
 * as in Elixir.  Context: inside a process.
 * Returns: 0; COTP_ENOPROC when it had stopped already.
 */
COTP_API int cotp_registry_stop(cotp_registry *reg, cotp_term reason);

/* The registry's name (an atom), its key kind, its number of partitions
 * (L17), and the pid of partition i (COTP_ENOTFOUND past the last).
 * Context: any thread. */
COTP_API cotp_term cotp_registry_name(const cotp_registry *reg);
COTP_API cotp_registry_key_kind cotp_registry_kind(const cotp_registry *reg);
COTP_API unsigned cotp_registry_partitions(const cotp_registry *reg);
COTP_API int cotp_registry_partition_pid(const cotp_registry *reg, unsigned i,
                                         cotp_pid *pid);

/* ------------------------------------------------------------------------ */
/* The caller's own entries                                                  */

/*
 * Registers the caller under key with value (Registry.register/3; both
 * copied).  Links the caller to the partition that holds the entry (L6).
 * Context: inside a process.
 * Returns: 0 with *owner (may be NULL) the pid of that partition (L1);
 * COTP_EEXIST when a live process holds the key in a unique registry,
 * with *owner that process (Elixir's {:error, {:already_registered,
 * pid}}); COTP_ENOPROC (stopped registry); COTP_EINVAL; COTP_ENOMEM;
 * COTP_ENOTPROC.
 */
COTP_API int cotp_registry_register(cotp_registry *reg, cotp_term key,
                                    cotp_term value, cotp_pid *owner);

/*
 * Removes the caller's entries under key (all of them in a duplicate
 * registry; L7), and unlinks the caller from the partition when it has
 * nothing left there (L6).  A key the caller never registered is no error.
 * Listeners hear of it even then, as in Elixir.
 * Returns: 0; COTP_ENOPROC; COTP_EINVAL; COTP_ENOTPROC.
 */
COTP_API int cotp_registry_unregister(cotp_registry *reg, cotp_term key);

/*
 * Removes the caller's entries under key whose value matches pattern
 * (match-spec syntax, see cotp/match_spec.h) with guards (a list, or
 * COTP_NONE for []) (Registry.unregister_match/4).
 * Returns: 0; COTP_EINVAL (a malformed pattern or guard); COTP_ENOPROC;
 * COTP_ENOMEM; COTP_ENOTPROC.
 */
COTP_API int cotp_registry_unregister_match(cotp_registry *reg, cotp_term key,
                                            cotp_term pattern,
                                            cotp_term guards);

/* Computes the new value of an entry from the old one, in the caller. */
typedef cotp_term cotp_registry_update_fn(cotp_term old, void *ctx);

/*
 * Replaces the value of the caller's entry under key in a unique registry
 * with fn(old, ctx) (Registry.update_value/3; L13).  fn runs in the caller
 * and may build in cotp_self_heap(); its result is copied.
 * Returns: 0 with *new_value and *old_value (either may be NULL) in the
 * caller's heap; COTP_ENOTFOUND (Elixir's :error: the caller holds no
 * entry under key); COTP_EINVAL (a duplicate registry, fn NULL, fn
 * returned NONE); COTP_ENOPROC; COTP_ENOMEM; COTP_ENOTPROC.
 */
COTP_API int cotp_registry_update_value(cotp_registry *reg, cotp_term key,
                                        cotp_registry_update_fn *fn,
                                        void *ctx, cotp_term *new_value,
                                        cotp_term *old_value);

/* ------------------------------------------------------------------------ */
/* Reading (any process, no message, no lock shared with other keys)        */

/*
 * The entries under key, as the list [{pid, value}] in registration order
 * (Registry.lookup/2), built in the caller's heap.  In a unique registry
 * a holder that has begun to exit is left out at once, as Elixir checks
 * Process.alive? (its entry goes a little later, L5); a duplicate
 * registry's list may still show it briefly.  Context: inside a
 * process.  Returns: the list; COTP_NONE when the registry has stopped or
 * out of memory (use cotp_registry_lookup_pid for a code).
 */
COTP_API cotp_term cotp_registry_lookup(cotp_registry *reg, cotp_term key);

/*
 * The process under key, for a unique registry: what via naming uses
 * (Registry.whereis_name/1: not a holder that has begun to exit).
 * Allocates nothing.  Context: any thread.
 * Returns: 0 with *pid; COTP_ENOTFOUND; COTP_ENOPROC; COTP_EINVAL.
 */
COTP_API int cotp_registry_lookup_pid(cotp_registry *reg, cotp_term key,
                                      cotp_pid *pid);

/*
 * The entries under key whose value matches pattern with guards, as
 * [{pid, value}] (Registry.match/4), and how many there are
 * (Registry.count_match/4).  guards may be COTP_NONE for [].
 * Context: inside a process (count_match: any thread).
 * Returns: 0 with *out; COTP_EINVAL (malformed pattern or guards, L12);
 * COTP_ENOPROC; COTP_ENOMEM; COTP_ENOTPROC.
 */
COTP_API int cotp_registry_match(cotp_registry *reg, cotp_term key,
                                 cotp_term pattern, cotp_term guards,
                                 cotp_term *out);
COTP_API int cotp_registry_count_match(cotp_registry *reg, cotp_term key,
                                       cotp_term pattern, cotp_term guards,
                                       size_t *count);

/*
 * Runs a match spec over every entry, each seen as {key, pid, value} (with
 * `:"$_"` standing for {key, {pid, value}}, as in Elixir): the list of the
 * results (Registry.select/2), and the number of entries whose result is
 * true (Registry.count_select/2).
 * Returns: 0 with *out; COTP_EINVAL (a malformed spec, L12); COTP_ENOPROC;
 * COTP_ENOMEM; COTP_ENOTPROC.
 */
COTP_API int cotp_registry_select(cotp_registry *reg, cotp_term spec,
                                  cotp_term *out);
COTP_API int cotp_registry_count_select(cotp_registry *reg, cotp_term spec,
                                        size_t *count);

/*
 * The keys pid has registered, one per entry (Registry.keys/2), and the
 * values pid has under key (Registry.values/3), as lists in the caller's
 * heap.  Returns: 0 with *out; COTP_ENOPROC; COTP_EINVAL; COTP_ENOMEM;
 * COTP_ENOTPROC.
 */
COTP_API int cotp_registry_keys(cotp_registry *reg, cotp_pid pid,
                                cotp_term *out);
COTP_API int cotp_registry_values(cotp_registry *reg, cotp_term key,
                                  cotp_pid pid, cotp_term *out);

/* Number of entries (Registry.count/1, L18); 0 for a stopped registry.
 * Context: any thread. */
COTP_API size_t cotp_registry_count(cotp_registry *reg);

/* Receives the entries under key as [{pid, value}]. */
typedef void cotp_registry_dispatch_fn(cotp_term entries, void *ctx);

/* Options of cotp_registry_dispatch(). */
#define COTP_REGISTRY_PARALLEL 1u /* one task per partition (L14) */

/*
 * Calls fn(entries, ctx) with the entries under key (Registry.dispatch/3),
 * in the caller, and not at all when there are none (L14).  In a
 * duplicate registry partitioned by pid, fn is called once per partition
 * that has entries; with COTP_REGISTRY_PARALLEL and more than one
 * partition, those calls run in tasks, concurrently, and this returns
 * when all are done (the tasks' heaps hold the entries then, so fn must
 * not keep them; and ctx is read from other processes then, so it must not
 * point into the caller's stack).
 * Context: inside a process.
 * Returns: 0; COTP_ENOPROC; COTP_EINVAL; COTP_ENOMEM; COTP_ENOTPROC.
 */
COTP_API int cotp_registry_dispatch(cotp_registry *reg, cotp_term key,
                                    cotp_registry_dispatch_fn *fn, void *ctx,
                                    unsigned flags);

/* ------------------------------------------------------------------------ */
/* Metadata                                                                  */

/* Sets meta key (an atom or a tuple, as Elixir's) to value (copied)
 * (Registry.put_meta/3).  Context: any thread.  Returns: 0; COTP_EINVAL;
 * COTP_ENOPROC; COTP_ENOMEM. */
COTP_API int cotp_registry_put_meta(cotp_registry *reg, cotp_term key,
                                    cotp_term value);

/* The meta value under key, copied into h (Registry.meta/2).  Context:
 * any thread.  Returns: 0 with *value; COTP_ENOTFOUND (Elixir's :error);
 * COTP_ENOPROC; COTP_EINVAL; COTP_ENOMEM. */
COTP_API int cotp_registry_meta(cotp_registry *reg, cotp_term key,
                                cotp_heap *h, cotp_term *value);

/* ------------------------------------------------------------------------ */
/* Naming processes: {:via, Registry, {registry, key}}                       */

/*
 * The via module of registries (L9): its names are {registry, key} and
 * {registry, key, value} (registry the registry's atom name; value stored
 * with the entry, nil without one).  register_name registers the calling
 * process, which must be pid (COTP_EINVAL otherwise, and for a duplicate
 * registry or an unknown one); a taken key is COTP_EEXIST, so a GenServer
 * start gets {:error, {:already_started, pid}}.
 *
 *     cotp_genserver_opts o = COTP_GENSERVER_OPTS_INIT;
 *     o.name = cotp_name_via(&cotp_registry_via,
 *                            cotp_format(h, "{MyReg, \"stack_1\"}"));
 */
COTP_API extern const cotp_via cotp_registry_via;

/* A via name for use with cotp_genserver_* (the term must outlive it). */
static inline cotp_name cotp_registry_name_via(cotp_term reg_and_key) {
  return cotp_name_via(&cotp_registry_via, reg_and_key);
}

#ifdef __cplusplus
}
#endif

#endif
