/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The small-chunk arena (src/term/chunk.c): chunks carved from it come
 * back to it, past the depot's bound too, and its pages go back to the
 * kernel when the runtime stops with every chunk free, and only then
 * (issue 3, item 12: all memory is freed when the runtime stops).
 */
#include <stdatomic.h>

#include "harness.h"
#include "term/layout.h"

static atomic_size_t carved_while_running;

static void parked(void *arg) {
  (void)arg;
  cotp_term x;
  cotp_receive(COTP_INFINITY, &x);
}

/* Parks n processes (each one's frames are copied out to a chunk when the
 * next needs the run stack), notes the arena's size, and exits: the
 * runtime's stop discards them all. */
static void park_many(void *arg) {
  size_t n = *(size_t *)arg;
  for (size_t i = 0; i < n; i++) {
    cotp_assert_rc(cotp_spawn(parked, NULL, NULL), 0);
    if (i % 64 == 63)
      cotp_yield(); /* let them reach their receive */
  }
  cotp_sleep(20);
  atomic_store(&carved_while_running, cotp__chunk_arena_bytes());
}

/* Whether this build has an arena (not under AddressSanitizer). */
static bool arena_built(void) {
  size_t n = 64;
  cotp_test_run(park_many, &n, 1);
  return atomic_load(&carved_while_running) > 0;
}

Test(chunk, arena_pages_go_back_when_the_runtime_stops) {
  if (!arena_built()) {
    cr_assert_eq(cotp__chunk_arena_bytes(), 0);
    return;
  }
  cr_assert_eq(cotp__chunk_arena_bytes(), 0, "64 processes: %zu bytes kept",
               cotp__chunk_arena_bytes());
  /* more chunks of one class than the depot keeps (64 lists of 64): the
   * rest wait in the spill, and are counted back from there */
  size_t n = cotp_test_max_alive(20000);
  cotp_test_run(park_many, &n, 0);
  cr_assert_gt(atomic_load(&carved_while_running), n * 64);
  cr_assert_eq(cotp__chunk_arena_bytes(), 0, "%zu processes: %zu bytes kept", n,
               cotp__chunk_arena_bytes());
}

Test(chunk, arena_is_kept_while_a_chunk_is_in_use) {
  if (!arena_built())
    return;
  /* a heap of this thread's, outside any runtime, holds arena chunks */
  cotp_heap *h = cotp_heap_new();
  cr_assert_not_null(h);
  const char *text = "[{:a, 1, \"two\"}, {:b, [3, 4, 5]}, %{c: 6.5}]";
  cotp_term t = cotp_parse(h, text);
  cr_assert(!cotp_is_none(t));
  size_t n = cotp_test_max_alive(5000);
  cotp_test_run(park_many, &n, 0);
  cr_assert_gt(cotp__chunk_arena_bytes(), 0, "trimmed under a live heap");
  /* the heap's memory is intact */
  cotp_heap *h2 = cotp_heap_new();
  cr_assert(cotp_term_eq(t, cotp_parse(h2, text)));
  cotp_heap_free(h2);
  cotp_heap_free(h);
  /* everything is back now: the next stop trims */
  cotp_test_run(park_many, &n, 0);
  cr_assert_eq(cotp__chunk_arena_bytes(), 0);
}

/* Chunks of every class, taken on one scheduler and freed on another,
 * many times the depot's bound: each comes back, none is handed out
 * twice (a chunk handed out twice would be overwritten below). */
static void churn(void *arg) {
  (void)arg;
  enum { N = 6000 };
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

Test(chunk, chunks_of_every_class_come_back) {
  cotp_test_run(churn, NULL, 2);
  if (arena_built())
    cr_assert_eq(cotp__chunk_arena_bytes(), 0);
}
