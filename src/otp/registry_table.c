/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry_table.c: the Registry's concurrent table, ETS's place.
 *
 * Per partition: SHARDS hash tables of key nodes, each behind its own
 * reader-writer lock and growing on its own, and an index by pid behind
 * the partition's writer mutex (the locks and their order are in
 * registry_impl.h).  A key's hash picks the shard by its high bits and the
 * bucket by its low bits, so one hash serves both; the partition comes from
 * the same hash re-mixed.
 *
 * Why not one rwlock per partition: every reader would bump the same lock
 * word, and readers of unrelated keys on different cores would bounce its
 * cache line; with shards they meet only when they read keys of the same
 * shard.  Why not a lock-free table with epoch reclamation: readers copy
 * the value out, which takes longer than taking an uncontended read lock,
 * and a reader-writer lock lets a writer free what it unlinks at once.
 *
 * Keys and values are copied into heaps of their own, one per key node
 * and one per entry, only when they are not immediates (atoms, small
 * integers and pids need no heap at all): what lets them outlive the heap
 * of the process that registered them.  O(chain) per lookup; chains stay
 * at two nodes or fewer on average by doubling the shard's buckets.
 */
#include <stdlib.h>

#include "registry_impl.h"

#define MIN_BUCKETS 8

static uint32_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return (uint32_t)x;
}

/* Consistent with exact equality, which is all a table needs: immediates
 * (atoms, small integers, pids) are canonical words, so the word itself is
 * hashed; binaries by their bytes (FNV-1a); anything else by phash2, which
 * is Erlang's and correct but several times slower (it was two thirds of a
 * lookup's time when every key went through it). */
uint32_t cotp__reg_hash(cotp_term key) {
  if (cotp_term_size(key) == 0)
    return mix64(key.w);
  size_t len;
  const uint8_t *b = cotp_binary_data(key, &len);
  if (b) {
    uint64_t x = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
      x = (x ^ b[i]) * 0x100000001b3ull;
    return mix64(x);
  }
  return mix64(cotp_term_phash2(key));
}

unsigned cotp__reg_hash_partition(const cotp_registry *r, uint32_t hash) {
  /* re-mixed so that the partition does not pick the bits the shard uses */
  uint32_t h = hash * 0x9E3779B1u;
  return r->n == 1 ? 0 : (unsigned)(((uint64_t)h * r->n) >> 32);
}

void cotp__reg_key_partitions(const cotp_registry *r, uint32_t hash,
                              unsigned *first, unsigned *last) {
  if (r->keys == COTP_REGISTRY_DUPLICATE) {
    *first = 0;
    *last = r->n;
  } else {
    *first = cotp__reg_hash_partition(r, hash);
    *last = *first + 1;
  }
}

unsigned cotp__reg_pid_partition(const cotp_registry *r, cotp_pid pid) {
  return r->n == 1 ? 0 : (unsigned)(((uint64_t)mix64(pid.bits) * r->n) >> 32);
}

struct reg_shard *cotp__reg_shard(struct reg_partition *p, uint32_t hash) {
  return &p->shards[hash >> 28 & (SHARDS - 1)];
}

static size_t bucket_of(const struct reg_shard *s, uint32_t hash) {
  return hash & (s->nbuckets - 1);
}

int cotp__reg_tables_init(cotp_registry *r) {
  r->parts = calloc(r->n, sizeof *r->parts);
  if (!r->parts)
    return COTP_ENOMEM;
  /* Writers hold the lock for a few hundred instructions, and two
   * schedulers registering at once met it held about once a pair: a plain
   * mutex then sleeps in the kernel, where the wait and the wake-up cost
   * more than the section.  An adaptive one spins first (glibc). */
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
#if defined(PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP) /* glibc's kind is an enum:
                                                     its initializer says it is there */
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
  for (unsigned i = 0; i < r->n; i++) {
    struct reg_partition *p = &r->parts[i];
    pthread_mutex_init(&p->wlock, &attr);
  }
  pthread_mutexattr_destroy(&attr);
  return 0;
}

void cotp__reg_entry_free(struct reg_entry *e) {
  if (!e)
    return;
  cotp_heap_free(e->heap);
  free(e);
}

void cotp__reg_knode_free(struct reg_knode *k) {
  if (!k)
    return;
  cotp_heap_free(k->heap);
  free(k);
}

void cotp__reg_tables_close(cotp_registry *r) {
  if (!r->parts)
    return;
  for (unsigned i = 0; i < r->n; i++) {
    struct reg_partition *p = &r->parts[i];
    for (int j = 0; j < SHARDS; j++) {
      struct reg_shard *s = &p->shards[j];
      for (size_t b = 0; b < s->nbuckets; b++) {
        for (struct reg_knode *k = s->buckets[b], *kn; k; k = kn) {
          kn = k->next;
          for (struct reg_entry *e = k->first, *en; e; e = en) {
            en = e->knext;
            cotp__reg_entry_free(e);
          }
          cotp__reg_knode_free(k);
        }
      }
      free(s->buckets);
    }
    for (size_t b = 0; b < p->npbuckets; b++) {
      for (struct reg_prec *pr = p->pids[b], *next; pr; pr = next) {
        next = pr->next;
        free(pr);
      }
    }
    free(p->pids);
    pthread_mutex_destroy(&p->wlock);
  }
  free(r->parts);
  r->parts = NULL;
}

struct reg_entry *cotp__reg_entry_new(cotp_pid pid, cotp_term value) {
  struct reg_entry *e = calloc(1, sizeof *e);
  if (!e)
    return NULL;
  e->pid = pid;
  /* a copy in a heap of its own, or none for an immediate */
  if (cotp_term_keep(value, &e->value, &e->heap) != 0) {
    free(e);
    return NULL;
  }
  return e;
}

struct reg_knode *cotp__reg_knode_new(uint32_t hash, cotp_term key) {
  struct reg_knode *k = calloc(1, sizeof *k);
  if (!k)
    return NULL;
  k->hash = hash;
  if (cotp_term_keep(key, &k->key, &k->heap) != 0) {
    free(k);
    return NULL;
  }
  return k;
}

struct reg_knode *cotp__reg_find(struct reg_shard *s, uint32_t hash,
                                 cotp_term key) {
  if (!s->nbuckets)
    return NULL;
  for (struct reg_knode *k = s->buckets[bucket_of(s, hash)]; k; k = k->next)
    if (k->hash == hash && cotp_term_eq(k->key, key))
      return k;
  return NULL;
}

/* Doubles the shard's buckets (under its write lock).  A failed grow
 * leaves longer chains, nothing worse. */
static void grow(struct reg_shard *s) {
  size_t n = s->nbuckets ? s->nbuckets * 2 : MIN_BUCKETS;
  struct reg_knode **b = calloc(n, sizeof *b);
  if (!b)
    return;
  for (size_t i = 0; i < s->nbuckets; i++) {
    for (struct reg_knode *k = s->buckets[i], *next; k; k = next) {
      next = k->next;
      size_t j = k->hash & (n - 1);
      k->next = b[j];
      b[j] = k;
    }
  }
  free(s->buckets);
  s->buckets = b;
  s->nbuckets = n;
}

/* --- the pid index (under wlock) --- */

static size_t pid_bucket(const struct reg_partition *p, cotp_pid pid) {
  uint64_t x = pid.bits * 0x9E3779B97F4A7C15ull;
  return (size_t)(x >> 32) & (p->npbuckets - 1);
}

static void pids_grow(struct reg_partition *p) {
  size_t n = p->npbuckets ? p->npbuckets * 2 : MIN_BUCKETS;
  struct reg_prec **b = calloc(n, sizeof *b);
  if (!b)
    return;
  struct reg_prec **old = p->pids;
  size_t oldn = p->npbuckets;
  p->pids = b;
  p->npbuckets = n;
  for (size_t i = 0; i < oldn; i++) {
    for (struct reg_prec *r = old[i], *next; r; r = next) {
      next = r->next;
      size_t j = pid_bucket(p, r->pid);
      r->next = b[j];
      b[j] = r;
    }
  }
  free(old);
}

/* A new record for pid: out of line, so that finding one, the common
 * case, saves no registers for the table's growth. */
__attribute__((noinline)) static struct reg_prec *prec_new(struct reg_partition *p,
                                                           cotp_pid pid) {
  if (p->npids >= p->npbuckets)
    pids_grow(p);
  if (!p->npbuckets)
    return NULL;
  struct reg_prec *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->pid = pid;
  size_t b = pid_bucket(p, pid);
  r->next = p->pids[b];
  p->pids[b] = r;
  p->npids++;
  return r;
}

struct reg_prec *cotp__reg_prec(struct reg_partition *p, cotp_pid pid,
                                bool create) {
  if (p->npbuckets) {
    for (struct reg_prec *r = p->pids[pid_bucket(p, pid)]; r; r = r->next)
      if (cotp_pid_eq(r->pid, pid))
        return r;
  }
  return create ? prec_new(p, pid) : NULL;
}

void cotp__reg_prec_drop(struct reg_partition *p, struct reg_prec *r) {
  struct reg_prec **link = &p->pids[pid_bucket(p, r->pid)];
  while (*link != r)
    link = &(*link)->next;
  *link = r->next;
  p->npids--;
  free(r);
}

/* --- adding and removing (under wlock and the shard's write lock) --- */

int cotp__reg_add(struct reg_partition *p, struct reg_shard *s, uint32_t hash,
                  struct reg_knode **spare, struct reg_entry *e,
                  struct reg_prec *owner) {
  struct reg_knode *k = cotp__reg_find(s, hash, (*spare)->key);
  if (!k) {
    if (s->nkeys >= s->nbuckets * 2)
      grow(s);
    if (!s->nbuckets)
      return COTP_ENOMEM;
    k = *spare;
    *spare = NULL;
    size_t b = bucket_of(s, hash);
    k->next = s->buckets[b];
    s->buckets[b] = k;
    s->nkeys++;
  }
  e->knode = k;
  e->kprev = k->last;
  e->knext = NULL;
  if (k->last)
    k->last->knext = e;
  else
    k->first = e;
  k->last = e;
  e->owner = owner;
  e->pprev = NULL;
  e->pnext = owner->first;
  if (owner->first)
    owner->first->pprev = e;
  owner->first = e;
  owner->count++;
  atomic_fetch_add_explicit(&p->count, 1, memory_order_relaxed);
  return 0;
}

void cotp__reg_remove(struct reg_partition *p, struct reg_shard *s,
                      struct reg_entry *e, struct reg_knode **dead_node) {
  struct reg_knode *k = e->knode;
  if (e->kprev)
    e->kprev->knext = e->knext;
  else
    k->first = e->knext;
  if (e->knext)
    e->knext->kprev = e->kprev;
  else
    k->last = e->kprev;
  *dead_node = NULL;
  if (!k->first) {
    struct reg_knode **link = &s->buckets[bucket_of(s, k->hash)];
    while (*link != k)
      link = &(*link)->next;
    *link = k->next;
    s->nkeys--;
    *dead_node = k;
  }
  struct reg_prec *r = e->owner;
  if (e->pprev)
    e->pprev->pnext = e->pnext;
  else
    r->first = e->pnext;
  if (e->pnext)
    e->pnext->pprev = e->pprev;
  if (--r->count == 0)
    cotp__reg_prec_drop(p, r);
  e->owner = NULL;
  atomic_fetch_sub_explicit(&p->count, 1, memory_order_relaxed);
}

void cotp__reg_cleanup(struct reg_partition *p, cotp_pid pid) {
  pthread_mutex_lock(&p->wlock);
  struct reg_prec *r = cotp__reg_prec(p, pid, false);
  /* Unlinked entries are chained through knext to be freed after the
   * locks (invariant 4). */
  struct reg_entry *dead = NULL;
  struct reg_knode *dead_nodes = NULL;
  while (r) {
    struct reg_entry *e = r->first;
    bool last = r->count == 1;
    struct reg_shard *s = cotp__reg_shard(p, e->knode->hash);
    struct reg_knode *k;
    reg_wrlock(&s->lock);
    cotp__reg_remove(p, s, e, &k);
    reg_wrunlock(&s->lock);
    e->knext = dead;
    dead = e;
    if (k) {
      k->next = dead_nodes;
      dead_nodes = k;
    }
    if (last)
      break; /* r was freed with its last entry */
  }
  pthread_mutex_unlock(&p->wlock);
  for (struct reg_entry *next; dead; dead = next) {
    next = dead->knext;
    cotp__reg_entry_free(dead);
  }
  for (struct reg_knode *next; dead_nodes; dead_nodes = next) {
    next = dead_nodes->next;
    cotp__reg_knode_free(dead_nodes);
  }
}
