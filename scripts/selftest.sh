#!/usr/bin/env bash
# make selftest: show that every gate and guard of the harness fails when it
# should.  Throwaway series are made in a temporary directory with the
# harness's own import/export; they are checked in build/selftest so that
# their builds stay incremental from run to run.  Prints TAP.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need_root selftest

ST=$BUILD/selftest
mkdir -p "$BUILD"
T=$(mktemp -d -p "$BUILD" selftest.XXXXXX)
trap 'rm -rf "$T"' EXIT
export WT=$ST/wt CK=$ST/check
# The throwaway series add no KUnit suite of their own
export KUNIT_SERIES_CONFIG=
mkdir -p "$ST" "$T/empty"
: >"$T/empty/series"
n=0 failed=0
S=$PROJ/scripts

ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}

# expect_fail DESCRIPTION PATTERN CMD...: CMD exits non-zero and its output
# matches PATTERN (so that it failed for the reason the case is about).
expect_fail() {
	local desc=$1 pat=$2 out rc
	shift 2
	out=$("$@" 2>&1); rc=$?
	if [ $rc != 0 ] && printf '%s\n' "$out" | grep -Eq -- "$pat"; then
		ok 0 "$desc"
	else
		ok 1 "$desc"
		printf '%s\n' "$out" | tail -n 15 | sed 's/^/# /'
	fi
}

expect_pass() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then ok 0 "$desc"; else ok 1 "$desc"; printf '%s\n' "$out" | tail -n 15 | sed 's/^/# /'; fi
}

# expect_one_line DESCRIPTION PATTERN CMD...: bad input to the harness stops
# with exactly one line, "error: ...", that matches PATTERN.
expect_one_line() {
	local desc=$1 pat=$2 out rc
	shift 2
	out=$("$@" 2>&1 >/dev/null); rc=$?
	if [ $rc != 0 ] && [ "$(printf '%s\n' "$out" | grep -c '^error: ')" = 1 ] &&
		printf '%s\n' "$out" | grep '^error: ' | grep -Eq -- "$pat"; then
		ok 0 "$desc"
	else
		ok 1 "$desc"
		printf 'rc=%s\n%s\n' "$rc" "$out" | tail -n 8 | sed 's/^/# /'
	fi
}

wt() { in_root "cd '$WT' && $*"; }

# mkseries NAME SHELL-COMMANDS: base + the commits the commands make,
# exported as a series into $T/NAME.
mkseries() {
	SERIES_DIR=$T/empty FORCE=1 "$S/import.sh" >/dev/null 2>&1 || return 1
	wt "$2" >/dev/null || return 1
	SERIES_DIR=$T/$1 "$S/export.sh" >/dev/null 2>&1
}

echo "TAP version 13"
echo "1..22"

good_edit="sed -i 's|rather large, i.e. multiple gigabytes in size.|&\\n\\t * This is counted per NUMA node.|' drivers/iommu/iommu-pages.c"
mkseries good "$good_edit && git commit -q -s -a -m 'iommu/pages: Note that accounting is per node' -m 'A throwaway patch for the harness self-test.'" ||
	{ echo "Bail out! cannot make the throwaway series"; exit 1; }
mkseries bisect "sed -i 's|#include <linux/msi.h>|&\\n#include <linux/selftest-missing.h>|' drivers/iommu/iommu-priv.h &&
	git commit -q -s -a -m 'iommu: Break the build from a header' -m 'A throwaway patch for the harness self-test.' &&
	sed -i '/selftest-missing/d' drivers/iommu/iommu-priv.h && $good_edit &&
	git commit -q -s -a -m 'iommu: Mend it in a later patch' -m 'A throwaway patch for the harness self-test.'"
mkseries checkpatch "$good_edit && git commit -q -a -m 'iommu/pages: A patch without Signed-off-by' -m 'A throwaway patch for the harness self-test.'"
mkseries kunit "sed -i '/^static void arm_smmu_v3_write_ste_test_bypass_to_abort(struct kunit \\*test)/,/^{/s/^{/{\\n\\tKUNIT_EXPECT_EQ(test, 1, 2);/' drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-test.c &&
	git commit -q -s -a -m 'iommu/arm-smmu-v3: Add a failing KUnit expectation' -m 'A throwaway patch for the harness self-test.'"
mkseries kunitwarn "sed -i '/^static void arm_smmu_v3_write_ste_test_bypass_to_abort(struct kunit \\*test)/,/^{/s/^{/{\\n\\tWARN_ON(1);/' drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-test.c &&
	git commit -q -s -a -m 'iommu/arm-smmu-v3: WARN in a passing KUnit case' -m 'A throwaway patch for the harness self-test.'"
mkseries orphan "echo 'A file no MAINTAINERS entry covers.' >selftest-orphan.txt && git add -f selftest-orphan.txt &&
	git commit -q -s -m 'Add a file without a maintainer' -m 'A throwaway patch for the harness self-test.'"
cp -r "$T/good" "$T/noapply"
sed -i 's|rather large, i.e. multiple gigabytes|rather large, e.g. several gigabytes|' "$T"/noapply/0001-*.patch

# --- the gates of make check -------------------------------------------------
expect_pass "a good throwaway series passes apply, bisect and checkpatch" \
	env SERIES_DIR="$T/good" GATES="apply bisect checkpatch" "$S/check.sh"
expect_fail "apply fails on a patch that does not apply" "FAIL apply" \
	env SERIES_DIR="$T/noapply" GATES="apply" "$S/check.sh"
expect_fail "bisect fails on a patch that breaks a later patch's directory" \
	"FAIL bisect .*patch 1 .*does not build" \
	env SERIES_DIR="$T/bisect" GATES="apply bisect" "$S/check.sh"
expect_pass "the same series builds at its top (only bisection catches it)" \
	in_root "make -s -C '$CK/linux' O='$CK/arm64' ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- -j$(nproc) drivers/iommu/"
expect_fail "checkpatch fails on a patch without Signed-off-by" "FAIL checkpatch" \
	env SERIES_DIR="$T/checkpatch" GATES="apply checkpatch" "$S/check.sh"
expect_fail "kunit fails on a failing KUnit case" \
	"FAIL +arm-smmu-v3-kunit-test/arm_smmu_v3_write_ste_test_bypass_to_abort" \
	env SERIES_DIR="$T/kunit" GATES="apply kunit" KUNIT_FILTER="arm-smmu-v3-kunit-test" "$S/check.sh"
expect_fail "kunit fails on a WARN in the kernel log of a passing case" \
	"FAIL kunit .*; 1 kernel reports" \
	env SERIES_DIR="$T/kunitwarn" GATES="apply kunit" KUNIT_FILTER="arm-smmu-v3-kunit-test" "$S/check.sh"
mkdir -p "$T/stale"
sed 's/^# key: .*/# key: 0123456789abcdef0123456789abcdef/' "$BASE_RESULTS/kunit.txt" >"$T/stale/kunit.txt"
expect_fail "kunit fails when the base's results are for another key" \
	"kunit.txt is for key 0123456789abcdef0123456789abcdef.*run make base-results" \
	env SERIES_DIR="$T/good" GATES="apply kunit" KUNIT_FILTER="arm-smmu-v3-kunit-test" BASE_RESULTS="$T/stale" "$S/check.sh"
printf '# key: x\nPASS s/a\nFAIL s/b\n' >"$T/lost.txt"
echo '{"name": "KUnit Test Group", "sub_groups": [{"name": "s", "test_cases": [{"name": "a", "status": "SKIP"}, {"name": "b", "status": "PASS"}]}]}' >"$T/lost.json"
expect_fail "the comparison fails on a case that passed on the base and does not now" \
	"2 cases, 0 same, 1 fixed, 1 lost" "$S/kunit_compare.py" "$T/lost.txt" "$T/lost.json"
cp -r "$T/good" "$T/rcpt"
sed -i '/^To: /s/^To: .*/To: Somebody Else <somebody@example.org>/' "$T/rcpt/0000-cover-letter.patch"
expect_fail "maintainers fails when the cover letter's To/Cc are not what get_maintainer.pl gives" \
	"the cover letter's recipients are not what get_maintainer.pl gives" \
	env SERIES_DIR="$T/rcpt" GATES="apply maintainers" "$S/check.sh"
expect_fail "maintainers fails on a new file that no MAINTAINERS entry covers" \
	"no MAINTAINERS entry names a maintainer for selftest-orphan.txt" \
	env SERIES_DIR="$T/orphan" GATES="apply maintainers" "$S/check.sh"

# --- the work tree guards ----------------------------------------------------
SERIES_DIR=$T/good FORCE=1 "$S/import.sh" >/dev/null 2>&1
expect_pass "verify-export passes on a freshly imported series" \
	env SERIES_DIR="$T/good" "$S/export.sh" --verify
cp -r "$T/good" "$T/again"
SERIES_DIR=$T/again "$S/export.sh" >/dev/null 2>&1
expect_pass "exporting unchanged commits changes no byte" diff -r "$T/good" "$T/again"
wt "echo '/* dirty */' >> drivers/iommu/iommu.c"
expect_fail "import refuses a dirty work tree" "uncommitted changes" \
	env SERIES_DIR="$T/good" "$S/import.sh"
wt "git checkout -q drivers/iommu/iommu.c && echo '/* more */' >> drivers/iommu/iommu.c && git commit -q -s -a -m 'iommu: An unexported commit'"
expect_fail "verify-export names an unexported commit" "0002-iommu-An-unexported-commit.patch" \
	env SERIES_DIR="$T/good" "$S/export.sh" --verify
expect_fail "import refuses a work tree with an unexported commit" "not exported" \
	env SERIES_DIR="$T/good" "$S/import.sh"
SERIES_DIR=$T/good FORCE=1 "$S/import.sh" >/dev/null 2>&1
sed -i 's/A throwaway patch/A hand-edited patch/' "$T"/good/0001-*.patch
expect_fail "verify-export names a hand-edited patch file" "0001-iommu-pages-Note-that-accounting-is-per-node.patch" \
	env SERIES_DIR="$T/good" "$S/export.sh" --verify

# --- bad input to the harness ------------------------------------------------
expect_one_line "not root" "must run as root" \
	setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp "$S/setup.sh"
mkdir -p "$T/cache1"
expect_one_line "no debootstrap" "DEBOOTSTRAP=.*install debootstrap" \
	env IOMMU_SERIES_CACHE="$T/cache1" DEBOOTSTRAP=/nonexistent/debootstrap "$S/setup.sh"
expect_one_line "base not set up" "base tarball missing.*make setup" \
	env IOMMU_SERIES_CACHE="$T/cache1" "$S/import.sh"
mkdir -p "$T/cache2"; ln -s "$ROOTFS" "$T/cache2/root"
sed 's/^BASE_PKG=.*/BASE_PKG=linux-source-0.0-selftest-missing/' "$PROJ/base.conf" >"$T/missing.conf"
expect_one_line "base package missing" "linux-source-0.0-selftest-missing is not served" \
	env IOMMU_SERIES_CACHE="$T/cache2" BASE_CONF="$T/missing.conf" "$S/setup.sh"
sed 's/^BASE_SHA256=.*/BASE_SHA256=0000000000000000000000000000000000000000000000000000000000000000/' "$PROJ/base.conf" >"$T/badsum.conf"
expect_one_line "tarball sha256 mismatch" "sha256 of linux-source-7.3.tar.xz is [0-9a-f]{64}, base.conf pins 0{64}" \
	env IOMMU_SERIES_CACHE="$T/cache2" BASE_CONF="$T/badsum.conf" "$S/setup.sh"

echo "# selftest: $((n - failed)) passed, $failed failed"
[ $failed = 0 ]
