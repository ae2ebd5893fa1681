# Shared helpers for the harness scripts.  Sourced, not executed.
# shellcheck shell=bash

PROJ=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${IOMMU_SERIES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iommu-series}
ROOTFS=$CACHE/root
BUILD=${BUILD:-$PROJ/build}
WT=${WT:-$BUILD/linux}
SERIES_DIR=${SERIES_DIR:-$PROJ/patches}
# The base's results that make check compares with (make base-results)
BASE_RESULTS=${BASE_RESULTS:-$PROJ/results/base}
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

# KUnit under TCG: a Cortex-A76 (no SVE, no pointer authentication) runs the
# generic_pt suites 2.5-3.5x faster than "max" (amdv1_iommu_test alone: 75-78
# s against 270 s for max,pauth-impdef=on and 91 s for
# max,pauth=off,sve=off); the suites do not use those CPU features.
KUNIT_QEMU_ARGS="-cpu cortex-a76"

# kunit_base_key: what the base's KUnit results (results/base/kunit.txt)
# depend on: the base, the configuration of the base's suites
# (config/kunit.config, with the base's own generic_pt/.kunitconfig) and
# the QEMU arguments.  Tool versions are recorded there, not keyed.
kunit_base_key() {
	(echo "$BASE_SHA256"; cat "$PROJ/config/kunit.config"; echo "$KUNIT_QEMU_ARGS") |
		sha256sum | cut -c1-32
}

# The generic_pt suites that run under UML instead of arm64 TCG: the four
# *_iommu_test suites take 100-260 s each under TCG (test_random_map maps
# random ranges of up to 1G and reads every page back) and 29 s together
# natively; the *_fmt_test suites take a second and stay on arm64.
KUNIT_UM_GLOB='*_iommu_test'

# kunit_um_base_key: what the base's generic_pt results under UML
# (results/base/kunit-um.txt) depend on: the base (its own
# generic_pt/.kunitconfig is the configuration) and the architecture.
kunit_um_base_key() {
	(echo "$BASE_SHA256"; echo um "$KUNIT_UM_GLOB") | sha256sum | cut -c1-32
}

# series_recipients TREE PATCH...: the b4-style recipients of a posting, as
# two lines "To: a, b" and "Cc: c, d": To the maintainers and reviewers that
# TREE's scripts/get_maintainer.pl names for the patches (b4's
# send-auto-to-cmd), Cc the lists (send-auto-cc-cmd) and whoever is not in
# To already.  No git history (the base is a tarball) and no Fixes: authors;
# a fixed Perl hash seed keeps the order from run to run.
series_recipients() {
	local tree=$1 gm to cc rc=0
	shift
	gm="cd '$tree' && PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 scripts/get_maintainer.pl --nogit --nogit-fallback --nogit-chief-penguins --norolestats --nofixes"
	mkdir -p "$BUILD"
	to=$(mktemp -p "$BUILD") cc=$(mktemp -p "$BUILD")
	in_root "$gm --nol $* 2>/dev/null" >"$to" && in_root "$gm --nom $* 2>/dev/null" >"$cc" || rc=1
	if [ $rc = 0 ]; then
		[ -s "$to" ] && echo "To: $(paste -sd, "$to" | sed 's/,/, /g')"
		grep -vxF -f "$to" "$cc" | paste -sd, | sed -n 's/,/, /g; s/^./Cc: &/p'
	fi
	rm -f "$to" "$cc"
	return $rc
}
