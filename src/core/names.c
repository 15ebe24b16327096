/* SPDX-License-Identifier: Apache-2.0 */
/*
 * names.c: registered names, and names through via modules.
 *
 * One table, name atom -> pid, under a mutex: names are looked up by
 * cotp_send_name and changed rarely.  A process's control block says
 * whether it has a name (`named`), so that an exit looks in the table only
 * when there is something to release, and so that "already has a name" is
 * one load.  Exit releases the name before the process's links and
 * monitors fire (process.c), and registering checks, under the table's
 * lock, that the process is not already exiting: a name is never left
 * behind by a dead process.
 */
#include <pthread.h>
#include <stdlib.h>

#include "cotp/name.h"
#include "ext.h"
#include "runtime.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry {
  cotp_term name;
  cotp_pid pid;
} *table;
static size_t count, cap;

/* lock held */
static long find_name(cotp_term name) {
  for (size_t i = 0; i < count; i++)
    if (table[i].name.w == name.w)
      return (long)i;
  return -1;
}

static long find_pid(cotp_pid pid) {
  for (size_t i = 0; i < count; i++)
    if (cotp_pid_eq(table[i].pid, pid))
      return (long)i;
  return -1;
}

static bool alive(struct cotp__proc *p) {
  uint32_t st = atomic_load_explicit(&p->state, memory_order_seq_cst);
  return st != PS_FREE && st != PS_EXITING;
}

/* lock held: makes room for one more entry */
static bool room(void) {
  if (count < cap)
    return true;
  size_t c = cap ? cap * 2 : 64;
  struct entry *t = realloc(table, c * sizeof *t);
  if (!t)
    return false;
  table = t;
  cap = c;
  return true;
}

/*
 * Registering races with the process exiting.  Exit stores EXITING, then
 * reads `named`; register sets `named`, then reads the state and the pid
 * again (all seq_cst), so one of the two sees the other: either exit finds
 * the flag and removes the name under the lock (after us), or register
 * finds the process exiting, or its block reused, and undoes.
 */
int cotp_register(cotp_term name, cotp_pid pid) {
  if (!cotp_is_atom(name) || name.w == COTP_ATOM_UNDEFINED.w)
    return COTP_EINVAL;
  pthread_mutex_lock(&lock);
  struct cotp__proc *p = cotp__proc_lookup(pid);
  int rc = 0;
  if (!p || !alive(p))
    rc = COTP_ENOPROC;
  else if (find_name(name) >= 0)
    rc = COTP_EEXIST;
  else if (atomic_load_explicit(&p->named, memory_order_seq_cst))
    rc = COTP_ENAMED;
  else if (!room())
    rc = COTP_ENOMEM;
  if (rc == 0) {
    atomic_store_explicit(&p->named, true, memory_order_seq_cst);
    if (!alive(p) || atomic_load_explicit(&p->pid, memory_order_seq_cst) != pid.bits) {
      atomic_store_explicit(&p->named, false, memory_order_seq_cst);
      rc = COTP_ENOPROC;
    } else {
      table[count++] = (struct entry){name, pid};
    }
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

int cotp_unregister(cotp_term name) {
  pthread_mutex_lock(&lock);
  long i = find_name(name);
  if (i >= 0) {
    struct cotp__proc *p = cotp__proc_lookup(table[i].pid);
    if (p)
      atomic_store_explicit(&p->named, false, memory_order_relaxed);
    table[i] = table[--count];
  }
  pthread_mutex_unlock(&lock);
  return i >= 0 ? 0 : COTP_ENOTFOUND;
}

void cotp__name_release(struct cotp__proc *p) {
  /* seq_cst: against cotp_register's store of named (see there); the
   * caller stored EXITING before, seq_cst too */
  if (!atomic_load_explicit(&p->named, memory_order_seq_cst))
    return;
  cotp_pid pid = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  pthread_mutex_lock(&lock);
  long i = find_pid(pid);
  if (i >= 0)
    table[i] = table[--count];
  atomic_store_explicit(&p->named, false, memory_order_relaxed);
  pthread_mutex_unlock(&lock);
}

int cotp_whereis(cotp_term name, cotp_pid *pid) {
  pthread_mutex_lock(&lock);
  long i = find_name(name);
  if (i >= 0 && pid)
    *pid = table[i].pid;
  pthread_mutex_unlock(&lock);
  return i >= 0 ? 0 : COTP_ENOTFOUND;
}

/* The name of a process, or NONE (introspection, crash reports). */
cotp_term cotp__name_of(cotp_pid pid) {
  /* Most processes have no name: their `named` flag says so without the
   * lock (a Task.async asks for its owner's name every time).  A
   * registration racing with this read is ordered after it. */
  struct cotp__proc *p = cotp__proc_lookup(pid);
  if (!p || !atomic_load_explicit(&p->named, memory_order_acquire))
    return COTP_NONE;
  pthread_mutex_lock(&lock);
  long i = find_pid(pid);
  cotp_term name = i >= 0 ? table[i].name : COTP_NONE;
  pthread_mutex_unlock(&lock);
  return name;
}

cotp_term cotp_registered_name(cotp_pid pid) { return cotp__name_of(pid); }

cotp_term cotp_registered(cotp_heap *h) {
  pthread_mutex_lock(&lock);
  cotp_term list = COTP_NIL;
  for (size_t i = 0; i < count; i++)
    list = cotp_cons(h, table[i].name, list);
  pthread_mutex_unlock(&lock);
  return list;
}

int cotp_send_name(cotp_term name, cotp_term msg) {
  cotp_pid pid;
  if (!cotp_is_atom(name) || cotp_is_none(msg))
    return COTP_EINVAL;
  if (cotp_whereis(name, &pid) != 0)
    return COTP_ENOPROC; /* D4: an error, unlike a dead pid */
  return cotp_send(pid, msg);
}

void cotp__names_close(void) {
  pthread_mutex_lock(&lock);
  free(table);
  table = NULL;
  count = cap = 0;
  pthread_mutex_unlock(&lock);
}

/* --- names of any kind --- */

int cotp_name_register(const cotp_name *n, cotp_pid pid) {
  if (!n)
    return COTP_EINVAL;
  switch (n->kind) {
  case COTP_NAME_NONE:
    return 0;
  case COTP_NAME_LOCAL:
    return cotp_register(n->term, pid);
  case COTP_NAME_VIA:
    return n->via && n->via->register_name
               ? n->via->register_name(n->via->ctx, n->term, pid)
               : COTP_EINVAL;
  }
  return COTP_EINVAL;
}

int cotp_name_unregister(const cotp_name *n) {
  if (!n)
    return COTP_EINVAL;
  switch (n->kind) {
  case COTP_NAME_NONE:
    return 0;
  case COTP_NAME_LOCAL:
    return cotp_unregister(n->term);
  case COTP_NAME_VIA:
    return n->via && n->via->unregister_name
               ? n->via->unregister_name(n->via->ctx, n->term)
               : COTP_EINVAL;
  }
  return COTP_EINVAL;
}

int cotp_name_whereis(const cotp_name *n, cotp_pid *pid) {
  if (!n)
    return COTP_EINVAL;
  switch (n->kind) {
  case COTP_NAME_NONE:
    return COTP_ENOTFOUND;
  case COTP_NAME_LOCAL:
    return cotp_whereis(n->term, pid);
  case COTP_NAME_VIA:
    return n->via && n->via->whereis ? n->via->whereis(n->via->ctx, n->term, pid)
                                     : COTP_EINVAL;
  }
  return COTP_EINVAL;
}

int cotp_name_send(const cotp_name *n, cotp_term msg) {
  if (n && n->kind == COTP_NAME_VIA && n->via && n->via->send)
    return n->via->send(n->via->ctx, n->term, msg);
  cotp_pid pid;
  int rc = cotp_name_whereis(n, &pid);
  if (rc == COTP_ENOTFOUND)
    return COTP_ENOPROC;
  return rc ? rc : cotp_send(pid, msg);
}
