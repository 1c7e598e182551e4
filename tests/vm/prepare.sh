#!/usr/bin/env bash
# Prepares the VM test bed's kernel and initramfs in a cache folder and prints that folder.
# The kernel is Debian 12's own 6.1 LTS kernel (the newest linux-image-6.1.0-N-amd64-unsigned
# that apt knows), fetched with `apt-get download` and unpacked with `dpkg-deb`: nothing is
# installed into /boot. The initramfs is busybox plus the kernel's virtio, 9p and overlay
# modules, the virtio disk and ext4 modules (a disk-backed /var/tmp) and tests/vm/init. Both are
# reused while the kernel and the init script are unchanged.
# Usage: tests/vm/prepare.sh            (cache: $PRESSURE_VM_CACHE or /var/cache/pressure-vm)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${PRESSURE_VM_CACHE:-/var/cache/pressure-vm}
mkdir -p "$cache"
cd "$cache"

need=()
for package in qemu-system-x86 busybox-static cpio e2fsprogs; do  # busybox-static: the initramfs has no libc
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || need+=("$package")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "vm: installing ${need[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The kernel: a cached one is kept; otherwise the newest 6.1 that apt offers.
deb=$(ls -1 linux-image-6.1.0-*-amd64-unsigned_*.deb 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$deb" ]; then
  find_kernel() { apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' | awk '{print $1}' | sort -V | tail -1; }
  name=$(find_kernel)
  if [ -z "$name" ]; then apt-get update -qq >&2; name=$(find_kernel); fi
  [ -n "$name" ] || { echo "vm: apt knows no linux-image-6.1.0-N-amd64-unsigned (is Debian 12's archive in sources.list?)" >&2; exit 1; }
  echo "vm: downloading $name" >&2
  apt-get download -qq "$name" >&2 2>/dev/null || apt-get download "$name" >&2
  deb=$(ls -1 "$name"_*.deb | tail -1)
fi
release=$(dpkg-deb -f "$deb" Package | sed -E 's/^linux-image-(.*)-unsigned$/\1/')
modules=(virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p overlay
  virtio_blk crc16 crc32c_generic mbcache jbd2 ext4)
# Unpacked again when a module of the list is missing (the list grew since the last unpacking).
unpacked=1
[ -f "kernel-$release/vmlinuz" ] || unpacked=0
for m in "${modules[@]}"; do
  [ $unpacked = 1 ] && [ -z "$(find "kernel-$release/lib/modules" -name "$m.ko" 2>/dev/null | head -1)" ] && unpacked=0
done
if [ $unpacked = 0 ]; then
  rm -rf "kernel-$release.tmp" && mkdir -p "kernel-$release.tmp"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "kernel-$release.tmp" --wildcards "./boot/vmlinuz-*" \
    $(printf ' --wildcards ./lib/modules/*/%s.ko' "${modules[@]/#/*/}") 2>/dev/null || true
  mv "kernel-$release.tmp/boot/vmlinuz-$release" "kernel-$release.tmp/vmlinuz"
  rm -rf "kernel-$release" && mv "kernel-$release.tmp" "kernel-$release"
fi

# The initramfs: rebuilt when the init script, the module list or busybox changes.
stamp=$( (cat "$here/init"; echo "${modules[*]}"; md5sum /bin/busybox) | md5sum | cut -c1-12)
initrd="initrd-$release-$stamp.cpio.gz"
if [ ! -f "$initrd" ]; then
  root=$(mktemp -d "$cache/initrd.XXXXXX")
  mkdir -p "$root"/{bin,dev,proc,sys,newroot,lower,upper,modules}
  cp /bin/busybox "$root/bin/busybox"
  for m in "${modules[@]}"; do
    f=$(find "kernel-$release/lib/modules" -name "$m.ko" | head -1)
    [ -n "$f" ] || { echo "vm: module $m.ko is missing from $deb" >&2; exit 1; }
    cp "$f" "$root/modules/"
  done
  echo "${modules[*]}" >"$root/modules/order"
  install -m 755 "$here/init" "$root/init"
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd.tmp"
  mv "$initrd.tmp" "$initrd"
  rm -rf "$root"
  for old in initrd-*.cpio.gz; do [ "$old" = "$initrd" ] || rm -f "$old"; done
fi
ln -sfn "kernel-$release/vmlinuz" vmlinuz
ln -sfn "$initrd" initrd.cpio.gz
echo "$cache"
