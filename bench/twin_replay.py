"""What bench/ctr_parity.py and bench/multitask_parity.py share: running tinyrec, reading the rows
bench_twin_steps writes, comparing a twin's predictions with tinyrec's, and replaying tinyrec's ten
training steps in the twin.

A model family plugs in two functions: from_checkpoint(folder, dtype) -> twin with the folder's
weights, and losses(twin, batch) -> {term: tensor}, the loss terms by tinyrec's names (their sum is
what both sides minimise).
"""
import glob
import json
import os
import subprocess

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DTYPES = {"float": torch.float32, "double": torch.float64}


def run(*args):
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout


def load_batch(folder, dtype):
    """{name: tensor} of the batch_NAME.npy files: ids stay int64, numbers become `dtype`."""
    batch = {}
    for path in glob.glob(os.path.join(folder, "batch_*.npy")):
        a = torch.from_numpy(np.load(path))
        batch[os.path.basename(path)[6:-4]] = a if a.dtype == torch.int64 else a.to(dtype)
    return batch


def check_scores(program, checkpoint, out, predictions, from_checkpoint, tolerance, rows=512):
    """tinyrec's outputs on the first test rows (bench_twin_steps score) against the twin's, in
    float32 and float64. `predictions(twin, batch, ours)` -> (twin's, tinyrec's) predictions as
    arrays (probabilities of binary tasks and clicks, values of regression tasks). The float32
    twin's largest difference must be within `tolerance`."""
    run(program, "score", checkpoint, out, rows)
    ours = np.load(os.path.join(out, "outputs.npy")).astype(np.float64)
    report = {"rows": int(ours.shape[0])}
    for name, dtype in (("float32", torch.float32), ("float64", torch.float64)):
        twin = from_checkpoint(checkpoint, dtype).eval()
        with torch.no_grad():
            theirs, mine = predictions(twin, load_batch(out, dtype), ours)
        report[f"max_abs_diff_{name}"] = float(np.abs(theirs - mine).max())
        report["prediction_range"] = [float(mine.min()), float(mine.max())]
    report["ok"] = report["max_abs_diff_float32"] <= tolerance
    return report


def replay(folder, lr, steps, dtype, from_checkpoint, losses):
    """The twin from folder/init, trained on folder/step_NN with torch.optim.Adam."""
    twin = from_checkpoint(os.path.join(folder, "init"), dtype).train()
    opt = torch.optim.Adam(twin.parameters(), lr=lr)
    values = []
    for step in range(steps):
        terms = losses(twin, load_batch(os.path.join(folder, f"step_{step:02d}"), dtype))
        values.append({name: float(t) for name, t in terms.items()})
        opt.zero_grad()
        sum(terms.values()).backward()
        opt.step()
    return twin, values


def largest_difference(a, b):
    return max(float((x.detach().double() - y.detach().double()).abs().max())
               for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def check_training(program, work, model, dtype_name, from_checkpoint, losses, options=None,
                   tolerance=1e-4, weight_tolerance=1e-4, data=None, label=None):
    """Ten steps of tinyrec (bench_twin_steps steps) and of the twin from the same start on the
    same batches; `options` and `data` are bench_twin_steps' model and data options, `label`
    names the run's folder (default: the model). Gates: every loss term of every step within `tolerance` relative; the weights
    moved (else the check proves nothing); in float64 the weights after ten steps within
    `weight_tolerance`. In float32 the weights are reported beside float32's own floor (the twin in
    float32 against the twin in float64 on the same steps): Adam divides each gradient by its
    running scale, so a weight whose gradient is near Adam's eps moves by lr times its rounding
    error, and a pre-activation rounded to the other side of a ReLU or PReLU kink changes that
    unit's gradient outright. So the float32 losses are gated unless the twin's own float32 run
    is farther than `tolerance` from its float64 run (float32 rounding dominates; the float64
    run, which is always gated, is then the check)."""
    folder = os.path.join(work, f"{label or model}_{dtype_name}")
    ours = json.loads(run(program, "steps", model, folder, dtype_name, json.dumps(options or {}),
                          json.dumps(data or {})))
    dtype, steps = DTYPES[dtype_name], len(ours["losses"])
    twin, theirs = replay(folder, ours["lr"], steps, dtype, from_checkpoint, losses)
    names = list(theirs[0])
    ours_terms = [[step[n] for n in names] for step in ours["losses"]]
    theirs = [[step[n] for n in names] for step in theirs]
    rel = max(abs(x - y) / abs(x) for a, b in zip(ours_terms, theirs) for x, y in zip(a, b))
    trained = from_checkpoint(os.path.join(folder, "final"), dtype)
    start = from_checkpoint(os.path.join(folder, "init"), dtype)
    moved, differ = largest_difference(trained, start), largest_difference(twin, trained)
    report = {"dtype": ours["dtype"], "steps": steps, "batch_size": ours["batch_size"],
              "lr": ours["lr"], "terms": names,
              "tinyrec_losses": [round(sum(s), 6) for s in ours_terms],
              "twin_losses": [round(sum(s), 6) for s in theirs],
              "max_rel_loss_diff": rel, "largest_weight_change": moved, "max_weight_diff": differ}
    ok = moved > 100 * weight_tolerance
    if dtype == torch.float64:
        ok = ok and rel <= tolerance and differ <= weight_tolerance
    else:
        exact, exact_losses = replay(folder, ours["lr"], steps, torch.float64, from_checkpoint,
                                     losses)
        exact_losses = [[step[n] for n in names] for step in exact_losses]
        floor = max(abs(x - y) / abs(y) for a, b in zip(theirs, exact_losses) for x, y in zip(a, b))
        report["twin_float32_vs_float64_rel_loss_diff"] = floor
        report["tinyrec_float32_vs_twin_float64_rel_loss_diff"] = max(
            abs(x - y) / abs(y) for a, b in zip(ours_terms, exact_losses) for x, y in zip(a, b))
        report["twin_float32_vs_float64_weight_diff"] = largest_difference(twin, exact)
        # Where the twin itself moves by more than the tolerance between float32 and float64,
        # float32 rounding, not the model, sets the difference: the float64 run is the check.
        report["float32_rounding_dominates"] = floor > tolerance
        ok = ok and (rel <= tolerance or floor > tolerance)
    report["ok"] = ok
    return report
