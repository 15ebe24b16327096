/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running an example from a test.  The examples' tests compare what an
 * example prints with what its seed chapter shows; when one fails, the log
 * must say why, and CI keeps only the end of a long log, so both helpers
 * put the reason last.
 */
#ifndef COTP_TESTS_RUN_EXAMPLE_H
#define COTP_TESTS_RUN_EXAMPLE_H

/* Runs build/examples/<cmdline> (the example and its arguments), with
 * `env` (shell assignments, may be "") in front, and returns its standard
 * output in a static buffer that the next call reuses.  Fails the test if
 * it cannot run or exits with a status other than 0; the message ends with
 * what it wrote to standard error, which is otherwise dropped. */
const char *example_run(const char *env, const char *cmdline);

/* Fails the test unless `got` is `want`, ending the message with the first
 * line that differs.  `what` names the example. */
void example_expect_output(const char *what, const char *got, const char *want);

#endif
