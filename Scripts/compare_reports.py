#!/usr/bin/env python3
"""Compares two SNNKit report.json files, leaving out what differs between any two runs
(the date and the timings), e.g. a merged split run against one process:

    Scripts/compare_reports.py single/report.json merged/report.json

Prints how many values were compared; lists the first differences and exits 1 if any."""
import json
import sys

VOLATILE = ("created", "seconds", "images_per_second")


def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in VOLATILE}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x


def differences(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                yield f"{path}/{k}: only in {'the second' if k in b else 'the first'}"
            else:
                yield from differences(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            yield from differences(x, y, f"{path}[{i}]")
    elif a != b:
        yield f"{path}: {a!r} against {b!r}"


def leaves(x):
    if isinstance(x, dict):
        return sum(leaves(v) for v in x.values())
    if isinstance(x, list):
        return sum(leaves(v) for v in x)
    return 1


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a, b = (strip(json.load(open(p))) for p in sys.argv[1:3])
    found = list(differences(a, b))
    if found:
        print(f"{sys.argv[2]} differs from {sys.argv[1]} in {len(found)} values:")
        for d in found[:20]:
            print("  " + d)
        sys.exit(1)
    print(f"{sys.argv[2]} equals {sys.argv[1]}: {leaves(a)} values, date and timings aside")


if __name__ == "__main__":
    main()
