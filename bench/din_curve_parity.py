#!/usr/bin/python3
# Does tinyrec's DIN learn what a PyTorch twin learns from the same start?
#
# A DIN-format data set is built here (seeded; histories of 10 to 50 behaviours): candidates are clicked when they match a behaviour
# of the user at the level of the item — half of the candidates are taken from the user's own
# history and are clicked with probability 0.8, the other half are random items clicked with
# probability 0.2 — so the attention has to find the one behaviour that is the candidate. It is
# written in the Amazon format, which `tinyrec train --dataset amazon` reads.
#
# 1. tinyrec builds DIN under --init torch (PyTorch's defaults) and trains one epoch at lr 1e-30,
#    which leaves the initial weights as they were: its checkpoint is the common start.
# 2. tinyrec trains from that seed at lr 1e-3 (Adam, batch 128) for --epochs epochs, evaluating
#    the test split every --eval-every steps (curve.csv).
# 3. The twin — plain PyTorch, the concatenated [v_A, e_j, v_A − e_j, v_A ⊙ e_j] form of the
#    activation unit — loads the start checkpoint and replays the same batches: tinyrec's batch
#    order (std::mt19937_64 Fisher–Yates from the identity each epoch, data/batching.cpp) over the
#    rows in file order, with the dense ids the Amazon reader gives the tokens.
# Prints both learning curves side by side: the mean training loss over each interval, and the
# test AUC and logloss at its end. Float32 on both sides: the curves agree closely, not bit for
# bit (summation orders differ, and training amplifies the differences slowly).
#
# Usage: /usr/bin/python3 bench/din_curve_parity.py [--tinyrec build/tinyrec] [--epochs 3]
#        [--init torch] [--keep DIR]
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dien_parity import MT19937_64, amazon_ids, check_mt19937_64, make_batch, write_amazon  # noqa: E402,E501

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ITEMS, CATS = 2000, 50


def item_match_samples(n_users, per_user, rng):
    """(label, item, cat, hist_items, hist_cats) with dense ids from 2; item i has category
    i mod CATS."""
    out = []
    for _ in range(n_users):
        length = int(rng.integers(10, 51))  # within max_len: the reader's vocabulary sees all
        hist = [int(i) for i in rng.integers(0, ITEMS, length)]
        for _ in range(per_user):
            if rng.uniform() < 0.5:
                item, p = hist[int(rng.integers(length))], 0.8
            else:
                item = int(rng.integers(ITEMS))
                p = 0.8 if item in hist else 0.2
            out.append((int(rng.uniform() < p), item + 2, item % CATS + 2,
                        [i + 2 for i in hist], [i % CATS + 2 for i in hist]))
    return out


class PReLU(nn.Module):
    """One α per feature on the last axis, as tinyrec's (PyTorch's own takes axis 1)."""

    def __init__(self, n):
        super().__init__()
        self.alpha = nn.Parameter(torch.full((n,), 0.25))

    def forward(self, x):
        return torch.where(x > 0, x, self.alpha * x)


class Stack(nn.Module):
    """Linear → PReLU blocks and a last Linear, numbered as tinyrec's nn::MLP ("layers.i")."""

    def __init__(self, width, sizes):
        super().__init__()
        layers = []
        for k, h in enumerate(sizes):
            layers.append(nn.Linear(width, h))
            if k + 1 < len(sizes):
                layers.append(PReLU(h))
            width = h
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


class Twin(nn.Module):
    """tinyrec's DIN in plain PyTorch, parameters named as in its checkpoint."""

    def __init__(self, n_items, n_cats, dim=18, att=(80, 40), mlp=(200, 80)):
        super().__init__()
        self.embedding = nn.Module()
        self.embedding.item = nn.Embedding(n_items, dim, padding_idx=0)
        self.embedding.cat = nn.Embedding(n_cats, dim, padding_idx=0)
        d = 2 * dim
        self.attention = nn.Module()
        self.attention.mlp = Stack(4 * d, list(att) + [1])
        self.mlp = Stack(2 * d, list(mlp) + [1])

    def embed(self, items, cats):
        return torch.cat([self.embedding.item(items), self.embedding.cat(cats)], -1)

    def forward(self, b):
        v_a = self.embed(b["item"], b["cat"])                                # [B, D]
        e = self.embed(b["hist_items"], b["hist_cats"])                      # [B, L, D]
        q = v_a.unsqueeze(1).expand_as(e)
        w = self.attention.mlp(torch.cat([q, e, q - e, q * e], -1)).squeeze(-1) * b["mask"]
        v_u = torch.bmm(w.unsqueeze(1), e).squeeze(1)                        # Σ_j w_j e_j
        return self.mlp(torch.cat([v_a, v_u], -1)).squeeze(-1)


def load(model, directory):
    state = model.state_dict()
    files = {f[:-4] for f in os.listdir(directory) if f.endswith(".npy")}
    if files != set(state):
        raise ValueError(f"checkpoint and twin differ: {sorted(files ^ set(state))}")
    loaded = {}
    for name, tensor in state.items():
        value = torch.from_numpy(np.load(os.path.join(directory, name + ".npy")))
        if name.endswith(".weight") and not name.startswith("embedding."):
            value = value.t()  # tinyrec's Linear weight is [in, out]
        loaded[name] = value.to(tensor.dtype).contiguous()
    model.load_state_dict(loaded)


def epoch_orders(n, seed):
    """data::BatchOrder: each epoch a Fisher–Yates permutation of the identity, one generator."""
    rng = MT19937_64(seed)
    while True:
        order = list(range(n))
        for i in range(n, 1, -1):
            j = rng() % i
            order[i - 1], order[j] = order[j], order[i - 1]
        yield order


def auc(labels, scores):
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    s = np.asarray(scores)[order]
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos = labels == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return (ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def as_torch(batch):
    return {k: torch.from_numpy(v) for k, v in batch.items()}


def evaluate(model, test, max_len):
    model.eval()
    with torch.no_grad():
        b = as_torch(make_batch(test, max_len))
        logits = model(b)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, b["label"]).item()
    model.train()
    return auc(b["label"].numpy(), logits.numpy()), loss


def test_ids(train_raw, test_raw):
    """The Amazon reader's ids for the test file: the training vocabulary, 1 for a token it lacks."""
    items, cats = {}, {}
    for _, item, cat, hi, hc in train_raw:
        for t in [item] + hi:
            items.setdefault(t, len(items) + 2)
        for t in [cat] + hc:
            cats.setdefault(t, len(cats) + 2)
    return [(label, items.get(item, 1), cats.get(cat, 1), [items.get(t, 1) for t in hi],
             [cats.get(t, 1) for t in hc]) for label, item, cat, hi, hc in test_raw]


def main():
    p = argparse.ArgumentParser(description="DIN learning curves: tinyrec against a PyTorch twin")
    p.add_argument("--tinyrec", default=os.path.join(ROOT, "build", "tinyrec"))
    p.add_argument("--init", default="torch", help="tinyrec's --init for the common start")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--users", type=int, default=2000)
    p.add_argument("--eval-every", type=int, default=50)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--keep", help="keep the working files in this folder")
    a = p.parse_args()
    check_mt19937_64()
    work = a.keep or tempfile.mkdtemp(prefix="din_curve_parity_")
    os.makedirs(work, exist_ok=True)
    try:
        rng = np.random.default_rng(0)
        train_raw = item_match_samples(a.users, 10, rng)
        test_raw = item_match_samples(a.users // 4, 10, rng)
        data = os.path.join(work, "amazon")
        os.makedirs(data, exist_ok=True)
        token = lambda kind, value: f"{kind}{value}"  # noqa: E731
        write_amazon(train_raw, os.path.join(data, "local_train_splitByUser"), token)
        write_amazon(test_raw, os.path.join(data, "local_test_splitByUser"), token)
        common = ["--model", "din", "--init", a.init, "--dataset", "amazon", "--data-dir", data,
                  "--batch-size", "128", "--quiet"]

        def tinyrec(*args):
            subprocess.run([a.tinyrec, "train", *common, *map(str, args)], check=True,
                           capture_output=True)

        tinyrec("--epochs", 1, "--lr", 1e-30, "--out", os.path.join(work, "init"))
        tinyrec("--epochs", a.epochs, "--lr", a.lr, "--eval-every", a.eval_every,
                "--out", os.path.join(work, "run"))
        start = os.path.join(work, "init", "checkpoint")
        max_len = json.load(open(os.path.join(start, "config.json")))["task_options"]["max_len"]
        ours = {}
        with open(os.path.join(work, "run", "curve.csv")) as f:
            header = f.readline().strip().split(",")
            for line in f:
                row = dict(zip(header, map(float, line.split(","))))
                ours[int(row["step"])] = row

        samples, n_items, n_cats = amazon_ids(train_raw)
        test = test_ids(train_raw, test_raw)
        torch.manual_seed(0)
        model = Twin(n_items, n_cats)
        load(model, start)
        opt = torch.optim.Adam(model.parameters(), lr=a.lr)
        theirs, losses, step = {}, [], 0
        orders = epoch_orders(len(samples), 1)  # --seed 1
        steps_per_epoch = (len(samples) + 127) // 128
        for _ in range(a.epochs):
            order = next(orders)
            for s in range(steps_per_epoch):
                rows = order[s * 128:(s + 1) * 128]
                b = as_torch(make_batch([samples[r] for r in rows], max_len))
                loss = nn.functional.binary_cross_entropy_with_logits(model(b), b["label"])
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(loss.item())
                step += 1
                if step in ours:
                    test_auc, test_loss = evaluate(model, test, max_len)
                    theirs[step] = {"train": float(np.mean(losses)), "auc": test_auc,
                                    "logloss": test_loss}
                    losses = []
        print(f"DIN, --init {a.init}, {len(samples)} training rows, {len(test)} test rows, "
              f"Adam {a.lr}, batch 128, {a.epochs} epochs")
        print("| step | train loss tinyrec | train loss PyTorch | test AUC tinyrec | "
              "test AUC PyTorch | test logloss tinyrec | test logloss PyTorch |")
        print("|---|---|---|---|---|---|---|")
        worst = 0.0
        for k in sorted(ours):
            o, t = ours[k], theirs[k]
            worst = max(worst, abs(o["test_auc"] - t["auc"]))
            print(f"| {k} | {o['train_click']:.4f} | {t['train']:.4f} | {o['test_auc']:.4f} | "
                  f"{t['auc']:.4f} | {o['test_logloss']:.4f} | {t['logloss']:.4f} |")
        print(json.dumps({"init": a.init, "epochs": a.epochs, "largest_test_auc_difference": worst}))
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
