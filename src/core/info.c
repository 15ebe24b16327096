/* SPDX-License-Identifier: Apache-2.0 */
/*
 * info.c: the process dictionary, labels, cleanups, and process_info.
 *
 * The dictionary keeps its keys and values in a heap of the process's ext,
 * as pairs in an array (linear search: dictionaries are small).  Replacing
 * a value leaves the old one behind in that heap; when what is left behind
 * outgrows what is live, the live pairs are copied to a fresh heap.
 *
 * A Task lends its dictionary its lineage (cotp__dict_lend_lazy): the
 * go-ahead it was started with, from which the pairs are made when the
 * dictionary is first used, straight into the ext.  Every task has
 * $callers, $ancestors and $initial_call, few ever read them, and putting
 * them cost a tenth of a task's instructions; building the pairs for the
 * dictionary to read in place (cotp__dict_lend, PF_DICT_LENT) still cost
 * one task in thirteen.
 *
 * process_info of another process is a signal (INFO) that the target
 * answers with {ref, answer} when it handles it, so the answer reflects
 * every signal the asker sent before: the same channel, the same order.
 */
#include <dlfcn.h>
#include <execinfo.h>
#include <stdlib.h>

#include "cotp/info.h"
#include "ext.h"
#include "runtime.h"

static struct cotp__proc *me(void) { return cotp__proc_self(); }

/* The pairs of a dictionary: key, value, key, value... */
struct pairs {
  const cotp_term *at;
  uint32_t n; /* keys and values */
};

static struct pairs tuple_pairs(cotp_term t) {
  return (struct pairs){(const cotp_term *)box_ptr(t) + 1, (uint32_t)cotp_tuple_size(t)};
}

static int put_pairs(struct cotp__proc *p, const cotp_term *kv, size_t n);
static bool distinct_pairs(cotp_term t);

/* Puts a tuple of pairs with distinct keys into p's own dictionary. */
static int put_tuple(struct cotp__proc *p, cotp_term pairs) {
  if (!distinct_pairs(pairs))
    return COTP_EINVAL;
  struct pairs d = tuple_pairs(pairs);
  return d.n ? put_pairs(p, d.at, d.n / 2) : 0;
}

/* The one maker of lazily lent pairs (a Task's lineage). */
static cotp__dict_maker *_Atomic lazy_maker;

/* Makes the pairs p lent lazily, into its ext: its dictionary is then its
 * own.  Without memory they stay lent, and the dictionary reads as empty
 * until they can be made. */
static void dict_make(struct cotp__proc *p) {
  if (!(p->flags & PF_DICT_LENT) || !p->dict_lazy)
    return;
  cotp_heap scratch = {0};
  cotp__dict_maker *make = atomic_load_explicit(&lazy_maker, memory_order_relaxed);
  if (put_tuple(p, make(&scratch, p->dict_lent)) == 0) {
    p->flags &= (uint16_t)~PF_DICT_LENT;
    p->dict_lent = COTP_NONE;
    p->dict_lazy = false;
  }
  cotp__heap_close(&scratch);
}

/* p's dictionary as it stands: the pairs it lent, or its ext's. */
static struct pairs pairs_of(struct cotp__proc *p) {
  dict_make(p);
  if (p->flags & PF_DICT_LENT)
    return p->dict_lazy ? (struct pairs){NULL, 0} : tuple_pairs(p->dict_lent);
  const struct cotp__ext *e = p->ext;
  return e ? (struct pairs){e->dict.at, e->dict.n} : (struct pairs){NULL, 0};
}

static long pairs_find(struct pairs d, cotp_term key) {
  for (uint32_t i = 0; i < d.n; i += 2)
    if (cotp_term_eq(d.at[i], key))
      return (long)i;
  return -1;
}

static long dict_find(struct cotp__ext *e, cotp_term key) {
  return e ? pairs_find((struct pairs){e->dict.at, e->dict.n}, key) : -1;
}

/* Keys are mostly atoms: two immediates are equal only as the same word,
 * and only keys that point need the full comparison. */
static bool same_key(cotp_term a, cotp_term b) {
  return a.w == b.w || (TAG_OF(a) <= COTP__TAG_LIST && TAG_OF(b) <= COTP__TAG_LIST &&
                        cotp_term_eq(a, b));
}

/* Whether t is a tuple of pairs with distinct keys. */
static bool distinct_pairs(cotp_term t) {
  if (!cotp_is_tuple(t) || cotp_tuple_size(t) % 2)
    return false;
  struct pairs d = tuple_pairs(t);
  for (uint32_t i = 2; i < d.n; i += 2)
    for (uint32_t j = 0; j < i; j += 2)
      if (same_key(d.at[i], d.at[j]))
        return false;
  return true;
}

/* Copies the live pairs to a fresh heap once garbage dominates. */
static void dict_compact(struct cotp__ext *e) {
  if (e->dict_garbage < 4096 || e->dict_garbage < cotp_heap_bytes(&e->heap) / 2)
    return;
  cotp_heap fresh = {0};
  for (uint32_t i = 0; i < e->dict.n; i++)
    e->dict.at[i] = cotp_term_copy(&fresh, e->dict.at[i]);
  cotp_term label = cotp_term_copy(&fresh, e->label);
  if (cotp_heap_error(&fresh)) {
    cotp__heap_close(&fresh); /* no memory: keep the garbage */
    return;
  }
  cotp__heap_close(&e->heap);
  e->heap = fresh;
  e->label = label;
  e->dict_garbage = 0;
}

int cotp_dict_put(cotp_term key, cotp_term value, cotp_term *old) {
  struct cotp__proc *p = me();
  if (!p)
    return COTP_ENOTPROC;
  if (cotp_is_none(key) || cotp_is_none(value))
    return COTP_EINVAL;
  if (old) {
    struct pairs d = pairs_of(p);
    long i = pairs_find(d, key);
    *old = i >= 0 ? cotp_term_copy(&p->heap, d.at[i + 1]) : COTP_NONE;
  }
  return cotp_dict_put_many((cotp_term[]){key, value}, 1);
}

/* Before p changes its dictionary: the pairs it lent move into its ext. */
static int dict_own(struct cotp__proc *p) {
  dict_make(p);
  if (!(p->flags & PF_DICT_LENT))
    return 0;
  if (p->dict_lazy)
    return COTP_ENOMEM; /* not made: no memory */
  struct pairs d = tuple_pairs(p->dict_lent);
  int rc = put_pairs(p, d.at, d.n / 2);
  if (rc)
    return rc; /* no memory: the lent pairs stay in use */
  p->flags &= (uint16_t)~PF_DICT_LENT;
  p->dict_lent = COTP_NONE;
  return 0;
}

int cotp__dict_lend(cotp_term pairs) {
  struct cotp__proc *p = me();
  if (!p)
    return COTP_ENOTPROC;
  if (!distinct_pairs(pairs))
    return COTP_EINVAL;
  if (cotp_tuple_size(pairs) == 0)
    return 0;
  if ((p->flags & (PF_HANDLER | PF_DICT_LENT)) || (p->ext && p->ext->dict.n)) {
    struct pairs d = tuple_pairs(pairs); /* not empty, or a handler: put */
    return cotp_dict_put_many(d.at, d.n / 2);
  }
  p->dict_lent = pairs;
  p->flags |= PF_DICT_LENT;
  return 0;
}

int cotp__dict_lend_lazy(cotp_term src, cotp__dict_maker *make) {
  struct cotp__proc *p = me();
  if (!p)
    return COTP_ENOTPROC;
  if (!make || cotp_is_none(src))
    return COTP_EINVAL;
  /* a plain read once set: every task lends, on every core */
  cotp__dict_maker *first = atomic_load_explicit(&lazy_maker, memory_order_relaxed);
  bool ours = first == make ||
              (!first && (atomic_compare_exchange_strong_explicit(
                              &lazy_maker, &first, make, memory_order_relaxed,
                              memory_order_relaxed) ||
                          first == make));
  if (!ours || (p->flags & (PF_HANDLER | PF_DICT_LENT)) ||
      (p->ext && p->ext->dict.n)) {
    /* another maker's, or a dictionary in use: made and put now */
    cotp_heap_mark mark = cotp_heap_mark_now(&p->heap);
    int rc = dict_own(p);
    if (rc == 0)
      rc = put_tuple(p, make(&p->heap, src));
    cotp_heap_release(&p->heap, mark);
    return rc;
  }
  p->dict_lent = src;
  p->dict_lazy = true;
  p->flags |= PF_DICT_LENT;
  return 0;
}

int cotp_dict_put_many(const cotp_term *kv, size_t n) {
  struct cotp__proc *p = me();
  if (!p)
    return COTP_ENOTPROC;
  if (n && !kv)
    return COTP_EINVAL;
  for (size_t i = 0; i < 2 * n; i++)
    if (cotp_is_none(kv[i]))
      return COTP_EINVAL;
  if (n == 0)
    return 0;
  int rc = dict_own(p);
  return rc ? rc : put_pairs(p, kv, n);
}

static int put_pairs(struct cotp__proc *p, const cotp_term *kv, size_t n) {
  struct cotp__ext *e = cotp__ext(p);
  if (!e)
    return COTP_ENOMEM;
  /* room for every pair first, so that nothing fails halfway */
  while (e->dict.n + 2 * n > e->dict.cap)
    if (!cotp__vec_reserve((void **)&e->dict.at, e->dict.cap, &e->dict.cap,
                           sizeof *e->dict.at))
      return COTP_ENOMEM;
  /* the copies go in the room just reserved, past the pairs in use, and
   * take their places only once all are made */
  cotp_term *fresh = e->dict.at + e->dict.n;
  for (size_t i = 0; i < 2 * n; i++) {
    fresh[i] = cotp_term_copy(&e->heap, kv[i]);
    if (cotp_is_none(fresh[i])) {
      while (i-- > 0) /* unreachable now */
        e->dict_garbage += cotp_term_size(fresh[i]);
      return COTP_ENOMEM;
    }
  }
  for (size_t i = 0; i < 2 * n; i += 2) {
    cotp_term key = fresh[i], value = fresh[i + 1];
    long j = dict_find(e, key);
    if (j >= 0) {
      e->dict_garbage += cotp_term_size(e->dict.at[j + 1]) + cotp_term_size(key);
      e->dict.at[j + 1] = value;
    } else { /* fresh[i] is at or past the end of those in use */
      e->dict.at[e->dict.n++] = key;
      e->dict.at[e->dict.n++] = value;
    }
  }
  dict_compact(e);
  return 0;
}

cotp_term cotp_dict_get(cotp_term key) {
  struct cotp__proc *p = me();
  if (!p)
    return COTP_NONE;
  struct pairs d = pairs_of(p);
  long i = pairs_find(d, key);
  return i >= 0 ? cotp_term_copy(&p->heap, d.at[i + 1]) : COTP_NONE;
}

int cotp_dict_erase(cotp_term key, cotp_term *old) {
  struct cotp__proc *p = me();
  if (!p)
    return COTP_ENOTPROC;
  struct pairs d = pairs_of(p);
  long i = pairs_find(d, key);
  if (old)
    *old = i >= 0 ? cotp_term_copy(&p->heap, d.at[i + 1]) : COTP_NONE;
  if (i >= 0) {
    int rc = dict_own(p); /* the pairs keep their places in the ext */
    if (rc) {
      if (old)
        *old = COTP_NONE;
      return rc;
    }
    struct cotp__ext *e = p->ext;
    e->dict_garbage += cotp_term_size(e->dict.at[i]) + cotp_term_size(e->dict.at[i + 1]);
    memmove(&e->dict.at[i], &e->dict.at[i + 2],
            (e->dict.n - (uint32_t)i - 2) * sizeof *e->dict.at);
    e->dict.n -= 2;
    dict_compact(e);
  }
  return 0;
}

/* The list of keys (which 0), values-matching keys (1) or pairs (2). */
static cotp_term dict_list(int which, cotp_term value) {
  struct cotp__proc *p = me();
  if (!p)
    return COTP_NONE;
  cotp_heap *h = &p->heap;
  cotp_term list = COTP_NIL;
  struct pairs d = pairs_of(p);
  for (uint32_t i = 0; i < d.n; i += 2) {
    cotp_term k = d.at[i], v = d.at[i + 1];
    if (which == 1 && !cotp_term_eq(v, value))
      continue;
    cotp_term item = which == 2 ? COTP_TUPLE(h, cotp_term_copy(h, k),
                                             cotp_term_copy(h, v))
                                : cotp_term_copy(h, k);
    list = cotp_cons(h, item, list);
  }
  return list;
}

cotp_term cotp_dict_keys(void) { return dict_list(0, COTP_NONE); }
cotp_term cotp_dict_keys_of(cotp_term value) { return dict_list(1, value); }
cotp_term cotp_dict_all(void) { return dict_list(2, COTP_NONE); }

int cotp_set_label(cotp_term label) {
  struct cotp__proc *p = me();
  if (!p)
    return COTP_ENOTPROC;
  if (cotp_is_none(label))
    return COTP_EINVAL;
  struct cotp__ext *e = cotp__ext(p);
  cotp_term l = e ? cotp_term_copy(&e->heap, label) : COTP_NONE;
  if (cotp_is_none(l))
    return COTP_ENOMEM;
  e->dict_garbage += cotp_term_size(e->label);
  e->label = l;
  return 0;
}

int cotp_on_exit(void (*fn)(void *arg), void *arg) {
  struct cotp__proc *p = me();
  if (!p)
    return COTP_ENOTPROC;
  if (!fn)
    return COTP_EINVAL;
  struct cotp__ext *e = cotp__ext(p);
  if (!e || !VEC_RESERVE(e->cleanups))
    return COTP_ENOMEM;
  e->cleanups.at[e->cleanups.n++] = (struct cotp__cleanup){fn, arg};
  return 0;
}

void cotp__cleanups_run(struct cotp__proc *p) {
  struct cotp__ext *e = p->ext;
  while (e && e->cleanups.n > 0) {
    struct cotp__cleanup c = e->cleanups.at[--e->cleanups.n];
    c.fn(c.arg);
  }
}

/* --- process_info --- */

static cotp_term atom(const char *s) { return cotp_atom(s); }

static const char *status_name(struct cotp__proc *p, bool self) {
  if (self)
    return "running";
  if (p->flags & PF_IN_WAIT) /* answering while it waits */
    return "waiting";
  switch (atomic_load_explicit(&p->state, memory_order_relaxed)) {
  case PS_RUNNABLE:
    return "runnable";
  case PS_RUNNING:
    return "running";
  case PS_EXITING:
    return "exiting";
  default:
    return "waiting";
  }
}

static cotp_term function_name(cotp_heap *h, void (*fn)(void)) {
  Dl_info dl;
  void *addr; /* ISO C has no cast from function to object pointer */
  memcpy(&addr, &fn, sizeof addr);
  if (addr && dladdr(addr, &dl) && dl.dli_sname)
    return cotp_format(h, "{:c, ~a, 1}", dl.dli_sname);
  return cotp_format(h, "{:c, :unknown, 1}");
}

/* The items process_info knows, found by comparing atom words: the atoms
 * are made once (any thread may race to make them: atoms are canonical).
 * registered_name is first: every Task.async asks for its owner's. */
enum info_key {
  I_REGISTERED_NAME, I_ALIVE, I_STATUS, I_MQ_LEN, I_MESSAGES, I_LINKS,
  I_MONITORS, I_MONITORED_BY, I_TRAP_EXIT, I_PRIORITY, I_REDUCTIONS,
  I_MEMORY, I_HEAP_SIZE, I_LABEL, I_DICTIONARY, I_BACKTRACE,
  I_CURRENT_FUNCTION, I_INITIAL_CALL, I_COUNT
};

static const char *const info_names[I_COUNT] = {
    "registered_name", "alive", "status", "message_queue_len", "messages",
    "links", "monitors", "monitored_by", "trap_exit", "priority",
    "reductions", "memory", "heap_size", "label", "dictionary", "backtrace",
    "current_function", "initial_call"};

static int info_key(cotp_term item) {
  static _Atomic uint64_t atoms[I_COUNT];
  static _Atomic bool made;
  if (!atomic_load_explicit(&made, memory_order_acquire)) {
    for (int i = 0; i < I_COUNT; i++)
      atomic_store_explicit(&atoms[i], cotp_atom(info_names[i]).w,
                            memory_order_relaxed);
    atomic_store_explicit(&made, true, memory_order_release);
  }
  for (int i = 0; i < I_COUNT; i++)
    if (atomic_load_explicit(&atoms[i], memory_order_relaxed) == item.w)
      return i;
  return -1;
}

/* Answers one item about p (which is running this, on its own stack, or
 * is the caller itself) in h; NONE for an unknown item. */
static cotp_term info_item(struct cotp__proc *p, cotp_term item, cotp_heap *h,
                           bool self) {
  struct cotp__ext *e = p->ext;
  cotp_pid pid = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  int key = cotp_is_atom(item) ? info_key(item) : -1;
  switch (key) {
  case I_ALIVE:
    return COTP_ATOM_TRUE;
  case I_STATUS:
    return atom(status_name(p, self));
  case I_MQ_LEN:
    return cotp_int(h, (int64_t)p->mq_len);
  case I_MESSAGES: {
    cotp_term list = COTP_NIL;
    cotp_term items[64], *all = p->mq_len <= 64 ? items : malloc(p->mq_len * sizeof *all);
    size_t n = 0;
    for (struct cotp__sig *m = p->mq_head; all && m; m = m->next) {
      struct cotp__msg *msg = (struct cotp__msg *)m;
      uint64_t *w = is_bare(m) ? cotp__heap_alloc(h, bare_words(m)) : NULL;
      all[n++] = !is_bare(m) ? msg->term : w ? bare_tuple_at(w, msg) : COTP_NONE;
    }
    while (all && n > 0)
      list = cotp_cons(h, cotp_term_copy(h, all[--n]), list);
    if (all != items)
      free(all);
    return all ? list : COTP_NONE;
  }
  case I_LINKS: {
    cotp_term list = COTP_NIL;
    if (p->flags & PF_SPAWN_LINK) /* the spawner's (proc.h) */
      list = cotp_cons(h, cotp_pid_term(p->u.watch.pid), list);
    if (e)
      KEYSET_EACH(e->links, struct cotp__link, l)
        if (!l->unlinking)
          list = cotp_cons(h, cotp_pid_term(l->pid), list);
    return list;
  }
  case I_MONITORS: {
    cotp_term list = COTP_NIL;
    if (e)
      KEYSET_EACH(e->mons, struct cotp__mon, m)
        list = cotp_cons(h,
                         COTP_TUPLE(h, COTP_ATOM_PROCESS,
                                    cotp__down_object(h, m->pid, m->name)),
                         list);
    return list;
  }
  case I_MONITORED_BY: {
    cotp_term list = COTP_NIL;
    if (e)
      KEYSET_EACH(e->watchers, struct cotp__watcher, w)
        list = cotp_cons(h, cotp_pid_term(w->pid), list);
    if (p->flags & PF_SPAWN_WATCH) /* the spawner's (proc.h) */
      list = cotp_cons(h, cotp_pid_term(p->u.watch.pid), list);
    return list;
  }
  case I_TRAP_EXIT:
    return cotp_bool(p->flags & PF_TRAP_EXIT);
  case I_PRIORITY: {
    static const char *const names[] = {"low", "normal", "high", "max"};
    return atom(names[p->priority & 3]);
  }
  case I_REDUCTIONS:
    return cotp_int(h, (int64_t)p->runs * REDUCTIONS - p->reductions);
  case I_MEMORY:
  case I_HEAP_SIZE: {
    size_t bytes = cotp_heap_bytes(&p->heap);
    if (key == I_MEMORY)
      bytes += sizeof *p + p->saved_len + (e ? sizeof *e + cotp_heap_bytes(&e->heap) : 0);
    return cotp_int(h, (int64_t)bytes);
  }
  case I_REGISTERED_NAME: {
    cotp_term n = cotp__name_of(pid);
    return cotp_is_none(n) ? COTP_NIL : n; /* A25: [] when none */
  }
  case I_LABEL:
    return e ? cotp_term_copy(h, e->label) : COTP_ATOM_NIL;
  case I_DICTIONARY: {
    cotp_term list = COTP_NIL;
    struct pairs d = pairs_of(p);
    for (uint32_t i = 0; i < d.n; i += 2)
      list = cotp_cons(h, COTP_TUPLE(h, cotp_term_copy(h, d.at[i]),
                                     cotp_term_copy(h, d.at[i + 1])),
                       list);
    return list;
  }
  case I_BACKTRACE: {
    /* Frames of the caller itself (glibc's backtrace()); another process's
     * frames may be copied out of its stack, so only the entry is known. */
    if (!self)
      return cotp_format(h, "[~t]", info_item(p, atom("initial_call"), h, false));
    void *frames[32];
    int n = backtrace(frames, 32);
    char **names = backtrace_symbols(frames, n);
    cotp_term list = COTP_NIL;
    for (int i = n - 1; names && i >= 0; i--)
      list = cotp_cons(h, cotp_string(h, names[i]), list);
    free(names);
    return list;
  }
  case I_CURRENT_FUNCTION:
  case I_INITIAL_CALL:
    return function_name(h, p->flags & PF_HANDLER ? (void (*)(void))p->entry.handle
                            : p->flags & PF_MFA ? (void (*)(void))p->u.mfa.fn
                                        : (void (*)(void))p->entry.fn);
  default:
    return COTP_NONE;
  }
}

/* One item, or a keyword list for a list of items. */
static cotp_term answer(struct cotp__proc *p, cotp_term request, cotp_heap *h,
                        bool self) {
  if (!cotp_is_list(request))
    return info_item(p, request, h, self);
  cotp_term items[64];
  size_t n = 0;
  for (cotp_term l = request; cotp_is_cons(l) && n < 64; l = cotp_tail(l))
    items[n++] = cotp_head(l);
  cotp_term list = COTP_NIL;
  while (n > 0) {
    cotp_term v = info_item(p, items[--n], h, self);
    if (cotp_is_none(v))
      return COTP_NONE;
    list = cotp_cons(h, COTP_TUPLE(h, items[n], v), list);
  }
  return list;
}

void cotp__info_answer(struct cotp__proc *p, cotp_pid to, cotp_term ref,
                       cotp_term request) {
  cotp_heap *h = cotp_heap_new();
  cotp_term a = answer(p, request, h, false);
  cotp_term reply = COTP_TUPLE(h, ref, cotp_is_none(a) ? COTP_ATOM_BADARG : a);
  if (!cotp_is_none(reply))
    cotp__deliver(to, reply);
  cotp_heap_free(h);
}

void cotp__info_answer_dead(cotp_pid to, cotp_term ref) {
  cotp_heap *h = cotp_heap_new();
  cotp_term reply = COTP_TUPLE(h, ref); /* {ref}: no answer, it is gone */
  if (!cotp_is_none(reply))
    cotp__deliver(to, reply);
  cotp_heap_free(h);
}

/* The target's answer: {ref} (it exited first) or {ref, answer}.  A C
 * test, not a pattern: cotp_is_alive() asks this for every call. */
static bool is_answer(cotp_term msg, void *ref) {
  return cotp_is_tuple(msg) && cotp_tuple_size(msg) >= 1 &&
         cotp_tuple_get(msg, 0).w == ((const cotp_term *)ref)->w;
}

int cotp_process_info(cotp_pid pid, cotp_term item, cotp_term *out) {
  struct cotp__proc *p = me();
  if (!out)
    return COTP_EINVAL;
  *out = COTP_ATOM_NIL;
  if (!p)
    return COTP_ENOTPROC;
  cotp_pid self = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  if (cotp_pid_eq(pid, self)) {
    cotp__inbox_drain(p);
    cotp_term a = answer(p, item, &p->heap, true);
    if (cotp_is_none(a))
      return COTP_EINVAL;
    *out = a;
    return 0;
  }
  cotp_receive_mark();
  cotp_term ref = cotp_make_ref();
  int rc = cotp__signal(pid, SIG_INFO, 0, self, ref, item);
  if (rc == PUSH_DEAD)
    return COTP_ENOPROC; /* A24 */
  if (rc < 0)
    return rc;
  cotp_term got;
  rc = cotp_receive_if(is_answer, &ref, COTP_INFINITY, COTP_RECV_AFTER_MARK, &got);
  if (rc < 0)
    return rc;
  if (cotp_tuple_size(got) == 1)
    return COTP_ENOPROC; /* it exited first: A20 */
  cotp_term a = cotp_tuple_get(got, 1);
  if (a.w == COTP_ATOM_BADARG.w)
    return COTP_EINVAL;
  *out = a;
  return 0;
}
