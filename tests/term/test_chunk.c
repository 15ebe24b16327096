/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small chunks (src/term/chunk.c): the per-thread lists, their spares and
 * the shared depot hand each chunk out once, and take it back from any
 * thread, past the depot's bound too (where malloc takes the rest).
 */
#include <string.h>

#include "harness.h"
#include "term/layout.h"

/* Chunks of every class, 6,250 of each (past the depot's bound of 4,096
 * a class), taken on one scheduler and freed on either: none is handed
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
