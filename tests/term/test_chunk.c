/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small chunks (src/term/chunk.c): the per-thread lists, their spares,
 * the shared depot and the slabs new lists are carved from hand each chunk
 * out once, and take it back from any thread, in lists of any length; and
 * their public face, cotp_mem_alloc and cotp_mem_free.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "term/layout.h"

/* Chunks of every class, 6,250 of each (past the bound of 4,096 a class
 * the depot has in ASan builds, where each chunk is a malloc), taken on one scheduler and freed on either: none is handed
 * out twice (a chunk handed out twice would be overwritten below), and
 * the next rounds get them back. */
COTP_TEST(chunk, chunks_of_every_class_come_back) {
  enum { N = 100000 };
  static void *held[N];
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < N; i++) {
      size_t bytes = (size_t)(i % CHUNK_CLASSES + 1) * CHUNK_CLASS_BYTES;
      held[i] = cotp__chunk_alloc(bytes);
      cr_assert_not_null(held[i]);
      memset(held[i], i & 0xff, bytes);
    }
    for (int i = 0; i < N; i++) {
      size_t bytes = (size_t)(i % CHUNK_CLASSES + 1) * CHUNK_CLASS_BYTES;
      unsigned char *c = held[i];
      cr_assert(c[0] == (i & 0xff) && c[bytes - 1] == (i & 0xff),
                "chunk %d was overwritten", i);
      cotp__chunk_free(held[i], bytes);
      if (i % 500 == 0)
        cotp_yield(); /* perhaps onto the other scheduler */
    }
  }
}

/* A thread that takes chunks, gives part of them back and exits leaves a
 * list shorter than a batch: the depot takes it as it is, and whoever
 * takes it next gets exactly those chunks, none twice. */
enum { STRAY = 100, KEPT = 63 };
static void *strays[STRAY];

static void *take_and_leave(void *arg) {
  (void)arg;
  for (int i = 0; i < STRAY; i++)
    strays[i] = cotp_mem_alloc(CHUNK_CLASS_BYTES);
  for (int i = KEPT; i < STRAY; i++) /* 37 back: a partial list */
    cotp_mem_free(strays[i], CHUNK_CLASS_BYTES);
  return NULL; /* the thread's lists go to the depot */
}

COTP_TEST(chunk, a_partial_list_left_by_an_exiting_thread_is_reused_once) {
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, take_and_leave, NULL), 0);
  cr_assert_eq(pthread_join(t, NULL), 0);
  enum { N = 10000 };
  static uint64_t *got[N];
  for (int i = 0; i < N; i++) {
    got[i] = cotp_mem_alloc(CHUNK_CLASS_BYTES);
    cr_assert_not_null(got[i]);
    for (int w = 0; w < CHUNK_CLASS_BYTES / 8; w++)
      got[i][w] = (uint64_t)i;
    for (int k = 0; k < KEPT; k++)
      cr_assert(got[i] != strays[k], "chunk %d is still the thread's", i);
  }
  for (int i = 0; i < N; i++) {
    for (int w = 0; w < CHUNK_CLASS_BYTES / 8; w++)
      cr_assert_eq(got[i][w], (uint64_t)i, "chunk %d was handed out twice", i);
    cotp_mem_free(got[i], CHUNK_CLASS_BYTES);
  }
  for (int k = 0; k < KEPT; k++)
    cotp_mem_free(strays[k], CHUNK_CLASS_BYTES);
}

static void *free_elsewhere(void *arg) {
  void **blocks = arg;
  for (size_t i = 0; blocks[i]; i++)
    cotp_mem_free(blocks[i], (i % 40 + 1) * 48);
  return NULL;
}

/* cotp_mem_alloc: NULL for nothing, 16-byte alignment at every size
 * (malloc's beyond 1 KB), blocks that do not overlap, given back from
 * another thread; freeing NULL does nothing. */
COTP_TEST(chunk, cotp_mem_alloc_gives_aligned_blocks_any_thread_frees) {
  cr_assert_null(cotp_mem_alloc(0));
  cotp_mem_free(NULL, 64);
  enum { N = 400 };
  static void *blocks[N + 1];
  for (size_t i = 0; i < N; i++) {
    size_t bytes = (i % 40 + 1) * 48; /* 48 bytes to 1,920 */
    unsigned char *b = cotp_mem_alloc(bytes);
    cr_assert_not_null(b);
    cr_assert_eq((uintptr_t)b % 16, 0, "a block of %zu bytes is misaligned", bytes);
    memset(b, (int)(i & 0xff), bytes);
    blocks[i] = b;
  }
  for (size_t i = 0; i < N; i++) {
    size_t bytes = (i % 40 + 1) * 48;
    unsigned char *b = blocks[i];
    cr_assert(b[0] == (i & 0xff) && b[bytes - 1] == (i & 0xff),
              "block %zu overlaps another", i);
  }
  blocks[N] = NULL;
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, free_elsewhere, blocks), 0);
  cr_assert_eq(pthread_join(t, NULL), 0);
}
