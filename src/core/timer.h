/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timer.h: each scheduler's timers, a 4-ary min-heap under a spinlock.
 *
 * Two kinds of node: the deadline of a process's wait (embedded in its
 * control block, so a receive with a timeout allocates nothing) and a
 * send_after timer (allocated, holding the message and found by its
 * reference through a sharded table).  A node is added to the heap of the
 * scheduler the adding process runs on; it may be removed from any thread,
 * so its `heap` pointer says where it is, NULL once it fired or was
 * removed.  Lock order: a heap's lock before a reference-table shard's.
 */
#ifndef COTP_CORE_TIMER_H
#define COTP_CORE_TIMER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "platform/spinlock.h"

struct cotp__sched;

enum timer_kind { TK_WAIT, TK_SEND };

struct cotp__timer_heap;

struct cotp__timer {
  int64_t deadline_ms;
  uint32_t index;
  uint8_t kind;
  _Atomic(struct cotp__timer_heap *) heap;
};

/* A heap slot: the deadline is kept beside the node, so that sifting
 * compares without following a pointer per child (with a million timers
 * every node is a cache miss). */
struct cotp__timer_slot {
  int64_t deadline_ms;
  struct cotp__timer *t;
};
struct cotp__timer_heap {
  cotp__spinlock lock;
  struct cotp__timer_slot *nodes;
  uint32_t n, cap;
  _Atomic int64_t next; /* the earliest deadline; INT64_MAX when empty */
};

#define TIMER_NONE INT64_MAX

int cotp__timer_heap_init(struct cotp__timer_heap *h);
/* Frees the heap and every send_after timer in it (runtime stop). */
void cotp__timer_heap_close(struct cotp__timer_heap *h);
/* Adds t, due at deadline_ms, to h.  0 or COTP_ENOMEM. */
int cotp__timer_add(struct cotp__timer_heap *h, struct cotp__timer *t,
                    int64_t deadline_ms);
/* Removes t from its heap; false if it was in none (already fired). */
bool cotp__timer_remove(struct cotp__timer *t);
/* Fires s's timers due at now. */
void cotp__timers_expire(struct cotp__sched *s, int64_t now_ms);
/* Frees the reference table (runtime stop, after every heap is closed). */
void cotp__timer_refs_close(void);

#endif
