#!/usr/bin/env bash
# make check: apply the series to a clean copy of the base and run every
# gate.  Ends with "N passed, N failed" (gates and KUnit cases) and exits
# non-zero when anything failed.
#
# Environment: GATES="apply bisect ..." runs a subset (apply always runs);
# CK=dir puts the check tree and objects elsewhere (the harness self-test).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need_root check

CK=${CK:-$BUILD/check}
CKWT=$CK/linux
OBJ=$CK/arm64
OBJX=$CK/x86
OBJW=$CK/arm64-w1
LOGS=$CK/logs
GATES=${GATES:-apply bisect w1 checkpatch maintainers sparse coccicheck kernel-doc kunit x86 rig selftest}
JOBS=${JOBS:-$(nproc)}
# KUnit runners for the arm64 suites, each suite in a boot of its own. The
# generic_pt suites of KUNIT_UM_GLOB (lib.sh) run under UML instead.
KUNIT_PAR=${KUNIT_PAR:-1}
# kunit.config: suites the base has; kunit-series.config: suites the series
# adds (KUNIT_SERIES_CONFIG= for a series that adds none, as the self-test's).
KCONFIGS_BASE=$PROJ/config/kunit.config
KCONFIGS=$KCONFIGS_BASE
KUNIT_SERIES_CONFIG=${KUNIT_SERIES_CONFIG-$PROJ/config/kunit-series.config}
[ -f "$KUNIT_SERIES_CONFIG" ] && KCONFIGS="$KCONFIGS $KUNIT_SERIES_CONFIG"
mkdir -p "$LOGS"
rm -f "$LOGS"/*

npass=0 nfail=0 nskip=0
declare -A STATE=()
summary=()

want() { [[ " $GATES " == *" $1 "* ]]; }

# report NAME RESULT SECONDS DETAIL
report() {
	local line
	line=$(printf '%-4s %-12s %5ss  %s' "$2" "$1" "$3" "$4")
	summary+=("$line")
	echo "$line"
	case $2 in PASS) npass=$((npass + 1)) ;; FAIL) nfail=$((nfail + 1)) ;; esac
}

# run_gate NAME FUNCTION: the function writes its log to $LOGS/NAME.log
# and may print one line of detail on fd 3.
run_gate() {
	local name=$1 fn=$2 t0 rc detail
	want "$name" || return 0
	t0=$(date +%s)
	detail=$("$fn" 3>&1 >"$LOGS/$name.log" 2>&1); rc=$?
	[ -n "$detail" ] || detail="log: ${LOGS#"$PROJ"/}/$name.log"
	if [ $rc = 0 ]; then
		report "$name" PASS $(($(date +%s) - t0)) "$detail"
	else
		report "$name" FAIL $(($(date +%s) - t0)) "$detail (log: ${LOGS#"$PROJ"/}/$name.log)"
		tail -n 25 "$LOGS/$name.log" | sed 's/^/    | /'
	fi
	return $rc
}

# build_touched: the objects of the touched directories (nothing if none)
build_touched() {
	local dirs
	dirs=$(build_dirs | tr '\n' ' ')
	[ -z "${dirs// /}" ] || kmake $dirs
}

kmake() { in_root "make -s -C '$CKWT' O='$OBJ' ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- -j$JOBS $*"; }
xmake() { in_root "make -s -C '$CKWT' O='$OBJX' ARCH=x86_64 -j$JOBS $*"; }
git_ck() { in_root "git -C '$CKWT' $*"; }
checkout() { git_ck "checkout -q --detach $1"; }

# --- gate 1: the series applies with git am ---------------------------------
gate_apply() {
	WT=$CKWT FORCE=1 "$PROJ/scripts/import.sh" || return 1
	echo "$(git_ck 'rev-list --count base..HEAD') patches applied" >&3
}

touched_files() { git_ck "diff --name-only --diff-filter=d base..main"; }

# The kernel directories to build: those of touched sources and headers
# (the nearest directory with a Makefile), and drivers/iommu/ when a header
# under include/ changes.
build_dirs() {
	local f d
	while read -r f; do
		case $f in
		include/*) echo drivers/iommu/ ;;
		tools/* | Documentation/*) ;;
		*.c | *.h | */Makefile | */Kconfig | */Kbuild)
			d=${f%/*}
			while [ -n "$d" ] && [ "$d" != . ] && [ ! -f "$CKWT/$d/Makefile" ]; do
				[ "${d%/*}" = "$d" ] && d= || d=${d%/*}
			done
			[ -n "$d" ] && echo "$d/" ;;
		esac
	done <"$CK/touched" | sort -u
}

# check_objs: the objects built in the touched directories whose sources
# are touched or include a touched file (from kbuild's dependency records),
# for the compiler and sparse diagnostics; written to $CK/check-objs.
check_objs() {
	local d
	grep -E '\.[ch]$' "$CK/touched" >"$CK/touched-src" || true
	: >"$CK/check-objs"
	[ -s "$CK/touched-src" ] || return 0
	# By base name: kbuild records paths like fmt/../x.h; a same-named
	# file elsewhere only adds an object to check.
	sed 's|.*/|/|' "$CK/touched-src" >"$CK/touched-names"
	for d in $(build_dirs); do
		[ -d "$OBJ/$d" ] || continue
		find "$OBJ/$d" -name '.*.o.cmd' -print0 | xargs -0r grep -lF -f "$CK/touched-names"
	done | grep -v '/\.built-in\.' | sed -E "s|^$OBJ/||; s|(^\|/)\.([^/]*\.o)\.cmd$|\1\2|" |
		sort -u >"$CK/check-objs"
}

arm64_config() {
	local kc="" k
	for k in ${KC:-$KCONFIGS}; do kc="$kc --kunitconfig='$k'"; done
	[ -f "$CKWT/drivers/iommu/generic_pt/.kunitconfig" ] &&
		kc="--kunitconfig=drivers/iommu/generic_pt/.kunitconfig $kc"
	echo "$kc"
}

kunit() {
	local opts=
	case $1 in
	build) opts=--jobs=$JOBS ;;
	exec) opts="--qemu_args='$KUNIT_QEMU_ARGS'" ;;
	run) opts="--jobs=$JOBS --qemu_args='$KUNIT_QEMU_ARGS'" ;;
	esac
	in_root "cd '$CKWT' && python3 tools/testing/kunit/kunit.py $1 --arch=arm64 \
		--cross_compile=aarch64-linux-gnu- --build_dir='$OBJ' $opts $(arm64_config) ${*:2}"
}

use_full_config() {
	cp "$CK/config.full" "$OBJ/.config" && kmake olddefconfig
}

# warnings REV KIND: the diagnostics of KIND for the touched files at REV,
# normalised into $CK/diag/REV.KIND
diagnostics() {
	"$PROJ/scripts/diagnostics.py" "$CK/touched-src" >"$CK/diag/$1.$2"
}

collect_diagnostics() {
	local rev=$1 f objs
	mkdir -p "$CK/diag"
	check_objs
	: >"$CK/diag/$rev.w1.log"; : >"$CK/diag/$rev.sparse.log"
	: >"$CK/diag/$rev.cocci.log"; : >"$CK/diag/$rev.kdoc.log"
	while read -r f; do
		[ -f "$CKWT/$f" ] || continue
		want kernel-doc && in_root "cd '$CKWT' && scripts/kernel-doc -none -Wall '$f'" \
			>>"$CK/diag/$rev.kdoc.log" 2>&1
		case $f in *.c) want coccicheck && cocci_file "$f" >>"$CK/diag/$rev.cocci.log" 2>&1 ;; esac
	done <"$CK/touched-src"
	objs=$(tr '\n' ' ' <"$CK/check-objs")
	if [ -n "${objs// /}" ]; then
		echo "compiler and sparse diagnostics at $rev for:$objs"
		# W=1 in an object directory of its own, so that the main one never
		# flips between flag sets; ccache replays the warnings of a hit.
		if want w1; then
			mkdir -p "$OBJW"
			cp "$OBJ/.config" "$OBJW/.config"
			(cd "$OBJW" && rm -f $objs)
			in_root "make -s -C '$CKWT' O='$OBJW' ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
				-j$JOBS olddefconfig && make -C '$CKWT' O='$OBJW' ARCH=arm64 \
				CROSS_COMPILE=aarch64-linux-gnu- -j$JOBS W=1 $objs" >>"$CK/diag/$rev.w1.log" 2>&1
		fi
		want sparse && kmake C=2 $objs >>"$CK/diag/$rev.sparse.log" 2>&1
	fi
	for k in w1 sparse cocci kdoc; do
		diagnostics "$rev" "$k" <"$CK/diag/$rev.$k.log"
	done
}

# Coccinelle on one file, cached by the file's content: it is the slowest
# gate and the same content always gives the same report. A .c file that
# kbuild builds only as part of another one (#included, as a KUnit test of
# static functions is) is checked through that includer's object.
cocci_file() {
	local f=$1 key dir=$CACHE/cocci obj inc
	obj=${f%.c}.o
	if ! grep -qxF "$obj" "$CK/check-objs"; then
		inc=$(grep -lF "#include \"${f##*/}\"" "$CKWT/${f%/*}"/*.c 2>/dev/null | head -1)
		[ -n "$inc" ] && obj=${inc#"$CKWT"/} && obj=${obj%.c}.o
	fi
	key=$( ([ "$obj" = "${f%.c}.o" ] || echo "$obj"; cat "$CKWT/$1"
		ls "$CKWT"/scripts/coccinelle/*/*.cocci | xargs cat) | sha256sum | cut -c1-32)
	mkdir -p "$dir"
	if [ ! -f "$dir/$key" ]; then
		in_root "cd '$CKWT' && make -s C=2 CHECK=scripts/coccicheck MODE=report \
			O='$OBJ' ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- J=$JOBS '$obj'" \
			>"$dir/$key.tmp" 2>&1
		mv "$dir/$key.tmp" "$dir/$key"
	fi
	cat "$dir/$key"
}

# compare KIND: no new diagnostics of KIND from base to series
compare() {
	local new
	new=$(comm -13 "$CK/diag/base.$1" "$CK/diag/main.$1")
	if [ -n "$new" ]; then
		echo "new with the series:"; printf '%s\n' "$new"
		echo "$(printf '%s\n' "$new" | wc -l) new" >&3
		return 1
	fi
	echo "$(wc -l <"$CK/diag/main.$1") in touched files ($(wc -l <"$CK/check-objs") objects checked), none new" >&3
}

# --- gate 2: every patch builds on its own -----------------------------------
# build_reads: whether any of the files on stdin can change what kbuild
# builds (tools/, Documentation/ but its Kconfig, and MAINTAINERS cannot).
build_reads() {
	local f
	while read -r f; do
		case $f in
		Documentation/Kconfig) return 0 ;;
		MAINTAINERS | tools/* | Documentation/*) ;;
		*) return 0 ;;
		esac
	done
	return 1
}

gate_bisect() {
	local revs c n=0 same=0 dirs
	dirs=$(build_dirs | tr '\n' ' ')
	revs=$(git_ck "rev-list --reverse base..main")
	for c in $revs; do
		n=$((n + 1))
		# A patch that changes nothing kbuild reads builds the objects of
		# the patch before it, which the previous round built.
		if [ $n -gt 1 ] && ! git_ck "diff --name-only $c^ $c" | build_reads; then
			echo "== patch $n: $(git_ck "log -1 --format=%s $c"): changes nothing kbuild reads, builds as patch $((n - 1))"
			same=$((same + 1))
			continue
		fi
		checkout "$c" || return 1
		echo "== patch $n: $(git_ck "log -1 --format=%s $c")"
		use_full_config || return 1
		[ -z "${dirs// /}" ] || kmake $dirs || { echo "patch $n ($(git_ck "log -1 --format=%s $c")) does not build" >&3; return 1; }
	done
	echo "$n patches, each builds: $dirs($same change only tools/, Documentation/ or MAINTAINERS)" >&3
}

gate_w1() { compare w1; }
gate_sparse() { compare sparse; }
gate_coccicheck() { compare cocci; }
gate_kernel_doc() { compare kdoc; }

# --- gate 4: KUnit on the base and with the series ----------------------------
# The kernels are built first, in the foreground; their QEMU runs go on in
# the background (KUNIT_PIDS) through the other gates and the rig, and
# gate_kunit collects them at the end.  A runner keeps its own copy of the
# image: the other gates rebuild objects in $OBJ.

# kunit_image DIR: the kernel just built in $OBJ, for kunit.py exec in DIR
kunit_image() {
	rm -rf "$1"
	mkdir -p "$1/arch/arm64/boot"
	cp "$OBJ/.config" "$1/.config"
	cp "$OBJ/arch/arm64/boot/Image.gz" "$1/arch/arm64/boot/Image.gz"
}

# The base's results live in the repository (results/base/kunit.txt, made
# by make base-results) under a key of what determines them (lib.sh's
# kunit_base_key): a cold check neither builds nor boots the base.
kunit_base_start() {
	local f key
	KUNIT_BASE_JSON=$BASE_RESULTS/kunit.txt
	KUNIT_UM_BASE=$BASE_RESULTS/kunit-um.txt
	KUNIT_BASE_STALE=
	for f in "$KUNIT_BASE_JSON:$(kunit_base_key)" "$KUNIT_UM_BASE:$(kunit_um_base_key)"; do
		key=${f##*:} f=${f%:*}
		if [ ! -f "$f" ]; then
			KUNIT_BASE_STALE="no base results ${f#"$PROJ"/}"
		elif ! grep -qx "# key: $key" "$f"; then
			KUNIT_BASE_STALE="${f#"$PROJ"/} is for key $(sed -n 's/^# key: //p' "$f"), the check's is now $key"
		else
			continue
		fi
		break
	done
}

# um_suites: the suites of the UML run (those of the base's UML results)
um_suites() {
	sed -n 's|^[A-Z_]* \([^/]*\)/.*|\1|p' "$KUNIT_UM_BASE" 2>/dev/null | sort -u
}

# kunit_um_start: the KUNIT_UM_GLOB suites of generic_pt's .kunitconfig
# under UML, in the background (not with KUNIT_FILTER, which names arm64
# suites)
kunit_um_start() {
	rm -f "$CK/kunit-um.json" "$CK/kum.done" "$LOGS/kunit-raw-um.log"
	[ -z "${KUNIT_FILTER:-}" ] && [ -f "$CKWT/drivers/iommu/generic_pt/.kunitconfig" ] || return 0
	(
		rm -f "$CK/um/test.log"
		in_root "cd '$CKWT' && python3 tools/testing/kunit/kunit.py run --arch=um \
			--build_dir='$CK/um' --jobs=$JOBS --timeout=600 \
			--kunitconfig=drivers/iommu/generic_pt/.kunitconfig \
			--json='$CK/kunit-um.json' '$KUNIT_UM_GLOB'" || true
		cp "$CK/um/test.log" "$LOGS/kunit-raw-um.log" 2>/dev/null || true
		date +%s >"$CK/kum.done"
	) >"$LOGS/kunit-um.log" 2>&1 &
	KUNIT_PIDS="$KUNIT_PIDS $!"
}

kunit_start() {
	local g suites
	rm -f "$CK"/kunit-main*.json "$CK/kunit.summary" "$CK/kunit-suites" "$LOGS"/kunit-run*.log "$LOGS"/kunit-raw-*.log
	if ! kunit build >"$LOGS/kunit-build.log" 2>&1; then
		echo "kunit.py build failed" >"$LOGS/kunit-run.log"
		return 1
	fi
	# The arm64 suites less those UML runs, each in a boot of its own,
	# dealt out in turn to KUNIT_PAR kernels. Each runner has a build
	# directory of its own (kunit.py writes test.log there) holding the
	# one kernel image.
	# Benchmarks (suites named *_bench) are built, not run: make bench runs
	# them on the machine they measure.
	suites=$(kunit exec --list_suites ${KUNIT_FILTER:+"'$KUNIT_FILTER'"} 2>/dev/null |
		sed -n 's/^\[[0-9:]*\] //; /^[a-z0-9_-]*$/p' | sort | grep -vxF -f <(um_suites; echo /) |
		grep -v '_bench$')
	[ -n "$suites" ] || suites=${KUNIT_FILTER:-'*'}
	printf '%s\n' $suites >"$CK/kunit-suites"
	for g in $(seq 1 "$KUNIT_PAR"); do
		rm -f "$CK/kx$g.done"
		kunit_image "$CK/kx$g"
		(
			awk -v g="$g" -v n="$KUNIT_PAR" '(NR - 1) % n == g - 1' "$CK/kunit-suites" | while read -r suite; do
				rm -f "$CK/kx$g/test.log"
				in_root "cd '$CKWT' && python3 tools/testing/kunit/kunit.py exec --arch=arm64 \
					--cross_compile=aarch64-linux-gnu- --build_dir='$CK/kx$g' \
					--qemu_args='$KUNIT_QEMU_ARGS' --timeout=1800 \
					--json='$CK/kunit-main-$suite.json' '$suite'" || true
				# The kernel's own log of the boot (kunit.py prints
				# only a failing case's lines)
				cp "$CK/kx$g/test.log" "$LOGS/kunit-raw-$suite.log" 2>/dev/null || true
			done
			date +%s >"$CK/kx$g.done"
		) >"$LOGS/kunit-run$g.log" 2>&1 &
		KUNIT_PIDS="$KUNIT_PIDS $!"
	done
}

gate_kunit() {
	local rc=0 reports
	if [ -n "$KUNIT_BASE_STALE" ]; then
		echo "$KUNIT_BASE_STALE: run make base-results and commit results/"
		echo "$KUNIT_BASE_STALE: run make base-results" >&3
		return 1
	fi
	# The base: its arm64 results for the suites arm64 runs, its UML
	# results for the others
	{
		grep -v -f <(um_suites | sed 's|.*|^[A-Z_]* &/|') "$KUNIT_BASE_JSON"
		[ -n "${KUNIT_FILTER:-}" ] || cat "$KUNIT_UM_BASE"
	} >"$CK/kunit-base.txt"
	cat "$LOGS/kunit-build.log" "$LOGS"/kunit-run*.log "$LOGS/kunit-um.log" 2>/dev/null |
		grep -E '^\[[0-9:]+\] (=|.*(FAILED|CRASHED|SKIPPED))|error' | tail -n 60
	"$PROJ/scripts/kunit_compare.py" ${KUNIT_FILTER:+--filter "$KUNIT_FILTER"} \
		--known "$PROJ/config/kunit-known-failures" "$CK/kunit-base.txt" \
		$(sed "s|.*|$CK/kunit-main-&.json|" "$CK/kunit-suites") \
		$([ -n "${KUNIT_FILTER:-}" ] || echo "$CK/kunit-um.json") >"$CK/kunit.summary" || rc=1
	cat "$CK/kunit.summary"
	# A case that passes while the kernel WARNs, oopses or reports a bug
	# (in the kernel logs of the boots and of the UML run) is not a pass;
	# nor is a boot whose log is missing, which would pass unread. The
	# KUnit kernel has no lockdep, KASAN, UBSAN or kmemleak (the rig's
	# debug kernel does): those patterns are for a kernel that has them.
	for suite in $(cat "$CK/kunit-suites") $([ -f "$CK/kum.done" ] && echo um); do
		[ -s "$LOGS/kunit-raw-$suite.log" ] || {
			echo "no kernel log of the $suite boot"
			echo "$(tail -n1 "$CK/kunit.summary"); no kernel log of the $suite boot" >&3
			return 1
		}
	done
	reports=$(grep -HE 'WARNING: |BUG: |^BUG [a-z]|Oops|UBSAN: |KASAN: |circular locking|kmemleak: [0-9]+ new suspected' \
		"$LOGS"/kunit-raw-*.log 2>/dev/null || true)
	if [ -n "$reports" ]; then
		echo "kernel reports in the KUnit runs:"
		printf '%s\n' "$reports" | head -n 20
		echo "$(tail -n1 "$CK/kunit.summary"); $(printf '%s\n' "$reports" | wc -l) kernel reports (WARN, BUG, UBSAN, KASAN, lockdep, kmemleak) in the runs" >&3
		return 1
	fi
	tail -n1 "$CK/kunit.summary" >&3
	return $rc
}

# --- the DMA rig: real devices behind emulated IOMMUs (scripts/rig.sh) --------
# Its guests boot in the background (RIG_PID, started after its build, waited
# for before this gate).
gate_rig() {
	local rc secs
	cat "$LOGS/rig-build.log" "$LOGS/rig-boot.log" "$CK/rig.summary" 2>/dev/null
	read -r rc secs <"$CK/rig.rc" 2>/dev/null || rc=1
	echo "$(tail -n1 "$CK/rig.summary" 2>/dev/null) (boots ${secs:-?}s beside the gates above)" >&3
	return "${rc:-1}"
}

# --- gate 5: checkpatch --strict on every patch -------------------------------
# A clean result is kept under a key of the patch, the types it ignores and
# checkpatch with its data files: after a one-line change one patch is
# checked again, not all of them.
gate_checkpatch() {
	local p ign bad=0 out key tool reused=0
	tool=$(cat "$CKWT/scripts/checkpatch.pl" "$CKWT/scripts/spelling.txt" \
		"$CKWT/scripts/const_structs.checkpatch" 2>/dev/null | sha256sum | cut -c1-32)
	mkdir -p "$CACHE/results"
	while read -r p; do
		case $p in ''|'#'*) continue ;; esac
		ign=$(awk -v p="$p" '!/^#/ && NF >= 3 && p ~ $1 {printf "%s,", $2}' "$PROJ/checkpatch.exceptions" 2>/dev/null)
		key=$( (echo "$tool $ign"; cat "$SERIES_DIR/$p") | sha256sum | cut -c1-32)
		if [ -s "$CACHE/results/checkpatch-$key.out" ]; then
			out=$(cat "$CACHE/results/checkpatch-$key.out")
			reused=$((reused + 1))
		else
			out=$(in_root "cd '$CKWT' && scripts/checkpatch.pl --strict --show-types --no-color \
				${ign:+--ignore ${ign%,}} '$SERIES_DIR/$p'" 2>&1)
		fi
		echo "== $p"; printf '%s\n' "$out"
		if printf '%s\n' "$out" | grep -q '^total: 0 errors, 0 warnings, 0 checks'; then
			printf '%s\n' "$out" >"$CACHE/results/checkpatch-$key.out"
		else
			bad=$((bad + 1))
		fi
	done <"$SERIES_DIR/series"
	[ $bad = 0 ] || { echo "$bad patches with errors, warnings or checks" >&3; return 1; }
	echo "$(grep -cv '^#' "$SERIES_DIR/series") patches clean ($reused unchanged since a clean run)" >&3
}

# --- MAINTAINERS covers every new file; the cover letter names the recipients
# get_maintainer.pl gives (b4-ready, written by make export) -----------------
gate_maintainers() {
	local f bad=0 n=0 want have key
	mkdir -p "$CACHE/results"
	for f in $(git_ck "diff --name-only --diff-filter=A base..main"); do
		n=$((n + 1))
		# A covered file stays covered while it, MAINTAINERS and the
		# script are unchanged (K: patterns match file contents).
		key=$(cat "$CKWT/MAINTAINERS" "$CKWT/scripts/get_maintainer.pl" "$CKWT/$f" |
			(echo "$f"; cat) | sha256sum | cut -c1-32)
		if [ -e "$CACHE/results/maintained-$key" ]; then
			echo "covered: $f (as before)"
		# THE REST's maintainer is left out (--nogit-chief-penguins): a
		# file only it covers has nobody.
		elif in_root "cd '$CKWT' && scripts/get_maintainer.pl --nogit --nogit-fallback \
			--nogit-chief-penguins --norolestats --nofixes --nol -f '$f'" 2>/dev/null | grep -q .; then
			: >"$CACHE/results/maintained-$key"
			echo "covered: $f"
		else
			echo "no MAINTAINERS entry names a maintainer for $f"
			bad=$((bad + 1))
		fi
	done
	want=$(series_recipients "$CKWT" $(grep -v '^#' "$SERIES_DIR/series" | sed "s|^|$SERIES_DIR/|")) || return 1
	have=$(python3 -c '
import email, sys
msg = email.message_from_file(open(sys.argv[1], encoding="utf-8"))
for h in ("To", "Cc"):
    v = msg.get(h)
    if v:
        print(h + ": " + " ".join(v.split()))
' "$SERIES_DIR/0000-cover-letter.patch")
	if [ "$want" != "$have" ]; then
		echo "the cover letter's recipients are not what get_maintainer.pl gives; make export writes them"
		diff <(printf '%s\n' "$want" | tr ',' '\n') <(printf '%s\n' "$have" | tr ',' '\n')
		bad=$((bad + 1))
	fi
	[ $bad = 0 ] || { echo "$bad problems (MAINTAINERS or the cover letter's To/Cc)" >&3; return 1; }
	echo "$n new files, each with a maintainer; To/Cc as get_maintainer.pl gives ($(printf '%s\n' "$want" | tr ',' '\n' | wc -l) addresses)" >&3
}

# --- gate 9: x86_64 build of drivers/iommu with Intel and AMD ------------------
gate_x86() {
	local dirs
	dirs=$( (echo drivers/iommu/; build_dirs) | grep -v '^arch/' | sort -u | tr '\n' ' ')
	checkout main || return 1
	if [ ! -f "$OBJX/.config" ]; then
		xmake defconfig || return 1
	fi
	in_root "cd '$CKWT' && KCONFIG_CONFIG='$OBJX/.config' scripts/kconfig/merge_config.sh -m \
		'$OBJX/.config' '$PROJ/config/x86.config'" || return 1
	xmake olddefconfig || return 1
	for o in INTEL_IOMMU AMD_IOMMU INTEL_IDXD; do
		grep -q "^CONFIG_$o=y" "$OBJX/.config" || { echo "CONFIG_$o is not set" >&3; return 1; }
	done
	xmake $dirs || return 1
	echo "built: $dirs" >&3
}

t_start=$(date +%s)
echo "make check: base $BASE_PKG $BASE_VERSION + $(grep -cv '^#' "$SERIES_DIR/series" 2>/dev/null || echo 0) patches"
if ! GATES="$GATES apply" run_gate apply gate_apply; then
	echo "$npass passed, $nfail failed"
	exit 1
fi
touched_files >"$CK/touched"
mkdir -p "$OBJ"

# The full arm64 test configuration is the one of the series' top.
checkout main
kunit config >"$LOGS/config.log" 2>&1 || { report config FAIL 0 "kunit.py config failed (log: ${LOGS#"$PROJ"/}/config.log)"; echo "$npass passed, $nfail failed"; exit 1; }
cp "$OBJ/.config" "$CK/config.full"

# KUnit first: its QEMU runs are the longest part of a warm run, and they go
# on in the background while the gates below build.
KUNIT_PIDS= KUNIT_BASE_JSON=/nonexistent KUNIT_UM_BASE=/nonexistent KUNIT_BASE_STALE=
t_kunit=$(date +%s)
if want kunit; then
	kunit_base_start
	checkout main
	kunit_start
fi

# The rig next: its kernels, selftests and initramfs are built at main in the
# foreground, and its guests boot in the background, one topology at a time,
# while the gates below build at the lowest CPU priority (nice 19), so that
# the guests' tests (30 s timeouts) keep the CPUs they need. Its boots were
# the longest serial step of a warm check (5.5 min after 5 min of builds).
rm -f "$CK/rig.summary" "$CK/rig.rc"
RIG_PID=
if want rig; then
	if ! RIG_PHASE=build "$PROJ/scripts/rig.sh" >"$LOGS/rig-build.log" 2>&1; then
		echo "     (the rig does not build: ${LOGS#"$PROJ"/}/rig-build.log)"
	fi
	(
		t0=$(date +%s)
		RIG_PHASE=boot "$PROJ/scripts/rig.sh" >"$CK/rig.summary" 2>"$LOGS/rig-boot.log"
		echo "$? $(($(date +%s) - t0))" >"$CK/rig.rc"
	) &
	RIG_PID=$!
fi
renice -n 19 -p $$ >/dev/null

# The base's diagnostics in the touched files.
needs_diag() { want w1 || want sparse || want coccicheck || want kernel-doc; }
checkout base
if needs_diag || want bisect; then
	use_full_config >>"$LOGS/base.log" 2>&1
	build_touched >>"$LOGS/base.log" 2>&1 || echo "warning: the base does not build the touched directories (log: ${LOGS#"$PROJ"/}/base.log)"
fi
needs_diag && collect_diagnostics base >>"$LOGS/base.log" 2>&1

run_gate bisect gate_bisect
checkout main
# UML builds from the tree: started once bisect has left it at main for good.
want kunit && kunit_um_start
if needs_diag; then
	use_full_config >>"$LOGS/main.log" 2>&1
	build_touched >>"$LOGS/main.log" 2>&1
	collect_diagnostics main >>"$LOGS/main.log" 2>&1
fi
run_gate w1 gate_w1
run_gate checkpatch gate_checkpatch
run_gate maintainers gate_maintainers
run_gate sparse gate_sparse
run_gate coccicheck gate_coccicheck
run_gate kernel-doc gate_kernel_doc
run_gate x86 gate_x86
# wait here: run_gate's subshell cannot wait for its parent's child
[ -n "$RIG_PID" ] && wait "$RIG_PID"
run_gate rig gate_rig
# The gates run in subshells: wait for the KUnit runs here.
if [ -n "$KUNIT_PIDS" ]; then
	wait $KUNIT_PIDS
	t_done=$(cat "$CK"/kx*.done "$CK"/kum.done 2>/dev/null | sort -n | tail -n1)
	echo "     (kunit: builds and QEMU runs $((${t_done:-$t_kunit} - t_kunit))s, beside the other gates and the rig; all done after $(($(date +%s) - t_kunit))s)"
fi
run_gate kunit gate_kunit
for g in kunit rig; do
	# Every KUnit case and rig test counts as a test in the closing line.
	want $g && [ -f "$CK/$g.summary" ] || continue
	read -r p f s k < <(sed -n 's/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped, \([0-9]*\) known.*/\1 \2 \3 \4/p' "$CK/$g.summary" | tail -n1)
	npass=$((npass + ${p:-0})); nfail=$((nfail + ${f:-0})); nskip=$((nskip + ${s:-0} + ${k:-0}))
done

# --- the harness's own tests (after the gates: it reuses their caches) --------
# The self-test checks the harness on throwaway series made from the base: its
# result depends on the harness, the base and the tools, not on the series.
# A passing result is kept under a key of those and reused while none of them
# changes (SELFTEST_FRESH=1 runs it anyway).
gate_selftest() {
	local key cached rc
	key=$( (cd "$PROJ" && cat Makefile base.conf checkpatch.exceptions scripts/* config/*
		in_root "aarch64-linux-gnu-gcc --version; qemu-system-aarch64 --version") |
		sha256sum | cut -c1-32)
	cached=$CACHE/results/selftest-$key.tap
	if [ -z "${SELFTEST_FRESH:-}" ] && [ -s "$cached" ]; then
		cp "$cached" "$CK/selftest.tap"
		echo "$(grep -c '^ok ' "$cached") cases passed by this harness before (key $key; SELFTEST_FRESH=1 reruns them)" >&3
		return 0
	fi
	"$PROJ/scripts/selftest.sh" | tee "$CK/selftest.tap"
	rc=${PIPESTATUS[0]}
	sed -n 's/^# selftest: //p' "$CK/selftest.tap" >&3
	if [ "$rc" = 0 ] && ! grep -q '^not ok ' "$CK/selftest.tap"; then
		mkdir -p "$CACHE/results"
		cp "$CK/selftest.tap" "$cached"
	fi
	return "$rc"
}
rm -f "$CK/selftest.tap"
run_gate selftest gate_selftest
if want selftest && [ -f "$CK/selftest.tap" ]; then
	# Every self-test case counts as a test in the closing line.
	npass=$((npass + $(grep -c '^ok ' "$CK/selftest.tap")))
	nfail=$((nfail + $(grep -c '^not ok ' "$CK/selftest.tap")))
fi

echo
echo "make check took $(($(date +%s) - t_start))s; gates:"
printf '  %s\n' "${summary[@]}"
echo "$npass passed, $nfail failed, $nskip skipped"
[ $nfail = 0 ]
