#!/usr/bin/env bash
# The layers of DESIGN.md (data flows down, dependencies point up), beside the build's own check
# (each target compiles against its layer's view, cmake/layers.cmake). This catches what include
# paths cannot, in src/ and include/pressure/:
#   - an include of a layer above or beside the file's own: internal ("sys/x.hpp") or public
#     (<pressure/levels.hpp> is policy's), also between the public headers themselves;
#   - relative or absolute includes ("../sys/x.hpp"), which no include path governs;
#   - OS calls outside src/sys (the lists below), except those in ROOT/tests/layers.allow, each
#     with its reason; an exception that no longer matches anything is reported too.
# Usage: layers.sh ROOT. tests/layers_test.sh runs it on trees that must fail and pass.
set -u
root=$1
allow=$root/tests/layers.allow
bad=0
fail() { echo "layers: $*" >&2; bad=1; }

# What each folder may include: its own and the layers below it ("programs" is the umbrella
# header <pressure/pressure.hpp>, the whole API, for programs only).
library="core sys watch policy"
declare -A may=(
  [core]="core"
  [sys]="core sys"
  [watch]="core sys watch"
  [policy]="core sys watch policy"
  [exporter]="$library programs exporter"
  [recorder]="$library programs recorder"
  [top]="$library programs top"
  [daemon]="$library programs exporter daemon"
  [cli]="$library programs exporter recorder top daemon cli"
  [programs]="$library programs"
)
# The layer of each public header.
declare -A header_layer=(
  [cgroup_identity.hpp]=core [condition.hpp]=core [decay.hpp]=core [environment.hpp]=core
  [error.hpp]=core [parse.hpp]=core [selector.hpp]=core [trigger.hpp]=core [types.hpp]=core [version.hpp]=core [window.hpp]=core
  [cgroup_set.hpp]=sys [io.hpp]=sys [memory.hpp]=sys [reader.hpp]=sys
  [monitor.hpp]=watch [wait.hpp]=watch
  [admit.hpp]=policy [levels.hpp]=policy
  [pressure.hpp]=programs
)
# System headers of the OS, which the library layers above sys do not include.
os_headers="unistd.h fcntl.h malloc.h dlfcn.h spawn.h sys/epoll.h sys/timerfd.h \
sys/eventfd.h sys/signalfd.h sys/socket.h sys/wait.h sys/mman.h sys/file.h sys/syscall.h"
# OS calls: names that are also common method names count only written as ::name(...); the
# others in any unqualified form (not obj.name(), obj->name() or ns::name()).
qualified="open|openat|read|write|pread|pwrite|close|stat|lstat|fstat|rename|unlink|mkdir|rmdir|\
dup|dup2|dup3|pipe|pipe2|ioctl|mmap|munmap|fsync|readlink|socket|bind|listen|connect|accept|\
send|sendto|recv|recvfrom|signal|raise|system|fopen|statfs|fstatfs|access|faccessat"
any="kill|tgkill|pidfd_open|pidfd_send_signal|pidfd_getfd|process_mrelease|epoll_create|\
epoll_create1|epoll_ctl|epoll_wait|epoll_pwait|signalfd|timerfd_create|timerfd_settime|eventfd|\
fork|vfork|clone|clone3|execl|execlp|execle|execv|execvp|execve|execvpe|fexecve|posix_spawn|\
posix_spawnp|waitpid|waitid|wait4|sigaction|sigprocmask|pthread_sigmask|mlockall|munlockall|\
sched_setscheduler|setpriority|syscall|prctl|setrlimit|getrlimit|sysctlbyname|dlopen|dlsym|\
dlclose|malloc_trim|flock|openat2|fstatat|unlinkat|renameat|mkdirat|opendir|fdopendir|readdir|\
closedir|getdents64|accept4|inotify_init1|inotify_add_watch|sd_notify"
call_re="(^|[^A-Za-z0-9_.>:])::($qualified)[[:space:]]*\(|(^|[^A-Za-z0-9_.>:])(::)?($any)[[:space:]]*\("

# The layer a file is in: its folder under src/, or its header's layer under include/pressure/.
layer_of() {
  case $1 in
    src/*) local rest=${1#src/}; echo "${rest%%/*}" ;;
    include/pressure/*) echo "${header_layer[${1#include/pressure/}]:-}" ;;
  esac
}
allowed() {  # layer, wanted layer
  [ "$1" = "$2" ] && return 0
  [[ " ${may[$1]:-} " == *" $2 "* ]]
}

check_includes() {  # file (relative to root), its layer
  local file=$1 layer=$2 n quote target want
  while IFS=: read -r n quote target; do
    case $target in
      ../* | */../* | ./* | /*)
        fail "$file:$n: relative or absolute include \"$target\" (include \"layer/x.hpp\" or <pressure/x.hpp>)"
        continue ;;
    esac
    if [[ " core watch policy " == *" $layer "* && " $os_headers " == *" $target "* ]]; then
      fail "$file:$n: $layer includes <$target>, the OS's: only src/sys does"
      continue
    fi
    case $target in
      pressure/*) want=${header_layer[${target#pressure/}]:-}
        if [ -z "$want" ]; then
          [ -e "$root/include/$target" ] && fail "$file:$n: <$target> belongs to no layer in tests/layers.sh"
          continue
        fi ;;
      */*) want=${target%%/*}
        [ -n "${may[$want]:-}" ] || continue                     # another library's header
        [ "$want" = sys ] && [ "$quote" = "<" ] && continue       # <sys/epoll.h> and the like
        ;;
      *) continue ;;                                             # beside the file, in its folder
    esac
    allowed "$layer" "$want" || fail "$file:$n: $layer includes $target, of layer $want (it may include: ${may[$layer]})"
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include' "$root/$file" |
             sed -nE 's/^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*([<"])([^>"]+)[>"].*/\1:\2:\3/p')
}

# The allowed OS calls: "FILE CALL[,CALL...]|* REASON" per line.
declare -A allowed_calls used_calls
if [ -f "$allow" ]; then
  while read -r file calls why; do
    [[ -z $file || $file == \#* ]] && continue
    if [ -z "$why" ]; then fail "tests/layers.allow: '$file $calls' gives no reason"; continue; fi
    allowed_calls[$file]=$calls
  done <"$allow"
fi

check_calls() {  # file (relative to root)
  local file=$1 n name
  # Strings and // comments first, so neither "open(" in a message nor a comment counts.
  while IFS=: read -r n name; do
    local exception=${allowed_calls[$file]:-}
    if [ "$exception" = "*" ] || [[ ",$exception," == *",$name,"* ]]; then
      used_calls[$file]=1
    else
      fail "$file:$n: calls $name() outside src/sys (add a function to src/sys, or an exception with its reason to tests/layers.allow)"
    fi
  done < <(sed -E 's/"([^"\\]|\\.)*"/""/g; s://.*$::' "$root/$file" | grep -noE "$call_re" |
             sed -E 's/^([0-9]+):[^A-Za-z0-9_]*([A-Za-z0-9_]+)[[:space:]]*\($/\1:\2/')
}

while IFS= read -r file; do
  file=${file#"$root"/}
  layer=$(layer_of "$file")
  if [ -z "$layer" ] || [ -z "${may[$layer]:-}" ]; then
    fail "$file: in no layer (give its folder a line in tests/layers.sh, its public header a layer)"
    continue
  fi
  check_includes "$file" "$layer"
  [ "$layer" = sys ] || check_calls "$file"
done < <(find "$root/src" "$root/include/pressure" -type f \( -name '*.cpp' -o -name '*.hpp' \) | sort)

for file in "${!allowed_calls[@]}"; do
  [ -n "${used_calls[$file]:-}" ] || fail "tests/layers.allow: $file makes none of the calls allowed for it; drop the line"
done

[ "$bad" = 0 ] && echo "layers: core -> sys -> watch -> policy -> programs respected; no relative includes;" \
  "OS calls only in src/sys (exceptions in tests/layers.allow: ${#allowed_calls[@]})"
exit $bad
