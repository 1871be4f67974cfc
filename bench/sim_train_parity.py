#!/usr/bin/python3
"""Does the PyTorch twin (bench/sim_torch.py) learn as tinyrec's SIM does from the same start?

`bench_sim_bench steps` (bench/sim_bench.cpp) builds a small SIM with hard search (K = 50, the
default sizes) on a small long synthetic data set (24 users, 4 impressions each, 200 to 400
behaviours before the first), saves its initial weights, then takes ten training steps of 16 rows
with the click task's loss and Adam (lr 0.01), and writes each batch's rows (whole histories,
times, candidates, short histories, labels) as .npy, the weights after the tenth step and the ten
losses. The twin loads the initial checkpoint, runs its own hard search on the dumped histories,
replays the same batches with BCE on the logits and torch.optim.Adam, and reports the largest
relative difference of the per-step losses and the largest weight difference after the ten steps.

Two runs. In float64 (SIM<double>, the steps written out as Task::train_step takes them) the
losses must agree within --tolerance (relative, default 1e-4) and the weights within
--weight-tolerance (default 1e-4). In float32 (ClickTask::train_step itself) the losses must agree
within --tolerance; the weights are reported beside float32's own floor — the twin in float32
against the twin in float64 — and not gated: Adam divides each gradient by its running scale, so
a weight whose gradient is near Adam's eps (1e-8) moves by lr times its rounding error, and a
pre-activation that float32 rounding puts on the other side of a PReLU kink changes that unit's
gradient outright. Either run fails when the weights hardly moved (it would then prove nothing).

Usage: /usr/bin/python3 bench/sim_train_parity.py [--program build/bench_sim_bench]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sim_torch import Rows, load_twin  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def replay(out, lr, steps, dtype):
    model, o = load_twin(os.path.join(out, "init"), dtype)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for step in range(steps):
        rows = Rows(os.path.join(out, f"step_{step:02d}"))
        b = rows.batch(np.arange(len(rows)), o["top_k"], o["time_buckets"], rows.label, dtype)
        loss = F.binary_cross_entropy_with_logits(model(b), b["label"])
        losses.append(float(loss))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model, losses


def largest_difference(a, b):
    return max(float((x.detach().double() - y.detach().double()).abs().max())
               for x, y in zip(a.parameters(), b.parameters()))


def check(program, work, dtype_name, tolerance, weight_tolerance):
    out = os.path.join(work, dtype_name)
    dtype = {"float": torch.float32, "double": torch.float64}[dtype_name]
    ours = json.loads(subprocess.run([program, "steps", out, "10", dtype_name], check=True,
                                     capture_output=True, text=True).stdout)
    steps = len(ours["losses"])
    twin, theirs = replay(out, ours["lr"], steps, dtype)
    rel = [abs(x - y) / abs(x) for x, y in zip(ours["losses"], theirs)]
    trained, _ = load_twin(os.path.join(out, "final"), dtype)
    start, _ = load_twin(os.path.join(out, "init"), dtype)
    moved, differ = largest_difference(trained, start), largest_difference(twin, trained)
    report = {
        "model": "sim", "dtype": ours["dtype"], "search": ours["search"], "top_k": ours["top_k"],
        "steps": steps, "batch_size": ours["batch_size"], "lr": ours["lr"],
        "tinyrec_losses": [round(v, 6) for v in ours["losses"]],
        "twin_losses": [round(v, 6) for v in theirs],
        "max_rel_loss_diff": max(rel), "largest_weight_change": moved, "max_weight_diff": differ}
    ok = max(rel) <= tolerance and moved > 100 * weight_tolerance
    if dtype == torch.float64:
        ok = ok and differ <= weight_tolerance
    else:
        # float32's own floor on these weights: the twin in float32 against the twin in float64.
        exact, _ = replay(out, ours["lr"], steps, torch.float64)
        report["twin_float32_vs_float64_weight_diff"] = largest_difference(twin, exact)
        report["tinyrec_vs_twin_float64_weight_diff"] = largest_difference(trained, exact)
    report["ok"] = ok
    print(json.dumps(report))
    return ok


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--program", default=os.path.join(ROOT, "build", "bench_sim_bench"))
    p.add_argument("--tolerance", type=float, default=1e-4)
    p.add_argument("--weight-tolerance", type=float, default=1e-4)
    p.add_argument("--keep", help="keep the runs in this folder")
    a = p.parse_args()
    torch.set_num_threads(1)
    work = a.keep or tempfile.mkdtemp(prefix="sim_train_parity_")
    os.makedirs(work, exist_ok=True)
    ok = True
    for dtype in ("double", "float"):
        ok = check(a.program, work, dtype, a.tolerance, a.weight_tolerance) and ok
    if not a.keep:
        shutil.rmtree(work)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
