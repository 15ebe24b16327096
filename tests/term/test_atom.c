/* SPDX-License-Identifier: Apache-2.0 */
/* Atoms: interning, predefined constants, limits, concurrent creation. */
#include <pthread.h>
#include <string.h>

#include "harness.h"

Test(atom, same_name_same_atom) {
  cotp_term a = cotp_atom("hello"), b = cotp_atom("hello");
  cr_assert(cotp_is_atom(a));
  cr_assert_eq(a.w, b.w);
  cr_assert_neq(a.w, cotp_atom("hellp").w);
  size_t len;
  cr_assert_str_eq(cotp_atom_name(a, &len), "hello");
  cr_assert_eq(len, 5);
}

Test(atom, predefined_constants_are_the_interned_atoms) {
  cr_assert_eq(cotp_atom("ok").w, COTP_ATOM_OK.w);
  cr_assert_eq(cotp_atom("EXIT").w, COTP_ATOM_EXIT.w);
  cr_assert_eq(cotp_atom("nil").w, COTP_ATOM_NIL.w);
  cr_assert_str_eq(cotp_atom_name(COTP_ATOM_DOWN, NULL), "DOWN");
  cr_assert_eq(cotp_atom("killed").w, COTP_ATOM_KILLED.w);
}

Test(atom, utf8_names_and_the_255_character_limit) {
  /* 255 two-byte characters are allowed: the limit counts characters */
  char name[2 * 256 + 1];
  for (int i = 0; i < 255; i++)
    memcpy(name + 2 * i, "\xC3\xA9", 2); /* é */
  name[2 * 255] = '\0';
  cotp_term t;
  cotp_assert_rc(cotp_atom_new(name, strlen(name), &t), 0);
  memcpy(name + 2 * 255, "\xC3\xA9", 3);
  cotp_assert_rc(cotp_atom_new(name, strlen(name), &t), COTP_EATOMLEN);
  cr_assert(cotp_is_none(cotp_atom(name)));
}

Test(atom, bad_input_is_an_error_not_a_crash) {
  cotp_term t;
  cotp_assert_rc(cotp_atom_new(NULL, 0, &t), COTP_EINVAL);
  cotp_assert_rc(cotp_atom_new("\xFF", 1, &t), COTP_EUTF8);
  cotp_assert_rc(cotp_atom_new("\xC0\x80", 2, &t), COTP_EUTF8);      /* overlong */
  cotp_assert_rc(cotp_atom_new("\xED\xA0\x80", 3, &t), COTP_EUTF8);  /* surrogate */
  cr_assert(cotp_is_none(cotp_atom(NULL)));
  /* an embedded NUL is a character like any other */
  cotp_assert_rc(cotp_atom_new("a\0b", 3, &t), 0);
  size_t len;
  cotp_atom_name(t, &len);
  cr_assert_eq(len, 3);
}

Test(atom, existing_never_creates) {
  size_t before = cotp_atom_count();
  cr_assert(cotp_is_none(cotp_atom_existing("never_made_atom_x1", 18)));
  cr_assert_eq(cotp_atom_count(), before);
  cotp_term t = cotp_atom("never_made_atom_x2");
  cr_assert_eq(cotp_atom_existing("never_made_atom_x2", 18).w, t.w);
}

Test(atom, empty_name_is_an_atom) {
  cotp_term e = cotp_atom("");
  cr_assert(cotp_is_atom(e));
  cotp_assert_prints(e, ":\"\"");
}

#define THREADS 4
#define PER_THREAD 5000

static void *make_atoms(void *arg) {
  cotp_term *out = arg;
  char name[32];
  for (int i = 0; i < PER_THREAD; i++) {
    snprintf(name, sizeof name, "race_%d", i);
    out[i] = cotp_atom(name);
  }
  return NULL;
}

/* Many threads creating the same names while the table grows: every
 * thread must get the same atom for each name. */
Test(atom, concurrent_creation_agrees) {
  static cotp_term got[THREADS][PER_THREAD];
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS; i++)
    pthread_create(&th[i], NULL, make_atoms, got[i]);
  for (int i = 0; i < THREADS; i++)
    pthread_join(th[i], NULL);
  for (int k = 0; k < PER_THREAD; k++) {
    char name[32];
    snprintf(name, sizeof name, "race_%d", k);
    for (int i = 0; i < THREADS; i++)
      cr_assert_eq(got[i][k].w, got[0][k].w);
    cr_assert_str_eq(cotp_atom_name(got[0][k], NULL), name);
  }
}
