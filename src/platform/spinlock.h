/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spinlock.h: a lock for critical sections of a few dozen instructions.
 *
 * An uncontended pthread mutex costs about a hundred instructions to take
 * and give back; this costs two atomic operations.  Only for sections that
 * never block and never call out: a holder preempted by the kernel makes
 * the others spin, so a waiter that has spun a while yields its thread.
 */
#ifndef COTP_PLATFORM_SPINLOCK_H
#define COTP_PLATFORM_SPINLOCK_H

#include <sched.h>
#include <stdatomic.h>

/* One pause of a spin-wait loop. */
static inline void cotp__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

typedef struct {
  atomic_flag held;
} cotp__spinlock;

#define COTP__SPINLOCK_INIT {ATOMIC_FLAG_INIT}

static inline void cotp__spin_init(cotp__spinlock *l) {
  atomic_flag_clear_explicit(&l->held, memory_order_relaxed);
}

static inline void cotp__spin_lock(cotp__spinlock *l) {
  for (unsigned spins = 0;
       atomic_flag_test_and_set_explicit(&l->held, memory_order_acquire);
       spins++)
    if (spins > 100)
      sched_yield();
}

static inline void cotp__spin_unlock(cotp__spinlock *l) {
  atomic_flag_clear_explicit(&l->held, memory_order_release);
}

#endif
