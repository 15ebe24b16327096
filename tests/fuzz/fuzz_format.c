/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_format.c: libFuzzer harness for the term parser (cotp_parse, the
 * engine under cotp_format).
 *
 * Beyond "no crash, no leak, no UB" it checks the properties that tie the
 * term library together, on every text that parses:
 *   - printing and parsing again gives an equal term (the printer writes
 *     what the parser reads);
 *   - a deep copy is equal, compares equal and hashes the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cotp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  cotp_heap *h = cotp_heap_new();
  cotp_term t = cotp_parse(h, text);
  if (cotp_is_none(t)) {
    if (cotp_heap_error(h) == 0 || cotp_heap_error_message(h)[0] == '\0')
      abort(); /* a failure must say why */
  } else {
    char *printed = cotp_term_to_string(t);
    cotp_heap *h2 = cotp_heap_new();
    cotp_term back = cotp_parse(h2, printed);
    if (!cotp_term_eq(t, back)) {
      fprintf(stderr, "round trip failed:\n  in:  %s\n  out: %s\n  err: %s\n",
              text, printed, cotp_heap_error_message(h2));
      abort();
    }
    cotp_term copy = cotp_term_copy(h2, t);
    if (!cotp_term_eq(copy, t) || cotp_term_compare(copy, t) != 0 ||
        cotp_term_phash2(copy) != cotp_term_phash2(t))
      abort();
    free(printed);
    cotp_heap_free(h2);
  }
  cotp_heap_free(h);
  free(text);
  return 0;
}
