/* SPDX-License-Identifier: Apache-2.0 */
/*
 * genserver_atoms.c: the atoms of the GenServer protocol, looked up once.
 *
 * cotp_atom() hashes the name on every call; a call or a cast would pay
 * that for each tag it builds or checks.  The table is filled on first use
 * by whichever thread gets there; atoms are program-wide and never change,
 * so racing fillers store the same words (relaxed atomics keep that race
 * well defined).
 */
#include <stdatomic.h>

#include "genserver_impl.h"

static const char *const names[GA_COUNT] = {
    [GA_GEN_CALL] = "$gen_call",
    [GA_GEN_CAST] = "$gen_cast",
    [GA_GEN_TIMEOUT] = "$gen_timeout",
    [GA_SYSTEM] = "system",
    [GA_GENSERVER] = "Elixir.GenServer",
    [GA_SYS] = "sys",
    [GA_GEN_SERVER] = "gen_server",
    [GA_CALLING_SELF] = "calling_self",
    [GA_BAD_RETURN] = "bad_return_value",
    [GA_UNDEF] = "undef",
    [GA_RUNTIME_ERROR] = "runtime_error",
    [GA_GET_STATE] = "get_state",
    [GA_REPLACE_STATE] = "replace_state",
    [GA_DEBUG] = "debug",
    [GA_TRACE] = "trace",
    [GA_TERMINATE] = "terminate",
    [GA_CALLBACK_FAILED] = "callback_failed",
    [GA_SYSTEM_REPLACE] = "system_replace_state",
    [GA_UNKNOWN_SYSTEM] = "unknown_system_msg",
    [GA_INIT] = "init",
    [GA_HANDLE_CONTINUE] = "handle_continue",
    [GA_ERROR] = "error",
};

static _Atomic uint64_t cache[GA_COUNT];

/* The first use of a: the atom table, kept out of line (link-time
 * optimisation inlined it, and every cached use saved five registers). */
__attribute__((noinline)) static cotp_term first_use(enum cotp__gs_atom a) {
  cotp_term t = cotp_atom(names[a]);
  atomic_store_explicit(&cache[a], t.w, memory_order_relaxed);
  return t;
}

cotp_term cotp__gs_atom(enum cotp__gs_atom a) {
  uint64_t w = atomic_load_explicit(&cache[a], memory_order_relaxed);
  return w ? (cotp_term){w} : first_use(a);
}
