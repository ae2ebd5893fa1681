#!/usr/bin/env python3
"""Pick compiler, sparse, coccinelle and kernel-doc diagnostics that point
into a given set of files, and print them normalised (no line or column
numbers, paths relative to the kernel tree), one per line, sorted, so that
the base and the series can be compared with comm(1).

usage: diagnostics.py TOUCHED_LIST < build.log"""
import os
import re
import sys

LOC = re.compile(r'^(?P<path>[^\s:]+\.[ch]):(?P<line>\d+)(?::(?P<col>\d+))?'
                 r'(?:-\d+)?:\s*(?P<msg>.*)$')


def rel(path, touched):
    path = os.path.normpath(path)
    for t in touched:
        if path == t or path.endswith('/' + t):
            return t
    return None


def main():
    with open(sys.argv[1], encoding='utf-8') as f:
        touched = [l.strip() for l in f if l.strip()]
    out = []
    for line in sys.stdin:
        m = LOC.match(line.rstrip('\n'))
        if not m:
            continue
        msg = m.group('msg')
        if not re.match(r'(warning|error|check|info)\b', msg, re.IGNORECASE):
            continue
        path = rel(m.group('path'), touched)
        if path:
            out.append(f'{path}: {msg}')
    for line in sorted(out):
        print(line)


if __name__ == '__main__':
    main()
