#!/usr/bin/env python3
"""check-metrics.py - a strict reader of Prometheus' text exposition format
(0.0.4) for the tests, used where promtool (Debian's prometheus package) is
missing: every sample belongs to a family announced by HELP and TYPE lines
before it, names and labels are well formed, each series appears once,
counters end in _total and others do not, histogram buckets grow with le
and end at +Inf equal to _count.  Reads stdin; prints the problems and
exits 1 when there are any."""
import math
import re
import sys

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r'^(%s)(?:\{((?:%s)(?:,%s)*)?\})? (\S+)(?: -?\d+)?$' % (NAME, LABEL, LABEL))
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}


def family_of(name, types):
    for suffix in ('_bucket', '_sum', '_count'):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and types.get(base) == 'histogram':
            return base
    return name


def main():
    problems, helps, types, seen, buckets, counts = [], set(), {}, set(), {}, {}
    for number, line in enumerate(sys.stdin.read().split('\n'), 1):
        where = 'line %d' % number
        if not line:
            continue
        if line.startswith('# HELP ') or line.startswith('# TYPE '):
            parts = line.split(' ', 3)
            if len(parts) < 4 or not re.fullmatch(NAME, parts[2]):
                problems.append('%s: malformed %s' % (where, line))
            elif parts[1] == 'HELP':
                helps.add(parts[2])
            elif parts[3] not in TYPES or parts[2] in types:
                problems.append('%s: bad or repeated TYPE %s' % (where, line))
            else:
                types[parts[2]] = parts[3]
            continue
        if line.startswith('#'):
            continue
        match = SAMPLE.match(line)
        if not match:
            problems.append('%s: not a sample: %r' % (where, line))
            continue
        name, labels, value = match.group(1), match.group(2) or '', match.group(3)
        family = family_of(name, types)
        if family not in types or family not in helps:
            problems.append('%s: %s has no HELP and TYPE before it' % (where, name))
        if (name, labels) in seen:
            problems.append('%s: %s{%s} repeated' % (where, name, labels))
        seen.add((name, labels))
        try:
            number_value = float(value)
        except ValueError:
            problems.append('%s: value %r is not a number' % (where, value))
            continue
        kind = types.get(family)
        if kind == 'counter' and (not name.endswith('_total') or number_value < 0):
            problems.append('%s: counter %s must end in _total and not be negative' % (where, name))
        if kind in ('gauge', 'histogram') and family.endswith('_total'):
            problems.append('%s: %s %s ends in _total' % (where, kind, family))
        if kind == 'histogram' and name.endswith('_bucket'):
            le = re.search(r'le="([^"]*)"', labels)
            if not le:
                problems.append('%s: bucket without le' % where)
            else:
                key = (family, re.sub(r',?le="[^"]*"', '', labels))
                buckets.setdefault(key, []).append((float(le.group(1)), number_value))
        if kind == 'histogram' and name.endswith('_count'):
            counts[(family, labels)] = number_value
    for (family, labels), rows in buckets.items():
        bounds = [b for b, _ in rows]
        values = [v for _, v in rows]
        if bounds != sorted(bounds) or not math.isinf(bounds[-1]) or values != sorted(values):
            problems.append('%s: buckets not in order or without +Inf' % family)
        elif counts.get((family, labels)) != values[-1]:
            problems.append('%s: +Inf bucket differs from _count' % family)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
