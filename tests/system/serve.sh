#!/usr/bin/env bash
# `pressure serve` against real programs: Prometheus's promtool and server, curl, a load
# generator, real cgroups. Usage: serve.sh CASE PRESSURE_BINARY STORM_BINARY SOURCE_DIR
#   cli          bad --listen / --cgroup, a port in use, SIGTERM and SIGINT, the HTTP module
#                loaded to serve and a missing or foreign one refused (no root needed)
#   rules        promtool check rules + promtool test rules on packaging/prometheus
#   promtool     promtool check metrics on the real output, with a cgroup this test creates
#   prometheus   a real Prometheus server scrapes pressure serve every 1 s and answers PromQL
#   storm        thousands of scrapes: no errors, no memory growth, answers still right after
# Live cases need root, PSI and cgroup2; elsewhere they skip (exit 77), and with CI set they fail.
set -uo pipefail
case_name=$1
pressure=$2
storm=$3
source_dir=$4

work=$(mktemp -d /tmp/pressure-test-serve-XXXXXX)
pids=()
groups=()
cleanup() {
  local pid group
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  for group in "${groups[@]}"; do
    if [ -d "$group" ]; then
      while read -r pid; do [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; done <"$group/cgroup.procs"
      for _ in $(seq 50); do rmdir "$group" 2>/dev/null && break; sleep 0.1; done
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() {
  if [ -n "${CI:-}" ]; then fail "system test cannot run: $*"; fi
  echo "SKIP: system test cannot run: $*"; exit 77
}

cgroup2_mount() { awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i+1) == "cgroup2") print $5; break } }' /proc/self/mountinfo | head -1; }

require_live() {
  [ "$(id -u)" = 0 ] || skip "needs root to create cgroups"
  [ -r /proc/pressure/cpu ] || skip "no /proc/pressure/cpu: this kernel has PSI off"
  mount=$(cgroup2_mount)
  [ -n "$mount" ] || skip "no cgroup2 mount in /proc/self/mountinfo"
}

# A cgroup2 group named like TestCgroup's (pressure-test-serve-PID-N) with a sleeping process in
# it; sets `group` to its path (not in a subshell, so the cleanup knows it).
make_group() {
  group="/pressure-test-serve-$$-${#groups[@]}"
  mkdir "$mount$group" || fail "cannot create $mount$group"
  groups+=("$mount$group")
  sh -c "echo \$\$ > '$mount$group/cgroup.procs' && exec sleep 3600" </dev/null >/dev/null 2>&1 &
  pids+=($!)
}

# Starts `pressure serve ARGS...` on a free loopback port; sets serve_pid and serve_port.
start_serve() {
  local log="$work/serve-${#pids[@]}.log"
  "$pressure" serve --listen 127.0.0.1:0 "$@" 2>"$log" &
  serve_pid=$!
  pids+=("$serve_pid")
  serve_port=
  for _ in $(seq 100); do
    serve_port=$(sed -nE 's|.*serving http://127\.0\.0\.1:([0-9]+)/metrics.*|\1|p' "$log")
    [ -n "$serve_port" ] && return 0
    kill -0 "$serve_pid" 2>/dev/null || { cat "$log" >&2; fail "pressure serve exited"; }
    sleep 0.05
  done
  cat "$log" >&2
  fail "pressure serve did not say where it listens"
}

scrape() { curl -sf --max-time 10 "http://127.0.0.1:$1/metrics"; }

# A port nothing listens on now (connection refused).
free_port() {
  local port
  for port in $(shuf -i 20000-60000 -n 50); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  fail "no free port found"
}

vm_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

expect_exit() {  # code, message part, args...
  local code=$1 says=$2; shift 2
  local out rc
  out=$("$pressure" "$@" 2>&1 </dev/null); rc=$?
  [ "$rc" = "$code" ] || fail "'pressure $*' exited $rc, not $code: $out"
  grep -qF -- "$says" <<<"$out" || fail "'pressure $*' did not say '$says': $out"
  echo "ok: pressure $* -> $rc: $out"
}

case_cli() {
  expect_exit 2 "--listen" serve --listen 127.0.0.1:99999
  expect_exit 2 "out of range 0-65535" serve --listen 127.0.0.1:99999
  expect_exit 2 "no port" serve --listen 127.0.0.1
  expect_exit 2 "needs brackets" serve --listen ::1:9101
  expect_exit 2 "not an IPv4 address" serve --listen 300.1.1.1:9101
  expect_exit 2 "not an address of this machine" serve --listen 192.0.2.1:9101
  expect_exit 2 "--cgroup" serve --cgroup ../etc
  expect_exit 2 "--no-cgroups" serve --cgroup '*' --no-cgroups
  expect_exit 3 "PSI is disabled" --proc-root "$source_dir/tests/fixtures/psi-disabled" serve --no-cgroups
  # A port in use: a second exporter on the same port fails (no silent SO_REUSEPORT sharing).
  start_serve --no-cgroups
  local first=$serve_pid port=$serve_port
  expect_exit 4 "already in use" serve --no-cgroups --listen "127.0.0.1:$port"
  scrape "$port" | grep -q '^node_pressure_cpu_waiting_seconds_total ' || true  # (PSI may be off here)
  kill -0 "$first" || fail "the first server died"
  # SIGTERM and SIGINT stop it cleanly: exit 0 and the port is free again.
  for signal in TERM INT; do
    start_serve --no-cgroups
    kill "-$signal" "$serve_pid"
    local rc=0
    wait "$serve_pid" || rc=$?
    [ "$rc" = 0 ] || fail "pressure serve exited $rc on SIG$signal"
    if (exec 3<>"/dev/tcp/127.0.0.1/$serve_port") 2>/dev/null; then fail "port $serve_port still open after SIG$signal"; fi
    echo "ok: SIG$signal -> exit 0, port closed"
  done
  # The HTTP server is a module loaded to serve: it is mapped once serving, and a missing or
  # foreign module is a runtime error (exit 4) that names the file.
  start_serve --no-cgroups
  grep -q '/pressure-http\.so$' "/proc/$serve_pid/maps" || fail "pressure serve did not map pressure-http.so"
  echo "ok: serving maps $(awk '/pressure-http\.so$/ { print $6; exit }' "/proc/$serve_pid/maps")"
  PRESSURE_HTTP_MODULE="$work/none/pressure-http.so" \
    expect_exit 4 "the HTTP module pressure-http.so is not installed (looked for $work/none/pressure-http.so" \
    serve --no-cgroups --listen 127.0.0.1:0
  echo "not a module" >"$work/junk.so"
  PRESSURE_HTTP_MODULE="$work/junk.so" expect_exit 4 "cannot load the HTTP module $work/junk.so: " \
    serve --no-cgroups --listen 127.0.0.1:0
  # `pressure daemon --check` with `listen` binds nothing but loads the module too.
  printf '[daemon]\nlisten = "127.0.0.1:0"\n\n[[rule]]\nname = "r"\ntarget = "system"\nwhen = "cpu some avg10>=0"\naction = "log"\n' \
    >"$work/daemon.toml"
  expect_exit 0 "OK, 1 rule parsed and armed" daemon --check --config "$work/daemon.toml"
  PRESSURE_HTTP_MODULE="$work/none/pressure-http.so" \
    expect_exit 4 "[daemon] listen: cannot serve: the HTTP module pressure-http.so is not installed" \
    daemon --check --config "$work/daemon.toml"
  # A module of another build (another version, compiler or sanitizer) is refused by its id.
  printf 'extern "C" const char* pressure_http_build_id() { return "0.0.0 other"; }\n%s\n' \
    'extern "C" void* pressure_http_server_v3(const void*) { return nullptr; }' >"$work/other.cpp"
  "${CXX:-c++}" -shared -fPIC -o "$work/other.so" "$work/other.cpp" || fail "cannot build a foreign module"
  PRESSURE_HTTP_MODULE="$work/other.so" expect_exit 4 "it comes from another build (0.0.0 other; this program: " \
    serve --no-cgroups --listen 127.0.0.1:0
  local libc
  libc=$(awk '/\/libc\.so/ { print $6; exit }' "/proc/$serve_pid/maps")
  PRESSURE_HTTP_MODULE="$libc" expect_exit 4 "it has no pressure_http_server_v3" \
    serve --no-cgroups --listen 127.0.0.1:0
  # Defaults: loopback only.
  "$pressure" serve --help | grep -q "127.0.0.1:9101" || fail "--help does not give the default address"
}

case_rules() {
  promtool check rules "$source_dir/packaging/prometheus/rules.yml" || fail "promtool check rules"
  (cd "$source_dir/packaging/prometheus" && promtool test rules tests.yml) || fail "promtool test rules"
  # The dashboard is JSON and only uses metrics or recorded series the rules and exporter define.
  /usr/bin/python3 - "$source_dir" <<'EOF' || fail "grafana dashboard"
import json, re, sys
root = sys.argv[1]
dash = json.load(open(root + "/packaging/grafana/pressure.json"))
rules = open(root + "/packaging/prometheus/rules.yml").read()
recorded = set(re.findall(r"record: (\S+)", rules))
exported = {"node_pressure_cpu_waiting_seconds_total", "node_pressure_memory_waiting_seconds_total",
            "node_pressure_memory_stalled_seconds_total", "node_pressure_io_waiting_seconds_total",
            "node_pressure_io_stalled_seconds_total", "node_pressure_irq_stalled_seconds_total",
            "pressure_avg_ratio", "pressure_resource_available", "pressure_exported_cgroups",
            "pressure_scrape_duration_seconds", "pressure_scrape_errors_total", "up"}
for r in ("cpu", "memory", "io", "irq"):
    for l in ("waiting", "stalled"):
        exported.add(f"container_pressure_{r}_{l}_seconds_total")
exprs = []
def walk(node):
    if isinstance(node, dict):
        if "expr" in node: exprs.append(node["expr"])
        for v in node.values(): walk(v)
    elif isinstance(node, list):
        for v in node: walk(v)
walk(dash)
assert exprs, "no queries"
for e in exprs:
    names = set(re.findall(r"[a-z_:]+(?=\{|\[|\)|$| )", e)) - {"rate", "sum", "by", "topk", "max", "avg", "irate", "increase", "without", "label_values", "on"}
    names = {n for n in names if "_" in n or ":" in n}
    unknown = names - recorded - exported
    assert not unknown, f"{e}: unknown series {unknown}"
print(f"dashboard: {len(exprs)} queries, all on known series")
EOF
}

case_promtool() {
  require_live
  make_group
  start_serve --cgroup '*'
  scrape "$serve_port" >"$work/metrics.txt" || fail "scrape failed"
  promtool check metrics <"$work/metrics.txt" || fail "promtool check metrics"
  grep -q '^node_pressure_cpu_waiting_seconds_total [0-9]' "$work/metrics.txt" || fail "no system cpu counter"
  grep -qF "container_pressure_cpu_waiting_seconds_total{cgroup=\"$group\"} " "$work/metrics.txt" ||
    fail "no counter for $group"
  grep -qF "pressure_avg_ratio{cgroup=\"$group\",resource=\"memory\",line=\"full\",window=\"10s\"} " "$work/metrics.txt" ||
    fail "no average for $group"
  # The values are the kernel's: the system memory full total read just before and after the scrape.
  local before after value
  before=$(awk '/^full/ { sub("total=", "", $5); print $5 }' /proc/pressure/memory)
  scrape "$serve_port" >"$work/metrics2.txt"
  after=$(awk '/^full/ { sub("total=", "", $5); print $5 }' /proc/pressure/memory)
  value=$(awk '/^node_pressure_memory_stalled_seconds_total / { print $2 }' "$work/metrics2.txt" | tr -d .)
  value=$((10#$value))
  [ "$value" -ge "$before" ] && [ "$value" -le "$after" ] ||
    fail "memory stalled $value us is not between the kernel's $before and $after"
  echo "ok: promtool check metrics, $(grep -vc '^#' "$work/metrics.txt") samples, kernel totals match"
}

# Polls Prometheus's HTTP API until QUERY has a sample; prints the JSON.
query_until() {  # prometheus port, query, seconds
  local url="http://127.0.0.1:$1/api/v1/query" deadline=$((SECONDS + $3)) answer
  while [ "$SECONDS" -lt "$deadline" ]; do
    answer=$(curl -sf --max-time 5 -G "$url" --data-urlencode "query=$2") &&
      /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d["status"]=="success" and d["data"]["result"] else 1)' "$answer" &&
      { echo "$answer"; return 0; }
    sleep 0.5
  done
  return 1
}

case_prometheus() {
  require_live
  command -v prometheus >/dev/null || fail "no prometheus binary (Debian package prometheus)"
  make_group
  start_serve --cgroup '*'
  local prom_port; prom_port=$(free_port)
  mkdir -p "$work/data"
  cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $source_dir/packaging/prometheus/rules.yml
scrape_configs:
  - job_name: pressure
    static_configs:
      - targets: ['127.0.0.1:$serve_port']
EOF
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
    --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$work/prometheus.log" 2>&1 &
  local prom_pid=$!
  pids+=("$prom_pid")
  local answer
  answer=$(query_until "$prom_port" 'node_pressure_cpu_waiting_seconds_total{job="pressure"}' 60) ||
    { tail -20 "$work/prometheus.log" >&2; fail "Prometheus has no node_pressure_cpu_waiting_seconds_total from us"; }
  grep -qF "\"instance\":\"127.0.0.1:$serve_port\"" <<<"$answer" || fail "the sample is not from our target: $answer"
  echo "ok: $answer"
  answer=$(query_until "$prom_port" "container_pressure_memory_waiting_seconds_total{cgroup=\"$group\"}" 30) ||
    fail "Prometheus has no cgroup metric for $group"
  echo "ok: $answer"
  answer=$(query_until "$prom_port" 'up{job="pressure"} == 1' 10) || fail "target not up"
  # A recording rule of the shipped rules, evaluated by the real server.
  answer=$(query_until "$prom_port" 'instance:node_pressure_cpu_waiting_seconds:rate1m' 30) ||
    fail "the recording rule gave nothing"
  echo "ok: $answer"
  kill -TERM "$prom_pid"
  wait "$prom_pid" 2>/dev/null
  echo "ok: Prometheus stopped"
}

case_storm() {
  require_live
  make_group
  # Under ASan freed memory waits in a quarantine (256 MB by default) that would look like growth.
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1:thread_local_quarantine_size_kb=16" \
    start_serve --cgroup '*'
  local port=$serve_port pid=$serve_pid
  scrape "$port" >"$work/before.txt" || fail "scrape failed"
  "$storm" 127.0.0.1 "$port" /metrics 8 500 || fail "warm-up had errors"
  local rss_warm; rss_warm=$(vm_rss_kb "$pid")
  "$storm" 127.0.0.1 "$port" /metrics 8 3000 || fail "the storm had errors"
  local rss_storm; rss_storm=$(vm_rss_kb "$pid")
  "$storm" 127.0.0.1 "$port" /metrics 8 3000 || fail "the second storm had errors"
  local rss_after; rss_after=$(vm_rss_kb "$pid")
  echo "VmRSS: after warm-up ${rss_warm} kB, after 3000 scrapes ${rss_storm} kB, after 6000 ${rss_after} kB"
  # No growth: the second storm adds less than a tenth to what the first left (the first may
  # still fill allocator caches of the server's threads).
  [ $((rss_after * 10)) -le $((rss_storm * 11)) ] || fail "memory grew: ${rss_storm} -> ${rss_after} kB"
  [ $((rss_after * 10)) -le $((rss_warm * 15)) ] || fail "memory grew: ${rss_warm} -> ${rss_after} kB"
  # Still answering, still right: valid output, the test group, counters that never went back,
  # and fresh readings (each scrape measures its own duration).
  scrape "$port" >"$work/after.txt" || fail "no answer after the storm"
  promtool check metrics <"$work/after.txt" || fail "promtool check metrics after the storm"
  grep -qF "container_pressure_cpu_waiting_seconds_total{cgroup=\"$group\"} " "$work/after.txt" || fail "lost $group"
  local name b a
  for name in node_pressure_cpu_waiting_seconds_total node_pressure_io_waiting_seconds_total; do
    b=$(awk -v n="$name" '$1 == n { print $2 }' "$work/before.txt" | tr -d .)
    a=$(awk -v n="$name" '$1 == n { print $2 }' "$work/after.txt" | tr -d .)
    [ $((10#$a)) -ge $((10#$b)) ] || fail "$name went back: $b -> $a"
  done
  scrape "$port" >"$work/again.txt"
  [ "$(grep '^pressure_scrape_duration_seconds ' "$work/after.txt")" != "$(grep '^pressure_scrape_duration_seconds ' "$work/again.txt")" ] ||
    fail "two scrapes gave the same duration: not read again?"
  ! grep -q "^pressure_scrape_errors_total{scope=\"system\"" "$work/after.txt" || fail "system read errors after the storm"
  kill -0 "$pid" || fail "the server died"
  echo "ok: 6500 scrapes, no errors, memory flat, output correct after"
}

"case_$case_name"
