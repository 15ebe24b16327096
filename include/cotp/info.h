/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp/info.h: what a process knows about itself and can be asked about:
 * the process dictionary, a label, cleanups that run on any exit, and
 * process_info.
 */
#ifndef COTP_INFO_H
#define COTP_INFO_H

#include "process.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- the process dictionary (Erlang's put/get/erase) --- */
/* Keys and values are copied into storage of the process's own; what these
 * functions return is copied into the caller's heap (cotp_self_heap()).
 * Context: inside a process; NONE or COTP_ENOTPROC elsewhere. */

/* Sets key to value; *old (may be NULL) gets the previous value, or
 * COTP_NONE.  Returns 0, COTP_EINVAL, COTP_ENOMEM, COTP_ENOTPROC. */
COTP_API int cotp_dict_put(cotp_term key, cotp_term value, cotp_term *old);
/* Sets n keys at once, as n cotp_dict_put calls in order would (a key
 * given twice keeps its last value): kv[2 * i] is a key, kv[2 * i + 1]
 * its value.  Cheaper than the calls: one copy of all the terms, one
 * growth of the table.  All or nothing: on COTP_EINVAL (kv NULL with n
 * not 0, or a key or value COTP_NONE) or COTP_ENOMEM the dictionary is
 * unchanged.  Returns 0, COTP_EINVAL, COTP_ENOMEM, COTP_ENOTPROC. */
COTP_API int cotp_dict_put_many(const cotp_term *kv, size_t n);
/* For cotp's own layers (a Task's lineage): the same as
 * cotp_dict_put_many of the pairs in `pairs`, a tuple {k1, v1, k2, v2...}
 * with distinct keys, but while the dictionary is empty the pairs are not
 * copied: the dictionary reads them where they are until the process
 * first changes it.  So they must stay valid in the calling process's own
 * heap (cotp_self_heap()) for as long as it lives: built before any mark
 * it will release to, and never released.  COTP_EINVAL for anything but
 * such a tuple; otherwise as cotp_dict_put_many. */
COTP_API int cotp__dict_lend(cotp_term pairs);
/* The same, later: make(h, src) builds such a tuple of pairs in h, and
 * the dictionary calls it when it is first used (read or changed, by the
 * process or by process_info), to copy the pairs into the dictionary.  So
 * src must stay valid in the calling process's own heap as long as it
 * lives, as for cotp__dict_lend, and make must not call the runtime.
 * One maker is lent lazily per program (the first one lent); another, or
 * a dictionary already in use, gets its pairs made and put at once.
 * COTP_EINVAL for a NULL make or a COTP_NONE src, or pairs that are not
 * such a tuple; otherwise as cotp_dict_put_many. */
typedef cotp_term cotp__dict_maker(cotp_heap *h, cotp_term src);
COTP_API int cotp__dict_lend_lazy(cotp_term src, cotp__dict_maker *make);
/* The value of key, or COTP_NONE. */
COTP_API cotp_term cotp_dict_get(cotp_term key);
/* Removes key; *old gets its value or COTP_NONE.  Returns 0, COTP_ENOTPROC,
 * or COTP_ENOMEM when pairs lent to the dictionary (cotp__dict_lend) could
 * not be copied out first (nothing is removed then). */
COTP_API int cotp_dict_erase(cotp_term key, cotp_term *old);
/* All keys; the keys whose value equals value (Erlang's get_keys/1); all
 * {key, value} pairs.  Lists in the caller's heap. */
COTP_API cotp_term cotp_dict_keys(void);
COTP_API cotp_term cotp_dict_keys_of(cotp_term value);
COTP_API cotp_term cotp_dict_all(void);

/* Sets the caller's label (any term; shown in crash reports and
 * process_info).  Returns 0, COTP_EINVAL, COTP_ENOMEM, COTP_ENOTPROC. */
COTP_API int cotp_set_label(cotp_term label);

/*
 * Registers fn(arg) to run when the calling process exits, for any reason,
 * kill included: the way to give back what C code holds (memory that is
 * not in the process's heap, file descriptors).  Cleanups run newest
 * first, after the process has stopped, on a scheduler thread: they must
 * not block nor call the process API.
 * Returns 0, COTP_EINVAL, COTP_ENOMEM, COTP_ENOTPROC.
 */
COTP_API int cotp_on_exit(void (*fn)(void *arg), void *arg);

/*
 * Erlang's process_info(pid, item) for item an atom, or a list of atoms
 * (then a keyword list): status, message_queue_len, messages, links,
 * monitors, monitored_by, trap_exit, priority, reductions, memory,
 * registered_name ([] when none), label, dictionary, current_function,
 * initial_call, heap_size, alive, backtrace (the caller's own frames as
 * strings; for another process only its entry function, since a parked
 * process's frames may be copied out of any stack).  current_function is
 * the process's entry function: C frames are not tracked.  The answer is in the caller's heap.
 * Asked of another process, the question is a signal, answered after every
 * signal the caller sent it before: a process with an exit pending looks
 * dead (A20).  A process that does not run (a hog, one in a blocking call)
 * answers late.
 * Context: inside a process (or any thread, for the caller itself).
 * Returns: 0; COTP_ENOPROC with *out = nil for a dead process (A24);
 * COTP_EINVAL for an unknown item; COTP_ENOTPROC.
 */
COTP_API int cotp_process_info(cotp_pid pid, cotp_term item, cotp_term *out);

#ifdef __cplusplus
}
#endif

#endif
