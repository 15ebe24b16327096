/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry_query.c: reading many entries at once: match and count_match
 * (by key, with a pattern), select and count_select (everything, with a
 * match spec), keys, values, count and dispatch.
 *
 * All of it reads the table under shard read locks, as lookup does, and
 * copies what it returns into the caller's heap before letting go.  A
 * match spec runs against registry-owned terms in place: select builds the
 * {key, pid, value} object and runs the spec in a scratch heap, copies the
 * result into the caller's heap (it may point into the table) and rewinds
 * the scratch heap, so a select costs the caller only what it returns.
 * select sees each shard at a moment of its own, not the registry at one
 * moment, as ETS's select is not atomic either.
 */
#include <stdlib.h>

#include "registry_impl.h"

static int check_read(cotp_registry *r, cotp_term key) {
  if (!r || cotp_is_none(key))
    return COTP_EINVAL;
  return cotp__reg_alive(r) ? 0 : COTP_ENOPROC;
}

/* match/count_match: walks the entries under key that ms accepts; with h,
 * conses {pid, value} (copied) onto *out in registration order. */
static int match_walk(cotp_registry *r, cotp_term key, cotp_term pattern,
                      cotp_term guards, cotp_heap *h, cotp_term *out,
                      size_t *count) {
  int rc = check_read(r, key);
  if (rc || cotp_is_none(pattern))
    return rc ? rc : COTP_EINVAL;
  cotp_match_spec *ms;
  rc = cotp_match_spec_compile_clause(pattern, cotp_is_none(guards) ? COTP_NIL : guards,
                                      COTP_NONE, &ms, NULL);
  if (rc)
    return rc;
  uint32_t hash = cotp__reg_hash(key);
  unsigned first, last;
  cotp__reg_key_partitions(r, hash, &first, &last);
  cotp_term list = COTP_NIL;
  size_t n = 0;
  for (unsigned i = last; i-- > first && !cotp_is_none(list);) {
    struct reg_shard *s = cotp__reg_shard(&r->parts[i], hash);
    unsigned slot = reg_rdlock(&s->lock);
    struct reg_knode *k = cotp__reg_find(s, hash, key);
    for (struct reg_entry *e = k ? k->last : NULL; e; e = e->kprev) {
      if (cotp_match_spec_run(ms, e->value, COTP_NONE, NULL, NULL) != 1)
        continue;
      n++;
      if (h)
        list = cotp_cons(h, COTP_TUPLE(h, cotp_pid_term(e->pid), cotp_term_copy(h, e->value)),
                         list);
    }
    reg_rdunlock(&s->lock, slot);
  }
  cotp_match_spec_free(ms);
  if (cotp_is_none(list))
    return COTP_ENOMEM;
  if (out)
    *out = list;
  if (count)
    *count = n;
  return 0;
}

int cotp_registry_match(cotp_registry *reg, cotp_term key, cotp_term pattern,
                        cotp_term guards, cotp_term *out) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  if (!out)
    return COTP_EINVAL;
  return match_walk(reg, key, pattern, guards, h, out, NULL);
}

int cotp_registry_count_match(cotp_registry *reg, cotp_term key,
                              cotp_term pattern, cotp_term guards,
                              size_t *count) {
  if (!count)
    return COTP_EINVAL;
  return match_walk(reg, key, pattern, guards, NULL, NULL, count);
}

/* select/count_select: runs ms over every entry.  With h, conses each
 * result (copied) onto *out; always counts the results that are true. */
static int select_walk(cotp_registry *r, cotp_term spec, cotp_heap *h,
                       cotp_term *out, size_t *count) {
  int rc = check_read(r, spec);
  if (rc)
    return rc;
  cotp_match_spec *ms;
  rc = cotp_match_spec_compile(spec, &ms, NULL);
  if (rc)
    return rc;
  cotp_heap *scratch = cotp_heap_new();
  if (!scratch) {
    cotp_match_spec_free(ms);
    return COTP_ENOMEM;
  }
  cotp_heap_mark empty = cotp_heap_mark_now(scratch);
  cotp_term list = COTP_NIL;
  size_t n = 0;
  for (unsigned i = 0; i < r->n && rc == 0; i++) {
    for (int j = 0; j < SHARDS && rc == 0; j++) {
      struct reg_shard *s = &r->parts[i].shards[j];
      unsigned slot = reg_rdlock(&s->lock);
      for (size_t b = 0; b < s->nbuckets && rc == 0; b++) {
        for (struct reg_knode *k = s->buckets[b]; k && rc == 0; k = k->next) {
          for (struct reg_entry *e = k->first; e && rc == 0; e = e->knext) {
            cotp_term pid = cotp_pid_term(e->pid);
            cotp_term obj = COTP_TUPLE(scratch, k->key, pid, e->value);
            cotp_term whole = COTP_TUPLE(scratch, k->key, COTP_TUPLE(scratch, pid, e->value));
            cotp_term res;
            int m = cotp_is_none(whole) ? COTP_ENOMEM
                                        : cotp_match_spec_run(ms, obj, whole, scratch, &res);
            if (m < 0) {
              rc = m;
            } else if (m == 1) {
              if (res.w == COTP_ATOM_TRUE.w)
                n++;
              if (h) {
                list = cotp_cons(h, cotp_term_copy(h, res), list);
                if (cotp_is_none(list))
                  rc = COTP_ENOMEM;
              }
            }
            cotp_heap_release(scratch, empty);
          }
        }
      }
      reg_rdunlock(&s->lock, slot);
    }
  }
  cotp_heap_free(scratch);
  cotp_match_spec_free(ms);
  if (rc)
    return rc;
  if (out) { /* consed newest first: put it back in table order */
    cotp_term rev = COTP_NIL;
    for (; cotp_is_cons(list); list = cotp_tail(list))
      rev = cotp_cons(h, cotp_head(list), rev);
    if (cotp_is_none(rev))
      return COTP_ENOMEM;
    *out = rev;
  }
  if (count)
    *count = n;
  return 0;
}

int cotp_registry_select(cotp_registry *reg, cotp_term spec, cotp_term *out) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  if (!out)
    return COTP_EINVAL;
  return select_walk(reg, spec, h, out, NULL);
}

int cotp_registry_count_select(cotp_registry *reg, cotp_term spec,
                               size_t *count) {
  if (!count)
    return COTP_EINVAL;
  return select_walk(reg, spec, NULL, NULL, count);
}

int cotp_registry_keys(cotp_registry *reg, cotp_pid pid, cotp_term *out) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  int rc = check_read(reg, cotp_pid_term(pid));
  if (rc || !out)
    return rc ? rc : COTP_EINVAL;
  unsigned first = 0, last = reg->n;
  if (reg->keys == COTP_REGISTRY_DUPLICATE) {
    first = cotp__reg_pid_partition(reg, pid);
    last = first + 1;
  }
  cotp_term list = COTP_NIL;
  for (unsigned i = first; i < last; i++) {
    struct reg_partition *p = &reg->parts[i];
    /* The pid index and the keys of its entries are the writers' (lock
     * 1): a key node is not freed while wlock is held. */
    pthread_mutex_lock(&p->wlock);
    struct reg_prec *r = cotp__reg_prec(p, pid, false);
    for (struct reg_entry *e = r ? r->first : NULL; e; e = e->pnext)
      list = cotp_cons(h, cotp_term_copy(h, e->knode->key), list);
    pthread_mutex_unlock(&p->wlock);
  }
  if (cotp_is_none(list))
    return COTP_ENOMEM;
  *out = list;
  return 0;
}

int cotp_registry_values(cotp_registry *reg, cotp_term key, cotp_pid pid,
                         cotp_term *out) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  int rc = check_read(reg, key);
  if (rc || !out)
    return rc ? rc : COTP_EINVAL;
  uint32_t hash = cotp__reg_hash(key);
  unsigned first, last;
  cotp__reg_key_partitions(reg, hash, &first, &last);
  cotp_term list = COTP_NIL;
  for (unsigned i = last; i-- > first;) {
    struct reg_shard *s = cotp__reg_shard(&reg->parts[i], hash);
    unsigned slot = reg_rdlock(&s->lock);
    struct reg_knode *k = cotp__reg_find(s, hash, key);
    for (struct reg_entry *e = k ? k->last : NULL; e; e = e->kprev)
      if (cotp_pid_eq(e->pid, pid))
        list = cotp_cons(h, cotp_term_copy(h, e->value), list);
    reg_rdunlock(&s->lock, slot);
  }
  if (cotp_is_none(list))
    return COTP_ENOMEM;
  *out = list;
  return 0;
}

size_t cotp_registry_count(cotp_registry *reg) {
  if (!reg || !cotp__reg_alive(reg))
    return 0;
  size_t n = 0;
  for (unsigned i = 0; i < reg->n; i++)
    n += atomic_load_explicit(&reg->parts[i].count, memory_order_relaxed);
  return n;
}

/* --- dispatch --- */

struct dispatch_job {
  cotp_registry *reg; /* the caller holds a handle until the job is done */
  unsigned partition;
  cotp_pid caller;
  cotp_registry_dispatch_fn *fn;
  void *ctx;
};

/* The key comes as a message, {:"$registry_dispatch", key}, copied into
 * the job's heap: read in place from the caller's heap it would be freed
 * under the job if the caller were killed while it waits for the jobs.
 * A caller gone before it sent the key ends the job (the DOWN). */
static bool is_key_or_down(cotp_term msg, void *ctx) {
  cotp_term mon = *(const cotp_term *)ctx;
  size_t n = cotp_tuple_size(msg);
  return (n == 2 && cotp_tuple_get(msg, 0).w == COTP_ATOM_STR("$registry_dispatch").w) ||
         (n == 5 && cotp_tuple_get(msg, 0).w == COTP_ATOM_DOWN.w &&
          cotp_tuple_get(msg, 1).w == mon.w);
}

static void dispatch_task(void *arg) {
  struct dispatch_job *j = arg;
  cotp_heap *h = cotp_self_heap();
  cotp_term mon, got;
  if (cotp_monitor(j->caller, &mon) != 0 ||
      cotp_receive_if(is_key_or_down, &mon, COTP_INFINITY, 0, &got) != 0 ||
      cotp_tuple_size(got) != 2)
    return;
  cotp_demonitor(mon, COTP_DEMONITOR_FLUSH);
  cotp_term key = cotp_tuple_get(got, 1);
  cotp_term entries = cotp__reg_part_entries(&j->reg->parts[j->partition],
                                             cotp__reg_hash(key), key, h, COTP_NIL);
  if (cotp_is_cons(entries))
    j->fn(entries, j->ctx);
}

static bool is_down_of(cotp_term msg, void *ctx) {
  cotp_term ref = *(const cotp_term *)ctx;
  return cotp_tuple_size(msg) == 5 && cotp_tuple_get(msg, 0).w == COTP_ATOM_DOWN.w &&
         cotp_tuple_get(msg, 1).w == ref.w;
}

/* L14: one monitored process per partition, all awaited; a job that
 * exits abnormally makes the caller exit with its reason, as awaiting a
 * crashed task does.  Monitors, not links: no EXIT is left behind. */
static int dispatch_parallel(cotp_registry *reg, cotp_term key,
                             cotp_registry_dispatch_fn *fn, void *ctx) {
  cotp_heap *h = cotp_self_heap();
  cotp_term refs[reg->n];
  unsigned started = 0;
  int rc = 0;
  cotp_term msg = COTP_TUPLE(h, COTP_ATOM_STR("$registry_dispatch"), key);
  if (cotp_is_none(msg))
    return COTP_ENOMEM;
  for (unsigned i = 0; i < reg->n && rc == 0; i++) {
    struct dispatch_job j = {reg, i, cotp_self(), fn, ctx};
    cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
    o.arg_size = sizeof j;
    o.monitor = true;
    o.monitor_ref = &refs[started];
    cotp_pid pid;
    rc = cotp_spawn_opt(dispatch_task, &j, &o, &pid);
    if (rc == 0) {
      started++;
      rc = cotp_send(pid, msg);
      if (rc) /* a job without its key would wait for good */
        cotp_exit_signal(pid, COTP_ATOM_KILL);
    }
  }
  cotp_term failed = COTP_NONE;
  for (unsigned i = 0; i < started; i++) {
    cotp_term down;
    cotp_receive_if(is_down_of, &refs[i], COTP_INFINITY, 0, &down);
    cotp_term reason = cotp_tuple_get(down, 4);
    if (reason.w != COTP_ATOM_NORMAL.w && cotp_is_none(failed))
      failed = reason;
  }
  if (!cotp_is_none(failed))
    cotp_exit(failed);
  return rc;
}

int cotp_registry_dispatch(cotp_registry *reg, cotp_term key,
                           cotp_registry_dispatch_fn *fn, void *ctx,
                           unsigned flags) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  int rc = check_read(reg, key);
  if (rc || !fn || (flags & ~COTP_REGISTRY_PARALLEL))
    return rc ? rc : COTP_EINVAL;
  uint32_t hash = cotp__reg_hash(key);
  unsigned first, last;
  cotp__reg_key_partitions(reg, hash, &first, &last);
  if ((flags & COTP_REGISTRY_PARALLEL) && last - first > 1)
    return dispatch_parallel(reg, key, fn, ctx);
  for (unsigned i = first; i < last; i++) {
    cotp_term entries = cotp__reg_part_entries(&reg->parts[i], hash, key, h, COTP_NIL);
    if (cotp_is_none(entries))
      return COTP_ENOMEM;
    if (cotp_is_cons(entries))
      fn(entries, ctx);
  }
  return 0;
}
