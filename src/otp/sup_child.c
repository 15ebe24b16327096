/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sup_child.c: a supervisor's children: the ordered list, the table by
 * pid, and the terms that describe a child (its spec map, OTP's child
 * record for error reasons).  Only the supervisor process touches them
 * (sup_impl.h's invariants 1 and 2).
 */
#include <stdlib.h>

#include "sup_impl.h"

static bool boxed(cotp_term t) {
  return !cotp_is_none(t) && (t.w & 7u) <= 1u && !cotp_is_nil(t);
}

struct child *cotp__sup_child_new(struct sup *s, const struct child *fields) {
  struct child *c = malloc(sizeof *c);
  if (!c)
    return NULL;
  *c = *fields;
  if (s->dynamic)
    c->id = COTP_ATOM_UNDEFINED;
  if (s->dynamic && !cotp_is_nil(s->extra)) {
    /* extra_arguments ++ args, in the current heap; copied below */
    cotp_heap *h = cotp_self_heap();
    size_t n = 0;
    cotp_list_length(s->extra, &n);
    cotp_term front[n ? n : 1];
    cotp_term l = s->extra;
    for (size_t i = 0; i < n; i++, l = cotp_tail(l))
      front[i] = cotp_head(l);
    cotp_term args = c->args;
    for (size_t i = n; i-- > 0;)
      args = cotp_cons(h, front[i], args);
    c->args = args;
  }
  c->heap = NULL;
  if (boxed(c->id) || boxed(c->args) || boxed(c->modules)) {
    /* kept as one tuple, so that one block of their size holds them all */
    cotp_heap *h = cotp_self_heap();
    bool no_modules = cotp_is_none(c->modules);
    cotp_term all = COTP_TUPLE(h, c->id, c->args,
                               no_modules ? COTP_NIL : c->modules);
    if (cotp_is_none(all) || cotp_term_keep(all, &all, &c->heap) != 0) {
      free(c);
      return NULL;
    }
    c->id = cotp_tuple_get(all, 0);
    c->args = cotp_tuple_get(all, 1);
    c->modules = no_modules ? COTP_NONE : cotp_tuple_get(all, 2);
  }
  c->status = CHILD_UNDEFINED;
  c->key = ++s->next_key;
  c->delay_ms = 0;
  return c;
}

void cotp__sup_child_free(struct child *c) {
  if (!c)
    return;
  cotp_heap_free(c->heap);
  free(c);
}

void cotp__sup_append(struct sup *s, struct child *c) {
  c->prev = s->last;
  c->next = NULL;
  if (s->last)
    s->last->next = c;
  else
    s->first = c;
  s->last = c;
  s->nchildren++;
}

/* --- the table by pid --- */

static size_t bucket(const struct sup *s, cotp_pid pid) {
  return (size_t)((pid.bits * 0x9E3779B97F4A7C15u) >> 20) & (s->nbuckets - 1);
}

static void table_grow(struct sup *s) {
  size_t n = s->nbuckets ? s->nbuckets * 2 : 16;
  struct child **t = calloc(n, sizeof *t);
  if (!t)
    return; /* chains just get longer */
  struct child **old = s->table;
  size_t oldn = s->nbuckets;
  s->table = t;
  s->nbuckets = n;
  for (size_t i = 0; i < oldn; i++)
    for (struct child *c = old[i], *next; c; c = next) {
      next = c->hnext;
      size_t b = bucket(s, c->pid);
      c->hnext = t[b];
      t[b] = c;
    }
  free(old);
}

static void table_del(struct sup *s, struct child *c) {
  struct child **p = &s->table[bucket(s, c->pid)];
  while (*p && *p != c)
    p = &(*p)->hnext;
  if (*p) {
    *p = c->hnext;
    s->nrunning--;
  }
  c->hnext = NULL;
  c->in_table = false;
}

void cotp__sup_set_running(struct sup *s, struct child *c, cotp_pid pid) {
  if (c->in_table)
    table_del(s, c);
  if (s->nrunning + 1 > s->nbuckets)
    table_grow(s);
  c->pid = pid;
  c->status = CHILD_RUNNING;
  size_t b = bucket(s, pid);
  c->hnext = s->table[b];
  s->table[b] = c;
  s->nrunning++;
  c->in_table = true;
  c->started_ms = cotp_monotonic_ms();
  cotp__sup_report_started(s, c);
}

void cotp__sup_set_stopped(struct sup *s, struct child *c,
                           enum child_status st) {
  c->status = st;
  if (s->dynamic && st == CHILD_RESTARTING && c->in_table)
    return; /* keeps its old pid as its name */
  if (c->in_table)
    table_del(s, c);
  c->pid = (cotp_pid){0};
}

void cotp__sup_remove(struct sup *s, struct child *c) {
  if (c->in_table)
    table_del(s, c);
  if (c->prev)
    c->prev->next = c->next;
  else
    s->first = c->next;
  if (c->next)
    c->next->prev = c->prev;
  else
    s->last = c->prev;
  s->nchildren--;
  cotp__sup_child_free(c);
}

struct child *cotp__sup_by_pid(struct sup *s, cotp_pid pid) {
  if (!s->nbuckets)
    return NULL;
  for (struct child *c = s->table[bucket(s, pid)]; c; c = c->hnext)
    if (c->pid.bits == pid.bits)
      return c;
  return NULL;
}

struct child *cotp__sup_by_id(struct sup *s, cotp_term id) {
  for (struct child *c = s->first; c; c = c->next)
    if (cotp_term_eq(c->id, id))
      return c;
  return NULL;
}

struct child *cotp__sup_by_key(struct sup *s, uint64_t key) {
  for (struct child *c = s->first; c; c = c->next)
    if (c->key == key)
      return c;
  return NULL;
}

/* --- children as terms --- */

static cotp_term modules_of(cotp_heap *h, const struct child *c) {
  if (!cotp_is_none(c->modules))
    return c->modules;
  return COTP_LIST(h, c->module);
}

static cotp_term start_of(cotp_heap *h, const struct child *c) {
  if (c->cfn)
    return cotp__sup_start_term(h, c->cfn, c->ctx, c->args);
  return COTP_TUPLE(h, c->module, c->function, c->args);
}

static cotp_term restart_of(const struct child *c) {
  return c->restart == COTP_TRANSIENT   ? SUP_ATOM(transient)
         : c->restart == COTP_TEMPORARY ? SUP_ATOM(temporary)
                                        : SUP_ATOM(permanent);
}

static cotp_term shutdown_of(cotp_heap *h, const struct child *c) {
  return c->shutdown == COTP_INFINITY               ? COTP_ATOM_INFINITY
         : c->shutdown == COTP_SHUTDOWN_BRUTAL_KILL ? SUP_ATOM(brutal_kill)
                                                    : cotp_int(h, c->shutdown);
}

static cotp_term type_of(const struct child *c) {
  return c->type == COTP_SUPERVISOR ? SUP_ATOM(supervisor) : SUP_ATOM(worker);
}

cotp_term cotp__sup_child_spec_map(cotp_heap *h, const struct child *c) {
  cotp_term keys[] = {SUP_ATOM(id),       SUP_ATOM(start),   SUP_ATOM(restart),
                      SUP_ATOM(shutdown), SUP_ATOM(type),    SUP_ATOM(modules),
                      SUP_ATOM(significant)};
  cotp_term vals[] = {c->id,          start_of(h, c),    restart_of(c),
                      shutdown_of(h, c), type_of(c),     modules_of(h, c),
                      cotp_bool(c->significant)};
  return cotp_map(h, 7, keys, vals);
}

cotp_term cotp__sup_child_info(cotp_heap *h, const struct child *c) {
  cotp_term pid = c->status == CHILD_RUNNING ? cotp_pid_term(c->pid)
                  : c->status == CHILD_RESTARTING ? COTP_ATOM(restarting)
                                                  : COTP_ATOM_UNDEFINED;
  cotp_term e[] = {COTP_ATOM(child),  pid,
                   c->id,             start_of(h, c),
                   restart_of(c),     cotp_bool(c->significant),
                   shutdown_of(h, c), type_of(c),
                   modules_of(h, c)};
  return cotp_tuple(h, 9, e);
}
