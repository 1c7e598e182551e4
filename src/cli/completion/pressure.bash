# bash completion for pressure(1). Installed to share/bash-completion/completions/pressure.
# Commands, their flags (tests/packaging/completion_test.sh checks them against --help),
# resource names and some|full inside a SPEC or CONDITION, files, and cgroup paths under the
# cgroup2 mount for --cgroup.

_pressure_commands="show watch predict admit daemon top record history plot serve version"
_pressure_global="--proc-root --cgroup-root --help --version"

_pressure_flags() {  # command -> its flags
  local target="--cgroup --pid"
  case $1 in
    show) echo "$target --json --interval --count" ;;
    watch) echo "$target --json --count --timeout --mode --strict-window --from-environment --exec" ;;
    predict) echo "$target --below --sample --json" ;;
    admit) echo "$target --json" ;;
    daemon) echo "--config --dry-run --check --log-format" ;;
    top) echo "--interval --count --cgroup" ;;
    record) echo "--db --interval --cgroup --no-system --retention --raw --count" ;;
    history) echo "--db --since --until $target --json --all --window --above --for" ;;
    plot) echo "--db --since --until $target -o --output --top" ;;
    serve) echo "--listen --cgroup --no-cgroups --no-averages --no-name-labels" ;;
    version) echo "--json" ;;
  esac
}

# The cgroup2 mount: --cgroup-root on the line, else the first cgroup2 line of mountinfo.
_pressure_cgroup_root() {
  local i
  for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
    if [[ ${COMP_WORDS[i]} == --cgroup-root ]]; then
      echo "${COMP_WORDS[i + 1]}"
      return
    fi
  done
  local line
  while read -r line; do
    if [[ $line == *" - cgroup2 "* ]]; then
      line=${line#* * * * }
      echo "${line%% *}"
      return
    fi
  done </proc/self/mountinfo 2>/dev/null
}

# Groups under the cgroup2 mount, as paths relative to it ("batch.slice", "system.slice/x").
_pressure_cgroups() {
  local cur=$1 root
  root=$(_pressure_cgroup_root)
  [[ -n $root && -d $root ]] || return
  local lead=""
  [[ $cur == /* ]] && lead=/
  local rel=${cur#/} dir
  while IFS= read -r dir; do
    [[ -d $dir ]] || continue
    COMPREPLY+=("$lead${dir#"$root"/}")
  done < <(compgen -d -- "$root/$rel")
  [[ -z $rel && $lead == / ]] && COMPREPLY+=("/")
}

# A SPEC ("memory full 100ms/2s") or CONDITION ("memory full avg10<10") is one word with
# spaces: every resource, line and an example tail is offered whole, so that readline inserts
# their common part ("memory ") and lists the rest, and closes the quote only on a whole one. A
# word typed without a quote gets candidates with quotes of their own.
_pressure_spec() {
  local word=$1 kind=$2 quote=""
  [[ $word == [\"\']* ]] || quote='"'
  local typed=${word#[\"\']} tails r l t candidate
  if [[ $kind == spec ]]; then tails="100ms/2s 10%/1s 20%/2s"; else tails="avg10<10 avg60<5 2s<20%"; fi
  for r in cpu memory io irq; do
    for l in some full; do
      [[ $r == irq && $l == some ]] && continue  # the kernel has no irq some
      for t in $tails; do
        candidate="$r $l $t"
        [[ $candidate == "$typed"* ]] && COMPREPLY+=("$quote$candidate$quote")
      done
    done
  done
}

_pressure() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  COMPREPLY=()
  # The command: the first word that is neither a flag nor a global flag's value.
  local i command=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      --proc-root | --cgroup-root) ((i++)) ;;
      --exec) return ;;  # the rest of the line is a command of its own
      -*) ;;
      *) command=${COMP_WORDS[i]}; break ;;
    esac
  done
  case $prev in
    --proc-root | --cgroup-root)
      COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --config | --db | -o | --output)
      COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null; return ;;
    --cgroup)
      _pressure_cgroups "$cur"; return ;;
    --pid)
      COMPREPLY=($(compgen -W "$(cd /proc && echo [0-9]*)" -- "$cur")); return ;;
    --mode)
      COMPREPLY=($(compgen -W "auto kernel polling" -- "$cur")); return ;;
    --log-format)
      COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
    --listen)
      COMPREPLY=($(compgen -W "127.0.0.1:9101 :9101" -- "$cur")); return ;;
    --interval | --count | --timeout | --sample | --below | --since | --until | --window | --above | \
      --for | --retention | --raw | --top)
      return ;;
  esac
  if [[ -z $command ]]; then
    COMPREPLY=($(compgen -W "$_pressure_commands $_pressure_global" -- "$cur"))
    return
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_pressure_flags "$command") --help" -- "$cur"))
    return
  fi
  case $command in
    watch) _pressure_spec "$cur" spec ;;
    admit) _pressure_spec "$cur" condition ;;
  esac
}

complete -F _pressure pressure
