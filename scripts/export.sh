#!/usr/bin/env bash
# make export: the work tree's commits (base..HEAD) into patches/, byte for
# byte reproducible.  With --verify: change nothing, exit 1 and name the
# patches when patches/ and the work tree disagree.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

verify=0
[ "${1:-}" = --verify ] && verify=1
[ -d "$WT/.git" ] || die "no work tree at $WT; run: make import"
cover=$SERIES_DIR/0000-cover-letter.patch

# The cover letter's subject and text are ours (edited in patches/);
# everything below them is generated.
desc=
if [ -f "$cover" ]; then
	desc=$(awk '/^Subject: /{sub(/^Subject: (\[[^]]*\] )?/, ""); print; s=1; next}
		s==1 && /^$/ {print; s=2; next}
		s==2 && (/ \([0-9]+\):$/ || /^base-commit:/ || /^-- $/) {exit}
		s==2 {print}' "$cover" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}')
fi
[ -n "$desc" ] || desc=$'IOMMU: domains as page-table storage\n\n(describe the series here)'
# The posting's version, from the cover letter's "[PATCH vN m/n]" subject
prefix=PATCH
if [ -f "$cover" ]; then
	v=$(sed -n 's/^Subject: \[PATCH v\([0-9][0-9]*\) .*/\1/p' "$cover")
	[ -z "$v" ] || prefix="PATCH v$v"
fi

mkdir -p "$BUILD"
out=$(mktemp -d -p "$BUILD" export.XXXXXX)
trap 'rm -rf "$out"' EXIT
n=$(in_root "git -C '$WT' rev-list --count base..HEAD")
if [ "$n" -gt 0 ]; then
	printf '%s\n' "$desc" >"$out/.desc"
	in_root "cd '$WT' && git -c core.abbrev=12 -c diff.renames=true -c format.signOff=false \
		-c branch.main.description=\"\$(cat '$out/.desc')\" \
		format-patch -q --zero-commit --no-signature --numbered --cover-letter \
		--subject-prefix='$prefix' \
		--cover-from-description=subject --base=base --no-binary -o '$out' base..HEAD"
	rm -f "$out/.desc"
	# The cover letter is dated like the newest patch, not "now".
	date=$(in_root "git -C '$WT' log -1 --format='%aD' HEAD")
	sed -i "0,/^Date: .*/s//Date: $date/" "$out"/0000-cover-letter.patch
	# b4-ready: the cover letter carries the recipients get_maintainer.pl
	# gives for the patches, one address a line (make check compares them).
	series_recipients "$WT" $(ls "$out"/[0-9][0-9][0-9][0-9]-*.patch | grep -v '/0000-cover-letter.patch$') \
		>"$out/.rcpt" || die "get_maintainer.pl failed"
	python3 - "$out/0000-cover-letter.patch" "$out/.rcpt" <<'PY'
import sys
cover, rcpt = sys.argv[1:]
hdrs = []
for line in open(rcpt, encoding='utf-8'):
    name, _, addrs = line.rstrip('\n').partition(': ')
    if addrs:
        hdrs.append(f'{name}: ' + ',\n '.join(addrs.split(', ')) + '\n')
text = open(cover, encoding='utf-8').read()
i = text.index('\nSubject: ') + 1
open(cover, 'w', encoding='utf-8').write(text[:i] + ''.join(hdrs) + text[i:])
PY
	rm -f "$out/.rcpt"
	(cd "$out" && ls [0-9][0-9][0-9][0-9]-*.patch | grep -v '^0000-cover-letter.patch$' >series)
else
	: >"$out/series"
fi

if [ $verify = 1 ]; then
	bad=$( { diff -rq "$out" "$SERIES_DIR" 2>&1 || true; } | sed -e "s|$out/||g; s|$SERIES_DIR/||g")
	[ -z "$bad" ] && exit 0
	echo "patches/ and the commits in $WT disagree:" >&2
	printf '  %s\n' "$bad" >&2
	echo "run make export (to keep the work tree) or FORCE=1 make import (to keep patches/)" >&2
	exit 1
fi
mkdir -p "$SERIES_DIR"
rm -f "$SERIES_DIR"/[0-9][0-9][0-9][0-9]-*.patch "$SERIES_DIR/series"
cp "$out"/* "$SERIES_DIR"/
log "exported $n patches to $SERIES_DIR"
