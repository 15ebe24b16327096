/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sup_impl.h: what the Supervisor sources share (the public API is
 * cotp/supervisor.h).  Written against the public headers only.
 *
 * A supervisor is a GenServer (sup_server.c) whose state is a struct sup.
 * Everything in it is touched only by the supervisor process, inside its
 * callbacks, and freed by free_state after the process is gone.
 *
 * Invariants:
 *  1. Children are kept in start order on a doubly linked list (new ones
 *     at the end), and the running ones are also in a hash table by pid,
 *     so an EXIT, a terminate_child by pid and a delete cost O(1) whatever
 *     the number of children (I41).
 *  2. A child's terms (id, args, modules) live in a heap of its own, made
 *     only when one of them is boxed (cotp_term_keep, one tuple of the
 *     three); the supervisor's messages' heap is released after each
 *     message, so nothing kept may point there.
 *  3. A child is RUNNING (pid set and in the table), UNDEFINED (a static
 *     spec kept without a process) or RESTARTING (a restart failed or is
 *     delayed; a {:"$sup_retry", key, counts} is on its way to the
 *     supervisor).  A DynamicSupervisor's restarting child stays in the
 *     table under its old pid, the only name it has (J14).
 *  4. Every child the supervisor terminates is monitored first and
 *     unlinked, and the EXIT that may already be queued is flushed: the
 *     DOWN, not the link, says when it is gone (I35), and no stale EXIT is
 *     taken later for a crash.
 */
#ifndef COTP_OTP_SUP_IMPL_H
#define COTP_OTP_SUP_IMPL_H

#include <cotp.h>

enum child_status { CHILD_RUNNING, CHILD_UNDEFINED, CHILD_RESTARTING };

struct child {
  cotp_term id;       /* :undefined for dynamic children */
  cotp_pid pid;       /* RUNNING only */
  enum child_status status;
  uint64_t key;       /* unique per supervisor: names it in retry messages */
  /* the start */
  cotp_child_start_fn *cfn;
  void *ctx;
  cotp_term module, function, args; /* args: extra_arguments included */
  cotp_restart restart;
  int64_t shutdown;   /* ms, COTP_INFINITY or COTP_SHUTDOWN_BRUTAL_KILL */
  cotp_child_type type;
  bool significant;
  cotp_term modules;
  cotp_heap *heap;    /* the boxed terms above, or NULL */
  /* backoff */
  int64_t started_ms, delay_ms;
  /* order and table */
  struct child *prev, *next, *hnext;
  /* shutdown bookkeeping (sup_stop.c) */
  cotp_term mref;
  int64_t deadline;
  bool pending;
  bool in_table;     /* RUNNING, or a dynamic child RESTARTING under its
                        old pid (J14 names it by that pid) */
};

struct sup {
  const cotp_supervisor_module *mod;
  bool dynamic;
  cotp_strategy strategy;
  int intensity, period;
  cotp_auto_shutdown auto_shutdown;
  int64_t backoff_ms, backoff_max_ms;
  int64_t max_children;     /* dynamic; COTP_INFINITY */
  cotp_term extra;          /* dynamic extra_arguments, in heap */
  cotp_heap *heap;
  /* children */
  struct child *first, *last;
  size_t nchildren;
  struct child **table;     /* by pid, chained */
  size_t nbuckets, nrunning;
  uint64_t next_key;
  /* restart times in ms, a ring of intensity + 1 */
  int64_t *restarts;
  size_t nrestarts, rhead;
  /* the children being shut down together (dynamic): kept here, not in a
   * local, since an exit signal may end the supervisor while it waits for
   * them, and then only free_state runs */
  struct child **stopping;
  /* the child start_child is starting, not yet on the list: kept here for
   * the same reason, a start may wait (the child's init) */
  struct child *starting;
};

/* --- children (sup_child.c) --- */

/* A child with the fields of a checked spec (cotp__sup_spec_read or
 * cotp__sup_spec_fields, into a zeroed struct); the terms are copied into
 * its own heap. */
struct child *cotp__sup_child_new(struct sup *s, const struct child *fields);
void cotp__sup_child_free(struct child *c);
void cotp__sup_append(struct sup *s, struct child *c);
void cotp__sup_remove(struct sup *s, struct child *c); /* and frees it */
/* c has started as pid: in the pid table, its start time noted, and the
 * start reported. */
void cotp__sup_set_running(struct sup *s, struct child *c, cotp_pid pid);
void cotp__sup_set_stopped(struct sup *s, struct child *c,
                           enum child_status st);
struct child *cotp__sup_by_pid(struct sup *s, cotp_pid pid);
struct child *cotp__sup_by_id(struct sup *s, cotp_term id);
struct child *cotp__sup_by_key(struct sup *s, uint64_t key);
/* The child's spec map, or OTP's {:child, ...} record for reasons. */
cotp_term cotp__sup_child_spec_map(cotp_heap *h, const struct child *c);
cotp_term cotp__sup_child_info(cotp_heap *h, const struct child *c);

/* --- specs and flags (sup_spec.c) --- */

int cotp__sup_parse_flags(struct sup *s, cotp_term flags, cotp_term *reason);
cotp_term cotp__sup_start_term(cotp_heap *h, cotp_child_start_fn *fn,
                               void *ctx, cotp_term args);
/* Reads a checked spec's fields. */
void cotp__sup_spec_fields(cotp_term spec, struct child *c);
/* cotp_child_spec_check and, when it passes, cotp__sup_spec_fields, in
 * one reading of the spec (a start_child's). */
int cotp__sup_spec_read(cotp_heap *h, cotp_term spec, struct child *c,
                        cotp_term *reason);
/* What a spec check's reason (cotp_child_spec_check's, or
 * {:duplicate_child_name, id}) means, in a sentence naming the child (by
 * id, or by its 1-based position in the init list when it has none;
 * position 0: not in a list) and the field, written into buf. */
void cotp__sup_spec_explain(char *buf, size_t size, cotp_term spec,
                            size_t position, cotp_term reason);
/* The registered start function of module:function, or NULL. */
cotp_child_start_fn *cotp__sup_lookup_start(cotp_term module,
                                            cotp_term function);

/* --- starting and stopping (sup_stop.c) --- */

/* Runs the child's start.  Returns 0 with *pid (bits 0: ignore) and
 * *reply the whole result ({:ok, pid} / {:ok, pid, info} / :ignore), or 1
 * with *reply the reason of the failure; in the caller's heap. */
int cotp__sup_do_start(struct sup *s, struct child *c, cotp_pid *pid,
                       cotp_term *reply);
/* Runs the child's start function in the caller (it may exit). */
cotp_term cotp__sup_call_start(const struct child *c);
/* Terminates the running children of list (n of them) concurrently, each
 * with its shutdown; they end UNDEFINED (temporary ones removed when
 * remove_temporary).  */
void cotp__sup_shutdown(struct sup *s, struct child **list, size_t n,
                        bool remove_temporary);
/* Terminates one child, alone. */
void cotp__sup_terminate(struct sup *s, struct child *c);
/* Terminates every child: reverse order, or all at once if dynamic. */
void cotp__sup_terminate_all(struct sup *s);

/* --- restarts (sup_restart.c) --- */

/* A child exited by itself with reason: restart it as its type and the
 * strategy say.  Returns false when the supervisor must stop with
 * *stop_reason (:shutdown). */
bool cotp__sup_child_exited(struct sup *s, struct child *c, cotp_term reason,
                            cotp_term *stop_reason);
/* A {:"$sup_retry", key, counts} came: counts is false for a restart
 * delayed by backoff, which was counted when the child exited. */
bool cotp__sup_retry(struct sup *s, uint64_t key, bool counts,
                     cotp_term *stop_reason);
/* Starts the initial children in order; on failure terminates those
 * started and returns false with *reason. */
bool cotp__sup_start_initial(struct sup *s, cotp_term *reason);

cotp_term cotp__sup_atom_retry(void);

/* The atoms of child specs: COTP_ATOM looks each up once per use site,
 * which matters as a start_child reads a spec's keys several times. */
#define SUP_ATOM(name) COTP_ATOM(name)

/* --- reports, in Elixir's words (sup_report.c) --- */

/* The supervisor's module as an atom: Supervisor.Default for the
 * list-based start (sup_server.c). */
cotp_term cotp__sup_module_name(const struct sup *s);
void cotp__sup_report_started(const struct sup *s, const struct child *c);
void cotp__sup_report_terminated(const struct sup *s, const struct child *c,
                                 cotp_term reason);
void cotp__sup_report_start_error(const struct sup *s, const struct child *c,
                                  cotp_term reason);
void cotp__sup_report_shutdown(const struct sup *s, const struct child *c);
/* "Supervisor <name> <context>: <text>", an invalid child spec explained
 * (cotp__sup_spec_explain), at level. */
void cotp__sup_report_bad_spec(const struct sup *s, cotp_log_level level,
                               const char *context, const char *text);
void cotp__sup_report_shutdown_error(const struct sup *s, const struct child *c,
                                     cotp_term reason);

#endif
