/* SPDX-License-Identifier: Apache-2.0 */
/*
 * task_owned.h: things a process owns across calls, freed at its exit if
 * it does not free them before (task_owned.c).
 */
#ifndef COTP_OTP_TASK_OWNED_H
#define COTP_OTP_TASK_OWNED_H

#include <cotp.h>

/* Embed in what is owned; reap frees it (after the owner stopped, on a
 * scheduler thread: memory only, no process API). */
struct cotp__owned {
  struct cotp__owned *prev, *next;
  uint64_t owner;
  void (*reap)(struct cotp__owned *o);
};

/* The calling process owns o from now on.  Returns 0, COTP_ENOMEM,
 * COTP_ENOTPROC. */
int cotp__owned_add(struct cotp__owned *o);
/* The owner lets go of o (it frees o itself). */
void cotp__owned_remove(struct cotp__owned *o);

#endif
