"""MeLU: the PyTorch twin (bench/melu_torch.py) against tinyrec, from the same checkpoint.

tinyrec meta-trains MeLU on MovieLens for a few epochs; a file of new users is written from the
ratings (each user: some rated movies, the support set, and some movies left unrated); `tinyrec
predict` adapts to each user on their support set with the run's local update and scores the
unrated movies; the twin loads the checkpoint's .npy files by their dotted names, builds the same
movie features from movies.csv (genres as a bag, years in five-year buckets, data/rating_tasks.hpp),
takes the same local steps with torch.autograd.grad and scores the same movies. Prints the largest
difference, before adaptation (a user with no rating) and after.

Then one second-order meta-gradient: the twin's torch.autograd.grad(create_graph=True) through the
local step, against central differences of the same query loss in float64 — the twin's own check
that it computes what tinyrec's tests check tinyrec computes.

Usage: python3 bench/melu_parity.py --data-dir /tmp/movielens [--tinyrec build/tinyrec]
"""
import argparse
import csv
import json
import os
import random
import subprocess
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

from melu_torch import MeLU  # noqa: E402  (the same twin as the benchmark's, other features)


def title_year(title):
    t = title.rstrip(" ")
    if len(t) >= 6 and t[-1] == ")" and t[-6] == "(" and t[-5:-1].isdigit():
        return int(t[-5:-1])
    return 0


def movie_features(movies_csv):
    """movieId -> (genre ids [width], year id), as data/rating_tasks.cpp builds them."""
    movies = []
    with open(movies_csv, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            genres = [] if row["genres"] == "(no genres listed)" else row["genres"].split("|")
            movies.append((row["movieId"], genres, title_year(row["title"])))
    names = sorted({g for _, gs, _ in movies for g in gs}, key=lambda s: s.encode())
    genre_id = {g: i + 1 for i, g in enumerate(names)}
    width = max(1, max(len(gs) for _, gs, _ in movies))
    years = [y for _, _, y in movies if y > 0]
    min_year = min(years)
    max_bucket = max((y - min_year) // 5 for y in years)
    no_year = max_bucket + 2
    feats = {}
    for movie, gs, y in movies:
        ids = [genre_id[g] for g in gs] + [0] * (width - len(gs))
        feats[movie] = (ids, 1 + (y - min_year) // 5 if y > 0 else no_year)
    return feats, len(names) + 1, width, no_year + 1


def rows_tensors(movies, feats, dtype):
    n = len(movies)
    ids = torch.tensor([feats[m][0] for m in movies], dtype=torch.long)
    count = (ids != 0).sum(1, keepdim=True).clamp(min=1)
    weights = (ids != 0).to(dtype) / count.to(dtype)
    years = torch.tensor([feats[m][1] for m in movies], dtype=torch.long)
    user = [torch.ones(n, dtype=torch.long)]  # MovieLens: the one feature every user shares
    return user, [(ids, weights), (years, None)]


def load_twin(checkpoint, dtype):
    config = json.load(open(os.path.join(checkpoint, "config.json")))
    mo = config["model_options"]
    model = MeLU.__new__(MeLU)
    torch.nn.Module.__init__(model)
    weights = {f[:-4]: np.load(os.path.join(checkpoint, f)) for f in os.listdir(checkpoint)
               if f.endswith(".npy")}
    model.user_embeddings = torch.nn.ModuleList(
        torch.nn.Embedding.from_pretrained(torch.tensor(weights[f"user_embeddings.{i}.weight"]),
                                           freeze=False, padding_idx=0)
        for i in range(sum(1 for k in weights if k.startswith("user_embeddings."))))
    model.item_embeddings = torch.nn.ModuleList(
        torch.nn.Embedding.from_pretrained(torch.tensor(weights[f"item_embeddings.{i}.weight"]),
                                           freeze=False, padding_idx=0)
        for i in range(sum(1 for k in weights if k.startswith("item_embeddings."))))
    names = [f"fc{i + 1}" for i in range(len(mo["hidden"]))] + ["out"]
    layers = []
    for name in names:
        w = torch.tensor(weights[f"{name}.weight"]).t().contiguous()  # [in, out] -> [out, in]
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        lin.weight.data.copy_(w)
        lin.bias.data.copy_(torch.tensor(weights[f"{name}.bias"]))
        layers.append(lin)
    model.layers = torch.nn.ModuleList(layers)
    return model.to(dtype), config


def adapt_and_score(model, support, y_s, query, steps, beta):
    theta = [p.detach().clone().requires_grad_(True) for p in model.local_parameters()]
    with torch.no_grad():
        x_s = model.features(*support) if steps else None
        x_q = model.features(*query)
    for _ in range(steps):
        loss = F.mse_loss(model.decide(x_s, theta), y_s)
        g = torch.autograd.grad(loss, theta)
        theta = [(p - beta * gp).detach().requires_grad_(True) for p, gp in zip(theta, g)]
    with torch.no_grad():
        return model.decide(x_q, theta)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--tinyrec", default="build/tinyrec")
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    work = tempfile.mkdtemp(prefix="melu_parity_")
    run = os.path.join(work, "run")
    subprocess.run([args.tinyrec, "train", "--model", "melu", "--dataset", "movielens",
                    "--data-dir", args.data_dir, "--batch-size", "32", "--epochs", str(args.epochs),
                    "--lr", "0.005", "--quiet", "--out", run], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    feats, n_genres, width, n_years = movie_features(os.path.join(args.data_dir, "movies.csv"))

    # New users from the ratings file: 6 users, each 15 rated movies and 8 to score; one user with
    # no rated movie at all (the global model's scores).
    by_user = {}
    with open(os.path.join(args.data_dir, "ratings.csv"), newline="") as f:
        for row in csv.DictReader(f):
            by_user.setdefault(row["userId"], []).append((row["movieId"], float(row["rating"])))
    rng = random.Random(7)
    chosen = rng.sample(sorted(u for u, r in by_user.items() if len(r) >= 23), 6)
    users = []
    lines = ["user,item,rating"]
    for k, u in enumerate(chosen):
        r = rng.sample(by_user[u], 23)
        support = [] if k == 0 else r[:15]
        users.append((f"u{u}", support, [m for m, _ in r[15:]]))
        lines += [f"u{u},{m},{y}" for m, y in support] + [f"u{u},{m}," for m, _ in r[15:]]
    new_users = os.path.join(work, "new_users.csv")
    open(new_users, "w").write("\n".join(lines) + "\n")
    scores = os.path.join(work, "scores.tsv")
    subprocess.run([args.tinyrec, "predict", "--checkpoint", os.path.join(run, "checkpoint"),
                    "--input", new_users, "--output", scores], check=True,
                   stderr=subprocess.DEVNULL)
    theirs = [float(l.split("\t")[2]) for l in open(scores)]

    model, config = load_twin(os.path.join(run, "checkpoint"), torch.float32)
    steps = config["task_options"]["local_steps"]
    beta = config["task_options"]["local_lr"]
    ours, before_gap, after_gap, i = [], 0.0, 0.0, 0
    for key, support, query in users:
        q = rows_tensors(query, feats, torch.float32)
        if support:
            s = rows_tensors([m for m, _ in support], feats, torch.float32)
            y_s = torch.tensor([y for _, y in support])
            y = adapt_and_score(model, s, y_s, q, steps, beta)
        else:
            y = adapt_and_score(model, None, None, q, 0, beta)
        for v in y.tolist():
            gap = abs(v - theirs[i])
            if support:
                after_gap = max(after_gap, gap)
            else:
                before_gap = max(before_gap, gap)
            i += 1
    assert i == len(theirs), (i, len(theirs))
    print(f"scores of {len(theirs)} movies for 6 new users (tinyrec predict prints 6 digits):")
    print(f"  largest difference, global model (no rating):       {before_gap:.2e}")
    print(f"  largest difference, after {steps} local step(s), β {beta}: {after_gap:.2e}")

    # The twin's second-order meta-gradient against central differences, float64.
    model64, _ = load_twin(os.path.join(run, "checkpoint"), torch.float64)
    key, support, query = users[1]
    s = rows_tensors([m for m, _ in support], feats, torch.float64)
    y_s = torch.tensor([y for _, y in support], dtype=torch.float64)
    q = rows_tensors(query, feats, torch.float64)
    y_q = torch.linspace(1, 5, len(query), dtype=torch.float64)

    def meta_loss():
        theta = model64.local_parameters()
        g = torch.autograd.grad(F.mse_loss(model64.decide(model64.features(*s), theta), y_s),
                                theta, create_graph=True)
        adapted = [p - beta * gp for p, gp in zip(theta, g)]
        return F.mse_loss(model64.decide(model64.features(*q), adapted), y_q)

    params = list(model64.parameters())
    analytic = torch.autograd.grad(meta_loss(), params)
    worst = 0.0
    gen = torch.Generator().manual_seed(3)
    for p, a in zip(params, analytic):
        flat = p.data.view(-1)
        for j in torch.randint(0, flat.numel(), (8,), generator=gen).tolist():
            v = flat[j].item()
            flat[j] = v + 1e-6
            up = meta_loss().item()
            flat[j] = v - 1e-6
            down = meta_loss().item()
            flat[j] = v
            num = (up - down) / 2e-6
            worst = max(worst, abs(a.view(-1)[j].item() - num) / (1e-5 + 1e-3 * abs(num)))
    print(f"  twin's second-order meta-gradient vs central differences (8 elements per tensor): "
          f"worst |error| / tolerance {worst:.2e} ({'ok' if worst <= 1 else 'FAILED'})")


if __name__ == "__main__":
    main()
