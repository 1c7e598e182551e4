#!/usr/bin/env bash
# Configures and builds into DIR (default build) with any extra CMake arguments.
# Usage: scripts/build.sh [DIR] [-DOPTION=VALUE ...] [--target TARGET ...]
# (--target: build only those targets; default all)
# With ccache installed (scripts/deps.sh installs it) the compiler runs through it, keyed on paths
# relative to the tree, so another build folder or another clone with the same flags reuses the
# objects instead of compiling them again.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
options=() targets=()
while [ $# -gt 0 ]; do
  if [ "$1" = --target ]; then targets+=(--target "$2"); shift 2; else options+=("$1"); shift; fi
done
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$dir" -G Ninja "${launcher[@]}" "${options[@]}" >/dev/null
cmake --build "$dir" "${targets[@]}" -- -j"$(nproc)"
