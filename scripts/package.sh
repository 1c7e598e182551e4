#!/usr/bin/env bash
# Builds the Debian packages of debian/ into build-deb/: pressure (the command, the HTTP module,
# the daemon's systemd unit, /etc/pressure/daemon.toml, man pages, completion),
# libpressure-dev and python3-pressure. Then: apt install ./build-deb/pressure_*.deb
# dpkg-buildpackage writes its results beside the source, so it builds a copy of the tree in a
# fixed place (PRESSURE_DEB_WORK, default /var/tmp/pressure-deb; one build at a time), where
# ccache, when installed, finds the previous build's objects whatever folder the clone is in.
# Without tests and benchmarks, with every core. Needs scripts/deps.sh's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=${PRESSURE_DEB_WORK:-/var/tmp/pressure-deb}
mkdir -p "$(dirname "$work")"
exec 9>"$work.lock"
flock 9
rm -rf "$work"
mkdir -p "$work/pressure"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Tracked and new files, as they are in the work tree (a deleted one is left out).
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    xargs -0 cp --parents -t "$work/pressure"
else
  tar --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$work/pressure"
fi
if command -v ccache >/dev/null && [ -z "${CMAKE_CXX_COMPILER_LAUNCHER:-}" ]; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache  # CMake reads it from the environment
  # debhelper 13 gives the build a HOME of its own, inside the tree: name the user's cache.
  CCACHE_DIR=${CCACHE_DIR:-$(ccache -k cache_dir)}
  export CCACHE_DIR
fi
(cd "$work/pressure" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -b -us -uc)
rm -rf "$root/build-deb"
mkdir -p "$root/build-deb"
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$root/build-deb/"
cp "$work"/*.ddeb "$root/build-deb/" 2>/dev/null || true
rm -rf "$work"
ls -l "$root"/build-deb/*.deb
