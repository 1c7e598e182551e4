#!/usr/bin/env bash
# Quick start, first command: install what is needed, build, and watch the system's pressure:
# `pressure top` on a terminal, `pressure show --interval 1` lines otherwise (piped, in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
if [ -t 0 ] && [ -t 1 ]; then
  exec build/src/cli/pressure top "$@"
fi
exec build/src/cli/pressure show --interval 1 "$@"
