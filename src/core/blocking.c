/* SPDX-License-Identifier: Apache-2.0 */
/*
 * blocking.c: the pool that runs blocking C calls (cotp_blocking), the
 * BEAM's dirty schedulers.
 *
 * The calling process switches out with RQ_BLOCKING; its scheduler pins
 * its stack (the call may use memory on it), marks it BLOCKED and queues it
 * here.  A pool thread runs the call and makes the process RUNNABLE again
 * (it is the only thread allowed to: a message does not wake a BLOCKED
 * process).  Threads are started on demand, up to the configured number,
 * and stay until the runtime stops.
 */
#include <stdlib.h>

#include "runtime.h"

static struct {
  pthread_mutex_t lock;
  pthread_cond_t work;
  struct cotp__proc *head, *tail; /* queued calls, linked through ->next */
  pthread_t *threads;
  unsigned n, max, idle;
  bool stop;
} pool;

int cotp__blocking_start(unsigned threads) {
  pool.threads = calloc(threads, sizeof *pool.threads);
  if (!pool.threads)
    return COTP_ENOMEM;
  pthread_mutex_init(&pool.lock, NULL);
  pthread_cond_init(&pool.work, NULL);
  pool.head = pool.tail = NULL;
  pool.n = pool.idle = 0;
  pool.max = threads;
  pool.stop = false;
  return 0;
}

static void *worker(void *arg) {
  (void)arg;
  pthread_mutex_lock(&pool.lock);
  for (;;) {
    while (!pool.head && !pool.stop) {
      pool.idle++;
      pthread_cond_wait(&pool.work, &pool.lock);
      pool.idle--;
    }
    if (pool.stop)
      break;
    struct cotp__proc *p = pool.head;
    pool.head = p->next;
    if (!pool.head)
      pool.tail = NULL;
    pthread_mutex_unlock(&pool.lock);
    p->blocking->fn(p->blocking->arg);
    uint32_t blocked = PS_BLOCKED;
    if (atomic_compare_exchange_strong_explicit(&p->state, &blocked, PS_RUNNABLE,
                                                memory_order_acq_rel,
                                                memory_order_relaxed))
      cotp__make_ready(p, false);
    pthread_mutex_lock(&pool.lock);
  }
  pthread_mutex_unlock(&pool.lock);
  return NULL;
}

void cotp__blocking_submit(struct cotp__proc *p) {
  pthread_mutex_lock(&pool.lock);
  p->next = NULL;
  if (pool.tail)
    pool.tail->next = p;
  else
    pool.head = p;
  pool.tail = p;
  if (pool.idle == 0 && pool.n < pool.max &&
      pthread_create(&pool.threads[pool.n], NULL, worker, NULL) == 0)
    pool.n++;
  pthread_cond_signal(&pool.work);
  pthread_mutex_unlock(&pool.lock);
}

void cotp__blocking_stop(void) {
  pthread_mutex_lock(&pool.lock);
  pool.stop = true;
  pthread_cond_broadcast(&pool.work);
  pthread_mutex_unlock(&pool.lock);
  for (unsigned i = 0; i < pool.n; i++)
    pthread_join(pool.threads[i], NULL);
  free(pool.threads);
  pool.threads = NULL;
  pthread_cond_destroy(&pool.work);
  pthread_mutex_destroy(&pool.lock);
}

int cotp_blocking(void (*fn)(void *arg), void *arg) {
  struct cotp__proc *p = cotp__proc_self();
  if (!p)
    return COTP_ENOTPROC;
  if (!fn)
    return COTP_EINVAL;
  /* on this stack, which the call pins: the pool's thread reads it */
  struct cotp__blocking_call call = {fn, arg};
  p->blocking = &call;
  cotp__switch_out(p, RQ_BLOCKING);
  p->blocking = NULL;
  cotp__reduce(p, 1);
  return 0;
}
