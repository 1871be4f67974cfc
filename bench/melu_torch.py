"""PyTorch twin of tinyrec's MeLU meta-training step, for bench/run_melu_bench.sh.

The same network as `tinyrec bench --model melu` on its synthetic data: embeddings of 32 for the two
user features (age 7 ids, occupation 11) and the three item features (a bag of up to 3 genres out
of 13 ids, averaged; era 9; studio 21), id 0 looking up zeros; decision layers 160 -> 64 -> 64 -> 1
with ReLU; MSE. One meta-batch: 32 users, each with a support set of 10 to 50 ratings (uniform, as
the synthetic users' 20 to 60 ratings minus a query set) and a query set of 10; for each user one
local step on the decision layers, theta' = theta - beta * grad L_S(theta), with the gradient from
torch.autograd.grad(create_graph=True) (second order); then Adam on the sum of the users' query
losses through their local steps. The features and ratings are random draws of the same shapes:
speed depends on the shapes, not the values. Prints one JSON line, like tinyrec's bench.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

USER_FIELDS = [7, 11]
ITEM_FIELDS = [(13, 3), (9, 1), (21, 1)]  # (vocabulary, bag width)


class MeLU(nn.Module):
    def __init__(self, dim=32, hidden=(64, 64)):
        super().__init__()
        self.user_embeddings = nn.ModuleList(nn.Embedding(v, dim, padding_idx=0) for v in USER_FIELDS)
        self.item_embeddings = nn.ModuleList(
            nn.Embedding(v, dim, padding_idx=0) for v, _ in ITEM_FIELDS)
        width = (len(USER_FIELDS) + len(ITEM_FIELDS)) * dim
        layers = []
        for h in hidden:
            layers.append(nn.Linear(width, h))
            width = h
        layers.append(nn.Linear(width, 1))
        self.layers = nn.ModuleList(layers)

    def features(self, user, items):
        """user: list of [n] id tensors; items: list of ([n] or [n, w] ids, weights or None)."""
        parts = [e(u) for e, u in zip(self.user_embeddings, user)]
        for e, (ids, w) in zip(self.item_embeddings, items):
            parts.append(e(ids) if w is None else (e(ids) * w.unsqueeze(-1)).sum(1))
        return torch.cat(parts, -1)

    def local_parameters(self):
        return [p for layer in self.layers for p in (layer.weight, layer.bias)]

    @staticmethod
    def decide(x, theta):
        h = x
        for k in range(0, len(theta) - 2, 2):
            h = F.relu(F.linear(h, theta[k], theta[k + 1]))
        return F.linear(h, theta[-2], theta[-1]).squeeze(-1)


def random_rows(n, gen):
    user = [torch.full((n,), int(torch.randint(1, v, (1,), generator=gen))) for v in USER_FIELDS]
    items = []
    for v, w in ITEM_FIELDS:
        if w == 1:
            items.append((torch.randint(1, v, (n,), generator=gen), None))
        else:
            ids = torch.randint(1, v, (n, w), generator=gen)
            count = torch.randint(1, w + 1, (n,), generator=gen)
            ids[torch.arange(w).unsqueeze(0) >= count.unsqueeze(1)] = 0  # padded bags
            weights = (ids != 0).float() / count.unsqueeze(1).float()
            items.append((ids, weights))
    ratings = 1 + 4 * torch.rand(n, generator=gen)
    return user, items, ratings


def make_tasks(count, gen):
    tasks = []
    for _ in range(count):
        n_support = int(torch.randint(10, 51, (1,), generator=gen))
        tasks.append((random_rows(n_support, gen), random_rows(10, gen)))
    return tasks


def meta_step(model, opt, tasks, beta):
    total = 0
    for (su, si, sy), (qu, qi, qy) in tasks:
        theta = model.local_parameters()
        loss_s = F.mse_loss(model.decide(model.features(su, si), theta), sy)
        g = torch.autograd.grad(loss_s, theta, create_graph=True)
        adapted = [p - beta * gp for p, gp in zip(theta, g)]
        total = total + F.mse_loss(model.decide(model.features(qu, qi), adapted), qy)
    opt.zero_grad()
    total.backward()
    opt.step()
    return float(total)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch-size", type=int, default=32, help="users per meta-batch")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--local-lr", type=float, default=0.05)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    model = MeLU()
    opt = torch.optim.Adam(model.parameters(), lr=0.005)
    pool = [make_tasks(args.batch_size, gen) for _ in range(8)]
    for i in range(args.warmup):
        meta_step(model, opt, pool[i % len(pool)], args.local_lr)
    seconds = 0.0
    for i in range(args.steps):
        t0 = time.perf_counter()
        meta_step(model, opt, pool[i % len(pool)], args.local_lr)
        seconds += time.perf_counter() - t0
    print(json.dumps({
        "model": "melu", "framework": "pytorch " + torch.__version__,
        "batch_size": args.batch_size, "steps": args.steps,
        "samples_per_second": args.batch_size * args.steps / seconds,
        "meta_batches_per_second": args.steps / seconds,
        "ms_per_step": 1e3 * seconds / args.steps,
    }))


if __name__ == "__main__":
    main()
