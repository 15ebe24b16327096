/* SPDX-License-Identifier: Apache-2.0 */
/*
 * task_owned.c: memory a process owns beyond a single call, freed when the
 * process exits if it has not been freed before.
 *
 * A stream's state lives across calls of its consumer; a consumer that
 * dies (killed by a task's crash through the link, or exiting with the
 * stream open) cannot free it.  cotp_on_exit() runs code at exit, but a
 * cleanup cannot be taken back, so registering one per stream would make a
 * long-lived process that runs a million streams hold a million cleanups.
 * Instead each process that owns something gets one cleanup, the first
 * time, and an entry in a table from pid to the list of what it owns:
 * freeing a thing takes it off the list, the process's exit frees what is
 * left.
 *
 * The table is an open-addressing map from pid bits to list heads under a
 * mutex: a process touches it when a stream starts and ends, and once
 * more at exit (the cleanup, on a scheduler thread, takes the mutex only
 * for the time of a lookup).  Entries stay while their process lives.
 */
#include <pthread.h>
#include <stdlib.h>

#include "task_owned.h"

struct entry {
  uint64_t pid; /* 0: empty */
  struct cotp__owned *head;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *table;
static size_t cap, used;

static size_t home(uint64_t pid) {
  return (size_t)((pid * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
}

static struct entry *find(uint64_t pid) {
  if (!cap)
    return NULL;
  for (size_t i = home(pid);; i = (i + 1) & (cap - 1)) {
    if (table[i].pid == pid)
      return &table[i];
    if (!table[i].pid)
      return NULL;
  }
}

static struct entry *insert(uint64_t pid) {
  size_t i = home(pid);
  while (table[i].pid)
    i = (i + 1) & (cap - 1);
  table[i] = (struct entry){pid, NULL};
  used++;
  return &table[i];
}

static bool grow(void) {
  size_t n = cap ? cap * 2 : 64;
  struct entry *old = table, *bigger = calloc(n, sizeof *bigger);
  if (!bigger)
    return false;
  size_t oldcap = cap;
  table = bigger;
  cap = n;
  used = 0;
  for (size_t i = 0; i < oldcap; i++)
    if (old[i].pid)
      insert(old[i].pid)->head = old[i].head;
  free(old);
  return true;
}

static void erase(struct entry *e) {
  size_t hole = (size_t)(e - table);
  for (size_t i = (hole + 1) & (cap - 1); table[i].pid; i = (i + 1) & (cap - 1)) {
    size_t h = home(table[i].pid);
    bool movable = hole <= i ? (h <= hole || h > i) : (h <= hole && h > i);
    if (movable) {
      table[hole] = table[i];
      hole = i;
    }
  }
  table[hole].pid = 0;
  used--;
}

/* The process's exit: free what it still owns. */
static void reap(void *arg) {
  uint64_t pid = (uint64_t)(uintptr_t)arg;
  pthread_mutex_lock(&lock);
  struct entry *e = find(pid);
  struct cotp__owned *list = NULL;
  if (e) {
    list = e->head;
    erase(e);
  }
  pthread_mutex_unlock(&lock);
  while (list) {
    struct cotp__owned *next = list->next;
    list->prev = list->next = NULL;
    list->reap(list);
    list = next;
  }
}

int cotp__owned_add(struct cotp__owned *o) {
  uint64_t pid = cotp_self().bits;
  if (!pid)
    return COTP_ENOTPROC;
  pthread_mutex_lock(&lock);
  struct entry *e = find(pid);
  bool fresh = !e;
  int rc = 0;
  if (fresh && (used + 1) * 2 > cap && !grow())
    rc = COTP_ENOMEM;
  else if (fresh)
    e = insert(pid);
  if (rc == 0) {
    o->owner = pid;
    o->prev = NULL;
    o->next = e->head;
    if (e->head)
      e->head->prev = o;
    e->head = o;
  }
  pthread_mutex_unlock(&lock);
  /* the one cleanup of this process, the first time it owns something */
  if (rc == 0 && fresh && (rc = cotp_on_exit(reap, (void *)(uintptr_t)pid)) != 0) {
    pthread_mutex_lock(&lock);
    if ((e = find(pid)) != NULL)
      erase(e); /* o is its only entry: no cleanup, no entry */
    o->owner = 0;
    pthread_mutex_unlock(&lock);
  }
  return rc;
}

void cotp__owned_remove(struct cotp__owned *o) {
  if (!o->owner)
    return; /* never added */
  pthread_mutex_lock(&lock);
  struct entry *e = find(o->owner);
  if (e) {
    if (o->prev)
      o->prev->next = o->next;
    else if (e->head == o)
      e->head = o->next;
    if (o->next)
      o->next->prev = o->prev;
  }
  o->prev = o->next = NULL;
  o->owner = 0;
  pthread_mutex_unlock(&lock);
}
