/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proc.h: the process control block and its life cycle.
 *
 * States (the `state` word):
 *
 *   FREE      in a free list; owned by the process table.
 *   RUNNABLE  in exactly one run queue, a scheduler's runnext slot, or a
 *             run stack's waiter list; owned by that queue.
 *   RUNNING   being executed; owned by the scheduler running it, and by the
 *             process itself on its own stack.
 *   WAITING   parked: in no queue.  Whoever clears the WAITING bit of its
 *             inbox (below) owns it and must make it runnable.
 *   BLOCKED   parked in cotp_blocking(): only the blocking pool, when the
 *             call returns, may CAS it to RUNNABLE (the call may be using
 *             its stack, so a message must not wake it).
 *   EXITING   being torn down by its scheduler.
 *
 * The inbox is a lock-free stack of signals (messages, and later exit,
 * link and monitor signals) that the owner drains in one exchange and
 * reverses, which keeps each sender's signals in the order sent.  Its head
 * word carries, besides the pointer, the low 16 bits of the incarnation's
 * serial (so a push for an exited process fails even if the control block
 * was reused in between) and the WAITING bit.
 *
 * Parking and waking meet in that one word, so a message costs one atomic
 * operation on each side.  The parker (the scheduler, after the process
 * switched out: Go's gopark commit) CASes an empty inbox to WAITING; a
 * non-empty one means a message came, and it does not park.  A sender's
 * push CAS replaces the head, clearing WAITING in the same operation; the
 * sender that saw WAITING owns the process and makes it runnable.  Other
 * wakers (a timer, the poller) CAS WAITING off the empty inbox.  Exactly
 * one party wins, so a wake-up is never lost or doubled.  Wake-ups may be
 * spurious (a message that does not match): every wait re-checks what it
 * waits for.
 *
 * Control blocks are never freed while the runtime runs (type-stable
 * memory), which is what makes reading a stale one safe.
 */
#ifndef COTP_CORE_PROC_H
#define COTP_CORE_PROC_H

#include <pthread.h>
#include <stdatomic.h>

#include "cotp/io.h"
#include "cotp/process.h"
#include "platform/fpstate.h"
#include "term/layout.h"
#include "timer.h"

struct cotp__sched;
struct cotp__rstack;
struct cotp__ext;

enum proc_state {
  PS_FREE,
  PS_RUNNABLE,
  PS_RUNNING,
  PS_WAITING,
  PS_BLOCKED, /* in cotp_blocking(): only the pool's completion wakes it */
  PS_EXITING
};

/* What a process asks of its scheduler when it switches away. */
enum proc_request {
  RQ_YIELD,    /* runnable again: requeue */
  RQ_PARK,     /* wait (receive, sleep, fd): park unless already woken */
  RQ_EXIT,     /* tear down */
  RQ_DROP,     /* park without a stack (handler between messages,
                  hibernate): the frames are discarded */
  RQ_BLOCKING  /* run blocking_fn on the pool, stack pinned, then resume */
};

/* Kinds of signals in an inbox (what each carries is in signal.c). */
enum sig_kind {
  SIG_MSG,        /* a message */
  SIG_ALIAS_MSG,  /* a message sent through an alias (aux) */
  SIG_EXIT,       /* term {:EXIT, from, reason}; flag SF_LINKED */
  SIG_LINK,
  SIG_UNLINK,     /* aux: the unlink id */
  SIG_UNLINK_ACK, /* aux: the unlink id */
  SIG_MONITOR,    /* aux: ref; term: the name monitored, or NONE */
  SIG_DEMONITOR,  /* aux: ref */
  SIG_DOWN,       /* aux: ref; term {:DOWN, ref, :process, obj, reason} */
  SIG_INFO        /* aux: ref; term: the item; answered with a message */
};

enum {
  SF_LINKED = 1u, /* an exit signal that comes from a link; a DOWN that
                     carries one too (ext.h) */
  SF_FLAT = 2u,   /* a message whose term is an immediate or a tuple of
                     immediates: no pointers inside, so it can be copied
                     word for word (its size is in the upper bits) */
  SF_ENDS_MONITOR = 4u, /* an alias message from the process the alias's
                           reply_demonitor monitor watches: that process
                           has dropped its side already (monitor.c) */
  SF_MODE_SHIFT = 4,    /* SIG_MONITOR, SF_MONITOR: the cotp_alias_mode,
                           2 bits */
  SF_MONITOR = 64u,     /* a message that also carries a monitor request
                           from its sender, ref in aux (monitor.c) */
  SF_BARE_REPLY = 8u,   /* bare messages, with no term (see is_bare) */
  SF_BARE_DOWN = 128u
};

struct cotp__sig {
  struct cotp__sig *next;
  uint32_t kind;
  uint32_t flags;
};

/* A message: one allocation holding this header, then a heap block (its
 * words after it) with the copied term.  On receipt the block moves into
 * the receiver's heap and the rest of the allocation goes with it. */
struct cotp__msg {
  struct cotp__sig sig;
  cotp_pid from;  /* the sending process (bits 0 if none); a bare
                     reply's value (SF_BARE_REPLY) */
  cotp_term aux;  /* an immediate the kind needs (a ref, an id) */
  cotp_term term; /* in the block that follows */
};

static inline struct cotp__block *msg_block(struct cotp__msg *m) {
  return (struct cotp__block *)(m + 1);
}

/* Flags (owner only). */
enum {
  PF_HANDLER = 1u << 0,   /* a message-handler process */
  PF_MARKED = 1u << 1,    /* cotp_receive_mark() was called */
  PF_OWN_STACK = 1u << 2, /* runs on a dedicated stack of its own */
  PF_FRAMES = 1u << 3,    /* (own stack) has live frames */
  PF_ROOT = 1u << 4,      /* the root process: its exit stops the runtime */
  PF_TIMED = 1u << 5,     /* the current wait has a deadline (timer) */
  PF_IO = 1u << 6,        /* the current wait is for a file descriptor */
  PF_TRAP_EXIT = 1u << 7, /* exit signals become messages */
  PF_DYING = 1u << 8,     /* exiting: signals are no longer handled */
  PF_IN_WAIT = 1u << 9,   /* woken from a wait, handling what woke it:
                             process_info says :waiting (info.c) */
  PF_NO_REPORT = 1u << 10, /* cotp_set_crash_report(false) */
  PF_MFA = 1u << 11,       /* u.mfa holds a cotp_spawn_mfa's call, not run yet */
  PF_SPAWN_WATCH = 1u << 12, /* u.watch holds the spawner's monitor (monitor.c) */
  PF_SPAWN_LINK = 1u << 13,  /* linked to u.watch.pid, its spawner, with no
                                entry in ext (link.c) */
  PF_FP_ENV = 1u << 14,      /* keeps its own floating-point control state
                                (spawned with fp_env; platform/ctx.h) */
  PF_DICT_LENT = 1u << 15,   /* dict_lent is its dictionary (info.c) */
};

/* A blocking call handed to the offload pool (blocking.c). */
struct cotp__blocking_call {
  void (*fn)(void *);
  void *arg;
};

struct cotp__proc {
  /* Written by any thread: the line every send writes, and the owner
   * writes when it drains, parks or wakes.  The owner touches it only
   * when it looks at its mailbox or waits, so between two of those a
   * sender on another core finds the line where the last sender left it
   * (the pid, which every sender reads and the owner reads often, is on
   * a line nobody writes: below).  arg_free and
   * blocking are here only to fill it: the whole block is 320 bytes, so
   * that in the page-aligned table each spans exactly 5 cache lines.
   * Each is set by cotp__proc_alloc, not zeroed with the rest. */
  _Atomic uint64_t inbox;  /* tagged head: (serial16 << 48) | sig ptr */
  _Atomic uint32_t state;
  _Atomic unsigned io_ready; /* events the poller saw for the fd wait */
  void (*arg_free)(void *);  /* spawn_opts.arg_free, until it has run */
  _Atomic uint32_t io_seq;   /* number of the current fd wait (poller.c) */
  int io_fd;                 /* fd being waited for, -1 when none */
  struct cotp__blocking_call *blocking; /* on its own stack, pinned for
                                          the call (blocking.c) */
  struct cotp__timer timer;  /* deadline of the current wait (its wheel
                                pointer is read by other threads) */

  /* The process and the scheduler running it.  From here to the end, a
   * new incarnation starts from all zeros (cotp__proc_alloc), then the few
   * fields whose default is not zero are set: a field added here is reset
   * without anyone having to remember it (all but named to turn_hold,
   * below). */
  struct cotp__sig *mq_head, *mq_tail; /* private queue, messages only */
  struct cotp__sig *mark;              /* last message before the mark */
  size_t mq_len;
  cotp_heap heap;
  void *sp;                     /* saved stack pointer while suspended */
  struct cotp__rstack *home;    /* the run stack its frames belong to */
  void *saved;                  /* frames copied out of home, or NULL */
  uint32_t saved_len;
  uint32_t arg_copy_size;       /* bytes at arg_copy */
  void *arg_copy;               /* the spawn argument's copy, or NULL */
  uint8_t request;
  uint8_t priority;
  uint8_t low_skips;            /* BEAM: low runs once per 8 normal picks */
  uint8_t pending_mon_mode;     /* of pending_mon_ref, below */
  uint16_t flags;
  uint8_t watch_mode;           /* u.watch's cotp_alias_mode */
  bool dict_lazy;               /* dict_lent is what the pairs are made
                                   of, when first read (info.c) */
  uint32_t runs;                /* times scheduled (watchdog, stats) */
  int32_t reductions;
  union {
    cotp_entry *fn;
    cotp_handler_fn *handle;
  } entry;
  void *arg;
  void *arg_owned;              /* what it gets: the spawn argument (a
                                   hibernation may change arg) */
  struct cotp__proc *next;      /* run queue / waiter list link */
  /* From here to turn_hold, a line that is read far more than written,
   * and a span that a new incarnation does not zero (ptable.c): those
   * read by other threads are set by cotp__proc_alloc with atomic
   * stores, the rest only mean something with a flag that says so. */
  _Atomic bool named;           /* has a registered name (names.c) */
  /* (owner only) With PF_FP_ENV: the floating-point control state of a
   * process whose frames were dropped (sched.c). */
  uint16_t fp_kept_b;
  uint32_t fp_kept_a;
  /* The bits of the current incarnation: read by every send to it and
   * by the process itself, written only when the block is handed out. */
  _Atomic uint64_t pid;
  /* Which scheduler holds this handler's direct turns and since when
   * (turn.c): read through the slot by callers on other schedulers at
   * every call, written only when the turns change hands.  Only ever
   * written atomically: a new incarnation keeps its predecessor's. */
  _Atomic uint64_t turn_hold;
  cotp_term exit_reason;        /* set on the way out; in heap */
  /* Two things no process needs at once: the function and arguments of a
   * cotp_spawn_mfa until it starts (PF_MFA; the arguments are in heap),
   * and the monitor and link its spawner made with it (PF_SPAWN_WATCH,
   * PF_SPAWN_LINK: the pid is the spawner's for both).  They are kept
   * here rather than as entries of `ext` so that a process linked to and
   * monitored by its spawner alone, a task or a GenServer being started,
   * needs no extension for them: no allocation at the spawn (by the
   * spawner's thread, where the child does not run), no trim when it goes
   * idle (monitor.c, link.c). */
  union {
    struct {
      cotp_term args;
      cotp_mfa_fn *fn;
    } mfa;
    struct {
      cotp_term ref;
      cotp_pid pid;
    } watch;
  } u;
  struct cotp__stackmem *own_stack; /* PF_OWN_STACK */
  struct cotp__ext *ext;        /* links, monitors, names...: on demand */
  struct cotp__catch *catching; /* innermost cotp_catch_exit(), or NULL */
  /* A handler's (PF_HANDLER) message being handled, read in place and
   * freed when handle returns; or, in a plain process, the dictionary it
   * lent (PF_DICT_LENT, cotp__dict_lend): a tuple of pairs in its own
   * heap, read in place until it first changes its dictionary, or, with
   * dict_lazy, the term they are made of when first read (info.c). */
  union {
    struct cotp__msg *handling;
    cotp_term dict_lent;
  };
  /* A monitor not yet sent: it travels with the next message to its
   * target, or alone at the next other signal or switch (monitor.c). */
  cotp_pid pending_mon_pid;
  cotp_term pending_mon_ref;    /* NONE: no monitor pending */
#if defined(COTP_TSAN)
  void *tsan_fiber;
#endif
#if defined(COTP_ASAN)
  void *asan_fake_stack;
#endif
};

/* --- the process table (ptable.c) --- */

int cotp__ptable_init(unsigned max_processes);
void cotp__ptable_close(void);
/* A fresh control block with a new pid, state RUNNABLE, or NULL
 * (COTP_ESYSLIMIT or COTP_ENOMEM in *err). */
struct cotp__proc *cotp__proc_alloc(int *err);
/* Returns an EXITING block to the free lists. */
void cotp__proc_free(struct cotp__proc *p);
/* The table's state, for the inline lookup below (ptable.c owns it).
 * Every send reads the first line, which nothing writes while the runtime
 * runs; what spawns and exits write is on lines of its own, or each write
 * would cost the other cores a miss at their next send. */
struct cotp__ptable {
  unsigned max;
  struct cotp__proc *blocks; /* max of them, in one reservation (bigmem.h) */
  _Atomic uint32_t fresh __attribute__((aligned(64))); /* indexes below this
                                                          have been handed out */
  pthread_mutex_t lock;     /* the global free list */
  uint32_t *free;           /* global free list */
  size_t nfree, capfree;
} __attribute__((aligned(64)));
extern struct cotp__ptable cotp__ptable;

/* The block a pid names, if that incarnation is still its owner (racy: it
 * may exit right after; the inbox tag is the final word).  Two loads and a
 * compare, no lock: every send starts here.  A block never handed out
 * reads as zeros (the whole table is mapped readable, bigmem.h), so its
 * pid 0 matches no pid asked for; the bound is the table's, which never
 * changes, not the count of blocks handed out, which every fresh spawn
 * writes. */
/* The block pid's number names, whoever has it now, or NULL for another
 * node's pid, one beyond the table, or no pid at all. */
static inline struct cotp__proc *cotp__proc_slot(cotp_pid pid) {
  uint32_t index = (uint32_t)(pid.bits & ((1u << COTP_PID_NUMBER_BITS) - 1));
  /* index - 1 wraps for index 0, the "no pid" that no process ever has */
  if ((pid.bits >> (COTP_PID_NUMBER_BITS + COTP_PID_SERIAL_BITS)) != 0 ||
      index - 1 >= cotp__ptable.max - 1)
    return NULL;
  return &cotp__ptable.blocks[index];
}

static inline struct cotp__proc *cotp__proc_lookup(cotp_pid pid) {
  struct cotp__proc *p = cotp__proc_slot(pid);
  if (!p || atomic_load_explicit(&p->pid, memory_order_acquire) != pid.bits)
    return NULL;
  return p;
}
/* Calls fn for every block that is not FREE (runtime stop only). */
void cotp__ptable_each(void (*fn)(struct cotp__proc *p, void *ctx), void *ctx);
size_t cotp__ptable_live(void);

/* --- inbox and mailbox (mailbox.c) --- */

#define INBOX_TAG_SHIFT 48
#define INBOX_PTR_MASK (((uint64_t)1 << INBOX_TAG_SHIFT) - 1)
#define INBOX_CLOSED 1u  /* the pointer part of a closed inbox */
#define INBOX_WAITING 2u /* the owner is parked, the inbox empty */

static inline uint64_t inbox_tag(cotp_pid pid) {
  /* the low 16 bits of the serial, which sits above the number */
  return ((pid.bits >> COTP_PID_NUMBER_BITS) & 0xFFFFu) << INBOX_TAG_SHIFT;
}

/* Appends a message to the private queue (owner). */
static inline void cotp__mq_append(struct cotp__proc *p, struct cotp__sig *s) {
  s->kind = SIG_MSG;
  s->next = NULL;
  if (p->mq_tail)
    p->mq_tail->next = s;
  else
    p->mq_head = s;
  p->mq_tail = s;
  p->mq_len++;
}

/* A message that joins the private queue as it is: no monitor rides with
 * it, and the receiver has nothing to act on (a drain only moves it). */
static inline bool cotp__sig_is_plain_msg(const struct cotp__sig *s) {
  return s->kind == SIG_MSG && !(s->flags & SF_MONITOR);
}

enum push_result { PUSH_DEAD, PUSH_OK, PUSH_WOKE };
/*
 * Pushes s to the inbox of pid's incarnation of p.  PUSH_DEAD: that
 * incarnation is gone and s was not taken.  PUSH_WOKE: p was parked and the
 * caller now owns it: it must make it ready (cotp__make_ready).
 *
 * A plain message to a process parked with an empty inbox skips the
 * inbox: the push takes the wake-up and appends the message to the
 * private queue itself.  Whoever clears WAITING owns the parked process
 * until it makes it ready (the claim a timer, the poller or a direct turn
 * makes too), and the queue push that makes it ready publishes the
 * append; the woken process finds its inbox empty, with nothing to take
 * and reverse: a ping-pong round trip went from 1,079 to 1,023
 * instructions.
 */
static inline enum push_result cotp__inbox_push(struct cotp__proc *p,
                                                cotp_pid pid,
                                                struct cotp__sig *s) {
  uint64_t tag = inbox_tag(pid);
  uint64_t old = atomic_load_explicit(&p->inbox, memory_order_relaxed);
  bool plain = cotp__sig_is_plain_msg(s);
  for (;;) {
    uint64_t ptr = old & INBOX_PTR_MASK;
    if ((old & ~INBOX_PTR_MASK) != tag || ptr == INBOX_CLOSED)
      return PUSH_DEAD;
    /* acq_rel: the signal is written before the push is seen (release), and
     * if we take over a parked process, its parking happened before
     * (acquire) */
    if (plain && ptr == INBOX_WAITING) { /* parked, nothing queued */
      if (atomic_compare_exchange_weak_explicit(&p->inbox, &old, tag,
                                                memory_order_acq_rel,
                                                memory_order_relaxed)) {
        cotp__mq_append(p, s);
        return PUSH_WOKE;
      }
      continue;
    }
    s->next = (struct cotp__sig *)(uintptr_t)(ptr & ~(uint64_t)INBOX_WAITING);
    if (atomic_compare_exchange_weak_explicit(
            &p->inbox, &old, tag | (uint64_t)(uintptr_t)s, memory_order_acq_rel,
            memory_order_relaxed))
      return (old & INBOX_WAITING) ? PUSH_WOKE : PUSH_OK;
  }
}

/* Moves everything in the inbox to the private queue (owner).  Every
 * look at the mailbox starts here, so a monitor request still waiting for
 * a message to travel with goes first (monitor.c): its effects (a DOWN
 * with noproc) must be there to be seen. */
COTP__SLOW_PATH void cotp__inbox_drain_slow(struct cotp__proc *p);
COTP__SLOW_PATH void cotp__monitor_flush_slow(struct cotp__proc *p);
static inline void cotp__inbox_drain(struct cotp__proc *p) {
  if (p->pending_mon_ref.w)
    cotp__monitor_flush_slow(p);
  if (atomic_load_explicit(&p->inbox, memory_order_relaxed) & INBOX_PTR_MASK)
    cotp__inbox_drain_slow(p);
}
/* Closes the inbox and frees every signal and message left (exit). */
void cotp__mailbox_close(struct cotp__proc *p);
/* A message holding a copy of t, or NULL (ENOMEM). */
/* A process spawned with fp_env keeps its floating-point control state in
 * its context while it has frames (platform/ctx.h); when they are dropped
 * (a handler between messages, a hibernation) it keeps it here, and its
 * bottom frame restores it when it starts again. */
static inline void cotp__fp_keep(struct cotp__proc *p) {
  if (__builtin_expect(p->flags & PF_FP_ENV, 0)) {
    struct cotp__fpstate st = cotp__fpstate_get();
    p->fp_kept_a = st.a;
    p->fp_kept_b = st.b;
  }
}
void cotp__fp_restore_now(const struct cotp__proc *p); /* sched.c */
static inline void cotp__fp_restore(const struct cotp__proc *p) {
  /* out of line: a bottom frame must not grow for the rare case */
  if (__builtin_expect(p->flags & PF_FP_ENV, 0))
    cotp__fp_restore_now(p);
}

COTP__SLOW_PATH struct cotp__msg *cotp__msg_new_slow(cotp_term t);
/* The most elements a flat message's tuple has: a task's go-ahead with a
 * stream item has 9 (task_int.h), and copied the general way it took a
 * 256-byte chunk and 200 instructions more. */
#define FLAT_MAX_ELEMENTS 10

/* How many words an immediate-only tuple of up to FLAT_MAX_ELEMENTS
 * elements takes, or 0 when t is anything else (the common message shapes:
 * {:tag, ref, 42}). */
static inline size_t flat_tuple_words(cotp_term t) {
  if (TAG_OF(t) != COTP__TAG_BOXED || t.w == 0)
    return 0;
  const uint64_t *p = box_ptr(t);
  /* a tuple header: kind BOX_TUPLE and the header tag in the low 7 bits */
  if ((p[0] & 127u) != HDR_MAKE(BOX_TUPLE, 0) || HDR_COUNT(p[0]) > FLAT_MAX_ELEMENTS)
    return 0;
  size_t n = HDR_COUNT(p[0]);
  for (size_t i = 1; i <= n; i++)
    if ((p[i] & TAG_MASK) <= COTP__TAG_LIST) /* boxed or list: a pointer */
      return 0;
  return 1 + n;
}

/*
 * A flat message (SF_FLAT) keeps its word count in the upper bits of its
 * flags, and its words right after its header, with no block header
 * between: a reply {ref, 42} takes one 64-byte chunk, a DOWN message one
 * of 96 (the commonest of both travel bare instead: below).  The receiver copies the words out; if they must join its heap
 * as they are (no memory for a copy, a handler hibernating with the
 * message), a block header takes the place of the message header, which
 * is no longer needed by then and has the same size.
 */
#define SF_WORDS_SHIFT 8
_Static_assert(sizeof(struct cotp__msg) == sizeof(struct cotp__block) &&
                   offsetof(struct cotp__block, words) == sizeof(struct cotp__msg),
               "a flat message's header can become a block header in place");
/* Copies a flat message's n words (at most FLAT_MAX_ELEMENTS + 1).  Most
 * messages are 2 to 4 words ({:tag, ref}, {ref, reply}): two overlapping
 * pairs copy those without a loop, whose exit mispredicts when sizes
 * alternate. */
static inline void flat_copy(uint64_t *restrict dst,
                             const uint64_t *restrict src, size_t n) {
  if (n - 2 <= 2) {
    uint64_t a = src[0], b = src[1], c = src[n - 2], d = src[n - 1];
    dst[0] = a;
    dst[1] = b;
    dst[n - 2] = c;
    dst[n - 1] = d;
    return;
  }
  for (size_t i = 0; i < n; i++)
    dst[i] = src[i];
}

static inline size_t flat_words(const struct cotp__msg *m) {
  return m->sig.flags >> SF_WORDS_SHIFT;
}
static inline size_t flat_bytes(size_t words) {
  return sizeof(struct cotp__msg) + words * 8;
}
static inline uint64_t *flat_data(struct cotp__msg *m) {
  return (uint64_t *)(m + 1);
}
/* The block of message m, ready to join a heap.  For a flat message the
 * message header is gone after this: read its term first. */
static inline struct cotp__block *msg_block_ready(struct cotp__msg *m) {
  if (!(m->sig.flags & SF_FLAT))
    return msg_block(m);
  size_t words = flat_words(m);
  struct cotp__block *b = (struct cotp__block *)(void *)m;
  *b = (struct cotp__block){.prev = NULL,
                            .cap = (uint32_t)words, /* FLAT_MAX_ELEMENTS + 1 at most */
                            .used = (uint32_t)words,
                            .offheap = NULL,
                            .mem = m,
                            .mem_size = flat_bytes(words)};
  return b;
}

/* Writes the header of a flat message of `words` words (0: t is an
 * immediate, the whole message) into the chunk m; the words are the
 * caller's to copy. */
static inline void cotp__msg_init_flat(struct cotp__msg *m, size_t words,
                                       cotp_term t) {
  m->sig.kind = SIG_MSG;
  m->sig.flags = SF_FLAT | (uint32_t)(words << SF_WORDS_SHIFT);
  m->from.bits = 0;
  m->aux = COTP_NONE;
  m->term = t;
}

static inline struct cotp__msg *cotp__msg_new(cotp_term t) {
  size_t words = 0;
  if (TAG_OF(t) <= COTP__TAG_LIST) {
    words = flat_tuple_words(t);
    if (!words)
      return cotp__msg_new_slow(t);
  }
  /* an immediate, or a flat tuple: one allocation, a few words copied */
  struct cotp__msg *m = (struct cotp__msg *)cotp__chunk_alloc(flat_bytes(words));
  if (m) {
    cotp__msg_init_flat(m, words, t);
    if (words) {
      uint64_t *dst = flat_data(m);
      const uint64_t *src = box_ptr(t);
      flat_copy(dst, src, words);
      m->term = box_term(dst);
    }
  }
  return m;
}

/*
 * Bare messages: two shapes so common that they travel with no term, only
 * the message header's first 32 bytes (a 32-byte chunk), their variable
 * parts in its from and aux words:
 *
 *   SF_BARE_DOWN   {:DOWN, aux, :process, from, :normal}: a process
 *                  watched by pid (or spawned monitored) ended normally
 *   SF_BARE_REPLY  {aux, v}, sent through the alias aux, v an immediate
 *                  kept in from's word: a task's reply
 *
 * A caller that starts 100,000 tasks before awaiting them holds a reply
 * and a DOWN for each: as flat messages of 64 and 96 bytes they were
 * 3,900 fresh pages, and bare ones made task_async_await 9% faster (most
 * of it the DOWNs': docs/benchmarks.md).  The tuple is written
 * out where the message is read: into a buffer for a receive's scan, into
 * the heap when the message is taken or handled, and by process_info.
 */
#define BARE_BYTES offsetof(struct cotp__msg, term)
_Static_assert(BARE_BYTES == 32, "a bare message takes the smallest chunk");
#define BARE_MAX_WORDS 6
static inline bool is_bare(const struct cotp__sig *s) {
  return s->flags & (SF_BARE_DOWN | SF_BARE_REPLY);
}
static inline size_t bare_words(const struct cotp__sig *s) {
  return s->flags & SF_BARE_DOWN ? 6 : 3;
}
/* Writes bare message m's tuple at w (bare_words of it); returns it. */
static inline cotp_term bare_tuple_at(uint64_t *w, const struct cotp__msg *m) {
  if (m->sig.flags & SF_BARE_DOWN) {
    w[0] = HDR_MAKE(BOX_TUPLE, 5);
    w[1] = COTP_ATOM_DOWN.w;
    w[2] = m->aux.w;
    w[3] = COTP_ATOM_PROCESS.w;
    w[4] = cotp_pid_term(m->from).w;
    w[5] = COTP_ATOM_NORMAL.w;
  } else {
    w[0] = HDR_MAKE(BOX_TUPLE, 2);
    w[1] = m->aux.w;
    w[2] = m->from.bits;
  }
  return box_term(w);
}
/* Message m's term, as a receive's scan reads it: a bare message's is
 * written in buf, valid until buf is used again. */
static inline cotp_term msg_term(const struct cotp__msg *m,
                                 uint64_t buf[BARE_MAX_WORDS]) {
  return is_bare(&m->sig) ? bare_tuple_at(buf, m) : m->term;
}
/* Whether a term lives in no heap (an immediate): what a bare message's
 * parts must be. */
static inline bool bare_part(cotp_term t) { return cotp__is_immediate(t); }

void cotp__msg_free(struct cotp__msg *m);
/* Delivers a copy of t to pid; wakes it if it waits.  0 or COTP_ENOMEM. */
int cotp__deliver(cotp_pid pid, cotp_term t);
/* Unlinks message m (whose predecessor in the private queue is prev, NULL
 * for the head) from p's private queue and returns it, still p's. */
struct cotp__msg *cotp__mailbox_unlink(struct cotp__proc *p,
                                       struct cotp__sig *prev,
                                       struct cotp__sig *m);
/* Unlinks message m as above and moves it into p's heap; returns its
 * term.  A bare message's is written into the heap: a process that has no
 * memory left for those few words exits with reason killed, as it does
 * when it has none for the reason of an exit signal (signal.c). */
cotp_term cotp__mailbox_take(struct cotp__proc *p, struct cotp__sig *prev,
                             struct cotp__sig *m);

#endif
