#!/usr/bin/env bash
# Quick start, first command: install what is needed, build, and watch the system's pressure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
exec build/src/cli/pressure show --interval 1 "$@"
