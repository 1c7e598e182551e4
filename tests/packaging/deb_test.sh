#!/usr/bin/env bash
# The Debian packages as a user gets them: built by scripts/package.sh, checked by lintian (no
# errors; the rest listed), installed on this machine with apt, used as installed (pressure
# --version and show, man, bash completion, the Python module from /, a find_package and a
# pkg-config consumer, systemd-analyze verify of the unit), then purged, checking that nothing
# they installed is left behind. Needs root. Usage: tests/packaging/deb_test.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
packages=(pressure libpressure-dev python3-pressure)
failures=0
fail() { echo "deb: $*" >&2; failures=$((failures + 1)); }
work=$(mktemp -d /tmp/pressure-test-deb-XXXXXX)
trap 'rm -rf "$work"' EXIT

installed() { dpkg-query -W -f='${Status}\n' "$@" 2>/dev/null | grep -c 'install ok installed'; }
# A run killed half way may have left them installed.
if [ "$(installed "${packages[@]}")" != 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${packages[@]}" >/dev/null 2>&1
fi

start=$SECONDS
# No -dbgsym packages: nothing here uses them, and they cost time.
if ! DEB_BUILD_OPTIONS="noddebs ${DEB_BUILD_OPTIONS:-}" scripts/package.sh >"$work/build.log" 2>&1; then
  tail -40 "$work/build.log" >&2
  echo "deb: scripts/package.sh failed" >&2
  exit 1
fi
echo "deb: packages built in $((SECONDS - start)) s"
debs=(build-deb/pressure_*.deb build-deb/libpressure-dev_*.deb build-deb/python3-pressure_*.deb)
for deb in "${debs[@]}"; do
  [ -f "$deb" ] || { fail "$deb was not built"; continue; }
  echo "== $deb ($(stat -c %s "$deb") bytes)"
  dpkg-deb -c "$deb" | awk '$6 !~ /\/$/ { print "  " $6 ($7 ? " " $7 " " $8 : "") }'
done
[ "$failures" = 0 ] || exit 1

# What a package must hold (from the CMake install, not from a list kept beside it).
contents() { dpkg-deb -c "$1" | awk '{ print substr($6, 2) }'; }
for want in /usr/bin/pressure /usr/share/man/man1/pressure.1.gz /usr/share/man/man5/pressure-daemon.toml.5.gz \
            /usr/share/bash-completion/completions/pressure /usr/share/zsh/vendor-completions/_pressure \
            /usr/share/fish/vendor_completions.d/pressure.fish /lib/systemd/system/pressure-daemon.service \
            /lib/systemd/system/pressure-daemon.service.d/systemd-252.conf /etc/pressure/daemon.toml; do
  contents build-deb/pressure_*.deb | grep -qxF "$want" || fail "pressure lacks $want"
done
contents build-deb/pressure_*.deb | grep -q '/pressure/pressure-http.so$' || fail "pressure lacks the HTTP module"
for want in /usr/include/pressure/pressure.hpp /usr/include/pressure/version.hpp; do
  contents build-deb/libpressure-dev_*.deb | grep -qxF "$want" || fail "libpressure-dev lacks $want"
done
for want in '/libpressure\.a$' '/cmake/pressure/pressureConfig\.cmake$' '/pkgconfig/pressure\.pc$'; do
  contents build-deb/libpressure-dev_*.deb | grep -q "$want" || fail "libpressure-dev lacks $want"
done
contents build-deb/python3-pressure_*.deb | grep -q '^/usr/lib/python3/dist-packages/pressure/_native\.cpython-.*\.so$' ||
  fail "python3-pressure lacks the extension in /usr/lib/python3/dist-packages/pressure"
dpkg-deb -f build-deb/pressure_*.deb Conffiles 2>/dev/null | grep -q '/etc/pressure/daemon.toml' ||
  { dpkg-deb -e build-deb/pressure_*.deb "$work/control" && grep -qx /etc/pressure/daemon.toml "$work/control/conffiles"; } ||
  fail "/etc/pressure/daemon.toml is not a conffile"

echo "== lintian"
lintian_start=$SECONDS
lintian --fail-on error --tag-display-limit 0 build-deb/*.changes >"$work/lintian.log" 2>&1
lintian_rc=$?
sed 's/^/  /' "$work/lintian.log"
[ "$lintian_rc" = 0 ] || fail "lintian found errors"
echo "deb: lintian: $(grep -c '^E:' "$work/lintian.log") errors, $(grep -c '^W:' "$work/lintian.log") warnings ($((SECONDS - lintian_start)) s)"

echo "== install"
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${debs[@]/#/./}" >"$work/apt.log" 2>&1; then
  cat "$work/apt.log" >&2
  fail "apt-get install of the packages failed"
  exit 1
fi
dpkg -L "${packages[@]}" | sort -u >"$work/files"
cd /  # nothing of the source tree or the build on the way
version=$(/usr/bin/pressure --version) || fail "pressure --version exited $?"
echo "deb: $version"
/usr/bin/pressure version || fail "pressure version exited $?"
/usr/bin/pressure show >"$work/show" || fail "pressure show exited $?"
grep -q '^memory *some' "$work/show" || fail "pressure show printed no memory line: $(cat "$work/show")"
/usr/bin/pressure version --json | grep -q '"http_module":{"available":true}' ||
  fail "the installed pressure does not find its HTTP module"
for page in pressure pressure-daemon.toml; do
  out=$(MANWIDTH=80 man --warnings -E UTF-8 "$page" 2>&1 >/dev/null) || fail "man $page failed"
  [ -z "$out" ] || fail "man $page warns: $out"
done
# shellcheck disable=SC2016
bash -c 'source /usr/share/bash-completion/completions/pressure && complete -p pressure' >/dev/null ||
  fail "the installed bash completion does not register"
/usr/bin/python3 -c 'import pressure; print("python3-pressure", pressure.__version__, pressure.__file__); pressure.pressure_memory()' ||
  fail "python3 cannot import the installed module"
[ "$(/usr/bin/python3 -c 'import pressure; print(pressure.__version__)')" = "${version#pressure }" ] ||
  fail "python3-pressure's __version__ is not the command's"
cmake -S "$root/tests/install/consumer" -B "$work/consumer" >/dev/null && cmake --build "$work/consumer" >/dev/null &&
  "$work/consumer/consumer" "$root/tests/fixtures/kernel-5.13" || fail "the find_package consumer failed"
# shellcheck disable=SC2046
c++ -std=c++20 "$root/tests/install/consumer/consumer.cpp" -o "$work/pc-consumer" $(pkg-config --cflags --libs pressure) &&
  "$work/pc-consumer" "$root/tests/fixtures/kernel-5.13" || fail "the pkg-config consumer failed"
# systemd 252 names the Type=notify-reload it does not know before the drop-in replaces it; that
# line is expected there, anything else is not.
out=$(systemd-analyze verify /lib/systemd/system/pressure-daemon.service 2>&1) || fail "systemd-analyze verify failed: $out"
out=$(grep -v 'Failed to parse service type, ignoring: notify-reload' <<<"$out" || true)
[ -z "$out" ] || fail "systemd-analyze verify says: $out"
if [ -d /run/systemd/system ]; then
  state=$(systemctl is-enabled pressure-daemon.service 2>/dev/null || true)
  [ "$state" = disabled ] || fail "pressure-daemon.service is '$state' after install, not disabled"
  systemctl is-active -q pressure-daemon.service && fail "pressure-daemon.service was started by the install"
fi
cd "$root"

echo "== purge"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${packages[@]}" >"$work/purge.log" 2>&1 || fail "apt-get purge failed"
[ "$(installed "${packages[@]}")" = 0 ] || fail "still installed after purge"
left=0
while IFS= read -r f; do
  # Directories other packages share (/usr/share/man, ...) stay; files of ours may not.
  if [ -e "$f" ] && [ ! -d "$f" ]; then fail "left behind: $f"; left=1; fi
done <"$work/files"
[ -e /etc/pressure ] && fail "left behind: /etc/pressure"
[ -e /usr/lib/python3/dist-packages/pressure ] && fail "left behind: /usr/lib/python3/dist-packages/pressure"
[ "$left" = 0 ] && echo "deb: purged, nothing left behind"

echo "deb: $((SECONDS - start)) s in all"
[ "$failures" = 0 ]
