#!/usr/bin/python3
"""bench/torch_gsgd_step.py: scaleinv.torch.GSGD's step against torch.optim.SGD's step in the same
process (issue 14: at most 1.3x), on a 784-256-256-10 ReLU MLP with biases, batch 128, float32,
the same threads for both. Times, interleaved in rounds so that machine noise hits both alike:

- step: optimizer.step() alone, on gradients from one backward (the parameters move a little
  each call; lr is small so that the forward pass stays comparable);
- iteration: zero_grad, forward, cross-entropy, backward, step, as a training loop runs it.

Prints one JSON line per round (--json) or a table, and the medians of the per-round ratios.
Usage: PYTHONPATH=build/python /usr/bin/python3 bench/torch_gsgd_step.py [--rounds R] [--calls N]
       [--threads T] [--momentum M] [--widths 784-256-256-10] [--batch B] [--json]
"""
import argparse
import json
import statistics
import sys
import time

import torch

import scaleinv.torch as st


def make_model(widths, seed):
    torch.manual_seed(seed)
    layers = []
    for i in range(1, len(widths)):
        layers.append(torch.nn.Linear(widths[i - 1], widths[i]))
        if i + 1 < len(widths):
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    # Skeleton-friendly start for G-SGD (its step scale is set by the skeleton path values,
    # docs/training.md): weights away from zero; the same start for both optimizers.
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.sign(p) * (p.abs() + 0.05))
    return model


def median_ms(fn, calls):
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=11, help="interleaved rounds (default 11)")
    ap.add_argument("--calls", type=int, default=50, help="timed calls per measurement (default 50)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads for both (default 1)")
    ap.add_argument("--momentum", type=float, action="append", help="momentum values (default 0 and 0.9)")
    ap.add_argument("--widths", default="784-256-256-10")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--json", action="store_true", help="one JSON line per round and one for the medians")
    a = ap.parse_args(argv)
    if a.rounds < 1 or a.calls < 1 or a.threads < 1 or a.batch < 1:
        ap.error("--rounds, --calls, --threads and --batch must be positive")
    torch.set_num_threads(a.threads)
    widths = [int(w) for w in a.widths.split("-")]
    momenta = a.momentum or [0.0, 0.9]
    gen = torch.Generator().manual_seed(7)
    x = torch.rand(a.batch, widths[0], generator=gen)
    y = torch.randint(0, widths[-1], (a.batch,), generator=gen)
    lr = 1e-6
    setups = {}
    for m in momenta:
        for name in ("sgd", "gsgd"):
            model = make_model(widths, 1)
            opt = (torch.optim.SGD(model.parameters(), lr=lr, momentum=m) if name == "sgd"
                   else st.GSGD(model, lr=lr, momentum=m))

            def iteration(model=model, opt=opt):
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(x), y).backward()
                opt.step()

            iteration()  # warm-up: buffers allocated, gradients present
            setups[(m, name)] = (opt, iteration)
    ratios = {}
    for r in range(a.rounds):
        row = {"round": r + 1}
        for m in momenta:
            for name in ("sgd", "gsgd"):
                opt, iteration = setups[(m, name)]
                row[f"{name}_m{m}_step_ms"] = median_ms(opt.step, a.calls)
                row[f"{name}_m{m}_iteration_ms"] = median_ms(iteration, a.calls)
            for what in ("step", "iteration"):
                key = f"m{m}_{what}_ratio"
                row[key] = row[f"gsgd_m{m}_{what}_ms"] / row[f"sgd_m{m}_{what}_ms"]
                ratios.setdefault(key, []).append(row[key])
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})
              if a.json else " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    summary = {"widths": widths, "batch": a.batch, "threads": torch.get_num_threads(), "rounds": a.rounds,
               "calls": a.calls, "torch": torch.__version__,
               "median_ratios": {k: round(statistics.median(v), 3) for k, v in ratios.items()}}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
