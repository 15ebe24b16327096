/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ext.h: what a process has beyond the basics, allocated the first time it
 * is needed: links, monitors both ways, aliases, its registered name, its
 * label and dictionary, and its cleanups.  A process that never links,
 * monitors or registers (a parked handler, say) carries none of it.
 *
 * Only the process itself reads and writes its ext: other processes act on
 * it by sending signals, which the process handles (signal.c).  After the
 * process has stopped, whoever finishes it owns it (process.c).
 *
 * Links, monitors, watchers and aliases are hash sets (keyset.h): a
 * supervisor with a hundred thousand children, or an owner of as many
 * tasks, adds and removes one in constant time.  Cleanups and the
 * dictionary are arrays.
 */
#ifndef COTP_CORE_EXT_H
#define COTP_CORE_EXT_H

#include "cotp/name.h"
#include "cotp/signal.h"
#include "keyset.h"
#include "proc.h"

/* The first field of each set's entry is its key (keyset.h). */
struct cotp__link {
  cotp_pid pid;
  uint64_t unlinking; /* 0: active; else the id of our pending unlink */
  uint64_t seq;       /* when it was made: exits go out in that order */
};

/* A monitor this process holds (it will get the DOWN). */
struct cotp__mon {
  cotp_term ref;
  cotp_pid pid;
  cotp_term name;     /* monitored by this name, or NONE */
  uint8_t alias_mode; /* cotp_alias_mode: the ref is also an alias */
  bool alias_on;      /* the alias of a demonitor or reply_demonitor mode,
                         which ends with the monitor, is active (such an
                         alias has no entry in aliases: monitor.c) */
  bool alias_private; /* that alias is not in the shared table: only the
                         monitored process replies through it */
};

/* A process monitoring this one (it gets a DOWN when this one exits). */
struct cotp__watcher {
  cotp_term ref;
  cotp_pid pid;
  cotp_term name;     /* the name it monitored us by, or NONE */
  uint64_t seq;       /* when it was made: DOWNs go out in that order */
  uint8_t alias_mode; /* the watcher's cotp_alias_mode for ref */
};

struct cotp__alias {
  cotp_term ref;
  bool reply; /* deactivated by the first message through it */
};

/* keyset.h: entries are whole 64-bit words */
_Static_assert(sizeof(struct cotp__link) % 8 == 0 &&
                   sizeof(struct cotp__mon) % 8 == 0 &&
                   sizeof(struct cotp__watcher) % 8 == 0 &&
                   sizeof(struct cotp__alias) % 8 == 0,
               "keyset entries are whole words");

struct cotp__cleanup {
  void (*fn)(void *arg);
  void *arg;
};

#define VEC(type)                                                           \
  struct {                                                                  \
    type *at;                                                               \
    uint32_t n, cap;                                                        \
  }

struct cotp__ext {
  struct cotp__keyset links;    /* struct cotp__link, by pid */
  struct cotp__keyset mons;     /* struct cotp__mon, by ref */
  struct cotp__keyset watchers; /* struct cotp__watcher, by ref */
  struct cotp__keyset aliases;  /* struct cotp__alias, by ref */
  VEC(struct cotp__cleanup) cleanups;
  VEC(cotp_term) dict; /* key, value, key, value ... in heap */
  cotp_term name;      /* registered name, or NONE */
  cotp_term label;     /* in heap; NIL_ (nil) by default */
  cotp_heap heap;      /* the dictionary's and the label's terms */
  size_t dict_garbage; /* bytes of heap old values left behind */
  uint64_t seq;        /* links and watchers made so far */
};

/* p's ext, made if needed; NULL when out of memory. */
struct cotp__ext *cotp__ext(struct cotp__proc *p);
/* Frees p's ext (the process has stopped). */
void cotp__ext_free(struct cotp__proc *p);
/* Frees p's ext if it holds nothing (no links, monitors, watchers,
 * aliases, cleanups, dictionary or label): an idle handler keeps only its
 * control block.  Only p itself may call it. */
void cotp__ext_trim(struct cotp__proc *p);
/* Grows a vector so that one more element fits; false when out of memory. */
bool cotp__vec_reserve(void **at, uint32_t n, uint32_t *cap, size_t elem);
#define VEC_RESERVE(v) cotp__vec_reserve((void **)&(v).at, (v).n, &(v).cap, sizeof *(v).at)
void cotp__vec_free(void *at, uint32_t cap, size_t elem);
#define VEC_FREE(v) cotp__vec_free((v).at, (v).cap, sizeof *(v).at)
/* The entries of a set in the order they were made (their seq field at
 * seq_offset), for what must go out in that order: the exit signals of
 * links and the DOWNs of monitors, as the order a process made them is the
 * only order it could expect.  *out is malloc'ed (NULL, n 0: empty or out
 * of memory: then unordered iteration is the fallback, see callers). */
size_t cotp__set_in_order(const struct cotp__keyset *s, size_t esz,
                          size_t seq_offset, void ***out);
/* Typed keyset access. */
#define SET_FIND(set, type, key)                                            \
  ((type *)cotp__keyset_find(&(set), sizeof(type), (key)))
#define SET_ADD(set, type, key)                                             \
  ((type *)cotp__keyset_add(&(set), sizeof(type), (key)))
#define SET_REMOVE(set, type, e) cotp__keyset_remove(&(set), sizeof(type), (e))
#define SET_FREE(set, type) cotp__keyset_free(&(set), sizeof(type))
/* Removes element i, keeping the order of the rest. */
#define VEC_REMOVE(v, i)                                                    \
  memmove(&(v).at[i], &(v).at[(i) + 1], ((v).n - (i) - 1) * sizeof *(v).at), \
      (v).n--

/* --- signals (signal.c) --- */

/* Sends a signal of kind from `from` to pid, carrying aux and a copy of
 * term (NONE for nothing).  Returns PUSH_DEAD when pid is gone, or a
 * negative COTP_ENOMEM. */
int cotp__signal(cotp_pid to, uint32_t kind, uint32_t flags, cotp_pid from,
                 cotp_term aux, cotp_term term);
/* The same for a bare message (proc.h): flags name its shape, and from
 * and aux are its parts (immediates). */
int cotp__signal_bare(cotp_pid to, uint32_t kind, uint32_t flags,
                      uint64_t from, cotp_term aux);
/* Handles one signal taken from the inbox (drain): appends messages to the
 * private queue, acts on the rest; may exit p (then it does not return). */
void cotp__signal_handle(struct cotp__proc *p, struct cotp__sig *s,
                         struct cotp__sig *rest);
/* Signals found in the mailbox of a process that has stopped: links and
 * monitors of it get their noproc answer. */
void cotp__signal_orphan(struct cotp__proc *p, struct cotp__sig *s);
/* Sends p's pending monitor request, if it has one, alone. */
static inline void cotp__monitor_flush(struct cotp__proc *p) {
  if (p && p->pending_mon_ref.w)
    cotp__monitor_flush_slow(p);
}
/* p has been told, with a message, of a monitor from its sender m->from
 * (SF_MONITOR): records it, or answers DOWN noproc if p is dead. */
void cotp__monitor_carried(struct cotp__proc *p, struct cotp__msg *m, bool dead);

/* --- links and monitors (link.c, monitor.c) --- */

void cotp__link_add(struct cotp__proc *p, cotp_pid from);
/* Records p's link to its spawner in its control block (PF_SPAWN_LINK)
 * instead of its extension; p is not running yet. */
void cotp__link_spawner(struct cotp__proc *p, cotp_pid spawner);
void cotp__unlink_received(struct cotp__proc *p, cotp_pid from, uint64_t id);
void cotp__unlink_acked(struct cotp__proc *p, cotp_pid from, uint64_t id);
/* Whether p has an active link to pid; removes it when take is true. */
bool cotp__link_active(struct cotp__proc *p, cotp_pid pid, bool take);
void cotp__watcher_add(struct cotp__proc *p, cotp_pid from, cotp_term ref,
                       cotp_term name, unsigned alias_mode);
void cotp__watcher_remove(struct cotp__proc *p, cotp_pid from, cotp_term ref);
/* Records the monitor p's spawner makes with it in p's control block
 * (PF_SPAWN_WATCH) instead of its extension; p is not running yet. */
void cotp__watcher_inline(struct cotp__proc *p, cotp_pid from, cotp_term ref,
                          unsigned alias_mode);
/* Direct turns (turn.c).  The turn of process t has answered caller p
 * through the alias of p's monitor ref: the monitor and alias end, as a
 * reply through a reply_demonitor alias ends them (a pending monitor
 * never sent is just forgotten). */
void cotp__monitor_answered(struct cotp__proc *p, cotp_term ref);
/* The turn of t ended or waits without an answer for p: p's pending
 * monitor of t, if it has one, takes effect in t now, before anything
 * else can happen to t, as it would have before t handled p's request. */
void cotp__monitor_pending_to(struct cotp__proc *p, struct cotp__proc *t);
/* A turn's monitor alias made late (COTP_TURN_MONITOR_ALIAS): while the
 * turn runs, ref is an alias of p's published by the scheduler s running
 * the turn, not put in the shared table (p drains nothing meanwhile, so
 * no message through it is judged before the turn ends); closed if the
 * turn answers; if not, it becomes p's reply_demonitor monitor of t, in
 * the table and installed in t too, before t is settled (false when out
 * of memory), and only then closed. */
struct cotp__sched;
void cotp__turn_alias_open(struct cotp__sched *s, struct cotp__proc *p,
                           cotp_term ref);
void cotp__turn_alias_close(struct cotp__sched *s);
bool cotp__turn_alias_to_monitor(struct cotp__proc *p, struct cotp__proc *t,
                                 cotp_term ref);
/* A DOWN for ref arrived: true (monitor removed) if p still holds it. */
bool cotp__down_received(struct cotp__proc *p, cotp_term ref);
/* Makes the ref of m, a monitor p has just added with its alias_mode set,
 * an alias as that mode says: false when out of memory. */
bool cotp__mon_alias(struct cotp__proc *p, struct cotp__mon *m);
/* A message came through alias (signal flags sflags): true if it may be
 * delivered. */
bool cotp__alias_received(struct cotp__proc *p, cotp_term alias,
                          uint32_t sflags);
/* The links, monitors and aliases of a process that has stopped fire.
 * When the spawner that monitors p (PF_SPAWN_WATCH) is linked to it as
 * well, as a Task's owner is, its exit signal travels in its DOWN: one
 * signal, not two, from every task that ends.  links_fire then skips
 * that link and returns true, and monitors_fire, told so, marks the DOWN
 * SF_LINKED (signal.c acts on the exit first).  The order the spawner
 * sees is unchanged: the exit signal, then the DOWN. */
bool cotp__links_fire(struct cotp__proc *p, cotp_pid self, cotp_term reason);
void cotp__monitors_fire(struct cotp__proc *p, cotp_pid self, cotp_term reason,
                         bool down_carries_exit);

/* --- names (names.c) --- */

/* Releases p's registered name, if any (exit, before links fire). */
void cotp__name_release(struct cotp__proc *p);
void cotp__names_close(void);
void cotp__aliases_close(void);
/* The name pid is registered as, or NONE. */
cotp_term cotp__name_of(cotp_pid pid);

/* The object a DOWN names: {name, node()} when monitored by name, else the
 * pid. */
cotp_term cotp__down_object(cotp_heap *h, cotp_pid pid, cotp_term name);

/* --- dictionary, cleanups, introspection, crash reports --- */

/* Answers an INFO request from `to` (info.c). */
void cotp__info_answer(struct cotp__proc *p, cotp_pid to, cotp_term ref,
                       cotp_term request);
/* Answers an INFO request to a process that has stopped. */
void cotp__info_answer_dead(cotp_pid to, cotp_term ref);

void cotp__cleanups_run(struct cotp__proc *p);
void cotp__crash_report(struct cotp__proc *p, cotp_pid pid, cotp_term reason);

#endif
