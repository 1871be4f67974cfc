#!/usr/bin/python3
"""Do the PyTorch twins of tinyrec's Base model and DIN (bench/din_torch.py) compute and learn what
tinyrec's do?

1. Predictions. For Base (sum and mean pooling) and DIN (the paper's raw weights and the demo
   code's softmax): `tinyrec train` for one epoch on the synthetic click data (and, given
   --movielens DIR, Base and DIN on MovieLens by the DIN paper's protocol); bench_twin_steps
   writes the first 512 test rows as the model reads them, with tinyrec's logits in full float
   precision; the twin loads the checkpoint (bench/torch_loader.py) and scores the same rows, in
   float32 and float64. Gate: click probabilities within --tolerance (1e-5) in float32.
2. Ten training steps (batch 32, Adam, lr 0.01) from the same initial weights on the same batches,
   in float64 and float32 (bench/twin_replay.py, check_training, says what is gated).

Usage: /usr/bin/python3 bench/ctr_parity.py [--tinyrec build/tinyrec]
       [--program build/bench_twin_steps] [--movielens DIR] [--keep DIR]
Prints one JSON line per check; exits 1 when one fails.
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
import din_torch  # noqa: E402
from twin_replay import ROOT, check_scores, check_training, run  # noqa: E402

VARIANTS = [("base", []), ("base --pooling mean", ["--pooling", "mean"]), ("din", []),
            ("din --softmax", ["--softmax"])]
STEPS = [("base", {}), ("din", {}), ("din --softmax", {"attention_softmax": True})]


def forward(twin, b):
    return twin(b["item"], b["cat"], b["hist_items"], b["hist_cats"], b["mask"])


def predictions(twin, b, ours):
    return torch.sigmoid(forward(twin, b)).double().numpy(), 1 / (1 + np.exp(-ours[:, 0]))


def losses(twin, b):
    return {"click": F.binary_cross_entropy_with_logits(forward(twin, b), b["label"])}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tinyrec", default=os.path.join(ROOT, "build", "tinyrec"))
    p.add_argument("--program", default=os.path.join(ROOT, "build", "bench_twin_steps"))
    p.add_argument("--tolerance", type=float, default=1e-5)
    p.add_argument("--movielens", help="a folder with MovieLens ratings.csv and movies.csv")
    p.add_argument("--keep", help="keep the runs in this folder")
    a = p.parse_args()
    torch.set_num_threads(1)
    work = a.keep or tempfile.mkdtemp(prefix="ctr_parity_")
    os.makedirs(work, exist_ok=True)
    ok = True
    variants = VARIANTS
    if a.movielens:
        real = ["--dataset", "movielens", "--data-dir", os.path.abspath(a.movielens)]
        variants = variants + [("base on movielens", real), ("din on movielens", real)]
    for name, flags in variants:
        out = os.path.join(work, name.replace(" ", "_").replace("--", ""))
        model = name.split()[0]
        run(a.tinyrec, "train", "--model", model, *flags, "--epochs", 1, "--quiet", "--out", out)
        r = check_scores(a.program, os.path.join(out, "checkpoint"), os.path.join(out, "scores"),
                         predictions, din_torch.from_checkpoint, a.tolerance)
        print(json.dumps({"model": name, "check": "predictions", **r}), flush=True)
        ok = ok and r["ok"]
    for name, options in STEPS:
        for dtype in ("double", "float"):
            r = check_training(a.program, work, name.split()[0], dtype, din_torch.from_checkpoint,
                               losses, options)
            print(json.dumps({"model": name, "check": "ten_steps", **r}), flush=True)
            ok = ok and r["ok"]
    if not a.keep:
        shutil.rmtree(work)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
