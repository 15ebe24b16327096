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
 * CHUNK_BATCH operations at worst.  A thread's lists go to the depot when
 * it exits (a key destructor) or asks (a scheduler that stops).
 *
 * When the depot is empty too, a whole list is carved at once from the
 * arena: one reservation of address space, advised for huge pages and
 * handed out by a bump pointer (bigmem.h says why: a fresh 4 KB page is
 * the most expensive thing a spawn can meet, and a burst of a million
 * spawns needs a quarter of a gigabyte of saved stacks and copied
 * arguments).  Arena chunks are never given to free: past the depot's
 * bound they wait in a spill list of their class.  When the runtime stops
 * and every carved chunk is back, cotp__chunk_trim gives the pages back.
 * Bigger sizes, and every size when there is no arena, use malloc: a
 * build with AddressSanitizer or a run under Valgrind has no arena, so
 * that each chunk is a malloc block those tools can watch (a leaked
 * message is reported, a use after free caught).
 *
 * A chunk carries nothing: the caller passes the size back when freeing.
 * A list is linked through each chunk's first word; the depot links the
 * lists it holds through the second word of their first chunk.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "layout.h"
#include "platform/bigmem.h"

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

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

/* Address space only: committed as carved.  16 GB is 16 million chunks
 * of the largest class; past it, malloc. */
#define ARENA_BYTES ((size_t)16 << 30)

static struct arena {
  pthread_mutex_t lock; /* everything below */
  bool tried;           /* reserve was attempted (mem.base: it worked) */
  struct cotp__bigmem mem;
  char *next;           /* the bump pointer */
  size_t carved;        /* chunks carved since the last trim */
  void *spill[CLASSES]; /* free arena chunks the depot had no room for */
  uint32_t spill_n[CLASSES];
} arena = {.lock = PTHREAD_MUTEX_INITIALIZER};

static bool in_arena(const void *p) {
  const char *c = p;
  return arena.mem.base && c >= arena.mem.base &&
         c < arena.mem.base + arena.mem.bytes;
}

static bool arena_wanted(void) {
#if defined(COTP_ASAN)
  return false;
#else
  return !RUNNING_ON_VALGRIND;
#endif
}

/* A list of up to BATCH free chunks of class c, their number in *n: from
 * the spill, or carved; NULL if the arena has none to give. */
static void *arena_take(unsigned c, uint32_t *n) {
  size_t size = (size_t)(c + 1) * CLASS_BYTES;
  void *list = NULL;
  pthread_mutex_lock(&arena.lock);
  if (!arena.tried) {
    arena.tried = true;
    if (arena_wanted() && cotp__bigmem_reserve(&arena.mem, ARENA_BYTES) == 0)
      arena.next = arena.mem.base;
  }
  if (arena.spill[c]) {
    /* the spill is one list: take BATCH off its front */
    uint32_t k = 0;
    void *last = NULL;
    list = arena.spill[c];
    for (void *p = list; p && k < BATCH; p = *(void **)p, k++)
      last = p;
    arena.spill[c] = *(void **)last;
    *(void **)last = NULL;
    arena.spill_n[c] -= k;
    *n = k;
  } else if (arena.mem.base &&
             (size_t)(arena.mem.base + arena.mem.bytes - arena.next) >= BATCH * size) {
    char *at = arena.next;
    arena.next += BATCH * size;
    arena.carved += BATCH;
    for (unsigned i = 0; i < BATCH; i++)
      *(void **)(void *)(at + i * size) = i + 1 < BATCH ? at + (i + 1) * size : NULL;
    list = at;
    *n = BATCH;
  }
  pthread_mutex_unlock(&arena.lock);
  return list;
}
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

/* Frees a list of class c: malloc's chunks to malloc, the arena's to its
 * spill. */
static void free_list(unsigned c, void *p) {
  void *keep = NULL;
  uint32_t kept = 0;
  while (p) {
    void *next = *(void **)p;
    if (in_arena(p)) {
      *(void **)p = keep;
      keep = p;
      kept++;
    } else {
      free(p);
    }
    p = next;
  }
  if (!keep)
    return;
  pthread_mutex_lock(&arena.lock);
  for (void *q = keep;; q = *(void **)q)
    if (!*(void **)q) {
      *(void **)q = arena.spill[c];
      break;
    }
  arena.spill[c] = keep;
  arena.spill_n[c] += kept;
  pthread_mutex_unlock(&arena.lock);
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
    free_list(c, list);
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
    } else if (!(cache.head[c] = arena_take(c, &cache.n[c]))) {
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
        free_list(c, lists[i]);
    }
    cache.head[c] = cache.spare[c] = NULL;
    cache.n[c] = cache.spare_n[c] = 0;
  }
}

/* Counts the arena's chunks in a list linked through first words. */
static size_t count_arena(void *p) {
  size_t n = 0;
  for (; p; p = *(void **)p)
    n += in_arena(p);
  return n;
}

void cotp__chunk_trim(void) {
  pthread_mutex_lock(&arena.lock);
  if (!arena.mem.base || !arena.carved) {
    pthread_mutex_unlock(&arena.lock);
    return;
  }
  pthread_once(&depots_once, init);
  for (unsigned c = 0; c < CLASSES; c++)
    pthread_mutex_lock(&depots[c].lock);
  size_t back = 0;
  for (unsigned c = 0; c < CLASSES; c++) {
    for (void *l = depots[c].lists; l; l = ((void **)l)[1])
      back += count_arena(l);
    back += arena.spill_n[c];
  }
  /* a chunk that is not back is still in use (a heap made outside the
   * runtime, say) or in some thread's cache: keep everything */
  if (back == arena.carved) {
    for (unsigned c = 0; c < CLASSES; c++) {
      void *l = depots[c].lists;
      while (l) {
        void *next = ((void **)l)[1];
        for (void *p = l; p;) { /* malloc's chunks in the lists */
          void *q = *(void **)p;
          if (!in_arena(p))
            free(p);
          p = q;
        }
        l = next;
      }
      depots[c].lists = NULL;
      depots[c].n = 0;
      arena.spill[c] = NULL;
      arena.spill_n[c] = 0;
    }
    cotp__bigmem_decommit(&arena.mem, arena.mem.base,
                          (size_t)(arena.next - arena.mem.base));
    arena.next = arena.mem.base;
    arena.carved = 0;
  }
  for (unsigned c = CLASSES; c-- > 0;)
    pthread_mutex_unlock(&depots[c].lock);
  pthread_mutex_unlock(&arena.lock);
}

size_t cotp__chunk_arena_bytes(void) {
  pthread_mutex_lock(&arena.lock);
  size_t n = arena.mem.base ? (size_t)(arena.next - arena.mem.base) : 0;
  pthread_mutex_unlock(&arena.lock);
  return n;
}
