#!/usr/bin/python3
"""Do the PyTorch twins of tinyrec's multi-task models — Shared-Bottom, OMoE, MMoE
(bench/mmoe_torch.py), PLE (bench/ple_torch.py) and ESMM (bench/esmm_torch.py) — compute and learn
what tinyrec's do?

1. Predictions. `tinyrec train` for a few epochs on the synthetic data (the MMoE paper's generator;
   ESMM's click-and-conversion generator for ESMM, whose categorical columns exercise the embedding
   tables); bench_twin_steps writes the first 512 test rows as the model reads them, with tinyrec's
   outputs; the twin loads the checkpoint (bench/torch_loader.py) and predicts the same rows in
   float32 and float64 (given --income DIR, also MMoE and PLE on the kernlab income survey, two
   binary tasks over 12 embedded categorical columns, here and in 2.). Gate: predictions (regression values; ESMM's pCTR and pCTCVR) within
   --tolerance (1e-5) in float32.
2. Ten training steps (batch 32, Adam, lr 0.01) from the same initial weights on the same batches,
   in float64 and float32 (bench/twin_replay.py, check_training, says what is gated). ESMM's twin
   computes its loss as the paper writes it, on the product pCTR * pCVR of probabilities.

Usage: /usr/bin/python3 bench/multitask_parity.py [--tinyrec build/tinyrec]
       [--program build/bench_twin_steps] [--models mmoe,esmm] [--income DIR] [--keep DIR]
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import esmm_torch  # noqa: E402
import mmoe_torch  # noqa: E402
import ple_torch  # noqa: E402
from twin_replay import ROOT, check_scores, check_training, run  # noqa: E402

TWINS = {"shared_bottom": mmoe_torch, "omoe": mmoe_torch, "mmoe": mmoe_torch, "ple": ple_torch,
         "esmm": esmm_torch}
DATA = {"esmm": ["--train-rows", 20000, "--test-rows", 2000, "--epochs", 2]}


def predictions(twin, b, ours):
    if isinstance(twin, esmm_torch.ESMM):
        p_ctr, p_cvr = twin(b["x"], b["cat"])
        theirs = torch.stack([p_ctr, p_ctr * p_cvr], 1)
        return theirs.double().numpy(), 1 / (1 + np.exp(-ours))
    theirs = torch.stack(twin(b["x"], b["cat"]), 1).double().numpy()
    binary = np.array(twin.tasks[1])  # logits of binary tasks become probabilities
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    return np.where(binary, sigmoid(theirs), theirs), np.where(binary, sigmoid(ours), ours)


def losses(twin, b):
    if isinstance(twin, esmm_torch.ESMM):
        return dict(zip(["ctr", "ctcvr"], twin.loss(b["x"], b["cat"], b["y"])))
    names, binary = twin.tasks
    return dict(zip(names, mmoe_torch.task_losses(twin(b["x"], b["cat"]), b["y"], binary)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tinyrec", default=os.path.join(ROOT, "build", "tinyrec"))
    p.add_argument("--program", default=os.path.join(ROOT, "build", "bench_twin_steps"))
    p.add_argument("--models", default=",".join(TWINS))
    p.add_argument("--tolerance", type=float, default=1e-5)
    p.add_argument("--income", help="the folder data/get_income.sh wrote income.csv into")
    p.add_argument("--keep", help="keep the runs in this folder")
    a = p.parse_args()
    torch.set_num_threads(1)
    work = a.keep or tempfile.mkdtemp(prefix="multitask_parity_")
    os.makedirs(work, exist_ok=True)
    ok = True
    names = a.models.split(",")
    runs = [(name, name, DATA.get(name, ["--epochs", 5])) for name in names]
    if a.income:
        income = ["--dataset", "income", "--data-dir", os.path.abspath(a.income), "--epochs", 2]
        runs += [(f"{name} on income", name, income) for name in ("mmoe", "ple") if name in names]
    for label, name, flags in runs:
        out = os.path.join(work, label.replace(" ", "_"))
        run(a.tinyrec, "train", "--model", name, *flags, "--quiet", "--out", out)
        r = check_scores(a.program, os.path.join(out, "checkpoint"), os.path.join(out, "scores"),
                         predictions, TWINS[name].from_checkpoint, a.tolerance)
        print(json.dumps({"model": label, "check": "predictions", **r}), flush=True)
        ok = ok and r["ok"]
    steps = [(name, name, None) for name in names]
    if a.income:
        data = {"dataset": "income", "data_dir": os.path.abspath(a.income)}
        steps += [(f"{name} on income", name, data) for name in ("mmoe", "ple") if name in names]
    for label, name, data in steps:
        for dtype in ("double", "float"):
            r = check_training(a.program, work, name, dtype, TWINS[name].from_checkpoint, losses,
                               data=data, label=label.replace(" ", "_"))
            print(json.dumps({"model": label, "check": "ten_steps", **r}), flush=True)
            ok = ok and r["ok"]
    if not a.keep:
        shutil.rmtree(work)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
