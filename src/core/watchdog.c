/* SPDX-License-Identifier: Apache-2.0 */
/*
 * watchdog.c: reports processes that hog a scheduler (the BEAM's
 * long_schedule monitor), and lets the other schedulers take over the
 * hog's queue.
 *
 * C has no preemption: a process that computes for a second without
 * calling into the runtime keeps its scheduler for that second.  Every
 * 100 ms this thread looks at each scheduler's run counter (odd while a
 * process runs, bumped at every start and end); one that stays on the same
 * odd value past the threshold is hogged.  The hog is logged once, the
 * scheduler is flagged so that idle schedulers also steal its runnext, and
 * one is woken to do so.
 */
#include <time.h>

#include "cotp/log.h"
#include "platform/clock.h"
#include "runtime.h"

static struct {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t stop_cond;
  bool stop, started;
  int64_t threshold_ms;
} dog;

static void *watch(void *arg) {
  (void)arg;
  struct cotp__rt *rt = cotp__rt;
  uint64_t last[1024] = {0};
  int64_t since[1024] = {0};
  bool told[1024] = {0};
  unsigned n = rt->nsched < 1024 ? rt->nsched : 1024;
  pthread_mutex_lock(&dog.lock);
  while (!dog.stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 100000000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&dog.stop_cond, &dog.lock, &ts);
    if (dog.stop)
      break;
    int64_t now = cotp__now_ms();
    for (unsigned i = 0; i < n; i++) {
      struct cotp__sched *s = &rt->scheds[i];
      uint64_t id = atomic_load_explicit(&s->run_id, memory_order_relaxed);
      if (id != last[i] || !(id & 1)) {
        last[i] = id;
        since[i] = now;
        told[i] = false;
        continue;
      }
      if (told[i] || now - since[i] < dog.threshold_ms)
        continue;
      told[i] = true;
      cotp_log(COTP_LOG_WARNING,
               "long schedule: a process has run for %lld ms on scheduler %u "
               "without yielding; other schedulers take its queue",
               (long long)(now - since[i]), i);
      atomic_store_explicit(&s->hogged, true, memory_order_relaxed);
      cotp__wake_idle();
    }
  }
  pthread_mutex_unlock(&dog.lock);
  return NULL;
}

int cotp__watchdog_start(int64_t threshold_ms) {
  dog.stop = false;
  dog.started = false;
  dog.threshold_ms = threshold_ms;
  if (threshold_ms < 0)
    return 0;
  pthread_mutex_init(&dog.lock, NULL);
  pthread_cond_init(&dog.stop_cond, NULL);
  if (pthread_create(&dog.thread, NULL, watch, NULL) != 0)
    return COTP_ENOMEM;
  dog.started = true;
  return 0;
}

void cotp__watchdog_stop(void) {
  if (!dog.started)
    return;
  pthread_mutex_lock(&dog.lock);
  dog.stop = true;
  pthread_cond_signal(&dog.stop_cond);
  pthread_mutex_unlock(&dog.lock);
  pthread_join(dog.thread, NULL);
  pthread_cond_destroy(&dog.stop_cond);
  pthread_mutex_destroy(&dog.lock);
  dog.started = false;
}
