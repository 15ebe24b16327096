/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compare.c: Erlang's term order and exact equality.
 *
 *   number < atom < reference < pid < tuple < map < [] < list < binary
 *
 * (Erlang also has funs and ports between reference and pid; cotp has
 * neither, and resources are references.)  Numbers compare by value, so
 * 1 == 1.0.  In *exact* mode, the mode of =:= and of map keys, an integer
 * and a float are never equal: the integer is smaller.  Erlang applies exact
 * mode to map keys all the way down (key {1} sorts before key {1.0}), so the
 * mode is inherited by everything nested in a key.
 *
 * The walk is iterative: a frame is a run of word pairs still to compare
 * (a tuple's elements, a cons cell's head and tail, a map's keys or values).
 * The last pair of a frame is compared after the frame is popped, so walking
 * a list's tails never grows the stack; only nesting does, and past
 * LOCAL_FRAMES it moves to the C heap.
 */
#include <math.h>
#include <stdlib.h>

#include "layout.h"

enum { EXACT = 1, EQ_ONLY = 2 };
enum { LOCAL_FRAMES = 16 };

struct frame {
  const uint64_t *a, *b;
  size_t n;
  int mode;
};

struct walk {
  struct frame *f;
  size_t n, cap;
  struct frame local[LOCAL_FRAMES];
};

static bool push(struct walk *w, const uint64_t *a, const uint64_t *b,
                 size_t n, int mode) {
  if (n == 0)
    return true;
  if (w->n == w->cap) {
    size_t cap = w->cap * 2;
    struct frame *f = malloc(cap * sizeof *f);
    if (!f)
      return false;
    memcpy(f, w->f, w->n * sizeof *f);
    if (w->f != w->local)
      free(w->f);
    w->f = f;
    w->cap = cap;
  }
  w->f[w->n++] = (struct frame){a, b, n, mode};
  return true;
}

/* Rank of a type in the term order. */
static int rank(cotp_term t) {
  switch (cotp_term_type(t)) {
  case COTP_TINTEGER:
  case COTP_TFLOAT:
    return 1;
  case COTP_TATOM:
    return 2;
  case COTP_TREF:
  case COTP_TRESOURCE:
    return 3;
  case COTP_TPID:
    return 4;
  case COTP_TTUPLE:
    return 5;
  case COTP_TMAP:
    return 6;
  case COTP_TNIL:
    return 7;
  case COTP_TLIST:
    return 8;
  case COTP_TBINARY:
    return 9;
  default:
    return 0;
  }
}

static int sign(int64_t x) { return (x > 0) - (x < 0); }
static int cmp_u64(uint64_t a, uint64_t b) { return (a > b) - (a < b); }
static int cmp_dbl(double a, double b) { return (a > b) - (a < b); }

/* Exact comparison of an integer with a float, for every int64 and every
 * finite double (converting the integer would round above 2^53). */
static int cmp_int_float(int64_t i, double d) {
  if (d >= 9223372036854775808.0)
    return -1;
  if (d < -9223372036854775808.0)
    return 1;
  double fl = floor(d);
  int64_t di = (int64_t)fl;
  if (i != di)
    return i < di ? -1 : 1;
  return d > fl ? -1 : 0;
}

static int cmp_numbers(cotp_term a, cotp_term b, int mode) {
  bool af = cotp_is_float(a), bf = cotp_is_float(b);
  if (af && bf)
    return cmp_dbl(float_value(a), float_value(b));
  if (!af && !bf) {
    int64_t x = cotp_int_value(a), y = cotp_int_value(b);
    return (x > y) - (x < y);
  }
  int c = af ? -cmp_int_float(cotp_int_value(b), float_value(a))
             : cmp_int_float(cotp_int_value(a), float_value(b));
  if (c == 0 && (mode & EXACT))
    return af ? 1 : -1; /* the integer is smaller */
  return c;
}

static int cmp_atoms(cotp_term a, cotp_term b, int mode) {
  if (mode & EQ_ONLY)
    return 1; /* distinct indexes are distinct names */
  size_t la, lb;
  const char *x = cotp__atom_text(imm_value(a), &la);
  const char *y = cotp__atom_text(imm_value(b), &lb);
  if (la && lb && x[0] != y[0]) /* most names differ at once: no call */
    return (unsigned char)x[0] < (unsigned char)y[0] ? -1 : 1;
  int c = memcmp(x, y, la < lb ? la : lb);
  return c ? sign(c) : cmp_u64(la, lb);
}

static int cmp_binaries(cotp_term a, cotp_term b, int mode) {
  size_t la, lb;
  const uint8_t *x = cotp_binary_data(a, &la), *y = cotp_binary_data(b, &lb);
  if ((mode & EQ_ONLY) && la != lb)
    return 1;
  int c = memcmp(x, y, la < lb ? la : lb);
  return c ? sign(c) : cmp_u64(la, lb);
}

static int cmp_pids(cotp_term a, cotp_term b) {
  cotp_pid x = cotp_get_pid(a), y = cotp_get_pid(b);
  int c = cmp_u64(cotp_pid_node(x), cotp_pid_node(y));
  if (!c)
    c = cmp_u64(cotp_pid_number(x), cotp_pid_number(y));
  return c ? c : cmp_u64(cotp_pid_serial(x), cotp_pid_serial(y));
}

static int cmp_refs(cotp_term a, cotp_term b) {
  /* Plain references before resources; each by its number. */
  bool ra = cotp_is_resource(a), rb = cotp_is_resource(b);
  if (ra != rb)
    return ra ? 1 : -1;
  if (ra)
    return cmp_u64(resource_of(box_ptr(a))->id, resource_of(box_ptr(b))->id);
  return cmp_u64(imm_value(a), imm_value(b));
}

/*
 * Compares one pair.  Returns the order when it is decided here, or 0 after
 * pushing the pair's parts when they still have to be compared (or when the
 * pair is equal).  Sets *oom when a push fails.
 */
static int step(struct walk *w, cotp_term a, cotp_term b, int mode,
                bool *oom) {
  if (a.w == b.w)
    return 0;
  int ra = rank(a), rb = rank(b);
  if (ra != rb)
    return ra < rb ? -1 : 1;
  const uint64_t *pa, *pb;
  size_t na, nb;
  switch (ra) {
  case 1:
    return cmp_numbers(a, b, mode);
  case 2:
    return cmp_atoms(a, b, mode);
  case 3:
    return cmp_refs(a, b);
  case 4:
    return cmp_pids(a, b);
  case 5:
    pa = box_ptr(a), pb = box_ptr(b);
    na = HDR_COUNT(pa[0]), nb = HDR_COUNT(pb[0]);
    if (na != nb)
      return na < nb ? -1 : 1;
    *oom = !push(w, pa + 1, pb + 1, na, mode);
    return 0;
  case 6:
    pa = box_ptr(a), pb = box_ptr(b);
    na = HDR_COUNT(pa[0]), nb = HDR_COUNT(pb[0]);
    if (na != nb)
      return na < nb ? -1 : 1;
    /* keys (exact, on top: compared first), then values */
    *oom = !push(w, pa + 1 + na, pb + 1 + nb, na, mode) ||
           !push(w, pa + 1, pb + 1, na, mode | EXACT);
    return 0;
  case 8:
    *oom = !push(w, cons_ptr(a), cons_ptr(b), 2, mode);
    return 0;
  case 9:
    return cmp_binaries(a, b, mode);
  default:
    return 0; /* NONE == NONE; [] == [] was caught by the word test */
  }
}

static int compare(cotp_term a, cotp_term b, int mode) {
  if (a.w == b.w)
    return 0;
  if (cotp_is_atom(a) && cotp_is_atom(b))
    return cmp_atoms(a, b, mode); /* map keys, mostly: no walk to set up */
  struct walk w = {.f = NULL, .n = 0, .cap = LOCAL_FRAMES};
  w.f = w.local;
  bool oom = false;
  int c = step(&w, a, b, mode, &oom);
  while (c == 0 && !oom && w.n > 0) {
    struct frame *f = &w.f[w.n - 1];
    cotp_term x = {*f->a++}, y = {*f->b++};
    int m = f->mode;
    if (--f->n == 0)
      w.n--; /* popped before descending: list tails run in constant stack */
    c = step(&w, x, y, m, &oom);
  }
  if (w.f != w.local)
    free(w.f);
  if (oom)
    abort(); /* nesting deeper than memory: the term could not exist */
  return c;
}

int cotp_term_compare(cotp_term a, cotp_term b) { return compare(a, b, 0); }

bool cotp__term_eq_boxed(cotp_term a, cotp_term b) {
  if (a.w == b.w)
    return true;
  /* Immediates are canonical (invariant 1 of layout.h): two different
   * words of which one is an immediate are different terms. */
  unsigned ta = TAG_OF(a), tb = TAG_OF(b);
  bool pa = ta == COTP__TAG_BOXED || ta == COTP__TAG_LIST;
  bool pb = tb == COTP__TAG_BOXED || tb == COTP__TAG_LIST;
  if (!pa || !pb || ta != tb)
    return false;
  return compare(a, b, EXACT | EQ_ONLY) == 0;
}

int cotp__key_compare(cotp_term a, cotp_term b) {
  return compare(a, b, EXACT);
}
