/* SPDX-License-Identifier: Apache-2.0 */
/*
 * genserver_start.c: starting a server, both sides of the handshake.
 *
 * The starter spawns a handler process, monitors it with the monitor
 * reference doubling as an alias, and gives it the init argument as its
 * first message (cotp_spawn_opts.message: in its mailbox before anything
 * else can be, with no send).  The server handles that first message by
 * linking to its parent (start_link), registering its name, and running
 * init; it answers through the alias, with the bare ref for :ok, or
 * {ref, :ignore} or {ref, {:error, reason}}, and then exits if init did not
 * return ok.  The starter waits for the answer, the DOWN, or its timeout,
 * whichever comes first (Erlang's proc_lib:start, with OTP 25's results).
 *
 * Invariants:
 *  1. The server struct belongs to the server process from its spawn:
 *     the spawn's arg_free frees it (and the state) when the process
 *     ends, however it ends, even killed before it handled its init
 *     message (the start timed out, the runtime stopped).  Why not a
 *     cleanup (cotp_on_exit): only the process itself can register one,
 *     a server killed before its first message never would, and a
 *     cleanup costs an idle server its process extension (80 bytes and
 *     more), where arg_free is a field of the control block.
 *  2. The server links to its parent itself, at init, rather than the
 *     starter linking after the spawn: a starter killed in the middle of a
 *     start must not take down a server that has not yet taken ownership
 *     of anything.  A parent already gone when the server gets to init
 *     makes it exit with noproc without running init.
 *  3. A name is released before the answer to a failed or ignored start
 *     is sent (D6): the starter never sees it still registered.
 *  4. Before the spawn, the server struct and the state are the starter's,
 *     and a starter can be killed before it gets there (a pending exit
 *     signal acts at the drain of cotp_receive_mark, a via module's
 *     whereis may wait): a resource in the starter's heap holds them until
 *     the spawn hands them over, so a killed starter leaks nothing.  A
 *     start with neither a state nor a via name takes its mark before it
 *     allocates anything and holds nothing (a resource is a malloc and a
 *     free: 5% of an idle server's start).
 */
#include <stdlib.h>

#include "genserver_impl.h"

/* --- the server struct and its owner --- */

static void gs_free(void *object) {
  struct cotp__gs *s = object;
  if (s->cb && s->cb->free_state && s->state)
    s->cb->free_state(s->state);
  if (s->name) {
    cotp_heap_free(s->name->heap);
    free(s->name);
  }
  cotp_mem_free(s, sizeof *s);
}

/* Invariant 4: the struct is the object of a resource in the starter's
 * heap until the spawn; the resource frees it only while it is held
 * (GS_HELD), so letting go is clearing the flag and releasing the mark. */
static void held_free(void *object) {
  struct cotp__gs *s = object;
  if (s->flags & GS_HELD)
    gs_free(s);
}

/* Holds s in heap h: false when out of memory (s is still the caller's). */
static bool hold(cotp_heap *h, struct cotp__gs *s) {
  cotp_resource *r = cotp_resource_new(s, held_free);
  if (!r)
    return false;
  bool in_heap = !cotp_is_none(cotp_resource_term(h, r));
  if (in_heap)
    s->flags |= GS_HELD;
  cotp_resource_release(r); /* the heap's reference remains, if any */
  return in_heap;
}

/* The starter lets go of s (hold), before it frees it or hands it over. */
static void let_go(cotp_heap *h, cotp_heap_mark mark, struct cotp__gs *s) {
  s->flags &= ~(uint32_t)GS_HELD;
  cotp_heap_release(h, mark);
}

/* A copy of the name the server can keep: via names carry a term. */
static int keep_name(struct cotp__gs *s, const cotp_name *name) {
  if (name->kind == COTP_NAME_NONE)
    return 0;
  s->name = calloc(1, sizeof *s->name);
  if (!s->name)
    return COTP_ENOMEM;
  s->name->name = *name;
  if (name->kind == COTP_NAME_VIA && !cotp_is_atom(name->term) &&
      !cotp_is_integer(name->term)) {
    if (cotp_term_keep(name->term, &s->name->name.term, &s->name->heap) != 0)
      return COTP_ENOMEM;
  }
  return 0;
}

/* D8: nil means no name; anything else must be registrable. */
static int check_name(cotp_name *name) {
  switch (name->kind) {
  case COTP_NAME_NONE:
    return 0;
  case COTP_NAME_LOCAL:
    if (name->term.w == COTP_ATOM_NIL.w) {
      name->kind = COTP_NAME_NONE;
      return 0;
    }
    return cotp_is_atom(name->term) && name->term.w != COTP_ATOM_UNDEFINED.w
               ? 0
               : COTP_EINVAL;
  case COTP_NAME_VIA:
    return name->via && name->via->register_name && name->via->whereis &&
                   !cotp_is_none(name->term)
               ? 0
               : COTP_EINVAL;
  }
  return COTP_EINVAL;
}

/* --- the starter's side --- */

enum start_mode { MODE_START, MODE_LINK, MODE_MONITOR };

/* The answer (ref, or {ref, result}) or the DOWN of the start's
 * monitor. */
static bool is_answer(cotp_term msg, void *ctx) {
  cotp_term ref = *(const cotp_term *)ctx;
  if (msg.w == ref.w)
    return true;
  size_t n = cotp_tuple_size(msg);
  if (n == 2)
    return cotp_tuple_get(msg, 0).w == ref.w;
  return n == 5 && cotp_tuple_get(msg, 0).w == COTP_ATOM_DOWN.w &&
         cotp_tuple_get(msg, 1).w == ref.w;
}

static bool is_ack(cotp_term msg, void *ctx) {
  return cotp_tuple_size(msg) != 5 && is_answer(msg, ctx);
}

static bool is_exit_of(cotp_term msg, void *ctx) {
  cotp_pid pid = *(const cotp_pid *)ctx;
  return cotp_tuple_size(msg) == 3 &&
         cotp_tuple_get(msg, 0).w == COTP_ATOM_EXIT.w &&
         cotp_pid_eq(cotp_get_pid(cotp_tuple_get(msg, 1)), pid);
}

static bool is_down_of(cotp_term msg, void *ctx) {
  return cotp_tuple_size(msg) == 5 && is_answer(msg, ctx);
}

/* The start timed out: kill the half-started server and forget it, as
 * proc_lib's kill_flush does. */
static void give_up(cotp_pid pid, cotp_term ref, enum start_mode mode) {
  if (mode == MODE_LINK)
    cotp_unlink(pid);
  cotp_exit_signal(pid, COTP_ATOM_KILL);
  cotp_demonitor(ref, COTP_DEMONITOR_FLUSH);
  if (mode == MODE_MONITOR)
    cotp_unalias(ref);
  cotp_receive_if(is_ack, &ref, 0, COTP_RECV_AFTER_MARK, NULL);
  if (mode == MODE_LINK)
    cotp_receive_if(is_exit_of, &pid, 0, 0, NULL);
}

/* H4: a failed start_link returns only once the server's exit signal has
 * reached the caller, so a caller that does not trap exits dies of it
 * every time rather than when it loses a race (OTP 26's init_fail).  The
 * server fires its links before its monitors and signals between two
 * processes keep their order, so a DOWN from a fresh monitor comes after
 * the exit signal; a server already gone answers noproc, also after it. */
static void await_linked_exit(cotp_pid pid) {
  cotp_term ref;
  if (cotp_monitor(pid, &ref) == 0)
    cotp_receive_if(is_down_of, &ref, COTP_INFINITY, COTP_RECV_AFTER_MARK,
                    NULL);
}

static int start(const cotp_genserver_callbacks *cb, cotp_term arg,
                 const cotp_genserver_opts *opts, enum start_mode mode,
                 cotp_pid *pid_out, cotp_term *mon_out, cotp_term *reason_out) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  cotp_genserver_opts defaults = COTP_GENSERVER_OPTS_INIT;
  if (!opts)
    opts = &defaults;
  if (!cb || cotp_is_none(arg) ||
      (opts->timeout_ms < 0 && opts->timeout_ms != COTP_INFINITY))
    return COTP_EINVAL;
  cotp_name name = opts->name;
  int rc = check_name(&name);
  if (rc)
    return rc;
  cotp_term scratch;
  cotp_term *reason = reason_out ? reason_out : &scratch;

  /* Invariant 4.  Only the mark (a drain) and a via module's whereis can
   * act on a pending kill before the spawn.  Without a state to give nor
   * a via name, the mark goes first and nothing needs holding; with
   * either, the struct (and the state in it) is held across both. */
  bool held = opts->state || name.kind == COTP_NAME_VIA;
  if (!held)
    cotp_receive_mark();
  /* from the runtime's caches: 180 instructions fewer a start than
   * calloc, whose own caches are dry while servers pile up */
  struct cotp__gs *s = cotp_mem_alloc(sizeof *s);
  if (!s)
    return COTP_ENOMEM;
  *s = (struct cotp__gs){0};
  s->cb = cb;
  s->parent = cotp_self();
  s->flags = (mode == MODE_LINK ? GS_LINKED : 0) |
             (mode == MODE_MONITOR ? GS_MONITOR : 0) |
             (opts->trace ? GS_TRACE : 0);
  s->state = opts->state; /* the server reads it after its init message */
  cotp_heap_mark held_mark = cotp_heap_mark_now(h);
  if (held && !hold(h, s)) {
    s->state = NULL; /* negative: the caller keeps the state */
    gs_free(s);
    return COTP_ENOMEM;
  }
  if (held)
    cotp_receive_mark();
  cotp_pid other;
  /* D5 without a process, as gen:start does; the server checks again,
   * atomically, when it registers */
  if (name.kind != COTP_NAME_NONE && cotp_name_whereis(&name, &other) == 0) {
    /* a positive result gives the state to the server: freed as the
     * server would have, with the struct */
    let_go(h, held_mark, s);
    gs_free(s);
    *reason = COTP_TUPLE(h, COTP_ATOM_ALREADY_STARTED, cotp_pid_term(other));
    return COTP_GENSERVER_ERROR;
  }
  if (keep_name(s, &name) != 0) {
    let_go(h, held_mark, s);
    s->state = NULL;
    gs_free(s);
    return COTP_ENOMEM;
  }
  cotp_spawn_opts spawn = opts->spawn;
  spawn.arg_size = 0;      /* s is handed over, not copied */
  spawn.arg_free = gs_free; /* invariant 1 */
  spawn.link = false; /* invariant 2: the server links */
  /* monitored from the spawn on, the reference doubling as the alias the
   * answer comes through; made here, so that the struct has it before the
   * server can run */
  cotp_term ref = cotp_make_ref();
  s->ref = ref;
  spawn.monitor = true;
  spawn.monitor_alias = mode == MODE_MONITOR ? COTP_ALIAS_EXPLICIT_UNALIAS
                                             : COTP_ALIAS_REPLY_DEMONITOR;
  spawn.monitor_ref = &ref;
  spawn.monitor_ref_given = true;
  /* only the server answers through it: no need to publish it (the
   * start_monitor's reference becomes the caller's, to use as it likes) */
  spawn.monitor_alias_private = mode != MODE_MONITOR;
  /* the init argument is the server's first message, there before it runs */
  spawn.message = arg;
  cotp_pid pid;
  /* nothing acts on a signal between letting go and the spawn, which
   * hands s over as it makes the process (its yield comes after) */
  let_go(h, held_mark, s);
  rc = cotp_spawn_handler(cotp__gs_handle, s, &spawn, &pid);
  if (rc) {
    s->state = NULL; /* no process: the state stays the caller's */
    gs_free(s);
    return rc;
  }

  cotp_term answer;
  rc = cotp_receive_if(is_answer, &ref, opts->timeout_ms, COTP_RECV_AFTER_MARK,
                       &answer);
  if (rc == COTP_ETIMEDOUT) {
    give_up(pid, ref, mode);
    *reason = COTP_ATOM_TIMEOUT;
    return COTP_GENSERVER_ERROR;
  }
  if (rc)
    return rc;
  if (cotp_tuple_size(answer) == 5) { /* DOWN: it died in init */
    if (mode == MODE_MONITOR)
      cotp_unalias(ref);
    *reason = cotp_tuple_get(answer, 4);
    return COTP_GENSERVER_ERROR;
  }
  cotp_term result = answer.w == ref.w ? COTP_ATOM_OK : cotp_tuple_get(answer, 1);
  if (result.w == COTP_ATOM_OK.w) {
    if (pid_out)
      *pid_out = pid;
    if (mode == MODE_MONITOR) {
      cotp_unalias(ref); /* the monitor stays, for the caller */
      if (mon_out)
        *mon_out = ref;
    }
    return 0;
  }
  if (mode == MODE_MONITOR) {
    /* gen's monitor_return: a failed start leaves no DOWN behind */
    cotp_unalias(ref);
    cotp_receive_if(is_down_of, &ref, COTP_INFINITY, COTP_RECV_AFTER_MARK,
                    NULL);
  }
  if (result.w == COTP_ATOM_IGNORE.w) {
    *reason = COTP_ATOM_IGNORE;
    return COTP_GENSERVER_IGNORE;
  }
  *reason = cotp_tuple_get(result, 1); /* {:error, reason} */
  if (mode == MODE_LINK)
    await_linked_exit(pid);
  return COTP_GENSERVER_ERROR;
}

int cotp_genserver_start(const cotp_genserver_callbacks *cb, cotp_term arg,
                         const cotp_genserver_opts *opts, cotp_pid *pid,
                         cotp_term *reason) {
  return start(cb, arg, opts, MODE_START, pid, NULL, reason);
}

int cotp_genserver_start_link(const cotp_genserver_callbacks *cb,
                              cotp_term arg, const cotp_genserver_opts *opts,
                              cotp_pid *pid, cotp_term *reason) {
  return start(cb, arg, opts, MODE_LINK, pid, NULL, reason);
}

int cotp_genserver_start_monitor(const cotp_genserver_callbacks *cb,
                                 cotp_term arg,
                                 const cotp_genserver_opts *opts,
                                 cotp_pid *pid, cotp_term *mon,
                                 cotp_term *reason) {
  if (!mon)
    return cotp_self_heap() ? COTP_EINVAL : COTP_ENOTPROC;
  return start(cb, arg, opts, MODE_MONITOR, pid, mon, reason);
}

/* --- the server's side --- */

/* The answer to the starter: the bare reference for :ok, {ref, result}
 * otherwise.  The common answer builds nothing, so a server whose init
 * builds nothing either ends its start without a heap block (the runtime
 * keeps a spare block in a heap that had one). */
static void answer(struct cotp__gs *s, cotp_term result) {
  if (result.w == COTP_ATOM_OK.w) {
    cotp_send_alias(s->ref, s->ref);
    return;
  }
  cotp_heap *h = cotp_self_heap();
  cotp_send_alias(s->ref, COTP_TUPLE(h, s->ref, result));
}

/* Init failed or was ignored: release the name, answer, exit. */
__attribute__((noreturn)) static void fail(struct cotp__gs *s,
                                           cotp_term result,
                                           cotp_term reason) {
  if (s->name)
    cotp_name_unregister(&s->name->name);
  answer(s, result);
  cotp__gs_exit(reason);
}

/* arg: the server's first message, the spawn's (cotp_spawn_opts.message) */
bool cotp__gs_init(struct cotp__gs *s, cotp_term arg) {
  cotp_heap *h = cotp_self_heap();
  cotp_pid self = cotp_self();
  if (s->flags & GS_LINKED) {
    if (cotp_link(s->parent) != 0)
      cotp_exit(COTP_ATOM_NOPROC); /* invariant 2: the parent is gone */
  } else {
    s->parent = self;
  }
  if (s->name) {
    int rc = cotp_name_register(&s->name->name, self);
    if (rc) {
      cotp_pid other;
      cotp_term why = rc == COTP_EEXIST &&
                              cotp_name_whereis(&s->name->name, &other) == 0
                          ? COTP_TUPLE(h, COTP_ATOM_ALREADY_STARTED,
                                       cotp_pid_term(other))
                          : COTP_ATOM_BADARG;
      cotp_heap_free(s->name->heap);
      free(s->name);
      s->name = NULL; /* not ours to unregister */
      fail(s, COTP_TUPLE(h, COTP_ATOM_ERROR, why), COTP_ATOM_NORMAL);
    }
  }
  s->flags |= GS_STARTED;
  if (!s->cb->init) {
    cotp_term why = cotp__gs_undef(s->cb, GA_INIT, 1);
    fail(s, COTP_TUPLE(h, COTP_ATOM_ERROR, why), why);
  }
  cotp_gs_ret ret;
  cotp_term reason;
  if (!cotp__gs_run(s, GK_INIT, arg, NULL, &ret, &reason))
    fail(s, COTP_TUPLE(h, COTP_ATOM_ERROR, reason), reason);
  if (!cotp__gs_valid(GK_INIT, ret)) {
    cotp_term why = cotp__gs_bad_return(ret);
    fail(s, COTP_TUPLE(h, COTP_ATOM_ERROR, why), why);
  }
  if (ret.kind == COTP_GS_IGNORE)
    fail(s, COTP_ATOM_IGNORE, COTP_ATOM_NORMAL);
  if (ret.kind == COTP_GS_STOP)
    fail(s, COTP_TUPLE(h, COTP_ATOM_ERROR, ret.reason), ret.reason);
  /* from here on the server reports its own crashes (genserver_report.c);
   * a failed init is reported by the runtime, as proc_lib reports it */
  cotp_set_crash_report(false, NULL);
  answer(s, COTP_ATOM_OK);
  cotp__gs_after(s, GK_INIT, COTP_NONE, NULL, ret);
  return true;
}
