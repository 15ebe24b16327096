/* SPDX-License-Identifier: Apache-2.0 */
/*
 * task_stream.c: Task.async_stream, a lazy iterator of task results.
 *
 * The consumer pulls; each pull starts tasks for the next inputs while
 * fewer than max_concurrency run, then waits for one message at a time (a
 * reply or a DOWN) until a result can be emitted.  Nothing runs before the
 * first pull, and the stream holds only the tasks in flight and, when
 * ordered, the results that finished ahead of an earlier one: its window.
 *
 * The window is a ring of W = 2 * max_concurrency slots.  Ordered, input
 * number p lives in slot p % W, and a task for input p starts only once
 * input p - W has been emitted, so at most W results wait.  (Elixir buffers
 * without bound behind a slow first task; cotp bounds it, and a slow task
 * holds back at most W - max_concurrency faster ones.)  Unordered, slots
 * come from a free list and results go out as their DOWNs come in.
 *
 * Per task, as in Elixir: spawned linked to the consumer, monitored with an
 * alias, given its go-ahead (task_int.h); it replies {ref, result} and
 * exits.  A task stops counting against max_concurrency when it replies
 * (it has done its work and is only exiting) or goes down, and its result
 * can be emitted from then on: the consumer need not wait a second time,
 * for the DOWN, before the next task may start.  The DOWN is still taken
 * before its slot is used again or the stream ends (it is usually queued
 * by then), and a task's result is {:ok, reply} once it replied, whatever
 * its DOWN says, as in Elixir.  Elixir puts an extra process between the
 * consumer and the tasks (for timers, and to keep EXIT messages away from
 * a consumer that traps exits); cotp does without:
 *
 *  - Timeouts are deadlines, kept in a list of running slots in start
 *    order (which is deadline order), so the next deadline is its head and
 *    the wait for a message times out at it.  No timer per task.  A task
 *    that overruns is unlinked and killed, and its DOWN gives
 *    {:exit, :timeout} or, with on_timeout exit, exits the consumer.  The
 *    deadline is enforced while the consumer waits in a pull; a task that
 *    finishes late while the consumer is busy elsewhere has finished.
 *  - A consumer that traps exits would get {:EXIT, task, _} for each task.
 *    Its tasks unlink themselves after replying (a go-ahead flag), so a
 *    task that did its job leaves nothing; the EXIT of one that failed is
 *    taken out of the mailbox when its DOWN is handled (the EXIT comes
 *    first: links fire before monitors, F50).
 *  - Halting (close) and the on_timeout exit unlink and kill the tasks
 *    still running (with the enforcer, F39) and wait for their DOWNs, so
 *    nothing of theirs is left behind (F47, F51).
 *
 * Messages are matched by reference in a map of the slots' references, and
 * a DOWN must also name the slot's pid, so forged DOWNs are left alone
 * (F54).
 *
 * Memory: the iterator and its state are one allocation.  From the first
 * pull it belongs to the consumer (task_owned.h), and is freed by close,
 * by the on_timeout exit, or by the consumer's exit.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task_int.h"
#include "task_owned.h"

/* A slot is in use from its task's start until its result has been
 * emitted and its DOWN taken, whichever comes last. */
enum slot_state { FREE, BUSY };

#define NIL_INDEX UINT32_MAX

struct slot {
  cotp_pid pid;
  cotp_term ref;
  uint64_t position;
  int64_t deadline;
  cotp_heap *heap;        /* the input (zip) and the result */
  cotp_heap_mark empty;   /* heap's mark when the slot is free */
  cotp_term input;        /* zip only */
  cotp_term result;       /* v of {:ok, v}, or r of {:exit, r}, in heap */
  uint8_t state;
  bool linked;
  bool replied;           /* the reply came: the result is {:ok, v} */
  bool down;              /* the DOWN came (the process is gone) */
  bool timed_out;         /* killed for its deadline */
  bool emitted;           /* the result went out */
  bool in_list;           /* in the deadline list */
  uint32_t prev, next;    /* deadline list */
};

struct stream {
  cotp_iter it;           /* first: the iterator users hold */
  struct cotp__owned owned;

  /* what the stream does */
  cotp_iter *input;
  cotp_task_stream_fn *fn;
  void *ctx;
  cotp_term module, function, args; /* mfa streams; args in heap */
  cotp_task_stream_opts opts;

  /* the run, from the first pull */
  bool started, input_done, finished, trapping;
  cotp_pid consumer;
  cotp_heap *heap;        /* go-ahead head, mfa args */
  cotp_term head[6];      /* the go-ahead, less alias and job */
  uint32_t max, window;
  uint32_t running;       /* tasks neither replied nor down: <= max */
  uint32_t alive;         /* task processes whose DOWN has not come */
  uint64_t spawned, emitted;
  uint32_t oldest, newest; /* deadline list ends */
  uint32_t *ring;         /* unordered: free slots, then done slots */
  uint32_t nfree, done_head, done_count;
  struct cotp__reftab tab;
  uint32_t *taken;        /* the map's slot of the message accept took */
  struct slot *slots;
};

static struct stream *of(cotp_iter *it) { return (struct stream *)it; }

/* i, less than twice the window, brought into it. */
static uint32_t wrap(const struct stream *s, uint32_t i) {
  return i >= s->window ? i - s->window : i;
}

/* --- freeing --- */

static void free_state(struct stream *s) {
  for (uint32_t i = 0; s->slots && i < s->window; i++)
    cotp_heap_free(s->slots[i].heap);
  free(s->slots);
  free(s->ring);
  if (s->tab.slots && s->tab.slots != s->tab.small)
    free(s->tab.slots);
  cotp_heap_free(s->heap);
  s->slots = NULL;
  s->ring = NULL;
  s->tab.slots = NULL;
  s->heap = NULL;
}

/* The consumer died with the stream open: memory only.  The input is not
 * closed: its close may need the process that is gone (an input that is
 * itself a stream is the consumer's too, and reaped on its own). */
static void reap(struct cotp__owned *o) {
  struct stream *s = (struct stream *)((char *)o - offsetof(struct stream, owned));
  free_state(s);
  free(s);
}

/* --- the deadline list --- */

static void list_push(struct stream *s, uint32_t i) {
  struct slot *x = &s->slots[i];
  x->in_list = true;
  x->prev = s->newest;
  x->next = NIL_INDEX;
  if (s->newest != NIL_INDEX)
    s->slots[s->newest].next = i;
  else
    s->oldest = i;
  s->newest = i;
}

static void list_remove(struct stream *s, uint32_t i) {
  struct slot *x = &s->slots[i];
  if (!x->in_list)
    return;
  x->in_list = false;
  if (x->prev != NIL_INDEX)
    s->slots[x->prev].next = x->next;
  else
    s->oldest = x->next;
  if (x->next != NIL_INDEX)
    s->slots[x->next].prev = x->prev;
  else
    s->newest = x->prev;
  x->prev = x->next = NIL_INDEX;
}

/* --- starting --- */

static int start(struct stream *s) {
  cotp_heap *h = cotp_self_heap();
  s->started = true;
  s->consumer = cotp_self();
  /* the consumer's first, before anything here acts on a pending kill
   * (process_info of itself does): reap frees what start made so far */
  int rc = cotp__owned_add(&s->owned);
  if (rc != 0)
    return rc;
  s->max = s->opts.max_concurrency ? s->opts.max_concurrency : cotp_schedulers_online();
  if (s->max == 0)
    s->max = 1;
  s->window = s->max > UINT32_MAX / 2 ? UINT32_MAX : 2 * s->max;
  if (s->window > COTP__REFTAB_MAX + 1)
    return COTP_ENOMEM; /* slots for a billion tasks in flight */
  s->oldest = s->newest = NIL_INDEX;
  cotp_term trap = COTP_ATOM_FALSE;
  cotp_process_info(s->consumer, cotp__task_atoms()->trap_exit, &trap);
  s->trapping = trap.w == COTP_ATOM_TRUE.w;
  s->slots = calloc(s->window, sizeof *s->slots);
  s->ring = malloc(2 * (size_t)s->window * sizeof *s->ring);
  /* the reference map: its memory is ours (not scratch), freed with us */
  size_t cap = 8;
  while (cap < 2 * (size_t)s->window)
    cap *= 2;
  s->tab.scratch = NULL;
  s->tab.slots = cap <= 8 ? s->tab.small : malloc(cap * sizeof *s->tab.slots);
  if (!s->slots || !s->ring || !s->heap || !s->tab.slots)
    return COTP_ENOMEM;
  cotp__reftab_init_in(&s->tab, s->tab.slots, cap, &s->slots[0].ref, sizeof *s->slots);
  for (uint32_t i = 0; i < s->window; i++) {
    struct slot *x = &s->slots[i];
    if (!(x->heap = cotp_heap_new()))
      return COTP_ENOMEM;
    x->empty = cotp_heap_mark_now(x->heap);
    x->prev = x->next = NIL_INDEX;
    s->ring[i] = s->window - 1 - i; /* free list, slot 0 on top */
  }
  s->nfree = s->window;
  /* the go-ahead's head: who we are, once for all tasks */
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  cotp_term head[6];
  bool unlink = s->trapping;
  cotp__task_go_head(COTP_NONE, unlink ? COTP__TASK_UNLINK_OWNER : 0, head);
  for (int i = 0; i < 6; i++)
    s->head[i] = cotp_term_copy(s->heap, head[i]);
  cotp_heap_release(h, mark);
  return cotp_heap_error(s->heap) ? COTP_ENOMEM : 0;
}

/* --- spawning --- */

static bool can_spawn(struct stream *s) {
  if (s->input_done || s->running >= s->max)
    return false;
  return s->opts.ordered ? s->slots[s->spawned % s->window].state == FREE
                         : s->nfree > 0;
}

/* Starts a task for the next input: 1 started, 0 no more input, < 0 an
 * error (the input's, or no memory). */
static int spawn_next(struct stream *s) {
  uint32_t i = s->opts.ordered ? (uint32_t)(s->spawned % s->window)
                               : s->ring[s->nfree - 1];
  struct slot *x = &s->slots[i];
  cotp_heap *h = cotp_self_heap();
  cotp_heap *ih = s->opts.zip_input_on_exit ? x->heap : h;
  cotp_term item;
  int rc = cotp_iter_next(s->input, ih, &item);
  if (rc <= 0) {
    s->input_done = true;
    cotp_iter_close(s->input);
    s->input = NULL;
    return rc;
  }
  cotp_pid pid;
  bool linked = false;
  /* A task of the stream's own is one spawn that links, monitors and
   * gives the go-ahead, as Task.async's: its exit signal then travels in
   * its DOWN (core/ext.h).  A spawner of the caller's (a supervisor's)
   * starts it, and the monitor and go-ahead follow. */
  bool own = !s->opts.spawn;
  cotp_term ref = COTP_NONE;
  if (own) {
    ref = cotp_make_ref();
  } else {
    rc = s->opts.spawn(s->opts.spawn_ctx, cotp_task_entry, NULL, &s->opts, &pid, &linked);
    if (rc != 0)
      return rc;
    if ((rc = cotp_monitor_alias(pid, COTP_ALIAS_DEMONITOR, &ref)) != 0) {
      cotp__task_unlink_exit(&pid, 1, COTP_ATOM_KILL);
      return rc;
    }
  }
  cotp_term go[COTP__GO_ITEM + 1];
  memcpy(go, s->head, sizeof s->head);
  go[COTP__GO_ALIAS] = ref;
  if (s->fn) {
    go[COTP__GO_FN] = cotp__task_fn_term(h, (void (*)(void))s->fn);
    go[COTP__GO_ARG] = cotp__task_ptr_term(h, s->ctx);
    go[COTP__GO_ITEM] = item;
  } else {
    go[COTP__GO_FN] = s->module;
    go[COTP__GO_ARG] = s->function;
    go[COTP__GO_ITEM] = cotp_cons(h, item, s->args);
  }
  cotp_term msg = cotp_tuple(h, COTP__GO_ITEM + 1, go);
  if (own) {
    if ((rc = cotp_is_none(msg) ? COTP_ENOMEM : cotp__task_spawn_go(msg, &ref, &pid)) != 0)
      return rc;
    linked = true;
  } else if ((rc = cotp_is_none(msg) ? COTP_ENOMEM : cotp_send(pid, msg)) != 0) {
    cotp__task_demonitor(ref);
    cotp__task_unlink_exit(&pid, 1, COTP_ATOM_KILL);
    return rc;
  }
  if (!s->opts.ordered)
    s->nfree--;
  *x = (struct slot){pid, ref, s->spawned, 0, x->heap, x->empty,
                     s->opts.zip_input_on_exit ? item : COTP_NONE, COTP_NONE,
                     BUSY, linked, false, false, false, false, false,
                     NIL_INDEX, NIL_INDEX};
  if (s->opts.timeout_ms != COTP_INFINITY) {
    x->deadline = cotp_monotonic_ms() + s->opts.timeout_ms;
    list_push(s, i);
  }
  cotp__reftab_put(&s->tab, i, NULL); /* the slot holds ref now */
  s->spawned++;
  s->running++;
  s->alive++;
  return 1;
}

/* --- what comes back --- */

/* A reply, or a DOWN naming the slot's own pid, of a slot in flight. */
static bool accept(cotp_term msg, void *ctx) {
  struct stream *s = ctx;
  size_t size = cotp_tuple_size(msg);
  if (size == 2) {
    uint32_t *t = cotp__reftab_find(&s->tab, cotp_tuple_get(msg, 0));
    s->taken = t;
    return t && !s->slots[cotp__reftab_index(t)].replied;
  }
  if (size != 5 || cotp_tuple_get(msg, 0).w != COTP_ATOM_DOWN.w)
    return false;
  uint32_t *t = cotp__reftab_find(&s->tab, cotp_tuple_get(msg, 1));
  s->taken = t;
  return t &&
         cotp_pid_eq(cotp_get_pid(cotp_tuple_get(msg, 3)), s->slots[cotp__reftab_index(t)].pid);
}

static bool accept_exit(cotp_term msg, void *ctx) {
  return cotp_tuple_size(msg) == 3 && cotp_tuple_get(msg, 0).w == COTP_ATOM_EXIT.w &&
         cotp_pid_eq(cotp_get_pid(cotp_tuple_get(msg, 1)), *(const cotp_pid *)ctx);
}

/* A consumer that traps exits got the EXIT of a task that went down
 * without unlinking itself: take it out (it came before the DOWN). */
static void flush_exit(struct stream *s, struct slot *x) {
  if (s->trapping && x->linked)
    cotp_receive_if(accept_exit, &x->pid, 0, 0, NULL);
}

/* v copied to h, unless it needs no heap (an atom, a pid, a reference,
 * [], a small integer): the common results cost no copy. */
static cotp_term keep_in(cotp_heap *h, cotp_term v) {
  return cotp__task_immediate(v) ? v : cotp_term_copy(h, v);
}

/* A reply's value, kept in the slot's heap. */
static cotp_term keep(struct slot *x, cotp_term v) { return keep_in(x->heap, v); }

/* The r of {:exit, r}, kept in the slot's heap. */
static cotp_term exit_result(struct stream *s, struct slot *x, cotp_term reason) {
  cotp_heap *h = x->heap;
  reason = keep_in(h, reason);
  return s->opts.zip_input_on_exit ? COTP_TUPLE(h, x->input, reason) : reason;
}

_Noreturn static void exit_timeout(struct stream *s);

/* The slot's result is known: unordered, it joins the queue to go out. */
static void finished(struct stream *s, uint32_t i) {
  s->running--;
  if (!s->opts.ordered) {
    s->ring[s->window + wrap(s, s->done_head + s->done_count)] = i;
    s->done_count++;
  }
}

/* The slot is free once its result went out and its process is gone. */
static void maybe_free(struct stream *s, struct slot *x) {
  if (!x->emitted || !x->down)
    return;
  x->state = FREE;
  x->ref = COTP_NONE;
  if (!s->opts.ordered)
    s->ring[s->nfree++] = (uint32_t)(x - s->slots);
}

/* msg is what accept took last */
static void handle(struct stream *s, cotp_term msg) {
  uint32_t i = cotp__reftab_index(s->taken);
  if (cotp_tuple_size(msg) == 2) {
    struct slot *x = &s->slots[i];
    x->result = keep(x, cotp_tuple_get(msg, 1));
    x->replied = true;
    list_remove(s, i);
    finished(s, i);
    return;
  }
  cotp_term reason = cotp_tuple_get(msg, 4);
  struct slot *x = &s->slots[i];
  cotp__reftab_remove_at(&s->tab, s->taken);
  s->alive--;
  x->down = true;
  list_remove(s, i);
  if (!(x->replied && reason.w == COTP_ATOM_NORMAL.w))
    flush_exit(s, x);
  if (x->replied) {
    maybe_free(s, x); /* the result went out already, or will */
    return;
  }
  if (x->timed_out && s->opts.on_timeout == COTP_TASK_ON_TIMEOUT_EXIT)
    exit_timeout(s);
  x->result = exit_result(s, x, x->timed_out ? COTP_ATOM_TIMEOUT : reason);
  finished(s, i);
}

/* Kills the tasks past their deadline (the DOWN tells the rest). */
static void expire(struct stream *s, int64_t now) {
  cotp_pid pids[64];
  size_t n = 0;
  while (s->oldest != NIL_INDEX && s->slots[s->oldest].deadline <= now) {
    uint32_t i = s->oldest;
    list_remove(s, i);
    s->slots[i].timed_out = true;
    pids[n++] = s->slots[i].pid;
    if (n == 64) {
      cotp__task_unlink_exit(pids, n, COTP_ATOM_KILL);
      n = 0;
    }
  }
  if (n)
    cotp__task_unlink_exit(pids, n, COTP_ATOM_KILL);
}

/* Waits for one reply or DOWN, or for the next deadline. */
static void wait_one(struct stream *s) {
  cotp_term msg;
  int64_t deadline = COTP_INFINITY;
  if (s->oldest != NIL_INDEX)
    deadline = s->slots[s->oldest].deadline;
  /* yields before parking (see COTP__TASK_SPINS).  The clock is not read
   * here to skip that when the deadline has passed: that is rare, and the
   * read would be paid on every item; the receive reads it once if it
   * has to wait. */
  for (int spin = 0; spin < COTP__TASK_SPINS; spin++) {
    if (cotp_receive_if(accept, s, 0, 0, &msg) == 0) {
      handle(s, msg);
      return;
    }
    cotp_yield();
  }
  if (cotp_receive_if(accept, s, deadline, COTP_RECV_DEADLINE, &msg) == 0)
    handle(s, msg);
  else
    expire(s, cotp_monotonic_ms());
}

/* Kills every task still alive and waits for their DOWNs, leaving nothing
 * of them behind. */
static void stop_all(struct stream *s) {
  cotp_pid pids[64];
  size_t n = 0;
  for (uint32_t i = 0; i < s->window; i++) {
    struct slot *x = &s->slots[i];
    if (x->state == BUSY && !x->down && !x->timed_out) {
      list_remove(s, i);
      x->timed_out = true;
      pids[n++] = x->pid;
      if (n == 64) {
        cotp__task_unlink_exit(pids, n, COTP_ATOM_KILL);
        n = 0;
      }
    }
  }
  if (n)
    cotp__task_unlink_exit(pids, n, COTP_ATOM_KILL);
  /* what comes back now is only taken out, not emitted (nor a reason to
   * exit: this may be the timeout exit itself) */
  s->opts.on_timeout = COTP_TASK_ON_TIMEOUT_KILL_TASK;
  s->opts.timeout_ms = COTP_INFINITY;
  cotp_heap *h = cotp_self_heap();
  while (s->alive > 0) {
    cotp_heap_mark mark = cotp_heap_mark_now(h);
    cotp_term msg;
    cotp_receive_if(accept, s, COTP_INFINITY, 0, &msg);
    handle(s, msg);
    cotp_heap_release(h, mark);
  }
}

static void finish(struct stream *s) {
  if (s->input) {
    cotp_iter_close(s->input);
    s->input = NULL;
  }
  if (s->started) {
    if (s->alive > 0)
      stop_all(s);
    cotp__owned_remove(&s->owned);
  }
  free_state(s);
  s->finished = true;
}

_Noreturn static void exit_timeout(struct stream *s) {
  const struct cotp__task_atoms *a = cotp__task_atoms();
  int64_t timeout = s->opts.timeout_ms;
  finish(s);
  free(s);
  cotp_heap *h = cotp_self_heap();
  cotp_exit(cotp__task_reason(h, COTP_ATOM_TIMEOUT, a->supervised, a->stream,
                              COTP_LIST(h, cotp_int(h, timeout))));
}

/* --- the iterator --- */

/* The next result to emit, if there is one: its slot. */
static struct slot *ready(struct stream *s) {
  if (s->opts.ordered) {
    struct slot *x = &s->slots[s->emitted % s->window];
    return x->state == BUSY && x->position == s->emitted && !x->emitted &&
                   (x->replied || x->down)
               ? x
               : NULL;
  }
  return s->done_count ? &s->slots[s->ring[s->window + s->done_head]] : NULL;
}

static void emitted(struct stream *s, struct slot *x) {
  cotp_heap_release(x->heap, x->empty);
  x->emitted = true;
  if (s->opts.ordered) {
    s->emitted++;
  } else {
    s->done_head = wrap(s, s->done_head + 1);
    s->done_count--;
  }
  maybe_free(s, x);
}

static int stream_next(cotp_iter *it, cotp_heap *out_heap, cotp_term *out) {
  struct stream *s = of(it);
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  if (!out_heap || !out)
    return COTP_EINVAL;
  if (s->finished)
    return 0;
  if (!s->started) {
    int rc = start(s);
    if (rc != 0) {
      finish(s);
      return rc;
    }
  } else if (!cotp_pid_eq(s->consumer, cotp_self())) {
    return COTP_EINVAL; /* the tasks' messages go to the consumer */
  }
  /* what the pull receives and builds lands in the process heap: let it
   * go at the end, before the result is copied out (out_heap may be that
   * same heap); the result itself waits in its slot's heap */
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  int rc = 0;
  struct slot *x;
  for (;;) {
    if ((x = ready(s)) != NULL)
      break;
    while (can_spawn(s) && (rc = spawn_next(s)) > 0)
      ;
    if (rc < 0)
      break;
    if (s->alive == 0 && s->input_done) {
      rc = 0; /* everything emitted: ready() found nothing left */
      break;
    }
    wait_one(s); /* a reply, or a DOWN still to take */
  }
  cotp_heap_release(h, mark);
  if (x) {
    const struct cotp__task_atoms *a = cotp__task_atoms();
    cotp_term v = keep_in(out_heap, x->result);
    *out = COTP_TUPLE(out_heap, x->replied ? COTP_ATOM_OK : a->exit, v);
    rc = cotp_is_none(*out) ? COTP_ENOMEM : 1;
    emitted(s, x);
  }
  if (rc <= 0)
    finish(s);
  return rc;
}

static void stream_close(cotp_iter *it) {
  struct stream *s = of(it);
  if (s->started && !s->finished && !cotp_pid_eq(s->consumer, cotp_self())) {
    cotp_log(COTP_LOG_WARNING,
             "cotp_iter_close: a Task.async_stream closed by a process other "
             "than its consumer is left to the consumer");
    return;
  }
  if (!s->finished)
    finish(s);
  free(s);
}

/* --- creating --- */

static int bad(cotp_error *err, cotp_iter *input, const char *text) {
  if (err) {
    err->code = COTP_EINVAL;
    err->offset = -1;
    snprintf(err->message, sizeof err->message, "%s", text);
  }
  cotp_iter_close(input);
  return COTP_EINVAL;
}

static int create(cotp_iter *input, cotp_task_stream_fn *fn, void *ctx,
                  cotp_term module, cotp_term function, cotp_term args,
                  const cotp_task_stream_opts *opts, cotp_iter **out,
                  cotp_error *err) {
  cotp_task_stream_opts defaults = COTP_TASK_STREAM_OPTS_INIT;
  if (!opts)
    opts = &defaults;
  if (!out)
    return bad(err, input, "async_stream: out is NULL");
  if (!input || !input->next)
    return bad(err, input, "async_stream: the input iterator is NULL");
  if (opts->timeout_ms < 0 && opts->timeout_ms != COTP_INFINITY)
    return bad(err, input, ":timeout must be either a positive integer or "
                           "COTP_INFINITY");
  if (opts->on_timeout != COTP_TASK_ON_TIMEOUT_EXIT &&
      opts->on_timeout != COTP_TASK_ON_TIMEOUT_KILL_TASK)
    return bad(err, input, ":on_timeout must be either "
                           "COTP_TASK_ON_TIMEOUT_EXIT or _KILL_TASK");
  if (opts->shutdown < 0 && opts->shutdown != COTP_TASK_BRUTAL_KILL)
    return bad(err, input, ":shutdown must be either a positive integer or "
                           "COTP_TASK_BRUTAL_KILL");
  struct stream *s = calloc(1, sizeof *s);
  cotp_heap *heap = s ? cotp_heap_new() : NULL;
  /* the args now: the creator's heap may be gone by the first pull */
  cotp_term copy = heap && !cotp_is_none(args) ? cotp_term_copy(heap, args) : args;
  if (!heap || (heap && cotp_heap_error(heap))) {
    cotp_heap_free(heap);
    free(s);
    cotp_iter_close(input);
    return COTP_ENOMEM;
  }
  s->it = (cotp_iter){stream_next, stream_close, NULL};
  s->owned.reap = reap;
  s->input = input;
  s->fn = fn;
  s->ctx = ctx;
  s->module = module;
  s->function = function;
  s->args = copy;
  s->heap = heap;
  s->opts = *opts;
  *out = &s->it;
  return 0;
}

int cotp_task_async_stream(cotp_iter *input, cotp_task_stream_fn *fn, void *ctx,
                           const cotp_task_stream_opts *opts, cotp_iter **out,
                           cotp_error *err) {
  if (!fn)
    return bad(err, input, "async_stream: the function is NULL");
  return create(input, fn, ctx, COTP_NONE, COTP_NONE, COTP_NONE, opts, out, err);
}

int cotp_task_async_stream_mfa(cotp_iter *input, cotp_term module,
                               cotp_term function, cotp_term args,
                               const cotp_task_stream_opts *opts,
                               cotp_iter **out, cotp_error *err) {
  size_t n;
  if (!cotp_is_atom(module) || !cotp_is_atom(function) ||
      cotp_list_length(args, &n) != 0)
    return bad(err, input, "async_stream: module and function must be atoms "
                           "and args a list");
  return create(input, NULL, NULL, module, function, args, opts, out, err);
}
