/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp/iter.h: lazy sequences of terms, the C counterpart of an Elixir
 * stream.
 *
 * An iterator is a struct with a function that produces the next element
 * when asked, and a function that lets go of what it holds.  Nothing is
 * produced before the consumer asks, so an iterator over a million inputs
 * (lines of a file, a range, the results of Task.async_stream) holds one
 * element at a time, not a million.
 *
 *     struct range { cotp_iter it; int64_t next, last; };
 *
 *     static int range_next(cotp_iter *it, cotp_heap *h, cotp_term *out) {
 *       struct range *r = (struct range *)it;
 *       if (r->next > r->last)
 *         return 0;
 *       *out = cotp_int(h, r->next++);
 *       return 1;
 *     }
 *
 *     struct range r = {{range_next, NULL, NULL}, 1, 100};
 *
 * Ownership of what is produced: next() builds the element in the heap h
 * that the consumer passes in and owns (or returns an immediate, or a term
 * borrowed from a source that outlives the iterator, such as the list a
 * list iterator walks).  The consumer may release h past the element once
 * it is done with it; the iterator keeps no pointer into h.
 *
 * Ownership of the iterator: whoever holds an iterator calls
 * cotp_iter_close() on it exactly once, whether it ran to the end or not
 * (an early stop is how a consumer halts the sequence).  close releases
 * what the iterator holds: the iterator itself when the library allocated
 * it (cotp_task_async_stream), only its resources when the caller did
 * (cotp_iter_range_init).  A function that takes an iterator as input
 * takes it over: it closes it.
 *
 * Context: an iterator is used by one process or thread at a time, with
 * no lock; iterators that start processes (Task.async_stream) must be
 * pulled from inside a process.
 */
#ifndef COTP_ITER_H
#define COTP_ITER_H

#include "term.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cotp_iter cotp_iter;

/*
 * Produces the next element into *out, built in h (the consumer's heap).
 * Returns: 1 with *out set; 0 when the sequence has ended; a negative
 * COTP_E* code on failure.  After 0 or a failure, every later call returns
 * the same.
 */
typedef int cotp_iter_next_fn(cotp_iter *it, cotp_heap *h, cotp_term *out);

/* Lets go of what the iterator holds.  NULL when there is nothing. */
typedef void cotp_iter_close_fn(cotp_iter *it);

/*
 * The iterator: the two functions and a word of state for the producer
 * to use as it likes.  A producer with more state embeds cotp_iter as the
 * first member of a struct of its own and casts (as in the example above).
 */
struct cotp_iter {
  cotp_iter_next_fn *next;
  cotp_iter_close_fn *close;
  void *state;
};

/* it->next(it, h, out).  Returns as cotp_iter_next_fn; COTP_EINVAL for a
 * NULL iterator or out. */
COTP_API int cotp_iter_next(cotp_iter *it, cotp_heap *h, cotp_term *out);

/* it->close(it), if it has one.  NULL is allowed. */
COTP_API void cotp_iter_close(cotp_iter *it);

/* --- iterators the library provides (caller-owned storage) --- */

/* The integers first, first + step, ... up to last included (down to, for
 * a negative step), as Elixir's first..last//step.  Elements are small
 * integers or, beyond 2^60, built in the consumer's heap. */
typedef struct cotp_iter_range {
  cotp_iter it;
  int64_t next, last, step;
  bool done;
} cotp_iter_range;

/* Initialises r over first..last//step and returns &r->it.  A step of 0
 * gives an empty sequence.  Close is a no-op. */
COTP_API cotp_iter *cotp_iter_range_init(cotp_iter_range *r, int64_t first,
                                         int64_t last, int64_t step);

/* The elements of a proper list, borrowed: each element is the list's
 * own term, so the list must outlive the iteration.  An improper tail
 * ends the sequence with COTP_EBADTYPE. */
typedef struct cotp_iter_list {
  cotp_iter it;
  cotp_term rest;
} cotp_iter_list;

/* Initialises l over list and returns &l->it.  Close is a no-op. */
COTP_API cotp_iter *cotp_iter_list_init(cotp_iter_list *l, cotp_term list);

#ifdef __cplusplus
}
#endif

#endif
