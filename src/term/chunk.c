/* SPDX-License-Identifier: Apache-2.0 */
/*
 * chunk.c: a per-thread cache of small memory chunks, for messages and
 * heap blocks.
 *
 * Sending a message allocates it, receiving it frees it: at millions of
 * messages a second, malloc and free were a quarter of the cost of a
 * message.  Small allocations (up to 1 KB, in classes of 64) are
 * served from a free list of the calling thread, and freed chunks go to
 * the list of the thread that frees them, whichever it is (a message is
 * allocated by its sender and freed by its receiver).  Each list is capped;
 * beyond the cap, and for bigger sizes, malloc and free are used.  A
 * thread's lists go back to malloc when it exits (a key destructor) or
 * when it asks (a scheduler that stops).
 *
 * The caller passes the size back when freeing; the chunk itself carries
 * nothing.
 */
#include <pthread.h>
#include <stdlib.h>

#include "layout.h"

#define CLASSES CHUNK_CLASSES
#define CLASS_BYTES CHUNK_CLASS_BYTES
#define CAP CHUNK_CAP

__thread struct cotp__chunk_cache cotp__chunk_tls
    __attribute__((tls_model("initial-exec")));
#define cache cotp__chunk_tls
static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void flush_at_exit(void *unused) {
  (void)unused;
  cotp__chunk_flush();
}

static void make_key(void) { pthread_key_create(&key, flush_at_exit); }

static unsigned class_of(size_t bytes) {
  return (unsigned)((bytes + CLASS_BYTES - 1) / CLASS_BYTES) - 1;
}

void *cotp__chunk_alloc_slow(size_t bytes) {
  if (bytes == 0 || bytes > CLASSES * CLASS_BYTES)
    return malloc(bytes);
  unsigned c = class_of(bytes);
  void *p = cache.head[c];
  if (p) {
    cache.head[c] = *(void **)p;
    cache.n[c]--;
    return p;
  }
  return malloc((c + 1) * CLASS_BYTES);
}

void cotp__chunk_free_slow(void *p, size_t bytes) {
  if (!p)
    return;
  if (bytes == 0 || bytes > CLASSES * CLASS_BYTES) {
    free(p);
    return;
  }
  unsigned c = class_of(bytes);
  if (cache.n[c] >= CAP) {
    free(p);
    return;
  }
  if (!cache.registered) {
    pthread_once(&once, make_key);
    pthread_setspecific(key, &cache);
    cache.registered = true;
  }
  *(void **)p = cache.head[c];
  cache.head[c] = p;
  cache.n[c]++;
}

void cotp__chunk_flush(void) {
  for (unsigned c = 0; c < CLASSES; c++) {
    while (cache.head[c]) {
      void *p = cache.head[c];
      cache.head[c] = *(void **)p;
      free(p);
    }
    cache.n[c] = 0;
  }
}
