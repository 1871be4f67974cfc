#!/usr/bin/python3
"""PyTorch twins of tinyrec's Shared-Bottom, OMoE and MMoE (Ma et al., KDD 2018), and the layers PLE
and ESMM share with them (bench/ple_torch.py, bench/esmm_torch.py).

Written from the paper and tinyrec's documented sizes (models/mmoe.hpp, models/multitask_model.hpp):
the input is the numeric features then one embedding per categorical column (id 0 looks up zeros);
n experts, each one ReLU layer, computed as one Linear(d, n * units) viewed as [B, n, units]; a
softmax gate per task (one for OMoE) over the experts, with a bias; each task's tower a ReLU layer
then one output; Shared-Bottom one ReLU layer under the towers. The module tree has tinyrec's dotted
names (experts.linear, gates.0.linear, towers.0.mlp.layers.0, bottom, input.embeddings.0), so
bench/torch_loader.py loads a tinyrec checkpoint into it directly.

Benchmark, as `tinyrec bench --model mmoe` (d = 100, 8 experts of 16, towers 16-8-1, two regression
tasks, MSE losses summed, Adam lr 1e-3), timed over training steps on one thread; prints one JSON
line like tinyrec's, with "impl": "pytorch":
    /usr/bin/python3 bench/mmoe_torch.py --batch-size 128 --steps 300 [--warmup 30]
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import torch  # noqa: E402  (the thread variables must be set before torch loads its BLAS)
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_loader import load_tinyrec, read_config  # noqa: E402

nn = torch.nn


class Input(nn.Module):
    """x ⊕ E_1(c_1) ⊕ ... ⊕ E_m(c_m), numeric features first."""

    def __init__(self, vocab_sizes=(), dim=18):
        super().__init__()
        self.embeddings = nn.ModuleList(nn.Embedding(v, dim, padding_idx=0) for v in vocab_sizes)

    def forward(self, x, cat=None):
        if len(self.embeddings) == 0:
            return x
        return torch.cat([x] + [e(cat[:, j]) for j, e in enumerate(self.embeddings)], 1)


class Experts(nn.Module):
    """n one-layer ReLU experts f_i(x) as one product: [B, in] -> [B, n, units]."""

    def __init__(self, width, n, units):
        super().__init__()
        self.n, self.units = n, units
        self.linear = nn.Linear(width, n * units)

    def forward(self, x):
        return torch.relu(self.linear(x)).view(-1, self.n, self.units)


class Gate(nn.Module):
    """g(x) = softmax(W_g x + b_g) over n experts."""

    def __init__(self, width, n):
        super().__init__()
        self.linear = nn.Linear(width, n)

    def forward(self, x):
        return torch.softmax(self.linear(x), 1)


def mix(gate, experts):
    """sum_i g[:, i] f[:, i, :]: [B, n] and [B, n, units] -> [B, units]."""
    return torch.bmm(gate.unsqueeze(1), experts).squeeze(1)


class Layers(nn.Module):
    def __init__(self, *layers):
        super().__init__()
        self.layers = nn.Sequential(*layers)


class Tower(nn.Module):
    """h^k: ReLU layers of `hidden` units, then one output; [B, in] -> [B]."""

    def __init__(self, width, hidden):
        super().__init__()
        layers = []
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.mlp = Layers(*layers, nn.Linear(width, 1))

    def forward(self, x):
        return self.mlp.layers(x).squeeze(1)


class SharedBottom(nn.Module):
    """eq. 1: y_k = h^k(f(x)), f one ReLU layer."""

    def __init__(self, n_numeric, vocab_sizes=(), embedding_dim=18, bottom_units=128, tower=(8,),
                 tasks=2):
        super().__init__()
        self.input = Input(vocab_sizes, embedding_dim)
        self.bottom = nn.Linear(n_numeric + len(vocab_sizes) * embedding_dim, bottom_units)
        self.towers = nn.ModuleList(Tower(bottom_units, tower) for _ in range(tasks))

    def forward(self, x, cat=None):
        f = torch.relu(self.bottom(self.input(x, cat)))
        return [h(f) for h in self.towers]


class MixtureOfExperts(nn.Module):
    """OMoE (eq. 5, one gate) and MMoE (eqs. 6-8, one gate per task)."""

    def __init__(self, n_numeric, vocab_sizes=(), embedding_dim=18, n_experts=8, expert_units=16,
                 tower=(8,), tasks=2, multi_gate=True):
        super().__init__()
        width = n_numeric + len(vocab_sizes) * embedding_dim
        self.input = Input(vocab_sizes, embedding_dim)
        self.experts = Experts(width, n_experts, expert_units)
        self.gates = nn.ModuleList(Gate(width, n_experts) for _ in range(tasks if multi_gate else 1))
        self.towers = nn.ModuleList(Tower(expert_units, tower) for _ in range(tasks))

    def forward(self, x, cat=None):
        # The leaves are called directly (a module's call costs microseconds, and the benchmark
        # times this model): f = experts, g = gates, as Experts, Gate and Tower compute them.
        if len(self.input.embeddings):
            x = self.input(x, cat)
        f = torch.relu(self.experts.linear(x)).view(-1, self.experts.n, self.experts.units)
        g = [torch.softmax(gate.linear(x), 1) for gate in self.gates]
        return [tower.mlp.layers(mix(g[k % len(g)], f)).squeeze(1)
                for k, tower in enumerate(self.towers)]


def input_shape(checkpoint, width_of):
    """(n_numeric, vocab sizes) of a checkpoint: the tables' rows, and the input width read off
    the first layer `width_of` (its weight is [in, out]) less the embeddings."""
    with open(os.path.join(checkpoint, "manifest.json")) as f:
        shapes = json.load(f)["parameters"]
    vocab, dim = [], 0
    while f"input.embeddings.{len(vocab)}.weight" in shapes:
        rows, dim = shapes[f"input.embeddings.{len(vocab)}.weight"]
        vocab.append(rows)
    return shapes[width_of][0] - len(vocab) * dim, vocab


def tasks_of(config):
    """(names, binary?) of the run's tasks: ESMM's data has two binary tasks (click, click and
    conversion), so have the income and census surveys (income, never married), the MMoE
    generator two regression tasks."""
    if config["model"] == "esmm":
        return ["ctr", "ctcvr"], [True, True]
    if config.get("dataset") in ("income", "census"):
        return ["high_income", "never_married"], [True, True]
    if config.get("dataset", "synthetic") == "synthetic":
        return ["task1", "task2"], [False, False]
    raise ValueError(f"the twins do not know the tasks of data set {config['dataset']}")


def from_checkpoint(checkpoint, dtype=torch.float32):
    """The twin of a tinyrec shared_bottom, omoe or mmoe checkpoint, its weights loaded."""
    config = read_config(checkpoint)
    o, name = config["model_options"], config["model"]
    tasks = len(tasks_of(config)[0])
    if name == "shared_bottom":
        n, vocab = input_shape(checkpoint, "bottom.weight")
        with open(os.path.join(checkpoint, "manifest.json")) as f:
            units = json.load(f)["parameters"]["bottom.weight"][1]
        model = SharedBottom(n, vocab, o["embedding_dim"], units, o["tower"], tasks)
    elif name in ("omoe", "mmoe"):
        n, vocab = input_shape(checkpoint, "experts.linear.weight")
        model = MixtureOfExperts(n, vocab, o["embedding_dim"], o["n_experts"], o["expert_units"],
                                 o["tower"], tasks, multi_gate=name == "mmoe")
    else:
        raise ValueError(f"{checkpoint}: model {name} is not one of this file's")
    model.tasks = tasks_of(config)  # names, and which outputs are logits
    return load_tinyrec(model.to(dtype), checkpoint)


def task_losses(outputs, y, binary):
    """L_k per task: MSE for regression, binary cross-entropy on the logit for a binary task."""
    return [F.binary_cross_entropy_with_logits(o, y[:, k]) if binary[k] else F.mse_loss(o, y[:, k])
            for k, o in enumerate(outputs)]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    B, d = args.batch_size, 100
    rows = max(8 * B, 2048)
    x_all = torch.randn(rows, d)
    y_all = torch.randn(rows, 2)
    model = MixtureOfExperts(d)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    mse = torch.nn.functional.mse_loss

    def step(i):
        start = (i * B) % (rows - B + 1)
        x, y = x_all[start:start + B], y_all[start:start + B]
        out = model(x)
        loss = mse(out[0], y[:, 0]) + mse(out[1], y[:, 1])
        opt.zero_grad()
        loss.backward()
        opt.step()

    for i in range(args.warmup):
        step(i)
    seconds = 0.0
    for i in range(args.steps):
        t0 = time.perf_counter()
        step(args.warmup + i)
        seconds += time.perf_counter() - t0
    print(json.dumps({"impl": "pytorch", "model": "mmoe", "batch_size": B, "steps": args.steps,
                      "torch": torch.__version__,
                      "samples_per_second": B * args.steps / seconds,
                      "ms_per_step": 1e3 * seconds / args.steps}), flush=True)


if __name__ == "__main__":
    main()
