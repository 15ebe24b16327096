/* SPDX-License-Identifier: Apache-2.0 */
/*
 * table.h: how cotp-dl shows downloads: the live table (the book's Runner
 * module, Kino's markdown table turned into terminal rows) and the plain
 * lines for a stdout that is not a terminal.
 */
#ifndef DL_TABLE_H
#define DL_TABLE_H

#include <stdio.h>

#include "download.h"

/* "1.5 MB", decimal units as the book's Sizeable shows them. */
void dl_human_bytes(char *buf, size_t cap, double bytes);

/* Bytes per second over the download's life so far; 0 before it started. */
double dl_speed(const dl_download *d, int64_t now_ms);

/* Writes the table, one line per download under a header (a failed one
 * shows its error in place of its numbers), to fit a
 * terminal of cols columns and rows lines (0: no limit): the progress bar
 * narrows, then lines are cut (a wrapped line would break the redraw),
 * and downloads past the last line are summed up in one line ("... 12
 * more: 3 active, ...").  Returns the number of lines written (to move the
 * cursor back over them). */
int dl_table_print(FILE *out, const dl_download *v, size_t n, int64_t now_ms, int cols,
                   int rows);

/* The one-line form of a download's state for plain output:
 * "[1] 4MB.bin: finish, 4.0 MB in 4.0 s (1.0 MB/s)". */
void dl_line(char *buf, size_t cap, const dl_download *d, int64_t now_ms);

#endif
