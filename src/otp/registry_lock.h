/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry_lock.h: the reader-writer lock of a Registry shard, biased to
 * readers (a "big reader" lock).
 *
 * Readers count themselves in one of RSLOTS counters, each on a cache line
 * of its own, picked by the reader's thread: two lookups on two cores
 * write to different lines, where a pthread rwlock makes both bounce the
 * one line that holds its count (measured: a lookup from two processes at
 * once went from 525 ns to well under half that).  A writer raises its
 * flag and waits until every counter is zero; a reader that sees the flag
 * steps back and waits for it to drop, so a writer waits only for the
 * readers already inside.  The price is on the writer (it reads RSLOTS
 * lines) and in memory (RSLOTS lines per shard).
 *
 * Protocol (Dekker's): a reader increments its counter, then reads the
 * flag; a writer sets the flag, then reads the counters; all four are
 * seq_cst, so at least one of them sees the other.  A reader's decrement
 * (release) pairs with the writer's reads of the counters (seq_cst, so
 * acquire); the writer's clearing of the flag (release) pairs with a
 * reader's read of it.
 *
 * Writers of one shard are already serialised by the partition's writer
 * mutex, so the flag has one writer at a time.  Neither side holds the
 * lock across a call into the runtime, and nobody waits long: both sides
 * spin, yielding the thread after a few rounds.  The slot a reader took
 * is returned and handed back at unlock, since the process may have moved
 * to another thread in between (it makes no runtime call inside, but the
 * slot must not depend on it).
 */
#ifndef COTP_OTP_REGISTRY_LOCK_H
#define COTP_OTP_REGISTRY_LOCK_H

#include <sched.h>
#include <stdatomic.h>

#define RSLOTS 8

struct reg_lock {
  _Atomic int writer;
  char pad0[60];
  struct {
    _Atomic long n;
    char pad[56];
  } readers[RSLOTS];
};

static inline unsigned reg_lock_slot(void) {
  /* Only picks a counter: any value is correct, a stable one is fast. */
  static _Atomic unsigned next;
  static _Thread_local unsigned slot;
  if (!slot)
    slot = atomic_fetch_add_explicit(&next, 1, memory_order_relaxed) % RSLOTS + 1;
  return slot - 1;
}

static inline void reg_lock_pause(unsigned *spins) {
  if (++*spins > 64) {
    *spins = 0;
    sched_yield();
  }
}

static inline unsigned reg_rdlock(struct reg_lock *l) {
  unsigned slot = reg_lock_slot(), spins = 0;
  for (;;) {
    atomic_fetch_add_explicit(&l->readers[slot].n, 1, memory_order_seq_cst);
    if (!atomic_load_explicit(&l->writer, memory_order_seq_cst))
      return slot;
    atomic_fetch_sub_explicit(&l->readers[slot].n, 1, memory_order_release);
    while (atomic_load_explicit(&l->writer, memory_order_acquire))
      reg_lock_pause(&spins);
  }
}

static inline void reg_rdunlock(struct reg_lock *l, unsigned slot) {
  atomic_fetch_sub_explicit(&l->readers[slot].n, 1,
                            memory_order_release); /* partner: wrlock's loads */
}

static inline void reg_wrlock(struct reg_lock *l) {
  unsigned spins = 0;
  atomic_store_explicit(&l->writer, 1, memory_order_seq_cst);
  for (unsigned i = 0; i < RSLOTS; i++)
    while (atomic_load_explicit(&l->readers[i].n, memory_order_seq_cst))
      reg_lock_pause(&spins);
}

static inline void reg_wrunlock(struct reg_lock *l) {
  atomic_store_explicit(&l->writer, 0, memory_order_release); /* partner:
    rdlock's loads of the flag */
}

#endif
