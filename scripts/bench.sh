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
# BENCH_IOMMU=multi (bench-multi.txt) is the series alone: the KUnit suite
# iommu_multi_bench (drivers/iommu/iommu-multi-bench.c) in one guest of the
# rig's `multi` topology (three SMMUv3, an edu device behind each), which
# times iommu_map() + iommu_unmap() in a single-instance domain against
# multi-instance domains with one and two backings, on the mock IOMMU and
# on two of the SMMUs, and the replay of 1 GiB of 4 KiB mappings with the
# memory of the record and of the backing's page table.  make bench runs
# smmuv3 then multi; BENCH_IOMMU names one or more.
#
# The kernels are the rig's lean configuration (rig/rig-arm64.config) plus
# rig/bench.config (the function profiler), built from the base and from
# base + patches/ in build/bench; the multi kernel adds rig/bench-multi.config
# to the series'.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need_root bench

IOMMU=${BENCH_IOMMU:-smmuv3 multi}
if [ "$(echo $IOMMU | wc -w)" -gt 1 ]; then
	for i in $IOMMU; do
		BENCH_IOMMU=$i "$0" || exit 1
	done
	exit 0
fi
B=$BUILD/bench
RUNS=${BENCH_RUNS:-3}
SECS=${BENCH_SECS:-2}
case $IOMMU in
smmuv3) MACHINE=virt,iommu=smmuv3,gic-version=3 DEV= OUT=bench.txt ;;
virtio) MACHINE=virt,gic-version=3 DEV="-device virtio-iommu-pci,addr=03.0" OUT=bench-virtio.txt ;;
multi) OUT=bench-multi.txt ;;
*) die "BENCH_IOMMU is smmuv3, virtio or multi" ;;
esac
JOBS=${JOBS:-$(nproc)}
mkdir -p "$B"

WT=$B/linux FORCE=1 "$PROJ/scripts/import.sh" || die "the series does not apply"
BT=$B/linux-base
# The multi bench runs the series alone: no base tree
if [ "$IOMMU" = multi ]; then
	:
elif [ -e "$BT/.git" ]; then
	in_root "cd '$BT' && git checkout -q --detach base && git clean -q -fdx" || die "cannot reset $BT"
else
	rm -rf "$BT"
	in_root "git -C '$B/linux' worktree add -q --detach '$BT' base" || die "cannot make $BT"
fi

# build KIND TREE: the bench kernel of KIND (base, series, multi) from TREE
build() {
	local d=$B/$1 frags="$PROJ/rig/rig-arm64.config $PROJ/rig/bench.config" o
	[ "$1" = multi ] && frags="$frags $PROJ/rig/bench-multi.config"
	mkdir -p "$d"
	cat $frags >"$d/.config"
	in_root "make -s -C '$2' O='$d' ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- -j$JOBS olddefconfig" || return 1
	for o in $(cat $frags | sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=y$/\1/p') CONFIG_DMA_MAP_BENCHMARK CONFIG_ARM_SMMU_V3 CONFIG_VIRTIO_IOMMU; do
		grep -q "^$o=y\$" "$d/.config" || { echo "$o is not set in the $1 bench kernel"; return 1; }
	done
	in_root "make -s -C '$2' O='$d' ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- -j$JOBS Image headers"
}
# bench_multi: one guest of the multi topology runs iommu_multi_bench
bench_multi() {
	local d=$B/multi-initramfs c=$B/multi.console
	(. "$PROJ/rig/topo/multi.topo"; echo "$qemu_args") >"$B/multi.qemu_args"
	rm -rf "$d"
	mkdir -p "$d"/{bin,dev,proc,sys,tmp}
	cp "$CACHE/guest/busybox/usr/bin/busybox" "$d/bin/busybox"
	for a in sh mount sed cat echo sleep poweroff; do
		ln -s busybox "$d/bin/$a"
	done
	cp "$PROJ/rig/bench-multi-init" "$d/init"
	in_root "cd '$d' && find . | cpio -o -H newc --quiet | gzip -1 >'$B/multi-initramfs.cpio.gz'" ||
		die "cannot pack the initramfs"
	log "bench: the multi topology, iommu_multi_bench (console: ${c#"$PROJ"/})"
	in_root "timeout 1800 qemu-system-aarch64 -nodefaults -nographic -serial stdio -no-reboot \
		-cpu cortex-a76 -smp 2 -m 4096 -bios /usr/share/qemu-efi-aarch64/QEMU_EFI.fd \
		$(echo $(cat "$B/multi.qemu_args")) \
		-kernel '$B/multi/arch/arm64/boot/Image' -initrd '$B/multi-initramfs.cpio.gz' \
		-append 'console=ttyAMA0 rdinit=/init loglevel=1 panic=-1 acpi=force'" >"$c" 2>&1
	grep -aq '^bench end' "$c" || die "the multi guest did not finish ($c)"
	grep -aq '^ok 1 iommu_multi_bench' "$c" && ! grep -aq '# SKIP' "$c" ||
		die "iommu_multi_bench failed or skipped a case ($c)"
	sed -n 's/^ *# [a-z_]*: \(bench .*\)/\1/p' "$c" | tr -d '\r' >"$B/multi.out"
	python3 - "$B/multi.out" >"$B/$OUT" <<'PYEOF'
import statistics, sys
med = statistics.median
samples, replay, info = {}, [], []
for line in open(sys.argv[1]):
    f = dict(x.split("=", 1) for x in line.split()[2:] if "=" in x)
    if line.startswith("bench multi "):
        samples.setdefault((f["iommu"], int(f["size"]), f["domain"]), []).append(int(f["ns"]))
    elif line.startswith("bench replay "):
        replay.append(f)
    elif line.startswith("bench info "):
        info.append(line.split(None, 2)[2].strip())
rounds = max(len(v) for v in samples.values())
print("make bench BENCH_IOMMU=multi: iommu_multi_bench (KUnit, drivers/iommu/iommu-multi-bench.c) in one guest")
print(f"of the multi topology (QEMU TCG, 2 vCPUs); iommu_map() + iommu_unmap() pairs, 256 per sample after one not")
print(f"timed, {rounds} rounds, the four kinds in turn in each round in an order that rotates; medians over the rounds.")
print("single: one driver domain (iommu_domain_alloc_for_group()); single2: two of them, one per group, each pair")
print("mapped in both then unmapped from both (what VFIO type1 does with two domains); multi1/multi2: a multi")
print("domain attached to one group (one backing) or to both (two backings)")
for i in dict.fromkeys(info):
    print("  " + i)
print()
kinds = ("single", "single2", "multi1", "multi2")
hdr = ("iommu", "size", "single ns", "single2 ns", "multi1 ns", "multi2 ns", "multi1 / single",
       "multi2 / single", "multi2 / single2") + tuple(f"spread {k}" for k in kinds)
print("| " + " | ".join(hdr) + " |")
print("|" + "---|" * len(hdr))
for iommu in ("mock", "real"):
    for size in (4096, 2097152):
        v = {k: samples.get((iommu, size, k), []) for k in kinds}
        if not all(v.values()):
            continue
        m = {k: med(x) for k, x in v.items()}
        sp = {k: (max(x) - min(x)) / m[k] * 100 for k, x in v.items()}
        print(f"| {iommu} | {size // 1024} KiB | " + " | ".join(f"{m[k]:.0f}" for k in kinds) + " | "
              f"{m['multi1'] / m['single']:.2f}x | {m['multi2'] / m['single']:.2f}x | "
              f"{m['multi2'] / m['single2']:.2f}x | " + " | ".join(f"{sp[k]:.0f}%" for k in kinds) + " |")
print()
print("Replay: a multi domain attached nowhere maps 1 GiB as 262144 4 KiB pages (no two neighbours")
print("physically contiguous); then a group joins and its backing is built from the record")
hdr = ("iommu", "map 1 GiB ms", "replay ms", "unmap 1 GiB ms", "record bytes", "backing page table bytes",
       "record / page table", "backing total bytes")
print("| " + " | ".join(hdr) + " |")
print("|" + "---|" * len(hdr))
for f in replay:
    rec, pt = int(f["record_bytes"]), int(f["pagetable_bytes"])
    print(f"| {f['iommu']} | {f['map_ms']} | {f['replay_ms']} | {f['unmap_ms']} | {rec} | {pt} | "
          f"{rec / pt:.3f} | {f['backing_bytes']} |")
print()
print("spread: (max - min) / median of a domain's samples over the rounds")
PYEOF
	cat "$B/$OUT"
}

KINDS="base series"
[ "$IOMMU" = multi ] && KINDS=multi
for k in $KINDS; do
	tree=$B/linux
	[ $k = base ] && tree=$BT
	log "bench: the $k kernel (log: ${B#"$PROJ"/}/$k.log)"
	build $k "$tree" >"$B/$k.log" 2>&1 || die "the $k bench kernel does not build (log: $B/$k.log)"
done
[ "$IOMMU" = multi ] && { bench_multi; exit; }

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
