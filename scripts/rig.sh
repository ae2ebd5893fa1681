#!/usr/bin/env bash
# rig.sh [TOPOLOGY...]: the DMA rig.  Builds the rig kernels the topologies
# name (kernel=debug: rig/rig-arm64.config plus rig/rig-debug.config;
# kernel=lean: rig/rig-arm64.config alone) and the VFIO selftests from the
# check tree, packs them with busybox and rig/init into an initramfs, boots
# each topology (rig/topo/NAME.topo) under QEMU, parses the guest's KTAP
# with kunit.py's parser, and fails a run whose kernel log shows a lockdep
# splat, KASAN or UBSAN report, kmemleak leak, WARN or BUG.  Each
# topology's cases are compared with the base's (results/base/rig-T.txt,
# made by make base-results): a case that fails fails the run, whether or
# not it fails on the base (unless config/rig-known-failures lists it), and
# the comparison is printed.  Prints "rig: P passed, F failed, S skipped,
# K known; N cases, N same, N fixed, N lost".
#
# RIG_KTREE=DIR builds the kernels from DIR instead of the check tree (make
# base-results: the base's kernel with the series' tests); options of the
# fragments that DIR's Kconfig does not have are then left out.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need_root rig

CK=${CK:-$BUILD/check}
CKWT=$CK/linux
KTREE=${RIG_KTREE:-$CKWT}
R=$CK/rig
# The lean-kernel topologies first: make check boots them beside KUnit's
# QEMU runs, and the debug kernel's guest, the one closest to the tests'
# 30 s timeouts, meets less of that the later it comes.
TOPOS=${*:-${RIG_TOPOS:-virtio multi smmu}}
# RIG_PHASE=build: only build the kernel, selftests and initramfs (make
# check overlaps that with KUnit); boot: only boot (make check runs the
# boots beside its one KUnit runner, one topology at a time, see below);
# key: print each topology's key of the base's results (below), nothing else.
RIG_PHASE=${RIG_PHASE:-all}
TIMEOUT=${RIG_TIMEOUT:-900}
# Under TCG a Cortex-A76 (no SVE, no pointer authentication) is much cheaper
# to emulate than "max" (see check.sh); the SMMU and the tests do not care.
RIG_CPU=${RIG_CPU:-cortex-a76}
JOBS=${JOBS:-$(nproc)}
mkdir -p "$R"

# The kernel a topology boots (its "kernel" variable, debug by default) and
# the object directory of each kind; the debug one keeps the rig's own.
topo_kernel() { (kernel=debug; . "$PROJ/rig/topo/$1.topo"; echo "$kernel"); }
kernel_dir() {
	case $1 in
	debug) echo "$R" ;;
	lean) echo "$CK/rig-lean" ;;
	*) die "unknown rig kernel '$1' (debug or lean)" ;;
	esac
}
for t in $TOPOS; do
	[ -f "$PROJ/rig/topo/$t.topo" ] || die "no topology $t ($PROJ/rig/topo/$t.topo)"
	kernel_dir "$(topo_kernel "$t")" >/dev/null
done
KERNELS=$(for t in $TOPOS; do topo_kernel "$t"; done | sort -u)

# build_kernel KIND: the kernel of KIND in its directory; fails when Kconfig
# dropped an option of the fragments (an unmet dependency does that silently).
build_kernel() {
	local k=$1 d frags o
	d=$(kernel_dir "$k")
	frags=$PROJ/rig/rig-arm64.config
	[ "$k" = debug ] && frags="$frags $PROJ/rig/rig-debug.config"
	mkdir -p "$d"
	cat $frags >"$d/.config"
	in_root "make -s -C '$KTREE' O='$d' ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- -j$JOBS olddefconfig" || return 1
	for o in $(cat $frags | sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=y$/\1/p'); do
		grep -q "^$o=y\$" "$d/.config" && continue
		if [ "$KTREE" != "$CKWT" ] && ! grep -rqE --include='Kconfig*' \
			"^(menu)?config[[:space:]]+${o#CONFIG_}[[:space:]]*\$" "$KTREE"; then
			echo "$o: not in $KTREE's Kconfig (an option of the series), left out"
			continue
		fi
		echo "$o is not set in the $k kernel's .config"
		return 1
	done
	in_root "make -s -C '$KTREE' O='$d' ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- -j$JOBS Image headers"
}

if [ "$RIG_PHASE" = all ] || [ "$RIG_PHASE" = build ]; then
for k in $KERNELS; do
	d=$(kernel_dir "$k")
	log "rig: $k kernel (log: ${d#"$PROJ"/}/build.log)"
	mkdir -p "$d"
	build_kernel "$k" >"$d/build.log" 2>&1 || die "the rig's $k kernel does not build (log: $d/build.log)"
done

# The UAPI headers of either kernel serve the selftests.
log "rig: VFIO selftests"
hdr=$(kernel_dir "$(echo "$KERNELS" | head -n1)")/usr/include
mkdir -p "$R/selftests"
in_root "make -s -C '$CKWT/tools/testing/selftests/vfio' ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
	OUTPUT='$R/selftests' KHDR_INCLUDES='-isystem $hdr' LDFLAGS='-static -pthread'" \
	>"$R/selftests.log" 2>&1 || die "the VFIO selftests do not build (log: $R/selftests.log)"
log "rig: iommufd selftests"
mkdir -p "$R/selftests-iommu"
in_root "make -s -C '$CKWT/tools/testing/selftests/iommu' ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
	OUTPUT='$R/selftests-iommu' KHDR_INCLUDES='-isystem $hdr' LDFLAGS='-static -pthread'" \
	>"$R/selftests-iommu.log" 2>&1 || die "the iommufd selftests do not build (log: $R/selftests-iommu.log)"

log "rig: initramfs"
rm -rf "$R/initramfs"
mkdir -p "$R/initramfs"/{bin,tests,etc/rig,dev,proc,sys,tmp}
cp "$CACHE/guest/busybox/usr/bin/busybox" "$R/initramfs/bin/busybox"
for a in sh mount sed grep cat readlink basename sort wc tr dmesg sleep poweroff mkdir date; do
	ln -s busybox "$R/initramfs/bin/$a"
done
cp "$PROJ/rig/init" "$R/initramfs/init"
cp "$PROJ"/rig/topo/*.topo "$R/initramfs/etc/rig/"
for t in $(cd "$PROJ/rig/topo" && cat *.topo | sed -n 's/^tests[0-9]*="\(.*\)"/\1/p' |
	tr ' ' '\n' | sed 's/:.*//' | sort -u); do
	cp "$R/selftests/$t" "$R/initramfs/tests/"
done
for t in $(cd "$PROJ/rig/topo" && cat *.topo | sed -n 's/^\(dev\)\{0,1\}suites="\(.*\)"/\2/p' | tr ' ' '\n' | sort -u); do
	cp "$R/selftests-iommu/$t" "$R/initramfs/tests/"
done
in_root "cd '$R/initramfs' && find . | cpio -o -H newc --quiet | gzip -1 >'$R/initramfs.cpio.gz'" ||
	die "cannot pack the initramfs"
fi
[ "$RIG_PHASE" != build ] || exit 0

# boot_topo T: boot topology T, its console into $R/T.console, the seconds
# it took into $R/T.secs.
boot_topo() {
	local t=$1 f=$PROJ/rig/topo/$1.topo boot=dt qemu_args= qemu_mem=6144 guest_append= append bios= t0 kernel=debug
	. "$f"
	append="console=ttyAMA0 rdinit=/init rig.topo=$t $guest_append ${RIG_APPEND:-} loglevel=1 panic=-1 hugepagesz=1G hugepages=1 hugepagesz=2M hugepages=128"
	[ "$kernel" = debug ] && append="$append kasan.fault=report"
	if [ "$boot" = acpi ]; then
		bios="-bios /usr/share/qemu-efi-aarch64/QEMU_EFI.fd"
		append="$append acpi=force"
	fi
	t0=$(date +%s)
	in_root "timeout $TIMEOUT qemu-system-aarch64 -nodefaults -nographic -serial stdio -no-reboot \
		-cpu $RIG_CPU -smp 2 -m $qemu_mem $bios $(echo $qemu_args) \
		-kernel '$(kernel_dir "$kernel")/arch/arm64/boot/Image' -initrd '$R/initramfs.cpio.gz' -append '$append'" \
		>"$R/$t.console" 2>&1
	echo $(($(date +%s) - t0)) >"$R/$t.secs"
}

# One topology at a time: a guest's test phase keeps both its vCPUs busy,
# and two test phases on the 2 cores pushed the 1 GiB fixtures of
# vfio_pci_driver_test past their 30 s timeout (tried: all three at once, 23
# failures; two at a time, 11 failures in one of two runs; the next one
# booting when the one before reaches its fault checks passed, but saved
# only 43 s of 399).
for t in $TOPOS; do
	[ "$RIG_PHASE" != key ] || break
	log "rig: booting $t"
	rm -f "$R/$t.console" "$R/$t.secs"
	boot_topo "$t"
done

# rig_key T: what the base's results of topology T depend on (results/base/
# rig-T.txt holds them under this key): the base, the rig's kernel
# configurations, the guest's /init, the topology, the QEMU command line and
# kernel arguments (boot_topo and the values it uses), and the test
# programs' sources: the series' tools/ (the base has no edu driver for the
# VFIO selftests) and the iommufd selftest's uapi header, which the series'
# tree gives them.  Tool versions are recorded in the file but are not part
# of the key.
rig_key() {
	local src
	src=$(in_root "git -C '$CKWT' rev-parse main:tools main:drivers/iommu/iommufd/iommufd_test.h") ||
		die "cannot name the test sources of the rig's key"
	(echo "$BASE_SHA256"; cat "$PROJ/rig/rig-arm64.config" "$PROJ/rig/rig-debug.config" \
		"$PROJ/rig/init" "$PROJ/rig/topo/$1.topo"; declare -f boot_topo
	echo "cpu=$RIG_CPU append=${RIG_APPEND:-} timeout=$TIMEOUT"; echo "$src") | sha256sum | cut -c1-32
}
if [ "$RIG_PHASE" = key ]; then
	for t in $TOPOS; do echo "$t $(rig_key "$t")"; done
	exit 0
fi
# RIG_BASE_OUT=DIR (make base-results): write each topology's results there
# as the base's, instead of comparing with them.
BASE_OUT=${RIG_BASE_OUT:-}
KNOWN=$PROJ/config/rig-known-failures
pass=0 fail=0 skip=0 known=0 cases=0 same=0 fixed=0 lost=0 other=0
# Lockdep and WARN print "WARNING:", KASAN "BUG: KASAN:", kmemleak
# "unreferenced object"; scanned in the kernel's part of the console only.
splats='(BUG:|WARNING:|Oops|Kernel panic|UBSAN:|unreferenced object|suspected memory leak|Out of memory:)'
for t in $TOPOS; do
	secs=$(cat "$R/$t.secs" 2>/dev/null || echo "?")
	# edk2 leaves terminal escapes in front of the first line the guest prints
	sed -n '/^==== rig: kernel log ====/q;p' "$R/$t.console" |
		sed -E 's/\x1b\[[0-9;=]*[A-Za-z]//g' >"$R/$t.ktap"
	rm -f "$R/$t.json"
	in_root "cd '$CKWT' && python3 tools/testing/kunit/kunit.py parse --json='$R/$t.json' '$R/$t.ktap'" \
		>"$R/$t.parse" 2>&1
	key=$(rig_key "$t") bres=$BASE_RESULTS/rig-$t.txt
	if [ -n "$BASE_OUT" ]; then
		grep -q '^==== rig: end ====' "$R/$t.console" ||
			die "$t: the base's guest did not finish (console: $R/$t.console)"
		mkdir -p "$BASE_OUT"
		{
			echo "# The base's results on rig topology $t (make base-results): the base's"
			echo "# kernel, the series' test programs.  Compared case by case by rig.sh."
			echo "# key: $key"
			echo "# tools: $(in_root "aarch64-linux-gnu-gcc --version | head -n1; qemu-system-aarch64 --version | head -n1" | tr '\n' ' ')"
			"$PROJ/scripts/kunit_compare.py" --dump "$R/$t.json"
		} >"$BASE_OUT/rig-$t.txt.tmp" && grep -q '^[A-Z]' "$BASE_OUT/rig-$t.txt.tmp" ||
			die "$t: no results to keep (console: $R/$t.console)"
		mv "$BASE_OUT/rig-$t.txt.tmp" "$BASE_OUT/rig-$t.txt"
		echo "rig $t: the base's results in ${BASE_OUT#"$PROJ"/}/rig-$t.txt: $(grep -c '^PASS ' "$BASE_OUT/rig-$t.txt") of $(grep -vc '^#' "$BASE_OUT/rig-$t.txt") cases pass"
		continue
	fi
	stale=
	if [ ! -f "$bres" ]; then
		stale="no base results ${bres#"$PROJ"/}"
	elif ! grep -qx "# key: $key" "$bres"; then
		stale="${bres#"$PROJ"/} is for key $(sed -n 's/^# key: //p' "$bres"), the rig's is now $key"
	fi
	"$PROJ/scripts/kunit_compare.py" --known "$KNOWN" "${stale:+/nonexistent}${stale:-$bres}" "$R/$t.json" >"$R/$t.summary"
	rc=$?
	p= f= s= k= c= sa= fx= l= o=
	read -r p f s k c sa fx l o < <(sed -n 's/^kunit: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped, \([0-9]*\) known; \([0-9]*\) cases, \([0-9]*\) same, \([0-9]*\) fixed, \([0-9]*\) lost\(, [0-9]*\)\{0,1\}.*/\1 \2 \3 \4 \5 \6 \7 \8 x\9/p' "$R/$t.summary")
	o=${o#x, }; o=${o#x}
	# kunit_compare.py exits 0 or 1 with a summary line; anything else
	# (a crash, an unreadable file) must not read as "0 failed".
	if [ "$rc" -gt 1 ] || [ -z "$p" ]; then
		echo "  FAIL  $t: the comparison gave no summary (exit $rc, ${R#"$PROJ"/}/$t.summary)"
		f=$((${f:-0} + 1))
	fi
	if [ -n "$stale" ]; then
		echo "  FAIL  $t: $stale: run make base-results and commit results/"
		f=$((${f:-0} + 1))
	fi
	if ! grep -q '^==== rig: end ====' "$R/$t.console"; then
		echo "  FAIL  $t: the guest did not finish (crash, hang or timeout after ${secs}s)"
		f=$((${f:-0} + 1))
	fi
	if grep -q '^==== rig: kernel log ====' "$R/$t.console"; then
		sed -n '/^==== rig: kernel log ====/,$p' "$R/$t.console" >"$R/$t.klog"
	else
		cp "$R/$t.console" "$R/$t.klog"
	fi
	if grep -aEq "$splats" "$R/$t.klog"; then
		echo "  FAIL  $t: the kernel log reports:"
		grep -aE "$splats" "$R/$t.klog" | head -n 5 | sed 's/^/          /'
		f=$((${f:-0} + 1))
	fi
	grep -E '^  (FAIL|SKIP|KNOWN|FIXED|LOST)' "$R/$t.summary" | sed "s/^  \([A-Z]*\) */  \1  $t: /"
	echo "rig $t: ${p:-0} passed, ${f:-0} failed, ${s:-0} skipped, ${k:-0} known in ${secs}s; against the base: ${c:-0} cases, ${sa:-0} same, ${fx:-0} fixed, ${l:-0} lost (console: ${R#"$PROJ"/}/$t.console)"
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${s:-0})); known=$((known + ${k:-0}))
	cases=$((cases + ${c:-0})); same=$((same + ${sa:-0})); fixed=$((fixed + ${fx:-0}))
	lost=$((lost + ${l:-0})); other=$((other + ${o:-0}))
done
[ -z "$BASE_OUT" ] || exit 0
echo "rig: $pass passed, $fail failed, $skip skipped, $known known; $cases cases, $same same, $fixed fixed, $lost lost$([ "$other" = 0 ] || echo ", $other other")"
[ $fail = 0 ] && [ $lost = 0 ]
