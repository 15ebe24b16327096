/* SPDX-License-Identifier: Apache-2.0 */
/* A program outside the tree, built against an installed cotp. */
#include <cotp.h>
#include <stdio.h>

int main(void) {
  cotp_heap *h = cotp_heap_new();
  cotp_term t = cotp_format(h, "{:ok, ~i, ~s}", 42, "installed");
  int rc = cotp_term_fprint(stdout, t);
  putchar('\n');
  cotp_heap_free(h);
  return rc;
}
