/* SPDX-License-Identifier: Apache-2.0 */
/*
 * access.c: type tests and accessors.  None of these allocate or fail
 * loudly: asked the wrong question, they answer NONE, NULL, 0 or an error
 * code, as the header says for each.
 */
#include "layout.h"

cotp_type cotp_term_type(cotp_term t) {
  switch (TAG_OF(t)) {
  case COTP__TAG_BOXED:
    if (t.w == 0)
      return COTP_TNONE;
    switch (box_kind(t)) {
    case BOX_TUPLE:
      return COTP_TTUPLE;
    case BOX_INT64:
      return COTP_TINTEGER;
    case BOX_FLOAT:
      return COTP_TFLOAT;
    case BOX_HEAPBIN:
    case BOX_REFCBIN:
      return COTP_TBINARY;
    case BOX_MAP:
      return COTP_TMAP;
    case BOX_RESOURCE:
      return COTP_TRESOURCE;
    default:
      return COTP_TNONE;
    }
  case COTP__TAG_LIST:
    return COTP_TLIST;
  case COTP__TAG_INT:
    return COTP_TINTEGER;
  case COTP__TAG_ATOM:
    return COTP_TATOM;
  case COTP__TAG_PID:
    return COTP_TPID;
  case COTP__TAG_REF:
    return COTP_TREF;
  case COTP__TAG_NIL:
    return COTP_TNIL;
  default:
    return COTP_TNONE;
  }
}

bool cotp_is_integer(cotp_term t) {
  return TAG_OF(t) == COTP__TAG_INT || is_box_of(t, BOX_INT64);
}
bool cotp_is_float(cotp_term t) { return is_box_of(t, BOX_FLOAT); }
bool cotp_is_number(cotp_term t) {
  return cotp_is_integer(t) || cotp_is_float(t);
}
bool cotp_is_binary(cotp_term t) {
  return is_box_of(t, BOX_HEAPBIN) || is_box_of(t, BOX_REFCBIN);
}
bool cotp_is_map(cotp_term t) { return is_box_of(t, BOX_MAP); }
bool cotp_is_resource(cotp_term t) { return is_box_of(t, BOX_RESOURCE); }
bool cotp_is_boolean(cotp_term t) {
  return t.w == COTP_ATOM_TRUE.w || t.w == COTP_ATOM_FALSE.w;
}

int cotp_get_int(cotp_term t, int64_t *out) {
  if (TAG_OF(t) == COTP__TAG_INT) {
    *out = small_value(t);
    return 0;
  }
  if (is_box_of(t, BOX_INT64)) {
    memcpy(out, box_ptr(t) + 1, sizeof *out);
    return 0;
  }
  return COTP_EBADTYPE;
}


int cotp_get_float(cotp_term t, double *out) {
  if (cotp_is_float(t)) {
    *out = float_value(t);
    return 0;
  }
  int64_t i;
  if (cotp_get_int(t, &i) == 0) {
    *out = (double)i;
    return 0;
  }
  return COTP_EBADTYPE;
}


cotp_term cotp_head(cotp_term t) {
  return cotp_is_cons(t) ? (cotp_term){cons_ptr(t)[0]} : COTP_NONE;
}

cotp_term cotp_tail(cotp_term t) {
  return cotp_is_cons(t) ? (cotp_term){cons_ptr(t)[1]} : COTP_NONE;
}

int cotp_list_length(cotp_term t, size_t *out) {
  size_t n = 0;
  while (cotp_is_cons(t)) {
    n++;
    t = (cotp_term){cons_ptr(t)[1]};
  }
  if (!cotp_is_nil(t))
    return COTP_EBADTYPE;
  *out = n;
  return 0;
}

