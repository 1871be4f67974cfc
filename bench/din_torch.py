"""PyTorch twin of tinyrec's Base model and DIN, for bench/run_din_bench.sh and bench/ctr_parity.py.

Written from the DIN paper (Zhou et al., KDD 2018) and tinyrec's documented choices (models/din.hpp):
item and category embeddings (id 0 is padding and looks up zeros), e_j = [E_item(i_j), E_cat(c_j)];
Base pools the behaviours by a sum (or a masked mean); DIN's local activation unit is an MLP (80-40-1
with PReLU) on [v_A, e_j, v_A - e_j, v_A * e_j] whose raw scores weigh the behaviours, padded ones
at 0 (or, with the demo code's softmax, scores / sqrt(D) and a softmax over the real behaviours);
the head MLP 200-80-1 with PReLU on [v_A, v_U]; binary cross-entropy with logits, Adam.

The module tree has tinyrec's dotted names (embedding.item, attention.mlp.layers.0, mlp.layers.0,
...), so bench/torch_loader.py loads a tinyrec checkpoint into it directly.

Benchmark (as `tinyrec bench --model din`, every history full length; one JSON line per batch):
    /usr/bin/python3 bench/din_torch.py [--batch-size 32 128 1024] [--max-len 50] [--steps 200]
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_loader import load_tinyrec, read_config  # noqa: E402


def activation(name, width):
    if name == "prelu":
        return nn.PReLU(width)  # channels on axis 1: the MLP feeds it [rows, width]
    if name == "relu":
        return nn.ReLU()
    if name == "sigmoid":
        return nn.Sigmoid()
    raise ValueError(f"the twin has no activation '{name}' (Dice is tinyrec's only)")


class MLP(nn.Module):
    """Linear + activation per hidden size, then a Linear to `out`, numbered as nn.Sequential
    numbers them ("layers.0", "layers.1", ...)."""

    def __init__(self, width, hidden, out=1, act="prelu"):
        super().__init__()
        layers = []
        for h in hidden:
            layers += [nn.Linear(width, h), activation(act, h)]
            width = h
        layers.append(nn.Linear(width, out))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):  # [..., width] -> [..., out]
        return self.layers(x.reshape(-1, x.shape[-1])).reshape(*x.shape[:-1], -1)


class GoodsEmbedding(nn.Module):
    """e = [E_item(item), E_cat(category)]."""

    def __init__(self, n_items, n_cats, item_dim=18, cat_dim=18):
        super().__init__()
        self.item = nn.Embedding(n_items, item_dim, padding_idx=0)
        self.cat = nn.Embedding(n_cats, cat_dim, padding_idx=0)

    def forward(self, items, cats):
        return torch.cat([self.item(items), self.cat(cats)], -1)


class ActivationUnit(nn.Module):
    """w_j = a(e_j, v_A): the MLP on [v_A, e_j, v_A - e_j, v_A * e_j], one score per behaviour."""

    def __init__(self, dim, hidden=(80, 40), act="prelu", softmax=False):
        super().__init__()
        self.mlp = MLP(4 * dim, hidden, 1, act)
        self.softmax = softmax

    def forward(self, v_a, e, mask):
        q = v_a.unsqueeze(1).expand_as(e)
        scores = self.mlp(torch.cat([q, e, q - e, q * e], -1)).squeeze(-1)  # [B, L]
        if not self.softmax:
            return scores * mask  # the paper: raw scores, padded behaviours at 0
        scores = (scores / math.sqrt(e.shape[-1])).masked_fill(mask == 0, -1e9)
        return torch.softmax(scores, 1) * mask  # a row of padding alone gets zeros


class CTRModel(nn.Module):
    """Base (attention=None: sum or mean pooling) or DIN (its activation unit): click logits [B]."""

    def __init__(self, n_items, n_cats, item_dim=18, cat_dim=18, mlp=(200, 80), attention=(80, 40),
                 act="prelu", din=True, softmax=False, pooling="sum"):
        super().__init__()
        self.embedding = GoodsEmbedding(n_items, n_cats, item_dim, cat_dim)
        d = item_dim + cat_dim
        if din:
            self.attention = ActivationUnit(d, attention, act, softmax)
        self.din, self.pooling = din, pooling
        self.mlp = MLP(2 * d, mlp, 1, act)

    def forward(self, item, cat, hist_items, hist_cats, mask):
        v_a = self.embedding(item, cat)             # candidate, [B, D]
        e = self.embedding(hist_items, hist_cats)   # behaviours, [B, L, D]; padding is zeros
        if self.din:
            w = self.attention(v_a, e, mask)                     # [B, L]
            v_u = torch.bmm(w.unsqueeze(1), e).squeeze(1)       # eq. 3: sum_j w_j e_j
        else:
            v_u = e.sum(1)
            if self.pooling == "mean":
                v_u = v_u / mask.sum(1, keepdim=True).clamp(min=1)
        return self.mlp(torch.cat([v_a, v_u], -1)).squeeze(-1)


def from_checkpoint(checkpoint, dtype=torch.float32):
    """The twin of a tinyrec base or din checkpoint, its weights loaded."""
    config = read_config(checkpoint)
    o = config["model_options"]
    with open(os.path.join(checkpoint, "manifest.json")) as f:
        shapes = json.load(f)["parameters"]
    model = CTRModel(shapes["embedding.item.weight"][0], shapes["embedding.cat.weight"][0],
                     o["item_dim"], o["cat_dim"], o["mlp"], o.get("attention", ()),
                     o["activation"], din=config["model"] == "din",
                     softmax=o.get("attention_softmax", False), pooling=o.get("pooling", "sum"))
    return load_tinyrec(model.to(dtype), checkpoint)


def bench(batch, max_len, steps, warmup, n_items=1002, n_cats=52):
    torch.manual_seed(0)
    model = CTRModel(n_items, n_cats)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    g = torch.Generator().manual_seed(1)
    batches = []
    for _ in range(8):
        item = torch.randint(2, n_items, (batch,), generator=g)
        hist = torch.randint(2, n_items, (batch, max_len), generator=g)
        batches.append((item, item % (n_cats - 2) + 2, hist, hist % (n_cats - 2) + 2,
                        torch.ones(batch, max_len), torch.randint(0, 2, (batch,), generator=g).float()))

    def step(b):
        opt.zero_grad()
        loss = loss_fn(model(*b[:5]), b[5])
        loss.backward()
        opt.step()

    for i in range(warmup):
        step(batches[i % len(batches)])
    t0 = time.perf_counter()
    for i in range(steps):
        step(batches[i % len(batches)])
    seconds = time.perf_counter() - t0
    return {"model": "din", "impl": "pytorch", "batch_size": batch, "max_len": max_len,
            "steps": steps, "samples_per_second": batch * steps / seconds,
            "ms_per_step": 1e3 * seconds / steps}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--batch-size", type=int, nargs="+", default=[32, 128, 1024])
    p.add_argument("--max-len", type=int, default=50)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    a = p.parse_args()
    torch.set_num_threads(1)
    for b in a.batch_size:
        print(json.dumps(bench(b, a.max_len, a.steps, a.warmup)), flush=True)
