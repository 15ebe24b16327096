/* SPDX-License-Identifier: Apache-2.0 */
/*
 * atom.c: the atom table.  Every atom of the program is interned here once
 * and never freed, as in Erlang; a term holds its index.
 *
 * Design.  Two structures, both readable without a lock:
 *   - entries: index -> name, a fixed top-level array of chunk pointers
 *     (CHUNK atoms each).  A chunk is published with a release store before
 *     any index in it is handed out, and entries never move.
 *   - index: name -> index, an open-addressing hash table of slots holding
 *     index + 1 (0 = empty).  A slot is written once, with a release store,
 *     after its entry is complete.
 * Creating an atom takes `grow_lock`: it looks the name up again, appends the
 * entry, then fills a slot.  When the table passes half full, a table of
 * twice the size is filled and published; the old one is kept (on `retired`)
 * because readers may still be probing it.  A reader that misses on an old
 * table falls through to the locked path, which sees the new one, so a miss
 * is never wrong.  Old tables are a geometric series: together they are
 * smaller than the live one.
 *
 * The predefined atoms (cotp/term.h) take indexes 0.. in list order, so
 * COTP_ATOM_OK is a constant.  Their names come from a static array and are
 * entered into the hash index on first use (pthread_once).
 *
 * Invariants:
 *  1. index < count, and entries[index] is complete, for every index any
 *     thread can see in a term.
 *  2. A hash slot, once non-zero, never changes.
 *  3. Names are valid UTF-8 of at most 255 code points.
 */
#include <pthread.h>
#include <stdlib.h>

#include "layout.h"

#define ATOM_LIMIT (1u << 20) /* Erlang's default atom limit */
#define CHUNK_BITS 12
#define CHUNK (1u << CHUNK_BITS)

struct atom_entry {
  uint32_t len;
  uint64_t hash;
  char name[];
};

struct index_table {
  size_t mask; /* slots - 1 */
  struct index_table *retired;
  _Atomic uint32_t slots[];
};

static const char *const predefined[] = {
#define NAME_(c, s) s,
    COTP_ATOM_MAP(NAME_)
#undef NAME_
};

/* Their lengths, for cotp__atom_text: term comparison reads them */
static const uint8_t predefined_len[] = {
#define LEN_(c, s) sizeof(s) - 1,
    COTP_ATOM_MAP(LEN_)
#undef LEN_
};

/* Written under grow_lock, read by anyone. */
static _Atomic(struct atom_entry *) *_Atomic chunks[ATOM_LIMIT / CHUNK];
static _Atomic(struct index_table *) table;
static _Atomic uint32_t count;

/* grow_lock only. */
static pthread_mutex_t grow_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static uint64_t hash_name(const char *s, size_t len) {
  /* FNV-1a, then a final mix so that the low bits (the slot) depend on
   * every byte. */
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

static struct atom_entry *entry_at(uint32_t index) {
  _Atomic(struct atom_entry *) *chunk =
      atomic_load_explicit(&chunks[index >> CHUNK_BITS], memory_order_acquire);
  /* acquire pairs with the release in append_entry */
  return atomic_load_explicit(&chunk[index & (CHUNK - 1)], memory_order_acquire);
}

static bool name_is(const struct atom_entry *e, uint64_t h, const char *s,
                    size_t len) {
  return e->hash == h && e->len == len && memcmp(e->name, s, len) == 0;
}

/* Probes t for the name; returns index + 1, or 0. */
static uint32_t probe(struct index_table *t, uint64_t h, const char *s,
                      size_t len) {
  for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
    /* acquire pairs with the release in insert_slot */
    uint32_t v = atomic_load_explicit(&t->slots[i], memory_order_acquire);
    if (v == 0)
      return 0;
    if (name_is(entry_at(v - 1), h, s, len))
      return v;
  }
}

static void insert_slot(struct index_table *t, uint64_t h, uint32_t index) {
  size_t i = h & t->mask;
  while (atomic_load_explicit(&t->slots[i], memory_order_relaxed) != 0)
    i = (i + 1) & t->mask;
  atomic_store_explicit(&t->slots[i], index + 1,
                        memory_order_release); /* to probe's acquire */
}

static struct index_table *table_new(size_t slots) {
  struct index_table *t =
      calloc(1, sizeof *t + slots * sizeof(_Atomic uint32_t));
  if (t)
    t->mask = slots - 1;
  return t;
}

/* grow_lock held.  Makes room for one more entry in the index. */
static int ensure_room(void) {
  struct index_table *t = atomic_load_explicit(&table, memory_order_relaxed);
  uint32_t n = atomic_load_explicit(&count, memory_order_relaxed);
  if (t && (size_t)(n + 1) * 2 <= t->mask + 1)
    return 0;
  struct index_table *bigger = table_new(t ? (t->mask + 1) * 2 : 1024);
  if (!bigger)
    return COTP_ENOMEM;
  for (uint32_t i = 0; i < n; i++)
    insert_slot(bigger, entry_at(i)->hash, i);
  bigger->retired = t;
  atomic_store_explicit(&table, bigger, memory_order_release); /* to lookup */
  return 0;
}

/* grow_lock held.  Appends an entry and returns its index, or a code. */
static int append_entry(const char *s, size_t len, uint64_t h, uint32_t *index) {
  uint32_t n = atomic_load_explicit(&count, memory_order_relaxed);
  if (n >= ATOM_LIMIT)
    return COTP_ESYSLIMIT;
  int rc = ensure_room();
  if (rc)
    return rc;
  _Atomic(struct atom_entry *) *chunk =
      atomic_load_explicit(&chunks[n >> CHUNK_BITS], memory_order_relaxed);
  if (!chunk) {
    chunk = calloc(CHUNK, sizeof *chunk);
    if (!chunk)
      return COTP_ENOMEM;
    atomic_store_explicit(&chunks[n >> CHUNK_BITS], chunk,
                          memory_order_release); /* to entry_at */
  }
  struct atom_entry *e = malloc(sizeof *e + len + 1);
  if (!e)
    return COTP_ENOMEM;
  e->len = (uint32_t)len;
  e->hash = h;
  memcpy(e->name, s, len);
  e->name[len] = '\0';
  atomic_store_explicit(&chunk[n & (CHUNK - 1)], e,
                        memory_order_release); /* to entry_at */
  insert_slot(atomic_load_explicit(&table, memory_order_relaxed), h, n);
  atomic_store_explicit(&count, n + 1, memory_order_release);
  *index = n;
  return 0;
}

static void enter_predefined(void) {
  pthread_mutex_lock(&grow_lock);
  for (size_t i = 0; i < sizeof predefined / sizeof *predefined; i++) {
    uint32_t index;
    size_t len = strlen(predefined[i]);
    if (append_entry(predefined[i], len, hash_name(predefined[i], len),
                     &index) != 0)
      abort(); /* a few hundred bytes at start-up: nothing to recover */
  }
  pthread_mutex_unlock(&grow_lock);
}

static cotp_term atom_term(uint32_t index) {
  return COTP__IMM(COTP__TAG_ATOM, index);
}

static int check_name(const char *name, size_t len) {
  if (!name)
    return COTP_EINVAL;
  size_t chars;
  if (!cotp__utf8_valid((const uint8_t *)name, len, &chars))
    return COTP_EUTF8;
  if (chars > COTP_ATOM_MAX_CHARS)
    return COTP_EATOMLEN;
  return 0;
}

cotp_term cotp_atom_existing(const char *name, size_t len) {
  if (!name)
    return COTP_NONE;
  pthread_once(&once, enter_predefined);
  uint64_t h = hash_name(name, len);
  /* acquire pairs with the release in ensure_room */
  uint32_t v = probe(atomic_load_explicit(&table, memory_order_acquire), h,
                     name, len);
  if (v)
    return atom_term(v - 1);
  /* The table may have grown under us: look once more under the lock. */
  pthread_mutex_lock(&grow_lock);
  v = probe(atomic_load_explicit(&table, memory_order_relaxed), h, name, len);
  pthread_mutex_unlock(&grow_lock);
  return v ? atom_term(v - 1) : COTP_NONE;
}

int cotp_atom_new(const char *name, size_t len, cotp_term *out) {
  if (!name)
    return COTP_EINVAL;
  pthread_once(&once, enter_predefined);
  uint64_t h = hash_name(name, len);
  uint32_t v = probe(atomic_load_explicit(&table, memory_order_acquire), h,
                     name, len);
  if (v) { /* the same bytes as a valid name: no need to check them */
    *out = atom_term(v - 1);
    return 0;
  }
  int rc = check_name(name, len);
  if (rc)
    return rc;
  pthread_mutex_lock(&grow_lock);
  v = probe(atomic_load_explicit(&table, memory_order_relaxed), h, name, len);
  uint32_t index = v ? v - 1 : 0;
  if (!v)
    rc = append_entry(name, len, h, &index);
  pthread_mutex_unlock(&grow_lock);
  if (rc == 0)
    *out = atom_term(index);
  return rc;
}

cotp_term cotp_atom(const char *name) {
  cotp_term t;
  return name && cotp_atom_new(name, strlen(name), &t) == 0 ? t : COTP_NONE;
}

size_t cotp_atom_count(void) {
  pthread_once(&once, enter_predefined);
  return atomic_load_explicit(&count, memory_order_acquire);
}

const char *cotp__atom_text(uint64_t index, size_t *len) {
  if (index < COTP__ATOM_PREDEFINED) {
    /* Constant atoms can be printed before anything created an atom. */
    if (len)
      *len = predefined_len[index];
    return predefined[index];
  }
  struct atom_entry *e = entry_at((uint32_t)index);
  if (len)
    *len = e->len;
  return e->name;
}

const char *cotp_atom_name(cotp_term t, size_t *len) {
  if (!cotp_is_atom(t))
    return NULL;
  return cotp__atom_text(imm_value(t), len);
}
