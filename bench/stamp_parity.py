#!/usr/bin/python3
"""Does the PyTorch twin (bench/stamp_torch.py) compute what tinyrec's STAMP computes?

For STAMP (paper attention), STAMP with --add-ms (the authors' m_a + m_s) and STMP: trains the
model briefly with tinyrec on the synthetic sessions (`tinyrec train ... --top-k ALL`), writes
sessions of 1 to 30 clicks (longer than --max-len, so truncation occurs, and of length 1), scores
them with `tinyrec predict` (ITEM:SCORE for every item, 9 significant digits: the float exactly) and
with the twin loaded from the same checkpoint, in float32 and float64, and reports the largest
difference of scores. Exits 1 when one exceeds --tolerance (default 1e-5).

Then training: ten full-batch Adam steps (learning rate 0.01) from the same initial weights on
the same cases. The sessions are written here as a MovieLens ratings.csv (one session per user,
ratings a second apart, users a day apart), which `--dataset movielens --min-item-count 1` reads
back unchanged; tinyrec trains on them once with lr 1e-30 (which leaves its initial weights as they
were: the checkpoint the twin starts from) and once with lr 0.01; with one batch holding every
training case, the batch order plays no part. Reports the largest weight difference after the ten
steps. Exits 1 when it exceeds --train-tolerance (default 1e-4).

Usage: /usr/bin/python3 bench/stamp_parity.py [--tinyrec build/tinyrec] [--keep DIR]
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stamp_torch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ITEMS, EDIM, MAX_LEN = 200, 24, 15


def run(*args):
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout


def batch(sessions, max_len):
    """Right-aligned items [B, L] (0 = padding) and lengths, the most recent max_len clicks."""
    cut = [s[-max_len:] for s in sessions]
    length = max(len(s) for s in cut)
    items = torch.zeros(len(cut), length, dtype=torch.long)
    for r, s in enumerate(cut):
        items[r, length - len(s):] = torch.tensor(s)
    return items, torch.tensor([len(s) for s in cut])


def check(tinyrec, work, name, extra, sessions_file, sessions, tolerance):
    out = os.path.join(work, name)
    run(tinyrec, "train", "--model", extra[0], "--dataset", "synthetic", "--sessions", 1500,
        "--items", ITEMS, "--edim", EDIM, "--max-len", MAX_LEN, "--top-k", ITEMS, "--epochs", 1,
        "--lr", 0.005, "--quiet", "--out", out, *extra[1:])
    ckpt = os.path.join(out, "checkpoint")
    config = json.load(open(os.path.join(ckpt, "config.json")))
    lines = run(tinyrec, "predict", "--checkpoint", ckpt, "--input", sessions_file).splitlines()
    assert len(lines) == len(sessions), (len(lines), len(sessions))
    ours = np.zeros((len(sessions), ITEMS))
    for r, line in enumerate(lines):
        for pair in line.split():
            item, score = pair.split(":")
            ours[r, int(item) - 1] = float(score)
    items, lengths = batch(sessions, config["task_options"]["max_len"])
    worst = {}
    for dtype in (torch.float32, torch.float64):
        twin = stamp_torch.STAMP(ITEMS + 1, EDIM, attention=extra[0] == "stamp",
                                 add_ms=config["model_options"].get("add_ms", False)).to(dtype)
        stamp_torch.load_tinyrec(twin, ckpt)
        with torch.no_grad():
            theirs = twin(items, lengths).double().numpy()
        worst[str(dtype)] = float(np.abs(theirs - ours).max())
    scale = float(np.abs(ours).max())
    ok = all(v <= tolerance for v in worst.values())
    print(json.dumps({"model": name, "largest_score": scale, "max_abs_diff": worst, "ok": ok}))
    return ok


def check_training(tinyrec, work, model_name, tolerance):
    rng = np.random.default_rng(11)
    users = 60
    sessions = [list(map(int, rng.integers(100, 140, size=rng.integers(2, 9)))) for _ in
                range(users)]
    data = os.path.join(work, "train_" + model_name)
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(data, "ratings.csv"), "w") as f:
        f.write("userId,movieId,rating,timestamp\n")
        for u, s in enumerate(sessions):
            for i, item in enumerate(s):
                f.write(f"{u + 1},{item},4.0,{86400 * (u + 1) + i}\n")
    # The preprocessing, as data::preprocess_sessions does it here: sessions by their last click
    # (users in order), the last round(0.2 n) for test, ids by first appearance in training.
    train = [s for s in sessions if len(s) >= 2][: users - round(0.2 * users)]
    ids = {}
    for s in train:
        for item in s:
            ids.setdefault(item, len(ids) + 1)
    cases = [([ids[i] for i in s[:end]], ids[s[end]]) for s in train for end in range(1, len(s))]
    common = ["--model", model_name, "--dataset", "movielens", "--data-dir", data,
              "--min-item-count", 1, "--test-fraction", 0.2, "--edim", 16,
              "--batch-size", len(cases), "--quiet"]
    run(tinyrec, "train", *common, "--epochs", 1, "--lr", 1e-30, "--out", os.path.join(data, "init"))
    run(tinyrec, "train", *common, "--epochs", 10, "--lr", 0.01, "--out",
        os.path.join(data, "trained"))
    twin = stamp_torch.STAMP(len(ids) + 1, 16, attention=model_name == "stamp")
    stamp_torch.load_tinyrec(twin, os.path.join(data, "init", "checkpoint"))
    items, lengths = batch([c[0] for c in cases], 50)
    targets = torch.tensor([c[1] - 1 for c in cases])
    opt = torch.optim.Adam(twin.parameters(), lr=0.01)
    for _ in range(10):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(twin(items, lengths), targets).backward()
        opt.step()
    trained = stamp_torch.STAMP(len(ids) + 1, 16, attention=model_name == "stamp")
    stamp_torch.load_tinyrec(trained, os.path.join(data, "trained", "checkpoint"))
    start = stamp_torch.STAMP(len(ids) + 1, 16, attention=model_name == "stamp")
    stamp_torch.load_tinyrec(start, os.path.join(data, "init", "checkpoint"))
    moved, differ = 0.0, 0.0
    for (name, a), b, c in zip(twin.named_parameters(), trained.parameters(), start.parameters()):
        moved = max(moved, float((b - c).abs().max()))
        differ = max(differ, float((a - b).abs().max()))
    ok = differ <= tolerance and moved > 100 * tolerance
    print(json.dumps({"model": model_name, "train_cases": len(cases), "steps": 10,
                      "largest_weight_change": moved, "max_weight_diff": differ, "ok": ok}))
    return ok


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tinyrec", default=os.path.join(ROOT, "build", "tinyrec"))
    p.add_argument("--tolerance", type=float, default=1e-5)
    p.add_argument("--train-tolerance", type=float, default=1e-4)
    p.add_argument("--keep", help="keep the runs and sessions in this folder")
    a = p.parse_args()
    torch.set_num_threads(1)
    work = a.keep or tempfile.mkdtemp(prefix="stamp_parity_")
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(7)
    sessions = [list(map(int, rng.integers(1, ITEMS + 1, size=n))) for n in
                [1, 2, 3, 5, 8, 13, 15, 16, 21, 30] + list(rng.integers(1, 31, size=40))]
    sessions_file = os.path.join(work, "sessions.txt")
    with open(sessions_file, "w") as f:
        for s in sessions:
            f.write(" ".join(map(str, s)) + "\n")
    ok = True
    for name, extra in [("stamp", ["stamp"]), ("stamp --add-ms", ["stamp", "--add-ms"]),
                        ("stmp", ["stmp"])]:
        ok = check(a.tinyrec, work, name, extra, sessions_file, sessions, a.tolerance) and ok
    for name in ("stamp", "stmp"):
        ok = check_training(a.tinyrec, work, name, a.train_tolerance) and ok
    if not a.keep:
        shutil.rmtree(work)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
