/* SPDX-License-Identifier: Apache-2.0 */
/* bigmem.c: see bigmem.h. */
#include "bigmem.h"

#include <signal.h>
#include <sys/mman.h>

void *cotp__bigmem_reserve(size_t bytes) {
  void *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return map == MAP_FAILED ? NULL : map;
}

void cotp__bigmem_commit(void *from, size_t bytes) {
#if defined(MADV_POPULATE_WRITE)
  (void)madvise(from, bytes, MADV_POPULATE_WRITE); /* EINVAL before 5.14 */
#else
  (void)from, (void)bytes;
#endif
}

void cotp__bigmem_release(void *base, size_t bytes) {
  if (base)
    munmap(base, bytes);
}

/* --- committing ahead --- */

static void *commit_ahead(void *arg) {
  struct cotp__bigmem_ahead *a = arg;
  pthread_mutex_lock(&a->lock);
  for (;;) {
    while (!a->stop && !a->from)
      pthread_cond_wait(&a->asked, &a->lock);
    if (a->stop)
      break;
    char *from = a->from, *to = a->to;
    a->from = a->to = NULL;
    pthread_mutex_unlock(&a->lock);
    cotp__bigmem_commit(from, (size_t)(to - from));
    atomic_store_explicit(&a->done, to, memory_order_release);
    pthread_mutex_lock(&a->lock);
  }
  pthread_mutex_unlock(&a->lock);
  return NULL;
}

void cotp__bigmem_ahead_init(struct cotp__bigmem_ahead *a) {
  pthread_mutex_init(&a->lock, NULL);
  pthread_cond_init(&a->asked, NULL);
  a->from = a->to = NULL;
  atomic_init(&a->done, NULL);
  a->started = a->stop = false;
}

bool cotp__bigmem_ahead_ask(struct cotp__bigmem_ahead *a, void *from,
                            size_t bytes) {
  pthread_mutex_lock(&a->lock);
  if (!a->started) {
    /* no signal is for this thread: it never touches a guard page.  If it
     * cannot be started, a later ask tries again (one per stretch) */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    a->started = pthread_create(&a->thread, NULL, commit_ahead, a) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  }
  if (a->started) {
    a->from = from;
    a->to = (char *)from + bytes;
    pthread_cond_signal(&a->asked);
  }
  bool ok = a->started;
  pthread_mutex_unlock(&a->lock);
  return ok;
}

void cotp__bigmem_ahead_stop(struct cotp__bigmem_ahead *a) {
  pthread_mutex_lock(&a->lock);
  a->stop = true;
  pthread_cond_signal(&a->asked);
  bool started = a->started;
  pthread_mutex_unlock(&a->lock);
  if (started)
    pthread_join(a->thread, NULL);
  pthread_cond_destroy(&a->asked);
  pthread_mutex_destroy(&a->lock);
  a->started = false;
}
