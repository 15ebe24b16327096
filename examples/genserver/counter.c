/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 3.1, "GenServer Introduction": the Counter, traced.
 *
 *   {:ok, pid} = GenServer.start(Counter, 0)
 *   :sys.trace(pid, true)
 *   :ok = GenServer.cast(pid, {:inc, 10})
 *   ...
 *   current_count = GenServer.call(pid, :get_count)
 *   send(pid, "Hi genserver!")
 *   GenServer.stop(pid, :boom)
 *
 * The state is the count itself, kept in the state pointer.  The trace
 * lines are the log's (COTP_LOG_NOTICE): this program's logger prints
 * them on stdout, where :sys.trace prints, and everything else on stderr
 * (the stop with :boom is an abnormal exit, which gets an error report).
 */
#include <cotp.h>
#include <stdio.h>
#include <string.h>

static cotp_gs_ret init(cotp_term arg, void **state) {
  int64_t n = cotp_int_value(arg);
  printf("\"init called, initial counter state: %lld\"\n", (long long)n);
  *state = (void *)(intptr_t)n;
  return cotp_gs_ok();
}

/* handle_cast({:inc, value}, state) and handle_cast({:dec, value}, state) */
static cotp_gs_ret handle_cast(cotp_term request, void **state) {
  intptr_t n = (intptr_t)*state;
  cotp_term op = cotp_tuple_get(request, 0);
  int64_t value = cotp_int_value(cotp_tuple_get(request, 1));
  if (op.w == COTP_ATOM(inc).w)
    n += value;
  else if (op.w == COTP_ATOM(dec).w)
    n -= value;
  *state = (void *)n;
  return cotp_gs_noreply();
}

/* handle_call(:get_count, _from, state) */
static cotp_gs_ret handle_call(cotp_term request, cotp_genserver_from from,
                               void **state) {
  (void)request, (void)from;
  char text[64];
  snprintf(text, sizeof text, "The count is %lld", (long long)(intptr_t)*state);
  return cotp_gs_reply(cotp_string(cotp_self_heap(), text));
}

static cotp_gs_ret handle_info(cotp_term msg, void **state) {
  (void)state;
  char text[256];
  cotp_term_print(text, sizeof text, msg);
  /* IO.inspect of an interpolated string escapes its quotes */
  printf("\"Handle info called with message ");
  for (const char *c = text; *c; c++) {
    if (*c == '"')
      putchar('\\');
    putchar(*c);
  }
  printf("\"\n");
  return cotp_gs_noreply();
}

static void terminate(cotp_term reason, void *state) {
  (void)state;
  printf("\"Genserver Terminating with reason %s...\"\n",
         cotp_atom_name(reason, NULL));
}

static cotp_term format_status(cotp_heap *h, void *state) {
  return cotp_int(h, (intptr_t)state);
}

static const cotp_genserver_callbacks counter = {
    .name = "Counter",
    .init = init,
    .handle_call = handle_call,
    .handle_cast = handle_cast,
    .handle_info = handle_info,
    .terminate = terminate,
    .format_status = format_status,
};

/* :sys.trace prints to the terminal; errors go where errors go */
static void logger(cotp_log_level level, const char *message, void *ctx) {
  (void)ctx;
  FILE *out = level == COTP_LOG_NOTICE ? stdout : stderr;
  fprintf(out, "%s\n", message);
  fflush(out);
}

static void root(void *arg) {
  (void)arg;
  cotp_set_logger(logger, NULL);
  setvbuf(stdout, NULL, _IOLBF, 0);
  cotp_heap *h = cotp_self_heap();
  printf("\"Starting Genserver\"\n");
  cotp_pid pid;
  if (cotp_genserver_start(&counter, cotp_int(h, 0), NULL, &pid, NULL) != 0)
    cotp_exit(COTP_ATOM(start_failed));
  printf("\"Genserver Started\"\n");
  cotp_server server = cotp_server_pid(pid);
  cotp_genserver_trace(server, true, COTP_GENSERVER_TIMEOUT);
  cotp_genserver_cast(server, cotp_format(h, "{:inc, 10}"));
  cotp_genserver_cast(server, cotp_format(h, "{:dec, 5}"));
  cotp_genserver_cast(server, cotp_format(h, "{:inc, 2}"));
  cotp_term count =
      cotp_genserver_call(server, COTP_ATOM(get_count), COTP_GENSERVER_TIMEOUT);
  size_t len;
  const uint8_t *text = cotp_binary_data(count, &len);
  printf("Current count = %.*s\n", (int)len, (const char *)text);
  cotp_send(pid, cotp_string(h, "Hi genserver!"));
  cotp_genserver_stop(server, COTP_ATOM(boom), COTP_INFINITY);
}

int main(void) { return cotp_run(root, NULL, NULL, NULL, NULL); }
