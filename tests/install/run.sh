#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds a tiny consumer against it twice:
# with find_package(pressure) and with pkg-config.
set -euo pipefail
build=$1
cxx=${2:-c++}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/pressure-install-XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null

echo "== find_package(pressure)"
cmake -S "$here/consumer" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
"$work/cmake-build/consumer" "$here/../fixtures/kernel-5.13"

echo "== pkg-config pressure"
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig:$work/prefix/lib/$(gcc -print-multiarch 2>/dev/null)/pkgconfig"
"$cxx" -std=c++20 "$here/consumer/consumer.cpp" -o "$work/pc-consumer" $(pkg-config --cflags --libs pressure)
"$work/pc-consumer" "$here/../fixtures/kernel-5.13"
echo "install_consumer: both ways built and ran"
