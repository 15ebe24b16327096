/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp/match_spec.h: Erlang match specifications over cotp terms.
 *
 * A match spec is a term, a list of clauses {head, guards, body}, as ETS
 * and Registry take them:
 *
 *     [{{:"$1", :_}, [{:>, :"$1", 5}], [:"$1"]}]
 *
 * The head is a pattern: `:_` matches anything, `:"$N"` (N a decimal
 * number) binds a variable the first time and must match an equal part
 * (exact equality) after that, a tuple or list matches element by element,
 * a map matches any map that has its keys with matching values, and
 * anything else must be exactly equal.
 *
 * Guards are a list of expressions that must all be true.  The body is a
 * list of expressions; a matching clause's result is the value of the
 * last one.  Expressions are variables, `:"$_"` (the whole object), `:"$$"`
 * (the list of the head's variables, by number), `{:const, t}`, `{{a, b}}`
 * (a tuple built from expressions), lists and maps of expressions, any
 * other atom or literal as itself, and calls written {function, args...}:
 *   type tests   is_atom is_binary is_boolean is_float is_function
 *                is_integer is_list is_map is_number is_pid is_port
 *                is_reference is_tuple, is_map_key(key, map)
 *   comparison   > >= < =< == /= =:= =/=  (term order; =:= is exact)
 *   boolean      not, xor, and, or, andalso, orelse (these four take one
 *                argument or more)
 *   arithmetic   + - * div rem abs, unary - and +
 *   access       element(i, tuple) hd tl length size tuple_size map_size
 *                byte_size map_get(key, map) self
 * as in Erlang (`=<`, not `<=`).  An expression that fails to evaluate
 * (element of a list, 1 + :a) makes its guard false; in a body it gives the
 * atom :EXIT, as ETS does.
 *
 * A spec is checked when it is compiled: a malformed one (not a list of
 * 3-tuples, an unknown function or arity, a variable the head does not
 * bind) is COTP_EINVAL with a message saying which part, never a crash at
 * run time.
 *
 * A compiled spec is immutable: any number of threads may run it at once.
 */
#ifndef COTP_MATCH_SPEC_H
#define COTP_MATCH_SPEC_H

#include "term.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cotp_match_spec cotp_match_spec;

/* At most this many distinct variables per clause. */
#define COTP_MATCH_SPEC_MAX_VARS 64

/*
 * Compiles spec (a term; it is copied, so the caller's term may go).
 * Ownership: *out is owned by the caller, freed with cotp_match_spec_free.
 * err may be NULL.  Context: any thread.
 * Returns: 0; COTP_EINVAL for a malformed spec (err says what);
 * COTP_ESYSLIMIT (more than 64 variables in a clause, nesting over 200);
 * COTP_ENOMEM.
 */
COTP_API int cotp_match_spec_compile(cotp_term spec, cotp_match_spec **out,
                                     cotp_error *err);

/*
 * As cotp_match_spec_compile, for the one clause {head, guards, body}:
 * what Registry.match/4 builds from a pattern and guards.  body may be
 * COTP_NONE for [true].
 */
COTP_API int cotp_match_spec_compile_clause(cotp_term head, cotp_term guards,
                                            cotp_term body,
                                            cotp_match_spec **out,
                                            cotp_error *err);

/* Frees a compiled spec; NULL is allowed. */
COTP_API void cotp_match_spec_free(cotp_match_spec *ms);

/*
 * Runs ms on the object t: the first clause whose head matches and whose
 * guards are all true gives the result, built in h (which may be NULL when
 * the caller only wants to know whether a clause matched: then the body is
 * not evaluated).  whole is what `:"$_"` stands for; COTP_NONE means t.
 * Context: any thread.  Allocates only in h.
 * Returns: 1 with *result set (result may be NULL), 0 when no clause
 * matches, COTP_ENOMEM (h full).
 */
COTP_API int cotp_match_spec_run(const cotp_match_spec *ms, cotp_term t,
                                 cotp_term whole, cotp_heap *h,
                                 cotp_term *result);

#ifdef __cplusplus
}
#endif

#endif
