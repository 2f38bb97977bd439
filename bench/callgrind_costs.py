#!/usr/bin/env python3
"""Self cost per shared object and per function from a callgrind output file, per referral.

callgrind_annotate attributes a whole multi-threaded run's self cost to the thread entry points
when counters were zeroed mid-run; this reads the file itself: every cost line counts for the
function it is in, except the line after `calls=`, which is a call's inclusive cost.

  bench/callgrind_costs.py FILE REFERRALS [TOP_FUNCTIONS]
"""
import collections
import re
import sys


def main():
    path, referrals = sys.argv[1], int(sys.argv[2])
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    names = {"ob": {}, "fn": {}}

    def name(kind, text):
        m = re.match(r"\((\d+)\)(?: (.*))?", text)
        if not m:
            return text
        if m.group(2):
            names[kind][m.group(1)] = m.group(2)
        return names[kind].get(m.group(1), m.group(1))

    by_object, by_function = collections.Counter(), collections.Counter()
    obj = fn = None
    skip_next = False
    with open(path) as f:
        for line in f:
            if line.startswith("ob="):
                obj = name("ob", line[3:].strip())
            elif line.startswith("fn="):
                fn = name("fn", line[3:].strip())
            elif line.startswith("cob="):
                name("ob", line[4:].strip())
            elif line.startswith("cfn="):
                name("fn", line[4:].strip())
            elif line.startswith("calls="):
                skip_next = True
            elif line[:1].isdigit() or line[:1] in "+-*":
                parts = line.split()
                if len(parts) < 2:
                    continue
                if skip_next:
                    skip_next = False
                    continue
                by_object[obj] += int(parts[1])
                by_function[(obj, fn)] += int(parts[1])
    total = sum(by_object.values())
    print(f"instructions per referral: {total // referrals:,}")
    for o, c in by_object.most_common(12):
        print(f"{c // referrals:>10,}  {100 * c / total:5.1f}%  {o.split('/')[-1]}")
    print()
    for (o, f_), c in by_function.most_common(top):
        print(f"{c // referrals:>10,}  {100 * c / total:5.1f}%  {f_[:100]}  [{o.split('/')[-1]}]")


if __name__ == "__main__":
    main()
