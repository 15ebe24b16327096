/* SPDX-License-Identifier: Apache-2.0 */
/* The README's quick start: spawn a process, send it a message, await the
 * reply. */
#include <cotp.h>
#include <stdio.h>

static void greeter(void *arg) {
  (void)arg;
  cotp_term msg;
  cotp_receive(COTP_INFINITY, &msg);              /* {from, name} */
  cotp_pid from = cotp_get_pid(cotp_tuple_get(msg, 0));
  cotp_send(from, cotp_format(cotp_self_heap(), "{:hello, ~t}",
                              cotp_tuple_get(msg, 1)));
}

static void root(void *arg) {
  (void)arg;
  cotp_pid pid;
  cotp_spawn(greeter, NULL, &pid);
  cotp_send(pid, cotp_format(cotp_self_heap(), "{~p, \"world\"}", cotp_self()));
  cotp_term reply;
  if (cotp_receive(1000, &reply) == 0)
    cotp_term_fprint(stdout, reply);                /* {:hello, "world"} */
  putchar('\n');
}

int main(void) { return cotp_run(root, NULL, NULL, NULL, NULL); }
