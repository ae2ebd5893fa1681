#!/usr/bin/env bash
# make base-results: the base's results of every suite that make check
# compares the series with, written to results/base/ under the key each
# was computed for (make check fails while a key does not match):
#   kunit.txt     the KUnit suites of config/kunit.config (with the base's
#                 drivers/iommu/generic_pt/.kunitconfig), one boot
#   kunit-um.txt  the base's drivers/iommu/generic_pt/.kunitconfig under UML
#   rig-T.txt     rig topology T: the base's kernels (rig/*.config, less
#                 the options the series adds) running the series' test
#                 programs (VFIO selftests with the edu driver, iommufd
#                 selftests) and rig/init
# Run it when make check says a key changed, then commit results/.
# BASE_RESULTS_WHAT="kunit kunit-um rig" chooses what to compute (all by
# default);
# BASE_RESULTS=DIR writes elsewhere.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need_root base-results

CK=$BUILD/base-results
OUT=$BASE_RESULTS
WHAT=${BASE_RESULTS_WHAT:-kunit kunit-um rig}
JOBS=${JOBS:-$(nproc)}
mkdir -p "$CK" "$OUT"

# The base and the series in one repository: the series' tests, the base's
# kernel in a worktree of its own.
WT=$CK/linux FORCE=1 "$PROJ/scripts/import.sh" || die "the series does not apply"
BT=$CK/linux-base
if [ -d "$BT/.git" ] || [ -f "$BT/.git" ]; then
	in_root "cd '$BT' && git checkout -q --detach base && git clean -q -fdx" || die "cannot reset $BT"
else
	rm -rf "$BT"
	in_root "git -C '$CK/linux' worktree add -q --detach '$BT' base" || die "cannot make $BT"
fi

if [[ " $WHAT " == *" kunit "* ]]; then
	log "base-results: KUnit on the base (log: ${CK#"$PROJ"/}/kunit.log)"
	rm -f "$CK/kunit.json"
	# kunit.py exits non-zero when a case fails, as most generic_pt
	# cases do on the base: keep any complete result.
	in_root "cd '$BT' && python3 tools/testing/kunit/kunit.py run --arch=arm64 \
		--cross_compile=aarch64-linux-gnu- --build_dir='$CK/kunit' --jobs=$JOBS \
		--qemu_args='$KUNIT_QEMU_ARGS' --timeout=1800 \
		--kunitconfig=drivers/iommu/generic_pt/.kunitconfig \
		--kunitconfig='$PROJ/config/kunit.config' --json='$CK/kunit.json'" >"$CK/kunit.log" 2>&1
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$CK/kunit.json" 2>/dev/null &&
		"$PROJ/scripts/kunit_compare.py" --dump "$CK/kunit.json" | grep -q . ||
		die "KUnit on the base gave no results (log: $CK/kunit.log)"
	{
		echo "# The base's KUnit results (make base-results), compared case by case by make check."
		echo "# All suites in one boot (the series runs one suite a boot): on the base a"
		echo "# generic_pt failure leaves its device registered and fails the later cases."
		echo "# key: $(kunit_base_key)"
		echo "# tools: $(in_root "aarch64-linux-gnu-gcc --version | head -n1; qemu-system-aarch64 --version | head -n1" | tr '\n' ' ')"
		"$PROJ/scripts/kunit_compare.py" --dump "$CK/kunit.json"
	} >"$OUT/kunit.txt.tmp" && mv "$OUT/kunit.txt.tmp" "$OUT/kunit.txt"
	log "base-results: ${OUT#"$PROJ"/}/kunit.txt: $(grep -c '^PASS ' "$OUT/kunit.txt") of $(grep -vc '^#' "$OUT/kunit.txt") cases pass"
fi

if [[ " $WHAT " == *" kunit-um "* ]]; then
	log "base-results: generic_pt under UML on the base (log: ${CK#"$PROJ"/}/kunit-um.log)"
	rm -f "$CK/kunit-um.json"
	in_root "cd '$BT' && python3 tools/testing/kunit/kunit.py run --arch=um \
		--build_dir='$CK/um' --jobs=$JOBS --timeout=600 \
		--kunitconfig=drivers/iommu/generic_pt/.kunitconfig \
		--json='$CK/kunit-um.json' '$KUNIT_UM_GLOB'" >"$CK/kunit-um.log" 2>&1
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$CK/kunit-um.json" 2>/dev/null &&
		"$PROJ/scripts/kunit_compare.py" --dump "$CK/kunit-um.json" | grep -q . ||
		die "UML KUnit on the base gave no results (log: $CK/kunit-um.log)"
	{
		echo "# The base's generic_pt KUnit suites $KUNIT_UM_GLOB under UML (make base-results), compared"
		echo "# case by case by make check."
		echo "# key: $(kunit_um_base_key)"
		echo "# tools: $(in_root "gcc --version | head -n1" | tr '\n' ' ')"
		"$PROJ/scripts/kunit_compare.py" --dump "$CK/kunit-um.json"
	} >"$OUT/kunit-um.txt.tmp" && mv "$OUT/kunit-um.txt.tmp" "$OUT/kunit-um.txt"
	log "base-results: ${OUT#"$PROJ"/}/kunit-um.txt: $(grep -c '^PASS ' "$OUT/kunit-um.txt") of $(grep -vc '^#' "$OUT/kunit-um.txt") cases pass"
fi

if [[ " $WHAT " == *" rig "* ]]; then
	log "base-results: the rig on the base's kernels"
	CK=$CK RIG_KTREE=$BT RIG_BASE_OUT=$OUT "$PROJ/scripts/rig.sh" || die "the rig on the base failed"
fi
