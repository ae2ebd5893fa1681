#!/usr/bin/env bash
# make bench: the kernel's dma_map_benchmark (kernel/dma/map_benchmark.c,
# tools/dma/dma_map_benchmark) bound to an edu device behind an SMMUv3, on
# the stock base and on the series (max_opt_dma_size = 256 KiB), booted
# alternately in one run, BENCH_RUNS boots of each (3).  Each boot measures
# granules of 1, 32 and 64 pages with 1 and 2 threads, in strict (DMA) and
# lazy (DMA-FQ) mode, and, with the ftrace function profiler, the rbtree
# (alloc_iova(), free_iova()) calls per map+unmap after a warm-up and the
# larger rcache classes set up (iova_rcache_alloc_lazy()).  Prints one table
# of medians with ratios and writes it to build/bench/bench.txt.  A
# benchmark, not a test: it fails only when a guest does not finish.
#
# BENCH_IOMMU=virtio puts the edu device behind a virtio-iommu-pci instead
# (bench-virtio.txt): every map and unmap is a request to the device.
#
# The kernels are the rig's lean configuration (rig/rig-arm64.config) plus
# rig/bench.config (the function profiler), built from the base and from
# base + patches/ in build/bench.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need_root bench

B=$BUILD/bench
RUNS=${BENCH_RUNS:-3}
SECS=${BENCH_SECS:-2}
IOMMU=${BENCH_IOMMU:-smmuv3}
case $IOMMU in
smmuv3) MACHINE=virt,iommu=smmuv3,gic-version=3 DEV= OUT=bench.txt ;;
virtio) MACHINE=virt,gic-version=3 DEV="-device virtio-iommu-pci,addr=03.0" OUT=bench-virtio.txt ;;
*) die "BENCH_IOMMU is smmuv3 or virtio" ;;
esac
JOBS=${JOBS:-$(nproc)}
mkdir -p "$B"

WT=$B/linux FORCE=1 "$PROJ/scripts/import.sh" || die "the series does not apply"
BT=$B/linux-base
if [ -e "$BT/.git" ]; then
	in_root "cd '$BT' && git checkout -q --detach base && git clean -q -fdx" || die "cannot reset $BT"
else
	rm -rf "$BT"
	in_root "git -C '$B/linux' worktree add -q --detach '$BT' base" || die "cannot make $BT"
fi

# build KIND TREE: the bench kernel of KIND (base, series) from TREE
build() {
	local d=$B/$1 frags="$PROJ/rig/rig-arm64.config $PROJ/rig/bench.config" o
	mkdir -p "$d"
	cat $frags >"$d/.config"
	in_root "make -s -C '$2' O='$d' ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- -j$JOBS olddefconfig" || return 1
	for o in $(cat $PROJ/rig/bench.config | sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=y$/\1/p') CONFIG_DMA_MAP_BENCHMARK CONFIG_ARM_SMMU_V3 CONFIG_VIRTIO_IOMMU; do
		grep -q "^$o=y\$" "$d/.config" || { echo "$o is not set in the $1 bench kernel"; return 1; }
	done
	in_root "make -s -C '$2' O='$d' ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- -j$JOBS Image headers"
}
for k in base series; do
	tree=$B/linux
	[ $k = base ] && tree=$BT
	log "bench: the $k kernel (log: ${B#"$PROJ"/}/$k.log)"
	build $k "$tree" >"$B/$k.log" 2>&1 || die "the $k bench kernel does not build (log: $B/$k.log)"
done

log "bench: dma_map_benchmark and the initramfs"
in_root "aarch64-linux-gnu-gcc -O2 -static -pthread -isystem '$B/series/usr/include' \
	-o '$B/dma_map_benchmark' '$B/linux/tools/dma/dma_map_benchmark.c'" || die "dma_map_benchmark does not build"
rm -rf "$B/initramfs"
mkdir -p "$B/initramfs"/{bin,dev,proc,sys,tmp}
cp "$CACHE/guest/busybox/usr/bin/busybox" "$B/initramfs/bin/busybox"
for a in sh mount sed grep cat echo sleep poweroff awk; do
	ln -s busybox "$B/initramfs/bin/$a"
done
cp "$B/dma_map_benchmark" "$B/initramfs/bin/"
cp "$PROJ/rig/bench-init" "$B/initramfs/init"
in_root "cd '$B/initramfs' && find . | cpio -o -H newc --quiet | gzip -1 >'$B/initramfs.cpio.gz'" ||
	die "cannot pack the initramfs"

# boot KIND RUN: one guest, its result lines into $B/KIND.RUN.out
boot() {
	local append="console=ttyAMA0 rdinit=/init loglevel=1 panic=-1 bench.secs=$SECS"
	[ "$1" = series ] && append="$append bench.size=262144"
	in_root "timeout 1200 qemu-system-aarch64 -nodefaults -nographic -serial stdio -no-reboot \
		-cpu cortex-a76 -smp 2 -m 2048 -machine $MACHINE $DEV \
		-device edu,addr=04.0,dma_mask=0xffffffffffff \
		-kernel '$B/$1/arch/arm64/boot/Image' -initrd '$B/initramfs.cpio.gz' -append '$append'" \
		>"$B/$1.$2.console" 2>&1
	grep -a '^bench ' "$B/$1.$2.console" | tr -d '\r' >"$B/$1.$2.out"
	grep -aq '^bench end' "$B/$1.$2.console" || die "the $1 guest of run $2 did not finish ($B/$1.$2.console)"
}
rm -f "$B"/*.out
for r in $(seq 1 "$RUNS"); do
	for k in base series; do
		log "bench: run $r, $k"
		boot $k $r
	done
done

python3 - "$B" "$RUNS" "$SECS" "$IOMMU" >"$B/$OUT" <<'EOF'
import statistics, sys
b, runs, secs, iommu = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
lat, prof, lazy = {}, {}, {}
for k in ("base", "series"):
    for r in range(1, runs + 1):
        for line in open(f"{b}/{k}.{r}.out"):
            f = dict(x.split("=", 1) for x in line.split()[1:] if "=" in x)
            if line.startswith("bench lat "):
                key = (k, f["mode"], int(f["granule"]), int(f["threads"]))
                lat.setdefault(key, []).append((float(f["map_us"]), float(f["unmap_us"]),
                                                float(f["map_sd"]), float(f["unmap_sd"])))
            elif line.startswith("bench prof "):
                key = (k, f["mode"], int(f["granule"]), int(f["threads"]))
                maps = int(f["maps"])
                prof.setdefault(key, []).append(
                    (int(f["alloc_iova"]) + int(f["free_iova"])) / maps if maps else float("nan"))
            elif line.startswith("bench lazy "):
                lazy.setdefault(k, []).append(int(f["calls"]))
med = statistics.median
print(f"make bench: dma_map_benchmark, edu behind {'SMMUv3' if iommu == 'smmuv3' else 'virtio-iommu'} (QEMU TCG, 2 vCPUs), {runs} boots of each "
      f"kernel alternating, {secs} s per point; medians over the boots")
print("stock = the base; series = base + patches, max_opt_dma_size = 262144")
print("rbtree/op: alloc_iova() + free_iova() calls per map+unmap (function profiler, after 1 s warm-up)")
print()
hdr = ("mode", "granule", "thr", "stock map+unmap us", "series map+unmap us", "speedup",
       "spread stock", "spread series", "rbtree/op stock", "rbtree/op series")
print("| " + " | ".join(hdr) + " |")
print("|" + "---|" * len(hdr))
for mode in ("strict", "lazy"):
    for g in (1, 32, 64):
        for t in (1, 2):
            row = []
            tot = {}
            spread = {}
            for k in ("base", "series"):
                v = [m + u for m, u, _, _ in lat.get((k, mode, g, t), [])]
                tot[k] = med(v) if v else float("nan")
                spread[k] = (max(v) - min(v)) / tot[k] * 100 if v else float("nan")
            pr = {k: med(prof[(k, mode, g, t)]) if prof.get((k, mode, g, t)) else float("nan")
                  for k in ("base", "series")}
            print(f"| {mode} | {g} ({g * 4} KiB) | {t} | {tot['base']:.2f} | {tot['series']:.2f} | "
                  f"{tot['base'] / tot['series']:.2f}x | {spread['base']:.0f}% | {spread['series']:.0f}% | "
                  f"{pr['base']:.3f} | {pr['series']:.3f} |")
print()
print("spread: (max - min) / median of the boots' map+unmap times, the run's noise")
print(f"larger rcache classes set up (iova_rcache_alloc_lazy() calls) on the series after 1 and 32 page "
      f"maps only, a domain with max_opt_dma_size = 262144: {lazy.get('series', [])} (per boot)")
EOF
cat "$B/$OUT"
