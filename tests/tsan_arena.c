/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsan_arena.c: lets Criterion start under ThreadSanitizer (TSan builds
 * only).
 *
 * Criterion shares memory with its test processes through a BoxFort arena
 * that must sit at the same address in every process.  BoxFort picks that
 * address by drawing up to ten random 16 MB slots from rand_r() in
 * [0x2000'0000'0000, 0x6000'0000'0000) and keeping the first one that is
 * unmapped.  TSan reserves almost all of that range for its shadow memory,
 * so all ten draws usually fail and Criterion aborts with "Could not
 * initialize inheritable arena" (Criterion issue #274, open since 2018).
 *
 * The executable's rand_r() takes precedence over libc's for
 * libcriterion, so this one steers the draws into 0x5600'0000'0000 and up,
 * which TSan leaves to the application on x86-64 Linux.  Nothing else in
 * the test binary calls rand_r().
 */
#include <stdlib.h>

__attribute__((visibility("default"))) int rand_r(unsigned *seed) {
  /* slot 0x360000 << 24 + 0x2000'0000'0000 = 0x5600'0000'0000; then walk
   * upwards (staying below 0x5640'0000'0000) so that a taken slot is not
   * drawn again */
  *seed += 1;
  return (int)(0x360000u + (*seed % 0x400u) * 0x10u);
}
