#!/usr/bin/env python3
"""bench/experiments/summarize_runs.py OUT_DIR [EPOCH ...]: the test accuracy per configuration
(setting, net, optimizer, learning rate, start) over seeds, from the JSON-lines logs that
fashion_authors.sh writes, after the given epochs (default: 1, 3 and the last). A run that stopped
early (divergence: exit 6) counts with the last epoch it logged and is marked in the 'stopped'
column; its accuracy is what it had then."""
import collections
import json
import pathlib
import statistics
import sys

out = pathlib.Path(sys.argv[1])
epochs_asked = [int(e) for e in sys.argv[2:]]
runs = collections.defaultdict(list)
for path in sorted(out.glob("*.jsonl")):
    setting, net, opt, lr, start, seed = path.stem.split("__")
    lines = [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
    runs[(setting, net, opt, start, lr)].append(lines)

def acc_at(lines, epoch):
    logged = [l for l in lines if l.get("epoch") is not None and l["epoch"] <= epoch and l.get("test_accuracy") is not None]
    return logged[-1]["test_accuracy"] if logged else 0.1

for setting in sorted({k[0] for k in runs}):
    keys = sorted(k for k in runs if k[0] == setting)
    last = max(max((l.get("epoch") or 0) for l in lines) if lines else 0 for k in keys for lines in runs[k])
    epochs = epochs_asked or sorted({1, min(3, last), last})
    print(f"\n### {setting}\n")
    print("| net | optimizer | start | lr | seeds | " + " | ".join(f"epoch {e}: mean (min-max)" for e in epochs) + " | stopped |")
    print("|---|---|---|---|---:|" + "---:|" * len(epochs) + "---:|")
    for k in keys:
        cells = []
        for e in epochs:
            accs = [acc_at(lines, e) for lines in runs[k]]
            cells.append(f"{statistics.mean(accs):.4f} ({min(accs):.4f}-{max(accs):.4f})")
        stopped = sum(1 for lines in runs[k] if not lines or (lines[-1].get("epoch") or 0) < last)
        _, net, opt, start, lr = k
        print(f"| {net} | {opt} | {start} | {lr} | {len(runs[k])} | " + " | ".join(cells) + f" | {stopped} |")
