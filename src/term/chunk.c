/* SPDX-License-Identifier: Apache-2.0 */
/*
 * chunk.c: small memory chunks for messages, heap blocks and saved stacks.
 *
 * Sending a message allocates it, receiving it frees it: at millions of
 * messages a second, malloc and free were a quarter of the cost of a
 * message.  Small allocations (up to 1 KB, in classes of 64 bytes) come
 * from lists of the calling thread, and freed chunks go to the lists of
 * the thread that frees them, whichever it is.
 *
 * A message is allocated by its sender and freed by its receiver, so on
 * two schedulers one thread's lists run dry while the other's overflow.
 * The lists are therefore magazines (Bonwick's): each thread holds, per
 * class, a loaded list of at most CHUNK_BATCH chunks and a spare one, and
 * trades whole lists with a shared depot under a lock, once every
 * CHUNK_BATCH operations at worst.  The depot keeps a bounded number of
 * lists; past that, and for bigger sizes, malloc and free are used.  A
 * thread's lists go to the depot when it exits (a key destructor) or asks
 * (a scheduler that stops).
 *
 * A chunk carries nothing: the caller passes the size back when freeing.
 * A list is linked through each chunk's first word; the depot links the
 * lists it holds through the second word of their first chunk.
 */
#include <pthread.h>
#include <stdlib.h>

#include "layout.h"

#define CLASSES CHUNK_CLASSES
#define CLASS_BYTES CHUNK_CLASS_BYTES
#define BATCH CHUNK_BATCH
#define DEPOT_MAX 64 /* full lists kept per class: 4096 chunks */

__thread struct cotp__chunk_cache cotp__chunk_tls
    __attribute__((tls_model("initial-exec")));
#define cache cotp__chunk_tls

static struct depot {
  pthread_mutex_t lock;
  void *lists; /* full lists of BATCH chunks */
  unsigned n;
} depots[CLASSES];
static pthread_once_t depots_once = PTHREAD_ONCE_INIT;
static pthread_key_t key;

static void flush_at_exit(void *unused) {
  (void)unused;
  cotp__chunk_flush();
}

static void init(void) {
  for (unsigned c = 0; c < CLASSES; c++)
    pthread_mutex_init(&depots[c].lock, NULL);
  pthread_key_create(&key, flush_at_exit);
}

static void register_thread(void) {
  if (cache.registered)
    return;
  pthread_once(&depots_once, init);
  pthread_setspecific(key, &cache);
  cache.registered = true;
}

static unsigned class_of(size_t bytes) {
  return (unsigned)((bytes + CLASS_BYTES - 1) / CLASS_BYTES) - 1;
}

static void free_list(void *p) {
  while (p) {
    void *next = *(void **)p;
    free(p);
    p = next;
  }
}

/* Gives a full list to the depot, or back to malloc if the depot is full. */
static void depot_put(unsigned c, void *list) {
  struct depot *d = &depots[c];
  pthread_mutex_lock(&d->lock);
  bool kept = d->n < DEPOT_MAX;
  if (kept) {
    ((void **)list)[1] = d->lists;
    d->lists = list;
    d->n++;
  }
  pthread_mutex_unlock(&d->lock);
  if (!kept)
    free_list(list);
}

/* A full list from the depot, or NULL. */
static void *depot_take(unsigned c) {
  struct depot *d = &depots[c];
  pthread_mutex_lock(&d->lock);
  void *list = d->lists;
  if (list) {
    d->lists = ((void **)list)[1];
    d->n--;
  }
  pthread_mutex_unlock(&d->lock);
  return list;
}

void *cotp__chunk_alloc_slow(size_t bytes) {
  if (bytes == 0 || bytes > CLASSES * CLASS_BYTES)
    return malloc(bytes);
  register_thread();
  unsigned c = class_of(bytes);
  if (!cache.head[c]) {
    if (cache.spare_n[c]) { /* the spare is full: load it */
      cache.head[c] = cache.spare[c];
      cache.n[c] = cache.spare_n[c];
      cache.spare[c] = NULL;
      cache.spare_n[c] = 0;
    } else if ((cache.head[c] = depot_take(c))) {
      cache.n[c] = BATCH;
    } else {
      return malloc((c + 1) * CLASS_BYTES);
    }
  }
  void *p = cache.head[c];
  cache.head[c] = *(void **)p;
  cache.n[c]--;
  return p;
}

void cotp__chunk_free_slow(void *p, size_t bytes) {
  if (!p)
    return;
  if (bytes == 0 || bytes > CLASSES * CLASS_BYTES) {
    free(p);
    return;
  }
  register_thread();
  unsigned c = class_of(bytes);
  if (cache.n[c] >= BATCH) {
    /* the loaded list is full: it becomes the spare, the spare (full)
     * goes to the depot, and an empty list is loaded */
    if (cache.spare_n[c])
      depot_put(c, cache.spare[c]);
    cache.spare[c] = cache.head[c];
    cache.spare_n[c] = cache.n[c];
    cache.head[c] = NULL;
    cache.n[c] = 0;
  }
  *(void **)p = cache.head[c];
  cache.head[c] = p;
  cache.n[c]++;
}

void cotp__chunk_flush(void) {
  for (unsigned c = 0; c < CLASSES; c++) {
    void *lists[2] = {cache.head[c], cache.spare[c]};
    uint32_t ns[2] = {cache.n[c], cache.spare_n[c]};
    for (int i = 0; i < 2; i++) {
      if (ns[i] == BATCH && cache.registered)
        depot_put(c, lists[i]);
      else
        free_list(lists[i]);
    }
    cache.head[c] = cache.spare[c] = NULL;
    cache.n[c] = cache.spare_n[c] = 0;
  }
}
