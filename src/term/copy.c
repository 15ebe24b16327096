/* SPDX-License-Identifier: Apache-2.0 */
/*
 * copy.c: deep copies, the heart of sending.
 *
 * A copy is made in two passes, both iterative.  The first counts the words
 * the copy needs, so the destination is one contiguous allocation (a message
 * is one malloc).  The second is Cheney's scan: copy the root object to the
 * destination, then walk the destination from the start; every term word
 * found there that still points into the source is replaced by a fresh copy
 * of what it points at, appended at the end.  Headers carry a tag no term
 * word has, so the scan knows to skip the raw words of numbers and binaries.
 * Neither pass recurses, so a million-element list or a deeply nested tuple
 * copies in constant C stack, which matters on a process's small stack.
 *
 * Shared binaries and resources are not copied: the copy's handle takes a
 * new reference and goes on the destination block's offheap list.
 * Sharing inside the source (one subterm referenced twice) is not kept: it
 * is copied twice, as the BEAM does when sending.
 */
#include <stdlib.h>

#include "layout.h"

/* Words of the object a boxed or cons term points at (not its children). */
static size_t object_words(cotp_term t) {
  if (cotp_is_cons(t))
    return 2;
  const uint64_t *p = box_ptr(t);
  switch (HDR_KIND(p[0])) {
  case BOX_TUPLE:
    return 1 + HDR_COUNT(p[0]);
  case BOX_INT64:
  case BOX_FLOAT:
    return 2;
  case BOX_HEAPBIN:
    return HEAPBIN_WORDS(HDR_COUNT(p[0]));
  case BOX_REFCBIN:
    return REFCBIN_WORDS;
  case BOX_MAP:
    return 1 + 2 * HDR_COUNT(p[0]);
  default:
    return RESOURCE_WORDS;
  }
}

static bool points(cotp_term t) { return is_boxed(t) || cotp_is_cons(t); }

/* The term words inside an object: [*first, *first + *n). */
static void children(cotp_term t, const uint64_t **first, size_t *n) {
  if (cotp_is_cons(t)) {
    *first = cons_ptr(t);
    *n = 2;
    return;
  }
  const uint64_t *p = box_ptr(t);
  unsigned kind = HDR_KIND(p[0]);
  *first = p + 1;
  *n = kind == BOX_TUPLE ? HDR_COUNT(p[0])
       : kind == BOX_MAP ? 2 * HDR_COUNT(p[0])
                         : 0;
}

struct range {
  const uint64_t *at;
  size_t n;
};

/* A tuple whose elements are all immediates (most messages: {:tag, ref,
 * 42}) needs neither walk: it is copied as one block. */
static bool flat_tuple(cotp_term t) {
  if (!is_box_of(t, BOX_TUPLE))
    return false;
  const uint64_t *p = box_ptr(t);
  size_t n = HDR_COUNT(p[0]);
  for (size_t i = 1; i <= n; i++)
    if (points((cotp_term){p[i]}))
      return false;
  return true;
}

/*
 * Small terms, the usual message ({:"$gen_call", {pid, ref}, {:get, 42}}),
 * are copied by a plain recursion instead: no explicit stack, no scan,
 * objects laid out depth first.  Small means at most SMALL_WORDS words,
 * nested at most SMALL_DEPTH deep (list tails do not count: they are
 * walked in a loop), and no shared object (refc binary, resource), whose
 * handle needs the offheap bookkeeping of copy_object.  Either recursion
 * gives up on anything else and the two-pass copy takes over.
 */
#define SMALL_WORDS 64
#define SMALL_DEPTH 6
#define NOT_SMALL SIZE_MAX

static size_t small_words(cotp_term t, int depth) {
  size_t words = 0;
  for (;;) {
    if (!points(t))
      return words;
    if (depth == 0 || words > SMALL_WORDS)
      return NOT_SMALL;
    if (cotp_is_cons(t)) {
      const uint64_t *c = cons_ptr(t);
      size_t h = small_words((cotp_term){c[0]}, depth - 1);
      if (h == NOT_SMALL)
        return NOT_SMALL;
      words += 2 + h;
      t = (cotp_term){c[1]};
      continue;
    }
    const uint64_t *p = box_ptr(t);
    unsigned kind = HDR_KIND(p[0]);
    if (kind == BOX_TUPLE || kind == BOX_MAP) {
      size_t n = (kind == BOX_MAP ? 2 : 1) * HDR_COUNT(p[0]);
      if (n > SMALL_WORDS)
        return NOT_SMALL;
      words += 1 + n;
      for (size_t i = 1; i <= n; i++) {
        if (!points((cotp_term){p[i]}))
          continue;
        size_t w = small_words((cotp_term){p[i]}, depth - 1);
        if (w == NOT_SMALL || (words += w) > SMALL_WORDS)
          return NOT_SMALL;
      }
      return words;
    }
    if (kind == BOX_INT64 || kind == BOX_FLOAT || kind == BOX_HEAPBIN)
      return words + object_words(t);
    return NOT_SMALL; /* shared objects */
  }
}

/* Copies small t to *hp on; COTP_NONE when t turns out not to be small
 * (what was written is then garbage, within the room the caller made). */
static cotp_term small_copy(cotp_term t, uint64_t **hp, int depth) {
  if (!points(t))
    return t;
  if (depth == 0)
    return COTP_NONE;
  if (cotp_is_cons(t)) {
    cotp_term root = COTP_NONE;
    uint64_t *link = NULL; /* the tail word of the previous cell */
    while (cotp_is_cons(t)) {
      const uint64_t *c = cons_ptr(t);
      uint64_t *cell = *hp;
      *hp += 2;
      cotp_term h = small_copy((cotp_term){c[0]}, hp, depth - 1);
      if (cotp_is_none(h))
        return COTP_NONE;
      cell[0] = h.w;
      if (link)
        *link = cons_term(cell).w;
      else
        root = cons_term(cell);
      link = &cell[1];
      t = (cotp_term){c[1]};
    }
    cotp_term tail = small_copy(t, hp, depth - 1);
    if (cotp_is_none(tail))
      return COTP_NONE;
    *link = tail.w;
    return root;
  }
  const uint64_t *p = box_ptr(t);
  unsigned kind = HDR_KIND(p[0]);
  uint64_t *dst = *hp;
  if (kind == BOX_TUPLE || kind == BOX_MAP) {
    size_t n = (kind == BOX_MAP ? 2 : 1) * HDR_COUNT(p[0]);
    *hp += 1 + n;
    dst[0] = p[0];
    for (size_t i = 1; i <= n; i++) {
      cotp_term e = {p[i]};
      if (points(e) && cotp_is_none(e = small_copy(e, hp, depth - 1)))
        return COTP_NONE;
      dst[i] = e.w;
    }
    return box_term(dst);
  }
  if (kind == BOX_INT64 || kind == BOX_FLOAT || kind == BOX_HEAPBIN) {
    size_t n = object_words(t);
    memcpy(dst, p, n * 8);
    *hp += n;
    return box_term(dst);
  }
  return COTP_NONE;
}

/*
 * The one-pass form of the small copy, for senders: copy into a scratch
 * buffer of COTP__SCRATCH_WORDS words while noting, in a bit mask, which
 * words of the copy point into the copy.  The caller then allocates the
 * exact size, moves the words there and adds the distance to the marked
 * words.  Sizing and copying become one walk, and the walk itself is a
 * tight loop over the words of each object.
 */
struct scratch {
  uint64_t *base;
  size_t used;
  uint64_t mask; /* bit i: word i is a pointer into the copy */
};

static cotp_term scratch_copy(struct scratch *s, cotp_term t, int depth);

/* Copies element e of an object to the scratch and stores the result at
 * word i of the copy; false when the term is not small. */
static inline bool scratch_elem(struct scratch *s, size_t i, cotp_term e,
                                int depth) {
  if (points(e)) {
    e = scratch_copy(s, e, depth);
    if (cotp_is_none(e))
      return false;
    s->mask |= UINT64_C(1) << i;
  }
  s->base[i] = e.w;
  return true;
}

static cotp_term scratch_copy(struct scratch *s, cotp_term t, int depth) {
  if (depth == 0)
    return COTP_NONE;
  if (cotp_is_cons(t)) {
    cotp_term root = COTP_NONE;
    size_t link = SIZE_MAX; /* the tail word of the previous cell */
    while (cotp_is_cons(t)) {
      const uint64_t *c = cons_ptr(t);
      size_t at = s->used;
      if (at + 2 > COTP__SCRATCH_WORDS)
        return COTP_NONE;
      s->used = at + 2;
      if (!scratch_elem(s, at, (cotp_term){c[0]}, depth - 1))
        return COTP_NONE;
      if (link == SIZE_MAX) {
        root = cons_term(&s->base[at]);
      } else {
        s->base[link] = cons_term(&s->base[at]).w;
        s->mask |= UINT64_C(1) << link;
      }
      link = at + 1;
      t = (cotp_term){c[1]};
    }
    return scratch_elem(s, link, t, depth - 1) ? root : COTP_NONE;
  }
  const uint64_t *p = box_ptr(t);
  unsigned kind = HDR_KIND(p[0]);
  size_t at = s->used, n;
  if (kind == BOX_TUPLE || kind == BOX_MAP) {
    n = (kind == BOX_MAP ? 2 : 1) * HDR_COUNT(p[0]);
    if (n >= COTP__SCRATCH_WORDS - at)
      return COTP_NONE;
    s->used = at + 1 + n;
    s->base[at] = p[0];
    for (size_t i = 1; i <= n; i++)
      if (!scratch_elem(s, at + i, (cotp_term){p[i]}, depth - 1))
        return COTP_NONE;
    return box_term(&s->base[at]);
  }
  if (kind != BOX_INT64 && kind != BOX_FLOAT && kind != BOX_HEAPBIN)
    return COTP_NONE; /* shared objects need the offheap bookkeeping */
  n = object_words(t);
  if (n > COTP__SCRATCH_WORDS - at)
    return COTP_NONE;
  memcpy(&s->base[at], p, n * 8);
  s->used = at + n;
  return box_term(&s->base[at]);
}

cotp_term cotp__term_copy_scratch(uint64_t *buf, cotp_term t, size_t *words,
                                  uint64_t *mask) {
  struct scratch s = {buf, 0, 0};
  cotp_term root = scratch_copy(&s, t, SMALL_DEPTH);
  *words = s.used;
  *mask = s.mask;
  return root;
}

void cotp__term_move_scratch(uint64_t *dst, const uint64_t *buf, size_t words,
                             uint64_t mask) {
  uint64_t delta = (uint64_t)(uintptr_t)dst - (uint64_t)(uintptr_t)buf;
  memcpy(dst, buf, words * 8);
  while (mask) {
    dst[__builtin_ctzll(mask)] += delta;
    mask &= mask - 1;
  }
}

/* cotp__term_words of a term too deep for small_words: a walk with an
 * explicit stack, out of line so that cotp__term_words answers the
 * common terms with no frame. */
COTP__SLOW_PATH static size_t words_walk(cotp_term t) {
  struct range local[16], *stack = local;
  size_t depth = 0, cap = 16, words = 0;
  for (;;) {
    words += object_words(t);
    struct range r;
    children(t, &r.at, &r.n);
    if (r.n > 0) {
      if (depth == cap) {
        struct range *bigger = malloc(2 * cap * sizeof *bigger);
        if (!bigger)
          abort(); /* deeper than memory: the term could not exist */
        memcpy(bigger, stack, depth * sizeof *stack);
        if (stack != local)
          free(stack);
        stack = bigger;
        cap *= 2;
      }
      stack[depth++] = r;
    }
    /* Next child that points somewhere; popping before descending keeps
     * list tails in constant stack. */
    t = COTP_NONE;
    while (depth > 0 && cotp_is_none(t)) {
      struct range *top = &stack[depth - 1];
      cotp_term c = {*top->at++};
      if (--top->n == 0)
        depth--;
      if (points(c))
        t = c;
    }
    if (cotp_is_none(t))
      break;
  }
  if (stack != local)
    free(stack);
  return words;
}

size_t cotp__term_words(cotp_term t) {
  if (!points(t))
    return 0;
  if (flat_tuple(t))
    return 1 + HDR_COUNT(*box_ptr(t));
  size_t small = small_words(t, SMALL_DEPTH);
  return small != NOT_SMALL ? small : words_walk(t);
}

/* Copies the object t points at to *hp, retaining what it shares; returns
 * the term for the copy. */
static cotp_term copy_object(cotp_term t, uint64_t **hp,
                             struct cotp__block *blk) {
  uint64_t *dst = *hp;
  size_t n = object_words(t);
  if (cotp_is_cons(t)) {
    memcpy(dst, cons_ptr(t), 2 * 8);
    *hp += 2;
    return cons_term(dst);
  }
  memcpy(dst, box_ptr(t), n * 8);
  *hp += n;
  unsigned kind = HDR_KIND(dst[0]);
  if (kind == BOX_REFCBIN) {
    cotp__bin_retain(refcbin_bin(dst));
    cotp__block_link_offheap(blk, dst);
  } else if (kind == BOX_RESOURCE) {
    cotp_resource_retain(resource_of(dst));
    cotp__block_link_offheap(blk, dst);
  }
  return box_term(dst);
}

cotp_term cotp__term_copy_into(uint64_t *dst, cotp_term t,
                               struct cotp__block *blk) {
  if (!points(t))
    return t;
  if (flat_tuple(t)) {
    memcpy(dst, box_ptr(t), (1 + HDR_COUNT(*box_ptr(t))) * 8);
    return box_term(dst);
  }
  uint64_t *hp = dst;
  cotp_term small = small_copy(t, &hp, SMALL_DEPTH);
  if (!cotp_is_none(small))
    return small;
  hp = dst;
  uint64_t *scan = dst;
  cotp_term root = copy_object(t, &hp, blk);
  while (scan < hp) {
    uint64_t w = *scan;
    if (IS_HDR(w)) {
      unsigned kind = HDR_KIND(w);
      if (kind == BOX_TUPLE || kind == BOX_MAP)
        scan++; /* the elements that follow are terms: scan them */
      else
        scan += object_words(box_term(scan));
      continue;
    }
    cotp_term c = {w};
    if (points(c))
      *scan = copy_object(c, &hp, blk).w;
    scan++;
  }
  return root;
}

/*
 * The bounded one-pass copy, for messages: Cheney's scan straight into
 * the message's own memory, which has room for cap words.  Each object is
 * copied once, when the scan reaches the word pointing at it, so sizing,
 * copying and fixing pointers are one loop over the copy's words, with no
 * recursion and nothing to move afterwards.  It gives up (COTP_NONE) when
 * the copy would not fit or t holds a shared object, whose handle needs
 * the offheap bookkeeping of copy_object; what it wrote is then garbage.
 */
static inline __attribute__((always_inline)) cotp_term
bounded_object(cotp_term t, uint64_t **hp,
                                const uint64_t *end) {
  uint64_t *dst = *hp;
  size_t room = (size_t)(end - dst);
  if (cotp_is_cons(t)) {
    if (room < 2)
      return COTP_NONE;
    const uint64_t *c = cons_ptr(t);
    dst[0] = c[0];
    dst[1] = c[1];
    *hp = dst + 2;
    return cons_term(dst);
  }
  const uint64_t *p = box_ptr(t);
  size_t n;
  if ((p[0] & 127u) == HDR_MAKE(BOX_TUPLE, 0)) { /* the usual object */
    n = 1 + HDR_COUNT(p[0]);
  } else {
    unsigned kind = HDR_KIND(p[0]);
    if (kind == BOX_REFCBIN || kind == BOX_RESOURCE)
      return COTP_NONE;
    n = object_words(t);
  }
  if (n > room)
    return COTP_NONE;
  for (size_t i = 0; i < n; i++)
    dst[i] = p[i];
  *hp = dst + n;
  return box_term(dst);
}

cotp_term cotp__term_copy_bounded(uint64_t *dst, size_t cap, cotp_term t,
                                  size_t *words) {
  uint64_t *hp = dst, *scan = dst;
  const uint64_t *end = dst + cap;
  cotp_term root = bounded_object(t, &hp, end);
  if (cotp_is_none(root))
    return root;
  while (scan < hp) {
    uint64_t w = *scan;
    unsigned tag = (unsigned)(w & TAG_MASK);
    if (tag > COTP__TAG_LIST) { /* an immediate, or a header */
      if (tag == HDR_TAG) {
        unsigned kind = HDR_KIND(w);
        if (kind != BOX_TUPLE && kind != BOX_MAP) { /* raw words follow */
          scan += object_words(box_term(scan));
          continue;
        }
      }
      scan++; /* a tuple's or map's elements follow: scan them */
      continue;
    }
    if (w != 0) { /* boxed or list: still points into the source */
      cotp_term c = bounded_object((cotp_term){w}, &hp, end);
      if (cotp_is_none(c))
        return c;
      *scan = c.w;
    }
    scan++;
  }
  *words = (size_t)(hp - dst);
  return root;
}

size_t cotp_term_size(cotp_term t) { return cotp__term_words(t) * 8; }

/* A bounded copy into the room left in block top (most copies are small),
 * trying at most SMALL_WORDS x 4 words so that a big term that does not
 * fit wastes little; COTP_NONE if it did not fit. */
static cotp_term copy_to_top(struct cotp__block *top, cotp_term t) {
  size_t used, room = top->cap - top->used;
  cotp_term r = cotp__term_copy_bounded(
      top->words + top->used, room < 4 * SMALL_WORDS ? room : 4 * SMALL_WORDS,
      t, &used);
  if (!cotp_is_none(r))
    top->used += (uint32_t)used; /* at most 4 * SMALL_WORDS */
  return r;
}

/* Whether word w holds no pointer (an immediate). */
static inline bool immediate_word(uint64_t w) {
  return (w & TAG_MASK) > COTP__TAG_LIST;
}

/* The commonest small values, a tuple of immediates ({:mod, :fun, 2}) or
 * a list of up to 4 of them ([pid]), copied into room words at dst
 * without the general copy's scan; COTP_NONE for anything else, or when
 * they do not fit.  *used gets the words taken.  (A recursive copy of
 * small trees of tuples and lists, tried for messages, cost more than
 * the general copy: this is flat on purpose.) */
static cotp_term copy_flat(uint64_t *dst, size_t room, cotp_term t,
                           size_t *used) {
  if (is_boxed(t)) {
    const uint64_t *p = box_ptr(t);
    size_t n = HDR_COUNT(p[0]);
    if ((p[0] & 127u) != HDR_MAKE(BOX_TUPLE, 0) || n > 8 || n + 1 > room)
      return COTP_NONE;
    for (size_t i = 1; i <= n; i++)
      if (!immediate_word(p[i]))
        return COTP_NONE;
    for (size_t i = 0; i <= n; i++)
      dst[i] = p[i];
    *used = n + 1;
    return box_term(dst);
  }
  size_t n = 0; /* cells */
  for (cotp_term c = t; cotp_is_cons(c); c = (cotp_term){cons_ptr(c)[1]}) {
    if (++n > 4 || !immediate_word(cons_ptr(c)[0]))
      return COTP_NONE;
    uint64_t tail = cons_ptr(c)[1];
    if (!cotp_is_cons((cotp_term){tail}) && !immediate_word(tail))
      return COTP_NONE; /* an improper tail that points */
  }
  if (2 * n > room)
    return COTP_NONE;
  cotp_term c = t;
  for (size_t i = 0; i < n; i++, c = (cotp_term){cons_ptr(c)[1]}) {
    dst[2 * i] = cons_ptr(c)[0];
    uint64_t tail = cons_ptr(c)[1];
    dst[2 * i + 1] = i + 1 < n ? cons_term(dst + 2 * i + 2).w : tail;
  }
  *used = 2 * n;
  return cons_term(dst);
}

/* copy_flat, or else copy_to_top. */
static cotp_term copy_small(struct cotp__block *top, cotp_term t) {
  size_t used;
  cotp_term r = copy_flat(top->words + top->used, top->cap - top->used, t,
                          &used);
  if (cotp_is_none(r))
    return copy_to_top(top, t);
  top->used += (uint32_t)used; /* at most 9 */
  return r;
}

cotp_term cotp_term_copy(cotp_heap *dst, cotp_term t) {
  if (cotp_is_none(t))
    return COTP_NONE;
  if (!points(t))
    return t;
  /* most copies are small and the newest block has room: copy straight
   * into it, one pass, no sizing walk first */
  struct cotp__block *top = dst ? dst->top : NULL;
  size_t room = top ? top->cap - top->used : 0;
  if (room) {
    cotp_term r = copy_small(top, t);
    if (!cotp_is_none(r))
      return r;
  }
  /* With no room at all (the first copy into an empty heap, such as a
   * dictionary's first entry, or a full block), the same into the block
   * the heap would push next, given back if the term is not small after
   * all. */
  if (dst && !room && cotp__heap_grow(dst, 0)) {
    cotp_term r = copy_small(dst->top, t);
    if (!cotp_is_none(r))
      return r;
    if (dst->top->used == 0)
      cotp__heap_pop_empty(dst);
  }
  size_t words = cotp__term_words(t);
  if (words == 0)
    return t;
  uint64_t *p = cotp__heap_alloc(dst, words);
  if (!p)
    return COTP_NONE;
  return cotp__term_copy_into(p, t, dst->top);
}

int cotp_term_keep(cotp_term t, cotp_term *copy, cotp_heap **heap) {
  if (!copy || !heap)
    return COTP_EINVAL;
  *copy = COTP_NONE;
  *heap = NULL;
  if (cotp_is_none(t))
    return COTP_EINVAL;
  size_t words = cotp__term_words(t);
  if (words == 0) { /* an immediate: nothing to keep but the word */
    *copy = t;
    return 0;
  }
  /* A heap of one block of the term's size, where cotp_term_copy would
   * start a 256-byte block for what is often a key of three words. */
  cotp_heap *h = cotp_heap_new();
  uint64_t *p = h ? cotp__heap_grow_exact(h, words) : NULL;
  if (!p) {
    cotp_heap_free(h);
    return COTP_ENOMEM;
  }
  *copy = cotp__term_copy_into(p, t, h->top);
  *heap = h;
  return 0;
}
