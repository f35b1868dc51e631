#!/usr/bin/env python3
"""bench/experiments/summarize_param_lr.py OUT_DIR: final test accuracy per parameterization and
learning rate (and start: standard, or --init-rescale S), mean and spread over seeds, and how many
runs diverged (a training loss that is not
a finite number in some epoch; the logs write NaN as null), from the logs of fashion_param_lr.sh
and fashion_param_init.sh."""
import collections
import json
import math
import pathlib
import re
import statistics
import sys

runs = collections.defaultdict(list)
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.jsonl")):
    lines = [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
    m = re.match(r"^(?P<param>weights|weightnorm|gmp)-lr(?P<lr>.+?)(-rescale(?P<r>[0-9.]+))?-seed(?P<seed>\d+)$", path.stem)
    if not m or not lines:
        continue
    diverged = any(not isinstance(l.get("train_loss"), (int, float)) or not math.isfinite(l["train_loss"]) for l in lines)
    start = f"rescale {m['r']}" if m["r"] else "standard"
    runs[(start, m["param"], float(m["lr"]), m["lr"])].append((lines[-1]["test_accuracy"], diverged))

order = {"weights": 0, "weightnorm": 1, "gmp": 2}
print("| start | param | lr | seeds | final test accuracy, mean | std | min | max | diverged |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for (start, param, _, lr), rs in sorted(runs.items(), key=lambda kv: (kv[0][0] != "standard", kv[0][0], order[kv[0][1]], kv[0][2])):
    accs = [a for a, _ in rs]
    sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
    print(f"| {start} | {param} | {lr} | {len(accs)} | {statistics.mean(accs):.4f} | {sd:.4f} | {min(accs):.4f} | "
          f"{max(accs):.4f} | {sum(d for _, d in rs)} |")
