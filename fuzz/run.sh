#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 30), seeded with the fixture trees, as many at
# once as there are cores (PRESSURE_FUZZ_JOBS to choose).
# Usage: fuzz/run.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=$1
seconds=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
fixtures="$here/../tests/fixtures"
work=$(mktemp -d /tmp/pressure-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/parse_pressure" "$work/mountinfo" "$work/proc_cgroup" "$work/cgroup_path" "$work/cgroup_identity" \
         "$work/trigger_spec" \
         "$work/condition" "$work/daemon_config" "$work/recorder_args" "$work/serve_flags" \
         "$work/http_request" "$work/environment"
i=0
for f in $(find "$fixtures" -path '*pressure*' -type f); do cp "$f" "$work/parse_pressure/seed-$((i++))"; done
for f in "$fixtures"/proc-hybrid/self/mountinfo /proc/self/mountinfo "$fixtures"/proc-hybrid/meminfo; do cp "$f" "$work/mountinfo/seed-$((i++))"; done
for f in "$fixtures"/proc-hybrid/*/cgroup /proc/self/cgroup; do cp "$f" "$work/proc_cgroup/seed-$((i++))"; done
printf 'batch.slice' > "$work/cgroup_path/seed-1"; printf '/sys/fs/cgroup/a//b/../c' > "$work/cgroup_path/seed-2"
# Every path of the identity fixture table (one JSON object a line: the "path" value).
python3 -c 'import json,sys; [open(f"{sys.argv[2]}/seed-{n}","w").write(json.loads(l)["path"]) for n,l in enumerate(open(sys.argv[1]))]' \
  "$fixtures/cgroup-names/shapes.jsonl" "$work/cgroup_identity"
printf 'memory full 100ms/1s' > "$work/trigger_spec/seed-1"; printf 'cpu some 10%%/2s' > "$work/trigger_spec/seed-2"
printf 'irq full 1500us/1.5s' > "$work/trigger_spec/seed-3"; printf 'avg10=0.01,avg60=0.03' > "$work/trigger_spec/seed-4"
i=0
for seed in "-1h30m" "10 min ago" "2026-11-21T20:31:12.5+01:00" "2026-11-21 20:31" "1763750000.25" "now" "30d" "/*.slice/*"; do
  printf '%s' "$seed" > "$work/recorder_args/seed-$((i++))"
done

printf 'memory full avg10<10' > "$work/condition/seed-1"; printf 'cpu some 2s>=20%%' > "$work/condition/seed-2"
for f in "$here"/../packaging/daemon.toml "$here"/../tests/fixtures/daemon/*.toml; do
  [ -f "$f" ] && cp "$f" "$work/daemon_config/seed-$((i++))"
done

printf '127.0.0.1:9101' > "$work/serve_flags/seed-1"; printf '[::1]:0' > "$work/serve_flags/seed-2"
printf ':9101' > "$work/serve_flags/seed-3"; printf 'system.slice/**/*.service' > "$work/serve_flags/seed-4"
printf 'sys[a-z]em.slice/job-?.scope' > "$work/serve_flags/seed-5"
printf 'deflate, gzip;q=0.5, br, *;q=0' > "$work/serve_flags/seed-6"; printf '/evil\n<4>\033[2J\xc2\x9b' > "$work/serve_flags/seed-7"

printf 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9101\r\nAccept-Encoding: gzip\r\n\r\n' > "$work/http_request/seed-1"
printf 'HEAD / HTTP/1.0\nConnection: keep-alive\n\nGET /metrics?x=1 HTTP/1.1\r\n\r\n' > "$work/http_request/seed-2"
printf 'POST /metrics HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello' > "$work/http_request/seed-3"
printf 'GET http://h/metrics HTTP/2.0\r\nX: a\r\n folded\r\n\r\n' > "$work/http_request/seed-4"

printf '/sys/fs/cgroup/system.slice/app.service/memory.pressure\0c29tZSAyMDAwMDAgMjAwMDAwMAA=' > "$work/environment/seed-1"
printf '/dev/null' > "$work/environment/seed-2"; printf '/run/a//../b\0Zm9v\nYmE=' > "$work/environment/seed-3"

# The targets run side by side, one per core (each is single-threaded), each with its own log.
targets=(parse_pressure mountinfo proc_cgroup cgroup_path cgroup_identity trigger_spec condition daemon_config recorder_args
         serve_flags http_request environment)
jobs=${PRESSURE_FUZZ_JOBS:-$(nproc)}
status=0
for exe in "$build"/fuzz/*_fuzz; do  # a new target must be listed here, with its seeds
  name=$(basename "$exe" _fuzz)
  [[ " ${targets[*]} " == *" $name "* ]] || { echo "fuzz: $exe is built but not run: add it to $0"; status=1; }
done
fuzz_one() {  # target: runs it, leaves its exit code in $work/target.rc
  local rc=0
  "$build/fuzz/${1}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$work/$1" > "$work/$1.log" 2>&1 || rc=$?
  echo "$rc" > "$work/$1.rc"
}
for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  fuzz_one "$target" &
done
wait
for target in "${targets[@]}"; do
  echo "== fuzz ${target} for ${seconds}s"
  if [ "$(cat "$work/$target.rc" 2>/dev/null)" != 0 ]; then
    tail -40 "$work/$target.log"
    status=1
  else
    grep -E 'stat::number_of_executed_units|Done' "$work/$target.log" | tail -2
  fi
done
exit $status
