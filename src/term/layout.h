/* SPDX-License-Identifier: Apache-2.0 */
/*
 * layout.h: how terms are laid out in memory.  Private to src/term (and to
 * tests that check sharing); everything else goes through cotp/term.h.
 *
 * A term is a 64-bit word whose low three bits are a tag:
 *
 *   000 boxed    pointer to a header word (8-aligned); the word 0 is NONE
 *   001 list     pointer | 1 to a cons cell of two words, head and tail
 *   010 int      61-bit two's-complement integer, shifted left 3
 *   011 atom     index in the atom table, shifted left 3
 *   100 pid      the 60 bits of a cotp_pid, shifted left 3
 *   101 ref      61-bit reference number, shifted left 3
 *   110 nil      [] (the only value with this tag)
 *
 * A boxed object starts with a header word: tag 111 in the low 3 bits, the
 * kind in the next 4, a count above them (arity, byte size, pairs).  Kinds
 * and the words that follow:
 *
 *   TUPLE    arity elements
 *   INT64    one int64_t, only for integers outside the 61-bit range
 *   FLOAT    one double
 *   HEAPBIN  size bytes inline, padded to a word (size < COTP_REFC_BINARY_MIN)
 *   REFCBIN  offheap link, struct cotp__bin *, const uint8_t *data
 *   MAP      n keys in key order, then n values
 *   RESOURCE offheap link, struct cotp_resource *
 *
 * Invariants:
 *  1. Integers are canonical: one that fits in 61 bits is never boxed, so
 *     exact equality of integers is equality of words or of boxed values.
 *  2. Map keys are sorted by cotp__key_compare and unique.
 *  3. Every REFCBIN and RESOURCE object of a heap is on the offheap list of
 *     the block it lives in and holds one reference; freeing the block (or
 *     releasing a mark past it) drops that reference.
 *  4. Terms are immutable once a constructor returns them.
 */
#ifndef COTP_TERM_LAYOUT_H
#define COTP_TERM_LAYOUT_H

#include <stdatomic.h>
#include <string.h>

#include "cotp/term.h"

/*
 * The out-of-line half of a function whose common case is inline (the
 * *_slow functions).  Link-time optimisation would otherwise inline it
 * back into the functions that use the fast path, and its register needs
 * then make each of them save six registers on entry, common case or not:
 * cotp__msg_free took 43 instructions to push one chunk on a list.
 */
#define COTP__SLOW_PATH __attribute__((noinline))

#define TAG_MASK 7u
#define TAG_OF(t) ((unsigned)((t).w & TAG_MASK))

/* Whether t lives in no heap: an integer that fits in a word, an atom, a
 * pid, a reference or [].  Immediates are canonical (invariant 1 below
 * for integers; the others have one form only), so two are the same term
 * exactly when their words are equal. */
static inline bool cotp__is_immediate(cotp_term t) {
  return TAG_OF(t) > COTP__TAG_LIST;
}

enum cotp__box_kind {
  BOX_TUPLE = 0,
  BOX_INT64 = 1,
  BOX_FLOAT = 2,
  BOX_HEAPBIN = 3,
  BOX_REFCBIN = 4,
  BOX_MAP = 5,
  BOX_RESOURCE = 6
};

/* A header word has the low bits 111, a tag no term word has, so that a
 * linear scan of a heap (the copier's) can tell headers from terms. */
#define HDR_TAG 7u
#define HDR_SHIFT COTP__HDR_SHIFT
#define HDR_MAKE(kind, n)                                                    \
  (((uint64_t)(n) << HDR_SHIFT) | ((uint64_t)(kind) << 3) | HDR_TAG)
_Static_assert(HDR_MAKE(BOX_TUPLE, 0) == COTP__HDR_TUPLE,
               "cotp/term.h's inline tuple accessors know the tuple header");
#define HDR_KIND(h) ((unsigned)(((h) >> 3) & 15u))
#define HDR_COUNT(h) ((size_t)((h) >> HDR_SHIFT))
#define IS_HDR(w) (((w) & 7u) == HDR_TAG)
#define HDR_COUNT_MAX (((uint64_t)1 << (64 - HDR_SHIFT)) - 1)

#define SMALL_MIN (-((int64_t)1 << 60))
#define SMALL_MAX (((int64_t)1 << 60) - 1)

/* Words a heap binary of n bytes takes, header included. */
#define HEAPBIN_WORDS(n) (1 + ((n) + 7) / 8)
#define REFCBIN_WORDS 4
#define RESOURCE_WORDS 3

/* A shared binary buffer.  Written once before it is published; only the
 * count changes afterwards. */
struct cotp__bin {
  _Atomic size_t refs;
  size_t size;
  uint8_t data[];
};

struct cotp_resource {
  _Atomic size_t refs;
  void *object;
  cotp_resource_dtor *dtor;
  uint64_t id; /* printed in #Reference<...>, unique per resource */
};

/* A heap is a LIFO chain of blocks; allocation bumps in the newest one. */
struct cotp__block {
  struct cotp__block *prev;
  uint32_t cap;      /* words: a block holds at most UINT32_MAX (32 GB) */
  uint32_t used;     /* words */
  uint64_t *offheap; /* newest REFCBIN/RESOURCE header in this block */
  void *mem;         /* what to free: the block, or the message it is in */
  size_t mem_size;   /* bytes allocated at mem (cotp__chunk_free) */
  uint64_t words[];
};

/* Every process embeds one, so it is kept small: the message of an error
 * is allocated when the error happens. */
struct cotp_heap {
  struct cotp__block *top;
  struct cotp__block *spare; /* the last block a release gave up, kept for
                                the next allocation (a loop that builds a
                                term per iteration reuses one block) */
  size_t bytes;
  int err;
  char *errmsg; /* NULL until an error, or if no memory was left for it */
};

/* --- words and pointers --- */

static inline uint64_t *box_ptr(cotp_term t) { return (uint64_t *)(uintptr_t)t.w; }
static inline cotp_term box_term(const uint64_t *p) {
  return (cotp_term){(uint64_t)(uintptr_t)p};
}
static inline uint64_t *cons_ptr(cotp_term t) {
  return (uint64_t *)(uintptr_t)(t.w - COTP__TAG_LIST);
}
static inline cotp_term cons_term(const uint64_t *p) {
  return (cotp_term){(uint64_t)(uintptr_t)p | COTP__TAG_LIST};
}
static inline bool is_boxed(cotp_term t) {
  return TAG_OF(t) == COTP__TAG_BOXED && t.w != 0;
}
static inline unsigned box_kind(cotp_term t) { return HDR_KIND(*box_ptr(t)); }
static inline bool is_box_of(cotp_term t, unsigned kind) {
  return is_boxed(t) && box_kind(t) == kind;
}
static inline uint64_t imm_value(cotp_term t) { return t.w >> COTP__TAG_BITS; }
static inline int64_t small_value(cotp_term t) {
  return (int64_t)t.w >> COTP__TAG_BITS; /* arithmetic shift keeps the sign */
}
static inline cotp_term small_term(int64_t v) {
  return (cotp_term){((uint64_t)v << COTP__TAG_BITS) | COTP__TAG_INT};
}
static inline double float_value(cotp_term t) {
  double d;
  memcpy(&d, box_ptr(t) + 1, sizeof d);
  return d;
}
static inline struct cotp__bin *refcbin_bin(const uint64_t *p) {
  return (struct cotp__bin *)(uintptr_t)p[2];
}
static inline const uint8_t *refcbin_data(const uint64_t *p) {
  return (const uint8_t *)(uintptr_t)p[3];
}
static inline struct cotp_resource *resource_of(const uint64_t *p) {
  return (struct cotp_resource *)(uintptr_t)p[2];
}

/* --- copying (copy.c) --- */

/* Words of heap a copy of t needs. */
size_t cotp__term_words(cotp_term t);
/* Copies t into dst, which has exactly cotp__term_words(t) words; shared
 * objects are retained and put on blk's offheap list.  Cannot fail. */
cotp_term cotp__term_copy_into(uint64_t *dst, cotp_term t,
                               struct cotp__block *blk);
/* One-pass copy of a small term (no refc binaries or resources, at most
 * COTP__SCRATCH_WORDS words) into buf: returns the root, with *words used
 * and *mask marking the words that point into buf; COTP_NONE when t is not
 * small (or is an immediate: check points() first).  Then
 * cotp__term_move_scratch moves the words to dst and fixes the pointers,
 * and the root moves by dst - buf. */
#define COTP__SCRATCH_WORDS 64
cotp_term cotp__term_copy_scratch(uint64_t *buf, cotp_term t, size_t *words,
                                  uint64_t *mask);
void cotp__term_move_scratch(uint64_t *dst, const uint64_t *buf, size_t words,
                             uint64_t mask);
/* Copies boxed or list t into dst, which has room for cap words, in one
 * pass: returns the root, with *words used, or COTP_NONE when the copy
 * does not fit or t holds a refc binary or a resource. */
cotp_term cotp__term_copy_bounded(uint64_t *dst, size_t cap, cotp_term t,
                                  size_t *words);

/* --- small chunks (chunk.c) --- */

#define CHUNK_CLASSES 32 /* 32 to 1024 bytes: messages, blocks, saved stacks */
#define CHUNK_CLASS_BYTES 32
#define CHUNK_BATCH 64   /* chunks a thread trades with the depot at a time */
struct cotp__chunk_cache {
  /* per class: the list allocations pop and frees push (at most
   * CHUNK_BATCH), and a spare full or empty one (chunk.c) */
  void *head[CHUNK_CLASSES];
  uint32_t n[CHUNK_CLASSES];
  void *spare[CHUNK_CLASSES];
  uint32_t spare_n[CHUNK_CLASSES];
  bool registered;
};
extern __thread struct cotp__chunk_cache cotp__chunk_tls
    __attribute__((tls_model("initial-exec")));

COTP__SLOW_PATH void *cotp__chunk_alloc_slow(size_t bytes);
COTP__SLOW_PATH void cotp__chunk_free_slow(void *p, size_t bytes);

/* The bytes a chunk asked for with `bytes` really holds: its size class's
 * (every class chunk is whole, chunk.c), or exactly `bytes` past the
 * classes.  Asking for the room instead of the bytes gets the same chunk. */
static inline size_t cotp__chunk_room(size_t bytes) {
  if (bytes - 1 >= CHUNK_CLASSES * CHUNK_CLASS_BYTES)
    return bytes;
  return ((bytes - 1) / CHUNK_CLASS_BYTES + 1) * CHUNK_CLASS_BYTES;
}

/* bytes of memory, from the calling thread's cache when small; freed with
 * cotp__chunk_free(p, bytes) by any thread.  NULL when out of memory.
 * The fast paths are inline: every message takes one of each. */
static inline void *cotp__chunk_alloc(size_t bytes) {
  if (bytes - 1 < CHUNK_CLASSES * CHUNK_CLASS_BYTES) {
    unsigned c = (unsigned)((bytes - 1) / CHUNK_CLASS_BYTES);
    void *p = cotp__chunk_tls.head[c];
    if (p) {
      void *next = *(void **)p;
      cotp__chunk_tls.head[c] = next;
      cotp__chunk_tls.n[c]--;
      /* The next chunk may have been freed by another thread (a list from
       * the depot), its line in that core's cache: start bringing it here
       * now, or the next allocation waits for it. */
      __builtin_prefetch(next, 1);
      return p;
    }
  }
  return cotp__chunk_alloc_slow(bytes);
}

static inline void cotp__chunk_free(void *p, size_t bytes) {
  if (bytes - 1 < CHUNK_CLASSES * CHUNK_CLASS_BYTES) {
    unsigned c = (unsigned)((bytes - 1) / CHUNK_CLASS_BYTES);
    uint32_t n = cotp__chunk_tls.n[c];
    if (cotp__chunk_tls.registered && n < CHUNK_BATCH) {
      *(void **)p = cotp__chunk_tls.head[c];
      cotp__chunk_tls.head[c] = p;
      cotp__chunk_tls.n[c] = n + 1;
      return;
    }
  }
  cotp__chunk_free_slow(p, bytes);
}
/* Gives the calling thread's cached chunks back (to the depot, or to
 * malloc when it is full). */
void cotp__chunk_flush(void);

/* --- heap internals (heap.c) --- */

/* Frees what h holds and leaves it empty, for heaps embedded in other
 * structures (a process's). */
void cotp__heap_close(cotp_heap *h);
/* Allocation: a bump of the top block, inline; a new block otherwise. */
COTP__SLOW_PATH uint64_t *cotp__heap_alloc_slow(cotp_heap *h, size_t words);
uint64_t *cotp__heap_grow(cotp_heap *h, size_t words);
/* The same with a block of just words words (to its chunk's size class),
 * not a doubling: for a heap that keeps one term (cotp_term_keep). */
uint64_t *cotp__heap_grow_exact(cotp_heap *h, size_t words);
/* Takes off h the top block, which holds nothing (kept as the spare). */
void cotp__heap_pop_empty(cotp_heap *h);
static inline uint64_t *cotp__heap_bump(cotp_heap *h, size_t words) {
  struct cotp__block *b = h->top;
  if (b && b->cap - b->used >= words) {
    uint64_t *p = b->words + b->used;
    b->used += (uint32_t)words; /* at most cap */
    return p;
  }
  return NULL;
}
/* words of fresh memory in h, or NULL (COTP_ENOMEM recorded). */
static inline uint64_t *cotp__heap_alloc(cotp_heap *h, size_t words) {
  uint64_t *p = h ? cotp__heap_bump(h, words) : NULL;
  return p ? p : cotp__heap_alloc_slow(h, words);
}
/* Gives back the blocks an emptied h keeps for reuse (its first block,
 * the spare): for a process going idle.  Inline, the test of whether
 * there is anything to give back: a handler that passed its blocks on
 * (cotp__heap_pass_on) or built nothing has not, and a call that saves
 * registers for the frees it would make costs it 14 instructions. */
COTP__SLOW_PATH void cotp__heap_trim_slow(cotp_heap *h);
static inline void cotp__heap_trim(cotp_heap *h) {
  if (h->top || h->spare)
    cotp__heap_trim_slow(h);
}
/* Trims from (cotp__heap_trim), handing what it kept for reuse to to, if
 * to has no such block of its own: one idle process's loss is the next
 * one's gain (handler chains, sched.c). */
void cotp__heap_pass_on(cotp_heap *from, cotp_heap *to);
/* The same without recording a failure, for callers with a plan B. */
static inline uint64_t *cotp__heap_try_alloc(cotp_heap *h, size_t words) {
  uint64_t *p = cotp__heap_bump(h, words);
  return p ? p : cotp__heap_grow(h, words);
}
/* Pushes a block made elsewhere (a received message) onto h: it is freed
 * with h, or with a mark taken before it. */
void cotp__heap_adopt(cotp_heap *h, struct cotp__block *b);
/* Drops the references b's shared objects hold (for a block that is freed
 * without ever joining a heap). */
void cotp__block_release_offheap(struct cotp__block *b);
/* Records the first error of h; later ones are dropped.  h may be NULL. */
void cotp__heap_fail(cotp_heap *h, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Puts the REFCBIN or RESOURCE object at p, just allocated in h's newest
 * block, on that block's offheap list. */
void cotp__heap_link_offheap(cotp_heap *h, uint64_t *p);
static inline void cotp__block_link_offheap(struct cotp__block *b,
                                            uint64_t *p) {
  p[1] = (uint64_t)(uintptr_t)b->offheap;
  b->offheap = p;
}

/* --- shared binaries and resources (binary.c, resource.c) --- */

struct cotp__bin *cotp__bin_new(size_t size);
void cotp__bin_retain(struct cotp__bin *b);
void cotp__bin_release(struct cotp__bin *b);
/* Drops the reference held by the offheap object at p. */
void cotp__offheap_release(uint64_t *p);

/* --- atoms (atom.c) --- */

/* The name of atom index i, never NULL for a valid atom. */
const char *cotp__atom_text(uint64_t index, size_t *len);

/* --- comparison (compare.c) --- */

/* The order of map keys: term order, with an integer before a float that
 * compares equal to it, so it is total on distinct keys. */
int cotp__key_compare(cotp_term a, cotp_term b);

/* --- UTF-8 (utf8.c) --- */

/* Checks that s[0, len) is UTF-8 without surrogates or overlong forms; on
 * success stores the number of code points in *chars (may be NULL). */
bool cotp__utf8_valid(const uint8_t *s, size_t len, size_t *chars);
/* Decodes one code point at s (valid UTF-8 assumed); returns bytes used. */
size_t cotp__utf8_decode(const uint8_t *s, uint32_t *cp);
/* Encodes cp (< 0x110000) into out; returns bytes written (1..4). */
size_t cotp__utf8_encode(uint32_t cp, uint8_t out[4]);

#endif
