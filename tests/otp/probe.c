/* SPDX-License-Identifier: Apache-2.0 */
/* The probe GenServer of probe.h. */
#include "probe.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

_Atomic long probe_frees;

struct probe {
  cotp_pid owner;
  int64_t n;
  cotp_genserver_from kept; /* a deferred call */
  cotp_heap *heap;          /* terms kept across messages */
  cotp_term terminate_exit; /* in heap, or NONE */
};

static cotp_heap *h(void) { return cotp_self_heap(); }

static void report(struct probe *p, const char *name, cotp_term data) {
  cotp_send(p->owner, COTP_TUPLE(h(), COTP_ATOM(cb), cotp_atom(name), data));
}

static bool is(cotp_term t, const char *tag, size_t arity) {
  return cotp_test_is_cmd(t, tag, arity);
}

static cotp_term arg1(cotp_term t) { return cotp_tuple_get(t, 1); }

static int64_t int1(cotp_term t) {
  int64_t v = 0;
  cotp_get_int(arg1(t), &v);
  return v;
}

/* What cast, info and continue share. */
static cotp_gs_ret common(struct probe *p, cotp_term m) {
  if (is(m, "set", 2)) {
    p->n = int1(m);
    return cotp_gs_noreply();
  }
  if (is(m, "stop", 2))
    return cotp_gs_stop(arg1(m));
  if (is(m, "exit", 2))
    cotp_exit(arg1(m));
  if (is(m, "continue", 2))
    return cotp_gs_continue(cotp_gs_noreply(), arg1(m));
  if (is(m, "timeout", 2))
    return cotp_gs_timeout(cotp_gs_noreply(), int1(m));
  if (is(m, "send_self", 2)) {
    cotp_send(cotp_self(), arg1(m));
    return cotp_gs_noreply();
  }
  if (is(m, "send_then_continue", 3)) {
    cotp_send(cotp_self(), arg1(m));
    return cotp_gs_continue(cotp_gs_noreply(), cotp_tuple_get(m, 2));
  }
  if (is(m, "send_then_timeout", 3)) {
    cotp_send(cotp_self(), arg1(m));
    int64_t ms = 0;
    cotp_get_int(cotp_tuple_get(m, 2), &ms);
    return cotp_gs_timeout(cotp_gs_noreply(), ms);
  }
  if (m.w == COTP_ATOM(bad).w)
    return (cotp_gs_ret){0};
  if (m.w == COTP_ATOM(hibernate).w)
    return cotp_gs_hibernate(cotp_gs_noreply());
  if (m.w == COTP_ATOM(reply).w)
    return cotp_gs_reply(COTP_ATOM_OK);
  return cotp_gs_noreply();
}

static cotp_gs_ret init(cotp_term arg, void **state) {
  struct probe *p = calloc(1, sizeof *p);
  p->owner = cotp_get_pid(cotp_tuple_get(arg, 0));
  p->terminate_exit = COTP_NONE;
  p->heap = cotp_heap_new();
  *state = p;
  cotp_term a = cotp_tuple_get(arg, 1);
  report(p, "init", a);
  if (a.w == COTP_ATOM(ignore).w)
    return cotp_gs_ignore();
  if (is(a, "stop", 2))
    return cotp_gs_stop(arg1(a));
  if (is(a, "exit", 2))
    cotp_exit(arg1(a));
  if (a.w == COTP_ATOM(bad).w)
    return cotp_gs_reply(COTP_ATOM_OK);
  if (is(a, "sleep", 2))
    cotp_sleep(int1(a));
  if (is(a, "continue", 2))
    return cotp_gs_continue(cotp_gs_ok(), arg1(a));
  if (is(a, "timeout", 2))
    return cotp_gs_timeout(cotp_gs_ok(), int1(a));
  if (a.w == COTP_ATOM(trap).w)
    cotp_trap_exit(true, NULL);
  if (is(a, "send_self", 2))
    cotp_send(cotp_self(), arg1(a));
  return cotp_gs_ok();
}

static cotp_gs_ret handle_call(cotp_term req, cotp_genserver_from from,
                               void **state) {
  struct probe *p = *state;
  report(p, "call", req);
  if (req.w == COTP_ATOM(get).w)
    return cotp_gs_reply(cotp_int(h(), p->n));
  if (is(req, "set", 2)) {
    p->n = int1(req);
    return cotp_gs_reply(COTP_ATOM_OK);
  }
  if (is(req, "echo", 2))
    return cotp_gs_reply(arg1(req));
  if (is(req, "stop", 2))
    return cotp_gs_stop_reply(arg1(req), COTP_ATOM_OK);
  if (is(req, "stop_noreply", 2))
    return cotp_gs_stop(arg1(req));
  if (is(req, "exit", 2))
    cotp_exit(arg1(req));
  if (req.w == COTP_ATOM(bad).w)
    return (cotp_gs_ret){0};
  if (is(req, "sleep", 2)) {
    cotp_sleep(int1(req));
    return cotp_gs_reply(COTP_ATOM(slept));
  }
  if (req.w == COTP_ATOM(defer).w) {
    p->kept = from;
    return cotp_gs_noreply();
  }
  if (is(req, "reply_deferred", 2)) {
    cotp_genserver_reply(p->kept, arg1(req));
    return cotp_gs_reply(COTP_ATOM_OK);
  }
  if (is(req, "continue", 2))
    return cotp_gs_continue(cotp_gs_reply(COTP_ATOM_OK), arg1(req));
  if (is(req, "timeout", 2))
    return cotp_gs_timeout(cotp_gs_reply(COTP_ATOM_OK), int1(req));
  if (req.w == COTP_ATOM(hibernate).w)
    return cotp_gs_hibernate(cotp_gs_reply(COTP_ATOM_OK));
  if (is(req, "call", 2))
    return cotp_gs_reply(cotp_genserver_call(
        srv(cotp_get_pid(arg1(req))), COTP_ATOM(get), 1000));
  if (is(req, "send_self", 2)) {
    cotp_send(cotp_self(), arg1(req));
    return cotp_gs_reply(COTP_ATOM_OK);
  }
  if (req.w == COTP_ATOM(stop_self).w)
    cotp_genserver_stop(srv(cotp_self()), COTP_ATOM_NORMAL, COTP_INFINITY);
  if (req.w == COTP_ATOM(from).w)
    return cotp_gs_reply(cotp_genserver_from_term(h(), from));
  if (is(req, "terminate_exit", 2)) {
    p->terminate_exit = cotp_term_copy(p->heap, arg1(req));
    return cotp_gs_reply(COTP_ATOM_OK);
  }
  if (req.w == COTP_ATOM(reply_noreply_kind).w)
    return cotp_gs_ok();
  return cotp_gs_reply(req);
}

static cotp_gs_ret handle_cast(cotp_term req, void **state) {
  struct probe *p = *state;
  report(p, "cast", req);
  return common(p, req);
}

static cotp_gs_ret handle_info(cotp_term msg, void **state) {
  struct probe *p = *state;
  report(p, "info", msg);
  return common(p, msg);
}

static cotp_gs_ret handle_continue(cotp_term x, void **state) {
  struct probe *p = *state;
  report(p, "continue", x);
  if (is(x, "stop", 2))
    return cotp_gs_stop(arg1(x));
  if (is(x, "chain", 2))
    return cotp_gs_continue(cotp_gs_noreply(), arg1(x));
  if (is(x, "send_self", 2)) {
    cotp_send(cotp_self(), arg1(x));
    return cotp_gs_continue(cotp_gs_noreply(), COTP_ATOM(after));
  }
  return cotp_gs_noreply();
}

static void terminate(cotp_term reason, void *state) {
  struct probe *p = state;
  report(p, "terminate", reason);
  if (!cotp_is_none(p->terminate_exit))
    cotp_exit(p->terminate_exit);
}

static cotp_term format_status(cotp_heap *hp, void *state) {
  struct probe *p = state;
  return COTP_TUPLE(hp, COTP_ATOM(probe), cotp_int(hp, p->n));
}

static void free_state(void *state) {
  struct probe *p = state;
  cotp_heap_free(p->heap);
  free(p);
  atomic_fetch_add(&probe_frees, 1);
}

const cotp_genserver_callbacks probe_cb = {
    .name = "Probe",
    .init = init,
    .handle_call = handle_call,
    .handle_cast = handle_cast,
    .handle_info = handle_info,
    .handle_continue = handle_continue,
    .terminate = terminate,
    .format_status = format_status,
    .free_state = free_state,
};

cotp_term probe_arg(const char *action) {
  return COTP_TUPLE(h(), cotp_pid_term(cotp_self()),
                    cotp_test_parse(action));
}

cotp_pid probe_start(const char *action) {
  cotp_pid pid;
  cotp_term reason;
  cotp_assert_rc(cotp_genserver_start(&probe_cb, probe_arg(action), NULL,
                                      &pid, &reason),
                 0);
  probe_expect("init");
  return pid;
}

cotp_pid probe_start_link(const char *action) {
  cotp_pid pid;
  cotp_term reason;
  cotp_assert_rc(cotp_genserver_start_link(&probe_cb, probe_arg(action), NULL,
                                           &pid, &reason),
                 0);
  probe_expect("init");
  return pid;
}

static bool report_named(cotp_term msg, void *ctx) {
  return cotp_tuple_size(msg) == 3 &&
         cotp_tuple_get(msg, 0).w == COTP_ATOM(cb).w &&
         cotp_tuple_get(msg, 1).w == cotp_atom(ctx).w;
}

cotp_term probe_expect(const char *name) {
  cotp_term msg;
  int rc = cotp_receive_if(report_named, (void *)name, 5000, 0, &msg);
  if (rc != 0)
    cr_assert_fail("no %s callback reported", name);
  return cotp_tuple_get(msg, 2);
}

void probe_refute(const char *name, int64_t ms) {
  cotp_term msg;
  if (cotp_receive_if(report_named, (void *)name, ms, 0, &msg) == 0) {
    char *s = cotp_term_to_string(msg);
    cr_assert_fail("unexpected report %s", s ? s : "?");
  }
}

cotp_term wait_down(cotp_pid pid) {
  cotp_term ref;
  cotp_assert_rc(cotp_monitor(pid, &ref), 0);
  return cotp_test_down_of(ref, pid);
}

struct caller {
  cotp_server server;
  cotp_term request;
  int64_t timeout;
};

static void caller(void *arg) {
  struct caller c = *(struct caller *)arg;
  free(arg);
  cotp_term req = cotp_term_copy(h(), c.request);
  cotp_genserver_call(c.server, req, c.timeout);
  cotp_exit(COTP_ATOM(returned));
}

cotp_term call_exit_reason(cotp_server server, cotp_term request,
                           int64_t timeout) {
  struct caller *c = malloc(sizeof *c);
  *c = (struct caller){server, request, timeout};
  cotp_pid pid;
  cotp_term ref;
  cotp_assert_rc(cotp_spawn_monitor(caller, c, &pid, &ref), 0);
  return cotp_test_down_of(ref, pid);
}

/* --- a via module --- */

static pthread_mutex_t via_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  cotp_heap *heap;
  cotp_term name;
  cotp_pid pid;
} via_table[64];

static int via_register(void *ctx, cotp_term name, cotp_pid pid) {
  (void)ctx;
  int rc = COTP_ENOMEM;
  pthread_mutex_lock(&via_lock);
  for (int i = 0; i < 64; i++)
    if (via_table[i].heap && cotp_term_eq(via_table[i].name, name) &&
        cotp_is_alive(via_table[i].pid)) {
      rc = COTP_EEXIST;
      goto out;
    }
  for (int i = 0; i < 64; i++) {
    if (!via_table[i].heap || !cotp_is_alive(via_table[i].pid)) {
      if (!via_table[i].heap)
        via_table[i].heap = cotp_heap_new();
      via_table[i].name = cotp_term_copy(via_table[i].heap, name);
      via_table[i].pid = pid;
      rc = 0;
      break;
    }
  }
out:
  pthread_mutex_unlock(&via_lock);
  return rc;
}

static int via_unregister(void *ctx, cotp_term name) {
  (void)ctx;
  pthread_mutex_lock(&via_lock);
  for (int i = 0; i < 64; i++)
    if (via_table[i].heap && cotp_term_eq(via_table[i].name, name))
      via_table[i].pid = (cotp_pid){0};
  pthread_mutex_unlock(&via_lock);
  return 0;
}

static int via_whereis(void *ctx, cotp_term name, cotp_pid *pid) {
  (void)ctx;
  int rc = COTP_ENOTFOUND;
  pthread_mutex_lock(&via_lock);
  for (int i = 0; i < 64; i++)
    if (via_table[i].heap && cotp_term_eq(via_table[i].name, name) &&
        cotp_is_alive(via_table[i].pid)) {
      *pid = via_table[i].pid;
      rc = 0;
    }
  pthread_mutex_unlock(&via_lock);
  return rc;
}

const cotp_via test_via = {"Elixir.TestVia", NULL, via_register,
                           via_unregister, via_whereis, NULL};

/* --- log capture --- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_buf[1 << 16];
static size_t log_len;

static void capture(cotp_log_level level, const char *message, void *ctx) {
  (void)level, (void)ctx;
  pthread_mutex_lock(&log_lock);
  size_t n = strlen(message);
  if (log_len + n + 2 < sizeof log_buf) {
    memcpy(log_buf + log_len, message, n);
    log_len += n;
    log_buf[log_len++] = '\n';
    log_buf[log_len] = '\0';
  }
  pthread_mutex_unlock(&log_lock);
}

void log_capture_start(cotp_log_level level) {
  pthread_mutex_lock(&log_lock);
  log_len = 0;
  log_buf[0] = '\0';
  pthread_mutex_unlock(&log_lock);
  cotp_set_logger(capture, NULL);
  cotp_set_log_level(level);
}

const char *log_capture_text(void) {
  static char copy[sizeof log_buf];
  pthread_mutex_lock(&log_lock);
  memcpy(copy, log_buf, log_len + 1);
  pthread_mutex_unlock(&log_lock);
  return copy;
}

void log_capture_stop(void) {
  cotp_set_log_level(COTP_LOG_ERROR + 1);
  cotp_set_logger(NULL, NULL);
}
