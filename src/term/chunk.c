/* SPDX-License-Identifier: Apache-2.0 */
/*
 * chunk.c: small memory chunks for messages, heap blocks and saved stacks.
 *
 * Sending a message allocates it, receiving it frees it: at millions of
 * messages a second, malloc and free were a quarter of the cost of a
 * message.  Small allocations (up to 1 KB, in classes of 32 bytes) come
 * from lists of the calling thread, and freed chunks go to the lists of
 * the thread that frees them, whichever it is.
 *
 * A message is allocated by its sender and freed by its receiver, so on
 * two schedulers one thread's lists run dry while the other's overflow.
 * The lists are therefore magazines (Bonwick's): each thread holds, per
 * class, a loaded list of at most CHUNK_BATCH chunks and a spare one, and
 * trades whole lists with a shared depot under a lock, once every
 * CHUNK_BATCH operations at worst.  A thread's lists go to the depot when
 * it exits (a key destructor) or asks (a scheduler that stops).
 *
 * When the thread's lists and the depot are empty, a whole list is carved
 * from one slab of CHUNK_BATCH chunks.  Taking them one malloc at a time
 * cost a Task.async + await about 1,300 instructions of its 8,200: with
 * 100,000 tasks outstanding the lists run dry, and at the await they
 * overflow.  The price is that chunk memory is never given back: what a
 * spike of messages took stays in the depot for the next one, as most of
 * it would stay in malloc's bins.  ASan builds keep one malloc per chunk,
 * so that every chunk has its own red zones.  Sizes over 1 KB go to
 * malloc.
 *
 * Slabs are cut one after the other from one reservation of address
 * space (platform/bigmem.h), whose pages come on first touch.  They came
 * from malloc before, and a scheduler thread other than the main one has
 * an arena of malloc's own that grows with an mprotect call per step:
 * the spawn benchmark made 14,108 of them and the task benchmark 926,
 * each holding the address space's lock for writing while the other core
 * took page faults in the same process.  From the reservation each makes
 * none beyond the runtime's own few (benchmarks.md, twenty-second
 * session).  A program whose reservation is
 * refused (a strict overcommit policy) or used up gets its slabs from
 * malloc, listed so that their memory stays reachable (LeakSanitizer).
 *
 * A chunk carries nothing: the caller passes the size back when freeing.
 * A list is linked through each chunk's first word; the depot links the
 * lists it holds through the second word of their first chunk.
 */
#include <pthread.h>
#include <stdlib.h>

#include "layout.h"
#include "platform/bigmem.h"

#define CLASSES CHUNK_CLASSES
#define CLASS_BYTES CHUNK_CLASS_BYTES
#define BATCH CHUNK_BATCH
#if defined(COTP_ASAN)
#define SLABS 0
#define DEPOT_MAX 64 /* full lists kept per class: 4096 chunks */
#else
#define SLABS 1
#define DEPOT_MAX UINT32_MAX /* slab chunks cannot go back to malloc */
#endif

__thread struct cotp__chunk_cache cotp__chunk_tls
    __attribute__((tls_model("initial-exec")));
#define cache cotp__chunk_tls

/* A list in the depot: its first chunk links to the next list (word 1)
 * and says how many chunks it holds (word 2: a chunk is 32 bytes at
 * least).  Lists are full but for those a stopping thread gave back. */
static struct depot {
  pthread_mutex_t lock;
  void *lists;
  uint32_t n;
} depots[CLASSES];
static pthread_once_t depots_once = PTHREAD_ONCE_INIT;
static pthread_key_t key;

#if SLABS
/* Every slab from malloc, so that their memory stays reachable
 * (LeakSanitizer). */
static struct slab {
  struct slab *next;
  void *pad; /* chunks start 16-byte aligned, as malloc's do */
} *slabs;
static pthread_mutex_t slabs_lock = PTHREAD_MUTEX_INITIALIZER;

/* The reservation slabs are cut from: 8 GB of address space, reserved at
 * the first carve and kept for the life of the program, as chunks are. */
#define ARENA_BYTES ((size_t)8 << 30)
static struct {
  char *next, *end; /* both NULL: not reserved (yet, or refused) */
  bool tried;
} arena;

/* bytes (a multiple of 32) from the reservation, or NULL; under
 * slabs_lock */
static void *arena_cut(size_t bytes) {
  if (!arena.tried) {
    arena.tried = true;
    if ((arena.next = cotp__bigmem_reserve(ARENA_BYTES)))
      arena.end = arena.next + ARENA_BYTES;
  }
  if ((size_t)(arena.end - arena.next) < bytes)
    return NULL;
  void *at = arena.next;
  arena.next += bytes;
  return at;
}

static void *slab_alloc(size_t bytes) {
  pthread_mutex_lock(&slabs_lock);
  char *at = arena_cut(bytes);
  if (!at) {
    struct slab *s = malloc(sizeof *s + bytes);
    if (s) {
      s->next = slabs;
      slabs = s;
      at = (char *)(s + 1);
    }
  }
  pthread_mutex_unlock(&slabs_lock);
  return at;
}
#endif

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

/* Gives a list of n chunks to the depot (back to malloc past its bound,
 * which only ASan builds have). */
static void depot_put(unsigned c, void *list, uint32_t n) {
  if (!list)
    return;
  struct depot *d = &depots[c];
  pthread_mutex_lock(&d->lock);
  bool kept = d->n < DEPOT_MAX;
  if (kept) {
    ((void **)list)[1] = d->lists;
    ((uintptr_t *)list)[2] = n;
    d->lists = list;
    d->n++;
  }
  pthread_mutex_unlock(&d->lock);
  if (!kept)
    free_list(list);
}

/* A list from the depot (its length in *n), or NULL. */
static void *depot_take(unsigned c, uint32_t *n) {
  struct depot *d = &depots[c];
  pthread_mutex_lock(&d->lock);
  void *list = d->lists;
  if (list) {
    d->lists = ((void **)list)[1];
    *n = (uint32_t)((uintptr_t *)list)[2];
    d->n--;
  }
  pthread_mutex_unlock(&d->lock);
  return list;
}

/* A fresh list of BATCH chunks of class c, or NULL. */
static void *carve(unsigned c) {
#if SLABS
  size_t size = (size_t)(c + 1) * CLASS_BYTES;
  char *at = slab_alloc(BATCH * size);
  if (!at)
    return NULL;
  for (unsigned i = 0; i + 1 < BATCH; i++)
    *(void **)(at + i * size) = at + (i + 1) * size;
  *(void **)(at + (BATCH - 1) * size) = NULL;
  return at;
#else
  (void)c;
  return NULL;
#endif
}

void *cotp__chunk_alloc_slow(size_t bytes) {
  if (bytes == 0 || bytes > CLASSES * CLASS_BYTES)
    return malloc(bytes);
  register_thread();
  unsigned c = class_of(bytes);
  if (!cache.head[c]) {
    uint32_t n;
    if (cache.spare_n[c]) { /* the spare is full: load it */
      cache.head[c] = cache.spare[c];
      cache.n[c] = cache.spare_n[c];
      cache.spare[c] = NULL;
      cache.spare_n[c] = 0;
    } else if ((cache.head[c] = depot_take(c, &n))) {
      cache.n[c] = n;
    } else if ((cache.head[c] = carve(c))) {
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
      depot_put(c, cache.spare[c], cache.spare_n[c]);
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
      /* slab chunks go to the depot whatever their number; with one
       * malloc each, only full lists are worth keeping */
      if (cache.registered && ns[i] && (SLABS || ns[i] == BATCH))
        depot_put(c, lists[i], ns[i]);
      else
        free_list(lists[i]);
    }
    cache.head[c] = cache.spare[c] = NULL;
    cache.n[c] = cache.spare_n[c] = 0;
  }
}

/* --- the public face (cotp/common.h) --- */

void *cotp_mem_alloc(size_t bytes) {
  return bytes ? cotp__chunk_alloc(bytes) : NULL;
}

void cotp_mem_free(void *p, size_t bytes) {
  if (p)
    cotp__chunk_free(p, bytes);
}
