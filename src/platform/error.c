/* SPDX-License-Identifier: Apache-2.0 */
/*
 * error.c: names and messages of the COTP_E* codes, from the one table in
 * cotp/common.h so that the three can never disagree.
 */
#include "cotp/common.h"

const char *cotp_strerror(int err) {
  switch (err) {
  case COTP_OK:
    return "success";
#define MSG_(name, val, msg)                                                \
  case COTP_##name:                                                         \
    return msg;
    COTP_ERRNO_MAP(MSG_)
#undef MSG_
  default:
    return "unknown error";
  }
}

const char *cotp_err_name(int err) {
  switch (err) {
  case COTP_OK:
    return "COTP_OK";
#define NAME_(name, val, msg)                                               \
  case COTP_##name:                                                         \
    return "COTP_" #name;
    COTP_ERRNO_MAP(NAME_)
#undef NAME_
  default:
    return "COTP_UNKNOWN";
  }
}
