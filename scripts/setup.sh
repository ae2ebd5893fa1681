#!/usr/bin/env bash
# make setup: the toolchain root (debootstrap trixie + backports QEMU) and
# the verified base kernel source.  Idempotent: each step leaves a stamp.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PKGS="qemu-system-arm qemu-efi-aarch64 gcc-aarch64-linux-gnu libc6-dev-arm64-cross
gcc make bc flex bison libssl-dev libelf-dev cpio kmod python3 python3-ply python3-git ccache sparse
coccinelle git xz-utils ca-certificates"
PKGS_STAMP=$(echo "$PKGS" | sha256sum | cut -c1-16)

need_root setup

find_debootstrap() {
	if [ -n "${DEBOOTSTRAP:-}" ]; then
		[ -x "$DEBOOTSTRAP" ] || die "DEBOOTSTRAP=$DEBOOTSTRAP is not an executable; install debootstrap (apt-get install debootstrap) or unset DEBOOTSTRAP"
		echo "$DEBOOTSTRAP"; return
	fi
	if ! command -v debootstrap >/dev/null; then
		log "debootstrap not found, installing it with apt-get"
		{ apt-get update -qq && apt-get install -y -qq debootstrap; } >&2 ||
			die "debootstrap not found and apt-get could not install it; install debootstrap and run make setup again"
	fi
	command -v debootstrap
}

mkdir -p "$CACHE"
if [ ! -e "$ROOTFS/.stamp-debootstrap" ]; then
	ds=$(find_debootstrap)
	log "debootstrap trixie into $ROOTFS"
	rm -rf "$ROOTFS.tmp"
	"$ds" --variant=minbase trixie "$ROOTFS.tmp" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
		die "debootstrap failed (log: $CACHE/debootstrap.log)"
	rm -rf "$ROOTFS"
	mv "$ROOTFS.tmp" "$ROOTFS"
	touch "$ROOTFS/.stamp-debootstrap"
fi

if [ "$(cat "$ROOTFS/.stamp-pkgs" 2>/dev/null)" != "$PKGS_STAMP" ]; then
	log "installing the toolchain and QEMU in the root"
	cat >"$ROOTFS/etc/apt/sources.list" <<EOS
deb $MIRROR trixie main
deb $MIRROR trixie-backports main
EOS
	cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf" 2>/dev/null || true
	# in_root insists on QEMU, which is what we are installing: go direct.
	unshare -m --propagation private -- bash -ec '
		mount -t proc proc "$1/proc"; mount --rbind /dev "$1/dev"
		chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
			bash -ec "apt-get update -qq && apt-get install -y -qq --no-install-recommends -t trixie-backports $2"
	' _ "$ROOTFS" "$(echo $PKGS)" >"$CACHE/apt.log" 2>&1 ||
		die "installing packages in the root failed (log: $CACHE/apt.log)"
	echo "$PKGS_STAMP" >"$ROOTFS/.stamp-pkgs"
fi

# Guest userspace for the DMA rig, from Debian's arm64 architecture: libuuid
# (the VFIO selftests link it) and libcap (the iommufd selftests) installed,
# busybox-static unpacked into $CACHE/guest/busybox (its maintainer scripts
# would run an arm64 binary).
GUEST_PKGS="uuid-dev:arm64 libcap-dev:arm64"
GUEST_STAMP=$(echo "$GUEST_PKGS busybox-static:arm64" | sha256sum | cut -c1-16)
if [ "$(cat "$ROOTFS/.stamp-guest" 2>/dev/null)" != "$GUEST_STAMP" ]; then
	log "installing arm64 guest packages in the root"
	unshare -m --propagation private -- bash -ec '
		mount -t proc proc "$1/proc"; mount --rbind /dev "$1/dev"
		mkdir -p "$1$3"; mount --bind "$3" "$1$3"
		chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
			bash -ec "dpkg --add-architecture arm64 && apt-get update -qq &&
				apt-get install -y -qq --no-install-recommends $2 &&
				rm -rf \"$3/guest\" && mkdir -p \"$3/guest/dl\" && cd \"$3/guest/dl\" &&
				apt-get download -qq -o APT::Sandbox::User=root busybox-static:arm64 &&
				dpkg-deb -x busybox-static_*_arm64.deb \"$3/guest/busybox\""
	' _ "$ROOTFS" "$GUEST_PKGS" "$CACHE" >"$CACHE/apt-guest.log" 2>&1 ||
		die "installing the arm64 guest packages failed (log: $CACHE/apt-guest.log)"
	echo "$GUEST_STAMP" >"$ROOTFS/.stamp-guest"
fi

# The base kernel: the pinned linux-source package, its tarball verified.
base_dir=$CACHE/base
if [ ! -e "$base_dir/.stamp-$BASE_VERSION" ]; then
	mkdir -p "$base_dir/dl"
	rm -f "$base_dir"/dl/*.deb
	log "downloading $BASE_PKG $BASE_VERSION"
	if ! in_root "cd '$base_dir/dl' && apt-get download -qq -o APT::Sandbox::User=root '$BASE_PKG=$BASE_VERSION'" >&2; then
		newest=$(in_root "apt-cache policy '$BASE_PKG' | sed -n 's/^  Candidate: //p'")
		[ -n "$newest" ] && [ "$newest" != "(none)" ] ||
			die "$BASE_PKG is not served by $MIRROR at all; check the mirror or base.conf"
		cat >&2 <<EOW

!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!! $BASE_PKG $BASE_VERSION is no longer served; taking the newest: $newest
!! The tarball checksum in base.conf cannot be checked. Update base.conf.
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!

EOW
		in_root "cd '$base_dir/dl' && apt-get download -qq -o APT::Sandbox::User=root '$BASE_PKG=$newest'" >&2 ||
			die "cannot download $BASE_PKG $newest"
		BASE_SHA256=any
	fi
	deb=$(ls "$base_dir"/dl/*.deb)
	rm -rf "$base_dir/pkg"
	dpkg-deb -x "$deb" "$base_dir/pkg" 2>/dev/null || in_root "dpkg-deb -x '$deb' '$base_dir/pkg'"
	tarball=$(find "$base_dir/pkg" -name "$BASE_TARBALL" | head -n1)
	[ -n "$tarball" ] || die "the package $deb has no $BASE_TARBALL inside"
	sum=$(sha256sum "$tarball" | cut -d' ' -f1)
	if [ "$BASE_SHA256" != any ] && [ "$sum" != "$BASE_SHA256" ]; then
		die "sha256 of $BASE_TARBALL is $sum, base.conf pins $BASE_SHA256; the download is not the pinned base (delete $base_dir and retry, or fix base.conf)"
	fi
	mv "$tarball" "$base_dir/$BASE_TARBALL"
	rm -rf "$base_dir/pkg"
	echo "$sum" >"$base_dir/sha256"
	touch "$base_dir/.stamp-$BASE_VERSION"
fi
log "setup done: root $ROOTFS, base $(cat "$base_dir/sha256")"
