#!/usr/bin/env bash
# Runs a command inside the VM test bed: Debian 12's 6.1 kernel under qemu, this machine's root
# shared read-only (with a RAM overlay on top), pure cgroup2 with every controller, root with every
# capability, /var/tmp on an ext4 disk. The command runs in the current directory, so build trees
# work unchanged.
#
#   tests/vm/run.sh [OPTIONS] -- COMMAND [ARGS...]   run COMMAND; exit with its exit code
#   tests/vm/run.sh [OPTIONS] -R REGEX               run ctest -R REGEX in the build tree
#   tests/vm/run.sh [OPTIONS] --shell                an interactive shell on the guest's console
# OPTIONS: --mem MIB (default 2048), --cpus N (default 2), --timeout SECONDS (default 1800),
#          --build DIR (the build tree for -R; default build),
#          --results DIR (the writable share; default a new folder under /tmp, removed after)
# Exit codes: the command's own; 125 when the VM could not boot or the command did not finish in time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mem=2048 cpus=2 timeout=1800 results="" shell=0 cmd=() regex="" build=build
while [ $# -gt 0 ]; do
  case $1 in
    --mem) mem=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --shell) shell=1; shift ;;
    --build) build=$2; shift 2 ;;
    -R) regex=$2; shift 2 ;;
    --) shift; cmd=("$@"); break ;;
    *) echo "vm: unknown option '$1' (see the head of $0)" >&2; exit 2 ;;
  esac
done
[ -n "$regex" ] && cmd=(ctest --test-dir "$build" --output-on-failure -R "$regex")
[ $shell = 1 ] || [ ${#cmd[@]} -gt 0 ] || { echo "vm: give a command after --, -R REGEX, or --shell" >&2; exit 2; }

cache=$("$here/prepare.sh")
own_results=0
if [ -z "$results" ]; then results=$(mktemp -d /tmp/pressure-vm-results.XXXXXX); own_results=1; fi
mkdir -p "$results"
results=$(cd "$results" && pwd)
rm -f "$results/status"
# The guest's /var/tmp: an ext4 disk, so files there are page cache that reclaim can drop and
# refault (on the RAM overlay they would be shmem, which without swap only an OOM kill frees).
disk=$(mktemp /tmp/pressure-vm-disk.XXXXXX)
cleanup() {
  rm -f "$disk"
  [ $own_results = 1 ] && rm -rf "$results"
  return 0
}
trap cleanup EXIT
truncate -s 2G "$disk"
mkfs.ext4 -q -F -T largefile -E lazy_itable_init=0,lazy_journal_init=0 -L pressure-vm "$disk" ||
  { echo "vm: cannot make the guest's /var/tmp disk with mkfs.ext4 (e2fsprogs)" >&2; exit 125; }

# The job: the environment that matters to tests (CI decides fail-versus-skip), then the command.
{
  echo "cd $(printf %q "$PWD") || exit 125"
  [ -n "${CI:-}" ] && echo "export CI=$(printf %q "$CI")"
  echo "export PRESSURE_IN_VM=1"
  [ $shell = 1 ] && echo "export TERM=$(printf %q "${TERM:-vt100}")" || echo "export TERM=dumb"
  if [ $shell = 1 ]; then
    echo 'echo "pressure VM: $(uname -r), cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers); exit to power off"'
    echo 'exec setsid -c /bin/bash -i'
  else
    printf '%q ' "${cmd[@]}"; echo
  fi
} >"$results/job"

qemu=(qemu-system-x86_64
  -machine q35 -bios qboot.rom -accel tcg,thread=multi -cpu max -smp "$cpus" -m "$mem"
  -nographic -no-reboot -nodefaults
  -kernel "$cache/vmlinuz" -initrd "$cache/initrd.cpio.gz"
  -append "console=ttyS0 rdinit=/init quiet loglevel=3 panic=-1 mitigations=off pressure_results=$results"
  -virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap
  -virtfs "local,path=$results,mount_tag=results,security_model=none,multidevs=remap"
  -drive "file=$disk,if=virtio,format=raw,cache=unsafe")
status=0
if [ $shell = 1 ]; then
  timeout --foreground -k 10 "$timeout" "${qemu[@]}" -serial mon:stdio || status=$?
else
  # The console as plain text lines: no carriage returns, no terminal escapes (logs and ctest's
  # summary are read by scripts).
  set +o pipefail
  timeout --foreground -k 10 "$timeout" "${qemu[@]}" -serial stdio </dev/null |
    sed -u -E $'s/\r$//; s/\x1b\\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g'
  status=${PIPESTATUS[0]}
  set -o pipefail
fi
if [ ! -f "$results/status" ]; then
  [ $status = 124 ] && echo "vm: the guest did not finish within ${timeout}s" >&2 || echo "vm: the guest stopped without a result (qemu exited $status)" >&2
  exit 125
fi
exit "$(cat "$results/status")"
