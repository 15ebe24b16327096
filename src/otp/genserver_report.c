/* SPDX-License-Identifier: Apache-2.0 */
/*
 * genserver_report.c: what a server says about itself: the error report
 * of a server that stops abnormally, trace lines, and the terms that name
 * a missing callback.
 *
 * The report follows Elixir 1.14's, checked against `elixir` on this
 * machine:
 *
 *   GenServer #PID<0.109.0> terminating
 *   ** (stop) :oops
 *   Last message (from #PID<0.96.0>): :stop
 *   State: 1
 *   Client #PID<0.96.0> is alive
 *
 * with "bad return value: v" for {:bad_return_value, v} and
 * "(RuntimeError) text" for the default callbacks' {:runtime_error, text}.
 * Elixir adds the stack traces of the server and the client; a C process
 * has none to show.  Reports are built with open_memstream on the
 * server's stack, at most a few KB of each term: a state can be huge.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genserver_impl.h"
#include "module_atom.h"

cotp_term cotp__gs_module(const cotp_genserver_callbacks *cb) {
  cotp_term m = cotp__module_atom(cb && cb->name ? cb->name : "GenServer");
  return cotp_is_none(m) ? cotp__gs_atom(GA_GENSERVER) : m;
}

cotp_term cotp__gs_undef(const cotp_genserver_callbacks *cb,
                         enum cotp__gs_atom fun, int arity) {
  cotp_heap *h = cotp_self_heap();
  cotp_term frame = COTP_TUPLE(h, cotp__gs_module(cb), cotp__gs_atom(fun),
                               cotp_int(h, arity), COTP_NIL);
  return COTP_TUPLE(h, cotp__gs_atom(GA_UNDEF), COTP_LIST(h, frame));
}

cotp_term cotp__gs_name_term(const struct cotp__gs *s) {
  if (!s->name)
    return COTP_NONE;
  const cotp_name *n = &s->name->name;
  if (n->kind == COTP_NAME_LOCAL)
    return n->term;
  cotp_server server = {{0}, *n};
  return cotp__gs_server_term(cotp_self_heap(), server);
}

bool cotp__gs_abnormal(cotp_term reason) {
  if (reason.w == COTP_ATOM_NORMAL.w || reason.w == COTP_ATOM_SHUTDOWN.w)
    return false;
  return !(cotp_tuple_size(reason) == 2 &&
           cotp_tuple_get(reason, 0).w == COTP_ATOM_SHUTDOWN.w);
}

const char *cotp__gs_print(char *buf, size_t cap, cotp_term t) {
  if (cotp_term_print(buf, cap, t) >= cap && cap > 4)
    memcpy(buf + cap - 4, "...", 4);
  return buf;
}

struct status_args {
  struct cotp__gs *s;
  cotp_term out;
};

static void run_format_status(void *arg) {
  struct status_args *a = arg;
  a->out = a->s->cb->format_status(cotp_self_heap(), a->s->state);
}

void cotp__gs_state_text(struct cotp__gs *s, char *buf, size_t cap) {
  if (!s->cb->format_status) {
    snprintf(buf, cap, "(C state %p)", s->state);
    return;
  }
  struct status_args a = {s, COTP_NONE};
  cotp_term why;
  if (cotp_catch_exit(run_format_status, &a, &why) != 0) {
    char r[128];
    snprintf(buf, cap, "(format_status exited: %s)",
             cotp__gs_print(r, sizeof r, why));
  } else if (cotp_is_none(a.out)) {
    snprintf(buf, cap, "(format_status returned no term)");
  } else {
    cotp__gs_print(buf, cap, a.out);
  }
}

static const char *who(const struct cotp__gs *s, char *buf, size_t cap) {
  cotp_term name = cotp__gs_name_term(s);
  return cotp__gs_print(buf, cap,
                        cotp_is_none(name) ? cotp_pid_term(cotp_self()) : name);
}

void cotp__gs_trace(struct cotp__gs *s, const char *fmt, ...) {
  char text[1024], name[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  cotp_log(COTP_LOG_NOTICE, "*DBG* %s %s", who(s, name, sizeof name), text);
}

/* "** (stop) :oops", or Elixir's wording for the reasons it words. */
static void put_reason(FILE *f, cotp_term reason, char *buf, size_t cap) {
  cotp_term tag = cotp_tuple_get(reason, 0);
  if (cotp_tuple_size(reason) == 2 &&
      tag.w == cotp__gs_atom(GA_BAD_RETURN).w) {
    fprintf(f, "** (stop) bad return value: %s",
            cotp__gs_print(buf, cap, cotp_tuple_get(reason, 1)));
    return;
  }
  size_t len;
  const uint8_t *text = cotp_binary_data(cotp_tuple_get(reason, 1), &len);
  if (cotp_tuple_size(reason) == 2 &&
      tag.w == cotp__gs_atom(GA_RUNTIME_ERROR).w && text) {
    fprintf(f, "** (RuntimeError) %.*s", (int)len, (const char *)text);
    return;
  }
  fprintf(f, "** (stop) %s", cotp__gs_print(buf, cap, reason));
}

void cotp__gs_report(struct cotp__gs *s, cotp_term reason, cotp_term last,
                     const cotp_genserver_from *from) {
  if (!cotp_log_enabled(COTP_LOG_ERROR))
    return;
  /* What may wait comes before anything is malloc'ed, since a server can
   * be killed while it waits, and a killed process leaks nothing: whether
   * the client is alive is a round trip, format_status is the user's.  The
   * state's text waits in the process heap. */
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  bool client_alive = from && cotp_is_alive(from->pid);
  uint8_t *state;
  if (cotp_is_none(cotp_binary_alloc(h, 4096, &state))) {
    cotp_heap_release(h, mark);
    return;
  }
  cotp__gs_state_text(s, (char *)state, 4096);
  char *text = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&text, &size);
  if (!f) {
    cotp_heap_release(h, mark);
    return;
  }
  char *buf = malloc(4096);
  if (buf) {
    fprintf(f, "GenServer %s terminating\n", who(s, buf, 4096));
    put_reason(f, reason, buf, 4096);
    if (from) {
      char pid[64];
      fprintf(f, "\nLast message (from %s): ",
              cotp__gs_print(pid, sizeof pid, cotp_pid_term(from->pid)));
    } else {
      fputs("\nLast message: ", f);
    }
    fputs(cotp_is_none(last) ? "nil" : cotp__gs_print(buf, 4096, last), f);
    fprintf(f, "\nState: %s", (const char *)state);
    if (from)
      fprintf(f, "\nClient %s is %s",
              cotp__gs_print(buf, 4096, cotp_pid_term(from->pid)),
              client_alive ? "alive" : "dead");
    free(buf);
  }
  fclose(f);
  /* the logger is the user's and may wait too (a call to a logger
   * process): the report goes to it from the heap */
  uint8_t *line = NULL;
  if (text && !cotp_is_none(cotp_binary_alloc(h, size + 1, &line)))
    memcpy(line, text, size + 1);
  free(text);
  if (line)
    cotp_log(COTP_LOG_ERROR, "%s", (const char *)line);
  cotp_heap_release(h, mark);
}
