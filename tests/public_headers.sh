#!/usr/bin/env bash
# The installed headers (include/pressure/): the umbrella pressure.hpp includes every other
# one, and none includes an internal header of src/ ("core/x.hpp"), which is not installed.
# Usage: public_headers.sh ROOT
set -u
dir=$1/include/pressure
status=0
for header in "$dir"/*.hpp; do
  name=$(basename "$header")
  [ "$name" = pressure.hpp ] && continue
  grep -q "^#include <pressure/$name>" "$dir/pressure.hpp" ||
    { echo "public_headers: pressure.hpp does not include <pressure/$name>" >&2; status=1; }
done
# version.hpp is generated into the build's include/pressure/ and installed beside the others.
grep -q '^#include <pressure/version.hpp>' "$dir/pressure.hpp" ||
  { echo "public_headers: pressure.hpp does not include <pressure/version.hpp>" >&2; status=1; }
if grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$dir"/*.hpp; then
  echo "public_headers: the lines above include internal headers, which are not installed" >&2
  status=1
fi
[ "$status" = 0 ] && echo "public_headers: pressure.hpp includes the $(($(ls "$dir"/*.hpp | wc -l) - 1)) others and version.hpp; none includes an internal one"
exit $status
