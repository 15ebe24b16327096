/* SPDX-License-Identifier: Apache-2.0 */
/* Handler processes: messages read in place, chains of handlers passing
 * messages on one stack (sched.c, cotp__chain_next), and everything a
 * handler may do in the middle of such a chain: block in a receive, exit,
 * hibernate, be killed. */
#include <stdatomic.h>

#include "harness.h"

/* A ring of handlers: each passes {:tok, k} to the next with k - 1; the
 * one that sees 0 reports to the root. */
struct hop {
  cotp_pid next, root;
  long seen;
};

static bool hop(void *state, cotp_term msg) {
  struct hop *h = state;
  h->seen++;
  int64_t k = cotp_int_value(cotp_tuple_get(msg, 1));
  if (k == 0) {
    cotp_send(h->root, COTP_ATOM(done));
    return true;
  }
  cotp_heap *hp = cotp_self_heap();
  cotp_send(h->next, COTP_TUPLE(hp, COTP_ATOM(tok), cotp_int(hp, k - 1)));
  return true;
}

static cotp_pid *ring_of(struct hop *st, int n) {
  static cotp_pid pids[1000];
  for (int i = 0; i < n; i++) {
    st[i] = (struct hop){.root = cotp_self()};
    cotp_assert_rc(cotp_spawn_handler(hop, &st[i], NULL, &pids[i]), 0);
  }
  for (int i = 0; i < n; i++)
    st[i].next = pids[(i + 1) % n];
  return pids;
}

COTP_TEST(handlers, ring_passes_every_hop) {
  static struct hop st[100];
  cotp_pid *pids = ring_of(st, 100);
  cotp_heap *h = cotp_self_heap();
  const long hops = 20000;
  cotp_send(pids[0], COTP_TUPLE(h, COTP_ATOM(tok), cotp_int(h, hops)));
  cotp_term msg;
  cotp_assert_rc(cotp_receive(10000, &msg), 0);
  cotp_assert_term_eq(msg, COTP_ATOM(done));
  long total = 0;
  for (int i = 0; i < 100; i++) {
    total += st[i].seen;
    cr_assert_eq(st[i].seen, hops / 100 + (i < (hops + 1) % 100), "handler %d", i);
  }
  cr_assert_eq(total, hops + 1);
  for (int i = 0; i < 100; i++)
    cotp_exit_signal(pids[i], COTP_ATOM_KILL);
}

/* Several tokens at once, and senders on other schedulers: handlers get
 * messages while others run in their place. */
static void token_source(void *arg) {
  cotp_pid first = *(cotp_pid *)arg;
  cotp_heap *h = cotp_self_heap();
  for (int i = 0; i < 50; i++) {
    cotp_send(first, COTP_TUPLE(h, COTP_ATOM(tok), cotp_int(h, 500)));
    if (i % 7 == 0)
      cotp_yield();
  }
}

COTP_TEST(handlers, many_tokens_from_many_senders) {
  static struct hop st[64];
  cotp_pid *pids = ring_of(st, 64);
  static cotp_pid firsts[4];
  for (int s = 0; s < 4; s++) {
    firsts[s] = pids[s * 16];
    cotp_assert_rc(cotp_spawn(token_source, &firsts[s], NULL), 0);
  }
  for (int i = 0; i < 200; i++) {
    cotp_term msg;
    cotp_assert_rc(cotp_receive(10000, &msg), 0);
    cotp_assert_term_eq(msg, COTP_ATOM(done));
  }
  long total = 0;
  for (int i = 0; i < 64; i++)
    total += st[i].seen;
  cr_assert_eq(total, 200 * 501);
  for (int i = 0; i < 64; i++)
    cotp_exit_signal(pids[i], COTP_ATOM_KILL);
}

/* A handler that waits inside its handle function: it keeps its frames
 * (and the stack a chain handed it), the others go on around it. */
struct asker {
  cotp_pid next, root;
};

static bool ask_then_pass(void *state, cotp_term msg) {
  struct asker *a = state;
  if (cotp_is_pid(msg)) { /* a question: answer it */
    cotp_send(cotp_get_pid(msg), COTP_ATOM(answer));
    return true;
  }
  int64_t k = cotp_int_value(msg);
  if (k % 3 == 0) {
    /* ask the root's helper a question and wait for the answer, with
     * other messages possibly queued meanwhile */
    cotp_send(a->root, cotp_pid_term(cotp_self()));
    cotp_clause c = {cotp_test_pattern(":answer"), NULL, NULL};
    cotp_assert_rc(cotp_receive_match(&c, 1, 10000, 0, NULL), 0);
  }
  if (k == 0)
    cotp_send(a->root, COTP_ATOM(done));
  else
    cotp_send(a->next, cotp_int(NULL, k - 1));
  return true;
}

COTP_TEST(handlers, a_handler_that_blocks_inside_a_chain) {
  static struct asker st[10];
  static cotp_pid pids[10];
  for (int i = 0; i < 10; i++) {
    st[i].root = cotp_self();
    cotp_assert_rc(cotp_spawn_handler(ask_then_pass, &st[i], NULL, &pids[i]), 0);
  }
  for (int i = 0; i < 10; i++)
    st[i].next = pids[(i + 1) % 10];
  cotp_send(pids[0], cotp_int(NULL, 300));
  for (;;) {
    cotp_term msg;
    cotp_assert_rc(cotp_receive(10000, &msg), 0);
    if (cotp_term_eq(msg, COTP_ATOM(done)))
      break;
    cotp_send(cotp_get_pid(msg), COTP_ATOM(answer));
  }
  for (int i = 0; i < 10; i++)
    cotp_exit_signal(pids[i], COTP_ATOM_KILL);
}

/* Handlers that stop (return false, or exit) in the middle of chains: the
 * right process dies with the right reason, the others carry on. */
static bool pass_or_stop(void *state, cotp_term msg) {
  struct hop *h = state;
  int64_t k = cotp_int_value(cotp_tuple_get(msg, 1));
  h->seen++;
  if (k % 10 == 5 && h->seen == 1)
    return false; /* normal exit, the token dies with it */
  if (k % 10 == 7 && h->seen == 1)
    cotp_exit(COTP_ATOM(seven));
  cotp_heap *hp = cotp_self_heap();
  cotp_send(k == 0 ? h->root : h->next,
            k == 0 ? COTP_ATOM(done)
                   : COTP_TUPLE(hp, COTP_ATOM(tok), cotp_int(hp, k - 1)));
  return true;
}

COTP_TEST(handlers, exits_in_the_middle_of_a_chain) {
  static struct hop st[20];
  static cotp_pid pids[20];
  static cotp_term refs[20];
  for (int i = 0; i < 20; i++) {
    st[i] = (struct hop){.root = cotp_self()};
    cotp_assert_rc(cotp_spawn_handler(pass_or_stop, &st[i], NULL, &pids[i]), 0);
    cotp_assert_rc(cotp_monitor(pids[i], &refs[i]), 0);
  }
  for (int i = 0; i < 20; i++)
    st[i].next = pids[(i + 1) % 20];
  /* each token dies at the first handler to see it with k % 10 in {5, 7}
   * on its first message */
  cotp_heap *h = cotp_self_heap();
  cotp_send(pids[0], COTP_TUPLE(h, COTP_ATOM(tok), cotp_int(h, 9)));
  /* k = 9 at pids[0], 8 at [1], 7 at [2]: pids[2] exits with :seven */
  cotp_assert_term_eq(cotp_test_down_of(refs[2], pids[2]), COTP_ATOM(seven));
  cotp_send(pids[10], COTP_TUPLE(h, COTP_ATOM(tok), cotp_int(h, 5)));
  /* k = 5 at pids[10], its first message: it stops normally */
  cotp_assert_term_eq(cotp_test_down_of(refs[10], pids[10]), COTP_ATOM_NORMAL);
  cotp_send(pids[11], COTP_TUPLE(h, COTP_ATOM(tok), cotp_int(h, 3)));
  cotp_term msg;
  cotp_assert_rc(cotp_receive(10000, &msg), 0);
  cotp_assert_term_eq(msg, COTP_ATOM(done));
  for (int i = 0; i < 20; i++)
    if (i != 2 && i != 10) {
      cr_assert(cotp_is_alive(pids[i]), "handler %d", i);
      cotp_exit_signal(pids[i], COTP_ATOM_KILL);
    }
}

/* A handler that hibernates inside handle keeps the message it was
 * handling valid: it is part of the heap that hibernation keeps. */
static cotp_term kept;
static cotp_pid kept_for;

static void woken(void *arg) {
  (void)arg;
  cotp_term msg;
  cotp_receive(COTP_INFINITY, &msg);
  cotp_send(kept_for, COTP_TUPLE(cotp_self_heap(), kept, msg));
}

static bool hibernate_on_first(void *state, cotp_term msg) {
  (void)state;
  kept = msg; /* a tuple read in place, in the message being handled */
  cotp_hibernate(woken, NULL);
}

COTP_TEST(handlers, hibernating_keeps_the_message_being_handled) {
  kept_for = cotp_self();
  cotp_pid p;
  cotp_assert_rc(cotp_spawn_handler(hibernate_on_first, NULL, NULL, &p), 0);
  cotp_heap *h = cotp_self_heap();
  cotp_send(p, COTP_TUPLE(h, COTP_ATOM(first), cotp_int(h, 1), COTP_ATOM(x)));
  cotp_sleep(5);
  cotp_send(p, COTP_ATOM(second));
  cotp_term msg;
  cotp_assert_rc(cotp_receive(5000, &msg), 0);
  cotp_assert_term_eq(msg, cotp_test_parse("{{:first, 1, :x}, :second}"));
}

/* A handler killed while idle, or while queued behind others in a chain,
 * frees what it held: ASan's leak check runs over this. */
COTP_TEST(handlers, killed_handlers_leak_nothing) {
  static struct hop st[50];
  cotp_pid *pids = ring_of(st, 50);
  cotp_heap *h = cotp_self_heap();
  for (int i = 0; i < 50; i += 5)
    cotp_send(pids[i], COTP_TUPLE(h, COTP_ATOM(tok), cotp_int(h, 1000000)));
  cotp_sleep(2);
  for (int i = 0; i < 50; i++)
    cotp_exit_signal(pids[i], COTP_ATOM_KILL);
  for (int i = 0; i < 50; i++)
    while (cotp_is_alive(pids[i]))
      cotp_sleep(1);
}

static bool ignore_all(void *state, cotp_term msg) {
  (void)state, (void)msg;
  return true;
}

static int64_t memory_of(cotp_pid pid) {
  cotp_term m;
  cotp_assert_rc(cotp_process_info(pid, COTP_ATOM(memory), &m), 0);
  return cotp_int_value(m);
}

/* An idle handler keeps only its control block: the extension a monitor
 * made (for its watcher) goes once the monitor has and the handler idles. */
COTP_TEST(handlers, an_idle_handler_gives_back_its_extension) {
  cotp_pid pid;
  cotp_assert_rc(cotp_spawn_handler(ignore_all, NULL, NULL, &pid), 0);
  cotp_send(pid, COTP_ATOM(hello));
  int64_t bare = memory_of(pid);
  cotp_term ref;
  cotp_assert_rc(cotp_monitor(pid, &ref), 0);
  int64_t watched = memory_of(pid);
  cr_assert_gt(watched, bare, "a watcher needs the extension");
  cotp_assert_rc(cotp_demonitor(ref, 0), 0);
  cotp_send(pid, COTP_ATOM(hello)); /* handled, then idle */
  cotp_sleep(5);
  cr_assert_eq(memory_of(pid), bare);
  cotp_exit_signal(pid, COTP_ATOM_KILL);
}

static bool stop_on_first(void *state, cotp_term msg) {
  (void)msg;
  return *(int64_t *)state != 42; /* stops when its copy says 42 */
}

/* A handler's spawn options work as a plain spawn's: linked and monitored
 * (with an alias) before it runs, its state copied when arg_size says. */
COTP_TEST(handlers, spawn_options_link_monitor_and_copy) {
  cotp_trap_exit(true, NULL);
  int64_t state = 42;
  cotp_term ref;
  cotp_spawn_opts o = COTP_SPAWN_OPTS_INIT;
  o.link = true;
  o.monitor = true;
  o.monitor_alias = COTP_ALIAS_DEMONITOR;
  o.monitor_ref = &ref;
  o.arg_size = sizeof state;
  cotp_pid pid;
  cotp_assert_rc(cotp_spawn_handler(stop_on_first, &state, &o, &pid), 0);
  state = 0; /* the handler has its own copy */
  cotp_term links;
  cotp_assert_rc(cotp_process_info(cotp_self(), COTP_ATOM(links), &links), 0);
  size_t nlinks = 0;
  cotp_assert_rc(cotp_list_length(links, &nlinks), 0);
  cr_assert_eq(nlinks, 1);
  cotp_send(pid, COTP_ATOM(stop));
  cotp_term msg;
  cotp_clause down = {cotp_test_pattern("{:DOWN, ^ref, :process, _, :normal}"), &ref, NULL};
  cotp_assert_rc(cotp_receive_match(&down, 1, 5000, 0, &msg), 0);
  cotp_clause ex = {cotp_test_pattern("{:EXIT, _, :normal}"), NULL, NULL};
  cotp_assert_rc(cotp_receive_match(&ex, 1, 5000, 0, &msg), 0);
}
