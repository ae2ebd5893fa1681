#!/usr/bin/env bash
# make run: the main job.  Apply the series to a clean base, build the rig
# kernel its topology boots and the guest, boot the `multi` topology (three
# SMMUv3 instances, an edu device behind each) and show, in plain words,
# which device sits behind which IOMMU, a DMA through each, and the IOMMU
# refusing a DMA to an unmapped IOVA; and one multi-instance domain used by
# all the devices: its backings and their DMA.  TOPO=smmu|virtio|multi
# picks another topology.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root run

CK=${CK:-$BUILD/check}
export CK
TOPO=${TOPO:-multi}
mkdir -p "$CK/logs"
log "applying the series to a clean base ($CK/linux)"
WT=$CK/linux FORCE=1 "$PROJ/scripts/import.sh" >"$CK/logs/run-import.log" 2>&1 ||
	die "the series does not apply (log: $CK/logs/run-import.log)"
RIG_APPEND=rig.demo "$PROJ/scripts/rig.sh" "$TOPO" >"$CK/logs/run-rig.log" 2>&1 || true

console=$CK/rig/$TOPO.console
[ -f "$console" ] || die "no console log; see $CK/logs/run-rig.log"
. "$PROJ/rig/topo/$TOPO.topo"
echo
echo "=== $(sed -n '1s/^# //p' "$PROJ/rig/topo/$TOPO.topo")"
grep -a -m1 'Linux version' "$console" | sed 's/^/    /'
echo
echo "IOMMU instances the kernel probed:"
grep -aE 'arm-smmu-v3 .*(probing|features)|virtio_iommu .*(input address|domain)' "$console" | sed -E 's/^\[ *[0-9.]+\] //; s/^/    /' | head
echo
echo "Devices (checked by the guest, not by eye):"
grep -aE '^    (not )?ok [0-9]+ .* behind |^    # [0-9a-f:.]+: /sys' "$console" | sed -E 's/^    //; s/^/    /'
echo
echo "One multi-instance domain for every edu device (KUnit case test_edu_multi, in the"
echo "kernel): mapped before the first attach, each device copies through it as it joins,"
echo "its backings as <debugfs>/iommu/multi_domains shows them, then each device reads"
echo "an IOVA the domain no longer maps, and its IOMMU reports the fault:"
ktap=$(sed -n '/^==== rig: kernel log ====/q;p' "$console")
echo "$ktap" | grep -a '# test_edu_multi: ' | grep -v 'should be marked slow' |
	sed 's/.*# test_edu_multi: /    /'
echo "$ktap" | grep -aE '^    # [0-9a-f:.]+: [0-9]+ fault reports at ' | sed 's/^    # /    /'
echo "$ktap" | grep -aE '^(ok|not ok) 3 multi domain' | sed 's/^/    /'
echo
echo "DMA through each device (edu DMA engine, VFIO, iommufd), then to an unmapped IOVA:"
# The guest's KTAP: a device's selftest cases, then its line; then whether
# the IOMMU reported the unmapped DMA.
sed -n '/^==== rig: kernel log ====/q;p' "$console" | awk '
	/^    (ok|not ok) [0-9]+ vfio_/ { sub(/^    /, ""); sub(/ [0-9]+ [a-z_]*\.[a-z0-9_]*\./, " "); cases = cases "  " $0; next }
	/^(ok|not ok) [0-9]+ vfio_/ { printf "    %s: %s\n", $NF, cases; cases = ""; next }
	/^    # [0-9a-f:.]+: a DMA to an unmapped IOVA/ { sub(/^    # /, ""); faults = $0; next }
	/^(ok|not ok) [0-9]+ unmapped DMA/ { printf "    %s\n      -> %s\n", faults, ($1 == "ok" ? "refused and reported by the IOMMU" : "NOT reported") }'
echo
echo "The IOMMUs' reports of those DMAs (the last of each device):"
grep -aE "^    # .*$fault_pattern" "$console" | sed 's/^    # /    /'
echo
echo "The guest's verdicts: $(echo "$ktap" | grep -acE '^ok [0-9]+ ') ok, $(echo "$ktap" |
	grep -acE '^not ok [0-9]+ ') not ok (a subset of the rig's tests, not compared with the
base: make check does that)"
echo "(full console: ${console#"$PROJ"/})"
