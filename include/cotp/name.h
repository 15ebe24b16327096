/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp/name.h: registered names, and names kept by other modules (via).
 *
 * A process can have one registered name (an atom), and a name names one
 * process.  The name goes away when its process exits, before the
 * process's links and monitors fire, so whoever gets the EXIT or DOWN
 * finds the name free (A19, D2).  Sending to a name that is not registered
 * is an error (COTP_ENOPROC), while sending to a dead pid is not: one of
 * Erlang's documented irregularities, kept.
 *
 * A `via` module keeps names of its own (Registry, PartitionSupervisor):
 * any term as the name, its own rules.  cotp_name wraps the three kinds so
 * that the OTP behaviours accept any of them wherever Elixir takes a
 * `name:` option.
 */
#ifndef COTP_NAME_H
#define COTP_NAME_H

#include "process.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Registers pid under name (an atom).
 * Returns: 0, COTP_EEXIST (the name is taken), COTP_ENAMED (pid already has
 * a name), COTP_ENOPROC (pid is not alive), COTP_EINVAL (not an atom, or
 * the atom undefined).  Context: any thread while the runtime runs.
 */
COTP_API int cotp_register(cotp_term name, cotp_pid pid);

/* Removes a name: 0, or COTP_ENOTFOUND. */
COTP_API int cotp_unregister(cotp_term name);

/* The process registered as name: 0 with *pid set, or COTP_ENOTFOUND. */
COTP_API int cotp_whereis(cotp_term name, cotp_pid *pid);

/* The name pid is registered under (an atom), or COTP_NONE when it has
 * none or is not alive: the reverse of cotp_whereis, read from the name
 * table as it stands.  process_info(pid, registered_name) answers the same
 * for a process, ordered with the signals the asker sent it, at the cost of
 * a round trip.  Context: any thread while the runtime runs. */
COTP_API cotp_term cotp_registered_name(cotp_pid pid);

/* The list of registered names, built in heap h (NONE when out of
 * memory). */
COTP_API cotp_term cotp_registered(cotp_heap *h);

/* Sends to the process registered as name: 0, or COTP_ENOPROC when no
 * process has that name, COTP_EINVAL, COTP_ENOMEM. */
COTP_API int cotp_send_name(cotp_term name, cotp_term msg);

/* A naming module (Elixir's {:via, module, name}).  Each function gets the
 * module's ctx.  whereis answers 0 with *pid or COTP_ENOTFOUND;
 * register_name 0 or COTP_EEXIST; send may be NULL (then whereis and
 * cotp_send are used). */
typedef struct cotp_via {
  const char *name;
  void *ctx;
  int (*register_name)(void *ctx, cotp_term name, cotp_pid pid);
  int (*unregister_name)(void *ctx, cotp_term name);
  int (*whereis)(void *ctx, cotp_term name, cotp_pid *pid);
  int (*send)(void *ctx, cotp_term name, cotp_term msg);
} cotp_via;

typedef enum cotp_name_kind {
  COTP_NAME_NONE,  /* no name */
  COTP_NAME_LOCAL, /* a registered atom */
  COTP_NAME_VIA    /* a name kept by a via module */
} cotp_name_kind;

/* A name of any kind: {kind, term, via}.  The term must outlive the use. */
typedef struct cotp_name {
  cotp_name_kind kind;
  cotp_term term;
  const cotp_via *via;
} cotp_name;

#define COTP_NAME_NONE_INIT {COTP_NAME_NONE, {0}, NULL}
static inline cotp_name cotp_name_local(cotp_term atom) {
  cotp_name n = {COTP_NAME_LOCAL, atom, NULL};
  return n;
}
static inline cotp_name cotp_name_via(const cotp_via *via, cotp_term term) {
  cotp_name n = {COTP_NAME_VIA, term, via};
  return n;
}

/* Registers, looks up, unregisters and sends through a name of any kind;
 * the results are those of the functions above. */
COTP_API int cotp_name_register(const cotp_name *name, cotp_pid pid);
COTP_API int cotp_name_unregister(const cotp_name *name);
COTP_API int cotp_name_whereis(const cotp_name *name, cotp_pid *pid);
COTP_API int cotp_name_send(const cotp_name *name, cotp_term msg);

#ifdef __cplusplus
}
#endif

#endif
