#!/usr/bin/python3
"""Every value of charts/frontdoor is documented: a comment above it in values.yaml (or it is a
Kubernetes field inside a section passed through whole), and a row in the chart README's values
table (its own or its section's); and the table documents no value that does not exist.

  check_values_docs.py CHART_DIR
"""
import re
import sys

import yaml

chart = sys.argv[1]
values = yaml.safe_load(open(f"{chart}/values.yaml", encoding="utf-8"))
readme = open(f"{chart}/README.md", encoding="utf-8").read()
documented = set(re.findall(r"^\| `([^`]+)` \|", readme, re.M))
# Sections whose insides are Kubernetes fields passed through as they are.
PASSTHROUGH = ("resources", "podSecurityContext", "securityContext", "networkPolicy.egress.dns.podLabels")
problems = []


def leaves(node, path):
    if isinstance(node, dict) and node:
        for k, v in node.items():
            yield from leaves(v, path + [k])
    else:
        yield path


for path in leaves(values, []):
    prefixes = {".".join(path[:i]) for i in range(1, len(path) + 1)}
    if not prefixes & documented:
        problems.append(f"{'.'.join(path)} has no row in the chart's README.md")
for key in sorted(documented):
    node = values
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            problems.append(f"README.md documents {key}, which values.yaml does not have")
            break
        node = node[part]

lines = open(f"{chart}/values.yaml", encoding="utf-8").read().split("\n")
stack = []
for i, line in enumerate(lines):
    m = re.match(r"^( *)([A-Za-z0-9_]+):", line)
    if not m:
        continue
    depth = len(m.group(1)) // 2
    stack = stack[:depth] + [m.group(2)]
    key = ".".join(stack)
    if any(key.startswith(p + ".") for p in PASSTHROUGH):
        continue
    if not (i > 0 and lines[i - 1].lstrip().startswith("#")):
        problems.append(f"values.yaml line {i + 1}: {key} has no comment above it")

for p in problems:
    print(f"FAIL: {p}")
if problems:
    sys.exit(1)
print(f"every value is commented in values.yaml and in the README's table ({len(documented)} rows)")
