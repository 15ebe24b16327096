/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mailbox.c: inboxes, messages and the private queue.
 *
 * Senders push signals onto the receiver's inbox, a lock-free stack whose
 * head carries the receiver's incarnation tag (proc.h); the receiver takes
 * the whole stack with one exchange, reverses it (restoring each sender's
 * order) and appends the messages to its private queue, where selective
 * receive scans them.  A push is one CAS and never waits for the receiver.
 *
 * A message is one allocation: the signal header, the root term and a heap
 * block holding the copied term.  When received, the block joins the
 * receiver's heap as is: receiving copies nothing.
 */
#include <stdlib.h>

#include "ext.h"
#include "runtime.h"
#include "sched.h"

/* A message of words words of heap, the term still to be written. */
static struct cotp__msg *msg_alloc(size_t words) {
  size_t head = sizeof(struct cotp__msg) + sizeof(struct cotp__block);
  if (words > UINT32_MAX)
    return NULL; /* over 32 GB in one term: no memory for it */
  struct cotp__msg *m = cotp__chunk_alloc(head + words * 8);
  if (!m)
    return NULL;
  m->sig.next = NULL;
  m->sig.kind = SIG_MSG;
  m->sig.flags = 0;
  *msg_block(m) = (struct cotp__block){.prev = NULL, .cap = (uint32_t)words,
                                       .used = (uint32_t)words, .offheap = NULL,
                                       .mem = m, .mem_size = head + words * 8};
  return m;
}

/* Bytes a message gets when its term is copied straight into it: one
 * chunk class, room for 22 words after the headers (a call's
 * {:"$gen_call", {pid, [:alias | ref]}, {:get, 42}} takes 12). */
#define DIRECT_BYTES 256

struct cotp__msg *cotp__msg_new_slow(cotp_term t) {
  /* the usual message is small: copied once, into the message itself */
  size_t head = sizeof(struct cotp__msg) + sizeof(struct cotp__block);
  struct cotp__msg *m = cotp__chunk_alloc(DIRECT_BYTES);
  if (m) {
    size_t words;
    cotp_term root = cotp__term_copy_bounded(
        msg_block(m)->words, (DIRECT_BYTES - head) / 8, t, &words);
    if (!cotp_is_none(root)) {
      m->sig.next = NULL;
      m->sig.kind = SIG_MSG;
      m->sig.flags = 0;
      *msg_block(m) = (struct cotp__block){.prev = NULL, .cap = (uint32_t)words,
                                           .used = (uint32_t)words, .offheap = NULL,
                                           .mem = m, .mem_size = DIRECT_BYTES};
      m->term = root;
      return m;
    }
    cotp__chunk_free(m, DIRECT_BYTES);
  }
  /* bigger, or sharing: copied once, to scratch, then moved */
  uint64_t scratch[COTP__SCRATCH_WORDS];
  size_t words;
  uint64_t mask;
  cotp_term root = cotp__term_copy_scratch(scratch, t, &words, &mask);
  if (!cotp_is_none(root)) {
    m = msg_alloc(words);
    if (m) {
      uint64_t *dst = msg_block(m)->words;
      cotp__term_move_scratch(dst, scratch, words, mask);
      m->term.w = root.w + ((uint64_t)(uintptr_t)dst - (uint64_t)(uintptr_t)scratch);
    }
    return m;
  }
  m = msg_alloc(cotp__term_words(t));
  if (m)
    m->term = cotp__term_copy_into(msg_block(m)->words, t, msg_block(m));
  return m;
}

/* A message with a heap block: what it shares is released first. */
COTP__SLOW_PATH static void msg_free_block(struct cotp__msg *m) {
  struct cotp__block *b = msg_block(m);
  cotp__block_release_offheap(b);
  cotp__chunk_free(m, b->mem_size);
}

/* The common messages, bare and flat, are one chunk each, freed with no
 * frame; the block case stays out of line. */
void cotp__msg_free(struct cotp__msg *m) {
  if (is_bare(&m->sig))
    cotp__chunk_free(m, BARE_BYTES);
  else if (m->sig.flags & SF_FLAT)
    cotp__chunk_free(m, flat_bytes(flat_words(m)));
  else
    msg_free_block(m);
}

/* A signal left in a stopped process's mailbox: messages are freed, and
 * requests get the answer a dead process gives (signal.c). */
static void sig_free(struct cotp__proc *p, struct cotp__sig *s) {
  if (s->kind == SIG_MSG) {
    if (s->flags & SF_MONITOR) /* a monitor that never took effect */
      cotp__monitor_carried(p, (struct cotp__msg *)s, true);
    cotp__msg_free((struct cotp__msg *)s);
  }
  else
    cotp__signal_orphan(p, s);
}

void cotp__inbox_drain_slow(struct cotp__proc *p) {
  uint64_t tag = atomic_load_explicit(&p->inbox, memory_order_relaxed) &
                 ~INBOX_PTR_MASK;
  uint64_t got = atomic_exchange_explicit(&p->inbox, tag, memory_order_acquire);
  struct cotp__sig *s = (struct cotp__sig *)(uintptr_t)(got & INBOX_PTR_MASK);
  if (s && !s->next && cotp__sig_is_plain_msg(s)) {
    /* the common case: one message */
    cotp__mq_append(p, s);
    return;
  }
  /* newest first: reverse into arrival order */
  struct cotp__sig *rev = NULL;
  while (s) {
    struct cotp__sig *next = s->next;
    s->next = rev;
    rev = s;
    s = next;
  }
  /* Messages join the private queue; other signals take effect, in
   * order (an exit signal may end the process here). */
  for (s = rev; s; s = rev) {
    rev = s->next;
    if (cotp__sig_is_plain_msg(s))
      cotp__mq_append(p, s);
    else
      cotp__signal_handle(p, s, rev);
  }
}

void cotp__mailbox_close(struct cotp__proc *p) {
  cotp_pid pid = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  uint64_t got = atomic_exchange_explicit(
      &p->inbox, inbox_tag(pid) | INBOX_CLOSED, memory_order_acquire);
  uint64_t ptr = got & INBOX_PTR_MASK;
  if (ptr == INBOX_CLOSED)
    ptr = 0;
  /* a parked process's inbox holds the WAITING bit and nothing else */
  struct cotp__sig *s = (struct cotp__sig *)(uintptr_t)(ptr & ~(uint64_t)INBOX_WAITING);
  /* the inbox is newest first: answer in arrival order */
  struct cotp__sig *rev = NULL;
  while (s) {
    struct cotp__sig *next = s->next;
    s->next = rev;
    rev = s;
    s = next;
  }
  for (s = p->mq_head; s;) {
    struct cotp__sig *next = s->next;
    sig_free(p, s);
    s = next;
  }
  for (s = rev; s;) {
    struct cotp__sig *next = s->next;
    sig_free(p, s);
    s = next;
  }
  p->mq_head = p->mq_tail = p->mark = NULL;
  p->mq_len = 0;
}

struct cotp__msg *cotp__mailbox_unlink(struct cotp__proc *p,
                                       struct cotp__sig *prev,
                                       struct cotp__sig *m) {
  if (prev)
    prev->next = m->next;
  else
    p->mq_head = m->next;
  if (p->mq_tail == m)
    p->mq_tail = prev;
  if (p->mark == m)
    p->mark = prev;
  p->mq_len--;
  return (struct cotp__msg *)m;
}

cotp_term cotp__mailbox_take(struct cotp__proc *p, struct cotp__sig *prev,
                             struct cotp__sig *m) {
  struct cotp__msg *msg = cotp__mailbox_unlink(p, prev, m);
  if (is_bare(m)) {
    uint64_t *dst = cotp__heap_try_alloc(&p->heap, bare_words(m));
    if (!dst) {
      cotp__msg_free(msg);
      cotp__proc_exit(p, COTP_ATOM_KILLED);
    }
    cotp_term t = bare_tuple_at(dst, msg);
    cotp__chunk_free(msg, BARE_BYTES);
    return t;
  }
  if (m->flags & SF_FLAT) {
    /* Small and pointer-free: copy it into the heap (usually a bump of the
     * top block, which a loop's release keeps) and free the message now,
     * instead of adopting its block, which the next release would have to
     * unlink and free. */
    size_t n = flat_words(msg);
    cotp_term t = msg->term;
    if (n) {
      struct cotp__block *top = p->heap.top;
      uint64_t *dst;
      if (top && top->cap - top->used >= n) {
        dst = top->words + top->used;
        top->used += (uint32_t)n; /* at most FLAT_MAX_ELEMENTS + 1 */
      } else if (!(dst = cotp__heap_try_alloc(&p->heap, n))) {
        goto adopt; /* no memory for a copy: take the block as it is */
      }
      const uint64_t *src = flat_data(msg);
      flat_copy(dst, src, n);
      t = box_term(dst);
    }
    cotp__chunk_free(msg, flat_bytes(n));
    return t;
  }
adopt:;
  cotp_term t = msg->term; /* before the header goes, if it is flat */
  cotp__heap_adopt(&p->heap, msg_block_ready(msg));
  return t;
}

int cotp__deliver(cotp_pid pid, cotp_term t) {
  cotp__monitor_flush(cotp__proc_self());
  struct cotp__proc *p = cotp__proc_lookup(pid);
  if (!p)
    return 0; /* no such process: dropped, as in Erlang */
  struct cotp__msg *m = cotp__msg_new(t);
  if (!m)
    return COTP_ENOMEM;
  cotp__msg_push(p, pid, m);
  return 0;
}

int cotp_send(cotp_pid pid, cotp_term msg) {
  if (cotp_is_none(msg))
    return COTP_EINVAL;
  struct cotp__sched *s = cotp__sched_self();
  struct cotp__proc *self = s ? s->current : NULL;
  bool carry = false;
  if (self && self->pending_mon_ref.w) {
    carry = cotp_pid_eq(self->pending_mon_pid, pid);
    if (!carry)
      cotp__monitor_flush_slow(self);
  }
  struct cotp__proc *p = cotp__proc_lookup(pid);
  if (p) {
    struct cotp__msg *m = cotp__msg_new(msg);
    if (!m)
      return COTP_ENOMEM;
    if (carry) {
      /* the monitor asked for just before travels with this message:
       * one push instead of two, in the same order */
      m->sig.flags |= SF_MONITOR | ((uint32_t)self->pending_mon_mode << SF_MODE_SHIFT);
      m->from.bits = atomic_load_explicit(&self->pid, memory_order_relaxed);
      m->aux = self->pending_mon_ref;
    }
    enum push_result r = cotp__inbox_push(p, pid, &m->sig);
    if (r == PUSH_WOKE) {
      cotp__prefetch_to_run(p);
      if (self)
        cotp__make_ready_on(s, p);
      else
        cotp__make_ready(p, false);
    } else if (r == PUSH_DEAD) {
      cotp__msg_free(m);
      p = NULL;
    }
  }
  if (carry) {
    if (p)
      self->pending_mon_ref = COTP_NONE; /* it went with the message */
    else
      cotp__monitor_flush_slow(self); /* gone: the DOWN says noproc */
  }
  if (self)
    cotp__reduce(self, 1);
  return 0;
}
