#!/usr/bin/env bash
# The build's half of the layers (cmake/layers.cmake): compiled against a layer's view, as its
# target is, an include of the layer itself or below compiles and one of a layer above does not.
# Usage: build_test.sh BUILD_DIR CXX
set -u
build=$1
cxx=$2
work=$(mktemp -d /tmp/pressure-layers-XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0
views() {  # the include path of a layer's targets: its view and those below it
  case $1 in
    core) echo "-I$build/layers/core" ;;
    sys) echo "-I$build/layers/sys $(views core)" ;;
    watch) echo "-I$build/layers/watch $(views sys)" ;;
    policy) echo "-I$build/layers/policy $(views watch)" ;;
    recorder) echo "-I$build/layers/recorder $(views policy)" ;;
    http) echo "-I$build/layers/http" ;;
  esac
}
# layer, include line, ok or refused
while read -r layer expect include; do
  [ -n "$layer" ] || continue
  printf '%s\n' "$include" >"$work/probe.cpp"
  # shellcheck disable=SC2046  # the include flags are words
  if "$cxx" -std=c++20 -fsyntax-only $(views "$layer") "$work/probe.cpp" 2>"$work/err"; then got=ok; else got=refused; fi
  if [ "$got" != "$expect" ]; then
    echo "layer $layer: '$include' was $got, expected $expect" >&2
    cat "$work/err" >&2
    status=1
  elif [ "$got" = refused ] && ! grep -q 'No such file' "$work/err"; then
    echo "layer $layer: '$include' failed for another reason than the include:" >&2
    cat "$work/err" >&2
    status=1
  fi
done <<'CASES'
core ok #include "core/number.hpp"
core ok #include <pressure/trigger.hpp>
core refused #include "sys/files.hpp"
core refused #include <pressure/reader.hpp>
core refused #include <pressure/levels.hpp>
sys ok #include "sys/files.hpp"
sys refused #include <pressure/monitor.hpp>
watch ok #include <pressure/monitor.hpp>
watch refused #include "policy/rules.hpp"
policy ok #include "policy/rules.hpp"
policy ok #include <pressure/levels.hpp>
policy refused #include "exporter/metrics.hpp"
policy refused #include <pressure/pressure.hpp>
recorder refused #include "cli/common.hpp"
http ok #include "exporter/http_request.hpp"
http refused #include "exporter/metrics.hpp"
CASES
[ "$status" = 0 ] && echo "layers_build: each view compiles its own layer and below, and refuses the layers above"
exit $status
