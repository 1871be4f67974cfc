#!/usr/bin/python3
"""Does the PyTorch twin (bench/melu_torch.py) learn as tinyrec's MeLU does from the same start?

bench_melu_steps (bench/melu_steps.cpp) builds a small MeLU (embeddings 8, decision layers 40-16-12-1)
on the synthetic cold-start users, saves its initial weights, then takes ten meta-training steps
with the task's own train_step — 8 users per meta-batch, one local step (beta 0.05) per user, Adam
(lr 0.01) on the sum of the query losses through the local steps — and writes each meta-batch's
rows (ids, bag weights, ratings, rows per user) as .npy, the weights after the tenth step, and the
ten mean query losses. The twin loads the initial checkpoint (bench/melu_parity.py's loader),
replays the same meta-batches with torch.autograd.grad (create_graph=True for second order; the
gradient taken as a constant for --first-order) and torch.optim.Adam, and reports the largest
relative difference of the per-step query losses and the largest weight difference after the ten
steps, for second-order MAML and for first order. Exits 1 when a loss differs by more than
--tolerance (relative, default 1e-4), when the weights differ by more than --weight-tolerance
(default 1e-4), or when the weights hardly moved (the check would then prove nothing).

Usage: /usr/bin/python3 bench/melu_train_parity.py [--steps-program build/bench_melu_steps]
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
from melu_parity import load_twin  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_rows(step_dir, which):
    """One set (support or query) of a meta-batch, split per user: [(user, items, ratings)]."""
    def npy(name):
        return np.load(os.path.join(step_dir, f"{which}_{name}.npy"))

    sizes = npy("sizes").tolist()

    def split(a):
        return torch.split(torch.from_numpy(a), sizes)

    users = list(zip(*[split(npy(f"user{f}")) for f in range(
        sum(1 for n in os.listdir(step_dir) if n.startswith(f"{which}_user")))]))
    item_fields = sorted({n[:-4].split("_")[1] for n in os.listdir(step_dir)
                         if n.startswith(f"{which}_item")}, key=lambda s: int(s[4:]))
    items = []
    for name in item_fields:
        ids = split(npy(name))
        w_path = os.path.join(step_dir, f"{which}_{name}_weights.npy")
        weights = split(np.load(w_path).astype(np.float32)) if os.path.exists(w_path) else \
            [None] * len(sizes)
        items.append(list(zip(ids, weights)))
    items = list(zip(*items))
    ratings = split(npy("ratings").astype(np.float32))
    return [(list(u), list(i), y) for u, i, y in zip(users, items, ratings)]


def replay(out, first_order, beta, lr, steps):
    model, _ = load_twin(os.path.join(out, "init"), torch.float32)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for step in range(steps):
        d = os.path.join(out, f"step_{step:02d}")
        total = 0
        tasks = list(zip(load_rows(d, "support"), load_rows(d, "query")))
        for (su, si, sy), (qu, qi, qy) in tasks:
            theta = model.local_parameters()
            loss_s = F.mse_loss(model.decide(model.features(su, si), theta), sy)
            # First order: the local gradient as plain values, so theta' depends on theta alone
            # through the identity, as tinyrec's --first-order cuts it.
            g = torch.autograd.grad(loss_s, theta, create_graph=not first_order)
            adapted = [p - beta * gp for p, gp in zip(theta, g)]
            total = total + F.mse_loss(model.decide(model.features(qu, qi), adapted), qy)
        losses.append(float(total) / len(tasks))
        opt.zero_grad()
        total.backward()
        opt.step()
    return model, losses


def check(program, work, first_order, tolerance, weight_tolerance):
    out = os.path.join(work, "first_order" if first_order else "second_order")
    args = [program, out] + (["--first-order"] if first_order else [])
    ours = json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)
    steps = len(ours["query_losses"])
    twin, theirs = replay(out, first_order, ours["local_lr"], ours["lr"], steps)
    rel = [abs(a - b) / abs(a) for a, b in zip(ours["query_losses"], theirs)]
    trained, _ = load_twin(os.path.join(out, "final"), torch.float32)
    start, _ = load_twin(os.path.join(out, "init"), torch.float32)
    moved, differ = 0.0, 0.0
    for a, b, c in zip(twin.parameters(), trained.parameters(), start.parameters()):
        moved = max(moved, float((b - c).abs().max()))
        differ = max(differ, float((a.detach() - b).abs().max()))
    ok = max(rel) <= tolerance and differ <= weight_tolerance and moved > 100 * weight_tolerance
    print(json.dumps({
        "model": "melu", "order": "first" if first_order else "second", "steps": steps,
        "users_per_step": ours["users_per_step"],
        "tinyrec_query_losses": [round(v, 6) for v in ours["query_losses"]],
        "twin_query_losses": [round(v, 6) for v in theirs],
        "max_rel_loss_diff": max(rel), "largest_weight_change": moved,
        "max_weight_diff": differ, "ok": ok}))
    return ok


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps-program", default=os.path.join(ROOT, "build", "bench_melu_steps"))
    p.add_argument("--tolerance", type=float, default=1e-4)
    p.add_argument("--weight-tolerance", type=float, default=1e-4)
    p.add_argument("--keep", help="keep the runs in this folder")
    a = p.parse_args()
    torch.set_num_threads(1)
    work = a.keep or tempfile.mkdtemp(prefix="melu_train_parity_")
    os.makedirs(work, exist_ok=True)
    ok = True
    for first_order in (False, True):
        ok = check(a.steps_program, work, first_order, a.tolerance, a.weight_tolerance) and ok
    if not a.keep:
        shutil.rmtree(work)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
