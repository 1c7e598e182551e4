#!/usr/bin/env bash
# Configures and builds into DIR (default build) with any extra CMake arguments.
# Usage: scripts/build.sh [DIR] [-DOPTION=VALUE ...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
cmake --build "$dir" -- -j"$(nproc)"
