#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs cotp from a build tree into a scratch prefix, then builds and
# runs a small consumer against it both ways a user would: find_package
# (shared and static) and pkg-config (shared and static).
#
#   tests/install/check.sh <build-dir>
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
want='{:ok, 42, "installed"}'

cmake --install "$build" --prefix "$work/prefix" >/dev/null
libdir=$(ls -d "$work/prefix"/lib*/ | head -1)

cmake -S "$here/consumer" -B "$work/cm" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cm" >/dev/null
[ "$(LD_LIBRARY_PATH=$libdir "$work/cm/consumer_shared")" = "$want" ]
[ "$("$work/cm/consumer_static")" = "$want" ]

export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc "$here/consumer/main.c" -o "$work/pc_shared" $(pkg-config --cflags --libs cotp)
[ "$(LD_LIBRARY_PATH=$libdir "$work/pc_shared")" = "$want" ]
cc "$here/consumer/main.c" -o "$work/pc_static" $(pkg-config --cflags cotp) \
  "$libdir/libcotp.a" $(pkg-config --static --libs-only-l cotp | sed 's/-lcotp//')
[ "$("$work/pc_static")" = "$want" ]
echo "install: find_package and pkg-config consumers, shared and static: ok"
