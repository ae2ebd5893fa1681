#!/usr/bin/env bash
# make run: the main job.  Apply the series to a clean base, build the arm64
# test kernel, boot it under QEMU with an SMMUv3 and show what the series adds:
# the IOMMU probe, the groups, and the KUnit results (parsed by kunit.py).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root run

CK=${CK:-$BUILD/check}
export CK
OBJ=$CK/arm64
mkdir -p "$CK/logs"

log "applying the series to a clean base ($CK/linux)"
WT=$CK/linux FORCE=1 "$PROJ/scripts/import.sh" >"$CK/logs/run-import.log" 2>&1 ||
	die "the series does not apply (log: $CK/logs/run-import.log)"
kc="--kunitconfig=drivers/iommu/generic_pt/.kunitconfig --kunitconfig=$PROJ/config/kunit.config"
[ -f "$PROJ/config/kunit-series.config" ] && kc="$kc --kunitconfig=$PROJ/config/kunit-series.config"
log "building the arm64 test kernel (kunit.py build; log: $CK/logs/run-build.log)"
in_root "cd '$CK/linux' && python3 tools/testing/kunit/kunit.py build --arch=arm64 \
	--cross_compile=aarch64-linux-gnu- --build_dir='$OBJ' --jobs=$(nproc) $kc" \
	>"$CK/logs/run-build.log" 2>&1 || die "the kernel does not build (log: $CK/logs/run-build.log)"

log "booting it: $(grep -v '^#' "$PROJ/config/qemu-smmu.args" | tr '\n' ' ')"
mapfile -t qargs < <(grep -v '^#' "$PROJ/config/qemu-smmu.args")
console=$CK/logs/run-console.log
in_root "timeout 600 qemu-system-aarch64 ${qargs[*]} -kernel '$OBJ/arch/arm64/boot/Image.gz' \
	-append 'console=ttyAMA0 kunit_shutdown=poweroff panic=-1'" >"$console" 2>&1 || true

echo
echo "--- kernel and IOMMU probe ---"
grep -aE 'Linux version|arm-smmu-v3|iommu group|iommu:|Default domain type' "$console" |
	sed -E 's/^\[ *[0-9.]+\] //' | head -n 40
echo
echo "--- KUnit (parsed by kunit.py) ---"
in_root "cd '$CK/linux' && python3 tools/testing/kunit/kunit.py parse --raw_output=kunit '$console'" |
	grep -E '^\[[0-9:]+\] (=|Testing complete|Ran|Elapsed|.*(FAILED|CRASHED))' | tail -n 40 || true
for bad in 'BUG:' 'WARNING:' 'Kernel panic' 'Oops'; do
	if grep -aq "$bad" "$console"; then
		echo "!! the console shows \"$bad\" (full log: $console)"
	fi
done
echo "full console log: $console"
