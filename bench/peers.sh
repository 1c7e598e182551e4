#!/usr/bin/env bash
# The Reader against its peers, in one run, as ratios:
#   (a) node_exporter's pressure collector: node_scrape_collector_duration_seconds{collector="pressure"}
#       from N scrapes of a node_exporter this script starts on 127.0.0.1 (pressure collector only)
#   (b) a pure-Python parser (the user's snippet: full avg10 of /proc/pressure/memory), per call
#       with timeit, and the same code over cpu, memory and io (a whole system read)
# against bench/snapshot_bench's figures for a system snapshot and a read(memory).
#
#   bench/peers.sh BUILD_DIR [--scrapes N] [--python-calls N]
#
# Environment: NODE_EXPORTER (default /usr/bin/prometheus-node-exporter), PYTHON (default
# /usr/bin/python3). Exits 0 whatever the times are; non-zero when a peer cannot be run.
set -euo pipefail

usage() { echo "usage: $0 BUILD_DIR [--scrapes N] [--python-calls N]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
build=$1
shift
scrapes=200
python_calls=5000
while [[ $# -gt 0 ]]; do
  case $1 in
    --scrapes) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || usage; scrapes=$2; shift 2 ;;
    --python-calls) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || usage; python_calls=$2; shift 2 ;;
    *) usage ;;
  esac
done

snapshot_bench=$build/bench/snapshot_bench
node_exporter=${NODE_EXPORTER:-/usr/bin/prometheus-node-exporter}
python=${PYTHON:-/usr/bin/python3}
die() { echo "peers.sh: $*" >&2; exit 1; }
[[ -x $snapshot_bench ]] || die "no $snapshot_bench; build first (ninja -C $build snapshot_bench)"
[[ -x $node_exporter ]] || die "no node_exporter at $node_exporter (apt install prometheus-node-exporter)"
[[ -x $python ]] || die "no Python at $python"
[[ -r /proc/pressure/memory ]] || die "no /proc/pressure/memory: PSI is off on this kernel"

# key=value lines on stdin -> the value of key $1
value_of() { awk -F= -v k="$1" '$1 == k { print $2; found = 1 } END { exit !found }'; }

# ---- The Reader ----------------------------------------------------------------------------
echo "pressure Reader: running $snapshot_bench --machine ..."
reader_out=$("$snapshot_bench" --machine) || die "snapshot_bench failed"
reader_ns=$(value_of reader_ns <<<"$reader_out")
reader_files=$(value_of files <<<"$reader_out")
read_memory_ns=$(value_of read_memory_ns <<<"$reader_out")
oneshot_memory_ns=$(value_of oneshot_memory_ns <<<"$reader_out")
floor_ns=$(value_of floor_ns <<<"$reader_out")

# ---- node_exporter -------------------------------------------------------------------------
ne_pid=
ne_log=$(mktemp)
cleanup() {
  if [[ -n $ne_pid ]]; then
    kill "$ne_pid" 2>/dev/null || true
    wait "$ne_pid" 2>/dev/null || true
    ne_pid=
  fi
  rm -f "$ne_log"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port=
for _attempt in 1 2 3; do
  port=$(free_port)
  "$node_exporter" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults \
    --collector.pressure >"$ne_log" 2>&1 &
  ne_pid=$!
  for _ in $(seq 100); do
    kill -0 "$ne_pid" 2>/dev/null || break
    if "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1).read()' \
      "http://127.0.0.1:$port/metrics" 2>/dev/null; then
      break 2
    fi
    sleep 0.1
  done
  kill "$ne_pid" 2>/dev/null || true
  wait "$ne_pid" 2>/dev/null || true
  ne_pid=
done
[[ -n $ne_pid ]] || { cat "$ne_log" >&2; die "node_exporter did not start on 127.0.0.1"; }
echo "node_exporter: pid $ne_pid on 127.0.0.1:$port, pressure collector only; $scrapes scrapes ..."

ne_out=$("$python" - "http://127.0.0.1:$port/metrics" "$scrapes" <<'EOF'
import statistics, sys, time, urllib.request

url, count = sys.argv[1], int(sys.argv[2])
metric = 'node_scrape_collector_duration_seconds{collector="pressure"}'
success = 'node_scrape_collector_success{collector="pressure"}'
durations, walls = [], []
for _ in range(count):
    start = time.perf_counter()
    body = urllib.request.urlopen(url, timeout=5).read().decode()
    walls.append(time.perf_counter() - start)
    values = {}
    for line in body.splitlines():
        for name in (metric, success):
            if line.startswith(name + " "):
                values[name] = float(line.split()[-1])
    if values.get(success) != 1.0 or metric not in values:
        sys.exit("the pressure collector failed or is missing in a scrape")
    durations.append(values[metric])
print(f"collector_us={statistics.median(durations) * 1e6:.1f}")
print(f"collector_min_us={min(durations) * 1e6:.1f}")
print(f"scrape_us={statistics.median(walls) * 1e6:.1f}")
EOF
) || die "scraping node_exporter failed"
cleanup
trap - EXIT
collector_us=$(value_of collector_us <<<"$ne_out")
collector_min_us=$(value_of collector_min_us <<<"$ne_out")
scrape_us=$(value_of scrape_us <<<"$ne_out")

# ---- Python --------------------------------------------------------------------------------
echo "python: $python, timeit, $python_calls calls x 9 repeats ..."
py_out=$("$python" - "$python_calls" <<'EOF'
import statistics, sys, timeit
from pathlib import Path

def memory_full_avg10():
    content = Path("/proc/pressure/memory").read_text()
    for line in content.splitlines():
      if line.startswith("full "):
        for token in line.split():
          if token.startswith("avg10="):
            pressure_pct = float(token[6:])

def system_full_avg10():
    for resource in ("cpu", "memory", "io"):
        content = Path("/proc/pressure/" + resource).read_text()
        for line in content.splitlines():
          if line.startswith("full "):
            for token in line.split():
              if token.startswith("avg10="):
                pressure_pct = float(token[6:])

calls = int(sys.argv[1])
for name, fn in (("memory", memory_full_avg10), ("system", system_full_avg10)):
    fn()
    times = timeit.repeat(fn, number=calls, repeat=9)
    print(f"{name}_ns={statistics.median(times) / calls * 1e9:.0f}")
EOF
) || die "the Python loop failed"
py_memory_ns=$(value_of memory_ns <<<"$py_out")
py_system_ns=$(value_of system_ns <<<"$py_out")

# ---- Ratios --------------------------------------------------------------------------------
awk -v r="$reader_ns" -v rm="$read_memory_ns" -v om="$oneshot_memory_ns" -v f="$floor_ns" -v files="$reader_files" \
    -v c="$collector_us" -v cmin="$collector_min_us" -v s="$scrape_us" -v n="$scrapes" \
    -v pm="$py_memory_ns" -v ps="$py_system_ns" '
function times(peer, ours) { return sprintf(peer / ours >= 10 ? "%.0fx" : "%.1fx", peer / ours) }
BEGIN {
  print ""
  printf "pressure Reader: system snapshot %.2f us (%s, every field parsed; floor pread %.2f us), read(memory) %.2f us\n", r / 1000, files, f / 1000, rm / 1000
  printf "node_exporter pressure collector: %.1f us per scrape (median of %d; fastest %.1f us; whole HTTP scrape %.0f us); pressure Reader %.2f us -> %s faster\n", c, n, cmin, s, r / 1000, times(c * 1000, r)
  printf "python, memory full avg10 only: %.2f us per call; pressure Reader read(memory) %.2f us -> %s faster\n", pm / 1000, rm / 1000, times(pm, rm)
  printf "  (both opening the file every call: python %.2f us; pressure::memory() one-shot %.2f us -> %s faster)\n", pm / 1000, om / 1000, times(pm, om)
  printf "python, cpu+memory+io full avg10: %.2f us per call; pressure Reader snapshot %.2f us -> %s faster\n", ps / 1000, r / 1000, times(ps, r)
}'
