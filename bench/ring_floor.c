/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ring_floor.c: the ring benchmark with no runtime at all, to measure the
 * floor under bench/ring.c on this machine.  It does not use cotp and
 * bench/run does not run it; docs/benchmarks.md ("Thirty-second session")
 * explains what it showed.
 *
 * N (10,000) stackful coroutines in a ring pass a counter M (1,000,000)
 * hops, each one a receive loop as in ring.c: take the message from its
 * mailbox or park, read k, send k - 1 to the next.  Everything a runtime
 * adds is left out: one thread, no locks or atomics, no pids (a pointer),
 * no terms (a three-word message from a free list), no links, monitors,
 * selective receive, reductions or timers.  What is left is what any
 * design of stackful processes pays: a context switch, and the memory of
 * ten thousand processes.  Two ways to hold their frames:
 *
 *   default: a 16 KB stack of its own for each coroutine (one mapping
 *            each, no guard page), switched to directly;
 *   COPY=1:  one shared stack; a parked coroutine's frames are copied out
 *            to a buffer and back in (libaco's copy-stack, as cotp does),
 *            through the scheduler's context.
 *
 *   ring_floor <ns per hop>
 *
 * x86-64 only: the switch is four lines of assembly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#if defined(__x86_64__)

struct msg {
  struct msg *next;
  uint64_t k;
};

struct coro {
  void *sp;
  struct msg *inbox, *inbox_tail;
  struct coro *next;
  int waiting;
  char *saved; /* COPY: the frames while another coroutine has the stack */
  size_t saved_len;
};

enum { STACK = 16384, QUEUE = 1 << 16, FRAMES_MAX = 1024 };

static struct coro *ring, *current, *resident;
static struct coro *runq[QUEUE];
static unsigned rq_head, rq_tail;
static void *sched_sp;
static struct msg *free_msgs;
static char *shared_top;
static int copy_mode, done;

/* Saves the callee-saved registers on the current stack, stores its
 * pointer in *save and resumes the context whose stack pointer is to. */
__attribute__((naked, noinline)) static void
switch_to(__attribute__((unused)) void **save, __attribute__((unused)) void *to) {
  __asm__ volatile("push %rbp\n push %rbx\n push %r12\n push %r13\n"
                   "push %r14\n push %r15\n mov %rsp, (%rdi)\n mov %rsi, %rsp\n"
                   "pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbx\n"
                   "pop %rbp\n ret\n");
}

static void send(struct coro *to, uint64_t k) {
  struct msg *m = free_msgs;
  if (m)
    free_msgs = m->next;
  else if (!(m = malloc(sizeof *m)))
    abort();
  m->k = k;
  m->next = NULL;
  if (to->inbox)
    to->inbox_tail->next = m;
  else
    to->inbox = m;
  to->inbox_tail = m;
  if (to->waiting) {
    to->waiting = 0;
    runq[rq_tail++ % QUEUE] = to;
  }
}

static struct msg *receive(void) {
  struct coro *me = current;
  while (!me->inbox) {
    me->waiting = 1;
    if (copy_mode || rq_head == rq_tail) {
      switch_to(&me->sp, sched_sp); /* the scheduler moves the frames */
    } else {
      struct coro *n = runq[rq_head++ % QUEUE];
      current = n;
      switch_to(&me->sp, n->sp);
    }
    current = me;
  }
  struct msg *m = me->inbox;
  me->inbox = m->next;
  return m;
}

static void body(void) {
  for (;;) {
    struct msg *m = receive();
    uint64_t k = m->k;
    m->next = free_msgs;
    free_msgs = m;
    if (k == 0) {
      done = 1;
      current->waiting = 1;
      switch_to(&current->sp, sched_sp); /* never resumed */
    }
    send(current->next, k - 1);
  }
}

/* A fresh context at top: switch_to's six registers, then body. */
static void *fresh_context(char *top) {
  void **sp = (void **)top;
  void (*entry)(void) = body;
  *--sp = NULL; /* keeps body's frame 16-byte aligned */
  memcpy(--sp, &entry, sizeof entry); /* switch_to's ret goes there */
  for (int i = 0; i < 6; i++)
    *--sp = NULL;
  return sp;
}

/* COPY: gives the shared stack to c, moving out the frames there. */
static void make_resident(struct coro *c) {
  if (resident == c)
    return;
  if (resident) {
    resident->saved_len = (size_t)(shared_top - (char *)resident->sp);
    if (resident->saved_len > FRAMES_MAX)
      abort(); /* the parked frames are a receive loop's: about 100 bytes */
    memcpy(resident->saved, resident->sp, resident->saved_len);
  }
  memcpy(shared_top - c->saved_len, c->saved, c->saved_len);
  resident = c;
}

static long env(const char *name, long dflt) {
  const char *v = getenv(name);
  return v ? atol(v) : dflt;
}

int main(void) {
  long n = env("N", 10000), m = env("M", 1000000);
  copy_mode = getenv("COPY") != NULL;
  if (n < 2 || m < 1) {
    fprintf(stderr, "ring_floor: N must be at least 2 and M at least 1\n");
    return 2;
  }
  ring = calloc((size_t)n, sizeof *ring);
  char *shared = mmap(NULL, STACK, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (!ring || shared == MAP_FAILED) {
    perror("ring_floor");
    return 1;
  }
  shared_top = shared + STACK;
  for (long i = 0; i < n; i++) {
    struct coro *c = &ring[i];
    c->next = &ring[(i + 1) % n];
    char *stack = shared;
    if (!copy_mode) {
      stack = mmap(NULL, STACK, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (stack == MAP_FAILED) {
        perror("ring_floor: mmap");
        return 1;
      }
    }
    c->sp = fresh_context(stack + STACK);
    current = c;
    switch_to(&sched_sp, c->sp); /* runs to its first receive */
    if (copy_mode) {
      c->saved_len = (size_t)(shared_top - (char *)c->sp);
      if (c->saved_len > FRAMES_MAX || !(c->saved = malloc(FRAMES_MAX)))
        abort();
      memcpy(c->saved, c->sp, c->saved_len);
    }
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  send(&ring[0], (uint64_t)m);
  while (!done && rq_head != rq_tail) {
    struct coro *c = runq[rq_head++ % QUEUE];
    if (copy_mode)
      make_resident(c);
    current = c;
    switch_to(&sched_sp, c->sp);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 +
              (double)(t1.tv_nsec - t0.tv_nsec);
  printf("ring_floor %.1f ns\n", ns / (double)m);
  return 0;
}

#else

int main(void) {
  fprintf(stderr, "ring_floor: x86-64 only\n");
  return 2;
}

#endif
