#!/usr/bin/python3
# Does the PyTorch twin (bench/dien_torch.py) compute what tinyrec's DIEN computes?
#
# 1. Scores. Trains tinyrec's DIEN briefly on the drifting data (`tinyrec train --model dien
#    --dataset drifting --users 200 --epochs 1`), builds a batch here (drifting-like histories of
#    lengths 0 to 60, so padding, a fully padded row, truncation to max_len and the unknown id 1
#    all occur), scores it with `tinyrec predict` (the Amazon format; generated data takes dense
#    integer ids as tokens) and with the twin loaded from the same checkpoint (float32 and float64),
#    and reports the largest difference of click probabilities. tinyrec's own test split is made by
#    its C++ generator, so the batch is built here instead; the check is the same function on the
#    same inputs. `tinyrec predict` prints 6 significant digits, so agreement shows down to ~5e-7.
# 2. Training (optional, --no-train-steps to skip). Ten Adam steps from the same initial weights
#    on the same batches with the same negatives: the data are written as Amazon files, tinyrec
#    trains on them (once with lr 1e-30, which leaves its initial weights as they were, and once
#    with lr 1e-3), and the twin replays the steps, reproducing tinyrec's batch order and negative
#    draws (std::mt19937_64, data/batching.cpp, data/negatives.cpp). Reports the largest weight
#    difference after the ten steps and the largest difference of probabilities on the batch.
#
# Usage: /usr/bin/python3 bench/dien_parity.py [--tinyrec build/tinyrec] [--epochs 1] [--keep DIR]
# Exits 1 when the probabilities differ by more than --tolerance (default 1e-5).
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dien_torch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ITEMS, CATS = 1000, 50  # the drifting data's defaults: item i has id i + 2, category i mod 50


def run(*args):
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout


# ---- samples, the Amazon format, batches ----

def drifting_samples(n, lengths, rng, unknown_rate=0.02):
    """(label, item, cat, hist_items, hist_cats) in dense ids: histories walk along the ring of
    categories as in data/dien_synthetic.cpp, candidates near the walk's end or anywhere."""
    out = []
    for k in range(n):
        length = lengths[k % len(lengths)]
        x, v = rng.uniform(0, CATS), rng.normal(0, 0.5)
        items, cats = [], []
        for _ in range(length):
            c = int(np.floor(x + rng.normal() + 0.5)) % CATS
            i = c + CATS * int(rng.integers(ITEMS // CATS))
            items.append(i + 2 if rng.uniform() > unknown_rate else 1)
            cats.append(c + 2)
            v = 0.9 * v + 0.436 * 0.5 * rng.normal()
            x = (x + v) % CATS
        c = int(np.floor(x + rng.normal() + 0.5)) % CATS if rng.uniform() < 0.5 \
            else int(rng.integers(CATS))
        item = c + CATS * int(rng.integers(ITEMS // CATS)) + 2
        out.append((int(rng.integers(2)), item, c + 2, items, cats))
    return out


def dense_token(kind, value):
    return str(value)


def write_amazon(samples, path, token=dense_token):
    """label, user, item, category, history items, history categories; tab-separated, histories
    joined by \\x02. `token(kind, id)` writes an id ("i" items, "c" categories)."""
    with open(path, "w") as f:
        for label, item, cat, hist_items, hist_cats in samples:
            f.write("\t".join([str(label), "7", token("i", item), token("c", cat),
                               "\x02".join(token("i", i) for i in hist_items),
                               "\x02".join(token("c", c) for c in hist_cats)]) + "\n")


def make_batch(samples, max_len):
    """tinyrec's fill_ctr_batch without trimming: the most recent max_len behaviours, padded with
    0 on the right to max_len."""
    b = len(samples)
    batch = {"item": np.zeros(b, np.int64), "cat": np.zeros(b, np.int64),
             "label": np.zeros(b, np.float32), "hist_items": np.zeros((b, max_len), np.int64),
             "hist_cats": np.zeros((b, max_len), np.int64), "mask": np.zeros((b, max_len), np.float32)}
    for r, (label, item, cat, hist_items, hist_cats) in enumerate(samples):
        hist_items, hist_cats = hist_items[-max_len:], hist_cats[-max_len:]
        n = len(hist_items)
        batch["item"][r], batch["cat"][r], batch["label"][r] = item, cat, label
        batch["hist_items"][r, :n], batch["hist_cats"][r, :n], batch["mask"][r, :n] = \
            hist_items, hist_cats, 1
    return batch


def as_torch(batch, dtype=torch.float32):
    return {k: torch.from_numpy(v).to(dtype) if v.dtype == np.float32 else torch.from_numpy(v)
            for k, v in batch.items()}


# ---- 1. scores ----

def check_scores(tinyrec, work, rng, tolerance, epochs=1):
    out = os.path.join(work, "drifting")
    run(tinyrec, "train", "--model", "dien", "--dataset", "drifting", "--users", 200, "--epochs",
        epochs, "--quiet", "--out", out)
    checkpoint = os.path.join(out, "checkpoint")
    max_len = json.load(open(os.path.join(checkpoint, "config.json")))["task_options"]["max_len"]
    lengths = [0, 1, 2, 3, 4, 5, 7, 10, 13, 17, 20, 25, 30, 35, 40, 45, 49, 50, 51, 55, 60]
    samples = drifting_samples(210, lengths, rng)
    amazon = os.path.join(work, "batch.txt")
    write_amazon(samples, amazon)
    ours = np.array([float(line) for line in run(tinyrec, "predict", "--checkpoint", checkpoint,
                                                 "--input", amazon).split()])
    npz = os.path.join(work, "batch.npz")
    np.savez(npz, **make_batch(samples, max_len))
    result = {"epochs": epochs, "samples": len(samples), "max_len": max_len,
              "tinyrec_probability_range": [float(ours.min()), float(ours.max())]}
    for name, extra in (("float32", []), ("float64", ["--double"])):
        twin = json.loads(run(sys.executable, os.path.join(ROOT, "bench", "dien_torch.py"),
                              "--checkpoint", checkpoint, "--batch", npz, *extra))
        result[f"max_abs_diff_{name}"] = float(np.abs(np.array(twin["probabilities"]) - ours).max())
    result["ok"] = result["max_abs_diff_float32"] <= tolerance
    return result


# ---- 2. ten training steps ----

class MT19937_64:
    """std::mt19937_64, so the twin draws tinyrec's batch order and negatives."""

    def __init__(self, seed):
        self.mt = [seed & (2**64 - 1)]
        for i in range(1, 312):
            prev = self.mt[-1]
            self.mt.append((6364136223846793005 * (prev ^ (prev >> 62)) + i) & (2**64 - 1))
        self.index = 312

    def __call__(self):
        if self.index >= 312:
            mt = self.mt
            for i in range(312):
                x = (mt[i] & 0xFFFFFFFF80000000) | (mt[(i + 1) % 312] & 0x7FFFFFFF)
                y = x >> 1
                if x & 1:
                    y ^= 0xB5026F5AA96619E9
                mt[i] = mt[(i + 156) % 312] ^ y
            self.index = 0
        x = self.mt[self.index]
        self.index += 1
        x ^= (x >> 29) & 0x5555555555555555
        x ^= (x << 17) & 0x71D67FFFEDA60000
        x ^= (x << 37) & 0xFFF7EEE000000000
        x ^= x >> 43
        return x & (2**64 - 1)


def check_mt19937_64():
    rng = MT19937_64(5489)  # the C++ standard: the 10000th output of a default-seeded engine
    for _ in range(9999):
        rng()
    assert rng() == 9981545732273789042, "MT19937_64 does not match std::mt19937_64"


def amazon_ids(samples):
    """The dense ids read_amazon gives a training file's tokens: per line the user, the item, the
    history items, the category, the history categories, each new token the next id from 2."""
    items, cats = {}, {}

    def add(vocab, token):
        return vocab.setdefault(token, len(vocab) + 2)

    out = []
    for label, item, cat, hist_items, hist_cats in samples:
        i = add(items, item)
        hi = [add(items, t) for t in hist_items]
        c = add(cats, cat)
        hc = [add(cats, t) for t in hist_cats]
        out.append((label, i, c, hi, hc))
    return out, len(items) + 2, len(cats) + 2


class Negatives:
    """data::NegativeSampler over dense training ids, and fill_negatives."""

    def __init__(self, samples):
        cat_of = {}
        for _, item, cat, hist_items, hist_cats in samples:
            for i, c in zip(hist_items, hist_cats):
                cat_of.setdefault(i, c)
            cat_of.setdefault(item, cat)
        self.items = sorted(i for i in cat_of if i >= 2)
        self.cats = [cat_of[i] for i in self.items]
        self.index = {i: k for k, i in enumerate(self.items)}

    def fill(self, batch, rng):
        b, length = batch["hist_items"].shape
        neg_items, neg_cats = np.zeros((b, length), np.int64), np.zeros((b, length), np.int64)
        n = len(self.items)
        for r in range(b):
            for t in range(length):
                if batch["mask"][r, t] == 0:
                    continue
                clicked = int(batch["hist_items"][r, t])
                if clicked not in self.index:
                    j = rng() % n
                else:
                    j = rng() % (n - 1)
                    if j >= self.index[clicked]:
                        j += 1
                neg_items[r, t], neg_cats[r, t] = self.items[j], self.cats[j]
        batch["neg_items"], batch["neg_cats"] = neg_items, neg_cats


def batch_order(n, seed):
    """data::BatchOrder's first epoch: Fisher-Yates with rng() % (i + 1)."""
    rng, order = MT19937_64(seed), list(range(n))
    for i in range(n, 1, -1):
        j = rng() % i
        order[i - 1], order[j] = order[j], order[i - 1]
    return order


def check_training(tinyrec, work, rng, steps=10, batch_size=32, lr=1e-3):
    check_mt19937_64()
    lengths = list(range(1, 51))
    raw = drifting_samples(steps * batch_size, lengths, rng, unknown_rate=0)
    data = os.path.join(work, "amazon")
    os.makedirs(data, exist_ok=True)
    token = lambda kind, value: f"{kind}{value}"  # noqa: E731  (tokens unlike their dense ids)
    write_amazon(raw, os.path.join(data, "local_train_splitByUser"), token)
    write_amazon(raw[:8], os.path.join(data, "local_test_splitByUser"), token)
    common = ["--model", "dien", "--dataset", "amazon", "--data-dir", data, "--epochs", 1,
              "--batch-size", batch_size, "--quiet"]
    run(tinyrec, "train", *common, "--lr", 1e-30, "--out", os.path.join(work, "init"))
    run(tinyrec, "train", *common, "--lr", lr, "--out", os.path.join(work, "after"))
    init, after = os.path.join(work, "init", "checkpoint"), os.path.join(work, "after", "checkpoint")
    max_len = json.load(open(os.path.join(init, "config.json")))["task_options"]["max_len"]

    samples, n_items, n_cats = amazon_ids(raw)
    model, _ = dien_torch.model_from_checkpoint(init)
    assert model.embedding.item.num_embeddings == n_items
    assert model.embedding.cat.num_embeddings == n_cats
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    negatives, negative_rng = Negatives(samples), MT19937_64(1)  # ClickTask: the data seed, 1
    order = batch_order(len(samples), 1)                          # the batch order: --seed 1
    losses = []
    for s in range(steps):
        rows = order[s * batch_size:(s + 1) * batch_size]
        batch = make_batch([samples[r] for r in rows], max_len)
        negatives.fill(batch, negative_rng)
        loss, _ = model.loss(as_torch(batch))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())

    reference = dien_torch.DIEN(n_items, n_cats)
    dien_torch.load_checkpoint(reference, after)
    theirs, ours = model.state_dict(), reference.state_dict()
    moved = max(float((theirs[k] - v).abs().max()) for k, v in
                dien_torch.model_from_checkpoint(init)[0].state_dict().items())
    weights = max(float((theirs[k] - ours[k]).abs().max()) for k in ours)
    probe = as_torch(make_batch(samples[:256], max_len))
    model.eval()
    reference.eval()
    with torch.no_grad():
        args = [probe[k] for k in ("item", "cat", "hist_items", "hist_cats", "mask")]
        p = torch.sigmoid(model(*args)) - torch.sigmoid(reference(*args))
    return {"steps": steps, "batch_size": batch_size, "lr": lr, "twin_losses": losses,
            "largest_weight_change": moved, "max_abs_weight_diff": weights,
            "max_abs_probability_diff": float(p.abs().max())}


def main():
    p = argparse.ArgumentParser(description="tinyrec's DIEN against its PyTorch twin")
    p.add_argument("--tinyrec", default=os.path.join(ROOT, "build", "tinyrec"))
    p.add_argument("--tolerance", type=float, default=1e-5)
    p.add_argument("--seed", type=int, default=0, help="seed of the batches built here")
    p.add_argument("--epochs", type=int, default=1, help="epochs of tinyrec's training run")
    p.add_argument("--no-train-steps", action="store_true", help="skip the ten training steps")
    p.add_argument("--keep", help="keep the working files in this folder")
    a = p.parse_args()
    torch.set_num_threads(1)
    work = a.keep or tempfile.mkdtemp(prefix="dien_parity_")
    if a.keep:
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
    try:
        rng = np.random.default_rng(a.seed)
        scores = check_scores(a.tinyrec, work, rng, a.tolerance, a.epochs)
        print(json.dumps({"check": "scores", **scores}), flush=True)
        if not a.no_train_steps:
            print(json.dumps({"check": "ten_training_steps",
                              **check_training(a.tinyrec, work, rng)}), flush=True)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if scores["ok"] else 1)


if __name__ == "__main__":
    main()
