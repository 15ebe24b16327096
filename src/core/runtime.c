/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime.c: starting and stopping the runtime (cotp_run).
 *
 * Start: schedulers, their stacks and timers, the process table, the
 * poller, the blocking pool, the watchdog, the fault handler; the root
 * process goes on scheduler 0, which runs on the calling thread.
 *
 * Stop: when the root exits, every scheduler leaves its loop after the
 * process it is running switches out (processes check for the stop at
 * every call into the runtime).  With all scheduler and pool threads
 * joined, nothing else runs, so the remaining processes are discarded in
 * one sweep: their heaps, messages, saved stacks and timers freed.  Then
 * the stacks are unmapped and the tables freed, leaving nothing behind, so
 * a program can run the runtime again (and LeakSanitizer finds nothing).
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "ext.h"
#include "runtime.h"

#define DEFAULT_STACK (256u << 10)
#define DEFAULT_MAX_PROCESSES (1u << 22)
#define DEFAULT_LONG_SCHEDULE_MS 500
#define DEFAULT_BLOCKING_THREADS 16
#define INITIAL_STACKS 4

static _Atomic bool running;

unsigned cotp_schedulers(void) {
  return atomic_load(&running) && cotp__rt ? cotp__rt->nsched : 0;
}

unsigned cotp_schedulers_online(void) { return cotp_schedulers(); }

static int check_config(const cotp_config *in, cotp_config *out) {
  cotp_config c = in ? *in : (cotp_config)COTP_CONFIG_INIT;
  if (c.schedulers == 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    c.schedulers = n > 0 ? (unsigned)n : 1;
  }
  if (c.schedulers > 1024)
    return COTP_EINVAL;
  if (c.stack_size == 0)
    c.stack_size = DEFAULT_STACK;
  if (c.stack_size < 16384 || c.stack_size > ((size_t)1 << 30))
    return COTP_EINVAL;
  if (c.max_processes == 0)
    c.max_processes = DEFAULT_MAX_PROCESSES;
  if (c.max_processes > (1u << COTP_PID_NUMBER_BITS) - 1)
    return COTP_EINVAL;
  if (c.long_schedule_ms == 0)
    c.long_schedule_ms = DEFAULT_LONG_SCHEDULE_MS;
  if (c.blocking_threads == 0)
    c.blocking_threads = DEFAULT_BLOCKING_THREADS;
  if (c.blocking_threads > 1024)
    return COTP_EINVAL;
  *out = c;
  return 0;
}

static void free_runtime(struct cotp__rt *rt) {
  for (unsigned i = 0; i < rt->nsched; i++) {
    struct cotp__sched *s = &rt->scheds[i];
    if (s->stacks.stacks)
      cotp__stackset_close(&s->stacks);
    cotp__timer_wheel_close(&s->timers);
    cotp__pqueue_destroy(&s->overflow);
  }
  cotp__timer_refs_close();
  free(rt->scheds);
  cotp__pqueue_destroy(&rt->global);
  cotp__pqueue_destroy(&rt->prio[0]);
  cotp__pqueue_destroy(&rt->prio[1]);
  cotp__heap_close(&rt->reason_heap);
  free(rt);
}

static int make_runtime(const cotp_config *cfg, struct cotp__rt **out) {
  struct cotp__rt *rt = calloc(1, sizeof *rt);
  if (!rt)
    return COTP_ENOMEM;
  rt->cfg = *cfg;
  rt->nsched = cfg->schedulers;
  cotp__pqueue_init(&rt->global);
  cotp__pqueue_init(&rt->prio[0]);
  cotp__pqueue_init(&rt->prio[1]);
  rt->scheds = aligned_alloc(64, sizeof *rt->scheds * rt->nsched);
  if (!rt->scheds) {
    free(rt);
    return COTP_ENOMEM;
  }
  memset(rt->scheds, 0, sizeof *rt->scheds * rt->nsched);
  /* enough stacks per set that one is always free: every scheduler may be
   * running on one and every blocking thread may pin one */
  unsigned max_stacks = rt->nsched + cfg->blocking_threads + 8;
  if (max_stacks < 64)
    max_stacks = 64;
  int rc = 0;
  for (unsigned i = 0; i < rt->nsched && rc == 0; i++) {
    struct cotp__sched *s = &rt->scheds[i];
    s->index = i;
    s->perturb = cfg->sched_seed != 0;
    s->rng = (cfg->sched_seed ? cfg->sched_seed : 0x9E3779B97F4A7C15ull) * (i + 1);
    cotp__runq_init(&s->runq);
    atomic_flag_clear(&s->deque.lock);
    atomic_init(&s->deque.top, 0);
    atomic_init(&s->deque.bottom, 0);
    cotp__pqueue_init(&s->overflow);
    atomic_init(&s->runnext, NULL);
    rc = cotp__timer_wheel_init(&s->timers);
    if (rc == 0)
      rc = cotp__stackset_init(&s->stacks, cfg->stack_size, INITIAL_STACKS,
                               max_stacks);
  }
  if (rc) {
    free_runtime(rt);
    return rc;
  }
  *out = rt;
  return 0;
}

static void discard(struct cotp__proc *p, void *ctx) {
  (void)ctx;
  cotp__proc_discard(p);
}

int cotp_run(cotp_entry *root, void *arg, const cotp_config *cfg,
             cotp_heap *reason_heap, cotp_term *reason) {
  cotp_config c;
  if (!root || (reason && !reason_heap) || check_config(cfg, &c) != 0)
    return COTP_EINVAL;
  bool no = false;
  if (!atomic_compare_exchange_strong(&running, &no, true))
    return COTP_EBUSY;
  struct cotp__rt *rt;
  int rc = make_runtime(&c, &rt);
  if (rc) {
    atomic_store(&running, false);
    return rc;
  }
  cotp__rt = rt;
  rt->root_reason = COTP_ATOM_NORMAL;
  int started = 0; /* how far start-up got, for the unwinding below */
  if ((rc = cotp__ptable_init(c.max_processes)) == 0 && ++started &&
      (rc = cotp__io_init()) == 0 && ++started &&
      (rc = cotp__blocking_start(c.blocking_threads)) == 0 && ++started &&
      (rc = cotp__fault_install()) == 0 && ++started &&
      (rc = cotp__watchdog_start(c.long_schedule_ms)) == 0 && ++started) {
    struct cotp__proc *p = cotp__proc_new_root(root, arg, &rc);
    if (p) {
      rt->root.bits = atomic_load(&p->pid);
      cotp__runq_push(&rt->scheds[0], p);
      pthread_t *threads = calloc(rt->nsched, sizeof *threads);
      unsigned n = 1;
      for (; threads && n < rt->nsched; n++) {
        if (pthread_create(&threads[n], NULL, cotp__sched_main,
                           &rt->scheds[n]) != 0)
          break;
        rt->scheds[n].thread = threads[n];
      }
      if (!threads || n < rt->nsched) {
        /* cannot run with fewer threads than configured: stop what runs */
        cotp__sched_stop_all();
        rc = COTP_ENOMEM;
      } else {
        cotp__sched_main(&rt->scheds[0]);
      }
      for (unsigned i = 1; threads && i < n; i++)
        pthread_join(threads[i], NULL);
      free(threads);
    }
  }
  /* Unwind in reverse; the pool and the watchdog stop before the sweep so
   * that nothing else touches a process while it is discarded. */
  if (started >= 5)
    cotp__watchdog_stop();
  if (started >= 3)
    cotp__blocking_stop();
  if (started >= 1)
    cotp__ptable_each(discard, NULL);
  if (started >= 4)
    cotp__fault_uninstall();
  if (started >= 2)
    cotp__io_close();
  int result = rc;
  if (rc == 0) {
    result = cotp_term_eq(rt->root_reason, COTP_ATOM_NORMAL) ? 0 : 1;
    if (reason) {
      *reason = cotp_term_copy(reason_heap, rt->root_reason);
      if (cotp_is_none(*reason))
        result = COTP_ENOMEM;
    }
  }
  if (started >= 1)
    cotp__ptable_close();
  cotp__names_close();
  cotp__aliases_close();
  cotp__rt = NULL;
  free_runtime(rt);
  atomic_store(&running, false);
  return result;
}
