/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stacks.c: handing out run stacks, evicting and restoring frames
 * (the design is in stacks.h).
 *
 * Choosing a stack for a process without frames, in order:
 *   1. the set's hint: a stack whose last resident left it empty (the
 *      stack a short-lived process just ran on is hot in the cache, and
 *      skynet-like trees run leaf after leaf on it);
 *   2. the stack under the clock hand, if no process runs on it and its
 *      resident is not pinned: evict the resident (copy its frames out);
 *   3. a new stack, while the set is below its maximum;
 *   4. keep moving the hand.  The set's maximum is above the number of
 *      stacks that can be running or pinned at once, so this ends.
 */
#include "stacks.h"

#include <stdio.h>
#include <stdlib.h>

#include "platform/ctx.h"
#include "sched.h"

#if defined(COTP_ASAN)
#include <sanitizer/asan_interface.h>
#endif

void cotp__proc_start(void); /* process.c: the bottom frame of a process */

/* Where a process with no frames starts: a handler's bottom frame is its
 * own (sched.c). */
static void (*entry_of(const struct cotp__proc *p))(void) {
  return p->flags & PF_HANDLER ? cotp__handler_start : cotp__proc_start;
}

static void lock(struct cotp__rstack *r) {
  while (atomic_flag_test_and_set_explicit(&r->lock, memory_order_acquire))
    ;
}

static void unlock(struct cotp__rstack *r) {
  atomic_flag_clear_explicit(&r->lock, memory_order_release);
}

static struct cotp__rstack *rstack_new(struct cotp__stackset *set) {
  struct cotp__rstack *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  atomic_flag_clear(&r->lock);
  if (cotp__stackmem_map(&r->mem, set->size) != 0) {
    free(r);
    return NULL;
  }
  r->set = set;
  return r;
}

int cotp__stackset_init(struct cotp__stackset *set, size_t size,
                        unsigned initial, unsigned max) {
  *set = (struct cotp__stackset){.size = size, .max = max};
  set->stacks = calloc(max, sizeof *set->stacks);
  if (!set->stacks)
    return COTP_ENOMEM;
  for (unsigned i = 0; i < initial; i++) {
    if (!(set->stacks[i] = rstack_new(set))) {
      cotp__stackset_close(set);
      return COTP_ENOMEM;
    }
    set->n++;
  }
  return 0;
}

void cotp__stackset_close(struct cotp__stackset *set) {
  for (unsigned i = 0; i < set->n; i++) {
    cotp__stackmem_unmap(&set->stacks[i]->mem);
    free(set->stacks[i]);
  }
  free(set->stacks);
  *set = (struct cotp__stackset){0};
}

/* Under ASan the shadow of a stack still describes the frames of its last
 * occupant; a new occupant's frames start from a clean slate. */
static void clean_shadow(const struct cotp__rstack *r) {
#if defined(COTP_ASAN)
  __asan_unpoison_memory_region(r->mem.base, r->mem.size);
#else
  (void)r;
#endif
}

/*
 * Saved frames sit at the end of their chunk (cotp__chunk_room, layout.h),
 * so that the chunk lines up with the top of the stack they came from:
 * swap_frames trades a whole chunk with the range below the top.
 */
static void free_saved(struct cotp__proc *p) {
  size_t room = cotp__chunk_room(p->saved_len);
  cotp__chunk_free((char *)p->saved - (room - p->saved_len), room);
}

/* Copies the frames of the resident `old` out of r (r is in use by us). */
static void evict(struct cotp__rstack *r, struct cotp__proc *old) {
  char *from = (char *)old->sp - cotp__ctx_below_sp;
  size_t len = (size_t)(cotp__rstack_top(r) - from);
  size_t room = cotp__chunk_room(len);
  char *buf = cotp__chunk_alloc(room);
  if (!buf) {
    /* Nowhere to put the frames: there is no way to run anything on this
     * stack without losing a process, and memory is gone anyway. */
    fputs("cotp: out of memory saving a parked process's stack\n", stderr);
    abort();
  }
  clean_shadow(r);
  buf += room - len; /* at the chunk's end (free_saved) */
  memcpy(buf, from, len);
  /* atomic stores: a process that wakes old may be reading these at the
   * same time, for a prefetch (sched.h, cotp__prefetch_to_run) */
  __atomic_store_n(&old->saved, buf, __ATOMIC_RELAXED);
  __atomic_store_n(&old->saved_len, (uint32_t)len, __ATOMIC_RELAXED);
}

static void restore(struct cotp__rstack *r, struct cotp__proc *p) {
  clean_shadow(r);
  memcpy(cotp__rstack_top(r) - p->saved_len, p->saved, p->saved_len);
  free_saved(p);
  p->saved = NULL;
  p->saved_len = 0;
}

#if !defined(COTP_ASAN) /* which copies instead: see swap_frames */
/* 32 bytes at a time, with the wide registers where the CPU has them. */
typedef char block32 __attribute__((vector_size(32), aligned(1)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&         \
    !defined(COTP_TSAN)
__attribute__((target_clones("avx2", "default")))
#endif
static void swap_blocks(char *a, char *b, size_t n) {
  for (size_t i = 0; i < n; i += 32) {
    block32 x = *(block32 *)(a + i), y = *(block32 *)(b + i);
    *(block32 *)(a + i) = y;
    *(block32 *)(b + i) = x;
  }
}
#endif

/*
 * The usual eviction of a large ring: old's frames out of r, p's in.
 * When the two need chunks of one size class, they trade places in one
 * pass, and p's buffer, just read, becomes old's: no allocation, no free,
 * and the buffer's lines are already here.  The whole class-sized range
 * below the top moves either way; the bytes past either one's frames are
 * dead (below a stack pointer, or past a saved length).
 */
static bool swap_frames(struct cotp__rstack *r, struct cotp__proc *old,
                        struct cotp__proc *p) {
#if defined(COTP_ASAN)
  (void)r, (void)old, (void)p;
  return false; /* the shadow of the stack must be cleaned first */
#else
  char *top = cotp__rstack_top(r);
  size_t old_len = (size_t)(top - ((char *)old->sp - cotp__ctx_below_sp));
  size_t len = p->saved_len;
  size_t room = cotp__chunk_room(len);
  if (!p->saved || room % CHUNK_CLASS_BYTES ||
      cotp__chunk_room(old_len) != room)
    return false;
  char *chunk = (char *)p->saved - (room - len);
  swap_blocks(top - room, chunk, room);
  p->saved = NULL;
  p->saved_len = 0;
  __atomic_store_n(&old->saved, chunk + (room - old_len), __ATOMIC_RELAXED);
  __atomic_store_n(&old->saved_len, (uint32_t)old_len, __ATOMIC_RELAXED);
  return true;
#endif
}

/* Tries to take r for p, which has no frames.  Returns true with r in use
 * and p resident, evicting the former resident if there was one, and a
 * fresh context at entry on top. */
static bool try_take(struct cotp__rstack *r, struct cotp__proc *p,
                     bool only_empty, void (*entry)(void)) {
  lock(r);
  if (r->in_use || r->pinned || (only_empty && r->resident)) {
    unlock(r);
    return false;
  }
  struct cotp__proc *old = r->resident;
  r->in_use = true;
  r->resident = p;
  unlock(r);
  if (old)
    evict(r, old);
  else
    clean_shadow(r);
  p->home = r;
  p->sp = cotp__ctx_make(r->mem.base, r->mem.size, entry);
  return true;
}

/* take_any past the hint: the clock, out of line so that a turn that
 * takes the hint (nearly every handler's) saves no registers for it. */
COTP__SLOW_PATH static void take_by_clock(struct cotp__stackset *set,
                                          struct cotp__proc *p,
                                          void (*entry)(void)) {
  for (;;) {
    for (unsigned i = 0; i < set->n; i++) {
      struct cotp__rstack *r = set->stacks[set->hand];
      set->hand = (set->hand + 1) % set->n;
      if (try_take(r, p, false, entry))
        return;
    }
    if (set->n < set->max) {
      struct cotp__rstack *r = rstack_new(set);
      if (r) {
        set->stacks[set->n++] = r;
        if (try_take(r, p, false, entry))
          return;
      }
    }
  }
}

static void take_any(struct cotp__stackset *set, struct cotp__proc *p,
                     void (*entry)(void)) {
  struct cotp__rstack *hint =
      atomic_load_explicit(&set->hint, memory_order_relaxed);
  if (!hint || !try_take(hint, p, true, entry))
    take_by_clock(set, p, entry);
}

bool cotp__stack_acquire(struct cotp__sched *s, struct cotp__proc *p) {
  if (p->flags & PF_OWN_STACK) {
    if (!p->home && !(p->flags & PF_FRAMES))
      p->sp = cotp__ctx_make(p->own_stack->base, p->own_stack->size,
                             entry_of(p));
    p->flags |= PF_FRAMES;
    return true;
  }
  struct cotp__rstack *r = p->home;
  if (!r) {
    take_any(&s->stacks, p, entry_of(p));
    return true;
  }
  lock(r);
  return cotp__stack_acquire_locked(p);
}

bool cotp__stack_acquire_locked(struct cotp__proc *p) {
  struct cotp__rstack *r = p->home;
  if (r->in_use || (r->pinned && r->resident != p)) {
    p->next = NULL;
    if (r->waiters_tail)
      r->waiters_tail->next = p;
    else
      r->waiters = p;
    r->waiters_tail = p;
    unlock(r);
    return false;
  }
  struct cotp__proc *old = r->resident;
  r->in_use = true;
  r->pinned = false;
  r->resident = p;
  unlock(r);
  if (old != p) {
    if (old && swap_frames(r, old, p))
      return true;
    if (old)
      evict(r, old);
    restore(r, p);
  }
  return true;
}

void cotp__stack_take_fresh(struct cotp__sched *s, struct cotp__proc *p,
                            void (*entry)(void)) {
  take_any(&s->stacks, p, entry);
}

struct cotp__proc *cotp__stack_release(struct cotp__proc *p, bool frames_live,
                                       bool pin) {
  if (p->flags & PF_OWN_STACK) {
    if (!frames_live)
      p->flags &= (uint16_t)~PF_FRAMES;
    return NULL;
  }
  struct cotp__rstack *r = p->home;
  struct cotp__proc *w = NULL;
  lock(r);
  r->in_use = false;
  if (!frames_live) {
    r->resident = NULL;
    p->home = NULL;
  }
  r->pinned = pin;
  if (!pin && (w = r->waiters)) {
    r->waiters = w->next;
    if (!r->waiters)
      r->waiters_tail = NULL;
  }
  unlock(r);
  if (!frames_live)
    atomic_store_explicit(&r->set->hint, r, memory_order_relaxed);
  return w;
}

void cotp__stack_forget(struct cotp__proc *p) {
  if (p->saved)
    free_saved(p);
  p->saved = NULL;
  p->saved_len = 0;
  if (p->home) {
    lock(p->home);
    if (p->home->resident == p)
      p->home->resident = NULL;
    unlock(p->home);
    p->home = NULL;
  }
  if (p->own_stack) {
    cotp__stackmem_unmap(p->own_stack);
    free(p->own_stack);
    p->own_stack = NULL;
  }
}

bool cotp__stack_overflowed(const struct cotp__proc *p, const void *addr) {
  if (p->own_stack)
    return cotp__stackmem_in_guard(p->own_stack, addr);
  return p->home && cotp__stackmem_in_guard(&p->home->mem, addr);
}
