/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hash.c: erlang:phash2/1 and erlang:phash2/2, the portable term hash.
 *
 * The hash agrees bit for bit with OTP 25's make_hash2() (the function
 * behind phash2) for integers, floats, atoms, binaries, tuples, lists and
 * maps, so a value computed here can be compared with one computed by an
 * Erlang node, and a term partitioned here lands where Erlang puts it.  The
 * design is Erlang's: a 32-bit state is folded with Bob Jenkins' 96-bit mix
 * over the parts of the term in a fixed order, each part salted with a
 * constant of its type (a multiple of the golden ratio).  Binaries go
 * through Jenkins' lookup2 block hash; runs of byte-sized integers in a list
 * (strings) are packed four to a word first; integers outside 28 bits are
 * hashed as Erlang hashes bignums, by magnitude and sign; floats by their
 * bits, with -0.0 taken as 0.0; atoms by the hash of their name that
 * Erlang's atom table keeps.  A map is hashed pair by pair, each pair from a
 * zero state, and the pair hashes are combined with xor, so the result does
 * not depend on the order keys are stored in (ours is term order, Erlang's
 * is its internal hash order).  phash2/1 is the low 27 bits of the 32-bit
 * hash; phash2/2 is the 32-bit hash modulo the range.
 *
 * Not compatible: pids, references and resources.  Erlang hashes them by
 * node-local numbers that cotp does not have; here each is hashed by its
 * own local identity (the pid's bits, the reference's number, the
 * resource's id), which is deterministic within one program but differs
 * from what Erlang gives.
 *
 * The walk is iterative: a frame is a run of words still to hash in order
 * (a tuple's elements, a list's tail), a map's pairs still to hash, or a
 * marker that closes a pair or a map.  A run is popped before its last word
 * is hashed, so walking down a list never grows the stack; only nesting
 * does, and past LOCAL_FRAMES it moves to the C heap.
 */
#include <stdlib.h>

#include "layout.h"

enum { LOCAL_FRAMES = 32 };

/* The golden ratio, and its multiples by 2..19 modulo 2^32: the salts
 * Erlang mixes in for each kind of part. */
#define HC_1 0x9e3779b9u
#define HC_2 0x3c6ef372u
#define HC_3 0xdaa66d2bu
#define HC_4 0x78dde6e4u
#define HC_5 0x1715609du
#define HC_7 0x5384540fu
#define HC_8 0xf1bbcdc8u
#define HC_9 0x8ff34781u
#define HC_10 0x2e2ac13au
#define HC_11 0xcc623af3u
#define HC_12 0x6a99b4acu
#define HC_13 0x08d12e65u
#define HC_16 0xe3779b90u
#define HC_19 0xbe1e08bbu

/* What Erlang hashes [] to when it is the first thing hashed, and the type
 * code it mixes in for [] otherwise. */
#define NIL_FIRST 3468870702u
#define NIL_CODE 2u

enum frame_op {
  OP_RUN,      /* n words at p, hashed in order */
  OP_PAIRS,    /* n map pairs, keys at p, values at p + stride */
  OP_PAIR_END, /* a pair is hashed: fold it into the pairs' xor */
  OP_MAP_END   /* all pairs are hashed: restore the map's outer state */
};

struct frame {
  const uint64_t *p;
  size_t n, stride;
  enum frame_op op;
  uint32_t saved_hash, saved_xor;
};

struct walk {
  uint32_t hash;     /* the running hash */
  uint32_t xor_acc;  /* xor of the pair hashes of the innermost map */
  struct frame *f;
  size_t n, cap;
  struct frame local[LOCAL_FRAMES];
};

/* Jenkins' mix of three 32-bit words (lookup2). */
static void mix(uint32_t *a, uint32_t *b, uint32_t *c) {
  *a -= *b; *a -= *c; *a ^= *c >> 13;
  *b -= *c; *b -= *a; *b ^= *a << 8;
  *c -= *a; *c -= *b; *c ^= *b >> 13;
  *a -= *b; *a -= *c; *a ^= *c >> 12;
  *b -= *c; *b -= *a; *b ^= *a << 16;
  *c -= *a; *c -= *b; *c ^= *b >> 5;
  *a -= *b; *a -= *c; *a ^= *c >> 3;
  *b -= *c; *b -= *a; *b ^= *a << 10;
  *c -= *a; *c -= *b; *c ^= *b >> 15;
}

/* Folds two words, each salted with k, into the hash. */
static void fold2(uint32_t *hash, uint32_t x, uint32_t y, uint32_t k) {
  uint32_t a = k + x, b = k + y;
  mix(&a, &b, hash);
}

static void fold(uint32_t *hash, uint32_t x, uint32_t k) {
  fold2(hash, x, 0, k);
}

static uint32_t le32(const uint8_t *k) {
  return (uint32_t)k[0] | (uint32_t)k[1] << 8 | (uint32_t)k[2] << 16 |
         (uint32_t)k[3] << 24;
}

/* Jenkins' lookup2 over len bytes, seeded with init.  Erlang feeds it the
 * size truncated to 32 bits (so that hashes of binaries over 4 GiB stayed
 * what they were), and so do we. */
static uint32_t block_hash(const uint8_t *k, uint32_t len, uint32_t init) {
  uint32_t a = HC_1, b = HC_1, c = init;
  uint32_t left = len;
  for (; left >= 12; left -= 12, k += 12) {
    a += le32(k);
    b += le32(k + 4);
    c += le32(k + 8);
    mix(&a, &b, &c);
  }
  /* The tail: up to 11 bytes, little-endian into a, b and the top three
   * bytes of c, whose low byte takes the length.  Padding the tail with
   * zeros adds exactly the bytes that are there. */
  uint8_t tail[12] = {0};
  memcpy(tail, k, left);
  a += le32(tail);
  b += le32(tail + 4);
  c += len + (le32(tail + 8) << 8);
  mix(&a, &b, &c);
  return c;
}

/*
 * The hash Erlang's atom table keeps for an atom: hashpjw over the UTF-8
 * name, except that a two-byte sequence for a code point below 256 counts
 * as that one byte (so atoms hash as they did when names were Latin-1).
 * Only the low 32 bits matter, and they evolve the same in 32-bit
 * arithmetic as in Erlang's wider one.
 */
static uint32_t atom_hash(cotp_term t) {
  size_t len;
  const uint8_t *p = (const uint8_t *)cotp__atom_text(imm_value(t), &len);
  uint32_t h = 0;
  while (len--) {
    uint32_t v = *p++;
    if (len && (v & 0xFEu) == 0xC2u && (*p & 0xC0u) == 0x80u) {
      v = ((v << 6) | (*p & 0x3Fu)) & 0xFFu;
      p++;
      len--;
    }
    h = (h << 4) + v;
    uint32_t g = h & 0xF0000000u;
    if (g) {
      h ^= g >> 24;
      h ^= g;
    }
  }
  return h;
}

static void hash_int(uint32_t *hash, int64_t v) {
  if (v >= -((int64_t)1 << 27) && v < ((int64_t)1 << 27)) {
    /* Erlang mixes a negative small integer twice, by its magnitude and
     * by its two's-complement word. */
    if (v < 0)
      fold(hash, (uint32_t)-v, HC_1);
    fold(hash, (uint32_t)v, HC_1);
    return;
  }
  /* Outside 28 bits Erlang hashes the integer as a bignum: the 64-bit
   * magnitude in two halves, salted by the sign.  Every int64 is one
   * bignum digit, -2^63 included. */
  uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  fold2(hash, (uint32_t)mag, (uint32_t)(mag >> 32), v < 0 ? HC_10 : HC_11);
}

static void hash_float(uint32_t *hash, double d) {
  if (d == 0.0)
    d = 0.0; /* -0.0 hashes as 0.0, as in OTP 25 */
  uint64_t bits;
  memcpy(&bits, &d, sizeof bits);
  fold2(hash, (uint32_t)(bits >> 32), (uint32_t)bits, HC_12);
}

static void hash_binary(uint32_t *hash, const uint8_t *data, size_t len) {
  uint32_t seed = HC_13 + *hash;
  uint32_t len32 = (uint32_t)(len & 0xFFFFFFFFu);
  *hash = len32 == 0 ? seed : block_hash(data, len32, seed);
}

static void push(struct walk *w, struct frame fr) {
  if (w->n == w->cap) {
    size_t cap = w->cap * 2;
    struct frame *f = malloc(cap * sizeof *f);
    if (!f)
      abort(); /* nesting deeper than memory: the term could not exist */
    memcpy(f, w->f, w->n * sizeof *f);
    if (w->f != w->local)
      free(w->f);
    w->f = f;
    w->cap = cap;
  }
  w->f[w->n++] = fr;
}

static void push_run(struct walk *w, const uint64_t *p, size_t n) {
  push(w, (struct frame){.p = p, .n = n, .op = OP_RUN});
}

static bool is_byte(uint64_t word) {
  cotp_term t = {word};
  return TAG_OF(t) == COTP__TAG_INT && imm_value(t) < 256;
}

/*
 * Hashes the cons cells from t on.  Byte-sized heads are packed four to a
 * word, first byte highest, and each full word (and a last partial one) is
 * folded in.  At the first other head, the tail goes on the stack and the
 * head is returned to be hashed next; at the end of the list the
 * terminator ([] or an improper tail) is returned.
 */
static cotp_term hash_list(struct walk *w, cotp_term t) {
  uint32_t packed = 0;
  unsigned count = 0;
  const uint64_t *cell = cons_ptr(t);
  while (is_byte(cell[0])) {
    packed = (packed << 8) + (uint32_t)(cell[0] >> COTP__TAG_BITS);
    if (++count == 4) {
      fold(&w->hash, packed, HC_4);
      packed = 0;
      count = 0;
    }
    t = (cotp_term){cell[1]};
    if (!cotp_is_cons(t))
      break;
    cell = cons_ptr(t);
  }
  if (count > 0)
    fold(&w->hash, packed, HC_4);
  if (!cotp_is_cons(t))
    return t;
  push_run(w, cell + 1, 1);
  return (cotp_term){cell[0]};
}

/* Hashes a map's size and queues its pairs, each to be hashed from a zero
 * state and xor-ed into the pairs' accumulator. */
static void hash_map(struct walk *w, const uint64_t *p) {
  size_t n = HDR_COUNT(p[0]);
  fold(&w->hash, (uint32_t)n, HC_16);
  if (n == 0)
    return;
  push(w, (struct frame){.op = OP_MAP_END, .saved_hash = w->hash,
                         .saved_xor = w->xor_acc});
  push(w, (struct frame){.p = p + 1, .n = n, .stride = n, .op = OP_PAIRS});
  w->hash = 0;
  w->xor_acc = 0;
}

/* Local identities, for the types whose Erlang hash cotp cannot match. */
static void hash_local(uint32_t *hash, uint64_t id, uint32_t salt) {
  fold2(hash, (uint32_t)id, (uint32_t)(id >> 32), salt);
}

/*
 * Hashes one term into w.  Scalars are folded in at once; a compound term
 * folds in its header (arity, size) and queues its parts, or, for a list,
 * hands back the next term to hash without touching the stack.
 */
static void step(struct walk *w, cotp_term t) {
  for (;;) {
    switch (TAG_OF(t)) {
    case COTP__TAG_INT:
      hash_int(&w->hash, small_value(t));
      return;
    case COTP__TAG_ATOM:
      /* Erlang takes the atom's hash as is when nothing came before it,
       * and mixes it in otherwise. */
      if (w->hash == 0)
        w->hash = atom_hash(t);
      else
        fold(&w->hash, atom_hash(t), HC_3);
      return;
    case COTP__TAG_NIL:
      if (w->hash == 0)
        w->hash = NIL_FIRST;
      else
        fold(&w->hash, NIL_CODE, HC_2);
      return;
    case COTP__TAG_LIST:
      t = hash_list(w, t);
      continue;
    case COTP__TAG_PID:
      hash_local(&w->hash, imm_value(t), HC_5);
      return;
    case COTP__TAG_REF:
      hash_local(&w->hash, imm_value(t), HC_7);
      return;
    default:
      break;
    }
    if (t.w == 0) {
      fold(&w->hash, 0, HC_8); /* COTP_NONE: not a term, but hash it */
      return;
    }
    const uint64_t *p = box_ptr(t);
    size_t n = HDR_COUNT(p[0]);
    int64_t big;
    switch (HDR_KIND(p[0])) {
    case BOX_TUPLE:
      fold(&w->hash, (uint32_t)n, HC_9);
      if (n > 0)
        push_run(w, p + 1, n);
      return;
    case BOX_INT64:
      memcpy(&big, p + 1, sizeof big);
      hash_int(&w->hash, big);
      return;
    case BOX_FLOAT:
      hash_float(&w->hash, float_value(t));
      return;
    case BOX_HEAPBIN:
      hash_binary(&w->hash, (const uint8_t *)(p + 1), n);
      return;
    case BOX_REFCBIN:
      hash_binary(&w->hash, refcbin_data(p), n);
      return;
    case BOX_MAP:
      hash_map(w, p);
      return;
    case BOX_RESOURCE:
      hash_local(&w->hash, resource_of(p)->id, HC_8);
      return;
    default:
      return;
    }
  }
}

/* Erlang's make_hash2(): the full 32-bit hash. */
static uint32_t hash2(cotp_term t) {
  struct walk w = {.hash = 0, .xor_acc = 0, .n = 0, .cap = LOCAL_FRAMES};
  w.f = w.local;
  step(&w, t);
  while (w.n > 0) {
    struct frame *f = &w.f[w.n - 1];
    cotp_term next;
    switch (f->op) {
    case OP_RUN:
      next = (cotp_term){*f->p++};
      if (--f->n == 0)
        w.n--; /* popped before descending: list tails in constant stack */
      step(&w, next);
      break;
    case OP_PAIRS: {
      /* Read the frame before popping it: the pushes reuse its slot. */
      const uint64_t *key = f->p++;
      size_t stride = f->stride;
      if (--f->n == 0)
        w.n--;
      /* The value after the key, then the end of the pair. */
      push(&w, (struct frame){.op = OP_PAIR_END});
      push_run(&w, key + stride, 1);
      step(&w, (cotp_term){*key});
      break;
    }
    case OP_PAIR_END:
      w.n--;
      w.xor_acc ^= w.hash;
      w.hash = 0;
      break;
    case OP_MAP_END:
      w.n--;
      w.hash = f->saved_hash;
      fold(&w.hash, w.xor_acc, HC_19);
      w.xor_acc = f->saved_xor;
      break;
    }
  }
  if (w.f != w.local)
    free(w.f);
  return w.hash;
}

uint32_t cotp_term_phash2(cotp_term t) {
  return hash2(t) & ((UINT32_C(1) << 27) - 1);
}

uint32_t cotp_term_phash2_range(cotp_term t, uint32_t range) {
  /* Erlang reduces the full 32-bit hash, not phash2/1's 27 bits. */
  uint32_t h = hash2(t);
  return range == 0 ? h : h % range;
}
