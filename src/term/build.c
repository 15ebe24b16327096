/* SPDX-License-Identifier: Apache-2.0 */
/*
 * build.c: constructors for numbers, tuples, lists, pids and references.
 * Binaries are in binary.c, maps in map.c, resources in resource.c.
 *
 * Every constructor returns COTP_NONE when given COTP_NONE, so that an error
 * deep in a nested build surfaces at the top (the heap keeps the first
 * error's message).
 */
#include <math.h>
#include <stdlib.h>

#include "layout.h"

cotp_term cotp__int_big(cotp_heap *h, int64_t v) {
  if (v >= SMALL_MIN && v <= SMALL_MAX)
    return small_term(v);
  uint64_t *p = cotp__heap_alloc(h, 2);
  if (!p)
    return COTP_NONE;
  p[0] = HDR_MAKE(BOX_INT64, 0);
  memcpy(p + 1, &v, sizeof v);
  return box_term(p);
}

cotp_term cotp_uint(cotp_heap *h, uint64_t v) {
  if (v > (uint64_t)INT64_MAX) {
    cotp__heap_fail(h, COTP_ERANGE,
                    "integer %llu does not fit in 64 signed bits",
                    (unsigned long long)v);
    return COTP_NONE;
  }
  return cotp_int(h, (int64_t)v);
}

cotp_term cotp_float(cotp_heap *h, double v) {
  if (!isfinite(v)) {
    cotp__heap_fail(h, COTP_ERANGE, "float %g is not finite (Erlang has no "
                                    "NaN or infinity)", v);
    return COTP_NONE;
  }
  uint64_t *p = cotp__heap_alloc(h, 2);
  if (!p)
    return COTP_NONE;
  p[0] = HDR_MAKE(BOX_FLOAT, 0);
  memcpy(p + 1, &v, sizeof v);
  return box_term(p);
}

cotp_term cotp_bool(bool b) { return b ? COTP_ATOM_TRUE : COTP_ATOM_FALSE; }

/* Writes the tuple of n elems at p (1 + n words). */
static inline cotp_term tuple_at(uint64_t *p, size_t n, const cotp_term *elems) {
  p[0] = HDR_MAKE(BOX_TUPLE, n);
  uint64_t none = 0; /* a NONE element (a failed build) makes the tuple NONE */
  for (size_t i = 0; i < n; i++) {
    uint64_t w = elems[i].w;
    none |= w == 0;
    p[1 + i] = w;
  }
  return none ? COTP_NONE : box_term(p);
}

static __attribute__((noinline)) cotp_term
tuple_slow(cotp_heap *h, size_t n, const cotp_term *elems) {
  if (n > COTP_MAX_TUPLE_ARITY) {
    cotp__heap_fail(h, COTP_ESYSLIMIT, "tuple of %zu elements is over the "
                                       "limit of %d", n, COTP_MAX_TUPLE_ARITY);
    return COTP_NONE;
  }
  if (n > 0 && !elems) {
    cotp__heap_fail(h, COTP_EINVAL, "tuple: elements are NULL");
    return COTP_NONE;
  }
  uint64_t *p = cotp__heap_alloc(h, 1 + n);
  return p ? tuple_at(p, n, elems) : COTP_NONE;
}

cotp_term cotp_tuple(cotp_heap *h, size_t n, const cotp_term *elems) {
  /* the usual tuple, a few given elements in the room the top block has,
   * calls nothing: no registers to save */
  uint64_t *p;
  if (n - 1 < 16 && elems && h && (p = cotp__heap_bump(h, 1 + n)))
    return tuple_at(p, n, elems);
  return tuple_slow(h, n, elems);
}

cotp_term cotp_cons(cotp_heap *h, cotp_term head, cotp_term tail) {
  if (cotp_is_none(head) || cotp_is_none(tail))
    return COTP_NONE;
  uint64_t *p = cotp__heap_alloc(h, 2);
  if (!p)
    return COTP_NONE;
  p[0] = head.w;
  p[1] = tail.w;
  return cons_term(p);
}

cotp_term cotp_list(cotp_heap *h, size_t n, const cotp_term *elems) {
  if (n == 0)
    return COTP_NIL;
  if (!elems) {
    cotp__heap_fail(h, COTP_EINVAL, "list: elements are NULL");
    return COTP_NONE;
  }
  for (size_t i = 0; i < n; i++)
    if (cotp_is_none(elems[i]))
      return COTP_NONE;
  if (n > SIZE_MAX / 16) {
    cotp__heap_fail(h, COTP_ENOMEM, "list of %zu elements is too long", n);
    return COTP_NONE;
  }
  /* One allocation for all cells, built back to front. */
  uint64_t *p = cotp__heap_alloc(h, 2 * n);
  if (!p)
    return COTP_NONE;
  cotp_term tail = COTP_NIL;
  for (size_t i = n; i-- > 0;) {
    p[2 * i] = elems[i].w;
    p[2 * i + 1] = tail.w;
    tail = cons_term(p + 2 * i);
  }
  return tail;
}

cotp_term cotp_charlist(cotp_heap *h, const char *s) {
  if (!s) {
    cotp__heap_fail(h, COTP_EINVAL, "charlist: text is NULL");
    return COTP_NONE;
  }
  size_t len = strlen(s), chars;
  const uint8_t *u = (const uint8_t *)s;
  if (!cotp__utf8_valid(u, len, &chars)) {
    cotp__heap_fail(h, COTP_EUTF8, "charlist: text is not valid UTF-8");
    return COTP_NONE;
  }
  if (chars == 0)
    return COTP_NIL;
  uint64_t *p = cotp__heap_alloc(h, 2 * chars);
  if (!p)
    return COTP_NONE;
  for (size_t i = 0, at = 0; i < chars; i++) {
    uint32_t cp;
    at += cotp__utf8_decode(u + at, &cp);
    p[2 * i] = small_term(cp).w;
    p[2 * i + 1] = i + 1 < chars ? cons_term(p + 2 * i + 2).w : COTP_NIL.w;
  }
  return cons_term(p);
}

/* --- pids and references --- */

#define PID_NUMBER_MASK ((1u << COTP_PID_NUMBER_BITS) - 1)
#define PID_SERIAL_MASK ((1u << COTP_PID_SERIAL_BITS) - 1)
#define PID_NODE_MASK ((1u << COTP_PID_NODE_BITS) - 1)

cotp_pid cotp_pid_make(uint32_t node, uint32_t number, uint32_t serial) {
  return (cotp_pid){(uint64_t)(number & PID_NUMBER_MASK) |
                    (uint64_t)(serial & PID_SERIAL_MASK) << COTP_PID_NUMBER_BITS |
                    (uint64_t)(node & PID_NODE_MASK)
                        << (COTP_PID_NUMBER_BITS + COTP_PID_SERIAL_BITS)};
}

uint32_t cotp_pid_number(cotp_pid p) {
  return (uint32_t)(p.bits & PID_NUMBER_MASK);
}

uint32_t cotp_pid_serial(cotp_pid p) {
  return (uint32_t)((p.bits >> COTP_PID_NUMBER_BITS) & PID_SERIAL_MASK);
}

uint32_t cotp_pid_node(cotp_pid p) {
  return (uint32_t)((p.bits >> (COTP_PID_NUMBER_BITS + COTP_PID_SERIAL_BITS)) &
                    PID_NODE_MASK);
}


/*
 * References come from one counter.  Each thread takes a batch of numbers at
 * a time, so making a reference is a thread-local increment and the shared
 * counter sees one atomic add per REF_BATCH references.  A process may move
 * between threads, but it never yields inside this function, so the batch it
 * uses belongs to the thread it runs on for the whole call.
 */
#define REF_BATCH 1024
static _Atomic uint64_t ref_next = 1;
static _Thread_local uint64_t ref_at, ref_end;

cotp_term cotp_make_ref(void) {
  if (ref_at == ref_end) {
    ref_at = atomic_fetch_add_explicit(&ref_next, REF_BATCH,
                                       memory_order_relaxed);
    ref_end = ref_at + REF_BATCH;
  }
  /* 2^61 references: at a billion a second, 73 years. */
  return COTP__IMM(COTP__TAG_REF, ref_at++ & ((1ull << 61) - 1));
}
