/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pattern.c: compiling patterns, matching, and the program-wide cache.
 *
 * Compile: parse (parse.c) into a node tree, fold variable-free subtrees
 * into literals (compiled.h), copy out the variable names, compile the
 * guard (guard.c).  Match: walk the program and the term together; a list's
 * tail and a tuple's last element are walked in a loop, not by recursion,
 * so only nesting costs stack, and nesting is bounded at compile time.
 *
 * The cache maps source text to compiled pattern: an open-addressing table
 * read without a lock (slots are written once, with release), written under
 * a mutex, grown by publishing a bigger copy and keeping the old one for
 * readers still probing it (the atom table's scheme, atom.c).
 */
#include <pthread.h>
#include <stdlib.h>

#include "compiled.h"

/* --- folding --- */

/* Index just past the subtree at i. */
static size_t subtree_end(const struct node *nodes, size_t i) {
  size_t pending = 1;
  while (pending > 0) {
    const struct node *nd = &nodes[i++];
    pending--;
    if (nd->op == N_TUPLE)
      pending += nd->n;
    else if (nd->op == N_CONS)
      pending += 2;
    else if (nd->op == N_MAP)
      pending += 2 * (size_t)nd->n;
  }
  return i;
}

static bool foldable(const struct node *nodes, size_t from, size_t to) {
  for (size_t i = from; i < to; i++)
    if (nodes[i].op != N_LIT && nodes[i].op != N_TUPLE && nodes[i].op != N_CONS)
      return false;
  return true;
}

struct folder {
  struct parser *p;
  struct node *out;
  size_t n;
};

/* Appends the folded form of the subtree at *i to f->out. */
static bool fold(struct folder *f, size_t *i) {
  const struct node *nodes = f->p->nodes;
  size_t end = subtree_end(nodes, *i);
  if (nodes[*i].op != N_LIT && foldable(nodes, *i, end)) {
    cotp_term t = cotp__parse_build(f->p, i);
    if (cotp_is_none(t)) {
      cotp__parse_heap_error(f->p, 0);
      return false;
    }
    f->out[f->n++] = (struct node){N_LIT, 0, t};
    return true;
  }
  const struct node nd = nodes[(*i)++];
  f->out[f->n++] = nd;
  switch (nd.op) {
  case N_TUPLE:
    for (uint32_t k = 0; k < nd.n; k++)
      if (!fold(f, i))
        return false;
    return true;
  case N_CONS:
    return fold(f, i) && fold(f, i);
  case N_MAP:
    for (uint32_t k = 0; k < nd.n; k++) {
      uint32_t op = nodes[*i].op;
      if (op != N_PIN && !foldable(nodes, *i, subtree_end(nodes, *i))) {
        cotp__lex_fail(&f->p->lx, COTP_ESYNTAX, 0,
                       "map keys in a pattern must be literals or pins");
        return false;
      }
      if (!fold(f, i) || !fold(f, i))
        return false;
    }
    return true;
  default:
    return true;
  }
}

/* --- compile --- */

static char *copy_text(const char *s, size_t len) {
  char *c = malloc(len + 1);
  if (c) {
    memcpy(c, s, len);
    c[len] = '\0';
  }
  return c;
}

void cotp_pattern_free(cotp_pattern *pat) {
  if (!pat)
    return;
  if (pat->names)
    for (uint32_t i = 0; i < pat->ncaptures + pat->npins; i++)
      free(pat->names[i]);
  free(pat->names);
  free(pat->nodes);
  free(pat->guard);
  cotp_heap_free(pat->lits);
  free(pat->source);
  free(pat);
}

static bool keep_names(struct parser *p, struct cotp_pattern *pat) {
  size_t n = pat->ncaptures + pat->npins;
  pat->names = calloc(n ? n : 1, sizeof *pat->names);
  if (!pat->names)
    return false;
  for (uint32_t i = 0; i < p->nvars; i++) {
    const struct var *v = &p->vars[i];
    size_t slot = v->pinned ? pat->ncaptures + v->index : v->index;
    if (!(pat->names[slot] = copy_text(v->s, v->len)))
      return false;
  }
  return true;
}

static bool is_flat_tuple(const struct node *nodes, size_t n);

static int compile(const char *src, cotp_pattern **out, cotp_error *err) {
  struct cotp_pattern *pat = calloc(1, sizeof *pat);
  cotp_heap *lits = cotp_heap_new();
  if (!pat || !lits || !(pat->source = copy_text(src, strlen(src)))) {
    free(pat ? pat->source : NULL);
    free(pat);
    cotp_heap_free(lits);
    *err = (cotp_error){COTP_ENOMEM, -1, "pattern: out of memory"};
    return COTP_ENOMEM;
  }
  pat->lits = lits;
  struct parser p = {.heap = lits, .pattern = true};
  cotp__lex_init(&p.lx, src, err);
  bool ok = cotp__parse_term(&p);
  pat->ncaptures = p.ncaptures;
  pat->npins = p.npins;
  if (ok) {
    struct folder f = {&p, malloc(p.n * sizeof *f.out), 0};
    size_t i = 0;
    ok = f.out && fold(&f, &i);
    if (!f.out)
      cotp__lex_fail(&p.lx, COTP_ENOMEM, 0, "out of memory");
    pat->nodes = f.out;
    pat->nnodes = f.n;
    pat->flat_tuple = is_flat_tuple(f.out, f.n);
  }
  if (ok && p.lx.tok.kind == T_IDENT && p.lx.tok.len == 4 &&
      memcmp(p.lx.tok.s, "when", 4) == 0) {
    cotp__lex_next(&p.lx);
    ok = cotp__guard_compile(&p, pat);
  }
  if (ok && p.lx.tok.kind != T_EOF) {
    cotp__lex_fail(&p.lx, COTP_ESYNTAX, p.lx.tok.at,
                   "unexpected text after the pattern");
    ok = false;
  }
  if (ok && !keep_names(&p, pat)) {
    cotp__lex_fail(&p.lx, COTP_ENOMEM, 0, "out of memory");
    ok = false;
  }
  cotp__parse_done(&p);
  if (!ok) {
    cotp_pattern_free(pat);
    return err->code ? err->code : COTP_ESYNTAX;
  }
  *out = pat;
  return 0;
}

int cotp_pattern_compile(const char *src, cotp_pattern **out, cotp_error *err) {
  cotp_error local;
  if (!err)
    err = &local;
  *err = (cotp_error){0, -1, ""};
  if (!src || !out) {
    *err = (cotp_error){COTP_EINVAL, -1, "pattern: source or out is NULL"};
    return COTP_EINVAL;
  }
  return compile(src, out, err);
}

size_t cotp_pattern_captures(const cotp_pattern *p) { return p->ncaptures; }
size_t cotp_pattern_pins(const cotp_pattern *p) { return p->npins; }
const char *cotp_pattern_source(const cotp_pattern *p) { return p->source; }

static int name_index(const cotp_pattern *p, const char *name, uint32_t from,
                      uint32_t count) {
  for (uint32_t i = 0; name && i < count; i++)
    if (strcmp(p->names[from + i], name) == 0)
      return (int)i;
  return COTP_ENOTFOUND;
}

int cotp_pattern_capture_index(const cotp_pattern *p, const char *name) {
  return name_index(p, name, 0, p->ncaptures);
}

int cotp_pattern_pin_index(const cotp_pattern *p, const char *name) {
  return name_index(p, name, p->ncaptures, p->npins);
}

/* --- match --- */

static bool is_leaf(const struct node *nd) {
  return nd->op == N_LIT || nd->op == N_ANY || nd->op == N_BIND ||
         nd->op == N_SAME || nd->op == N_PIN;
}

/* A tuple whose elements are all leaves: {:tag, ^ref, x}, {ref, _}, the
 * shape of most receive patterns, matched without recursion. */
static bool is_flat_tuple(const struct node *nodes, size_t n) {
  if (n == 0 || nodes[0].op != N_TUPLE || nodes[0].n + 1 != n)
    return false;
  for (size_t i = 1; i < n; i++)
    if (!is_leaf(&nodes[i]))
      return false;
  return true;
}

static inline bool match_leaf(const struct node *nd, cotp_term t,
                              const cotp_term *pins, cotp_term *caps) {
  switch (nd->op) {
  case N_LIT:
    return cotp_term_eq(nd->lit, t);
  case N_ANY:
    return true;
  case N_BIND:
    caps[nd->n] = t;
    return true;
  case N_SAME:
    return cotp_term_eq(caps[nd->n], t);
  default: /* N_PIN */
    return cotp_term_eq(pins[nd->n], t);
  }
}

static bool match_flat_tuple(const struct node *nodes, cotp_term t,
                             const cotp_term *pins, cotp_term *caps) {
  uint32_t n = nodes[0].n;
  if (cotp_tuple_size(t) != n || !cotp_is_tuple(t))
    return false;
  const uint64_t *e = box_ptr(t) + 1;
  for (uint32_t k = 0; k < n; k++)
    if (!match_leaf(&nodes[1 + k], (cotp_term){e[k]}, pins, caps))
      return false;
  return true;
}

static bool match_at(const struct node *nodes, size_t *i, cotp_term t,
                     const cotp_term *pins, cotp_term *caps) {
  for (;;) {
    const struct node *nd = &nodes[(*i)++];
    switch (nd->op) {
    case N_LIT:
    case N_ANY:
    case N_BIND:
    case N_SAME:
    case N_PIN:
      return match_leaf(nd, t, pins, caps);
    case N_TUPLE: {
      if (cotp_tuple_size(t) != nd->n || !cotp_is_tuple(t))
        return false;
      if (nd->n == 0)
        return true;
      for (uint32_t k = 0; k + 1 < nd->n; k++)
        if (!match_at(nodes, i, cotp_tuple_get(t, k), pins, caps))
          return false;
      t = cotp_tuple_get(t, nd->n - 1);
      continue;
    }
    case N_CONS:
      if (!cotp_is_cons(t) || !match_at(nodes, i, cotp_head(t), pins, caps))
        return false;
      t = cotp_tail(t);
      continue;
    case N_MAP: {
      if (!cotp_is_map(t))
        return false;
      for (uint32_t k = 0; k < nd->n; k++) {
        const struct node *key = &nodes[(*i)++];
        cotp_term v = cotp_map_get(t, key->op == N_PIN ? pins[key->n] : key->lit);
        if (cotp_is_none(v) || !match_at(nodes, i, v, pins, caps))
          return false;
      }
      return true;
    }
    default:
      return false;
    }
  }
}

bool cotp_match(const cotp_pattern *p, cotp_term t, const cotp_term *pins,
                cotp_term *captures) {
  if (!p || cotp_is_none(t) || (p->npins && !pins))
    return false;
  cotp_term caps[COTP_PATTERN_MAX_VARS];
  size_t i = 0;
  if (p->flat_tuple ? !match_flat_tuple(p->nodes, t, pins, caps)
                    : !match_at(p->nodes, &i, t, pins, caps))
    return false;
  if (p->guard && !cotp__guard_eval(p, caps, pins))
    return false;
  if (captures && p->ncaptures)
    memcpy(captures, caps, p->ncaptures * sizeof *caps);
  return true;
}

/* --- the cache --- */

struct cache_table {
  size_t mask;
  struct cache_table *retired;
  _Atomic(cotp_pattern *) slots[];
};

static _Atomic(struct cache_table *) cache;
static size_t cache_count; /* cache_lock */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t hash_text(const char *s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
  return h ^ (h >> 29);
}

static cotp_pattern *cache_probe(struct cache_table *t, uint64_t h,
                                 const char *src) {
  if (!t)
    return NULL;
  for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
    /* acquire pairs with the release in cache_put */
    cotp_pattern *p = atomic_load_explicit(&t->slots[i], memory_order_acquire);
    if (!p || strcmp(p->source, src) == 0)
      return p;
  }
}

static void cache_put(struct cache_table *t, uint64_t h, cotp_pattern *p) {
  size_t i = h & t->mask;
  while (atomic_load_explicit(&t->slots[i], memory_order_relaxed))
    i = (i + 1) & t->mask;
  atomic_store_explicit(&t->slots[i], p, memory_order_release);
}

/* cache_lock held: makes room for one more pattern. */
static bool cache_room(void) {
  struct cache_table *t = atomic_load_explicit(&cache, memory_order_relaxed);
  if (t && (cache_count + 1) * 2 <= t->mask + 1)
    return true;
  size_t slots = t ? (t->mask + 1) * 2 : 64;
  struct cache_table *bigger = calloc(1, sizeof *bigger + slots * sizeof(void *));
  if (!bigger)
    return false;
  bigger->mask = slots - 1;
  for (size_t i = 0; t && i <= t->mask; i++) {
    cotp_pattern *p = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
    if (p)
      cache_put(bigger, hash_text(p->source), p);
  }
  bigger->retired = t;
  atomic_store_explicit(&cache, bigger, memory_order_release); /* to probe */
  return true;
}

const cotp_pattern *cotp_pattern_cached(const char *src, cotp_error *err) {
  if (!src) {
    if (err)
      *err = (cotp_error){COTP_EINVAL, -1, "pattern: source is NULL"};
    return NULL;
  }
  uint64_t h = hash_text(src);
  cotp_pattern *p =
      cache_probe(atomic_load_explicit(&cache, memory_order_acquire), h, src);
  if (p)
    return p;
  cotp_pattern *fresh;
  if (cotp_pattern_compile(src, &fresh, err) != 0)
    return NULL;
  pthread_mutex_lock(&cache_lock);
  p = cache_probe(atomic_load_explicit(&cache, memory_order_relaxed), h, src);
  if (!p && cache_room()) {
    cache_put(atomic_load_explicit(&cache, memory_order_relaxed), h, fresh);
    cache_count++;
    p = fresh;
    fresh = NULL;
  }
  pthread_mutex_unlock(&cache_lock);
  if (!p && err)
    *err = (cotp_error){COTP_ENOMEM, -1, "pattern cache: out of memory"};
  cotp_pattern_free(fresh);
  return p;
}
