#!/usr/bin/env bash
# `pip install .` and `python3 -m build --wheel --no-isolation` as a user runs them, with no
# package index: the wheel holds the extension (the C++ core linked in) and the package, and in
# a fresh virtual environment the Python test suite runs against the installed copy, not the
# build tree. Both share one CMake folder (build-wheel/cmake), so the second build is a no-op.
# Usage: tests/packaging/wheel_test.sh BUILD_DIR (whose `pressure` command the tests call)
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
build=$(cd "$1" && pwd)
out=$root/build-wheel
failures=0
fail() { echo "wheel: $*" >&2; failures=$((failures + 1)); }
# ccache (when the backend finds it) then reuses a previous run's objects from another clone.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
rm -rf "$out/dist" "$out/venv"
mkdir -p "$out"
start=$SECONDS

# 1. pip install . into a fresh venv. --no-index: nothing may come from an index, the backend
# included (pyproject.toml: requires = []). The venv sees the system's packages only for pytest
# and mypy, which the tests use; its own site-packages come first.
/usr/bin/python3 -m venv --system-site-packages "$out/venv"
if ! "$out/venv/bin/pip" install --no-index --no-cache-dir --config-settings "build-dir=$out/cmake" "$root" \
    >"$out/pip.log" 2>&1; then
  tail -30 "$out/pip.log" >&2
  fail "pip install . failed"
  exit 1
fi
echo "wheel: pip install . took $((SECONDS - start)) s"

# 2. python3 -m build --wheel --no-isolation, into build-wheel/dist.
wheel_start=$SECONDS
if ! (cd "$root" && /usr/bin/python3 -m build --wheel --no-isolation --outdir "$out/dist" \
        -C "build-dir=$out/cmake" >"$out/build.log" 2>&1); then
  tail -30 "$out/build.log" >&2
  fail "python3 -m build --wheel --no-isolation failed"
fi
wheel=$(ls "$out"/dist/pressure-*.whl 2>/dev/null | head -1)
if [ -n "$wheel" ]; then
  echo "wheel: $(basename "$wheel"), $(stat -c %s "$wheel") bytes ($((SECONDS - wheel_start)) s)"
  listing=$(/usr/bin/python3 -m zipfile -l "$wheel")
  sed 's/^/  /' <<<"$listing"
  grep -q 'pressure/_native\.cpython-.*\.so' <<<"$listing" || fail "the wheel has no extension"
fi

# 3. The installed copy: imported from the venv, the version of the build, the suite against it.
cd "$out"
where=$("$out/venv/bin/python" -c 'import pressure; print(pressure.__file__)') || fail "the venv cannot import pressure"
[[ $where == "$out/venv/"* ]] || fail "the venv imports pressure from $where, not from its own site-packages"
version=$("$out/venv/bin/python" -c 'import pressure; print(pressure.__version__)')
[ "pressure $version" = "$("$build/src/cli/pressure" --version)" ] || fail "__version__ $version is not the command's"
if ! env -u PYTHONPATH PYTHONDONTWRITEBYTECODE=1 PRESSURE_BUILD_DIR="$build" PRESSURE_CLI="$build/src/cli/pressure" \
    PRESSURE_FIXTURES="$root/tests/fixtures" "$out/venv/bin/python" -m pytest -p no:cacheprovider -q "$root/python/tests"; then
  fail "the Python tests failed against the installed module"
fi
echo "wheel: $((SECONDS - start)) s in all"
[ "$failures" = 0 ]
