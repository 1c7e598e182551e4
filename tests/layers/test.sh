#!/usr/bin/env bash
# tests/layers.sh against trees made for it: `bad` has one of each violation, and every one must
# be reported at its file and line (a script that fails on anything would not pass); `good` has
# what is allowed (includes downward, system <sys/...> headers, an OS call in src/sys, calls named
# in comments and strings, methods called read and close, an exception with its reason).
set -u
here=$(cd "$(dirname "$0")" && pwd)
status=0

if ! out=$("$here/../layers.sh" "$here/good" 2>&1); then
  echo "layers.sh refused the good tree:" >&2
  echo "$out" >&2
  status=1
fi

out=$("$here/../layers.sh" "$here/bad" 2>&1)
rc=$?
[ "$rc" = 1 ] || { echo "layers.sh exited $rc on the bad tree, not 1" >&2; status=1; }
while IFS= read -r want; do
  [ -n "$want" ] || continue
  grep -qF -- "$want" <<<"$out" || { echo "layers.sh did not report: $want" >&2; status=1; }
done <<'EXPECTED'
src/core/internal_above.cpp:2: core includes sys/files.hpp, of layer sys
src/core/public_above.cpp:2: core includes pressure/levels.hpp, of layer policy
include/pressure/types.hpp:2: core includes pressure/reader.hpp, of layer sys
src/recorder/beside.cpp:1: recorder includes cli/common.hpp, of layer cli
src/watch/relative.cpp:1: relative or absolute include "../policy/rules.hpp"
src/policy/os.cpp:1: policy includes <unistd.h>, the OS's
src/policy/os.cpp:4: calls kill() outside src/sys
src/policy/os.cpp:5: calls open() outside src/sys
src/exporter/spawn.cpp:1: calls execvp() outside src/sys
src/gadgets/new.cpp: in no layer
include/pressure/gadget.hpp: in no layer
tests/layers.allow: 'src/exporter/spawn.cpp execvp' gives no reason
tests/layers.allow: src/recorder/beside.cpp makes none of the calls allowed for it
EXPECTED
# Nothing else: each line of the bad tree's report is one of the expected ones.
reported=$(grep -c '^layers: ' <<<"$out")
[ "$reported" = 13 ] || { echo "layers.sh reported $reported problems in the bad tree, not 13:" >&2; echo "$out" >&2; status=1; }
[ "$status" = 0 ] && echo "layers_fixtures: the bad tree's 13 violations reported, the good tree passed"
exit $status
