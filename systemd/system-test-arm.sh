#!/usr/bin/env bash
# System test on the Raspberry Pi's architectures (make test-system-arm):
#
#   systemd/system-test-arm.sh arm64 bin/deb/vigie_VERSION_arm64.deb
#   systemd/system-test-arm.sh armhf bin/deb/vigie_VERSION_armhf.deb
#
# The checks of system-test.sh, run by system-test.sh --guest inside Debian
# bookworm booted by full-system emulation (qemu-system, TCG) with Debian's
# own kernel: seccomp, the BPF device filter and the kernel modules are the
# real ones of that architecture (nspawn under qemu-user would skip
# seccomp). arm64: linux-image-arm64 on a cortex-a72; armhf:
# linux-image-armmp-lpae on a cortex-a15 (an armv7 kernel).
#
# Needs root, debootstrap, qemu-system-arm and e2fsprogs, and to make the
# root (once: it is cached like system-test.sh's, in VIGIE_TEST_CACHE)
# qemu-user-static with its binfmt handlers enabled: debootstrap runs the
# foreign root's maintainer scripts through them; the kernel's initramfs is
# built that way, about 20 min. The disk image is made afresh each run.
set -euo pipefail

arch=${1:?usage: system-test-arm.sh arm64|armhf PATH/TO/vigie_VERSION_ARCH.deb}
deb=$(realpath "${2:?usage: system-test-arm.sh arm64|armhf PATH/TO/vigie_VERSION_ARCH.deb}")
here=$(dirname "$(realpath "$0")")
suite=bookworm
mirror=${VIGIE_TEST_MIRROR:-http://deb.debian.org/debian}
cache=${VIGIE_TEST_CACHE:-/var/cache/vigie-system-test}
case $arch in
arm64) qemu=qemu-system-aarch64 cpu=cortex-a72 kernel=linux-image-arm64 binfmt=qemu-aarch64 ;;
armhf) qemu=qemu-system-arm cpu=cortex-a15 kernel=linux-image-armmp-lpae binfmt=qemu-arm ;;
*)
	echo "unknown architecture $arch (arm64 or armhf)" >&2
	exit 2
	;;
esac
include=systemd,systemd-sysv,dbus,kmod,udev,$kernel

((EUID == 0)) || {
	echo "needs root (debootstrap, mkfs.ext4 -d with owners)" >&2
	exit 1
}
for tool in debootstrap "$qemu" mkfs.ext4; do
	command -v "$tool" >/dev/null || {
		echo "$tool missing (apt-get install debootstrap qemu-system-arm qemu-user-static binfmt-support e2fsprogs)" >&2
		exit 1
	}
done

work=$(mktemp -d /var/tmp/vigie-system-$arch.XXXXXX)
trap '[[ -n ${KEEP:-} ]] && echo "work directory kept: $work" || rm -rf "$work"' EXIT
t0=$(date +%s.%N)
phase_start=$t0
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
phase() {
	echo "$arch phase $1: $(elapsed "$phase_start") s"
	phase_start=$(date +%s.%N)
}

key=$(printf '%s\n' "$suite" "$mirror" "$arch" minbase "$include" "$(dpkg-query -W -f='${Version}' debootstrap)" | sha256sum | cut -c1-12)
base=$cache/$suite-$arch-$key
if [[ ! -d $base ]]; then
	if [[ $(head -1 "/proc/sys/fs/binfmt_misc/$binfmt" 2>/dev/null) != enabled ]]; then
		echo "binfmt handler $binfmt not enabled: apt-get install qemu-user-static binfmt-support;" \
			"mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; update-binfmts --enable $binfmt" >&2
		exit 1
	fi
	mkdir -p "$cache"
	rm -rf "$base.tmp.$$"
	debootstrap --arch="$arch" --variant=minbase --include="$include" "$suite" "$base.tmp.$$" "$mirror" >"$work/debootstrap.log" 2>&1 || {
		tail -20 "$work/debootstrap.log"
		echo "debootstrap failed" >&2
		exit 1
	}
	mv -T "$base.tmp.$$" "$base" 2>/dev/null || rm -rf "$base.tmp.$$"
	echo "root: debootstrap $suite $arch ($include), cached as $base"
else
	echo "root: cached $base"
fi
phase debootstrap

# The guest's disk: a copy of the root with the test, the package and the
# unit that runs the test at boot.
root=$work/root
cp -a "$base" "$root"
echo vigie-test >"$root/etc/hostname"
echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' >"$root/etc/fstab"
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer dpkg-db-backup.timer fstrim.timer; do
	ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
install -D -m 0755 "$here/system-test.sh" "$root/usr/local/lib/vigie-test/system-test.sh"
cp "$deb" "$root/root/vigie.deb"
cat >"$root/etc/systemd/system/vigie-system-test.service" <<'EOF'
[Unit]
Description=Vigie system test (system-test.sh --guest)
After=multi-user.target
[Service]
Type=oneshot
TimeoutStartSec=infinity
ExecStart=/usr/local/lib/vigie-test/system-test.sh --guest /root/vigie.deb
StandardOutput=journal+console
StandardError=journal+console
[Install]
WantedBy=multi-user.target
EOF
ln -s /etc/systemd/system/vigie-system-test.service "$root/etc/systemd/system/multi-user.target.wants/vigie-system-test.service"
vmlinuz=$(ls "$root"/boot/vmlinuz-* | head -1)
initrd=$(ls "$root"/boot/initrd.img-* | head -1)
cp "$vmlinuz" "$work/vmlinuz"
cp "$initrd" "$work/initrd"
truncate -s 3G "$work/disk.img"
mkfs.ext4 -q -F -L vigie-test -d "$root" "$work/disk.img"
rm -rf "$root"
phase image

# Stage one reboots the guest (the boot-time module loading is the last
# check); stage two powers it off, which ends qemu.
timeout "${VIGIE_TEST_TIMEOUT:-3600}" "$qemu" -M virt -cpu "$cpu" -smp 2 -m 1024 -nographic -no-user-config \
	-nic none -kernel "$work/vmlinuz" -initrd "$work/initrd" \
	-append "root=/dev/vda rw console=ttyAMA0 panic=-1" \
	-drive "file=$work/disk.img,format=raw,if=none,id=hd0" -device virtio-blk-pci,drive=hd0 \
	-device virtio-rng-pci </dev/null >"$work/console.log" 2>&1 || true
# The test's lines, as journald forwards them to the console.
report() { tr -d '\r' <"$work/console.log" | sed -nE 's/^.*\[ *[0-9.]+\] system-test\.sh\[[0-9]+\]: //p'; }
report | sed "s/^/$arch: /"
phase "boots and checks (emulated)"
if ! report | grep -q '^system test: all checks passed'; then
	echo "$arch: FAIL; the last lines of the console:"
	tr -d '\r' <"$work/console.log" | tail -40
	exit 1
fi
echo "$arch: system test passed in $(elapsed "$t0") s"
