/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `make install` gives a working package: a consumer outside the tree
 * builds with find_package(cotp) and with pkg-config, shared and static
 * (tests/install/check.sh does the work).  Skipped in sanitizer builds,
 * whose libraries need the sanitizer runtime in every consumer.
 */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

Test(install, consumers_build_against_the_installed_package, .timeout = 120) {
#if defined(COTP_ASAN) || defined(COTP_TSAN)
  cr_skip_test("sanitizer build: the plain build runs this test");
#else
  int rc = system(COTP_SOURCE_DIR "/tests/install/check.sh " COTP_BINARY_DIR);
  cr_assert_eq(rc, 0, "tests/install/check.sh failed (exit %d)", rc);
#endif
}
