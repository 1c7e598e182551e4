#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds a tiny consumer against it twice:
# with find_package(pressure) and with pkg-config; then the installed `pressure serve` serves
# with the HTTP module installed beside it (found relative to the program, not in the build).
set -euo pipefail
build=$1
cxx=${2:-c++}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/pressure-install-XXXXXX)
serve_pid=
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null

echo "== installed files: version, man pages, completion, unit, configuration"
"$work/prefix/bin/pressure" --version
for want in share/man/man1/pressure.1 share/man/man5/pressure-daemon.toml.5 \
            share/bash-completion/completions/pressure share/zsh/site-functions/_pressure \
            share/fish/vendor_completions.d/pressure.fish lib/systemd/system/pressure-daemon.service \
            etc/pressure/daemon.toml share/doc/pressure/examples/daemon.toml include/pressure/version.hpp; do
  [ -f "$work/prefix/$want" ] || { echo "cmake --install did not install $want" >&2; exit 1; }
done
for page in "$work"/prefix/share/man/man*/*; do
  shown=$(MANWIDTH=80 man -l "$page")
  grep -q '^NAME' <<<"$shown" || { echo "man -l $page shows no NAME" >&2; exit 1; }
done
# The unit runs the configured prefix's program (units need absolute paths) with its configuration.
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
grep -q "^ExecStart=$prefix/bin/pressure daemon --config .*/pressure/daemon.toml\$" \
  "$work/prefix/lib/systemd/system/pressure-daemon.service" || { echo "the unit's ExecStart is not $prefix's" >&2; exit 1; }

echo "== find_package(pressure)"
cmake -S "$here/consumer" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
"$work/cmake-build/consumer" "$here/../fixtures/kernel-5.13"

echo "== pkg-config pressure"
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig:$work/prefix/lib/$(gcc -print-multiarch 2>/dev/null)/pkgconfig"
"$cxx" -std=c++20 "$here/consumer/consumer.cpp" -o "$work/pc-consumer" $(pkg-config --cflags --libs pressure)
"$work/pc-consumer" "$here/../fixtures/kernel-5.13"
echo "== installed pressure serve"
module=$(find "$work/prefix" -name pressure-http.so)
[ -n "$module" ] || { echo "pressure-http.so is not installed" >&2; exit 1; }
# Moved after installing: the program finds its module relative to itself.
mv "$work/prefix" "$work/moved"
module=${module/#$work\/prefix/$work/moved}
: >"$work/serve.log"  # there before the loop reads it, whenever the background job opens it
"$work/moved/bin/pressure" serve --no-cgroups --listen 127.0.0.1:0 2>>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 400); do  # up to 20 s on a loaded machine
  url=$(sed -nE 's|.*serving (http://[^ ]+/metrics).*|\1|p' "$work/serve.log")
  [ -n "$url" ] && break
  sleep 0.05
done
[ -n "$url" ] || { cat "$work/serve.log" >&2; echo "the installed pressure serve did not start" >&2; exit 1; }
curl -sf --max-time 10 "$url" | grep -q '^# TYPE ' || { echo "no metrics from $url" >&2; exit 1; }
mapped=$(awk '/pressure-http\.so$/ { print $6; exit }' "/proc/$serve_pid/maps")
[ "$mapped" = "$module" ] || { echo "serving mapped '$mapped', not the installed $module" >&2; exit 1; }
echo "installed pressure serve answered from $module"
echo "install_consumer: both ways built and ran, and the installed program serves"
