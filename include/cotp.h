/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cotp.h: the one header users include.
 *
 * cotp brings Erlang's process model and OTP, with Elixir's Task, to C.
 * Each part of the API has a header of its own under cotp/, documented
 * function by function: what context it may be called from, who owns what,
 * and what it returns.
 *
 *   cotp/common.h    error codes, COTP_INFINITY, cotp_error
 *   cotp/term.h      terms: Erlang's data model, building, printing, hashing
 *   cotp/pattern.h   patterns with captures, pins and guards
 */
#ifndef COTP_H
#define COTP_H

#include "cotp/common.h"
#include "cotp/pattern.h"
#include "cotp/term.h"

#define COTP_VERSION_MAJOR 0
#define COTP_VERSION_MINOR 1
#define COTP_VERSION_PATCH 0

#endif
