/* SPDX-License-Identifier: Apache-2.0 */
/*
 * heap.c: arenas that terms are built in.
 *
 * A heap is a LIFO chain of blocks; allocation bumps a pointer in the
 * newest block and, when it is full, pushes a block twice as big (up to
 * BLOCK_MAX words, or exactly the request when that is bigger).  Nothing is
 * freed term by term.  A mark records (block, used, offheap head); releasing
 * it frees the newer blocks and rewinds the marked one.
 *
 * Shared binaries and resources live outside heaps.  The object in a heap
 * that refers to one is on its block's offheap list (newest first), so that
 * freeing a block, or rewinding it to a mark, drops exactly the references
 * taken since.  Keeping a list per block, rather than one per heap, is what
 * lets a whole block (a received message, later) move into another heap.
 *
 * Errors: the first failure of a constructor is recorded in the heap with a
 * message; later ones are dropped, so the message names the root cause.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "layout.h"

#define BLOCK_MIN 32          /* words: 256 bytes */
#define BLOCK_MAX (8u * 1024) /* words: 64 KB */
#define ERRMSG_SIZE 192

cotp_heap *cotp_heap_new(void) { return calloc(1, sizeof(cotp_heap)); }

static void release_offheap(uint64_t *head, const uint64_t *stop) {
  while (head != stop) {
    uint64_t *next = (uint64_t *)(uintptr_t)head[1];
    cotp__offheap_release(head);
    head = next;
  }
}

static void block_free(cotp_heap *h, struct cotp__block *b) {
  if (b->offheap)
    release_offheap(b->offheap, NULL);
  h->bytes -= sizeof *b + (size_t)b->cap * 8;
  if (!h->spare && b->mem == b && b->cap <= BLOCK_MAX) {
    b->offheap = NULL;
    h->spare = b; /* an ordinary block, not a message: keep it */
    return;
  }
  cotp__chunk_free(b->mem, b->mem_size);
}

void cotp__block_release_offheap(struct cotp__block *b) {
  release_offheap(b->offheap, NULL);
  b->offheap = NULL;
}

void cotp__heap_adopt(cotp_heap *h, struct cotp__block *b) {
  b->prev = h->top;
  h->top = b;
  h->bytes += sizeof *b + (size_t)b->cap * 8;
}

void cotp_heap_free(cotp_heap *h) {
  if (!h)
    return;
  cotp__heap_close(h);
  free(h);
}

void cotp__heap_close(cotp_heap *h) {
  while (h->top) {
    struct cotp__block *b = h->top;
    h->top = b->prev;
    block_free(h, b);
  }
  if (h->spare)
    cotp__chunk_free(h->spare->mem, h->spare->mem_size);
  if (h->errmsg) /* most heaps never fail: no call for them */
    free(h->errmsg);
  *h = (cotp_heap){0};
}

uint64_t *cotp__heap_alloc_slow(cotp_heap *h, size_t words) {
  if (!h)
    return NULL;
  uint64_t *p = cotp__heap_try_alloc(h, words);
  if (!p)
    cotp__heap_fail(h, COTP_ENOMEM, "heap: out of memory allocating %zu words",
                    words);
  return p;
}

/* Pushes a new block of cap words onto h, words of it taken. */
static uint64_t *push_block(cotp_heap *h, size_t cap, size_t words) {
  struct cotp__block *b = h->top;
  if (cap > UINT32_MAX)
    return NULL; /* over 32 GB in one term: no memory for it */
  struct cotp__block *nb = cotp__chunk_alloc(sizeof *nb + cap * 8);
  if (!nb)
    return NULL;
  nb->prev = b;
  nb->cap = (uint32_t)cap;
  nb->used = (uint32_t)words;
  nb->offheap = NULL;
  nb->mem = nb;
  nb->mem_size = sizeof *nb + cap * 8;
  h->top = nb;
  h->bytes += sizeof *nb + cap * 8;
  return nb->words;
}

uint64_t *cotp__heap_grow(cotp_heap *h, size_t words) {
  struct cotp__block *b = h->top;
  struct cotp__block *spare = h->spare;
  if (spare && spare->cap >= words) {
    h->spare = NULL;
    spare->prev = b;
    spare->used = (uint32_t)words; /* at most its cap */
    spare->offheap = NULL;
    h->top = spare;
    h->bytes += sizeof *spare + (size_t)spare->cap * 8;
    return spare->words;
  }
  size_t cap = b ? b->cap * 2 : BLOCK_MIN;
  if (cap < BLOCK_MIN)
    cap = BLOCK_MIN; /* after an adopted message, or a kept term */
  if (cap > BLOCK_MAX)
    cap = BLOCK_MAX;
  if (cap < words)
    cap = words;
  return push_block(h, cap, words);
}

uint64_t *cotp__heap_grow_exact(cotp_heap *h, size_t words) {
  /* the chunk's size class may leave a few words over: they are the block's */
  size_t head = sizeof(struct cotp__block);
  return push_block(h, (cotp__chunk_room(head + words * 8) - head) / 8, words);
}

void cotp__heap_pop_empty(cotp_heap *h) {
  struct cotp__block *b = h->top;
  h->top = b->prev;
  block_free(h, b);
}

void cotp__heap_link_offheap(cotp_heap *h, uint64_t *p) {
  cotp__block_link_offheap(h->top, p);
}

cotp_heap_mark cotp_heap_mark_now(cotp_heap *h) {
  struct cotp__block *b = h->top;
  return (cotp_heap_mark){
      .block = b, .used = b ? b->used : 0, .offheap = b ? b->offheap : NULL};
}

__attribute__((noinline)) static void release_blocks(cotp_heap *h,
                                                   cotp_heap_mark mark);

/* The two releases of a loop that marks once and builds a term per turn
 * return at once, with no frame: back to the marked point of the same
 * block, and back to an empty heap whose one block stays.  So does the
 * release of a heap that holds no block at all (a handler's turn that
 * built nothing there, as a GenServer call's answer of an integer). */
void cotp_heap_release(cotp_heap *h, cotp_heap_mark mark) {
  struct cotp__block *b = h->top;
  if (!b)
    return; /* nothing was built since any mark */
  if (!b->offheap) {
    if (b == mark.block && !mark.offheap) {
      b->used = (uint32_t)mark.used;
      return;
    }
    if (!mark.block && !b->prev && b->mem == b && b->cap <= BLOCK_MAX) {
      b->used = 0;
      return;
    }
  }
  release_blocks(h, mark);
}

static void release_blocks(cotp_heap *h, cotp_heap_mark mark) {
  struct cotp__block *b = h->top;
  while (b != mark.block) {
    struct cotp__block *prev = b->prev;
    if (!prev && b->mem == b && b->cap <= BLOCK_MAX) {
      /* Back to an empty heap: keep its first block, emptied, so that a
       * loop that marks an empty heap and builds a term per iteration
       * allocates by bumping.  Idle processes give it back
       * (cotp__heap_trim). */
      if (b->offheap) {
        release_offheap(b->offheap, NULL);
        b->offheap = NULL;
      }
      b->used = 0;
      h->top = b;
      return;
    }
    block_free(h, b);
    b = prev;
  }
  h->top = b;
  if (!b)
    return;
  if (b->offheap != mark.offheap) {
    release_offheap(b->offheap, mark.offheap);
    b->offheap = mark.offheap;
  }
  b->used = (uint32_t)mark.used; /* it was b's */
}

void cotp__heap_trim_slow(cotp_heap *h) {
  struct cotp__block *b = h->top;
  if (b && !b->prev && b->used == 0 && b->mem == b) {
    h->top = NULL;
    h->bytes -= sizeof *b + (size_t)b->cap * 8;
    cotp__chunk_free(b, b->mem_size);
  }
  if (h->spare) {
    cotp__chunk_free(h->spare->mem, h->spare->mem_size);
    h->spare = NULL;
  }
}

void cotp__heap_pass_on(cotp_heap *from, cotp_heap *to) {
  struct cotp__block *b = from->top;
  if (b && !b->prev && b->used == 0 && b->mem == b && !to->top) {
    size_t bytes = sizeof *b + (size_t)b->cap * 8;
    from->top = NULL;
    from->bytes -= bytes;
    to->top = b;
    to->bytes += bytes;
  }
  if (from->spare && !to->spare) {
    to->spare = from->spare;
    from->spare = NULL;
  }
  cotp__heap_trim(from);
}

size_t cotp_heap_bytes(const cotp_heap *h) { return h ? h->bytes : 0; }

static void heap_vfail(cotp_heap *h, int code, const char *fmt, va_list ap) {
  if (!h || h->err)
    return;
  h->err = code;
  h->errmsg = malloc(ERRMSG_SIZE);
  if (!h->errmsg)
    return; /* the code alone will have to do */
  vsnprintf(h->errmsg, ERRMSG_SIZE, fmt, ap);
}

void cotp__heap_fail(cotp_heap *h, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  heap_vfail(h, code, fmt, ap);
  va_end(ap);
}

void cotp_heap_fail(cotp_heap *h, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  heap_vfail(h, code, fmt ? fmt : "", ap);
  va_end(ap);
}

int cotp_heap_error(const cotp_heap *h) { return h ? h->err : COTP_EINVAL; }

const char *cotp_heap_error_message(const cotp_heap *h) {
  if (!h)
    return "no heap";
  if (!h->err)
    return "";
  return h->errmsg ? h->errmsg : cotp_strerror(h->err);
}

void cotp_heap_clear_error(cotp_heap *h) {
  if (h) {
    h->err = 0;
    free(h->errmsg);
    h->errmsg = NULL;
  }
}
