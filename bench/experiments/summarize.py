#!/usr/bin/env python3
"""bench/experiments/summarize.py OUT_DIR: mean and spread of the final test accuracy per
configuration (optimizer, learning rate, biases, start), from the JSON-lines logs."""
import collections
import json
import pathlib
import re
import statistics
import sys

runs = collections.defaultdict(list)
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.jsonl")):
    lines = [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
    if not lines:
        continue
    m = re.match(r"^(?P<opt>g?sgd)-lr(?P<lr>.+?)(?P<bias>-bias)?-rescale(?P<r>[0-9.]+)-seed(?P<seed>\d+)$", path.stem)
    if not m:
        continue
    bias = "bias" if m["bias"] else "no bias"
    start = "rescaled" if float(m["r"]) > 0 else "standard"
    runs[(bias, start, m["opt"], m["lr"])].append(lines[-1]["test_accuracy"])
print("| biases | start | optimizer | lr | seeds | final test accuracy, mean | std | min | max |")
print("|---|---|---|---|---:|---:|---:|---:|---:|")
for (bias, start, opt, lr), accs in sorted(runs.items()):
    sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
    print(f"| {bias} | {start} | {opt} | {lr} | {len(accs)} | {statistics.mean(accs):.4f} | {sd:.4f} | {min(accs):.4f} | {max(accs):.4f} |")
