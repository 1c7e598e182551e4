#!/usr/bin/env bash
# Fails if a lower layer includes a higher one (DESIGN.md: data flows down, dependencies up).
set -u
root=$1
bad=0
check() {  # layer, forbidden include prefixes...
  local layer=$1; shift
  for prefix in "$@"; do
    if grep -rnE "#include [<\"]${prefix}" "$root/src/$layer" 2>/dev/null; then
      echo "layers: src/$layer must not include ${prefix}" >&2; bad=1
    fi
  done
}
check core "sys/" "watch/" "policy/" "cli/" "daemon/" "exporter/" "recorder/" "top/" "unistd.h" "fcntl.h"
check sys "watch/" "policy/" "cli/" "daemon/" "exporter/" "recorder/" "top/"
check watch "policy/" "cli/" "daemon/" "exporter/" "recorder/" "top/" "unistd.h" "fcntl.h" "sys/epoll.h" "sys/timerfd.h"
check policy "cli/" "daemon/" "exporter/" "recorder/" "top/" "unistd.h" "fcntl.h" "sys/epoll.h" "malloc.h"
# Program libraries use the library, never the CLI.
check recorder "cli/"
check top "cli/"
[ "$bad" = 0 ] && echo "layers: core -> sys -> watch -> policy -> programs respected"
exit $bad
