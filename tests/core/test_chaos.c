/* SPDX-License-Identifier: Apache-2.0 */
/* Chaos: random links, monitors and kills; each EXIT and DOWN exactly once. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/proc.h"
#include "harness.h"

/*
 * The plan, drawn from the run's seed:
 *  - N workers; about 30% trap exits.
 *  - Links: about 0.6 N random distinct pairs (so the non-trapping part of
 *    the graph falls into small pieces and some processes survive).
 *  - Monitors: each worker monitors 0-2 random others (the same one twice
 *    makes two monitors); the root monitors every worker.
 *  - Fates, applied in random order once the graph is set up: exit(P,
 *    kill); exit(P, {:shot, i}) (trapped by trappers); told to exit by
 *    itself with {:quit, i} or with kill (A12: kill over links stays kill);
 *    told to return (reason normal; trappers only, so that the reason is
 *    certain).
 * Workers report to the root every {:EXIT, ...} and {:DOWN, ...} they get.
 * From the plan alone the root knows who must die (the fated, and every
 * non-trapper linked to one that died abnormally) and who must live; from
 * the DOWNs it learns each death's reason, and then checks: one DOWN per
 * dead worker and none for the living; each death's reason is its own
 * fate's or one of its dead neighbours'; each survivor reported exactly
 * one EXIT per dead neighbour (trappers) and one DOWN per monitor of a
 * dead worker, with that worker's reason, and nothing else; a worker that
 * died reported at most that.  Then the rest is killed, and no process, no
 * monitor and no file descriptor is left.
 */

enum fate { F_NONE, F_KILL, F_SHOT, F_QUIT, F_NORMAL };

struct node {
  cotp_pid pid;
  bool trap, quit_kill, dead, abnormal, down_seen;
  enum fate fate;
  uint32_t *links, nlinks, caplinks; /* neighbours (deduplicated) */
  uint32_t *mons, nmons;             /* targets this one monitors */
  uint8_t *link_exits, *mon_downs;   /* reports seen, per entry */
  uint32_t monitored_by;             /* monitors of it, by workers */
  int shot_reports;
  cotp_term reason;                  /* from its DOWN, in the root's heap */
};

static struct chaos {
  size_t n;
  struct node *nodes;
  cotp_pid root;
  uint64_t *pid_keys; /* open addressing: pid bits -> index + 1 */
  uint32_t *pid_vals;
  size_t pid_cap;
} C;

static void index_put(cotp_pid p, uint32_t i) {
  size_t at = (p.bits * 0x9E3779B97F4A7C15ull >> 20) & (C.pid_cap - 1);
  while (C.pid_keys[at])
    at = (at + 1) & (C.pid_cap - 1);
  C.pid_keys[at] = p.bits;
  C.pid_vals[at] = i;
}

/* The worker a pid is, -1 for the root, -2 for anything else. */
static long index_of(cotp_term t) {
  cotp_pid p = cotp_get_pid(t);
  if (cotp_pid_eq(p, C.root))
    return -1;
  size_t at = (p.bits * 0x9E3779B97F4A7C15ull >> 20) & (C.pid_cap - 1);
  for (; C.pid_keys[at]; at = (at + 1) & (C.pid_cap - 1))
    if (C.pid_keys[at] == p.bits)
      return C.pid_vals[at];
  return -2;
}

static char *show(cotp_term t) {
  static __thread char buf[256];
  cotp_term_print(buf, sizeof buf, t);
  return buf;
}

static size_t list_len(cotp_term l) {
  size_t n = 0;
  cotp_list_length(l, &n);
  return n;
}

static void worker(void *arg) {
  int64_t me = (int64_t)(intptr_t)arg;
  cotp_heap *h = cotp_self_heap();
  cotp_pid root = C.root;
  for (;;) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_term msg;
    cotp_receive(COTP_INFINITY, &msg);
    if (cotp_test_is_cmd(msg, "setup", 4)) {
      cotp_trap_exit(cotp_term_eq(cotp_tuple_get(msg, 1), COTP_ATOM_TRUE), NULL);
      for (cotp_term l = cotp_tuple_get(msg, 2); cotp_is_cons(l); l = cotp_tail(l))
        cotp_link(cotp_get_pid(cotp_head(l)));
      for (cotp_term l = cotp_tuple_get(msg, 3); cotp_is_cons(l); l = cotp_tail(l)) {
        cotp_term ref;
        cotp_monitor(cotp_get_pid(cotp_head(l)), &ref);
      }
      cotp_send(root, COTP_TUPLE(h, COTP_ATOM(ready), cotp_int(h, me)));
    } else if (cotp_term_eq(msg, COTP_ATOM(check))) {
      cotp_term links, by;
      cotp_process_info(cotp_self(), cotp_atom("links"), &links);
      cotp_process_info(cotp_self(), cotp_atom("monitored_by"), &by);
      cotp_send(root, COTP_TUPLE(h, COTP_ATOM(checked), cotp_int(h, me),
                                 cotp_int(h, (int64_t)list_len(links)),
                                 cotp_int(h, (int64_t)list_len(by))));
    } else if (cotp_test_is_cmd(msg, "EXIT", 3)) {
      cotp_send(root, COTP_TUPLE(h, COTP_ATOM(exit), cotp_int(h, me),
                                 cotp_tuple_get(msg, 1), cotp_tuple_get(msg, 2)));
    } else if (cotp_test_is_cmd(msg, "DOWN", 5)) {
      cotp_send(root, COTP_TUPLE(h, COTP_ATOM(down), cotp_int(h, me),
                                 cotp_tuple_get(msg, 3), cotp_tuple_get(msg, 4)));
    } else if (cotp_test_is_cmd(msg, "quit", 2)) {
      cotp_exit(cotp_tuple_get(msg, 1));
    } else if (cotp_term_eq(msg, COTP_ATOM(return))) {
      return;
    } else if (cotp_term_eq(msg, COTP_ATOM(sync))) {
      cotp_send(root, COTP_TUPLE(h, COTP_ATOM(synced), cotp_int(h, me)));
    }
    cotp_heap_release(h, m);
  }
}

/* Descriptors the process holds, but for the ones on /proc: the
 * sanitizers' runtimes open /proc/self/maps and the like at moments of
 * their own choosing, and the directory listing itself is one. */
static size_t open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  cr_assert_not_null(d);
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    char path[300], target[256];
    snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
    ssize_t len = readlink(path, target, sizeof target - 1);
    if (len < 0)
      continue; /* . and .., or already closed */
    target[len] = '\0';
    if (strncmp(target, "/proc/", 6) != 0)
      n++;
  }
  closedir(d);
  return n;
}

static void add_link(struct node *a, uint32_t b) {
  for (uint32_t k = 0; k < a->nlinks; k++)
    if (a->links[k] == b)
      return;
  if (a->nlinks == a->caplinks) {
    a->caplinks = a->caplinks ? 2 * a->caplinks : 4;
    a->links = realloc(a->links, a->caplinks * sizeof *a->links);
    cr_assert_not_null(a->links);
  }
  a->links[a->nlinks++] = b;
}

static cotp_term quit_reason(cotp_heap *h, uint32_t i) {
  return C.nodes[i].quit_kill ? COTP_ATOM_KILL
                              : COTP_TUPLE(h, COTP_ATOM(quit), cotp_int(h, i));
}

/* The reason i's own fate gives it, or NONE. */
static cotp_term own_reason(cotp_heap *h, uint32_t i) {
  switch (C.nodes[i].fate) {
  case F_KILL:
    return COTP_ATOM_KILLED;
  case F_SHOT:
    return C.nodes[i].trap ? COTP_NONE : COTP_TUPLE(h, COTP_ATOM(shot), cotp_int(h, i));
  case F_QUIT:
    return quit_reason(h, i);
  case F_NORMAL:
    return COTP_ATOM_NORMAL;
  default:
    return COTP_NONE;
  }
}

/* Counts one report (kind exit or down) from reporter about subject. */
static void count_report(cotp_heap *h, long reporter, bool exit, long subject,
                         cotp_term reason) {
  cr_assert(reporter >= 0 && (size_t)reporter < C.n);
  struct node *r = &C.nodes[reporter];
  cr_assert(subject != -2, "worker %ld reported an unknown pid", reporter);
  if (subject == -1) { /* the root's shot, trapped */
    cr_assert(exit && r->trap && r->fate == F_SHOT,
              "worker %ld: a report about the root it should not have", reporter);
    cotp_assert_term_eq(reason, COTP_TUPLE(h, COTP_ATOM(shot), cotp_int(h, reporter)));
    cr_assert_eq(r->shot_reports++, 0, "worker %ld: its shot twice", reporter);
    return;
  }
  struct node *s = &C.nodes[subject];
  cr_assert(s->dead, "worker %ld reported %s about %ld, which must live", reporter,
            exit ? "an EXIT" : "a DOWN", subject);
  if (exit) {
    cr_assert(r->trap, "worker %ld traps no exits but reported one", reporter);
    for (uint32_t k = 0; k < r->nlinks; k++) {
      if (r->links[k] == (uint32_t)subject) {
        cr_assert_eq(r->link_exits[k]++, 0, "worker %ld: EXIT of %ld twice",
                     reporter, subject);
        return;
      }
    }
    cr_assert_fail("worker %ld: EXIT from %ld, not a neighbour", reporter, subject);
  }
  for (uint32_t k = 0; k < r->nmons; k++) {
    if (r->mons[k] == (uint32_t)subject && !r->mon_downs[k]) {
      r->mon_downs[k] = 1;
      return;
    }
  }
  cr_assert_fail("worker %ld: one DOWN of %ld too many", reporter, subject);
  (void)reason;
}

COTP_TEST(chaos, random_link_and_monitor_graphs_under_random_kills, .timeout = 120) {
  size_t fds = open_fds();
  cotp_heap *h = cotp_self_heap();
  cotp_test_rng rng = cotp_test_rng_new();
  size_t n = cotp_test_max_alive(10000) - 1; /* and the root */
  C.n = n;
  C.root = cotp_self();
  C.nodes = calloc(n, sizeof *C.nodes);
  for (C.pid_cap = 1; C.pid_cap < 2 * n; C.pid_cap *= 2)
    ;
  C.pid_keys = calloc(C.pid_cap, sizeof *C.pid_keys);
  C.pid_vals = calloc(C.pid_cap, sizeof *C.pid_vals);
  cr_assert(C.nodes && C.pid_keys && C.pid_vals);

  /* the plan */
  for (uint32_t i = 0; i < n; i++) {
    struct node *x = &C.nodes[i];
    x->trap = cotp_test_below(&rng, 10) < 3;
    uint64_t f = cotp_test_below(&rng, 100);
    x->fate = f < 4 ? F_KILL : f < 8 ? F_SHOT : f < 11 ? F_QUIT
              : (f < 14 && x->trap) ? F_NORMAL : F_NONE;
    x->quit_kill = x->fate == F_QUIT && cotp_test_below(&rng, 3) == 0;
    x->nmons = (uint32_t)cotp_test_below(&rng, 3);
    x->mons = calloc(x->nmons + 1, sizeof *x->mons);
    x->mon_downs = calloc(x->nmons + 1, 1);
    for (uint32_t k = 0; k < x->nmons; k++) {
      uint32_t j;
      do
        j = (uint32_t)cotp_test_below(&rng, n);
      while (j == i);
      x->mons[k] = j;
      C.nodes[j].monitored_by++;
    }
  }
  for (size_t e = 0; e < n * 6 / 10; e++) {
    uint32_t a = (uint32_t)cotp_test_below(&rng, n), b = (uint32_t)cotp_test_below(&rng, n);
    if (a != b) {
      add_link(&C.nodes[a], b);
      add_link(&C.nodes[b], a);
    }
  }
  for (uint32_t i = 0; i < n; i++)
    C.nodes[i].link_exits = calloc(C.nodes[i].nlinks + 1, 1);

  /* spawn, monitor, set up the graph */
  cotp_term *refs = calloc(n, sizeof *refs);
  for (uint32_t i = 0; i < n; i++) {
    cotp_assert_rc(cotp_spawn(worker, (void *)(intptr_t)i, &C.nodes[i].pid), 0);
    index_put(C.nodes[i].pid, i);
    cotp_assert_rc(cotp_monitor(C.nodes[i].pid, &refs[i]), 0);
  }
  for (uint32_t i = 0; i < n; i++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    struct node *x = &C.nodes[i];
    cotp_term links = COTP_NIL, mons = COTP_NIL;
    for (uint32_t k = 0; k < x->nlinks; k++)
      if (x->links[k] > i) /* one side makes each link */
        links = cotp_cons(h, cotp_pid_term(C.nodes[x->links[k]].pid), links);
    for (uint32_t k = 0; k < x->nmons; k++)
      mons = cotp_cons(h, cotp_pid_term(C.nodes[x->mons[k]].pid), mons);
    cotp_send(x->pid, COTP_TUPLE(h, COTP_ATOM(setup), cotp_bool(x->trap), links, mons));
    cotp_heap_release(h, m);
  }
  for (size_t k = 0; k < n; k++) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_term msg;
    cotp_assert_rc(cotp_receive(30000, &msg), 0);
    cr_assert(cotp_test_is_cmd(msg, "ready", 2), "setup: %s", show(msg));
    cotp_heap_release(h, m);
  }
  /* every link and monitor in place on both ends before anything dies */
  for (int attempt = 0;; attempt++) {
    for (uint32_t i = 0; i < n; i++)
      cotp_send(C.nodes[i].pid, COTP_ATOM(check));
    size_t wrong = 0;
    for (size_t k = 0; k < n; k++) {
      cotp_heap_mark m = cotp_heap_mark_now(h);
      cotp_term msg;
      cotp_assert_rc(cotp_receive(30000, &msg), 0);
      cr_assert(cotp_test_is_cmd(msg, "checked", 4), "check: %s", show(msg));
      struct node *x = &C.nodes[cotp_int_value(cotp_tuple_get(msg, 1))];
      if (cotp_int_value(cotp_tuple_get(msg, 2)) != x->nlinks ||
          cotp_int_value(cotp_tuple_get(msg, 3)) != x->monitored_by + 1)
        wrong++;
      cotp_heap_release(h, m);
    }
    if (!wrong)
      break;
    cr_assert_lt(attempt, 100, "%zu workers still miss links or monitors", wrong);
    cotp_sleep(10);
  }

  /* who must die: the fated, then every non-trapper linked to one that
   * died abnormally */
  uint32_t *queue = calloc(n, sizeof *queue);
  size_t qh = 0, qt = 0, ndead = 0;
  for (uint32_t i = 0; i < n; i++) {
    struct node *x = &C.nodes[i];
    x->dead = x->fate == F_KILL || x->fate == F_QUIT || x->fate == F_NORMAL ||
              (x->fate == F_SHOT && !x->trap);
    x->abnormal = x->dead && x->fate != F_NORMAL;
    if (x->abnormal)
      queue[qt++] = i;
  }
  while (qh < qt) {
    struct node *x = &C.nodes[queue[qh++]];
    for (uint32_t k = 0; k < x->nlinks; k++) {
      struct node *y = &C.nodes[x->links[k]];
      if (!y->dead && !y->trap) {
        y->dead = y->abnormal = true;
        queue[qt++] = x->links[k];
      }
    }
  }
  size_t want_reports = 0; /* from survivors: exact */
  for (uint32_t i = 0; i < n; i++) {
    struct node *x = &C.nodes[i];
    ndead += x->dead;
    if (x->dead)
      continue;
    if (x->trap) {
      for (uint32_t k = 0; k < x->nlinks; k++)
        want_reports += C.nodes[x->links[k]].dead;
      want_reports += x->fate == F_SHOT;
    }
    for (uint32_t k = 0; k < x->nmons; k++)
      want_reports += C.nodes[x->mons[k]].dead;
  }

  /* the fates, in random order */
  for (size_t k = 0; k < n; k++)
    queue[k] = (uint32_t)k;
  for (size_t k = n - 1; k > 0; k--) {
    size_t j = cotp_test_below(&rng, k + 1);
    uint32_t t = queue[k];
    queue[k] = queue[j];
    queue[j] = t;
  }
  for (size_t k = 0; k < n; k++) {
    uint32_t i = queue[k];
    struct node *x = &C.nodes[i];
    cotp_heap_mark m = cotp_heap_mark_now(h);
    switch (x->fate) {
    case F_KILL:
      cotp_assert_rc(cotp_exit_signal(x->pid, COTP_ATOM_KILL), 0);
      break;
    case F_SHOT:
      cotp_assert_rc(
          cotp_exit_signal(x->pid, COTP_TUPLE(h, COTP_ATOM(shot), cotp_int(h, i))), 0);
      break;
    case F_QUIT:
      cotp_send(x->pid, COTP_TUPLE(h, COTP_ATOM(quit), quit_reason(h, i)));
      break;
    case F_NORMAL:
      cotp_send(x->pid, COTP_ATOM(return));
      break;
    default:
      break;
    }
    cotp_heap_release(h, m);
  }

  /* collect: every DOWN of the dead, every report the survivors owe */
  cotp_term *reports = calloc(3 * n + 16, sizeof *reports);
  size_t nreports = 0, downs = 0, survivor_reports = 0;
  while (downs < ndead || survivor_reports < want_reports) {
    cotp_term msg;
    int rc = cotp_receive(30000, &msg);
    if (rc != 0) {
      for (uint32_t i = 0; i < n; i++)
        if (C.nodes[i].dead && !C.nodes[i].down_seen)
          cr_log_error("worker %u should have died (fate %d, trap %d, alive %d)", i,
                       C.nodes[i].fate, C.nodes[i].trap, cotp_is_alive(C.nodes[i].pid));
      cr_assert_fail("timed out: %zu of %zu DOWNs, %zu of %zu reports", downs, ndead,
                     survivor_reports, want_reports);
    }
    if (cotp_test_is_cmd(msg, "DOWN", 5)) {
      long i = index_of(cotp_tuple_get(msg, 3));
      cr_assert(i >= 0, "DOWN of %s", show(msg));
      struct node *x = &C.nodes[i];
      cotp_assert_term_eq(cotp_tuple_get(msg, 1), refs[i]);
      cr_assert(x->dead, "worker %ld died (%s) but must live (fate %d, trap %d)", i,
                show(cotp_tuple_get(msg, 4)), x->fate, x->trap);
      cr_assert(!x->down_seen, "two DOWNs for worker %ld", i);
      x->down_seen = true;
      x->reason = cotp_tuple_get(msg, 4);
      downs++;
    } else {
      cr_assert(cotp_test_is_cmd(msg, "exit", 4) || cotp_test_is_cmd(msg, "down", 4), "unexpected %s", show(msg));
      cr_assert_lt(nreports, 3 * n + 16);
      reports[nreports++] = msg;
      long r = (long)cotp_int_value(cotp_tuple_get(msg, 1));
      cr_assert(r >= 0 && (size_t)r < n);
      if (!C.nodes[r].dead)
        survivor_reports++;
      cr_assert_leq(survivor_reports, want_reports, "more reports than owed: %s", show(msg));
    }
  }
  /* anything more from the living comes before their answer to a sync */
  size_t survivors = n - ndead;
  for (uint32_t i = 0; i < n; i++)
    if (!C.nodes[i].dead)
      cotp_send(C.nodes[i].pid, COTP_ATOM(sync));
  for (size_t k = 0; k < survivors; k++) {
    cotp_term msg;
    cotp_assert_rc(cotp_receive(30000, &msg), 0);
    cr_assert(cotp_test_is_cmd(msg, "synced", 2), "after all was in: %s", show(msg));
  }

  /* each report once, with the reason its subject died with */
  for (size_t k = 0; k < nreports; k++) {
    cotp_term msg = reports[k];
    long reporter = (long)cotp_int_value(cotp_tuple_get(msg, 1));
    long subject = index_of(cotp_tuple_get(msg, 2));
    cotp_term reason = cotp_tuple_get(msg, 3);
    count_report(h, reporter, cotp_test_is_cmd(msg, "exit", 4), subject, reason);
    if (subject >= 0)
      cotp_assert_term_eq(reason, C.nodes[subject].reason);
  }
  for (uint32_t i = 0; i < n; i++) {
    struct node *x = &C.nodes[i];
    if (x->dead) {
      /* its own fate's reason, or one of its dead neighbours' */
      cotp_term own = own_reason(h, i);
      bool ok = !cotp_is_none(own) && cotp_term_eq(x->reason, own);
      for (uint32_t k = 0; !ok && !x->trap && k < x->nlinks; k++) {
        struct node *y = &C.nodes[x->links[k]];
        ok = y->dead && y->abnormal && cotp_term_eq(x->reason, y->reason);
      }
      cr_assert(ok, "worker %u (fate %d, trap %d) died with %s", i, x->fate, x->trap,
                show(x->reason));
      continue;
    }
    /* survivors: every report owed came, once (count_report checked once) */
    for (uint32_t k = 0; x->trap && k < x->nlinks; k++)
      cr_assert_eq(x->link_exits[k], C.nodes[x->links[k]].dead,
                   "survivor %u: EXIT of neighbour %u", i, x->links[k]);
    for (uint32_t k = 0; k < x->nmons; k++)
      cr_assert_eq(x->mon_downs[k], C.nodes[x->mons[k]].dead,
                   "survivor %u: DOWN of %u", i, x->mons[k]);
    cr_assert_eq(x->shot_reports, x->trap && x->fate == F_SHOT);
    cr_assert(cotp_is_alive(x->pid), "survivor %u is gone", i);
  }

  /* the rest goes; nothing is left behind */
  for (uint32_t i = 0; i < n; i++)
    if (!C.nodes[i].dead)
      cotp_exit_signal(C.nodes[i].pid, COTP_ATOM_KILL);
  for (size_t left = survivors; left > 0;) {
    cotp_heap_mark m = cotp_heap_mark_now(h);
    cotp_term msg;
    cotp_assert_rc(cotp_receive(30000, &msg), 0);
    if (cotp_test_is_cmd(msg, "DOWN", 5)) {
      long i = index_of(cotp_tuple_get(msg, 3));
      cr_assert(i >= 0 && !C.nodes[i].down_seen, "DOWN %s", show(msg));
      C.nodes[i].down_seen = true;
      left--;
    }
    cotp_heap_release(h, m);
  }
  for (int i = 0; i < 10000 && cotp__ptable_live() > 1; i++)
    cotp_sleep(1);
  cr_assert_eq(cotp__ptable_live(), 1, "processes left besides the root");
  cotp_term mons;
  cotp_assert_rc(cotp_process_info(cotp_self(), cotp_atom("monitors"), &mons), 0);
  cotp_assert_prints(mons, "[]");
  cr_assert_eq(open_fds(), fds, "file descriptors left open");

  for (uint32_t i = 0; i < n; i++) {
    free(C.nodes[i].links);
    free(C.nodes[i].mons);
    free(C.nodes[i].link_exits);
    free(C.nodes[i].mon_downs);
  }
  free(C.nodes);
  free(C.pid_keys);
  free(C.pid_vals);
  free(refs);
  free(queue);
  free(reports);
}
