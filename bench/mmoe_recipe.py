#!/usr/bin/python3
"""Where does tinyrec's MMoE experiment differ from a plain PyTorch run of the paper's recipe?

The recipe (MMoE paper §4, the constants of tutorials/06_multitask.md): d = 100, c = 1, m = 10 sines
with alpha_i, beta_i ~ N(0, 1), noise variance 0.01, 10,000 training and 2,000 test rows; 8 experts
of 16 ReLU units, towers of 8; Adam 1e-3, batch 128, 30 epochs; test MSE, mean of the two tasks.

    same     tinyrec (bench_mmoe_recipe) and the twin (bench/mmoe_torch.py) on the SAME rows (tinyrec's
             generator), from the SAME initial weights, in the same batch order: does the training
             differ? Then the twin from PyTorch's own initialisation on those rows.
    paper    the plain PyTorch run: rows from this file's generator (numpy, written from the paper),
             PyTorch's default initialisation, shuffled batches; Shared-Bottom of --bottom-units.
    stats    the two generators side by side over many seeds: label variance, label correlation,
             the sines' share of the label variance.

Usage: /usr/bin/python3 bench/mmoe_recipe.py same|paper|stats [--seeds 10] [--first-seed 1] [--p 0.5]
       [--models shared_bottom,mmoe] [--bottom-units 128] [--program build/bench_mmoe_recipe]
Prints one JSON line per run and a summary line per model.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmoe_torch  # noqa: E402
from twin_replay import ROOT, run  # noqa: E402

D, M, C, NOISE_VAR, TRAIN, TEST = 100, 10, 1.0, 0.01, 10000, 2000


def paper_data(p, seed):
    """The recipe in numpy: orthonormal u1, u2; w1 = c u1, w2 = c (p u1 + sqrt(1 - p^2) u2);
    x ~ N(0, I); y_k = w_k.x + sum_i sin(alpha_i w_k.x + beta_i) + eps_k."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((D, 2)))
    u1, u2 = q[:, 0], q[:, 1]
    w = np.stack([C * u1, C * (p * u1 + np.sqrt(1 - p * p) * u2)])
    alpha, beta = rng.standard_normal(M), rng.standard_normal(M)
    x = rng.standard_normal((TRAIN + TEST, D))
    z = x @ w.T                                                          # [N, 2]
    y = z + np.sin(alpha * z[..., None] + beta).sum(-1)
    y += np.sqrt(NOISE_VAR) * rng.standard_normal(y.shape)
    x, y = x.astype(np.float32), y.astype(np.float32)
    return x[:TRAIN], y[:TRAIN], x[TRAIN:], y[TRAIN:], alpha, beta


def make_twin(name, bottom_units):
    if name == "shared_bottom":
        return mmoe_torch.SharedBottom(D, bottom_units=bottom_units)
    return mmoe_torch.MixtureOfExperts(D, multi_gate=name == "mmoe")


def train(model, train_x, train_y, test_x, test_y, orders, lr=1e-3, batch=128):
    """Adam on the sum of the two MSEs, one epoch per row of `orders`; test MSE per task."""
    x, y = torch.from_numpy(train_x), torch.from_numpy(train_y)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for order in orders:
        order = torch.from_numpy(np.asarray(order, dtype=np.int64))
        for start in range(0, len(order), batch):
            rows = order[start:start + batch]
            out = model(x[rows])
            loss = F.mse_loss(out[0], y[rows, 0]) + F.mse_loss(out[1], y[rows, 1])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        out = model(torch.from_numpy(test_x))
    ty = torch.from_numpy(test_y)
    return [float(F.mse_loss(out[k], ty[:, k])) for k in range(2)]


def summary(name, label, values):
    v = np.array(values)
    print(json.dumps({"summary": label, "model": name, "runs": len(v), "mean_mse": v.mean(),
                      "median_mse": float(np.median(v)),
                      "sd": v.std(ddof=1) if len(v) > 1 else 0.0,
                      "standard_error": v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else 0.0}),
          flush=True)


def same(a, names):
    """tinyrec and the twin on tinyrec's rows from tinyrec's start; then the twin from PyTorch's
    own start on the same rows."""
    work = tempfile.mkdtemp(prefix="mmoe_recipe_")
    results = {n: {"tinyrec": [], "twin_same_start": [], "twin_torch_start": []} for n in names}
    for seed in range(a.first_seed, a.first_seed + a.seeds):
        out = os.path.join(work, str(seed))
        lines = run(a.program, out, a.p, seed, ",".join(names), a.bottom_units).splitlines()
        ours = {r["model"]: r for r in map(json.loads, lines)}
        tx, ty = np.load(f"{out}/train_x.npy"), np.load(f"{out}/train_y.npy")
        vx, vy = np.load(f"{out}/test_x.npy"), np.load(f"{out}/test_y.npy")
        orders = np.load(f"{out}/order.npy")
        for name in names:
            twin = mmoe_torch.from_checkpoint(os.path.join(out, name, "init"))
            same_start = train(twin, tx, ty, vx, vy, orders)
            torch.manual_seed(seed + 100)
            units = a.bottom_units or 128
            torch_start = train(make_twin(name, units), tx, ty, vx, vy, orders)
            r = {"model": name, "seed": seed, "p": a.p,
                 "label_correlation": ours[name]["label_correlation"],
                 "tinyrec": ours[name]["mean_mse"], "twin_same_start": np.mean(same_start),
                 "twin_torch_start": np.mean(torch_start)}
            print(json.dumps(r), flush=True)
            for k in results[name]:
                results[name][k].append(r[k])
        shutil.rmtree(out)
    for name in names:
        for k, v in results[name].items():
            summary(name, k, v)
    shutil.rmtree(work)


def paper(a, names):
    """The plain PyTorch run on this file's rows, PyTorch's default start, its own shuffles."""
    results = {n: [] for n in names}
    for seed in range(a.first_seed, a.first_seed + a.seeds):
        tx, ty, vx, vy, _, _ = paper_data(a.p, seed)
        g = np.random.default_rng(1000 + seed)
        orders = [g.permutation(TRAIN) for _ in range(30)]
        for name in names:
            torch.manual_seed(seed)
            mse = train(make_twin(name, a.bottom_units or 128), tx, ty, vx, vy, orders)
            print(json.dumps({"model": name, "seed": seed, "p": a.p, "bottom_units":
                              a.bottom_units or 128, "mean_mse": np.mean(mse),
                              "label_correlation": float(np.corrcoef(ty.T)[0, 1])}), flush=True)
            results[name].append(np.mean(mse))
    for name in names:
        summary(name, "paper_recipe_in_pytorch", results[name])


def stats(a):
    """Label variance, label correlation and the sines' share, per generator, over seeds."""
    rows = {"tinyrec": [], "numpy": []}
    work = tempfile.mkdtemp(prefix="mmoe_stats_")
    for seed in range(1, a.seeds + 1):
        run(a.program, work, a.p, seed, "", 0, 1)  # no model: the rows and the draws only
        ty = np.load(f"{work}/train_y.npy")
        rows["tinyrec"].append((ty.var(0).mean(), np.corrcoef(ty.T)[0, 1]))
        _, ny, _, _, _, _ = paper_data(a.p, seed)
        rows["numpy"].append((ny.var(0).mean(), np.corrcoef(ny.T)[0, 1]))
    shutil.rmtree(work)
    for k, v in rows.items():
        v = np.array(v)
        print(json.dumps({"generator": k, "seeds": len(v), "p": a.p,
                          "label_variance_mean": v[:, 0].mean(), "label_variance_sd": v[:, 0].std(),
                          "label_correlation_mean": v[:, 1].mean(),
                          "label_correlation_sd": v[:, 1].std()}), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["same", "paper", "stats"])
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--first-seed", type=int, default=1, help="seeds first..first+seeds-1")
    p.add_argument("--p", type=float, default=0.5)
    p.add_argument("--models", default="shared_bottom,mmoe")
    p.add_argument("--bottom-units", type=int, default=0, help="Shared-Bottom's width (0 = 128)")
    p.add_argument("--program", default=os.path.join(ROOT, "build", "bench_mmoe_recipe"))
    a = p.parse_args()
    torch.set_num_threads(1)
    names = a.models.split(",")
    if a.mode == "same":
        same(a, names)
    elif a.mode == "paper":
        paper(a, names)
    else:
        stats(a)


if __name__ == "__main__":
    main()
