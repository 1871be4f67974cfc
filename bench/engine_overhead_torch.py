#!/usr/bin/python3
# PyTorch twin of bench/engine_overhead.cpp and bench/engine_matmul.cpp: the same cases, sizes and
# timing scheme, printed as the same JSON lines with "impl":"pytorch". Run single-threaded.
# Usage: /usr/bin/python3 bench/engine_overhead_torch.py [reps] [chain] [--only overhead|matmul]
import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import torch  # noqa: E402  (the thread variables must be set before torch loads its BLAS)

torch.set_num_threads(1)


def measure(iteration, reps, min_seconds):
    """Median and best seconds per iteration, and the median forward part, as the C++ bench."""
    for _ in range(3):
        iteration()
    totals, forwards = [], []
    for _ in range(reps):
        count, forward = 0, 0.0
        t0 = time.perf_counter()
        while True:
            forward += iteration()
            count += 1
            if time.perf_counter() - t0 >= min_seconds:
                break
        total = time.perf_counter() - t0
        totals.append(total / count)
        forwards.append(forward / count)
    return statistics.median(totals), statistics.median(forwards), min(totals)


def emit(bench, timing, ops, **extra):
    total, forward, best = timing
    line = {
        "bench": bench,
        "impl": "pytorch",
        "us_per_op": round(1e6 * total / ops, 4),
        "fwd_us_per_op": round(1e6 * forward / ops, 4),
        "bwd_us_per_op": round(1e6 * (total - forward) / ops, 4),
        "best_us_per_op": round(1e6 * best / ops, 4),
    }
    line.update(extra)
    print(json.dumps(line, separators=(",", ":")), flush=True)


def overhead(reps, chain):
    gen = torch.Generator().manual_seed(42)
    a = torch.randn(4, 4, generator=gen).requires_grad_()
    b = torch.randn(4, 4, generator=gen).requires_grad_()

    def chain_iteration():
        t0 = time.perf_counter()
        x = a
        for _ in range(chain):
            x = x + b
        loss = x.sum()
        forward = time.perf_counter() - t0
        loss.backward()
        a.grad = None
        b.grad = None
        return forward

    def lone_iteration():
        t0 = time.perf_counter()
        loss = (a + b).sum()
        forward = time.perf_counter() - t0
        loss.backward()
        a.grad = None
        b.grad = None
        return forward

    def nograd_iteration():
        t0 = time.perf_counter()
        with torch.no_grad():
            x = a
            for _ in range(chain):
                x = x + b
        return time.perf_counter() - t0

    emit("add4x4_chain", measure(chain_iteration, reps, 0.05), chain, n=chain)
    emit("add4x4_lone", measure(lone_iteration, reps, 0.05), 1)
    emit("add4x4_nograd", measure(nograd_iteration, reps, 0.05), chain, n=chain)


def matmul(reps, n=1024):
    gen = torch.Generator().manual_seed(7)
    a = torch.randn(n, n, generator=gen).requires_grad_()
    b = torch.randn(n, n, generator=gen).requires_grad_()
    g = torch.randn(n, n, generator=gen)

    def iteration():
        t0 = time.perf_counter()
        c = a @ b
        forward = time.perf_counter() - t0
        c.backward(g)
        a.grad = None
        b.grad = None
        return forward

    def raw_iteration():
        # The three products autograd runs, without autograd: C = AB, dA = G Bᵀ, dB = Aᵀ G.
        with torch.no_grad():
            torch.mm(a, b)
            torch.mm(g, b.t())
            torch.mm(a.t(), g)
        return 0.0

    total, forward, best = measure(iteration, reps, 0.0)
    raw = measure(raw_iteration, reps, 0.0)
    emit("matmul1024_fwd_bwd", (total, forward, best), 1, ms=round(1e3 * total, 3),
         raw_ms=round(1e3 * raw[0], 3), ratio_vs_raw=round(total / raw[0], 4))


def main():
    parser = argparse.ArgumentParser(description="PyTorch twin of the engine benchmarks")
    parser.add_argument("reps", nargs="?", type=int, default=9)
    parser.add_argument("chain", nargs="?", type=int, default=1000)
    parser.add_argument("--only", choices=["overhead", "matmul"])
    args = parser.parse_args()
    print(f"# torch {torch.__version__}, threads {torch.get_num_threads()}", file=sys.stderr)
    if args.only != "matmul":
        overhead(max(1, args.reps), max(1, args.chain))
    if args.only != "overhead":
        matmul(max(1, args.reps))


if __name__ == "__main__":
    main()
