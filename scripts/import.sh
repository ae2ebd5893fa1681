#!/usr/bin/env bash
# make import: the pristine base as a git repository (tag "base") in $WT and
# the series applied on top with git am, one commit per patch.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root import

base_git=$CACHE/base/git
tarball=$CACHE/base/$BASE_TARBALL
[ -f "$tarball" ] || die "base tarball missing ($tarball); run: make setup"

# A pristine, deterministic git repository of the base, made once.
if [ ! -e "$base_git/.stamp" ]; then
	log "making the base git repository (once)"
	rm -rf "$base_git"
	mkdir -p "$base_git"
	tar -C "$base_git" --strip-components=1 -xf "$tarball"
	in_root "cd '$base_git' && git init -q -b base-branch && git add -A -f &&
		GIT_AUTHOR_NAME=Debian GIT_AUTHOR_EMAIL=debian-kernel@lists.debian.org \
		GIT_COMMITTER_NAME=Debian GIT_COMMITTER_EMAIL=debian-kernel@lists.debian.org \
		GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z' \
		git commit -q -m '$BASE_PKG $BASE_VERSION' && git tag base &&
		git config gc.auto 0 && git config maintenance.auto false"
	touch "$base_git/.stamp"
fi

if [ -d "$WT/.git" ] && [ "${FORCE:-0}" != 1 ]; then
	dirty=$(git -C "$WT" status --porcelain --untracked-files=no | head -n 5)
	[ -z "$dirty" ] || die "$WT has uncommitted changes ($(echo $dirty)); commit and run make export, or FORCE=1 make import to discard them"
	"$PROJ/scripts/export.sh" --verify >/dev/null 2>&1 ||
		die "$WT holds commits that are not exported to patches/; run make export (or FORCE=1 make import to discard them)"
fi

name=$(git -C "$PROJ" config user.name || echo "iommu-series")
email=$(git -C "$PROJ" config user.email || echo "iommu-series@localhost")

if [ ! -d "$WT/.git" ]; then
	log "cloning the base into $WT"
	rm -rf "$WT"
	mkdir -p "$(dirname "$WT")"
	in_root "git clone -q --no-checkout '$base_git' '$WT' && cd '$WT' && git checkout -q -b main base"
fi
# Reuse the tree: only the files the series touches change, so builds
# in object directories that use it stay incremental.
in_root "cd '$WT' && (git am --abort >/dev/null 2>&1 || true) &&
	git config user.name '$name' && git config user.email '$email' &&
	git config core.abbrev 12 &&
	git config gc.auto 0 && git config maintenance.auto false &&
	git fetch -q origin 'refs/tags/base:refs/tags/base' &&
	git checkout -q -B main base && git reset -q --hard base && git clean -q -fdx"

n=0
if [ -f "$SERIES_DIR/series" ]; then
	while read -r p; do
		case $p in ''|'#'*) continue ;; esac
		[ -f "$SERIES_DIR/$p" ] || die "series lists $p but $SERIES_DIR/$p does not exist"
		if ! in_root "cd '$WT' && git am -q --whitespace=nowarn '$SERIES_DIR/$p'" >&2; then
			in_root "cd '$WT' && git am --abort" || true
			die "patch $p does not apply to the base with git am"
		fi
		n=$((n + 1))
	done <"$SERIES_DIR/series"
fi
log "imported: base + $n patches in $WT"
