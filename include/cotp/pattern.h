/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp/pattern.h: patterns, to match terms by structure.
 *
 * Selective receive, Registry match specs and tests match terms against
 * patterns written in Elixir's syntax:
 *
 *     {:DOWN, ^ref, :process, _, reason}
 *     {:reply, ^tag, {:ok, value}}
 *     [first | rest]
 *     %{name: name, age: age} when is_integer(age) and age >= 18
 *     {:message, m} when m in [:start, :stop]
 *
 * `_` (or `_name`) matches anything; a `name` captures the part it stands
 * for (a name used twice must match equal parts); `^name` is a pin, a value
 * given at match time; every other part must be equal (exactly: 1 does not
 * match 1.0).  A map pattern matches any map that has its keys (which must
 * be literals or pins) with matching values.  Captures are numbered in order
 * of first appearance, pins likewise, from 0.
 *
 * Guards, after `when`: and, or, not, parentheses; == != === !== < > <= >=
 * (term order); `x in [..]` and `x not in [..]` (exact equality, as Elixir's
 * `in`); is_atom is_binary is_boolean is_float is_integer is_list is_map
 * is_nil is_number is_pid is_reference is_tuple is_map_key(map, key);
 * tuple_size map_size byte_size length elem(t, i) hd tl abs.  A guard that
 * fails to evaluate (tuple_size of a list) is false, as in Elixir.
 *
 * A compiled pattern is immutable: any number of threads may match with it
 * at once.  Matching makes one pass over the term and allocates nothing;
 * captures point into the matched term.
 */
#ifndef COTP_PATTERN_H
#define COTP_PATTERN_H

#include "term.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cotp_pattern cotp_pattern;

/* At most this many distinct variable names (captures and pins) per
 * pattern. */
#define COTP_PATTERN_MAX_VARS 64

/*
 * Compiles src.  Ownership: *out is owned by the caller, freed with
 * cotp_pattern_free().  err may be NULL.
 * Returns: 0, or COTP_ESYNTAX (with the offset and what was expected in
 * err), COTP_EINVAL for NULL arguments, COTP_ESYSLIMIT (nesting over 200 or
 * more than 64 variables), COTP_ENOMEM, or a literal's error (COTP_ERANGE,
 * COTP_EATOMLEN, ...).
 */
COTP_API int cotp_pattern_compile(const char *src, cotp_pattern **out,
                                  cotp_error *err);

/*
 * The compiled pattern for src from a program-wide cache, compiling it the
 * first time.  Patterns stay cached until the program exits, so use this
 * for patterns written in the source, not for ones built from data.
 * Context: any thread; finding a cached pattern takes no lock.
 * Returns: the pattern (borrowed, never freed), or NULL with err filled as
 * cotp_pattern_compile() does.
 */
COTP_API const cotp_pattern *cotp_pattern_cached(const char *src,
                                                 cotp_error *err);

/* Frees a pattern from cotp_pattern_compile().  NULL is allowed. */
COTP_API void cotp_pattern_free(cotp_pattern *p);

/* Number of captures and of pins. */
COTP_API size_t cotp_pattern_captures(const cotp_pattern *p);
COTP_API size_t cotp_pattern_pins(const cotp_pattern *p);

/* The number of the capture or pin called name, or COTP_ENOTFOUND. */
COTP_API int cotp_pattern_capture_index(const cotp_pattern *p,
                                        const char *name);
COTP_API int cotp_pattern_pin_index(const cotp_pattern *p, const char *name);

/* The source text the pattern was compiled from. */
COTP_API const char *cotp_pattern_source(const cotp_pattern *p);

/*
 * Matches t against p.  pins holds cotp_pattern_pins(p) values (NULL when
 * there are none); captures receives cotp_pattern_captures(p) terms (NULL
 * to ignore them), written only when the match succeeds.
 * Context: any thread.  Allocates nothing.
 * Returns: true when t matches (and the guard, if any, is true).
 */
COTP_API bool cotp_match(const cotp_pattern *p, cotp_term t,
                         const cotp_term *pins, cotp_term *captures);

#ifdef __cplusplus
}
#endif

#endif
