/* SPDX-License-Identifier: Apache-2.0 */
/*
 * task_recv.c: recognising a task's messages, and a small map from
 * references to indexes for the functions that wait for many tasks.
 *
 * The waiting functions receive with a C test (cotp_receive_if) rather
 * than a pattern: a reply is {ref, _} and a DOWN {:DOWN, ref, _, _, _},
 * two word comparisons once the tuple's size is known, and waiting for a
 * thousand tasks at once is one lookup per message in the map below
 * instead of a thousand patterns.
 *
 * The map is open addressing with linear probing over a power-of-two
 * table at most half full, keyed by the reference's word (references are
 * immediates, so the word is the identity), which each slot finds through
 * the index it holds (task_int.h).  Removal shifts the following entries
 * back (no tombstones), so a map that sees many adds and removes, as a
 * stream's does, never degrades.  Up to four entries live inside the
 * struct, with no allocation.
 */
#include <stdlib.h>
#include <string.h>

#include "task_int.h"

bool cotp__task_is_reply(cotp_term msg, cotp_term ref) {
  return cotp_tuple_size(msg) == 2 && cotp_tuple_get(msg, 0).w == ref.w;
}

bool cotp__task_is_down(cotp_term msg, cotp_term ref) {
  return cotp_tuple_size(msg) == 5 && cotp_tuple_get(msg, 0).w == COTP_ATOM_DOWN.w &&
         cotp_tuple_get(msg, 1).w == ref.w;
}

int64_t cotp__task_deadline(int64_t timeout_ms) {
  return timeout_ms == COTP_INFINITY ? COTP_INFINITY
                                     : cotp_monotonic_ms() + timeout_ms;
}

int cotp__task_receive(cotp_accept_fn *accept, void *ctx, int64_t deadline,
                       cotp_term *msg) {
  if (cotp_receive_if(accept, ctx, 0, 0, msg) == 0)
    return 0;
  if (deadline != COTP_INFINITY && deadline - cotp_monotonic_ms() <= 0)
    return COTP_ETIMEDOUT; /* a timeout of 0 looks once, as `after 0` */
  /* before parking, let a task that is about to answer do so: waking a
   * parked process from another thread costs more (see task_stream.c) */
  for (int spin = 0; spin < COTP__TASK_SPINS; spin++) {
    cotp_yield();
    if (cotp_receive_if(accept, ctx, 0, 0, msg) == 0)
      return 0;
  }
  /* the deadline as it is: what is left would cost another clock read */
  return cotp_receive_if(accept, ctx, deadline, COTP_RECV_DEADLINE, msg) == 0
             ? 0
             : COTP_ETIMEDOUT;
}

static bool accept_reply(cotp_term msg, void *ctx) {
  return cotp__task_is_reply(msg, *(const cotp_term *)ctx);
}

bool cotp__task_flush_reply(cotp_term ref, cotp_term *reply) {
  cotp_term msg;
  if (cotp_receive_if(accept_reply, &ref, 0, 0, &msg) != 0)
    return false;
  if (reply)
    *reply = cotp_tuple_get(msg, 1);
  return true;
}

void cotp__task_demonitor(cotp_term ref) {
  /* a reference that is not a monitor (a completed task's) is left be,
   * as OTP 25 does */
  cotp_demonitor(ref, COTP_DEMONITOR_FLUSH);
}

/* --- scratch memory --- */

struct scratch {
  void *mem;
};

static void scratch_dtor(void *object) {
  struct scratch *s = object;
  free(s->mem);
  free(s);
}

void *cotp__scratch_alloc(size_t bytes, cotp_resource **handle) {
  struct scratch *s = malloc(sizeof *s);
  void *mem = malloc(bytes);
  cotp_resource *r = s && mem ? cotp_resource_new(s, scratch_dtor) : NULL;
  if (!r) {
    free(s);
    free(mem);
    return NULL;
  }
  s->mem = mem;
  cotp_term t = cotp_resource_term(cotp_self_heap(), r);
  if (cotp_is_none(t)) {
    cotp_resource_release(r);
    return NULL;
  }
  *handle = r; /* ours until cotp__scratch_free; the heap holds another */
  return mem;
}

void cotp__scratch_free(cotp_resource *handle) {
  struct scratch *s = cotp_resource_object(handle);
  free(s->mem);
  s->mem = NULL;
  cotp_resource_release(handle);
}

/* --- the reference map --- */

/*
 * The home slot of a reference: its number with the bits above the mask
 * folded in by exclusive or, times two.  References come from a counter,
 * and a batch of tasks has consecutive ones whose replies come back in
 * about the order they were made: folding keeps consecutive numbers in
 * neighbouring slots, so the map is walked a cache line at a time instead
 * of at random (a multiplicative hash made each lookup a cache miss: a
 * tenth of Task.await_many's time), and the tasks' array with it.  Times
 * two leaves every other slot free for collisions, so that a reference
 * that is not there is found missing at once.  Numbers that differ only
 * above the mask still get different slots.
 */
static uint32_t hash(uint64_t ref, uint32_t mask) {
  uint64_t n = ref >> 3; /* the number, without its tag */
  unsigned bits = (unsigned)__builtin_ctz(mask + 1); /* mask + 1: a power of two */
  return (uint32_t)((n ^ (n >> bits) ^ (n >> 2 * bits)) << 1) & mask;
}

/* The reference of index, and of a full slot. */
static uint64_t ref_at(const struct cotp__reftab *t, uint32_t index) {
  return ((const cotp_term *)(const void *)(t->refs + (size_t)index * t->stride))->w;
}
static uint64_t ref_of(const struct cotp__reftab *t, uint32_t slot) {
  return ref_at(t, cotp__reftab_index(&slot));
}

void cotp__reftab_init_in(struct cotp__reftab *t, uint32_t *slots, size_t cap,
                          const cotp_term *refs, size_t stride) {
  t->slots = slots;
  memset(slots, 0, cap * sizeof *slots);
  t->mask = (uint32_t)(cap - 1);
  t->refs = (const char *)refs;
  t->stride = stride;
}

bool cotp__reftab_init(struct cotp__reftab *t, size_t n, const cotp_term *refs,
                       size_t stride) {
  size_t cap = 8;
  if (n > (size_t)COTP__REFTAB_MAX + 1)
    return false;
  while (cap < 2 * n)
    cap *= 2;
  t->scratch = NULL;
  uint32_t *slots = t->small;
  if (cap > 8 && !(slots = cotp__scratch_alloc(cap * sizeof *slots, &t->scratch)))
    return false;
  cotp__reftab_init_in(t, slots, cap, refs, stride);
  return true;
}

void cotp__reftab_close(struct cotp__reftab *t) {
  if (t->scratch)
    cotp__scratch_free(t->scratch);
  t->scratch = NULL;
  t->slots = NULL;
}

uint32_t *cotp__reftab_find(const struct cotp__reftab *t, cotp_term ref) {
  if (!cotp_is_ref(ref))
    return NULL;
  for (uint32_t i = hash(ref.w, t->mask);; i = (i + 1) & t->mask) {
    uint32_t slot = t->slots[i];
    if (!slot)
      return NULL;
    if (ref_of(t, slot) == ref.w)
      return &t->slots[i];
  }
}

uint32_t *cotp__reftab_put(struct cotp__reftab *t, uint32_t index, bool *added) {
  uint64_t ref = ref_at(t, index);
  uint32_t i = hash(ref, t->mask);
  while (t->slots[i] && ref_of(t, t->slots[i]) != ref)
    i = (i + 1) & t->mask;
  bool fresh = !t->slots[i];
  if (added)
    *added = fresh;
  if (fresh)
    t->slots[i] = (index + 1) << 2;
  return &t->slots[i];
}

void cotp__reftab_remove_at(struct cotp__reftab *t, uint32_t *slot) {
  uint32_t hole = (uint32_t)(slot - t->slots);
  /* shift back every entry of the run after the hole that may move to it */
  for (uint32_t i = (hole + 1) & t->mask; t->slots[i]; i = (i + 1) & t->mask) {
    uint32_t home = hash(ref_of(t, t->slots[i]), t->mask);
    /* the entry may fill the hole if its home is not in (hole, i] */
    bool movable = hole <= i ? (home <= hole || home > i) : (home <= hole && home > i);
    if (movable) {
      t->slots[hole] = t->slots[i];
      hole = i;
    }
  }
  t->slots[hole] = 0;
}
