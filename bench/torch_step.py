#!/usr/bin/python3
"""bench/torch_step.py: the PyTorch peer of bench/train_step.cpp: one SGD step (forward, backward,
update) of a bias-free ReLU MLP, float32, one thread, on a random batch. Prints one JSON line.
Usage: /usr/bin/python3 bench/torch_step.py [WIDTHS] [BATCH] [STEPS]   (Debian's python3-torch)"""
import json
import statistics
import sys
import time

import torch

widths = [int(w) for w in (sys.argv[1] if len(sys.argv) > 1 else "784-256-256-10").split("-")]
batch = int(sys.argv[2]) if len(sys.argv) > 2 else 128
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 200
torch.set_num_threads(1)
torch.manual_seed(1)
layers = []
for i in range(1, len(widths)):
    layers.append(torch.nn.Linear(widths[i - 1], widths[i], bias=False))
    if i + 1 < len(widths):
        layers.append(torch.nn.ReLU())
net = torch.nn.Sequential(*layers)
opt = torch.optim.SGD(net.parameters(), lr=0.01)
loss_fn = torch.nn.CrossEntropyLoss()
x = torch.rand(batch, widths[0])
y = torch.randint(0, widths[-1], (batch,))
times = []
for _ in range(steps):
    t0 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(net(x), y)
    loss.backward()
    opt.step()
    times.append(time.perf_counter() - t0)
# Which BLAS the generic torch build resolved (Debian: libblas.so.3 alternatives; OpenBLAS when
# libopenblas0-pthread is installed).
with open("/proc/self/maps") as maps:
    blas = sorted({line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line})
print(json.dumps({"peer": "pytorch", "version": torch.__version__, "threads": torch.get_num_threads(),
                  "blas": blas,
                  "widths": widths, "batch": batch, "sgd_ms": round(1e3 * statistics.median(times), 3)}))
