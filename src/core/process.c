/* SPDX-License-Identifier: Apache-2.0 */
/*
 * process.c: spawning, the bottom frame of every process, exiting,
 * handlers and hibernation.
 *
 * Every process starts at the top of a fresh run stack: a plain process
 * in cotp__proc_start(), which calls its function once and exits when it
 * returns; a handler process in cotp__handler_start() (sched.c), which
 * loops over its messages here (cotp__handlers_run) and, when the mailbox
 * is empty, switches out with RQ_DROP: its frames are discarded, and the
 * next message starts it again on whatever stack is free, which is why an
 * idle handler costs no stack at all.
 * Hibernation is the same drop, with a new function to start in.
 */
#include <stdlib.h>
#include <string.h>

#include "cotp/info.h"
#include "cotp/timer.h"
#include "ext.h"
#include "platform/ctx.h"
#include "runtime.h"

#if defined(COTP_ASAN)
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(COTP_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

static struct cotp__proc *self_or_null(void) { return cotp__proc_self(); }

/* --- exiting --- */

void cotp__proc_exit(struct cotp__proc *p, cotp_term reason) {
  p->exit_reason = reason;
  cotp__switch_out(p, RQ_EXIT);
  __builtin_unreachable();
}

void cotp_exit_normal(void) {
  struct cotp__proc *p = self_or_null();
  if (!p)
    abort(); /* documented: inside a process only; there is no caller to
                return an error to, as the function cannot return */
  cotp__throw_exit(p, COTP_ATOM_NORMAL);
  cotp__proc_exit(p, COTP_ATOM_NORMAL);
}

/* Ends a pending timed wait and fd wait. */
static void end_waits(struct cotp__proc *p) {
  if (atomic_load_explicit(&p->timer.wheel, memory_order_acquire))
    cotp__timer_remove(&p->timer);
  if (p->io_fd >= 0)
    cotp__io_cancel(p);
}

/* What both a finished and a discarded process give back. */
static void release_all(struct cotp__proc *p) {
  end_waits(p);
  cotp__name_release(p);
  cotp__mailbox_close(p);
  if (p->saved || p->home || p->own_stack)
    cotp__stack_forget(p);
  if (p->ext)
    cotp__ext_free(p);
  if (p->arg_copy) {
    cotp__chunk_free(p->arg_copy, p->arg_copy_size);
    p->arg_copy = NULL;
  }
  if (p->flags & PF_DICT_LENT) { /* not a message: nothing to free */
    p->flags &= (uint16_t)~PF_DICT_LENT;
    p->dict_lent = COTP_NONE;
    p->dict_lazy = false;
  } else if (p->handling) { /* a handler that exited while handling it */
    cotp__msg_free(p->handling);
    p->handling = NULL;
  }
  cotp__heap_close(&p->heap);
#if defined(COTP_TSAN)
  __tsan_destroy_fiber(p->tsan_fiber);
  p->tsan_fiber = NULL;
#endif
}

/*
 * The order is Erlang's: the process looks dead first (is_alive, names),
 * its registered name goes before anyone hears of the exit (A19, D2), its
 * cleanups run, and then its links and monitors fire, after every message
 * it sent (B12).  Closing the mailbox last answers the link and monitor
 * requests that arrived too late with noproc.
 */
/* spawn_opts.arg_free: once, after the process's own cleanups. */
static void free_arg(struct cotp__proc *p) {
  void (*fn)(void *) = p->arg_free;
  if (fn) {
    p->arg_free = NULL;
    fn(p->arg_owned);
  }
}

void cotp__proc_finish(struct cotp__proc *p) {
  struct cotp__rt *rt = cotp__rt;
  p->pending_mon_ref = COTP_NONE; /* a monitor never sent needs no undoing */
  /* seq_cst: names.c's register reads it after setting `named` */
  atomic_store_explicit(&p->state, PS_EXITING, memory_order_seq_cst);
  cotp_pid pid = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  bool root = p->flags & PF_ROOT;
  if (root)
    rt->root_reason = cotp_term_copy(&rt->reason_heap, p->exit_reason);
  if (p->exit_reason.w != COTP_ATOM_NORMAL.w)
    cotp__crash_report(p, pid, p->exit_reason); /* while it still has a name */
  cotp__name_release(p);
  /* Waits end before anyone can act on the death: a cleanup or a DOWN
   * handler that closes the fd would otherwise let the number be reused,
   * and this process's late cancel disarm someone else's wait. */
  end_waits(p);
  if (p->ext) /* most processes have no links, monitors nor cleanups */
    cotp__cleanups_run(p);
  free_arg(p);
  bool down_carries_exit = cotp__links_fire(p, pid, p->exit_reason);
  if (p->ext || (p->flags & PF_SPAWN_WATCH))
    cotp__monitors_fire(p, pid, p->exit_reason, down_carries_exit);
  release_all(p);
  cotp__proc_free(p);
  if (root)
    cotp__sched_stop_all();
}

void cotp__proc_discard(struct cotp__proc *p) {
  end_waits(p);
  cotp__cleanups_run(p); /* a killed process leaks nothing, stop included */
  free_arg(p);
  release_all(p);
  cotp__proc_free(p);
}

/* --- the bottom frame --- */

/* Runs handler processes, starting with p, until one has nothing left to
 * handle; returns that one, holding nothing, for cotp__handler_start
 * (sched.c) to switch out with RQ_DROP.  A handler that stops exits here.
 * When p has nothing left to handle, the next handler of the scheduler may
 * take over right here (cotp__chain_next): p is done with the stack, which
 * is all a handler without frames needs. */
struct cotp__proc *cotp__handlers_run(struct cotp__proc *p) {
  for (;;) {
    /* an idle handler is waiting, even while it handles what woke it */
    if (!p->mq_head)
      p->flags |= PF_IN_WAIT;
    cotp__inbox_drain(p);
    p->flags &= (uint16_t)~PF_IN_WAIT;
    struct cotp__sig *m = p->mq_head;
    if (!m) {
      struct cotp__proc *q = cotp__chain_next(p);
      if (q) {
        p = q;
        continue;
      }
      cotp__heap_trim(&p->heap); /* idle: hold nothing */
      cotp__ext_trim(p);
      return p;
    }
    /* The message is read where it is: it lives exactly as long as the
     * call, so it needs neither a copy nor a place in the heap.  If the
     * handler exits, teardown frees it; if it hibernates, it joins the
     * heap (cotp_hibernate). */
    cotp_heap_mark mark = cotp_heap_mark_now(&p->heap);
    struct cotp__msg *msg = NULL;
    cotp_term t;
    if (is_bare(m)) { /* no term to read in place: made in the heap */
      t = cotp__mailbox_take(p, NULL, m);
    } else {
      msg = cotp__mailbox_unlink(p, NULL, m);
      t = msg->term;
    }
    p->handling = msg;
    bool go_on = p->entry.handle(p->arg, t);
    p->handling = NULL;
    if (msg)
      cotp__msg_free(msg);
    cotp_heap_release(&p->heap, mark);
    if (!go_on)
      cotp__proc_exit(p, COTP_ATOM_NORMAL);
    cotp__reduce(p, 1);
  }
}

void cotp__proc_start(void);
/* The bottom frame of every process, there as long as the process has
 * frames: it keeps nothing in registers across the calls it makes, so it
 * saves none, and a parked process's frames (which copy-stacks copy) are
 * that much smaller.  What it does not need after a call it fetches again,
 * and the rare cases are out of line. */
__attribute__((noinline)) static void start_mfa(struct cotp__proc *p) {
  cotp_mfa_fn *fn = p->u.mfa.fn;
  p->flags &= (uint16_t)~PF_MFA; /* a hibernation later restarts in entry.fn */
  fn(p->u.mfa.args);
}

void cotp__proc_start(void) {
#if defined(COTP_ASAN)
  __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
  cotp__settle();
  cotp__fp_restore(self_or_null());
  struct cotp__proc *p = self_or_null(); /* fetched again: see above */
  if (p->flags & PF_MFA)
    start_mfa(p);
  else
    p->entry.fn(p->arg);
#if defined(COTP_ASAN) || defined(COTP_TSAN)
  cotp__proc_exit(self_or_null(), COTP_ATOM_NORMAL);
#else
  /* the last switch from this frame (cotp__last_switch says why) */
  p = self_or_null();
  p->exit_reason = COTP_ATOM_NORMAL;
  struct cotp__last_switch to = cotp__last_switch(p, RQ_EXIT);
  cotp__ctx_switch(to.save, to.load);
  __builtin_unreachable();
#endif
}

/* --- spawning --- */

static void tsan_fiber(struct cotp__proc *p) {
#if defined(COTP_TSAN)
  p->tsan_fiber = __tsan_create_fiber(0);
#else
  (void)p;
#endif
}

struct cotp__proc *cotp__proc_new_root(cotp_entry *fn, void *arg, int *err) {
  struct cotp__proc *p = cotp__proc_alloc(err);
  if (p) {
    p->entry.fn = fn;
    p->arg = arg;
    p->flags |= PF_ROOT;
    tsan_fiber(p);
  }
  return p;
}

/* setup makes p what it is to be; when it fails (out of memory), it has
 * undone what it did to others, and the spawn fails with its error. */
static int spawn(const cotp_spawn_opts *opts, cotp_pid *pid,
                 int (*setup)(struct cotp__proc *, void *), void *ctx) {
  struct cotp__proc *parent = self_or_null();
  if (!parent)
    return COTP_ENOTPROC;
  /* the child may reach the process we monitor before we do: the monitor
   * must be there by then, as it would be had it been sent at once */
  cotp__monitor_flush(parent);
  /* The spawn's reductions are charged before the child exists: a yield
   * here may act on a pending exit signal, and after the spawn it would
   * leave a child that its parent never got to hand its first message or
   * its ownership to (a GenServer waiting forever for its init). */
  cotp__reduce(parent, 10);
  cotp_spawn_opts defaults = COTP_SPAWN_OPTS_INIT;
  if (!opts)
    opts = &defaults;
  if ((unsigned)opts->priority > COTP_PRIORITY_MAX)
    return COTP_EINVAL;
  /* the first message is made before the process, so that nothing done
   * to others (links, monitors) has to be undone when it cannot be */
  struct cotp__msg *first = NULL;
  if (!cotp_is_none(opts->message) && !(first = cotp__msg_new(opts->message)))
    return COTP_ENOMEM;
  int err;
  struct cotp__proc *p = cotp__proc_alloc(&err);
  if (!p)
    goto no_process;
  if (opts->stack_size) {
    p->own_stack = calloc(1, sizeof *p->own_stack);
    if (!p->own_stack ||
        cotp__stackmem_map(p->own_stack, opts->stack_size) != 0) {
      free(p->own_stack);
      p->own_stack = NULL;
      err = COTP_ENOMEM;
      goto undo;
    }
    p->flags |= PF_OWN_STACK;
  }
  p->priority = (uint8_t)opts->priority;
  if (opts->fp_env) {
    p->flags |= PF_FP_ENV;
    struct cotp__fpstate st = cotp__fpstate_default();
    p->fp_kept_a = st.a; /* what its bottom frame starts it with */
    p->fp_kept_b = st.b;
  }
  if ((err = setup(p, ctx)) != 0)
    goto undo;
  if (first) {
    first->from = (cotp_pid){atomic_load_explicit(&parent->pid, memory_order_relaxed)};
    cotp__mq_append(p, &first->sig);
  }
  p->arg_free = opts->arg_free;
  p->arg_owned = p->arg;
  if (opts->arg_size) { /* cotp_spawn_opt made the copy: p owns it now */
    p->arg_copy = p->arg;
    p->arg_copy_size = (uint32_t)opts->arg_size;
  }
  tsan_fiber(p);
  cotp_pid me = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  if (pid)
    *pid = me;
  /* runnext, as Go does: the newest child runs first when the parent
   * waits, so trees of processes unfold depth-first and fewer are alive
   * (and need fresh memory) at once */
  cotp__make_ready(p, true);
  return 0;

undo: /* p was never runnable: nothing but the spawner knows of it */
  cotp__ext_free(p);
  cotp__heap_close(&p->heap);
  if (p->own_stack) {
    cotp__stackmem_unmap(p->own_stack);
    free(p->own_stack);
    p->own_stack = NULL;
  }
  atomic_store(&p->state, PS_EXITING);
  cotp__proc_free(p);
no_process:
  if (first)
    cotp__msg_free(first);
  return err;
}

struct plain {
  cotp_entry *fn;
  void *arg;
};

static int setup_plain(struct cotp__proc *p, void *ctx) {
  struct plain *pl = ctx;
  p->entry.fn = pl->fn;
  p->arg = pl->arg;
  return 0;
}

int cotp_spawn(cotp_entry *fn, void *arg, cotp_pid *pid) {
  return cotp_spawn_opt(fn, arg, NULL, pid);
}

/* What a spawn with options sets up: the kind of process (base, with its
 * ctx), then the link and the monitor. */
struct linked {
  int (*base)(struct cotp__proc *, void *);
  void *base_ctx;
  struct cotp__proc *parent;
  bool link;
  cotp_term mon_ref; /* NONE: no monitor */
  int alias_mode;    /* the monitor's, a cotp_alias_mode */
  bool alias_private; /* spawn_opts.monitor_alias_private */
};

/* The child is linked (or monitored) before it is made runnable, so that
 * even a child that dies at once is seen (A8, A27): both entries are
 * written directly, the child not running yet. */
static int setup_linked(struct cotp__proc *p, void *ctx) {
  struct linked *l = ctx;
  int err = l->base(p, l->base_ctx);
  if (err)
    return err;
  cotp_pid child = {atomic_load_explicit(&p->pid, memory_order_relaxed)};
  cotp_pid parent = {atomic_load_explicit(&l->parent->pid, memory_order_relaxed)};
  bool monitor = !cotp_is_none(l->mon_ref);
  /* the child's side of the link and of the monitor go in its control
   * block, which spares the child an extension for them, unless an mfa
   * call is waiting there (proc.h) */
  bool in_block = !(p->flags & PF_MFA);
  struct cotp__ext *pe = cotp__ext(l->parent);
  if (!pe || (!in_block && !cotp__ext(p)))
    return COTP_ENOMEM;
  if (l->link) {
    cotp__link_add(l->parent, child);
    if (in_block)
      cotp__link_spawner(p, parent);
    else
      cotp__link_add(p, parent);
  }
  if (monitor) {
    struct cotp__mon *m = SET_ADD(pe->mons, struct cotp__mon, l->mon_ref.w);
    if (m) {
      m->pid = child;
      m->name = COTP_NONE;
      m->alias_mode = (uint8_t)l->alias_mode;
      m->alias_private = l->alias_private;
    }
    if (!m || !cotp__mon_alias(l->parent, m)) {
      if (m)
        SET_REMOVE(pe->mons, struct cotp__mon, m);
      if (l->link)
        cotp__link_active(l->parent, child, true); /* undone */
      return COTP_ENOMEM;
    }
    if (in_block)
      cotp__watcher_inline(p, parent, l->mon_ref, (unsigned)l->alias_mode);
    else
      cotp__watcher_add(p, parent, l->mon_ref, COTP_NONE, (unsigned)l->alias_mode);
  }
  return 0;
}

/* A spawn with options, of any kind of process: *argp is the argument in
 * the base's ctx, replaced by its copy when opts asks for one. */
static int spawn_opt(const cotp_spawn_opts *opts, cotp_pid *pid,
                     int (*base)(struct cotp__proc *, void *), void *ctx,
                     void **argp) {
  struct cotp__proc *parent = self_or_null();
  if (!parent)
    return COTP_ENOTPROC;
  size_t n = opts ? opts->arg_size : 0;
  bool watch = opts && (opts->link || opts->monitor);
  if ((n && (!*argp || n > UINT32_MAX)) ||
      (opts && opts->monitor &&
       (!opts->monitor_ref || (unsigned)opts->monitor_alias >
                                  COTP_ALIAS_REPLY_DEMONITOR)) ||
      (opts && opts->monitor_alias_private &&
       opts->monitor_alias != COTP_ALIAS_REPLY_DEMONITOR))
    return COTP_EINVAL;
  struct linked l = {base, ctx, parent, watch && opts->link, COTP_NONE,
                     opts ? opts->monitor_alias : 0,
                     opts && opts->monitor_alias_private};
  /* the reference first: an argument to copy may hold it */
  if (watch && opts->monitor && opts->monitor_ref_given) {
    cotp_term ref = *opts->monitor_ref;
    struct cotp__ext *e = parent->ext;
    if (!cotp_is_ref(ref) ||
        (e && (SET_FIND(e->mons, struct cotp__mon, ref.w) ||
               SET_FIND(e->aliases, struct cotp__alias, ref.w))))
      return COTP_EINVAL;
    l.mon_ref = ref;
  } else if (watch && opts->monitor) {
    *opts->monitor_ref = l.mon_ref = cotp_make_ref();
  }
  void *given = *argp;
  if (n) {
    void *copy = cotp__chunk_alloc(n);
    if (!copy)
      return COTP_ENOMEM;
    if (given) /* it is: checked above; said again for the compiler */
      memcpy(copy, given, n);
    *argp = copy;
  }
  int rc = watch ? spawn(opts, pid, setup_linked, &l) : spawn(opts, pid, base, ctx);
  if (rc != 0 && n) {
    cotp__chunk_free(*argp, n);
    *argp = given;
  }
  return rc;
}

int cotp_spawn_opt(cotp_entry *fn, void *arg, const cotp_spawn_opts *opts,
                   cotp_pid *pid) {
  if (!fn)
    return self_or_null() ? COTP_EINVAL : COTP_ENOTPROC;
  struct plain pl = {fn, arg};
  return spawn_opt(opts, pid, setup_plain, &pl, &pl.arg);
}

int cotp_spawn_link(cotp_entry *fn, void *arg, cotp_pid *pid) {
  if (!fn)
    return self_or_null() ? COTP_EINVAL : COTP_ENOTPROC;
  struct plain pl = {fn, arg};
  struct linked l = {setup_plain, &pl, self_or_null(), true, COTP_NONE, 0, false};
  if (!l.parent)
    return COTP_ENOTPROC;
  int rc = spawn(NULL, pid, setup_linked, &l);
  return rc;
}

int cotp_spawn_monitor(cotp_entry *fn, void *arg, cotp_pid *pid,
                       cotp_term *ref) {
  if (!fn || !ref)
    return self_or_null() ? COTP_EINVAL : COTP_ENOTPROC;
  struct plain pl = {fn, arg};
  struct linked l = {setup_plain, &pl, self_or_null(), false, cotp_make_ref(), 0, false};
  if (!l.parent)
    return COTP_ENOTPROC;
  *ref = l.mon_ref;
  int rc = spawn(NULL, pid, setup_linked, &l);
  return rc;
}

struct handler {
  cotp_handler_fn *fn;
  void *state;
};

static int setup_handler(struct cotp__proc *p, void *ctx) {
  struct handler *h = ctx;
  p->entry.handle = h->fn;
  p->arg = h->state;
  p->flags |= PF_HANDLER;
  return 0;
}

int cotp_spawn_handler(cotp_handler_fn *handle, void *state,
                       const cotp_spawn_opts *opts, cotp_pid *pid) {
  if (!handle)
    return self_or_null() ? COTP_EINVAL : COTP_ENOTPROC;
  struct handler h = {handle, state};
  return spawn_opt(opts, pid, setup_handler, &h, &h.state);
}

struct mfa {
  cotp_mfa_fn *fn;
  cotp_term args;
};

static int setup_mfa(struct cotp__proc *p, void *ctx) {
  struct mfa *m = ctx;
  p->u.mfa.fn = m->fn;
  p->u.mfa.args = cotp_term_copy(&p->heap, m->args);
  p->flags |= PF_MFA;
  return cotp_is_none(p->u.mfa.args) ? COTP_ENOMEM : 0;
}

int cotp_spawn_mfa(cotp_term module, cotp_term function, cotp_term args,
                   const cotp_spawn_opts *opts, cotp_pid *pid) {
  if (!self_or_null())
    return COTP_ENOTPROC;
  if (!cotp_is_list(args))
    return COTP_EINVAL;
  cotp_mfa_fn *fn = cotp_lookup_function(module, function);
  if (!fn)
    return COTP_ENOTFOUND;
  struct mfa m = {fn, args};
  void *no_arg = NULL;
  if (opts && opts->arg_size)
    return COTP_EINVAL; /* the arguments are terms, copied anyway */
  return spawn_opt(opts, pid, setup_mfa, &m, &no_arg);
}

/* --- the running process --- */

cotp_pid cotp_self(void) {
  struct cotp__proc *p = self_or_null();
  return (cotp_pid){p ? atomic_load_explicit(&p->pid, memory_order_relaxed) : 0};
}

cotp_heap *cotp_self_heap(void) {
  struct cotp__proc *p = self_or_null();
  return p ? &p->heap : NULL;
}

bool cotp_is_alive_now(cotp_pid pid) {
  struct cotp__proc *p = cotp__proc_lookup(pid);
  if (!p)
    return false;
  uint32_t st = atomic_load_explicit(&p->state, memory_order_acquire);
  return st != PS_FREE && st != PS_EXITING;
}

bool cotp_is_alive(cotp_pid pid) {
  if (!cotp_is_alive_now(pid))
    return false;
  struct cotp__proc *p = cotp__proc_lookup(pid);
  /* From a process, ask: the question travels behind the signals we sent
   * before, so an exit we sent that will kill it counts (A20). */
  struct cotp__proc *self = self_or_null();
  if (!self || self == p)
    return true;
  cotp_heap_mark mark = cotp_heap_mark_now(&self->heap);
  cotp_term info;
  bool alive = cotp_process_info(pid, COTP_ATOM(alive), &info) == 0;
  cotp_heap_release(&self->heap, mark);
  return alive;
}

int cotp_yield(void) {
  struct cotp__sched *s = cotp__sched_self();
  struct cotp__proc *p = s ? s->current : NULL;
  if (!p)
    return COTP_ENOTPROC;
  if (atomic_load_explicit(&cotp__rt->stopping, memory_order_relaxed))
    cotp__proc_exit(p, COTP_ATOM_SHUTDOWN);
  cotp__switch_out_on(s, p, RQ_YIELD);
  return 0;
}

int cotp_set_priority(cotp_priority prio, cotp_priority *old) {
  struct cotp__proc *p = self_or_null();
  if (!p)
    return COTP_ENOTPROC;
  if ((unsigned)prio > COTP_PRIORITY_MAX)
    return COTP_EINVAL;
  if (old)
    *old = (cotp_priority)p->priority;
  p->priority = (uint8_t)prio;
  return 0;
}

void cotp_hibernate(cotp_entry *fn, void *arg) {
  struct cotp__proc *p = self_or_null();
  if (!p || !fn)
    abort(); /* documented: a process, a function; it cannot return */
  p->entry.fn = fn;
  p->arg = arg;
  bool handler = p->flags & PF_HANDLER;
  p->flags &= (uint16_t)~(PF_HANDLER | PF_MFA);
  p->catching = NULL; /* the frames that would catch are going away */
  if (handler && p->handling) {
    /* hibernating inside a handler: the message it was handling stays
     * valid, as part of the heap that is kept */
    cotp__heap_adopt(&p->heap, msg_block_ready(p->handling));
    p->handling = NULL;
  }
  cotp__switch_out(p, RQ_DROP);
  __builtin_unreachable();
}
