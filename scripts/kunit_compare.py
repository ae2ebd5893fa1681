#!/usr/bin/env python3
"""Compare kunit.py --json results of the series against the base.

usage: kunit_compare.py [--filter SUITE-GLOB] [--known FILE] BASE|- SERIES.json...
       kunit_compare.py --dump JSON...

BASE is kunit.py's JSON or a results file of --dump's format (lines
"STATUS case", # comments), as results/base/ holds.

A case that fails with the series is a failure, also when it fails on the
base: a base failure can hide a regression (the base's generic_pt suites
fail all but two cases, so "fails on the base too" would excuse anything
there).  Only a case listed in the --known file (lines "suite/case[/param]
reason", # comments) is a known base failure: reported, not counted as a
failure.  A case that passed on the base and is missing with the series is
a failure.  Prints one line per case that is not a plain pass, and a
summary line "kunit: P passed, F failed, S skipped, K known; N cases, N
same, N fixed, N lost": of the cases on either side, how many have the
same result, pass now and did not on the base (or are new), passed on the
base and do not now (and ", N other" for the rest, when there are any)."""
import fnmatch
import json
import sys


# kunit.py's statuses (kunit_parser.TestStatus)
STATUSES = ('PASS', 'FAIL', 'SKIP', 'TEST_CRASHED', 'NO_TESTS',
            'FAILURE_TO_PARSE_TESTS', 'ERROR')


def flatten(group, prefix=''):
    out = {}
    name = group.get('name', '')
    path = prefix + name + '/' if prefix or name != 'KUnit Test Group' else ''
    for case in group.get('test_cases', []):
        out[path + case['name']] = case['status']
    for sub in group.get('sub_groups', []):
        out.update(flatten(sub, path))
    return out


def load(path):
    if not path:
        return {}
    try:
        with open(path, encoding='utf-8') as f:
            if not path.endswith('.json'):
                out = {}
                for line in f:
                    if line.strip() and not line.startswith('#'):
                        status, _, case = line.rstrip('\n').partition(' ')
                        if status not in STATUSES or not case:
                            raise ValueError(f'{path}: bad line {line!r}')
                        out[case] = status
                return out
            return flatten(json.load(f))
    except (OSError, ValueError):
        return None


def dump(paths):
    cases = {}
    for path in paths:
        results = load(path)
        if results is None:
            sys.exit(f'kunit_compare.py: no results in {path}')
        cases.update(results)
    for case, status in sorted(cases.items()):
        print(f'{status} {case}')
    return 0


def main():
    args = sys.argv[1:]
    if args and args[0] == '--dump':
        return dump(args[1:])
    glob = None
    allowed = {}
    while len(args) >= 2 and args[0] in ('--filter', '--known'):
        if args[0] == '--filter':
            glob = args[1].split('.')[0]
        else:
            with open(args[1], encoding='utf-8') as f:
                for line in f:
                    if line.strip() and not line.startswith('#'):
                        # "case<TAB>reason"; a case without spaces may be
                        # followed by a space instead
                        sep = '\t' if '\t' in line else ' '
                        case, _, why = line.strip().partition(sep)
                        allowed[case] = why.strip()
        args = args[2:]
    if len(args) < 2:
        sys.exit('usage: kunit_compare.py [--filter SUITE-GLOB] '
                 '[--known FILE] BASE|- SERIES.json...')
    base = load(None if args[0] == '-' else args[0])
    if base and glob:
        # Only the suites the series run was filtered to.
        base = {c: s for c, s in base.items()
                if fnmatch.fnmatch(c.split('/')[0], glob)}
    head = {}
    for path in args[1:]:
        results = load(path)
        if results is None:
            print(f'kunit: no results in {path} (crash, hang or no KTAP)')
            head = None
            break
        head.update(results)
    if not head:
        print('kunit: no results from the series kernel (crash, hang or no KTAP)')
        print('kunit: 0 passed, 1 failed, 0 skipped, 0 known; '
              f'{len(base or {})} cases, 0 same, 0 fixed, '
              f'{sum(s == "PASS" for s in (base or {}).values())} lost')
        return 1
    base = base or {}
    passed = failed = skipped = known = 0
    for case, status in sorted(head.items()):
        if status == 'PASS':
            passed += 1
        elif status == 'SKIP':
            skipped += 1
            print(f'  SKIP  {case}')
        elif case in allowed and base.get(case) in ('FAIL', 'ERROR'):
            known += 1
            print(f'  KNOWN {case}: {status} on the base too ({allowed[case]})')
        else:
            failed += 1
            also = (', fails on the base too'
                    if base.get(case) in ('FAIL', 'ERROR') else '')
            print(f'  FAIL  {case}: {status}{also}')
    for case, status in sorted(base.items()):
        if status == 'PASS' and case not in head:
            failed += 1
            print(f'  FAIL  {case}: passed on the base, missing with the series')
    same = fixed = lost = 0
    for case in set(base) | set(head):
        was, now = base.get(case), head.get(case)
        if was == now:
            same += 1
        elif now == 'PASS':
            fixed += 1
            if was:
                print(f'  FIXED {case}: {was} on the base')
        elif was == 'PASS':
            lost += 1
            print(f'  LOST  {case}: passed on the base, {now or "missing"} now')
    # The rest changed between two results that are not a pass (a failure
    # that now skips, a new case that fails): listed above as FAIL or SKIP.
    total = len(set(base) | set(head))
    other = total - same - fixed - lost
    print(f'kunit: {passed} passed, {failed} failed, {skipped} skipped, '
          f'{known} known; {total} cases, {same} same, '
          f'{fixed} fixed, {lost} lost' + (f', {other} other' if other else ''))
    return 1 if failed or lost else 0


if __name__ == '__main__':
    sys.exit(main())
