/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lex.h: the tokenizer shared by format strings (format.c) and patterns
 * (pattern.c).  Both read Elixir's literal syntax, the syntax the printer
 * writes, so a printed term can be pasted back into either.
 *
 * The lexer never allocates: a token points into the source text, and
 * strings keep their escapes until the parser decodes them with
 * cotp__lex_unescape.  Errors carry the byte offset of the token.
 */
#ifndef COTP_TERM_LEX_H
#define COTP_TERM_LEX_H

#include "layout.h"

enum tok {
  T_EOF,
  T_LBRACE,    /* { */
  T_RBRACE,    /* } */
  T_LBRACKET,  /* [ */
  T_RBRACKET,  /* ] */
  T_LBIN,      /* << */
  T_RBIN,      /* >> */
  T_MAP,       /* %{ */
  T_LPAREN,    /* ( */
  T_RPAREN,    /* ) */
  T_COMMA,     /* , */
  T_PIPE,      /* | */
  T_ARROW,     /* => */
  T_CARET,     /* ^ */
  T_OP,        /* a guard operator: == != === !== < > <= >= */
  T_INT,       /* value in .i */
  T_FLOAT,     /* value in .f */
  T_ATOM,      /* :name, :"quoted", true, false, nil: text in .s/.len */
  T_ALIAS,     /* Foo.Bar: text in .s/.len, without "Elixir." */
  T_STRING,    /* "text": raw text between the quotes in .s/.len */
  T_CHARLIST,  /* 'text': raw text between the quotes */
  T_KEYWORD,   /* key: (identifier or "quoted"): text in .s/.len */
  T_IDENT,     /* a lower-case or _ identifier: variables and guard words */
  T_DIRECTIVE, /* ~x: the letter in .c */
  T_ERROR
};

struct token {
  enum tok kind;
  size_t at;        /* byte offset in the source */
  const char *s;    /* text, for the kinds that have one */
  size_t len;
  bool quoted;      /* .s holds escapes to decode (quoted atoms, keywords) */
  char c;           /* the directive letter */
  int64_t i;
  double f;
};

struct lexer {
  const char *src;
  size_t pos, len;
  struct token tok;  /* the current token */
  cotp_error *err;   /* filled on the first error */
  bool failed;
};

void cotp__lex_init(struct lexer *lx, const char *src, cotp_error *err);
/* Advances to the next token; on error the token is T_ERROR and err is
 * filled. */
void cotp__lex_next(struct lexer *lx);
/* Records an error at offset at, unless one is recorded already. */
void cotp__lex_fail(struct lexer *lx, int code, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Decodes the escapes of a quoted text into out (which has room for len
 * bytes: decoding never grows the text).  Returns the decoded length, or
 * -1 (error recorded) for a bad escape. */
long cotp__lex_unescape(struct lexer *lx, const struct token *t, uint8_t *out);

#endif
