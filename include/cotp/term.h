/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp/term.h: terms, Erlang's data model in C.
 *
 * Messages, exit reasons and registry keys are terms: atoms, integers,
 * floats, binaries, tuples, lists, maps, pids, references, and resources (a
 * reference-counted native pointer, local to this node).  Each type maps
 * one-to-one onto Erlang's External Term Format, so the distribution layer
 * can put any term on the wire and read it back equal.
 *
 * A cotp_term is one 64-bit word passed by value.  Atoms, pids, references,
 * [] and integers in [-2^60, 2^60) live in the word itself; everything else
 * is a pointer into a heap.
 *
 * Heaps.  Terms that need memory are built in a cotp_heap, an arena the
 * caller owns (a process will own one of its own).  Nothing is freed term by
 * term: a heap frees everything at once, or everything built after a mark.
 * A term may point into other heaps (a tuple built in heap A holding a
 * binary from heap B); it is valid while every heap it points into is.
 * Sending a term copies it into one allocation for the receiver, so nothing
 * is shared between processes except large binaries and resources, which are
 * reference counted: a heap that holds one holds a reference, and freeing
 * the heap lets it go.
 *
 * Errors while building.  A constructor that fails (bad input, no memory)
 * returns COTP_NONE and records the first error in the heap; a constructor
 * given COTP_NONE as an element returns COTP_NONE.  So a whole term can be
 * built and checked once:
 *
 *     cotp_term t = COTP_TUPLE(h, COTP_ATOM_OK, cotp_int(h, n));
 *     if (cotp_is_none(t)) puts(cotp_heap_error_message(h));
 *
 * Context: everything here may be called from any thread or process.  A
 * heap is not thread-safe: one thread or process builds in it at a time.
 * Terms are immutable, so any number of threads may read one at once.
 */
#ifndef COTP_TERM_H
#define COTP_TERM_H

#include <stdarg.h>
#include <stdio.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Values                                                                    */

typedef struct cotp_term {
  uint64_t w;
} cotp_term;

/*
 * A process identifier, a value.  Layout of bits: number (28 bits), serial
 * (20 bits), node (12 bits, 0 for this node), top four bits zero.  The
 * number is the slot of the process, the serial counts reuses of that slot,
 * so a stale pid never reaches a newer process.  Printed as
 * #PID<node.number.serial>, as Erlang does.
 */
typedef struct cotp_pid {
  uint64_t bits;
} cotp_pid;

typedef struct cotp_heap cotp_heap;
typedef struct cotp_resource cotp_resource;

/* Types, listed in Erlang's term order (number < atom < reference < pid <
 * tuple < map < [] < list < binary).  Resources sort with references. */
typedef enum cotp_type {
  COTP_TNONE = 0,
  COTP_TINTEGER,
  COTP_TFLOAT,
  COTP_TATOM,
  COTP_TREF,
  COTP_TRESOURCE,
  COTP_TPID,
  COTP_TTUPLE,
  COTP_TMAP,
  COTP_TNIL,
  COTP_TLIST,
  COTP_TBINARY
} cotp_type;

/* Word layout, public only so that the constants below are constants and
 * the accessors every message handler calls can be inline. */
#define COTP__TAG_BITS 3
#define COTP__TAG_BOXED 0u
#define COTP__TAG_LIST 1u
#define COTP__TAG_INT 2u
#define COTP__TAG_ATOM 3u
#define COTP__TAG_PID 4u
#define COTP__TAG_REF 5u
#define COTP__TAG_NIL 6u
#define COTP__IMM(tag, v) ((cotp_term){((uint64_t)(v) << COTP__TAG_BITS) | (tag)})
/* A boxed term points at a header word: its count above bit 7, and in the
 * low 7 bits the kind and the header tag (a tuple's are 0 and 7). */
#define COTP__HDR_SHIFT 7
#define COTP__HDR_TUPLE 7u

/* "No term": what a failed constructor returns.  All-zero, so a zeroed
 * cotp_term is COTP_NONE. */
#define COTP_NONE ((cotp_term){0})
/* The empty list, []. */
#define COTP_NIL ((cotp_term){COTP__TAG_NIL})

/*
 * Atoms the runtime itself uses, fixed at compile time so that they are
 * constants: COTP_ATOM_OK is the atom ok.  X(C_NAME, "text").
 */
#define COTP_ATOM_MAP(X)                                                    \
  X(FALSE, "false") X(TRUE, "true") X(NIL_, "nil") X(OK, "ok")             \
  X(ERROR, "error") X(UNDEFINED, "undefined") X(NORMAL, "normal")           \
  X(KILL, "kill") X(KILLED, "killed") X(SHUTDOWN, "shutdown")               \
  X(NOPROC, "noproc") X(NOCONNECTION, "noconnection") X(TIMEOUT, "timeout") \
  X(INFINITY, "infinity") X(EXIT, "EXIT") X(DOWN, "DOWN")                   \
  X(PROCESS, "process") X(BADARG, "badarg") X(BADARITH, "badarith")         \
  X(CALL, "call") X(CAST, "cast") X(REPLY, "reply") X(IGNORE, "ignore")     \
  X(STOP, "stop") X(NOREPLY, "noreply") X(CONTINUE, "continue")             \
  X(HIBERNATE, "hibernate") X(STACK_OVERFLOW, "stack_overflow")             \
  X(SYSTEM_LIMIT, "system_limit") X(ALREADY_STARTED, "already_started")     \
  X(VIA, "via") X(GLOBAL, "global") X(ALIAS, "alias")

enum cotp__atom_index {
#define COTP__ATOM_ENUM_(c, s) COTP__ATOM_##c,
  COTP_ATOM_MAP(COTP__ATOM_ENUM_)
#undef COTP__ATOM_ENUM_
  COTP__ATOM_PREDEFINED
};

#define COTP_ATOM_FALSE COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_FALSE)
#define COTP_ATOM_TRUE COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_TRUE)
#define COTP_ATOM_NIL COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_NIL_)
#define COTP_ATOM_OK COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_OK)
#define COTP_ATOM_ERROR COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_ERROR)
#define COTP_ATOM_UNDEFINED COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_UNDEFINED)
#define COTP_ATOM_NORMAL COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_NORMAL)
#define COTP_ATOM_KILL COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_KILL)
#define COTP_ATOM_KILLED COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_KILLED)
#define COTP_ATOM_SHUTDOWN COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_SHUTDOWN)
#define COTP_ATOM_NOPROC COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_NOPROC)
#define COTP_ATOM_NOCONNECTION COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_NOCONNECTION)
#define COTP_ATOM_TIMEOUT COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_TIMEOUT)
#define COTP_ATOM_INFINITY COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_INFINITY)
#define COTP_ATOM_EXIT COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_EXIT)
#define COTP_ATOM_DOWN COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_DOWN)
#define COTP_ATOM_PROCESS COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_PROCESS)
#define COTP_ATOM_BADARG COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_BADARG)
#define COTP_ATOM_BADARITH COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_BADARITH)
#define COTP_ATOM_CALL COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_CALL)
#define COTP_ATOM_CAST COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_CAST)
#define COTP_ATOM_REPLY COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_REPLY)
#define COTP_ATOM_IGNORE COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_IGNORE)
#define COTP_ATOM_STOP COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_STOP)
#define COTP_ATOM_NOREPLY COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_NOREPLY)
#define COTP_ATOM_CONTINUE COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_CONTINUE)
#define COTP_ATOM_HIBERNATE COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_HIBERNATE)
#define COTP_ATOM_STACK_OVERFLOW COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_STACK_OVERFLOW)
#define COTP_ATOM_SYSTEM_LIMIT COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_SYSTEM_LIMIT)
#define COTP_ATOM_ALREADY_STARTED COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_ALREADY_STARTED)
#define COTP_ATOM_VIA COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_VIA)
#define COTP_ATOM_GLOBAL COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_GLOBAL)
#define COTP_ATOM_ALIAS COTP__IMM(COTP__TAG_ATOM, COTP__ATOM_ALIAS)

/* Limits, as Erlang's. */
#define COTP_ATOM_MAX_CHARS 255     /* characters (code points) in an atom */
#define COTP_SMALL_INT_BITS 61      /* two's-complement integers this wide
                                       need no heap: [-2^60, 2^60) */
#define COTP_MAX_TUPLE_ARITY 16777215
#define COTP_REFC_BINARY_MIN 65     /* binaries this long and over are shared */

/* ------------------------------------------------------------------------ */
/* Heaps                                                                     */

/*
 * A new, empty heap.  Ownership: returns an owned heap; free it with
 * cotp_heap_free().  Returns: NULL when out of memory.
 */
COTP_API cotp_heap *cotp_heap_new(void);

/*
 * Frees every term built in the heap and lets go of the shared binaries and
 * resources they held.  Terms built in it are invalid afterwards.  NULL is
 * allowed.
 */
COTP_API void cotp_heap_free(cotp_heap *h);

/* A point in a heap's history; see cotp_heap_release(). */
typedef struct cotp_heap_mark {
  void *block;
  size_t used;
  void *offheap;
} cotp_heap_mark;

/* The current point of the heap, to release back to later. */
COTP_API cotp_heap_mark cotp_heap_mark_now(cotp_heap *h);

/*
 * Frees every term built in the heap since the mark was taken (scoped
 * allocation: take a mark, build, use, release).  Marks taken after this one
 * become invalid; the mark itself may be released again.
 */
COTP_API void cotp_heap_release(cotp_heap *h, cotp_heap_mark mark);

/* Bytes the heap holds from malloc (blocks, not counting shared binaries).
 * A heap released back to empty keeps one small block, emptied, for the
 * next allocation; cotp_heap_free gives everything back. */
COTP_API size_t cotp_heap_bytes(const cotp_heap *h);

/*
 * The first error recorded by a constructor since the heap was made or the
 * error was cleared: a COTP_E* code, 0 if none.  The message names what was
 * wrong ("map has a duplicate key: :a").
 */
COTP_API int cotp_heap_error(const cotp_heap *h);
COTP_API const char *cotp_heap_error_message(const cotp_heap *h);
COTP_API void cotp_heap_clear_error(cotp_heap *h);
/*
 * Records an error in h as a failed constructor does: code (a COTP_E*) and
 * a message made from fmt (printf's syntax, at most 191 bytes kept).  The
 * first error sticks: nothing happens if h has one already.  For functions
 * that build terms and fail on their input, so that their callers read why
 * with cotp_heap_error_message().  h may be NULL (nothing is recorded).
 */
COTP_API void cotp_heap_fail(cotp_heap *h, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------------ */
/* Building terms                                                            */
/* Each constructor returns COTP_NONE on failure, recording why in the heap.
 * Elements are borrowed: the new term points at them, it does not copy. */

/* An integer.  Integers in [-2^60, 2^60) need no heap (h may be NULL
 * then); others take 16 bytes. */
COTP_API cotp_term cotp__int_big(cotp_heap *h, int64_t v);
static inline cotp_term cotp_int(cotp_heap *h, int64_t v) {
  if (v >= -((int64_t)1 << 60) && v < ((int64_t)1 << 60))
    return COTP__IMM(COTP__TAG_INT, (uint64_t)v);
  return cotp__int_big(h, v);
}

/* An unsigned integer; COTP_ERANGE above INT64_MAX (integers are 64-bit). */
COTP_API cotp_term cotp_uint(cotp_heap *h, uint64_t v);

/* A float.  Erlang has no NaN or infinity: those give COTP_ERANGE. */
COTP_API cotp_term cotp_float(cotp_heap *h, double v);

/* true or false. */
COTP_API cotp_term cotp_bool(bool b);

/*
 * The atom with this UTF-8 name, created on first use and never freed.
 * No heap: atoms live in one table for the life of the program, and finding
 * an existing atom takes no lock.  Returns COTP_NONE for a NULL name, text
 * that is not UTF-8, or more than 255 characters; cotp_atom_new() says
 * which.
 */
COTP_API cotp_term cotp_atom(const char *name);

/* The atom named by a string literal: COTP_ATOM_STR("$gen_call").  With
 * GCC or Clang each use looks the name up once and keeps the atom (atoms
 * live as long as the program), so one in a hot loop costs a load;
 * elsewhere it is cotp_atom(str). */
#if defined(__GNUC__) && !defined(__cplusplus)
#define COTP_ATOM_STR(str)                                                  \
  (__extension__({                                                          \
    static uint64_t cotp__atom_w_;                                          \
    uint64_t cotp__w_ = __atomic_load_n(&cotp__atom_w_, __ATOMIC_RELAXED);  \
    if (!cotp__w_) {                                                        \
      cotp__w_ = cotp_atom(str).w;                                          \
      __atomic_store_n(&cotp__atom_w_, cotp__w_, __ATOMIC_RELAXED);         \
    }                                                                       \
    (cotp_term){cotp__w_};                                                  \
  }))
#else
#define COTP_ATOM_STR(str) cotp_atom(str)
#endif

/* The atom spelled like the identifier: COTP_ATOM(pong) is :pong (looked
 * up once per use, as COTP_ATOM_STR). */
#define COTP_ATOM(name) COTP_ATOM_STR(#name)

/* As cotp_atom(), for a name of len bytes, reporting errors: 0, COTP_EINVAL,
 * COTP_EUTF8, COTP_EATOMLEN or COTP_ESYSLIMIT (the table is full). */
COTP_API int cotp_atom_new(const char *name, size_t len, cotp_term *out);

/* The atom if it exists already, COTP_NONE otherwise (never creates one,
 * so untrusted text cannot fill the table). */
COTP_API cotp_term cotp_atom_existing(const char *name, size_t len);

/* Number of atoms in the table. */
COTP_API size_t cotp_atom_count(void);

/*
 * A binary holding a copy of len bytes.  Up to 64 bytes are stored inline
 * in the heap; longer ones in a shared buffer that copies of the term (and
 * sends to other processes) share instead of copying.
 */
COTP_API cotp_term cotp_binary(cotp_heap *h, const void *data, size_t len);

/* A binary of len bytes to fill in: *data points at them.  Fill it before
 * the term is copied or sent. */
COTP_API cotp_term cotp_binary_alloc(cotp_heap *h, size_t len, uint8_t **data);

/* The UTF-8 string s as a binary (Elixir's strings).  COTP_EINVAL for NULL. */
COTP_API cotp_term cotp_string(cotp_heap *h, const char *s);

/*
 * The bytes [pos, pos + len) of a binary, sharing its buffer when it is a
 * shared one (no copy).  COTP_ERANGE when the range is outside the binary.
 */
COTP_API cotp_term cotp_binary_part(cotp_heap *h, cotp_term bin, size_t pos,
                                    size_t len);

/* A tuple of n elements (n may be 0: {}). */
COTP_API cotp_term cotp_tuple(cotp_heap *h, size_t n, const cotp_term *elems);

/* [head | tail]. */
COTP_API cotp_term cotp_cons(cotp_heap *h, cotp_term head, cotp_term tail);

/* The proper list of n elements; [] for n == 0. */
COTP_API cotp_term cotp_list(cotp_heap *h, size_t n, const cotp_term *elems);

/* The list of the code points of a UTF-8 string (an Erlang string, an
 * Elixir charlist).  COTP_EUTF8 for bad text. */
COTP_API cotp_term cotp_charlist(cotp_heap *h, const char *s);

/* A map of n pairs.  COTP_EDUPKEY when two keys are equal (exactly: 1 and
 * 1.0 are different keys, as in Erlang). */
COTP_API cotp_term cotp_map(cotp_heap *h, size_t n, const cotp_term *keys,
                            const cotp_term *values);

/* The map with key set to value (added or replaced). */
COTP_API cotp_term cotp_map_put(cotp_heap *h, cotp_term map, cotp_term key,
                                cotp_term value);

/* The map without key (the same map if it had none). */
COTP_API cotp_term cotp_map_remove(cotp_heap *h, cotp_term map, cotp_term key);

/* A pid as a term; no heap. */
static inline cotp_term cotp_pid_term(cotp_pid pid) {
  return COTP__IMM(COTP__TAG_PID, pid.bits & ((1ull << 60) - 1));
}

/* A new reference, unique for the life of the program; no heap.
 * Context: any thread; takes no lock. */
COTP_API cotp_term cotp_make_ref(void);

/* The heap holds a reference to r for as long as the term lives in it. */
COTP_API cotp_term cotp_resource_term(cotp_heap *h, cotp_resource *r);

/* Tuples and lists from arguments: COTP_TUPLE(h, a, b, c). */
#define COTP_TUPLE(h, ...)                                                  \
  cotp_tuple((h), sizeof((cotp_term[]){__VA_ARGS__}) / sizeof(cotp_term),    \
             (cotp_term[]){__VA_ARGS__})
#define COTP_LIST(h, ...)                                                   \
  cotp_list((h), sizeof((cotp_term[]){__VA_ARGS__}) / sizeof(cotp_term),     \
            (cotp_term[]){__VA_ARGS__})

/* ------------------------------------------------------------------------ */
/* Building from text                                                        */

/*
 * Builds a term from text in Elixir's literal syntax, the syntax the printer
 * writes, with placeholders for C values (in the spirit of erl_interface's
 * ei_x_format):
 *
 *     cotp_format(h, "{:ok, ~i, [~a | ~t]}", 42, "name", tail)
 *
 * Literals: integers (-12, 1_000, 0xff, ?a), floats (1.5, 2.0e-3), atoms
 * (:ok, :"two words", true, false, nil, Foo.Bar), strings ("text" with
 * escapes), binaries (<<1, 2>>), charlists ('abc'), tuples, lists
 * ([a: 1] keyword lists and [h | t] improper tails), maps (%{a: 1, "k" => v}).
 *
 * Placeholders and the argument each takes:
 *   ~i int           ~l long          ~L long long      ~u unsigned long
 *   ~f double        ~a const char * (atom name)        ~s const char * (UTF-8, binary)
 *   ~b const void *, size_t (binary)  ~c const char * (charlist)
 *   ~p cotp_pid      ~t cotp_term     ~r cotp_resource *    ~~ a tilde
 *
 * Returns: the term, or COTP_NONE with COTP_ESYNTAX (and the offset in the
 * message) for malformed text, COTP_EDUPKEY, COTP_ERANGE and the other
 * constructor errors, recorded in the heap.
 */
COTP_API cotp_term cotp_format(cotp_heap *h, const char *fmt, ...);
COTP_API cotp_term cotp_vformat(cotp_heap *h, const char *fmt, va_list ap);

/* The term a text spells, with no placeholders ("~" is a syntax error). */
COTP_API cotp_term cotp_parse(cotp_heap *h, const char *text);

/* ------------------------------------------------------------------------ */
/* Inspecting terms                                                          */

/* What kind of term t is: COTP_TINTEGER for any integer, immediate or boxed,
 * COTP_TLIST for a cons cell (the empty list is COTP_TNIL), COTP_TBINARY
 * for a binary wherever its bytes live, and COTP_TNONE for COTP_NONE.  Any
 * context; reads only t. */
COTP_API cotp_type cotp_term_type(cotp_term t);

static inline bool cotp_is_none(cotp_term t) { return t.w == 0; }
static inline bool cotp_is_atom(cotp_term t) {
  return (t.w & 7u) == COTP__TAG_ATOM;
}
static inline bool cotp_is_nil(cotp_term t) { return t.w == COTP__TAG_NIL; }
static inline bool cotp_is_cons(cotp_term t) {
  return (t.w & 7u) == COTP__TAG_LIST;
}
/* [] or a cons cell (Erlang's is_list). */
static inline bool cotp_is_list(cotp_term t) {
  return cotp_is_nil(t) || cotp_is_cons(t);
}
static inline bool cotp_is_pid(cotp_term t) {
  return (t.w & 7u) == COTP__TAG_PID;
}
static inline bool cotp_is_ref(cotp_term t) {
  return (t.w & 7u) == COTP__TAG_REF;
}
COTP_API bool cotp_is_integer(cotp_term t);
COTP_API bool cotp_is_float(cotp_term t);
COTP_API bool cotp_is_number(cotp_term t);
COTP_API bool cotp_is_binary(cotp_term t);
static inline bool cotp_is_tuple(cotp_term t) {
  return (t.w & 7u) == COTP__TAG_BOXED && t.w != 0 &&
         (*(const uint64_t *)(uintptr_t)t.w & 127u) == COTP__HDR_TUPLE;
}
COTP_API bool cotp_is_map(cotp_term t);
COTP_API bool cotp_is_resource(cotp_term t);
/* true or false */
COTP_API bool cotp_is_boolean(cotp_term t);

/* Exact equality (Erlang's =:=): 1 and 1.0 differ.  This is what pattern
 * matching and map keys use. */
COTP_API bool cotp__term_eq_boxed(cotp_term a, cotp_term b);
static inline bool cotp_term_eq(cotp_term a, cotp_term b) {
  if (a.w == b.w)
    return true;
  /* immediates are canonical: equal only as the same word */
  if ((a.w & 7u) > COTP__TAG_LIST || (b.w & 7u) > COTP__TAG_LIST)
    return false;
  return cotp__term_eq_boxed(a, b);
}

/*
 * Erlang's term order: negative, zero or positive as a < b, a == b, a > b.
 * Numbers compare by value (1 == 1.0, as Erlang's ==), atoms by their text.
 */
COTP_API int cotp_term_compare(cotp_term a, cotp_term b);

/* Integer value.  Returns 0, or COTP_EBADTYPE when t is not an integer. */
COTP_API int cotp_get_int(cotp_term t, int64_t *out);
/* Float value; an integer converts.  0 or COTP_EBADTYPE. */
COTP_API int cotp_get_float(cotp_term t, double *out);
/* The integer value of t, which must be an integer (0 otherwise). */
static inline int64_t cotp_int_value(cotp_term t) {
  int64_t v = 0;
  if ((t.w & 7u) == COTP__TAG_INT)
    return (int64_t)t.w >> COTP__TAG_BITS;
  cotp_get_int(t, &v);
  return v;
}

/* An atom's UTF-8 name, NUL-terminated, valid forever.  *len may be NULL.
 * Returns NULL when t is not an atom. */
COTP_API const char *cotp_atom_name(cotp_term t, size_t *len);

/* Elements of a tuple, counted from 0.  cotp_tuple_get returns COTP_NONE
 * outside the tuple or when t is not a tuple; cotp_tuple_size returns 0. */
static inline size_t cotp_tuple_size(cotp_term t) {
  return cotp_is_tuple(t)
             ? (size_t)(*(const uint64_t *)(uintptr_t)t.w >> COTP__HDR_SHIFT)
             : 0;
}
static inline cotp_term cotp_tuple_get(cotp_term t, size_t i) {
  if (i >= cotp_tuple_size(t))
    return COTP_NONE;
  return (cotp_term){((const uint64_t *)(uintptr_t)t.w)[1 + i]};
}

/* Head and tail of a cons cell; COTP_NONE for anything else. */
COTP_API cotp_term cotp_head(cotp_term t);
COTP_API cotp_term cotp_tail(cotp_term t);

/* Length of a proper list: 0 or COTP_EBADTYPE (not a list, or improper). */
COTP_API int cotp_list_length(cotp_term t, size_t *out);

/* A binary's bytes and length, borrowed from the term; NULL when t is not
 * a binary (a binary of length 0 gives a non-NULL pointer). */
COTP_API const uint8_t *cotp_binary_data(cotp_term t, size_t *len);

/* Pairs of a map, in key order (the order of cotp_term_compare, integers
 * before floats that compare equal): size, then the i-th key and value. */
COTP_API size_t cotp_map_size(cotp_term m);
COTP_API cotp_term cotp_map_key(cotp_term m, size_t i);
COTP_API cotp_term cotp_map_value(cotp_term m, size_t i);
/* The value under key; COTP_NONE when absent or m is not a map.
 * O(log n). */
COTP_API cotp_term cotp_map_get(cotp_term m, cotp_term key);

/* The pid in a pid term; bits 0 when t is not a pid. */
static inline cotp_pid cotp_get_pid(cotp_term t) {
  return (cotp_pid){cotp_is_pid(t) ? t.w >> COTP__TAG_BITS : 0};
}

/* The resource in a resource term, borrowed (retain it to keep it past the
 * term); NULL when t is not a resource. */
COTP_API cotp_resource *cotp_get_resource(cotp_term t);

/* ------------------------------------------------------------------------ */
/* Pids                                                                      */

#define COTP_PID_NUMBER_BITS 28
#define COTP_PID_SERIAL_BITS 20
#define COTP_PID_NODE_BITS 12

/* A pid from its parts; bits beyond each part's width are dropped.  The
 * runtime makes pids; this is for the distribution layer and tests. */
COTP_API cotp_pid cotp_pid_make(uint32_t node, uint32_t number,
                                uint32_t serial);
COTP_API uint32_t cotp_pid_node(cotp_pid p);
COTP_API uint32_t cotp_pid_number(cotp_pid p);
COTP_API uint32_t cotp_pid_serial(cotp_pid p);
static inline bool cotp_pid_eq(cotp_pid a, cotp_pid b) {
  return a.bits == b.bits;
}

/* ------------------------------------------------------------------------ */
/* Resources                                                                 */

/* Called once, with the object, when the last reference goes. */
typedef void cotp_resource_dtor(void *object);

/*
 * Wraps a native object (a FILE *, a curl handle) so that terms can carry it
 * between processes of this node.  Reference counted: the caller gets one
 * reference; every heap holding a term of it holds another.
 * Ownership: returns an owned reference; release it with
 * cotp_resource_release().  dtor may be NULL.
 * Returns: NULL when out of memory, and then dtor is not called.
 */
COTP_API cotp_resource *cotp_resource_new(void *object,
                                          cotp_resource_dtor *dtor);
COTP_API void cotp_resource_retain(cotp_resource *r);
/* Drops a reference; the last one runs the destructor.  Context: any
 * thread. */
COTP_API void cotp_resource_release(cotp_resource *r);
/* The wrapped object, borrowed. */
COTP_API void *cotp_resource_object(const cotp_resource *r);

/* ------------------------------------------------------------------------ */
/* Copying, printing, hashing                                                */

/* Bytes of heap a copy of t needs (shared binaries count their handle). */
COTP_API size_t cotp_term_size(cotp_term t);

/*
 * A deep copy of t in heap dst: what sending does.  Shared binaries and
 * resources are not copied; the copy holds another reference to them.
 * Returns COTP_NONE (recorded in dst) when out of memory.
 */
COTP_API cotp_term cotp_term_copy(cotp_heap *dst, cotp_term t);

/*
 * Keeps a copy of t apart from any process: a key, a spec or a value that a
 * C structure holds on to.  The copy lives in a new heap of its own, sized
 * to the term (a three-word key takes a 64-byte block, where the first
 * copy into a cotp_heap_new() heap starts a 256-byte one); terms built in
 * that heap later get blocks as in any heap.  An immediate needs no memory:
 * *copy is t itself and *heap NULL.
 *
 * Ownership: the caller frees *heap with cotp_heap_free (NULL is allowed),
 * which also drops the references the copy holds to shared binaries and
 * resources.  Context: any thread.
 *
 * Returns: 0; COTP_EINVAL for a NULL copy or heap, or t COTP_NONE;
 * COTP_ENOMEM.  On error *copy is COTP_NONE and *heap NULL.
 */
COTP_API int cotp_term_keep(cotp_term t, cotp_term *copy, cotp_heap **heap);

/*
 * Writes t in Elixir's inspect syntax ({:ok, #PID<0.12.0>}, "text",
 * [1, 2, 3], %{a: 1}, 'abc') into buf, NUL-terminated and truncated to cap
 * bytes as snprintf does.  Returns: the length of the whole text, so a
 * return >= cap means it was truncated.
 */
COTP_API size_t cotp_term_print(char *buf, size_t cap, cotp_term t);

/* As cotp_term_print, into a new string.  Ownership: the caller frees it
 * with free().  Returns NULL when out of memory. */
COTP_API char *cotp_term_to_string(cotp_term t);

/* As cotp_term_print, to a stream.  Returns 0 or COTP_EINVAL on a write
 * error. */
COTP_API int cotp_term_fprint(FILE *out, cotp_term t);

/*
 * Erlang's erlang:phash2(t): a hash in [0, 2^27) that agrees with Erlang's
 * for integers, floats, atoms, binaries, tuples, lists and maps (checked
 * against erl in the tests).  Pids, references and resources hash by their
 * local identity, which differs from Erlang's.
 */
COTP_API uint32_t cotp_term_phash2(cotp_term t);

/* erlang:phash2(t, range): a hash in [0, range); range 0 means 2^32. */
COTP_API uint32_t cotp_term_phash2_range(cotp_term t, uint32_t range);

#ifdef __cplusplus
}
#endif

#endif
