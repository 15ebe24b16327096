/* SPDX-License-Identifier: Apache-2.0 */
/* cotp-dl's live table fits the terminal it is drawn on: a line that
 * wrapped would take two screen lines, and the redraw (up one line per
 * line written) would leave copies of the table behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "table.h"

static dl_download sample(int i) {
  static char ids[64][12];
  snprintf(ids[i], sizeof ids[i], "%d", i + 1);
  dl_download d = {0};
  d.id = ids[i];
  d.name = "a_rather_long_file_name_for_a_column.bin";
  d.status = i % 4 == 0 ? DL_ERROR : i % 4 == 1 ? DL_FINISH : DL_ACTIVE;
  d.size = 20000000;
  d.bytes_downloaded = 1000000 * (i % 20);
  d.start_time = 1000;
  d.error_reason = i % 4 == 0 ? "HTTP 404 Not Found from a server with a long name "
                                "that goes on past the edge \xc3\xa9\xc3\xa9\xc3\xa9"
                              : NULL;
  return d;
}

/* Draws n downloads at cols x rows; checks every line and returns them. */
static size_t draw(size_t n, int cols, int rows, char ***out) {
  dl_download v[64];
  for (size_t i = 0; i < n; i++)
    v[i] = sample((int)i);
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  cr_assert_not_null(f);
  int said = dl_table_print(f, v, n, 5000, cols, rows);
  fclose(f);
  char **lines = calloc(256, sizeof *lines);
  size_t k = 0;
  for (char *save, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    if (cols > 0)
      cr_assert_lt(strlen(l), (size_t)cols, "line %zu is %zu bytes for %d columns: %s", k,
                   strlen(l), cols, l);
    /* cut at a character boundary: no dangling UTF-8 lead byte */
    size_t ln = strlen(l);
    cr_assert(ln == 0 || ((unsigned char)l[ln - 1] & 0xC0) != 0xC0, "%s", l);
    lines[k++] = strdup(l);
  }
  free(text);
  cr_assert_eq((size_t)said, k, "the count returned is the lines written");
  if (rows > 0)
    cr_assert_lt(k, (size_t)rows, "%zu lines for %d rows", k, rows);
  *out = lines;
  return k;
}

static void drop(char **lines, size_t k) {
  for (size_t i = 0; i < k; i++)
    free(lines[i]);
  free(lines);
}

Test(dl_table, rows_fit_an_80_column_terminal) {
  char **l;
  size_t k = draw(8, 80, 40, &l);
  cr_assert_eq(k, 9);
  cr_assert(strstr(l[0], "PROGRESS") && strstr(l[0], "SPEED"), "%s", l[0]);
  cr_assert(strstr(l[3], "[") && strstr(l[3], "/s"), "bar and speed kept: %s", l[3]);
  cr_assert(strstr(l[1], "error    HTTP 404 Not Found"), "an error shows in 80 columns: %s", l[1]);
  drop(l, k);
}

Test(dl_table, a_narrow_terminal_loses_the_bar_before_the_numbers) {
  char **l;
  size_t k = draw(4, 75, 40, &l);
  cr_assert_null(strstr(l[0], "PROGRESS"), "%s", l[0]);
  cr_assert_not_null(strstr(l[3], "MB / 20.0 MB"), "%s", l[3]);
  drop(l, k);
  k = draw(4, 30, 40, &l); /* very narrow: only cut */
  cr_assert_eq(k, 5);
  drop(l, k);
}

Test(dl_table, more_downloads_than_rows_are_summed_up_in_one_line) {
  char **l;
  size_t k = draw(50, 100, 20, &l);
  cr_assert_eq(k, 19); /* header, 17 downloads, the rest */
  cr_assert(strncmp(l[18], "... 33 more: ", 13) == 0, "%s", l[18]);
  drop(l, k);
}

Test(dl_table, no_size_given_means_no_limit) {
  char **l;
  size_t k = draw(50, 0, 0, &l);
  cr_assert_eq(k, 51);
  cr_assert_not_null(strstr(l[1], "goes on past the edge"), "%s", l[1]);
  drop(l, k);
}
