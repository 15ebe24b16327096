/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ptable.c: the process table: control blocks, pids and their lookup.
 *
 * Control blocks live in one array, reserved whole when the runtime starts
 * (max_processes of them: address space only) and committed a stretch at
 * a time as fresh blocks are reached (bigmem.h); the pid number of a process is
 * the index of its block.  So a lookup is a load and a compare, with no
 * lock: find the block, check that its current pid is the one asked for.
 * A block whose process exited is recycled with the serial part of the pid
 * incremented, which makes every old pid of it stale (up to 2^20 reuses of
 * one block; after that a very old pid could name a new process, as pids
 * wrap on the BEAM).
 *
 * Free blocks: each scheduler keeps a small cache of free indexes (only its
 * thread touches it), refilled from and spilled to a global free list under
 * a mutex, in batches.  Indexes that were never used come from a counter,
 * FRESH_BATCH at a time into an empty cache (one compare-and-swap for 16
 * spawns, where taking them one by one took the mutex to find the free
 * list empty at every spawn), so a runtime that never has more than 100
 * processes alive touches the memory of 100 blocks and a few batches.
 */
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "platform/bigmem.h"
#include "sched.h"

#define CACHE 64
#define FRESH_BATCH 16 /* never-used indexes a cache takes at a time */
#define COMMIT_BLOCKS 4096 /* blocks committed at a time: 1.3 MB */

#if !defined(COTP_ASAN) && !defined(COTP_TSAN) /* they add a field each */
_Static_assert(sizeof(struct cotp__proc) % 64 == 0,
               "a control block is a whole number of cache lines (proc.h)");
#endif

/* max 1 while no runtime runs: every lookup then finds nothing */
struct cotp__ptable cotp__ptable = {.max = 1};
#define table cotp__ptable
static struct cotp__bigmem_ahead table_ahead; /* commits the next stretch */

/* Per-scheduler caches of free indexes, indexed by scheduler, each with
 * its count of blocks allocated minus freed: a shared counter would bounce
 * between cores at every spawn and exit. */
static struct cache {
  uint32_t idx[CACHE];
  unsigned n;
  _Atomic long live; /* written by its scheduler only; read by anyone */
} __attribute__((aligned(64))) *caches;
static _Atomic long foreign_live; /* the same, off schedulers */

static void count_live(struct cache *c, long d) {
  _Atomic long *live = c ? &c->live : &foreign_live;
  if (c) /* one writer: no read-modify-write needed */
    atomic_store_explicit(live, atomic_load_explicit(live, memory_order_relaxed) + d,
                          memory_order_relaxed);
  else
    atomic_fetch_add_explicit(live, d, memory_order_relaxed);
}

static size_t table_bytes(void) {
  return (size_t)table.max * sizeof *table.blocks;
}

int cotp__ptable_init(unsigned max_processes) {
  table.max = max_processes + 1; /* index 0 is never used */
  if (table.max > (1u << COTP_PID_NUMBER_BITS))
    table.max = 1u << COTP_PID_NUMBER_BITS;
  caches = aligned_alloc(64, cotp__rt->nsched * sizeof *caches);
  if (!caches) {
    table.max = 1;
    return COTP_ENOMEM;
  }
  memset(caches, 0, cotp__rt->nsched * sizeof *caches);
  table.blocks = cotp__bigmem_reserve(table_bytes());
  if (!table.blocks) {
    free(caches);
    caches = NULL;
    table.max = 1;
    return COTP_ENOMEM;
  }
  atomic_init(&table.fresh, 1); /* index 0 stays unused: pid bits 0 is "no pid" */
  cotp__bigmem_ahead_init(&table_ahead);
  atomic_init(&foreign_live, 0);
  pthread_mutex_init(&table.lock, NULL);
  table.free = NULL;
  table.nfree = table.capfree = 0;
  return 0;
}

void cotp__ptable_close(void) {
  cotp__bigmem_ahead_stop(&table_ahead); /* before the memory goes */
  cotp__bigmem_release(table.blocks, table_bytes());
  table.blocks = NULL;
  table.max = 1;
  free(table.free);
  free(caches);
  caches = NULL;
  pthread_mutex_destroy(&table.lock);
}

/*
 * Fresh indexes go out in order, so a stretch of blocks is used soon after
 * its first: it is committed in one call (left to page faults, one per 12
 * blocks, skynet took 17,000 of them and 100 ms more CPU).  Halfway
 * through a stretch the next one is asked of the committing thread
 * (bigmem.h), so that a spawner reaching it finds it committed; if the
 * thread has not got there, the spawner commits it itself, as it did
 * before there was a thread (the pages the thread did are not done
 * twice).  Only while a scheduler sleeps, though: the thread then runs on
 * a core with nothing else to do.  With every core busy it would take one
 * from the processes, and committing from another core costs more per
 * page (3.8 against 2.3 us in a profile of 200,000 GenServer starts),
 * which made a million spawns and skynet slower.  A runtime that never has
 * half a stretch of processes never starts the thread.  Called for index 1
 * and every half stretch after.
 */
static void commit_stretches(uint32_t i) {
  uint32_t from = i - i % COMMIT_BLOCKS, to = from + COMMIT_BLOCKS;
  if (to > table.max)
    to = table.max;
  if (i % COMMIT_BLOCKS == COMMIT_BLOCKS / 2) {
    uint32_t next_to = to + COMMIT_BLOCKS < table.max ? to + COMMIT_BLOCKS : table.max;
    if (to < next_to &&
        atomic_load_explicit(&cotp__rt->nsleeping, memory_order_relaxed) > 0)
      cotp__bigmem_ahead_ask(&table_ahead, &table.blocks[to],
                             (next_to - to) * sizeof *table.blocks);
    return;
  }
  if (!cotp__bigmem_ahead_done(&table_ahead, &table.blocks[to]))
    cotp__bigmem_commit(&table.blocks[from], (to - from) * sizeof *table.blocks);
}

/* A free index, or UINT32_MAX. */
static uint32_t take_index(struct cache *c) {
  if (c && c->n > 0)
    return c->idx[--c->n];
  pthread_mutex_lock(&table.lock);
  uint32_t index = UINT32_MAX;
  if (table.nfree > 0) {
    index = table.free[--table.nfree];
    /* refill the cache with a batch while we hold the lock */
    while (c && c->n < CACHE / 2 && table.nfree > 0)
      c->idx[c->n++] = table.free[--table.nfree];
  }
  pthread_mutex_unlock(&table.lock);
  if (index != UINT32_MAX)
    return index;
  /* never-used indexes, a batch of them for a scheduler's empty cache:
   * a compare-and-swap, so that the counter never passes the table's end
   * (cotp__ptable_each reads it).  Near the end, one at a time: an index
   * in one scheduler's cache must not make a spawn on another fail. */
  uint32_t f = atomic_load_explicit(&table.fresh, memory_order_relaxed), n;
  do {
    if (f >= table.max)
      return UINT32_MAX;
    n = c && table.max - f >= COMMIT_BLOCKS ? FRESH_BATCH : 1;
  } while (!atomic_compare_exchange_weak_explicit(
      &table.fresh, &f, f + n, memory_order_relaxed, memory_order_relaxed));
  for (uint32_t i = f; i < f + n; i++)
    if (i == 1 || i % (COMMIT_BLOCKS / 2) == 0)
      commit_stretches(i);
  /* the rest into the (empty) cache, so that they come out in order */
  for (uint32_t i = f + n - 1; i > f; i--)
    c->idx[c->n++] = i;
  return f;
}

static void give_index(struct cache *c, uint32_t index) {
  if (c && c->n < CACHE) {
    c->idx[c->n++] = index;
    return;
  }
  pthread_mutex_lock(&table.lock);
  size_t spill = c ? CACHE / 2 : 0;
  if (table.nfree + spill + 1 > table.capfree) {
    size_t cap = table.capfree ? table.capfree * 2 : 1024;
    while (cap < table.nfree + spill + 1)
      cap *= 2;
    uint32_t *f = realloc(table.free, cap * sizeof *f);
    if (f) {
      table.free = f;
      table.capfree = cap;
    } else {
      spill = 0; /* keep what we can; this index is lost until stop */
    }
  }
  if (table.nfree < table.capfree)
    table.free[table.nfree++] = index;
  for (size_t i = 0; i < spill; i++)
    table.free[table.nfree++] = c->idx[--c->n];
  pthread_mutex_unlock(&table.lock);
}

static struct cache *my_cache(void) {
  struct cotp__sched *s = cotp__sched_self();
  return s ? &caches[s->index] : NULL;
}

/* Zeroes bytes (a multiple of 8) at at with plain 16-byte stores.  A
 * memset of a constant size compiles to `rep stos`, whose start-up cost
 * made it a third of cotp__proc_alloc's time in a cpu-clock profile of
 * skynet (a million spawns).  The empty asm in the loop keeps the
 * compiler from turning it back into a memset. */
static void zero_words(char *at, size_t bytes) {
  typedef uint64_t u64x2 __attribute__((vector_size(16), aligned(8), may_alias));
  size_t i = 0;
  for (; i + 16 <= bytes; i += 16) {
    *(u64x2 *)(void *)(at + i) = (u64x2){0, 0};
    __asm__ volatile("" ::: "memory");
  }
  if (i < bytes)
    *(uint64_t *)(void *)(at + i) = 0;
}

/*
 * Zeroes a block from mq_head to its end (about 300 bytes), all but the
 * span from named to turn_hold (proc.h).  Other threads read named, pid
 * and turn_hold through the slot at any time, so they are only ever
 * written atomically: named and pid are set by cotp__proc_alloc, and a
 * new incarnation keeps its predecessor's hold (turn.c), which at worst
 * delays a call by one hold.
 */
static void zero_from_mq_head(struct cotp__proc *p) {
  enum { FROM = offsetof(struct cotp__proc, mq_head),
         KEEP = offsetof(struct cotp__proc, named),
         AFTER = offsetof(struct cotp__proc, turn_hold) + sizeof(uint64_t),
         END = sizeof(struct cotp__proc) };
  _Static_assert(FROM % 8 == 0 && KEEP % 8 == 0 && END % 8 == 0,
                 "8-byte multiples");
  _Static_assert(offsetof(struct cotp__proc, pid) > KEEP &&
                     offsetof(struct cotp__proc, pid) < AFTER,
                 "pid is in the span kept");
  zero_words((char *)p + FROM, KEEP - FROM);
  zero_words((char *)p + AFTER, END - AFTER);
}

/*
 * Asks for the block the next spawn on this scheduler will take, all five
 * lines, for writing.  A block freed by a process that ended on another
 * core is in that core's cache, and every line of it would be a miss
 * when the spawn writes it; a spawner in a loop (Task.async for a list)
 * gives the lines the time of one spawn to arrive.  In a profile of
 * 100,000 Task.async, the first load of a block took 62% of
 * cotp__proc_alloc's time.
 */
static inline void prefetch_block(const struct cotp__proc *p) {
  for (size_t off = 0; off < sizeof *p; off += 64)
    __builtin_prefetch((const char *)p + off, 1, 3);
}

struct cotp__proc *cotp__proc_alloc(int *err) {
  struct cache *c = my_cache();
  uint32_t index = take_index(c);
  if (index == UINT32_MAX) {
    *err = COTP_ESYSLIMIT;
    return NULL;
  }
  struct cotp__proc *p = &table.blocks[index];
  cotp_pid old = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  /* A never-used block has pid 0 and serial 0; a reused one moves on. */
  uint32_t serial = old.bits ? cotp_pid_serial(old) + 1 : 0;
  cotp_pid pid = cotp_pid_make(0, index, serial);
  /* Reset everything the previous incarnation may have left. */
  zero_from_mq_head(p);
  p->priority = COTP_PRIORITY_NORMAL;
  p->io_fd = -1;
  p->exit_reason = COTP_ATOM_NORMAL;
  p->fp_kept_a = 0;
  p->fp_kept_b = 0;
  p->arg_free = NULL;
  p->blocking = NULL;
  p->timer.kind = TK_WAIT;
  atomic_store_explicit(&p->timer.wheel, NULL, memory_order_relaxed);
  atomic_store_explicit(&p->io_ready, 0, memory_order_relaxed);
  atomic_store_explicit(&p->named, false, memory_order_relaxed);
  atomic_store_explicit(&p->state, PS_RUNNABLE, memory_order_relaxed);
  atomic_store_explicit(&p->inbox, inbox_tag(pid), memory_order_release);
  atomic_store_explicit(&p->pid, pid.bits, memory_order_release);
  count_live(c, 1);
  if (c && c->n > 0)
    prefetch_block(&table.blocks[c->idx[c->n - 1]]);
  return p;
}

void cotp__proc_free(struct cotp__proc *p) {
  cotp_pid pid = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  /* release, not seq_cst: every reader takes FREE as it takes EXITING,
   * whose store (proc_finish) is the one names.c's protocol pairs with */
  atomic_store_explicit(&p->state, PS_FREE, memory_order_release);
  struct cache *c = my_cache();
  count_live(c, -1);
  give_index(c, cotp_pid_number(pid));
}

void cotp__ptable_each(void (*fn)(struct cotp__proc *p, void *ctx), void *ctx) {
  uint32_t n = atomic_load(&table.fresh);
  for (uint32_t i = 0; i < n; i++) {
    struct cotp__proc *p = &table.blocks[i];
    if (atomic_load(&p->state) != PS_FREE) /* never-used blocks are zero: FREE */
      fn(p, ctx);
  }
}

size_t cotp__ptable_live(void) {
  long n = atomic_load_explicit(&foreign_live, memory_order_relaxed);
  for (unsigned i = 0; caches && i < cotp__rt->nsched; i++)
    n += atomic_load_explicit(&caches[i].live, memory_order_relaxed);
  return n > 0 ? (size_t)n : 0;
}
