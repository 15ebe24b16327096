/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Copies (what sending does), shared binaries, resources and heap marks.
 * The layout header is included to look at reference counts: sharing is
 * the point of these tests, and counts are how it shows.
 */
#include <pthread.h>

#include "harness.h"
#include "term/layout.h"

static size_t bin_refs(cotp_term t) {
  return atomic_load(&refcbin_bin(box_ptr(t))->refs);
}

Test(copy, deep_copy_is_equal_and_independent) {
  cotp_heap *a = cotp_heap_new(), *b = cotp_heap_new();
  cotp_term t = cotp_parse(a, "{:ok, [1, 2.5, \"text\" | :tail], %{k: {<<1, 2>>, 'cl'}}, -1152921504606846977}");
  cr_assert(!cotp_is_none(t), "%s", cotp_heap_error_message(a));
  cotp_term c = cotp_term_copy(b, t);
  cotp_assert_term_eq(c, t);
  cr_assert_eq(cotp_term_size(t), cotp_term_size(c));
  cotp_heap_free(a); /* the copy lives on without its source */
  cotp_assert_prints(c, "{:ok, [1, 2.5, \"text\" | :tail], %{k: {<<1, 2>>, 'cl'}}, -1152921504606846977}");
  cotp_heap_free(b);
}

/* Small values of immediates take a shortcut past the general copy
 * (copy_flat in copy.c), and the shapes just past it do not: each is
 * copied equal, the same size, and independent of its source, first into
 * an empty heap and then into one with room. */
Test(copy, small_flat_values_and_the_shapes_around_them) {
  static const char *const texts[] = {
      "{}", "{:mod, :fun, 2}", "{1, 2, 3, 4, 5, 6, 7, 8}",
      "{1, 2, 3, 4, 5, 6, 7, 8, 9}",      /* 9 elements: the general copy */
      "{:a, {:b}}", "{:a, [1]}", "{:c, {:p, [:alias | 5]}, :inc}",
      "{1.5}", "{:a, {:b, {:c, {:d}}}}", /* a float, 5 deep: general */
      "[:x]", "[1, 2, 3, 4]", "[1, 2, 3, 4, 5]", "[1 | :tail]",
      "[1, 2 | 3]", "[{:a}]", "[1 | {:b}]", "[[1]]", "[\"s\"]",
  };
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
    for (int warm = 0; warm < 2; warm++) {
      cotp_heap *a = cotp_heap_new(), *b = cotp_heap_new();
      if (warm) /* b's top block has room already */
        cotp_term_copy(b, cotp_parse(b, "{:room}"));
      cotp_heap_mark m = cotp_heap_mark_now(a);
      cotp_term t = cotp_parse(a, texts[i]);
      cr_assert(!cotp_is_none(t), "%s", texts[i]);
      cotp_term c = cotp_term_copy(b, t);
      cotp_assert_term_eq(c, t);
      cr_assert_eq(cotp_term_size(c), cotp_term_size(t), "%s", texts[i]);
      /* the copy lives on when its source's words are written over */
      cotp_heap_release(a, m);
      cotp_parse(a, "{:junk, :junk, :junk, :junk, :junk, :junk, :junk, :junk, :junk, :junk, :junk, :junk}");
      cotp_assert_prints(c, texts[i]);
      cotp_heap_free(a);
      cotp_heap_free(b);
    }
  }
}

Test(copy, immediates_need_no_heap) {
  cotp_heap *b = cotp_heap_new();
  cr_assert_eq(cotp_term_size(COTP_ATOM_OK), 0);
  cr_assert_eq(cotp_term_copy(b, COTP_ATOM_OK).w, COTP_ATOM_OK.w);
  cr_assert_eq(cotp_heap_bytes(b), 0);
  cotp_heap_free(b);
}

/* A large binary is shared between heaps, never copied: the copy points at
 * the same bytes and the buffer counts one more holder.  This is the path a
 * send takes into the receiver's message. */
Test(copy, large_binary_is_shared_not_copied) {
  cotp_heap *a = cotp_heap_new(), *b = cotp_heap_new();
  uint8_t *data;
  cotp_term big = cotp_binary_alloc(a, 1 << 20, &data);
  memset(data, 7, 1 << 20);
  cotp_term msg = COTP_TUPLE(a, COTP_ATOM_OK, big);
  cr_assert_eq(bin_refs(big), 1);
  cotp_term c = cotp_term_copy(b, msg);
  cotp_term cbig = cotp_tuple_get(c, 1);
  size_t len;
  cr_assert_eq(cotp_binary_data(cbig, &len), data);
  cr_assert_eq(len, (size_t)1 << 20);
  cr_assert_eq(bin_refs(big), 2);
  cr_assert_lt(cotp_heap_bytes(b), 1024); /* a handle, not a megabyte */
  cotp_heap_free(a);
  cr_assert_eq(bin_refs(cbig), 1);
  cr_assert_eq(cotp_binary_data(cbig, NULL)[12345], 7);
  cotp_heap_free(b);
}

Test(copy, small_binary_is_copied) {
  cotp_heap *a = cotp_heap_new(), *b = cotp_heap_new();
  cotp_term s = cotp_string(a, "short");
  cotp_term c = cotp_term_copy(b, s);
  cr_assert_neq(cotp_binary_data(c, NULL), cotp_binary_data(s, NULL));
  cotp_assert_term_eq(c, s);
  cotp_heap_free(a);
  cotp_heap_free(b);
}

static int dtor_runs;
static void count_dtor(void *obj) {
  dtor_runs++;
  cr_assert_eq(obj, &dtor_runs);
}

Test(copy, resource_destructor_runs_once_when_last_holder_lets_go) {
  dtor_runs = 0;
  cotp_resource *r = cotp_resource_new(&dtor_runs, count_dtor);
  cotp_heap *a = cotp_heap_new(), *b = cotp_heap_new();
  cotp_term t = COTP_TUPLE(a, cotp_resource_term(a, r), cotp_resource_term(a, r));
  cotp_term c = cotp_term_copy(b, t);
  cr_assert_eq(cotp_get_resource(cotp_tuple_get(c, 0)), r);
  cr_assert_eq(cotp_resource_object(r), &dtor_runs);
  cotp_resource_release(r); /* the creator lets go first */
  cotp_heap_free(a);
  cr_assert_eq(dtor_runs, 0);
  cotp_heap_free(b);
  cr_assert_eq(dtor_runs, 1);
}

static cotp_resource *shared_r;
static void *hold_and_release(void *arg) {
  (void)arg;
  for (int i = 0; i < 10000; i++) {
    cotp_heap *hp = cotp_heap_new();
    cotp_resource_term(hp, shared_r);
    cotp_heap_free(hp);
  }
  return NULL;
}

Test(copy, resource_counts_are_thread_safe) {
  dtor_runs = 0;
  shared_r = cotp_resource_new(&dtor_runs, count_dtor);
  pthread_t th[4];
  for (int i = 0; i < 4; i++)
    pthread_create(&th[i], NULL, hold_and_release, NULL);
  for (int i = 0; i < 4; i++)
    pthread_join(th[i], NULL);
  cr_assert_eq(dtor_runs, 0);
  cotp_resource_release(shared_r);
  cr_assert_eq(dtor_runs, 1);
}

Test(copy, heap_mark_release_frees_what_came_after) {
  cotp_heap *hp = cotp_heap_new();
  cotp_term keep = cotp_parse(hp, "{:keep, \"me\"}");
  cotp_heap_mark m = cotp_heap_mark_now(hp);
  size_t before = cotp_heap_bytes(hp);
  dtor_runs = 0;
  cotp_resource *r = cotp_resource_new(&dtor_runs, count_dtor);
  char big[4096] = {0};
  cotp_term shared = cotp_binary(hp, big, sizeof big);
  for (int i = 0; i < 10000; i++)
    COTP_TUPLE(hp, cotp_int(hp, i), cotp_resource_term(hp, r), shared);
  cr_assert_gt(cotp_heap_bytes(hp), before);
  cotp_heap_release(hp, m);
  cr_assert_eq(cotp_heap_bytes(hp), before);
  cotp_assert_prints(keep, "{:keep, \"me\"}");
  cotp_resource_release(r); /* all 10,000 heap references went with the mark */
  cr_assert_eq(dtor_runs, 1);
  cotp_heap_release(hp, m); /* releasing again is harmless */
  cotp_heap_free(hp);
}

Test(copy, mark_on_empty_heap_releases_everything) {
  cotp_heap *hp = cotp_heap_new();
  cotp_heap_mark m = cotp_heap_mark_now(hp);
  for (int i = 0; i < 1000; i++)
    cotp_parse(hp, "{1, 2, 3}");
  cotp_heap_release(hp, m);
  /* one small block is kept, emptied, for the next allocation */
  cr_assert_leq(cotp_heap_bytes(hp), 512);
  cotp_heap_free(hp);
}

Test(copy, million_element_list_and_deep_tuple) {
  cotp_heap *a = cotp_heap_new(), *b = cotp_heap_new();
  cotp_term l = COTP_NIL, d = COTP_NIL;
  for (int i = 0; i < 1000000; i++)
    l = cotp_cons(a, cotp_int(a, i), l);
  for (int i = 0; i < 100000; i++)
    d = COTP_TUPLE(a, d);
  cotp_term c = cotp_term_copy(b, COTP_TUPLE(a, l, d));
  cotp_assert_term_eq(cotp_tuple_get(c, 0), l);
  cr_assert(cotp_term_eq(cotp_tuple_get(c, 1), d));
  cotp_heap_free(a);
  size_t n;
  cotp_assert_rc(cotp_list_length(cotp_tuple_get(c, 0), &n), 0);
  cr_assert_eq(n, 1000000);
  cotp_heap_free(b);
}

/* A copy into an empty heap first tries the block the heap would push
 * next, and gives it back when the term turns out too big for it: the
 * heap then holds the copy's own block, and no empty one besides. */
Test(copy, a_big_copy_into_an_empty_heap_holds_only_its_own_block) {
  cotp_heap *a = cotp_heap_new(), *b = cotp_heap_new(), *c = cotp_heap_new();
  cotp_term l = COTP_NIL;
  for (int i = 0; i < 2000; i++)
    l = cotp_cons(a, COTP_TUPLE(a, COTP_ATOM_OK), l);
  cotp_term small = COTP_TUPLE(a, COTP_ATOM_OK, cotp_cons(a, COTP_ATOM_OK, COTP_NIL));
  cotp_term got = cotp_term_copy(b, l);
  cotp_assert_term_eq(got, l);
  size_t words = cotp_term_size(l) / 8;
  /* 2,000 cells and 2,000 tuples of one element: 4 words an element */
  cr_assert_eq(words, 4 * 2000);
  cr_assert_lt(cotp_heap_bytes(b), (words + 16) * 8,
               "%zu bytes for a %zu-word copy", cotp_heap_bytes(b), words);
  /* and a small one goes into one block of its own, bumped once */
  cotp_assert_term_eq(cotp_term_copy(c, small), small);
  cotp_assert_term_eq(cotp_term_copy(c, small), small);
  cr_assert_leq(cotp_heap_bytes(c), 512);
  cotp_heap_free(a);
  cotp_heap_free(b);
  cotp_heap_free(c);
}

/* cotp_term_keep: a copy in a heap of its own, one block of the term's
 * size (to its chunk's size class), where a copy into a new heap starts a
 * 256-byte block.  Every shape is kept equal and independent, and terms
 * built in the kept heap afterwards still work. */
Test(copy, kept_terms_take_a_block_of_their_size) {
  static const char *const texts[] = {
      "{:worker, 1}", "\"room:123\"", "[1, 2, 3]", "{:a, {:b, [1, 2.5]}}",
      "%{n: -1152921504606846977, name: \"x\"}", "[{:k, 'cl'} | :tail]",
  };
  const size_t head = sizeof(struct cotp__block);
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
    cotp_heap *a = cotp_heap_new();
    cotp_term t = cotp_parse(a, texts[i]);
    cr_assert(!cotp_is_none(t), "%s", texts[i]);
    cotp_term kept;
    cotp_heap *h;
    cr_assert_eq(cotp_term_keep(t, &kept, &h), 0, "%s", texts[i]);
    cr_assert_not_null(h, "%s", texts[i]);
    cotp_assert_term_eq(kept, t);
    size_t need = head + cotp_term_size(t);
    size_t room = (need + 31) / 32 * 32;
    cr_assert_eq(cotp_heap_bytes(h), room, "%s: %zu bytes for %zu", texts[i],
                 cotp_heap_bytes(h), need);
    cotp_heap_free(a); /* the copy lives on without its source */
    cotp_assert_prints(kept, texts[i]);
    /* the kept heap is a heap: more terms go into blocks of their own */
    cotp_term more = COTP_TUPLE(h, kept, cotp_string(h, "more"));
    cotp_assert_prints(cotp_tuple_get(more, 0), texts[i]);
    cr_assert_gt(cotp_heap_bytes(h), room);
    cotp_heap_free(h);
  }
}

Test(copy, keeping_an_immediate_or_bad_input) {
  cotp_term kept = COTP_ATOM_OK;
  cotp_heap *h = (cotp_heap *)&kept; /* must come back NULL */
  cr_assert_eq(cotp_term_keep(cotp_int(NULL, 42), &kept, &h), 0);
  cr_assert_null(h);
  cr_assert_eq(cotp_int_value(kept), 42);
  cr_assert_eq(cotp_term_keep(COTP_ATOM_OK, &kept, &h), 0);
  cr_assert_null(h);
  cr_assert_eq(kept.w, COTP_ATOM_OK.w);
  cr_assert_eq(cotp_term_keep(COTP_NIL, &kept, &h), 0);
  cr_assert(cotp_is_nil(kept));
  cr_assert_eq(cotp_term_keep(COTP_NONE, &kept, &h), COTP_EINVAL);
  cr_assert(cotp_is_none(kept));
  cr_assert_null(h);
  cr_assert_eq(cotp_term_keep(COTP_ATOM_OK, NULL, &h), COTP_EINVAL);
  cr_assert_eq(cotp_term_keep(COTP_ATOM_OK, &kept, NULL), COTP_EINVAL);
}

/* A kept large binary is shared, and freeing the kept heap lets go of it. */
Test(copy, a_kept_term_shares_large_binaries) {
  cotp_heap *a = cotp_heap_new();
  uint8_t *data;
  cotp_term big = cotp_binary_alloc(a, 1 << 20, &data);
  memset(data, 9, 1 << 20);
  cotp_term kept;
  cotp_heap *h;
  cr_assert_eq(cotp_term_keep(COTP_TUPLE(a, COTP_ATOM_OK, big), &kept, &h), 0);
  cr_assert_eq(bin_refs(big), 2);
  cr_assert_eq(cotp_binary_data(cotp_tuple_get(kept, 1), NULL), data);
  cr_assert_lt(cotp_heap_bytes(h), 128); /* a tuple and a handle */
  cotp_heap_free(a);
  cotp_term kbig = cotp_tuple_get(kept, 1);
  cr_assert_eq(bin_refs(kbig), 1);
  cr_assert_eq(cotp_binary_data(kbig, NULL)[54321], 9);
  cotp_heap_free(h); /* LSan and ASan see the buffer go */
}
