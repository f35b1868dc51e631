#!/usr/bin/env python3
"""bench/experiments/summarize_balance.py OUT_DIR: test accuracy per epoch (mean over seeds, and the
spread of the final one) per configuration (balancing, weight decay, start), from the JSON-lines
logs of fashion_balance.sh."""
import collections
import json
import math
import pathlib
import re
import statistics
import sys

runs = collections.defaultdict(list)
for path in sorted(pathlib.Path(sys.argv[1]).glob("bal-*.jsonl")):
    lines = [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
    m = re.match(r"^bal-(?P<bal>[a-z0-9]+)-wd(?P<wd>[0-9.e-]+)-rescale(?P<r>[0-9.]+)-seed(?P<seed>\d+)$", path.stem)
    if not lines or not m:
        continue
    acc = [l["test_accuracy"] if l.get("test_accuracy") is not None else math.nan for l in lines]
    bal = m["bal"].replace("every", "every=")
    start = "rescaled" if float(m["r"]) > 0 else "standard"
    runs[(start, m["wd"], bal)].append(acc)
epochs = max((len(a) for accs in runs.values() for a in accs), default=0)
head = " | ".join(f"ep {e + 1}" for e in range(epochs))
print(f"| start | weight decay | balance | seeds | {head} | final std | final min | final max |")
print("|---|---|---|---:|" + "---:|" * epochs + "---:|---:|---:|")
order = {"none": 0, "before": 1}
for (start, wd, bal), accs in sorted(runs.items(), key=lambda kv: (kv[0][0] != "standard", kv[0][1], order.get(kv[0][2], 2), kv[0][2])):
    means = []
    for e in range(epochs):
        vals = [a[e] for a in accs if len(a) > e]
        means.append(f"{statistics.mean(vals):.4f}" if vals else "")
    final = [a[-1] for a in accs]
    sd = statistics.stdev(final) if len(final) > 1 else 0.0
    print(f"| {start} | {wd} | {bal} | {len(accs)} | " + " | ".join(means) + f" | {sd:.4f} | {min(final):.4f} | {max(final):.4f} |")
