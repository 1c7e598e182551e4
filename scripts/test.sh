#!/usr/bin/env bash
# Quick start, second command: install what is needed, build, and run every test:
# unit and system tests (real kernel, real cgroups), the same under ASan/UBSan, the event loop
# under TSan, the install test, a bounded libFuzzer run of every parser, the Debian packages and
# the Python wheel as users install them, short benchmarks, and the
# VM stage: every system test again, plus those only a pure-cgroup2 machine can run, in a qemu
# guest booting Debian 12's 6.1 kernel (tests/vm). System tests need root; with CI set they
# fail instead of skipping when they cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds=${PRESSURE_FUZZ_SECONDS:-30}
passed=0
failed=0
timings=()   # "name seconds" per stage, printed at the end (CI's time budget is spent here)
stage_name="" stage_start=$SECONDS
stage() {  # name: closes the previous stage's clock and starts this one's
  [ -n "$stage_name" ] && timings+=("$(printf '%5d s  %s' $((SECONDS - stage_start)) "$stage_name")")
  stage_name=$1 stage_start=$SECONDS
  [ -n "$1" ] && echo "== $1"
  return 0
}

tally() {  # name, log: adds ctest's counts
  local line
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$2" | tail -1 || true)
  if [ -z "$line" ]; then failed=$((failed + 1)); echo "$1: no ctest summary"; return; fi
  local total fail
  fail=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
  passed=$((passed + total - fail)); failed=$((failed + fail))
}

run_ctest() {  # name, build dir, ctest args...
  local name=$1 dir=$2; shift 2
  stage "$name"
  local log; log=$(mktemp)
  (cd "$dir" && ctest --output-on-failure --timeout 300 "$@") 2>&1 | tee "$log" | grep -vE '^ +Start |Test +#' || true
  tally "$name" "$log"
  rm -f "$log"
}

# ctest in the VM test bed (tests/vm/run.sh prints the guest's console as plain lines). A guest
# that does not boot prints no summary, and so counts as a failure.
run_vm_ctest() {  # name, memory MiB, ctest args...
  local name=$1 mem=$2; shift 2
  stage "$name"
  local log; log=$(mktemp)
  tests/vm/run.sh --mem "$mem" --timeout 1500 -- ctest --test-dir build --output-on-failure --timeout 300 "$@" 2>&1 |
    tee "$log" | grep -vE '^ +Start |Test +#' || true
  tally "$name" "$log"
  rm -f "$log"
}

# Groups, processes and files a killed earlier run of these tests may have left: only names the
# tests make (pressure-test-*-PID-N, pressure-bench-*-PID, pressure-thrash-PID-N) whose PID is
# no longer running.
sweep() {
  local dir name pid
  for dir in /sys/fs/cgroup/unified/pressure-test-* /sys/fs/cgroup/pressure-test-* \
             /sys/fs/cgroup/memory/pressure-test-* /sys/fs/cgroup/unified/pressure-bench-* \
             /sys/fs/cgroup/pressure-bench-* /sys/fs/cgroup/memory/pressure-bench-* /var/tmp/pressure-thrash-*; do
    [ -e "$dir" ] || continue
    name=$(basename "$dir")
    if [[ $name =~ ^pressure-test-.*-([0-9]+)-[0-9]+$ || $name =~ ^pressure-bench-([a-z]+-)*([0-9]+)(-[a-z]+-[0-9]+)?$ ||
          $name =~ ^pressure-thrash-([0-9]+)-[0-9]+$ ]]; then
      pid=${BASH_REMATCH[1]}
      [[ $name == pressure-bench-* ]] && pid=${BASH_REMATCH[2]}
    else
      continue
    fi
    [ "$pid" -gt 1 ] || continue
    kill -0 "$pid" 2>/dev/null && continue
    if [ -d "$dir" ]; then
      find "$dir" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
      rmdir "$dir" 2>/dev/null && echo "sweep: removed stale $dir"
    else
      rm -f "$dir" && echo "sweep: removed stale $dir"
    fi
  done
}

stage "deps"
scripts/deps.sh
sweep

stage "build (g++, RelWithDebInfo)"
scripts/build.sh build
# Tests labelled vm need pure cgroup2 and full root: they run in the VM stage below.
run_ctest "tests" build -LE vm

stage "build (unsupported platform): the portable code compiles and says no"
scripts/build.sh build-other -DPRESSURE_PLATFORM=unsupported -DPRESSURE_TESTS=OFF -DPRESSURE_BENCH=OFF \
  --target pressure_cli --target pressure_python
for args in "show" "watch cpu\ some\ 1s/2s" "top --count 1" "record --count 1 --db /nonexistent/h.db" \
            "admit 'cpu some avg10<1'" "daemon --config /nonexistent.toml"; do
  code=0; eval build-other/src/cli/pressure "$args" 2>/dev/null || code=$?
  if [ "$code" = 3 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "unsupported: 'pressure $args' exited $code, not 3"; fi
done
# The Python module there has no reading functions (psutil's convention), and says why.
if PYTHONPATH=build-other/python /usr/bin/python3 -c 'import pressure, sys; sys.exit(pressure.PLATFORM != "unsupported" or hasattr(pressure, "pressure_memory"))'; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "unsupported: the Python module is missing or still has pressure_memory"
fi

stage "build (g++, ASan + UBSan)"
scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DPRESSURE_SANITIZE=address,undefined -DPRESSURE_BENCH=OFF
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_ctest "tests under ASan/UBSan" build-asan -E install_consumer -LE vm

stage "build (g++, ThreadSanitizer): the event loop and the rule engine"
scripts/build.sh build-tsan -DCMAKE_BUILD_TYPE=Debug -DPRESSURE_SANITIZE=thread -DPRESSURE_BENCH=OFF
# (StopSignals and CgroupSet: their threads; LiveLevels is left out: a TSan-built program does not fit the test's 72 MiB memory limit.)
TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/tests/tsan.supp" run_ctest "event loop and levels under TSan" build-tsan \
  -R "Monitor|WaitUntilEnded|Levels|Driver|MemoryReport|Engine|LiveWatch|LiveTriggers|MetricsServer|LiveServe|serve_storm|ControlWriter|StopSignals|CgroupSet|LiveDaemon.(ServesMetrics|Reload|Speaks|MemoryHigh|ARuleArmsAgain)" \
  -E "LiveLevels"

stage "build (clang, libFuzzer): the fuzz targets"
CXX=clang++ scripts/build.sh build-fuzz -DPRESSURE_FUZZ=ON -DPRESSURE_TESTS=OFF -DPRESSURE_BENCH=OFF --target fuzz
stage "fuzzing, ${fuzz_seconds} s a target"
if fuzz/run.sh build-fuzz "$fuzz_seconds"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

# Installing as users do: the Debian packages (built without tests, lintian, installed here,
# used, purged) and the Python module (pip install . offline into a fresh venv, the Python
# tests against that copy).
timed_stage() {  # name, command...: one pass or failure, and how long it took
  stage "$1"; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}
timed_stage "Debian packages" tests/packaging/deb_test.sh
timed_stage "pip install . and the wheel" tests/packaging/wheel_test.sh build

# The VM stage: Debian 12's 6.1 kernel, pure cgroup2 with every controller, root with every
# capability, as users run it. Every system test again, and the tests that need such a machine
# (label vm); the rescue of a thrashing machine in a guest of 768 MiB without swap (label rescue).
run_vm_ctest "VM: system tests on pure cgroup2, kernel 6.1" 2048 -L 'system|vm' -LE rescue
run_vm_ctest "VM: rescuing a thrashing machine" 768 -L rescue

stage "benchmarks, short (they report ratios and never fail on times; full runs: bench/README.md)"
if build/bench/snapshot_bench --rounds 5 --iterations 5000 && build/bench/scan_bench --children 200 --rounds 3 &&
   build/bench/watch_bench --trials 2 --idle-seconds 5 && build/bench/levels_bench --rounds 5 --iterations 5000 &&
   build/bench/daemon_bench build/src/cli/pressure build/tests/pressure_thrash --trials 2 --idle-seconds 10 &&
   build/bench/record_bench --ticks 10 --interval-ms 50 &&
   bench/peers.sh build --scrapes 50 --python-calls 1000 &&
   build/bench/serve_bench --cgroups 200 --rounds 2 --scrapes 5 --system-scrapes 100 &&
   PYTHONPATH=build/python /usr/bin/python3 python/bench/pressure_bench.py --calls 2000 --repeat 5 &&
   PYTHONPATH=build/python /usr/bin/python3 python/bench/levels_bench.py --calls 1000 --repeat 5 --trigger-seconds 10 &&
   tests/vm/run.sh --mem 1024 --timeout 900 -- bash -c 'for w in 500ms 1s; do
     build/bench/watch_bench --trials 3 --idle-seconds 0 --spec "cpu some 20%/$w" || exit 1; done'; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "benchmarks: a benchmark could not run"
fi

stage ""
sweep

echo
echo "time by stage ($((SECONDS / 60)) min in all):"
printf '  %s\n' "${timings[@]}"
echo "tests: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
