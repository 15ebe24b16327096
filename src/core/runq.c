/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runq.c: run queues: the ring, the deque (sched.h) and the mutex queues.
 *
 * A scheduler's local queue is a ring with one producer (its own thread)
 * and many consumers (its thread pops, idle schedulers steal half at a
 * time), after Go's runq: the owner pushes at tail with a release store,
 * and everyone consumes at head with a CAS.  Slots are atomics only so
 * that a thief reading a slot the owner is overwriting is well defined;
 * the CAS on head decides whether what the thief read counts.
 * When the ring is full, its older half moves to the scheduler's overflow
 * queue at once, so the slow path is taken once per RUNQ_SIZE / 2 pushes.
 *
 * The overflow queue is the scheduler's own, not one shared by all: a
 * shared one made both schedulers of a 1M-process skynet take 72,000
 * processes from it one at a time, each what the other had spawned, its
 * control block and arguments in the other core's cache.  Now an idle
 * scheduler takes the oldest part of another's overflow in one batch (up
 * to RUNQ_SIZE / 2): the oldest processes are the ones nearest the root of
 * whatever the other is unfolding, so a batch keeps the thief busy with a
 * subtree of its own.  Thefts went from 72,000 to about 200 and skynet
 * from 114 to 105 ms (median of 10, 2 schedulers).
 */
#include "sched.h"

void cotp__runq_init(struct cotp__runq *q) {
  atomic_init(&q->head, 0);
  atomic_init(&q->tail, 0);
  for (unsigned i = 0; i < RUNQ_SIZE; i++)
    atomic_init(&q->buf[i], NULL);
}

uint32_t cotp__runq_len(const struct cotp__runq *q) {
  uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);
  uint32_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
  return t - h;
}

/* Moves half the ring and p to the overflow queue (owner, ring full). */
static bool overflow(struct cotp__sched *s, struct cotp__proc *p, uint32_t h) {
  struct cotp__runq *q = &s->runq;
  uint32_t n = RUNQ_SIZE / 2;
  struct cotp__proc *batch[RUNQ_SIZE / 2];
  for (uint32_t i = 0; i < n; i++)
    batch[i] = atomic_load_explicit(&q->buf[(h + i) % RUNQ_SIZE],
                                    memory_order_relaxed);
  if (!atomic_compare_exchange_strong_explicit(&q->head, &h, h + n,
                                               memory_order_acq_rel,
                                               memory_order_relaxed))
    return false; /* thieves took some: the ring has room now */
  struct cotp__pqueue *g = &s->overflow;
  pthread_mutex_lock(&g->lock);
  for (uint32_t i = 0; i <= n; i++) {
    struct cotp__proc *x = i < n ? batch[i] : p;
    x->next = NULL;
    if (g->tail)
      g->tail->next = x;
    else
      g->head = x;
    g->tail = x;
  }
  atomic_fetch_add_explicit(&g->len, n + 1, memory_order_release);
  pthread_mutex_unlock(&g->lock);
  return true;
}

void cotp__runq_push(struct cotp__sched *s, struct cotp__proc *p) {
  struct cotp__runq *q = &s->runq;
  for (;;) {
    uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    if (t - h < RUNQ_SIZE) {
      atomic_store_explicit(&q->buf[t % RUNQ_SIZE], p, memory_order_relaxed);
      /* release: the slot is written before consumers see the new tail */
      atomic_store_explicit(&q->tail, t + 1, memory_order_release);
      return;
    }
    if (overflow(s, p, h))
      return;
  }
}

struct cotp__proc *cotp__runq_pop(struct cotp__runq *q) {
  for (;;) {
    uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
    if (t == h)
      return NULL;
    struct cotp__proc *p =
        atomic_load_explicit(&q->buf[h % RUNQ_SIZE], memory_order_relaxed);
    if (atomic_compare_exchange_weak_explicit(&q->head, &h, h + 1,
                                              memory_order_acq_rel,
                                              memory_order_relaxed))
      return p;
  }
}

struct cotp__proc *cotp__runq_steal(struct cotp__sched *thief,
                                    struct cotp__sched *victim) {
  struct cotp__runq *from = &victim->runq, *to = &thief->runq;
  for (;;) {
    uint32_t h = atomic_load_explicit(&from->head, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&from->tail, memory_order_acquire);
    uint32_t n = t - h;
    n -= n / 2;
    if (n == 0 || n > RUNQ_SIZE / 2)
      return NULL; /* empty, or a torn read of head and tail: try later */
    /* Copy into our own ring first (its free slots are ours alone), then
     * commit with one CAS on the victim's head. */
    uint32_t th = atomic_load_explicit(&to->head, memory_order_acquire);
    uint32_t tt = atomic_load_explicit(&to->tail, memory_order_relaxed);
    if (RUNQ_SIZE - (tt - th) < n)
      n = RUNQ_SIZE - (tt - th);
    if (n == 0)
      return NULL;
    for (uint32_t i = 0; i < n; i++)
      atomic_store_explicit(
          &to->buf[(tt + i) % RUNQ_SIZE],
          atomic_load_explicit(&from->buf[(h + i) % RUNQ_SIZE],
                               memory_order_relaxed),
          memory_order_relaxed);
    if (!atomic_compare_exchange_weak_explicit(&from->head, &h, h + n,
                                               memory_order_acq_rel,
                                               memory_order_relaxed))
      continue;
    /* keep the last one to run now, publish the rest */
    n--;
    struct cotp__proc *run =
        atomic_load_explicit(&to->buf[(tt + n) % RUNQ_SIZE], memory_order_relaxed);
    if (n)
      atomic_store_explicit(&to->tail, tt + n, memory_order_release);
    return run;
  }
}

struct cotp__proc *cotp__overflow_steal(struct cotp__sched *thief,
                                        struct cotp__sched *victim) {
  struct cotp__pqueue *q = &victim->overflow;
  size_t len = atomic_load_explicit(&q->len, memory_order_acquire);
  if (len == 0)
    return NULL;
  size_t want = len - len / 2;
  if (want > RUNQ_SIZE / 2)
    want = RUNQ_SIZE / 2;
  pthread_mutex_lock(&q->lock);
  struct cotp__proc *first = q->head, *p = first;
  size_t n = 0;
  for (; p && n < want; n++)
    p = p->next;
  q->head = p;
  if (!p)
    q->tail = NULL;
  atomic_fetch_sub_explicit(&q->len, n, memory_order_relaxed);
  pthread_mutex_unlock(&q->lock);
  if (n == 0)
    return NULL;
  /* the batch is ours now, linked from first, n long */
  p = first->next;
  for (size_t i = 1; i < n; i++) {
    struct cotp__proc *next = p->next;
    cotp__runq_push(thief, p);
    p = next;
  }
  return first;
}

/* The deque (sched.h). */
static void deque_lock(struct cotp__deque *d) {
  while (atomic_flag_test_and_set_explicit(&d->lock, memory_order_acquire))
    ;
}

static void deque_unlock(struct cotp__deque *d) {
  atomic_flag_clear_explicit(&d->lock, memory_order_release);
}

uint32_t cotp__deque_len(const struct cotp__deque *d) {
  uint32_t t = atomic_load_explicit(&d->top, memory_order_relaxed);
  uint32_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
  /* a torn read can make b - t look huge: nothing, or at most the size */
  return b - t <= DEQUE_SIZE ? b - t : 0;
}

bool cotp__deque_push(struct cotp__deque *d, struct cotp__proc *p) {
  deque_lock(d);
  uint32_t t = atomic_load_explicit(&d->top, memory_order_relaxed);
  uint32_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
  bool room = b - t < DEQUE_SIZE;
  if (room) {
    d->buf[b % DEQUE_SIZE] = p;
    atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
  }
  deque_unlock(d);
  return room;
}

struct cotp__proc *cotp__deque_take(struct cotp__deque *d) {
  /* only the owner adds, so an empty look is the truth: no lock for it */
  if (atomic_load_explicit(&d->bottom, memory_order_relaxed) ==
      atomic_load_explicit(&d->top, memory_order_relaxed))
    return NULL;
  deque_lock(d);
  struct cotp__proc *p = NULL;
  uint32_t t = atomic_load_explicit(&d->top, memory_order_relaxed);
  uint32_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
  if (b != t) {
    p = d->buf[(b - 1) % DEQUE_SIZE];
    atomic_store_explicit(&d->bottom, b - 1, memory_order_relaxed);
  }
  deque_unlock(d);
  return p;
}

/* Takes up to max of d's oldest into out; returns how many. */
static uint32_t deque_take_oldest(struct cotp__deque *d, uint32_t max,
                                  struct cotp__proc **out) {
  deque_lock(d);
  uint32_t t = atomic_load_explicit(&d->top, memory_order_relaxed);
  uint32_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
  uint32_t n = b - t < max ? b - t : max;
  for (uint32_t i = 0; i < n; i++)
    out[i] = d->buf[(t + i) % DEQUE_SIZE];
  atomic_store_explicit(&d->top, t + n, memory_order_relaxed);
  deque_unlock(d);
  return n;
}

void cotp__deque_to_ring(struct cotp__sched *s) {
  if (cotp__deque_len(&s->deque) == 0)
    return;
  struct cotp__proc *all[DEQUE_SIZE];
  uint32_t n = deque_take_oldest(&s->deque, DEQUE_SIZE, all);
  for (uint32_t i = 0; i < n; i++)
    cotp__runq_push(s, all[i]);
}

struct cotp__proc *cotp__deque_steal(struct cotp__sched *thief,
                                     struct cotp__sched *victim) {
  uint32_t len = cotp__deque_len(&victim->deque);
  if (len == 0)
    return NULL;
  struct cotp__proc *batch[DEQUE_SIZE / 2];
  /* half, by the length seen; what is left by then, if less */
  uint32_t n = deque_take_oldest(&victim->deque, len - len / 2, batch);
  if (n == 0)
    return NULL;
  for (uint32_t i = 1; i < n; i++)
    cotp__runq_push(thief, batch[i]);
  return batch[0];
}

void cotp__pqueue_init(struct cotp__pqueue *q) {
  pthread_mutex_init(&q->lock, NULL);
  q->head = q->tail = NULL;
  atomic_init(&q->len, 0);
}

void cotp__pqueue_destroy(struct cotp__pqueue *q) {
  pthread_mutex_destroy(&q->lock);
}

void cotp__pqueue_push(struct cotp__pqueue *q, struct cotp__proc *p) {
  p->next = NULL;
  pthread_mutex_lock(&q->lock);
  if (q->tail)
    q->tail->next = p;
  else
    q->head = p;
  q->tail = p;
  atomic_fetch_add_explicit(&q->len, 1, memory_order_release);
  pthread_mutex_unlock(&q->lock);
}

struct cotp__proc *cotp__pqueue_pop(struct cotp__pqueue *q) {
  if (atomic_load_explicit(&q->len, memory_order_acquire) == 0)
    return NULL;
  pthread_mutex_lock(&q->lock);
  struct cotp__proc *p = q->head;
  if (p) {
    q->head = p->next;
    if (!q->head)
      q->tail = NULL;
    atomic_fetch_sub_explicit(&q->len, 1, memory_order_relaxed);
  }
  pthread_mutex_unlock(&q->lock);
  return p;
}
