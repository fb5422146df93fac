#!/usr/bin/env bash
# System test: the .deb under a real systemd (issue 11, point 4).
#
#   systemd/system-test.sh bin/deb/vigie_VERSION_amd64.deb     (make test-system)
#
# Debootstraps a Debian bookworm root, boots it with systemd-nspawn so that
# the unit's device, syscall and IP policies are really enforced (cgroup v2
# with BPF device programs, seccomp), installs the package and checks what
# the journal says. Each check prints "ok NAME" and the journal lines (or
# command output) that prove it; the first failure prints the journal and
# exits 1.
#
# The daemon's modem is `vigie sim` (the same binary) run as a transient
# unit inside the container, its link at /dev/vigie-modem0, the device the
# packaged config names. The sim's tty is a /dev/pts node (major 136), which
# DevicePolicy=closed itself allows (systemd adds char-pts rw to every
# closed policy), so the unit runs unchanged; the test gives the pty group
# vigie and mode 0660, as 99-vigie-modem.rules does for a real modem.
#
# Needs root, debootstrap and systemd-nspawn (systemd-container); skips
# without them, except when CI is set (.ci/run installs them), where it
# fails. Outside CI the debootstrapped root is kept in VIGIE_TEST_CACHE
# (default /var/cache/vigie-system-test), keyed by what it contains, and
# each run boots an overlay of it; CI debootstraps afresh. KEEP=1 keeps the
# work directory.
#
# With --guest the script runs inside a booted system instead (the arm
# targets' full-system emulation, systemd/system-test-arm.sh): the same
# checks, started at boot by a unit; it reboots itself once for the last
# check and powers off at the end.
set -euo pipefail

guest=
if [[ ${1:-} == --guest ]]; then
	guest=1
	shift
fi
deb=$(realpath "${1:?usage: system-test.sh PATH/TO/vigie_VERSION_amd64.deb}")
suite=bookworm
mirror=${VIGIE_TEST_MIRROR:-http://deb.debian.org/debian}
include=systemd,systemd-sysv,dbus
cache=${VIGIE_TEST_CACHE:-/var/cache/vigie-system-test}
shop=+33612345678 # a shopkeeper's phone, simulated by the sim

skip() {
	if [[ -n ${CI:-} ]]; then
		echo "FAIL system test: $* (CI is set: no skipping)" >&2
		exit 1
	fi
	echo "SKIP system test: $*"
	exit 0
}
((EUID == 0)) || skip "needs root (debootstrap, systemd-nspawn, mknod)"
for tool in debootstrap systemd-nspawn nsenter; do
	[[ -n $guest ]] || command -v "$tool" >/dev/null || skip "$tool missing (apt-get install debootstrap systemd-container)"
done
[[ -f $deb ]] || {
	echo "no package $deb (make deb-amd64)" >&2
	exit 1
}

nspawn= leader= cursor= overlay=
# Waits are this many times longer under emulation.
slow=${VIGIE_TEST_SLOW:-1}
if [[ -n $guest ]]; then
	# Kept across the reboot.
	work=/var/lib/vigie-test
	mkdir -p "$work"
	root= leader=guest slow=${VIGIE_TEST_SLOW:-5}
else
	work=$(mktemp -d /var/tmp/vigie-system.XXXXXX)
	root=$work/root
fi
machine=vigie-test-$$
t0=$(date +%s.%N)
phase_start=$t0

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
phase() {
	echo "phase $1: $(elapsed "$phase_start") s"
	phase_start=$(date +%s.%N)
}

# in runs a command inside the booted container, with a clean environment.
ct() {
	if [[ -n $guest ]]; then
		/usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
	else
		nsenter -t "$leader" -a -- /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
	fi
}
# as USER CMD...: a command as a user of the container, as a login would.
as() {
	local user=$1
	shift
	ct runuser -u "$user" -- "$@"
}

shutdown_container() {
	[[ -n $nspawn ]] || return 0
	if kill -0 "$nspawn" 2>/dev/null; then
		# SIGRTMIN+4 asks systemd for a clean poweroff.
		[[ -n $leader ]] && kill -s RTMIN+4 "$leader" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$nspawn" 2>/dev/null || break
			sleep 0.2
		done
		kill -9 "$nspawn" 2>/dev/null || true
	fi
	wait "$nspawn" 2>/dev/null || true
	nspawn= leader=
}
cleanup() {
	local rc=$?
	if ((rc != 0)) && [[ -z $reported ]]; then
		reported=1
		echo "FAIL ${check_name:-setup}: exit status $rc (see the command's error above)"
		dump
	fi
	if [[ -n $guest ]]; then
		((rc == 0)) || systemctl poweroff --no-block
		return
	fi
	shutdown_container
	[[ -n $overlay ]] && umount "$root" 2>/dev/null || true
	if [[ -n ${KEEP:-} ]]; then
		echo "work directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# --- checks and their evidence -----------------------------------------

check_name= proof=() reported=
check() {
	check_name=$1 proof=()
	mark
}
# mark remembers the time, so that evidence comes after it (host and
# container share the clock). Not a cursor: journalctl 252 with
# --after-cursor and -u skips entries.
mark() { cursor=$(date +%s.%N); }
# since [journalctl args]: the journal after the mark.
since() { ct journalctl -q --no-pager -o short-precise ${cursor:+--since=@$cursor} "$@"; }
# await SECONDS REGEX [journalctl args]: waits for a journal line after the
# mark, keeps it as evidence.
await() {
	local limit=$1 re=$2 line
	shift 2
	local end=$((SECONDS + limit * slow))
	while ((SECONDS <= end)); do
		# Read whole, then searched: grep -m1 on a pipe would cut
		# journalctl short, a failure under pipefail.
		line=$(since "$@")
		if line=$(grep -E -m1 -- "$re" <<<"$line"); then
			proof+=("$line")
			return 0
		fi
		sleep 0.3
	done
	fail "no journal line matching /$re/ within ${limit}s in: journalctl $*"
}
# evidence TEXT...: output that proves the check, kept with the journal lines.
evidence() { proof+=("$@"); }
pass() {
	echo "ok   $check_name"
	printf '       %s\n' "${proof[@]}"
}
fail() {
	reported=1
	echo "FAIL $check_name: $*"
	((${#proof[@]})) && printf '       %s\n' "${proof[@]}"
	dump
	exit 1
}
dump() {
	[[ -n $leader ]] || return 0
	echo "--- journal of vigie and the sim (last 80 lines):"
	ct journalctl -q --no-pager -o short-precise -u vigie -u vigie-sim -n 80 || true
}
# expect WANT CMD...: runs a command in the container, fails the check
# unless it exits WANT; its output is in $out.
expect() {
	local want=$1 rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	((rc == want)) || fail "$(printf '%q ' "$@")exited $rc, not $want: $out"
}

mainpid() { ct systemctl show -P MainPID vigie.service; }
# subscribers: how many the daemon lists.
subscribers() { as operateur vigie subscribers list --json | grep -c '"phone"' || true; }
# wait_active: vigie.service active (after READY=1, Type=notify).
wait_active() {
	local end=$((SECONDS + 60 * slow))
	until [[ $(ct systemctl is-active vigie.service) == active ]]; do
		((SECONDS < end)) || fail "vigie.service not active within $((60 * slow))s"
		sleep 0.3
	done
}

# --- the root file system ------------------------------------------------

setup() {

	make_root() {
		local dir=$1
		debootstrap --variant=minbase --include="$include" "$suite" "$dir" "$mirror" >"$work/debootstrap.log" 2>&1 ||
			{
				tail -20 "$work/debootstrap.log"
				echo "debootstrap failed" >&2
				exit 1
			}
		echo vigie-test >"$dir/etc/hostname"
		# Nothing in the test needs these; they only add work to each boot.
		for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer dpkg-db-backup.timer fstrim.timer; do
			ln -sf /dev/null "$dir/etc/systemd/system/$unit"
		done
}

if [[ -n ${CI:-} ]]; then
	make_root "$root"
	echo "root: debootstrap $suite ($include) into $root"
else
	key=$(printf '%s\n' "$suite" "$mirror" minbase "$include" "$(dpkg-query -W -f='${Version}' debootstrap)" "$(declare -f make_root)" | sha256sum | cut -c1-12)
	base=$cache/$suite-$(dpkg --print-architecture)-$key
	if [[ ! -d $base ]]; then
		mkdir -p "$cache"
		rm -rf "$base.tmp.$$"
		make_root "$base.tmp.$$"
		mv -T "$base.tmp.$$" "$base" 2>/dev/null || rm -rf "$base.tmp.$$"
		echo "root: debootstrap $suite ($include), cached as $base"
	else
		echo "root: cached $base"
	fi
	mkdir -p "$root" "$work/upper" "$work/ovl"
	if mount -t overlay overlay -o "lowerdir=$base,upperdir=$work/upper,workdir=$work/ovl" "$root"; then
		overlay=1
	else
		cp -a "$base/." "$root/"
	fi
fi
phase debootstrap

cp "$deb" "$root/root/vigie.deb"
}

boot() {
	SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn -q -D "$root" -M "$machine" \
		--register=no --keep-unit --capability=all --system-call-filter='bpf perf_event_open' \
		--private-network --console=read-only -b </dev/null >>"$work/console.log" 2>&1 &
	nspawn=$!
	local end=$((SECONDS + 60))
	until leader=$(pgrep -P "$nspawn" -x systemd); do
		kill -0 "$nspawn" 2>/dev/null || {
			cat "$work/console.log"
			echo "systemd-nspawn exited" >&2
			exit 1
		}
		((SECONDS < end)) || {
			echo "no systemd in the container within 60s" >&2
			exit 1
		}
		sleep 0.1
	done
	# running, or degraded: systemd-modules-load fails on a kernel without
	# modules (this one), which the test does not need.
	local state
	until state=$(ct systemctl is-system-running 2>/dev/null); [[ $state == running || $state == degraded ]]; do
		((SECONDS < end)) || {
			echo "container not booted within 60s: $state" >&2
			exit 1
		}
		sleep 0.2
	done
}

# --- boot 1: install, use, break, reinstall -----------------------------

boot1() {
	check "installed: active after READY=1"
	ct dpkg -i /root/vigie.deb >"$work/dpkg.log" 2>&1 || fail "dpkg -i: $(cat "$work/dpkg.log")"
	wait_active
	await 10 'vigie starting' -u vigie
	await 10 'Started vigie.service' -u vigie
	evidence "systemctl is-active: $(ct systemctl is-active vigie.service); NotifyAccess=$(ct systemctl show -P NotifyAccess vigie.service)"
	ct test -s /usr/share/doc/vigie/guide-installation.md -a -s /usr/share/doc/vigie/fiche-operateur.md -a -s /usr/share/man/man5/vigie.toml.5.gz || fail "the guide, the operator's card or vigie.toml(5) not installed"
	[[ -z $guest ]] || evidence "tty majors after the postinst's modprobe: $(grep -E 'ttyUSB|ttyACM' /proc/devices | xargs)"
	pass

	check "resource limits that fit a Pi: descriptors, memory, tasks"
	local pid nofile memmax
	pid=$(mainpid)
	nofile=$(ct awk '/^Max open files/ {print $4}' "/proc/$pid/limits")
	memmax=$(ct systemctl show -P MemoryMax vigie.service)
	[[ $nofile == 256 ]] || fail "daemon's open-files limit is $nofile, want 256"
	[[ $memmax == $((160 << 20)) ]] || fail "MemoryMax is $memmax, want 160M"
	evidence "Max open files $nofile; MemoryHigh=$(ct systemctl show -P MemoryHigh vigie.service) MemoryMax=$memmax TasksMax=$(ct systemctl show -P TasksMax vigie.service)"
	pass

	# From here on a filtered system call kills the daemon (SIGSYS) instead of
	# failing with EPERM: every later check runs under it, and the journal must
	# never show one.
	mkdir -p "$root/etc/systemd/system/vigie.service.d"
	printf '[Service]\nSystemCallErrorNumber=\n' >"$root/etc/systemd/system/vigie.service.d/50-test-kill.conf"
	ct systemctl daemon-reload
	kill_cursor=$cursor

	check "the sim as /dev/vigie-modem0: modem ready"
	ct mkfifo -m 0600 /run/vigie-sim.in
	# The sim reads its phones' SMS from the FIFO, opened read-write so that
	# it never sees end-of-file between two writers; what it sends is logged.
	ct systemd-run -q --unit=vigie-sim -- /bin/sh -c 'exec /usr/bin/vigie sim --link /dev/vigie-modem0 --delay 300ms <>/run/vigie-sim.in'
	end=$((SECONDS + 20))
	until pts=$(ct readlink -e /dev/vigie-modem0); do
		((SECONDS < end)) || fail "no /dev/vigie-modem0 from the sim"
		sleep 0.2
	done
	# What 99-vigie-modem.rules does for a real modem.
	ct chgrp vigie "$pts"
	ct chmod 0660 "$pts"
	ct systemctl restart vigie.service
	wait_active
	await 30 'modem ready' -u vigie
	evidence "/dev/vigie-modem0 -> $pts (major:minor in hex $(ct stat -c '%t:%T, group %G, mode %a' "$pts"))" \
		"drop-in SystemCallErrorNumber=: systemctl show says $(ct systemctl show -P SystemCallErrorNumber vigie.service) (SECCOMP_ERROR_NUMBER_KILL: a filtered call kills)"
	pass

	check "vigie status: a member of group vigie, exit 4 for another user"
	ct useradd --create-home --groups vigie operateur
	ct useradd --create-home autre
	expect 0 as operateur vigie status
	evidence "operateur\$ vigie status  (exit 0)" "$(grep -m3 -E 'prêt|ready|m1' <<<"$out")"
	expect 4 as autre vigie status
	evidence "autre\$ vigie status  (exit 4)" "$out"
	pass

	inject() { ct sh -c 'printf "%s\n" "$1" >/run/vigie-sim.in' - "$*"; }

	check "an alert delivered through the sim"
	inject "$shop INSCRIPTION macon-centre bijoutier"
	await 30 "→ \\$shop : .*OUI [0-9]+" -u vigie-sim
	code=$(grep -oE 'OUI [0-9]+' <<<"${proof[-1]}" | cut -d' ' -f2)
	mark
	inject "$shop OUI $code"
	await 30 "→ \\$shop : " -u vigie-sim
	mark
	expect 0 as operateur vigie alert send --zone macon --yes --wait "vol à l'étalage rue Carnot, homme 30 ans, blouson rouge"
	evidence "operateur\$ vigie alert send --zone macon --yes --wait …  (exit 0)" "$(tail -2 <<<"$out")"
	await 30 "→ \\$shop : Vigilance commerce 71 : vol" -u vigie-sim
	await 30 'alert accepted' -u vigie
	await 60 'alert finished' -u vigie
	pass

	check "every daemon path under the syscall-kill drop-in"
	# Each CLI command is a different API handler and store path; inbound SMS,
	# STOP and the test SMS go through the modem's receive and send paths.
	inject "$shop bonjour, la vitrine est réparée"
	await 30 'inbound SMS handled' -u vigie
	printf 'téléphone;zone;métier\n06 11 22 33 44;charnay;pharmacie\n' >"$root/home/operateur/import.csv"
	ct chown operateur "/home/operateur/import.csv"
	# ids CMD...: the ids in a JSON listing, in increasing order.
	ids() {
		local json
		json=$(as operateur "$@")
		grep -oE '"id": *[0-9]+' <<<"$json" | grep -oE '[0-9]+' | sort -n | grep . || fail "no id in $*: $json"
	}
	paths=(
		"vigie status --json"
		"vigie zones"
		"vigie alert preview --zone macon essai"
		"vigie alert list"
		"vigie alert show 1"
		"vigie alert followup 1 --yes \"fin d'alerte : individu interpellé\""
		"vigie alert test --to $shop 'essai du modem'"
		"vigie subscribers list"
		"vigie subscribers show $shop"
		"vigie subscribers add 0655443322 --zone macon-nord --trade tabac"
		"vigie subscribers import /home/operateur/import.csv"
		"vigie subscribers export /home/operateur/export.csv"
		"vigie subscribers remove 0655443322 --erase --yes"
		"vigie alert send --zone charnay --yes 'essai à annuler'"
		"vigie alert cancel LAST --yes"
		"vigie inbox"
		"vigie inbox show INBOX"
		"vigie inbox read INBOX"
		"vigie audit"
		"vigie audit verify"
		"vigie backup /home/operateur/backup.db"
	)
	mark
	paths_mark=$cursor
	for p in "${paths[@]}"; do
		[[ $p != *LAST* ]] || p=${p/LAST/$(ids vigie alert list --json | tail -1)}
		[[ $p != *INBOX* ]] || p=${p/INBOX/$(ids vigie inbox list --json | head -1)}
		eval "argv=($p)"
		expect 0 as operateur "${argv[@]}"
	done
	evidence "${#paths[@]} commands exited 0 as operateur: ${paths[*]/%/;}"
	# The test SMS and the follow-up, queued by the commands above.
	cursor=$paths_mark
	await 60 "→ \\$shop : .*essai du modem" -u vigie-sim
	await 60 "→ \\$shop : .*fin d'alerte" -u vigie-sim
	mark
	inject "+33611223344 STOP"
	await 30 'inbound SMS handled.*outcome=stopped' -u vigie
	pass

	check "a stopped daemon is restarted by the watchdog"
	printf '[Service]\nWatchdogSec=6s\n' >"$root/etc/systemd/system/vigie.service.d/60-test-watchdog.conf"
	ct systemctl daemon-reload
	ct systemctl restart vigie.service
	wait_active
	pid=$(mainpid)
	mark
	ct sh -c 'kill -STOP "$1"' - "$pid"
	await 30 'vigie.service: Watchdog timeout' -u vigie
	await 30 'vigie.service: Killing process [0-9]+ \(vigie\) with signal SIGABRT' -u vigie
	await 30 "vigie.service: Main process exited, code=(dumped|killed|exited), status=.*" -u vigie
	await 30 'vigie.service: Scheduled restart job' -u vigie
	await 30 'Started vigie.service' -u vigie
	wait_active
	newpid=$(mainpid)
	[[ $newpid != "$pid" ]] || fail "MainPID still $pid"
	evidence "MainPID $pid (SIGSTOP) -> $newpid; NRestarts=$(ct systemctl show -P NRestarts vigie.service)"
	rm "$root/etc/systemd/system/vigie.service.d/60-test-watchdog.conf"
	ct systemctl daemon-reload
	ct systemctl restart vigie.service
	wait_active
	pass

	check "clean systemctl stop"
	ct systemctl stop vigie.service
	await 30 'vigie stopped' -u vigie
	await 30 'vigie.service: Deactivated successfully' -u vigie
	await 30 'Stopped vigie.service' -u vigie
	result=$(ct systemctl show -P Result vigie.service)
	status=$(ct systemctl show -P ExecMainStatus vigie.service)
	[[ $result == success && $status == 0 ]] || fail "Result=$result ExecMainStatus=$status"
	if since -u vigie | grep -E 'SIGKILL|timed out'; then fail "stop needed SIGKILL"; fi
	evidence "Result=$result ExecMainStatus=$status"
	pass

	check "the database kept across restart, reinstall, purge and reinstall"
	ct systemctl start vigie.service
	wait_active
	before=$(subscribers)
	alerts_before=$(as operateur vigie alert list --json | grep -c '"id"' || true)
	((before > 0)) || fail "no subscriber before the restart"
	ct systemctl restart vigie.service
	wait_active
	after_restart=$(subscribers)
	ct dpkg -i /root/vigie.deb >"$work/dpkg.log" 2>&1 || fail "reinstall: $(cat "$work/dpkg.log")"
	wait_active
	after_reinstall=$(subscribers)
	ct dpkg --purge vigie >"$work/dpkg.log" 2>&1 || fail "purge: $(cat "$work/dpkg.log")"
	await 30 'Stopped vigie.service' -u vigie
	state=$(ct systemctl is-active vigie.service || true)
	[[ $state != active ]] || fail "vigie still active after purge"
	ct test ! -e /usr/bin/vigie || fail "/usr/bin/vigie left after purge"
	ct test -s /var/lib/vigie/vigie.db || fail "/var/lib/vigie/vigie.db gone after purge"
	ct dpkg -i /root/vigie.deb >"$work/dpkg.log" 2>&1 || fail "install after purge: $(cat "$work/dpkg.log")"
	wait_active
	after_purge=$(subscribers)
	alerts_after=$(as operateur vigie alert list --json | grep -c '"id"' || true)
	for n in "$after_restart" "$after_reinstall" "$after_purge"; do
		[[ $n == "$before" ]] || fail "subscribers: $before before, then $after_restart, $after_reinstall, $after_purge"
	done
	[[ $alerts_after == "$alerts_before" ]] || fail "alerts: $alerts_before before, $alerts_after after"
	await 10 'vigie starting' -u vigie
	evidence "subscribers: $before before, $after_restart after restart, $after_reinstall after reinstall, $after_purge after purge and install; alerts: $alerts_before, then $alerts_after" \
		"after purge: vigie.service $state, /usr/bin/vigie gone, /var/lib/vigie/vigie.db kept"
	pass

	check "DeviceAllow race, the failure mode: a ttyUSB node (188:0) whose driver registered no major before the unit started"
	ct systemctl stop vigie-sim.service
	ct rm -f /dev/vigie-modem0
	if [[ -n $guest ]]; then
		# A real kernel: the postinst loaded the drivers; unloaded, they are
		# the box where vigie started before them.
		ct modprobe -r cdc_acm usbserial
	fi
	ct mknod -m 0660 /dev/vigie-modem0 c 188 0
	ct chgrp vigie /dev/vigie-modem0
	ct systemctl restart vigie.service
	wait_active
	await 30 'open /dev/vigie-modem0.*operation not permitted' -u vigie
	evidence "/proc/devices has no ttyUSB: $(ct grep -c ttyUSB /proc/devices || true) line; the node is refused by the unit's BPF device program"
	if [[ -n $guest ]]; then
		# The driver loads after vigie started: still refused, the race.
		ct modprobe usbserial
		mark
		await 90 'open /dev/vigie-modem0.*operation not permitted' -u vigie
		evidence "modprobe usbserial after the start: $(ct grep ttyUSB /proc/devices) in /proc/devices, the node still refused"
	fi
	pass

	check "no SIGSYS in the journal, with SystemCallErrorNumber= reset"
	cursor=$kill_cursor
	if since | grep -E 'status=31/SYS|SIGSYS|code=killed, status=31'; then
		fail "a filtered system call killed the daemon"
	fi
	evidence "journalctl --since=<the drop-in> | grep -E 'status=31/SYS|SIGSYS': nothing, over $(since -u vigie | grep -c 'Started vigie.service') starts of vigie.service"
	pass

	check "systemd-analyze security, online, at most 1.0"
	rm -r "$root/etc/systemd/system/vigie.service.d"
	ct systemctl daemon-reload
	ct systemctl restart vigie.service
	wait_active
	score=$(ct systemd-analyze security --no-pager vigie.service | grep 'Overall exposure level')
	evidence "$score"
	awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+$/) { exit !($i <= 1.0) } exit 1 }' <<<"$score" || fail "exposure above 1.0"
	pass

}

# --- boot 2: the DeviceAllow race fixed ---------------------------------
#
# The package ships /usr/lib/modules-load.d/vigie.conf: usbserial and
# cdc_acm are loaded by systemd-modules-load.service, before sysinit.target
# and so before vigie.service, and their tty majors (188 ttyUSB, 166 ttyACM)
# are in /proc/devices when systemd resolves DeviceAllow=char-ttyUSB. A
# driver that loads later (option, qcserial, ftdi_sio…) only adds ports to
# usbserial's major. The kernel here has no modules at all, so a test unit
# ordered like systemd-modules-load stands for the modules having loaded:
# it puts /proc/devices with those two lines in place before sysinit.target.
# Under --guest (a Debian kernel) the modules really load.

prepare_boot2() {
	[[ -z $guest ]] || return 0
	awk '{ print } /^Character devices:/ { print "166 ttyACM"; print "188 ttyUSB" }' /proc/devices >"$root/usr/local/lib/proc-devices-with-usbserial"
	cat >"$root/etc/systemd/system/test-usbserial.service" <<-'EOF'
	[Unit]
	Description=Test stand-in for usbserial and cdc_acm registering their tty majors
	DefaultDependencies=no
	After=systemd-modules-load.service
	Before=sysinit.target
	[Service]
	Type=oneshot
	RemainAfterExit=yes
	ExecStart=/bin/mount --bind /usr/local/lib/proc-devices-with-usbserial /proc/devices
	[Install]
	WantedBy=sysinit.target
	EOF
	ct systemctl enable -q test-usbserial.service
}

before_reboot() {
	prepare_boot2
	# Its debug level logs which files it applies and what it loads.
	mkdir -p "$root/etc/systemd/system/systemd-modules-load.service.d"
	printf '[Service]\nEnvironment=SYSTEMD_LOG_LEVEL=debug\n' >"$root/etc/systemd/system/systemd-modules-load.service.d/test-debug.conf"
	ct test -s /usr/lib/modules-load.d/vigie.conf || fail "no /usr/lib/modules-load.d/vigie.conf"
	subscribers >"$work/subscribers-before-boot"
}

boot2() {
	check "DeviceAllow race fixed: modules-load.d, and a node made after start-up is accepted without restart"
	modules=$(ct grep -v '^#' /usr/lib/modules-load.d/vigie.conf | xargs)
	before_boot=$(cat "$work/subscribers-before-boot")
	cursor=
	await 10 "apply: /usr/lib/modules-load.d/vigie.conf" -b -t systemd-modules-load
	await 10 "Loading module: usbserial" -b -t systemd-modules-load
	await 10 "Loading module: cdc_acm" -b -t systemd-modules-load
	if [[ -n $guest ]]; then
		await 10 "Inserted module 'usbserial'" -b -t systemd-modules-load
		await 10 "Inserted module 'cdc_acm'" -b -t systemd-modules-load
	else
		# PID 1's own lines from before journald was up can be lost: the
		# unit's state says it instead.
		[[ $(ct systemctl show -P ActiveState test-usbserial.service) == active ]] || fail "test-usbserial.service did not run"
		evidence "test-usbserial.service active since $(ct systemctl show -P ActiveEnterTimestamp test-usbserial.service)"
	fi
	await 30 'Started vigie.service' -b -u vigie
	wait_active
	pid=$(mainpid)
	evidence "vigie.service started $(ct systemctl show -P ExecMainStartTimestamp vigie.service), /proc/devices then: $(ct grep -E 'ttyUSB|ttyACM' /proc/devices | xargs)"
	after=$(ct systemctl show -P After vigie.service)
	before=$(ct systemctl show -P Before systemd-modules-load.service)
	[[ " $after " == *" sysinit.target "* && " $before " == *" sysinit.target "* ]] ||
		fail "vigie.service After=$after; systemd-modules-load Before=$before"
	mark
	# The modem plugged in after vigie started: udev makes its node.
	ct mknod -m 0660 /dev/vigie-modem0 c 188 0
	ct chgrp vigie /dev/vigie-modem0
	await 90 'open /dev/vigie-modem0.*no such device or address' -u vigie
	if since -u vigie | grep -E 'operation not permitted'; then fail "the node was refused"; fi
	[[ $(mainpid) == "$pid" && $(ct systemctl show -P NRestarts vigie.service) == 0 ]] || fail "vigie.service was restarted"
	after_boot=$(subscribers)
	[[ $after_boot == "$before_boot" ]] || fail "subscribers: $before_boot before reboot, $after_boot after"
	evidence "modules-load.d/vigie.conf: $modules; vigie.service After= has sysinit.target, systemd-modules-load.service Before= has sysinit.target" \
		"node 188:0 made after start-up: ENXIO (no hardware behind it), not EPERM; MainPID $pid, NRestarts=0" \
		"subscribers: $before_boot before the reboot, $after_boot after"
	pass
}

if [[ -n $guest ]]; then
	if [[ ! -e $work/stage2 ]]; then
		boot1
		before_reboot
		phase "checks before the reboot"
		touch "$work/stage2"
		systemctl reboot --no-block
	else
		boot2
		phase "checks after the reboot"
		echo "system test: all checks passed"
		systemctl poweroff --no-block
	fi
	exit 0
fi
setup
boot
phase boot
boot1
before_reboot
phase "checks before the reboot"
shutdown_container
boot
phase "boot 2"
boot2
phase "check after the reboot"
echo "system test: all checks passed in $(elapsed "$t0") s"
