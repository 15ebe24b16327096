/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_pattern.c: libFuzzer harness for the pattern compiler and matcher.
 * Every text either compiles or fails with a code and a message; every
 * compiled pattern is matched (with pins bound) against a set of terms of
 * every shape, which must neither crash nor touch memory it should not.
 */
#include <stdlib.h>
#include <string.h>

#include "cotp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const subjects[] = {
    "{:ok, 1}", "{:DOWN, :ref, :process, :pid, :normal}", "[1, 2, 3 | 4]",
    "%{a: 1, b: [2], c: %{d: {}}}", "\"text\"", "<<1, 2, 3>>", "'abc'",
    "[]", "{}", "%{}", "1.5", "-7", ":atom", "[a: 1, b: 2]",
    "{{{{[[[%{x: [1]}]]]}}}}", "[{1, 2}, {3, 4}]"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  cotp_pattern *p = NULL;
  cotp_error err;
  int rc = cotp_pattern_compile(text, &p, &err);
  if (rc != 0) {
    if (p || err.code != rc || err.message[0] == '\0')
      abort();
  } else {
    cotp_heap *h = cotp_heap_new();
    cotp_term pins[COTP_PATTERN_MAX_VARS], caps[COTP_PATTERN_MAX_VARS];
    for (size_t i = 0; i < COTP_PATTERN_MAX_VARS; i++)
      pins[i] = cotp_int(h, (int64_t)i);
    for (size_t s = 0; s < sizeof subjects / sizeof *subjects; s++) {
      cotp_term t = cotp_parse(h, subjects[s]);
      if (cotp_match(p, t, pins, caps))
        for (size_t c = 0; c < cotp_pattern_captures(p); c++)
          if (cotp_is_none(caps[c]))
            abort();
    }
    cotp_heap_free(h);
    cotp_pattern_free(p);
  }
  free(text);
  return 0;
}
