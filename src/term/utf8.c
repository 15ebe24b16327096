/* SPDX-License-Identifier: Apache-2.0 */
/*
 * utf8.c: the UTF-8 the term library accepts and writes.  Atom names,
 * strings in format text and charlists are UTF-8; Erlang's rules apply:
 * no overlong forms, no surrogates, nothing above U+10FFFF.
 */
#include "layout.h"

bool cotp__utf8_valid(const uint8_t *s, size_t len, size_t *chars) {
  size_t i = 0, n = 0;
  while (i < len) {
    uint8_t c = s[i];
    size_t need;
    uint32_t cp, min;
    if (c < 0x80) {
      i++;
      n++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      need = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      need = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      need = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (len - i <= need)
      return false;
    for (size_t k = 1; k <= need; k++) {
      if ((s[i + k] & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (s[i + k] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += need + 1;
    n++;
  }
  if (chars)
    *chars = n;
  return true;
}

size_t cotp__utf8_decode(const uint8_t *s, uint32_t *cp) {
  uint8_t c = s[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t need = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : 3;
  uint32_t v = c & (0x3Fu >> need);
  for (size_t k = 1; k <= need; k++)
    v = (v << 6) | (s[k] & 0x3Fu);
  *cp = v;
  return need + 1;
}

size_t cotp__utf8_encode(uint32_t cp, uint8_t out[4]) {
  if (cp < 0x80) {
    out[0] = (uint8_t)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (uint8_t)(0xC0 | (cp >> 6));
    out[1] = (uint8_t)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (uint8_t)(0xE0 | (cp >> 12));
    out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (uint8_t)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (uint8_t)(0xF0 | (cp >> 18));
  out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (uint8_t)(0x80 | (cp & 0x3F));
  return 4;
}
