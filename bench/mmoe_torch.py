#!/usr/bin/python3
# PyTorch twin of `tinyrec bench --model mmoe`: the MMoE paper's synthetic-data model (d = 100,
# 8 experts of one 16-unit ReLU layer, one softmax gate per task, towers 16-8-1, two regression
# tasks, MSE losses summed, Adam lr 1e-3), timed over training steps on one thread. Prints one JSON
# line like tinyrec's, with "impl": "pytorch".
# Usage: /usr/bin/python3 bench/mmoe_torch.py --batch-size 128 --steps 300 [--warmup 30]
import argparse
import json
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import torch  # noqa: E402  (the thread variables must be set before torch loads its BLAS)

torch.set_num_threads(1)


class MMoE(torch.nn.Module):
    """The same computation as tinyrec's: the 8 experts are one Linear(d, 8·16) viewed as
    [B, 8, 16] (a ModuleList of 8 Linear layers is the same model, only slower), each task's gate
    mixes them with a batched product, and its tower maps the mixture to one value."""

    def __init__(self, d=100, n_experts=8, units=16, tower=8, tasks=2):
        super().__init__()
        self.n_experts, self.units = n_experts, units
        self.experts = torch.nn.Linear(d, n_experts * units)
        self.gates = torch.nn.ModuleList(torch.nn.Linear(d, n_experts) for _ in range(tasks))
        self.towers = torch.nn.ModuleList(
            torch.nn.Sequential(torch.nn.Linear(units, tower), torch.nn.ReLU(),
                                torch.nn.Linear(tower, 1))
            for _ in range(tasks))

    def forward(self, x):
        f = torch.relu(self.experts(x)).view(-1, self.n_experts, self.units)  # f_i(x)
        out = []
        for gate, tower in zip(self.gates, self.towers):
            g = torch.softmax(gate(x), dim=1)              # g^k(x), [B, n]
            f_k = torch.bmm(g.unsqueeze(1), f).squeeze(1)  # Σ_i g^k(x)_i f_i(x), [B, units]
            out.append(tower(f_k).squeeze(1))
        return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    B, d = args.batch_size, 100
    rows = max(8 * B, 2048)
    x_all = torch.randn(rows, d)
    y_all = torch.randn(rows, 2)
    model = MMoE(d)
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
