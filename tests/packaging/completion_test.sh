#!/usr/bin/env bash
# The shell completions as a user's shell loads them: bash's by `complete -p` and by calling the
# function it names the way readline does, checked against the program's own --help (every
# command, every flag), and the values it offers (modes, resources, some|full, cgroup paths
# under --cgroup-root, pids, files). zsh's and fish's files are parsed by their shells.
# Usage: completion_test.sh PRESSURE_BINARY COMPLETION_DIR
set -uo pipefail
binary=$1 dir=$2
failures=0
fail() { echo "completion: $*" >&2; failures=$((failures + 1)); }

# shellcheck source=/dev/null
source "$dir/pressure.bash" || { echo "completion: cannot source $dir/pressure.bash" >&2; exit 1; }
spec=$(complete -p pressure 2>/dev/null) || fail "complete -p pressure: no completion registered"
[[ $spec == *"-F _pressure"* ]] || fail "complete -p pressure says '$spec', not -F _pressure"
function=${spec##*-F }
function=${function%% *}

# Completes the last word of a command line as readline would: prints one candidate a line.
complete_line() {
  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  COMP_LINE="$*"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  "$function" pressure "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  printf '%s\n' "${COMPREPLY[@]}" | sort -u
}

# The flags a --help lists: the start of its option lines ("  -o,--output FILE.svg ...").
help_flags() {
  "$binary" "$@" --help | grep -oE '^ *(-[a-zA-Z], *)?--[a-z][a-z0-9-]*' | tr ',' '\n' | tr -d ' ' | grep -vx -- -h | sort -u
}

expect() {  # description, expected (lines), actual (lines), in any order
  if [[ "$(sort <<<"$2")" != "$(sort <<<"$3")" ]]; then
    fail "$1: expected [$(echo "$2" | tr '\n' ' ')] got [$(echo "$3" | tr '\n' ' ')]"
  fi
}

commands=$("$binary" --help | sed -n '/^subcommands:/I,$p' | grep -oE '^  [a-z][a-z-]*' | tr -d ' ' | sort -u)
[[ -n $commands ]] || fail "found no commands in pressure --help"
offered=$(complete_line pressure "" | grep -v '^-')
expect "commands" "$commands" "$offered"
expect "global flags" "$(help_flags)" "$(complete_line pressure -)"
for command in $commands; do
  expect "flags of $command" "$(help_flags "$command")" "$(complete_line pressure "$command" -)"
done
# Global flags before the command do not hide it.
expect "flags after --proc-root DIR" "$(help_flags show)" "$(complete_line pressure --proc-root /proc show -)"

expect "--mode" "$(printf '%s\n' auto kernel polling)" "$(complete_line pressure watch --mode "")"
expect "--log-format" "$(printf '%s\n' json text)" "$(complete_line pressure daemon --log-format "")"
# A SPEC or CONDITION is offered whole (readline inserts the common part), quoted when the
# word was typed without a quote; irq has no some line.
expect "SPECs after an opening quote" "$(printf '%s\n' 'memory full 100ms/2s' 'memory full 10%/1s' 'memory full 20%/2s')" \
  "$(complete_line pressure watch '"memory f')"
expect "SPECs for a resource" "6" "$(complete_line pressure watch '"mem' | grep -c '^memory \(some\|full\) ')"
expect "irq has only full" "$(printf '%s\n' 'irq full 100ms/2s' 'irq full 10%/1s' 'irq full 20%/2s')" \
  "$(complete_line pressure watch "'irq")"
expect "CONDITIONs without a quote" "$(printf '%s\n' '"cpu full 2s<20%"' '"cpu full avg10<10"' '"cpu full avg60<5"')" \
  "$(complete_line pressure admit 'cpu f')"
expect "nothing after --exec" "" "$(complete_line pressure watch 'cpu some 1s/2s' --exec -- l)"

# cgroup paths under the cgroup2 mount (here a tree named by --cgroup-root), relative or absolute.
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/batch.slice/job-1.scope" "$tree/batch.slice/job-2.scope" "$tree/system.slice"
touch "$tree/cgroup.procs"
expect "--cgroup top level" "$(printf '%s\n' batch.slice system.slice)" \
  "$(complete_line pressure --cgroup-root "$tree" show --cgroup "")"
expect "--cgroup nested" "$(printf '%s\n' batch.slice/job-1.scope batch.slice/job-2.scope)" \
  "$(complete_line pressure --cgroup-root "$tree" watch --cgroup batch.slice/)"
expect "--cgroup absolute" "$(printf '%s\n' /batch.slice)" \
  "$(complete_line pressure --cgroup-root "$tree" show --cgroup /b)"
expect "serve --cgroup" "$(printf '%s\n' system.slice)" \
  "$(complete_line pressure --cgroup-root "$tree" serve --cgroup sys)"
# Without --cgroup-root: the mount from /proc/self/mountinfo, when this machine has one.
COMP_WORDS=(pressure show --cgroup "")
mount=$(_pressure_cgroup_root)
if grep -q ' - cgroup2 ' /proc/self/mountinfo; then
  [[ -d $mount ]] || fail "cgroup2 mount found from mountinfo is '$mount', not a directory"
  first=$(find "$mount" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort | head -1)
  if [[ -n $first ]]; then
    complete_line pressure show --cgroup "" | grep -qxF "$first" || fail "--cgroup does not offer $mount/$first"
  fi
fi

complete_line pressure show --pid "$$" | grep -qxF "$$" || fail "--pid does not offer this shell's pid $$"
touch "$tree/rules.toml"
expect "--config files" "$tree/rules.toml" "$(complete_line pressure daemon --config "$tree/ru")"
expect "-o files" "$tree/rules.toml" "$(complete_line pressure plot -o "$tree/ru")"

# zsh and fish: the files parse, and name every command.
if command -v zsh >/dev/null; then
  zsh -n "$dir/_pressure" || fail "zsh -n $dir/_pressure failed"
else
  fail "zsh is not installed (scripts/deps.sh installs it)"
fi
if command -v fish >/dev/null; then
  fish --no-execute "$dir/pressure.fish" || fail "fish --no-execute $dir/pressure.fish failed"
else
  fail "fish is not installed (scripts/deps.sh installs it)"
fi
for command in $commands; do
  grep -qw "$command" "$dir/_pressure" || fail "_pressure (zsh) does not name the command $command"
  grep -qw "$command" "$dir/pressure.fish" || fail "pressure.fish does not name the command $command"
  for flag in $(help_flags "$command"); do
    [[ $flag == --help ]] && continue
    grep -qe "${flag#-}" "$dir/_pressure" || fail "_pressure (zsh) does not offer $command $flag"
    grep -qe "${flag##*-}" "$dir/pressure.fish" || fail "pressure.fish does not offer $command $flag"
  done
done

if [[ $failures == 0 ]]; then
  echo "completion: bash completes $(wc -w <<<"$commands") commands and their flags as --help lists them; zsh and fish files parse"
fi
[[ $failures == 0 ]]
