/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry_impl.h: what the Registry sources share (the public API is
 * cotp/registry.h).  Written against the public headers only.
 *
 * A registry is n partitions.  Each partition is a table and a process:
 *
 *   - the table holds key nodes in hash buckets split over SHARDS shards,
 *     each shard with its own reader-writer lock and its own bucket array
 *     (so it grows on its own); a key node holds the key (copied) and its
 *     entries in registration order; an entry holds a pid and a value
 *     (copied).  A second index, by pid, lists each process's entries in
 *     the partition: what the cleanup after an exit and keys/2 walk.
 *   - the process (a handler process that traps exits) is what registering
 *     processes link to; on their EXIT it removes their entries.
 *
 * Locks and who takes them:
 *  1. `wlock` (a mutex per partition, spinning before it sleeps:
 *     registry_table.c) serialises the partition's writers:
 *     register, unregister, update_value, and the cleanup after an exit.
 *     It alone protects the pid index.  Writers take it first, then the
 *     write lock of the one shard they change.
 *  2. A shard's reader-writer lock (registry_lock.h) protects its buckets, key nodes and entries.
 *     Readers take only the read lock of the shard of the key they read (or
 *     of each shard in turn, for select and count), and copy what they
 *     need into their own heap before letting go.
 *  3. No lock is held across a call into the runtime (link, send,
 *     receive): a process may move to another thread at such a call, and
 *     a pthread lock must be released by the thread that took it.
 *  4. Storage freed by a writer (a key node, an entry, their heaps) is
 *     unlinked under the shard's write lock and freed after it is
 *     released: no reader can still see it.
 *  5. An entry of pid P is added only by P itself, changed only by P, and
 *     removed by P, by the partition after P's exit, or by a unique
 *     register that finds P dead (L2).  So P, which is alive while it
 *     calls, never races with anything over its own entries.
 */
#ifndef COTP_OTP_REGISTRY_IMPL_H
#define COTP_OTP_REGISTRY_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include <cotp.h>

#include "registry_lock.h"

#define SHARDS 16 /* per partition; a power of two */

struct reg_prec;
struct reg_knode;

struct reg_entry {
  /* Written under wlock and the shard's write lock; read under either. */
  cotp_pid pid;
  cotp_term value;
  cotp_heap *heap; /* the value's, NULL when it is an immediate */
  struct reg_knode *knode;
  struct reg_entry *knext, *kprev; /* the key's entries, in order */
  /* Under wlock only. */
  struct reg_prec *owner;
  struct reg_entry *pnext, *pprev; /* the pid's entries */
};

struct reg_knode {
  uint32_t hash;
  cotp_term key;
  cotp_heap *heap; /* the key's, NULL when it is an immediate */
  struct reg_entry *first, *last;
  struct reg_knode *next; /* bucket chain */
};

/* A process's entries in one partition.  Under wlock. */
struct reg_prec {
  cotp_pid pid;
  size_t count;
  struct reg_entry *first;
  struct reg_prec *next; /* pid hash chain */
};

struct reg_shard {
  struct reg_lock lock;
  struct reg_knode **buckets;
  size_t nbuckets, nkeys;
} __attribute__((aligned(64)));

struct reg_partition {
  struct reg_shard shards[SHARDS];
  /* Writers (lock 1). */
  pthread_mutex_t wlock;
  struct reg_prec **pids;
  size_t npbuckets, npids;
  /* Entries in the partition: written under wlock, read by anyone. */
  _Atomic size_t count;
  /* Set before the registry is published, constant after.  The
   * partition struct is its process's handler state. */
  cotp_registry *reg;
  unsigned index;
  cotp_pid pid;    /* the partition's process */
  cotp_pid parent; /* the process it is linked to as to its parent */
};

struct cotp_registry {
  _Atomic long refs;
  _Atomic bool alive; /* false once the first partition has exited */
  /* Constant once started. */
  cotp_term name;
  cotp_registry_key_kind keys;
  unsigned n;
  cotp_heap *heap;     /* listeners */
  cotp_term listeners; /* a list of atoms */
  /* Metadata: a map in meta_heap, replaced whole under meta_lock. */
  pthread_mutex_t meta_lock;
  cotp_heap *meta_heap;
  cotp_term meta;
  struct reg_partition *parts;
};

/* --- registry_table.c: the concurrent table --- */

int cotp__reg_tables_init(cotp_registry *r);
void cotp__reg_tables_close(cotp_registry *r);
uint32_t cotp__reg_hash(cotp_term key);
/* The partition of the key whose hash (cotp__reg_hash) is hash, in a
 * registry of unique keys (duplicates go by pid: cotp__reg_pid_partition).
 * A caller hashes a key once, for its partition and its shard alike. */
unsigned cotp__reg_hash_partition(const cotp_registry *r, uint32_t hash);
/* The partitions that may hold the key of that hash: [*first, *last). */
void cotp__reg_key_partitions(const cotp_registry *r, uint32_t hash,
                              unsigned *first, unsigned *last);
unsigned cotp__reg_pid_partition(const cotp_registry *r, cotp_pid pid);
struct reg_shard *cotp__reg_shard(struct reg_partition *p, uint32_t hash);
/* The key node for key in its shard (the shard locked by the caller). */
struct reg_knode *cotp__reg_find(struct reg_shard *s, uint32_t hash,
                                 cotp_term key);
/* A new entry with a copy of value; NULL when out of memory. */
struct reg_entry *cotp__reg_entry_new(cotp_pid pid, cotp_term value);
void cotp__reg_entry_free(struct reg_entry *e);
/* Under wlock, and the shard's write lock for add and remove. */
struct reg_prec *cotp__reg_prec(struct reg_partition *p, cotp_pid pid,
                                bool create);
/* Frees an empty pid record (under wlock). */
void cotp__reg_prec_drop(struct reg_partition *p, struct reg_prec *r);
/* Adds e under key (copying the key into a new node if it has none); the
 * spare node, made outside the locks, is used or freed by the caller.
 * Returns 0 or COTP_ENOMEM. */
int cotp__reg_add(struct reg_partition *p, struct reg_shard *s, uint32_t hash,
                  struct reg_knode **spare, struct reg_entry *e,
                  struct reg_prec *owner);
/* Unlinks e from its key and its pid record; a key node left empty is
 * unlinked too and returned through *dead_node, to free after the locks.
 * A pid record left empty is freed (it is only under wlock). */
void cotp__reg_remove(struct reg_partition *p, struct reg_shard *s,
                      struct reg_entry *e, struct reg_knode **dead_node);
struct reg_knode *cotp__reg_knode_new(uint32_t hash, cotp_term key);
void cotp__reg_knode_free(struct reg_knode *k);
/* Removes every entry of pid from the partition (after its exit). */
void cotp__reg_cleanup(struct reg_partition *p, cotp_pid pid);

/* --- registry_ops.c --- */

/* Conses the entries under key in partition p onto tail as {pid, value},
 * in registration order, values copied into h; NONE when h is full. */
cotp_term cotp__reg_part_entries(struct reg_partition *p, uint32_t hash,
                                 cotp_term key, cotp_heap *h, cotp_term tail);

/* --- registry.c --- */

cotp_registry *cotp__reg_find_name(cotp_term name); /* a new handle */
/* Sends {:register, ...} or {:unregister, ...} to the listeners. */
void cotp__reg_notify(cotp_registry *r, cotp_term msg);
bool cotp__reg_alive(const cotp_registry *r);

#endif
