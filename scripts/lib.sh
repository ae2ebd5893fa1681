# Shared helpers for the harness scripts.  Sourced, not executed.
# shellcheck shell=bash

PROJ=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${IOMMU_SERIES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iommu-series}
ROOTFS=$CACHE/root
BUILD=${BUILD:-$PROJ/build}
WT=${WT:-$BUILD/linux}
SERIES_DIR=${SERIES_DIR:-$PROJ/patches}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
# shellcheck source=../base.conf
. "${BASE_CONF:-$PROJ/base.conf}"

die() { printf 'error: %s\n' "$*" >&2; exit 1; }
log() { printf '==> %s\n' "$*" >&2; }

need_root() {
	[ "$(id -u)" = 0 ] || die "must run as root (it uses debootstrap, chroot and mount); run: sudo make $*"
}

in_root_cwd() {
	case $PWD in "$PROJ"|"$PROJ"/*|"$CACHE"|"$CACHE"/*) echo "$PWD" ;; *) echo "$PROJ" ;; esac
}

# in_root CMD...: run a shell command inside the toolchain root, in a
# private mount namespace so that every bind mount disappears with the
# process, whatever way it ends.  The project and the cache are mounted at
# the same paths as outside, so paths need no translation.
in_root() {
	[ -x "$ROOTFS/usr/bin/qemu-system-aarch64" ] || die "toolchain root missing at $ROOTFS; run: make setup"
	unshare -m --propagation private -- bash -ec '
		R=$1 P=$2 C=$3 D=$4; shift 4
		mount -t proc proc "$R/proc"
		mount --rbind /dev "$R/dev"
		for d in "$P" "$C"; do
			mkdir -p "$R$d"
			mount --bind "$d" "$R$d"
		done
		exec chroot "$R" /usr/bin/env -i \
			PATH=/usr/lib/ccache:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 TERM=dumb \
			CCACHE_DIR="$C/ccache" CCACHE_BASEDIR="$P" CCACHE_NOHASHDIR=1 \
			CCACHE_MAXSIZE=8G CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime \
			KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=iommu KBUILD_BUILD_HOST=series \
			bash -ec "cd \"$D\"; $*"
	' _ "$ROOTFS" "$PROJ" "$CACHE" "$(in_root_cwd)" "$@"
}
