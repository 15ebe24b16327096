/* SPDX-License-Identifier: Apache-2.0 */
/*
 * erlang:phash2/1,2.  The reference values come from Erlang itself:
 * tests/term/phash2_vectors.txt is written by tools/phash2_vectors.exs, and
 * the constants below for the big terms were printed by erl (OTP 25).
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define VECTORS COTP_SOURCE_DIR "/tests/term/phash2_vectors.txt"

static cotp_heap *h;
static void setup(void) { h = cotp_heap_new(); }
static void teardown(void) { cotp_heap_free(h); }
TestSuite(hash, .init = setup, .fini = teardown);

static cotp_term p(const char *text) {
  cotp_term t = cotp_parse(h, text);
  cr_assert(!cotp_is_none(t), "%s: %s", text, cotp_heap_error_message(h));
  return t;
}

/* The whole vectors file, NUL-terminated; the caller frees it. */
static char *read_vectors(void) {
  FILE *f = fopen(VECTORS, "rb");
  cr_assert_not_null(f, "cannot open %s", VECTORS);
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  cr_assert_not_null(buf);
  size_t got;
  while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += got;
    if (cap - len - 1 == 0) {
      cap *= 2;
      buf = realloc(buf, cap);
      cr_assert_not_null(buf);
    }
  }
  fclose(f);
  buf[len] = '\0';
  return buf;
}

struct vector {
  unsigned long h1, h1000, h32;
  const char *text; /* the term, up to the end of the line */
  int line;
};

/* Splits the next line off *cursor (writing a NUL over its newline) and
 * reads its three numbers.  Returns false at the end of the file. */
static bool next_vector(char **cursor, int *line, struct vector *v) {
  while (**cursor) {
    char *s = *cursor, *nl = strchr(s, '\n');
    if (nl) {
      *nl = '\0';
      *cursor = nl + 1;
    } else {
      *cursor = s + strlen(s);
    }
    ++*line;
    if (*s == '\0')
      continue;
    char *end;
    v->h1 = strtoul(s, &end, 10);
    v->h1000 = strtoul(end, &end, 10);
    v->h32 = strtoul(end, &end, 10);
    cr_assert(*end == ' ', "line %d is not `h1 h1000 h32 term`: %.200s", *line,
              s);
    v->text = end + 1;
    v->line = *line;
    return true;
  }
  return false;
}

Test(hash, agrees_with_erlang) {
  char *buf = read_vectors(), *cursor = buf;
  struct vector v;
  int line = 0, n = 0, bad = 0;
  while (next_vector(&cursor, &line, &v)) {
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    cotp_term t = cotp_parse(h, v.text);
    n++;
    if (cotp_is_none(t)) {
      bad++;
      cr_expect(false, "line %d does not parse (%s): %.1000s", v.line,
                cotp_heap_error_message(h), v.text);
      cotp_heap_clear_error(h);
      continue;
    }
    unsigned long h1 = cotp_term_phash2(t);
    unsigned long h1000 = cotp_term_phash2_range(t, 1000);
    unsigned long h32 = cotp_term_phash2_range(t, 0);
    if (h1 != v.h1 || h1000 != v.h1000 || h32 != v.h32) {
      bad++;
      cr_expect(false,
                "line %d: got %lu %lu %lu, erlang says %lu %lu %lu: %.1000s",
                v.line, h1, h1000, h32, v.h1, v.h1000, v.h32, v.text);
    }
    cotp_heap_release(h, mark);
  }
  free(buf);
  cr_assert_geq(n, 300, "only %d vectors in %s", n, VECTORS);
  cr_assert_eq(bad, 0, "%d of %d vectors disagree with erlang", bad, n);
}

Test(hash, copy_hashes_the_same) {
  cotp_heap *dst = cotp_heap_new();
  char *buf = read_vectors(), *cursor = buf;
  struct vector v;
  int line = 0;
  while (next_vector(&cursor, &line, &v)) {
    cotp_term t = cotp_parse(h, v.text);
    if (cotp_is_none(t)) {
      cotp_heap_clear_error(h);
      continue; /* reported by agrees_with_erlang */
    }
    cotp_term c = cotp_term_copy(dst, t);
    cr_assert(!cotp_is_none(c), "line %d: copy failed", v.line);
    cr_assert_eq(cotp_term_phash2_range(c, 0), cotp_term_phash2_range(t, 0),
                 "line %d: %.300s", v.line, v.text);
  }
  free(buf);
  cotp_heap_free(dst);
}

Test(hash, shared_binary_parts) {
  /* A part of a shared binary points into the middle of its buffer; it
   * hashes as a binary made of the same bytes. */
  uint8_t bytes[300];
  for (size_t i = 0; i < sizeof bytes; i++)
    bytes[i] = (uint8_t)(i * 7 + 3);
  cotp_term whole = cotp_binary(h, bytes, sizeof bytes);
  size_t cuts[][2] = {{0, 300}, {1, 299}, {3, 100}, {5, 64}, {7, 65},
                      {13, 11}, {299, 1}, {150, 0}};
  for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
    size_t pos = cuts[i][0], len = cuts[i][1];
    cotp_term part = cotp_binary_part(h, whole, pos, len);
    cotp_term fresh = cotp_binary(h, bytes + pos, len);
    cr_assert(!cotp_is_none(part) && !cotp_is_none(fresh));
    cr_assert_eq(cotp_term_phash2_range(part, 0),
                 cotp_term_phash2_range(fresh, 0), "part %zu+%zu", pos, len);
  }
}

Test(hash, empty_binary) {
  /* erlang:phash2(<<>>) and erlang:phash2(<<>>, 4294967296). */
  cotp_term e = cotp_binary(h, "", 0);
  cr_assert(cotp_is_binary(e), "an empty binary must be a binary");
  cr_assert_eq(cotp_term_phash2(e), 13708901u);
  cr_assert_eq(cotp_term_phash2_range(e, 0), 147926629u);
}

Test(hash, long_lists_in_constant_stack) {
  /* lists:seq(1, 1000000): mostly integers that are not bytes. */
  cotp_term l = COTP_NIL;
  for (int64_t i = 1000000; i >= 1; i--)
    l = cotp_cons(h, cotp_int(h, i), l);
  cr_assert(!cotp_is_none(l));
  cr_assert_eq(cotp_term_phash2(l), 54897218u);
  cr_assert_eq(cotp_term_phash2_range(l, 0), 3141904962u);

  /* [I rem 256 || I <- lists:seq(0, 999999)]: all bytes. */
  cotp_term b = COTP_NIL;
  for (int64_t i = 999999; i >= 0; i--)
    b = cotp_cons(h, cotp_int(h, i % 256), b);
  cr_assert_eq(cotp_term_phash2(b), 46960270u);
  cr_assert_eq(cotp_term_phash2_range(b, 0), 2865532558u);

  /* [1000000, 999999, ..., 1 | tail]: an improper tail at the end. */
  cotp_term m = cotp_atom("tail");
  for (int64_t i = 1; i <= 1000000; i++)
    m = cotp_cons(h, cotp_int(h, i), m);
  cr_assert_eq(cotp_term_phash2(m), 106367427u);
  cr_assert_eq(cotp_term_phash2_range(m, 0), 1180109251u);
}

Test(hash, deep_nesting_in_constant_stack) {
  /* lists:foldl(fun(_, A) -> {A} end, {}, lists:seq(1, 100000)) */
  cotp_term t = cotp_tuple(h, 0, NULL);
  for (int i = 0; i < 100000; i++)
    t = cotp_tuple(h, 1, &t);
  cr_assert(!cotp_is_none(t));
  cr_assert_eq(cotp_term_phash2(t), 62716646u);
  cr_assert_eq(cotp_term_phash2_range(t, 0), 2747071206u);

  /* lists:foldl(fun(_, A) -> {A, 0} end, {}, lists:seq(1, 100000)): each
   * level leaves its second element waiting on the explicit stack. */
  cotp_term u = cotp_tuple(h, 0, NULL);
  for (int i = 0; i < 100000; i++)
    u = COTP_TUPLE(h, u, cotp_int(h, 0));
  cr_assert_eq(cotp_term_phash2(u), 4044419u);
  cr_assert_eq(cotp_term_phash2_range(u, 0), 943568515u);

  /* lists:foldl(fun(I, A) -> [A, I] end, [], lists:seq(1, 100000)): the
   * same through list heads. */
  cotp_term l = COTP_NIL;
  for (int64_t i = 1; i <= 100000; i++)
    l = COTP_LIST(h, l, cotp_int(h, i));
  cr_assert(!cotp_is_none(l));
  cr_assert_eq(cotp_term_phash2(l), 8338992u);
  cr_assert_eq(cotp_term_phash2_range(l, 0), 2290040368u);

  /* lists:foldl(fun(I, A) -> #{I => A} end, #{}, lists:seq(1, 10000)):
   * every level saves the outer map's state on the stack. */
  cotp_term m = cotp_map(h, 0, NULL, NULL);
  for (int64_t i = 1; i <= 10000; i++) {
    cotp_term k = cotp_int(h, i);
    m = cotp_map(h, 1, &k, &m);
  }
  cr_assert(!cotp_is_none(m));
  cr_assert_eq(cotp_term_phash2(m), 77177065u);
  cr_assert_eq(cotp_term_phash2_range(m, 0), 2895749353u);
}

/* A map of keys[0..n) built by cotp_map_put in the order of perm. */
static cotp_term map_in_order(size_t n, const cotp_term *keys,
                              const size_t *perm) {
  cotp_term m = cotp_map(h, 0, NULL, NULL);
  for (size_t i = 0; i < n; i++) {
    cotp_term k = keys[perm[i]];
    m = cotp_map_put(h, m, k, COTP_TUPLE(h, k, cotp_int(h, (int64_t)perm[i])));
  }
  cr_assert(!cotp_is_none(m), "%s", cotp_heap_error_message(h));
  return m;
}

Test(hash, map_insertion_order_does_not_matter) {
  cotp_test_rng rng = cotp_test_rng_new();
  size_t sizes[] = {1, 3, 32, 33, 100};
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    size_t n = sizes[s];
    cotp_term keys[100];
    size_t perm[100];
    for (size_t i = 0; i < n; i++) {
      char name[32];
      snprintf(name, sizeof name, "key%zu", i);
      switch (i % 4) {
      case 0: keys[i] = cotp_int(h, (int64_t)i * 1000003); break;
      case 1: keys[i] = cotp_string(h, name); break;
      case 2: keys[i] = COTP_TUPLE(h, cotp_int(h, (int64_t)i), cotp_atom(name)); break;
      default: keys[i] = cotp_float(h, (double)i / 3); break;
      }
      perm[i] = i;
    }
    cotp_term forward = map_in_order(n, keys, perm);
    for (size_t i = 0; i < n; i++)
      perm[i] = n - 1 - i;
    cotp_term backward = map_in_order(n, keys, perm);
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
      size_t j = (size_t)cotp_test_below(&rng, i), tmp = perm[i - 1];
      perm[i - 1] = perm[j];
      perm[j] = tmp;
    }
    cotp_term shuffled = map_in_order(n, keys, perm);
    uint32_t want = cotp_term_phash2_range(forward, 0);
    cr_assert_eq(cotp_term_phash2_range(backward, 0), want, "%zu keys", n);
    cr_assert_eq(cotp_term_phash2_range(shuffled, 0), want, "%zu keys", n);
  }
  /* The same map written two ways, and what Erlang gives for it:
   * erlang:phash2(#{a => 1, b => 2, c => 3}, 4294967296). */
  cotp_term a = p("%{c: 3, a: 1, b: 2}"), b = p("%{:b => 2, :c => 3, :a => 1}");
  cr_assert_eq(cotp_term_phash2_range(a, 0), 2917215955u);
  cr_assert_eq(cotp_term_phash2_range(b, 0), 2917215955u);
}

Test(hash, ranges) {
  const char *texts[] = {"0", "-1", "1.5", ":ok", "\"bin\"", "{1, [2], %{3 => 4}}",
                         "'chars'", "[1 | 2]", "%{}"};
  uint32_t ranges[] = {2, 3, 7, 1000, 65536, 1u << 27, 4000000000u, UINT32_MAX};
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
    cotp_term t = p(texts[i]);
    uint32_t full = cotp_term_phash2_range(t, 0);
    cr_assert_eq(cotp_term_phash2_range(t, 1), 0u, "%s", texts[i]);
    /* phash2/1 keeps 27 bits of the hash; phash2/2 reduces all 32. */
    cr_assert_eq(cotp_term_phash2(t), full & ((1u << 27) - 1), "%s", texts[i]);
    for (size_t r = 0; r < sizeof ranges / sizeof *ranges; r++)
      cr_assert_eq(cotp_term_phash2_range(t, ranges[r]), full % ranges[r],
                   "%s mod %u", texts[i], ranges[r]);
  }
  /* erlang:phash2(0, 1000) is 469: the full hash 3175731469 reduced, not
   * erlang:phash2(0) = 88723725 reduced (725). */
  cr_assert_eq(cotp_term_phash2_range(p("0"), 1000), 469u);
}

Test(hash, local_identities_are_deterministic) {
  cotp_pid a = cotp_pid_make(0, 12, 0), b = cotp_pid_make(0, 13, 0);
  cr_assert_eq(cotp_term_phash2(cotp_pid_term(a)),
               cotp_term_phash2(cotp_pid_term(cotp_pid_make(0, 12, 0))));
  cr_assert_neq(cotp_term_phash2_range(cotp_pid_term(a), 0),
                cotp_term_phash2_range(cotp_pid_term(b), 0));
  cotp_term r1 = cotp_make_ref(), r2 = cotp_make_ref();
  cr_assert_neq(cotp_term_phash2_range(r1, 0), cotp_term_phash2_range(r2, 0));

  cotp_resource *res = cotp_resource_new(NULL, NULL);
  cotp_term t = COTP_TUPLE(h, cotp_resource_term(h, res), cotp_pid_term(a), r1);
  cotp_heap *dst = cotp_heap_new();
  cotp_term c = cotp_term_copy(dst, t);
  cr_assert_eq(cotp_term_phash2_range(c, 0), cotp_term_phash2_range(t, 0));
  cotp_heap_free(dst);
  cotp_resource_release(res);
}
