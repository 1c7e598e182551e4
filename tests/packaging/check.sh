#!/usr/bin/env bash
# The shipped daemon files: the example configuration passes `pressure daemon --check` (against
# a cgroup tree that has its targets), and the systemd unit passes `systemd-analyze verify`.
# Usage: check.sh SOURCE_DIR PRESSURE_BINARY [MAN_DIR]
# With MAN_DIR (the build's man/, with man1/ and man5/), verify also finds the unit's
# Documentation=man:... pages there; without it, that check is left out (--man=no).
set -euo pipefail
src=$1
pressure=$2
man_check=--man=no
if [ -n "${3:-}" ]; then
  export MANPATH=$3
  man_check=--man=yes
fi
work=$(mktemp -d /tmp/pressure-test-packaging-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0

# 1. The example configuration, on a copy of the fixture tree with batch.slice and user.slice.
for g in "" batch.slice user.slice; do
  mkdir -p "$work/cgroup/$g"
  cp "$src"/tests/fixtures/cgroup-tree/system.slice/*.pressure "$work/cgroup/$g/"
done
# A cgroup2 memory controller there, as on a pure cgroup2 system (the example steers memory.high).
echo max > "$work/cgroup/batch.slice/memory.high"
echo 0 > "$work/cgroup/batch.slice/memory.current"
if out=$("$pressure" --cgroup-root "$work/cgroup" daemon --check --config "$src/packaging/daemon.toml" 2>&1); then
  echo "daemon.toml: $out"
else
  echo "daemon.toml does not pass --check: $out" >&2; fail=1
fi

# 2. The unit. systemd-analyze verify checks every directive and that ExecStart can run.
if ! command -v systemd-analyze >/dev/null; then
  echo "systemd-analyze is missing (apt-get install systemd)" >&2; exit 1
fi
version=$(systemd-analyze --version | sed -nE '1s/^systemd ([0-9]+).*/\1/p')
unit="$work/pressure-daemon.service"
sed "s|/usr/bin/pressure|$pressure|" "$src/packaging/systemd/pressure-daemon.service" > "$unit"
out=$(systemd-analyze verify "$man_check" "$unit" 2>&1) || { echo "verify failed: $out" >&2; fail=1; }
if [ "$version" -ge 253 ]; then
  [ -z "$out" ] || { echo "systemd $version: verify says: $out" >&2; fail=1; }
else
  # 252 knows no notify-reload: that must be the only remark, and the shipped drop-in fixes it.
  others=$(grep -v 'Failed to parse service type, ignoring: notify-reload' <<<"$out" || true)
  [ -z "$others" ] || { echo "systemd $version: verify says: $others" >&2; fail=1; }
  dropin="$src/packaging/systemd/pressure-daemon.service.d/systemd-252.conf"
  { sed '/^Type=/d' "$unit"; } > "$work/merged.service"
  sed -n '/^\[Service\]/,$p' "$dropin" | grep -v '^\[Service\]' | grep -v '^#' > "$work/dropin-lines"
  awk -v f="$work/dropin-lines" '{print} /^\[Service\]/{while((getline l < f)>0) print l}' "$work/merged.service" > "$work/pressure-daemon-252.service"
  out=$(systemd-analyze verify "$man_check" "$work/pressure-daemon-252.service" 2>&1) || { echo "verify (252 drop-in) failed: $out" >&2; fail=1; }
  [ -z "$out" ] || { echo "systemd $version with the drop-in: $out" >&2; fail=1; }
  grep -q '^Type=notify$' "$work/pressure-daemon-252.service" || { echo "drop-in did not apply" >&2; fail=1; }
fi
# 3. The example of systemd's pressure protocol: MemoryPressureWatch= and
# MemoryPressureThresholdSec= came with systemd 254; an older verify may name only those two.
example="$work/pressure-watch-example.service"
sed "s|/usr/bin/pressure|$pressure|" "$src/packaging/systemd/examples/pressure-watch-example.service" > "$example"
out=$(systemd-analyze verify "$man_check" "$example" 2>&1) || { echo "verify (example) failed: $out" >&2; fail=1; }
if [ "$version" -lt 254 ]; then
  out=$(grep -v -E "Unknown key '(MemoryPressureWatch|MemoryPressureThresholdSec)' in section" <<<"$out" || true)
fi
[ -z "$out" ] || { echo "systemd $version: verify (example) says: $out" >&2; fail=1; }

[ "$fail" = 0 ] && echo "packaging: daemon.toml, the systemd unit and the example check out (systemd $version)"
exit $fail
