/* SPDX-License-Identifier: Apache-2.0 */
/*
 * module_atom.h: the atom Elixir names a module by, shared by the
 * GenServer and Supervisor code.
 *
 * An alias such as "Stack" is the atom :"Elixir.Stack"; a name that has
 * the prefix already, or an Erlang module such as "gen_server", is its own
 * atom.  Every child spec of a C server carries its module's atom, so this
 * runs once per start_child: the prefix is copied, not printed (snprintf
 * was 600 instructions of a DynamicSupervisor start).
 */
#ifndef COTP_OTP_MODULE_ATOM_H
#define COTP_OTP_MODULE_ATOM_H

#include <string.h>

#include <cotp.h>

/* COTP_NONE when the name makes no atom (over 255 characters with the
 * prefix, or not UTF-8). */
static inline cotp_term cotp__module_atom(const char *name) {
  static const char prefix[] = "Elixir.";
  size_t plen = sizeof prefix - 1, n = strlen(name);
  if (name[0] < 'A' || name[0] > 'Z' ||
      (n >= plen && memcmp(name, prefix, plen) == 0))
    return cotp_atom(name);
  char buf[300];
  if (plen + n >= sizeof buf)
    return COTP_NONE; /* longer than any atom */
  memcpy(buf, prefix, plen);
  memcpy(buf + plen, name, n + 1);
  cotp_term t;
  return cotp_atom_new(buf, plen + n, &t) == 0 ? t : COTP_NONE;
}

#endif
