/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sup_report.c: what a supervisor says about its children, in the words
 * of Elixir 1.14's Logger (its translation of OTP's supervisor reports),
 * checked against `elixir --erl "-logger handle_sasl_reports true"`:
 *
 *   Child :w0 of Supervisor #PID<0.103.0> (Supervisor.Default) terminated
 *   ** (exit) {:bad, 1}
 *   Pid: #PID<0.104.0>
 *   Start Call: Crashy.start_link(1)
 *   Restart: :permanent
 *   Shutdown: 5000
 *   Type: :worker
 *
 * The first line's verb is the context: "terminated" (a child exited by
 * itself), "failed to start" (a restart's start failed), "caused shutdown"
 * (the restart intensity was reached; no Pid line), "shut down abnormally"
 * (a child the supervisor stopped died of something other than what it
 * was sent), and "started" (a progress report).  The supervisor is named
 * by its registered name, or by its pid and module.
 *
 * Levels.  OTP logs these as SASL reports, which Elixir 1.14 shows only
 * with handle_sasl_reports; cotp, which has no report domains, logs the
 * failures at COTP_LOG_INFO and the progress at COTP_LOG_DEBUG, both
 * below the default threshold (COTP_LOG_NOTICE): hidden by default, as in
 * Elixir, and shown together when the threshold is lowered.  Nothing is
 * formatted when the level is off.
 *
 * Reports are built with open_memstream; each term is cut at 4 KB, as the
 * GenServer's report does (a child's arguments may be huge).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sup_impl.h"

#define TERM_MAX 4096

/* t printed as inspect/1 would, cut at TERM_MAX. */
static void put_term(FILE *f, char *buf, cotp_term t) {
  if (cotp_term_print(buf, TERM_MAX, t) >= TERM_MAX)
    memcpy(buf + TERM_MAX - 4, "...", 4);
  fputs(buf, f);
}

/* Exception.format_exit/1 for the reasons a C child can have. */
static void put_exit(FILE *f, char *buf, cotp_term r) {
  static const struct {
    const char *atom, *text;
  } words[] = {
      {"normal", "normal"},
      {"shutdown", "shutdown"},
      {"killed", "killed"},
      {"noproc", "no process: the process is not alive or there's no process "
                 "currently associated with the given name, possibly because "
                 "its application isn't started"},
      {"timeout", "time out"},
      {"calling_self", "process attempted to call itself"},
      {"noconnection", "no connection"},
  };
  if (cotp_is_atom(r))
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
      if (r.w == cotp_atom(words[i].atom).w) {
        fputs(words[i].text, f);
        return;
      }
  cotp_term tag = cotp_tuple_get(r, 0);
  size_t len;
  const uint8_t *text = cotp_binary_data(cotp_tuple_get(r, 1), &len);
  if (cotp_tuple_size(r) == 2 && tag.w == COTP_ATOM_SHUTDOWN.w) {
    fputs("shutdown: ", f);
    put_term(f, buf, cotp_tuple_get(r, 1));
  } else if (cotp_tuple_size(r) == 2 && tag.w == COTP_ATOM(runtime_error).w && text) {
    /* the default callbacks' raise, as the GenServer report words it */
    fprintf(f, "an exception was raised:\n    ** (RuntimeError) %.*s", (int)len,
            (const char *)text);
  } else {
    put_term(f, buf, r);
  }
}

/* "MySup", or "#PID<0.103.0> (Supervisor.Default)"; name is the
 * supervisor's registered name or not an atom. */
static void put_supervisor(FILE *f, char *buf, const struct sup *s,
                           cotp_term name) {
  if (cotp_is_atom(name)) {
    put_term(f, buf, name);
    return;
  }
  put_term(f, buf, cotp_pid_term(cotp_self()));
  fputs(" (", f);
  put_term(f, buf, cotp__sup_module_name(s));
  fputc(')', f);
}

/* "Crashy.start_link(1)": module.function(args) for an {m, f, args}
 * start.  A C start has no module and function of its own: a GenServer or
 * Supervisor child (cotp_genserver_start_child,
 * cotp_supervisor_start_child_fn) shows as its module's start_link, as
 * `use GenServer`'s spec says; another C function by its symbol when the
 * dynamic symbol table has it. */
static void put_start_call(FILE *f, char *buf, const struct child *c) {
  cotp_term module = c->module, function = c->function;
  const char *fname = NULL;
  if (c->cfn) {
    module = cotp_is_cons(c->modules) ? cotp_head(c->modules) : COTP_NONE;
    function = COTP_NONE;
    if ((c->cfn == cotp_genserver_start_child || c->cfn == cotp_supervisor_start_child_fn) &&
        !cotp_is_none(module)) {
      function = COTP_ATOM(start_link);
    } else {
      void *addr;
      Dl_info dl;
      memcpy(&addr, &c->cfn, sizeof addr);
      fname = dladdr(addr, &dl) && dl.dli_sname ? dl.dli_sname : "(a C function)";
    }
  }
  if (fname) {
    fputs(fname, f);
  } else {
    put_term(f, buf, module);
    fprintf(f, ".%s", cotp_atom_name(function, NULL));
  }
  /* a GenServer child's last argument is the name it registers, which
   * Elixir's start_link takes inside, not as an argument */
  size_t n = 0, shown;
  cotp_list_length(c->args, &n);
  shown = c->cfn == cotp_genserver_start_child && fname == NULL && n ? n - 1 : n;
  if (c->cfn == cotp_supervisor_start_child_fn && fname == NULL && n == 2)
    shown = 1; /* [arg, name] */
  fputc('(', f);
  size_t i = 0;
  for (cotp_term a = c->args; cotp_is_cons(a) && i < shown; a = cotp_tail(a), i++) {
    if (i)
      fputs(", ", f);
    put_term(f, buf, cotp_head(a));
  }
  fputc(')', f);
}

static void report(const struct sup *s, const struct child *c, cotp_log_level level,
                   const char *context, cotp_term reason, cotp_pid pid) {
  if (!cotp_log_enabled(level))
    return;
  /* process_info of itself acts on pending signals, a kill among them:
   * asked before anything is malloc'ed (a killed process leaks nothing) */
  cotp_term name;
  if (cotp_process_info(cotp_self(), COTP_ATOM(registered_name), &name) != 0)
    name = COTP_NONE;
  cotp_heap *h = cotp_self_heap();
  cotp_heap_mark mark = cotp_heap_mark_now(h);
  char *text = NULL, *buf = malloc(TERM_MAX);
  size_t size = 0;
  FILE *f = buf ? open_memstream(&text, &size) : NULL;
  if (!f) {
    free(buf);
    return;
  }
  fputs("Child ", f);
  put_term(f, buf, c->id);
  fputs(" of Supervisor ", f);
  put_supervisor(f, buf, s, name);
  fprintf(f, " %s", context);
  if (!cotp_is_none(reason)) {
    fputs("\n** (exit) ", f);
    put_exit(f, buf, reason);
  }
  if (pid.bits) {
    fputs("\nPid: ", f);
    put_term(f, buf, cotp_pid_term(pid));
  }
  fputs("\nStart Call: ", f);
  put_start_call(f, buf, c);
  fprintf(f, "\nRestart: :%s",
          c->restart == COTP_TRANSIENT   ? "transient"
          : c->restart == COTP_TEMPORARY ? "temporary"
                                         : "permanent");
  if (c->shutdown == COTP_INFINITY)
    fputs("\nShutdown: :infinity", f);
  else if (c->shutdown == COTP_SHUTDOWN_BRUTAL_KILL)
    fputs("\nShutdown: :brutal_kill", f);
  else
    fprintf(f, "\nShutdown: %lld", (long long)c->shutdown);
  fprintf(f, "\nType: :%s", c->type == COTP_SUPERVISOR ? "supervisor" : "worker");
  fclose(f);
  free(buf);
  /* the logger is the user's and may wait (a call to a logger process):
   * the report goes to it from the heap */
  uint8_t *line = NULL;
  if (text && !cotp_is_none(cotp_binary_alloc(h, size + 1, &line)))
    memcpy(line, text, size + 1);
  free(text);
  if (line)
    cotp_log(level, "%s", (const char *)line);
  cotp_heap_release(h, mark);
}

void cotp__sup_report_started(const struct sup *s, const struct child *c) {
  /* OTP's DynamicSupervisor does not report its children's starts */
  if (!s->dynamic)
    report(s, c, COTP_LOG_DEBUG, "started", COTP_NONE, c->pid);
}

void cotp__sup_report_terminated(const struct sup *s, const struct child *c,
                                 cotp_term reason) {
  report(s, c, COTP_LOG_INFO, "terminated", reason, c->pid);
}

void cotp__sup_report_start_error(const struct sup *s, const struct child *c,
                                  cotp_term reason) {
  /* a start that exited has the reason {:EXIT, r}; Elixir shows r */
  if (cotp_tuple_size(reason) == 2 && cotp_tuple_get(reason, 0).w == COTP_ATOM_EXIT.w)
    reason = cotp_tuple_get(reason, 1);
  report(s, c, COTP_LOG_INFO, "failed to start", reason, (cotp_pid){0});
}

void cotp__sup_report_shutdown(const struct sup *s, const struct child *c) {
  report(s, c, COTP_LOG_INFO, "caused shutdown",
         COTP_ATOM(reached_max_restart_intensity), (cotp_pid){0});
}

void cotp__sup_report_shutdown_error(const struct sup *s, const struct child *c,
                                     cotp_term reason) {
  report(s, c, COTP_LOG_INFO, "shut down abnormally", reason, c->pid);
}

void cotp__sup_report_bad_spec(const struct sup *s, cotp_log_level level,
                               const char *context, const char *text) {
  if (!cotp_log_enabled(level))
    return;
  cotp_term name;
  if (cotp_process_info(cotp_self(), COTP_ATOM(registered_name), &name) != 0)
    name = COTP_NONE;
  /* the supervisor's name into a buffer on the stack, and nothing
   * malloc'ed held while the logger runs (see report()) */
  char who[512] = "?";
  char *buf = malloc(TERM_MAX);
  FILE *f = buf ? fmemopen(who, sizeof who - 1, "w") : NULL;
  if (f) {
    put_supervisor(f, buf, s, name);
    fclose(f);
  }
  free(buf);
  cotp_log(level, "Supervisor %s %s: %s", who, context, text);
}
