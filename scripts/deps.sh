#!/usr/bin/env bash
# Installs the Debian 12 packages the build, the tests and the benchmarks need (as root).
# Runs apt-get update only when something is missing.
set -euo pipefail
packages=(
  cmake ninja-build g++ clang libclang-rt-14-dev pkg-config
  libexpected-dev libcli11-dev nlohmann-json3-dev libfmt-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  python3 python3-dev pybind11-dev python3-pytest python3-mypy
  libtomlplusplus-dev libcpp-httplib-dev libdeflate-dev zlib1g-dev libsqlite3-dev sqlite3 libncurses-dev librsvg2-bin
  prometheus-node-exporter prometheus oomd stress-ng tmux curl
  scdoc man-db zsh fish debhelper dh-python lintian python3-build python3-venv  # man pages, completions, packages
  qemu-system-x86 busybox-static cpio earlyoom  # the VM test bed (tests/vm) and its rescue peers
  ccache  # the build reuses objects across build folders and clones (scripts/build.sh)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # oomd and earlyoom are peers the benchmarks start themselves (earlyoom only inside the VM
  # guest): a service that this install enabled on the host would kill the host's processes.
  if [ -d /run/systemd/system ]; then
    for service in oomd earlyoom; do
      [[ " ${missing[*]} " == *" $service "* ]] && $sudo systemctl disable --now "$service" 2>/dev/null || true
    done
  fi
fi
echo "deps: all ${#packages[@]} packages present"
