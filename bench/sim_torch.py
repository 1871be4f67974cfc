"""PyTorch twin of tinyrec's SIM with hard search (models/sim.hpp), for bench/run_sim_bench.sh.

The same model: item and category embeddings (id 0 padding), the General Search Unit's hard search
through a per-user index by category built once per data set (here: a dict of sorted position
arrays per history), the K = 50 most recent behaviours of the candidate's category, each with the
embedding of its time-gap bucket 1 + floor(log2(gap + 1)) (at most buckets - 1; 0 = padding); the
Exact Search Unit's multi-head target attention (one bias-free Linear for all heads' W_a, one for
W_b; each head pools the raw z_k); the short-term interest, DIN's unit (80-40-1, PReLU, no softmax)
over the 50 recent behaviours; the MLP 200-80-1 with PReLU on [e_a, U_st, U_lt]. Parameter names
mirror tinyrec's checkpoint; Linear weights are [in, out] there and [out, in] here.

Modes:
  --data DIR --steps N [--warmup W] [--batch-size B]
      time N training steps (search, forward, BCE, backward, Adam) on the rows that
      `bench_sim_bench dump` wrote to DIR (whole histories of 1,000 behaviours and more), fresh
      weights; one JSON line like `bench_sim_bench train`
  --data DIR --checkpoint CKPT [--double]
      load a tinyrec checkpoint, search and score DIR's rows, compare with tinyrec's probabilities
      (DIR/probability.npy); one JSON line with the largest difference; exit 1 above --tolerance
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dien_torch import MLP, linear, load_checkpoint  # noqa: E402

torch.set_num_threads(1)


class GoodsEmbedding(nn.Module):
    def __init__(self, n_items, n_cats, item_dim, cat_dim):
        super().__init__()
        self.item = nn.Embedding(n_items, item_dim, padding_idx=0)
        self.cat = nn.Embedding(n_cats, cat_dim, padding_idx=0)
        nn.init.normal_(self.item.weight, 0, 0.01)
        nn.init.normal_(self.cat.weight, 0, 0.01)
        with torch.no_grad():
            self.item.weight[0].zero_()
            self.cat.weight[0].zero_()

    def forward(self, items, cats):
        return torch.cat([self.item(items), self.cat(cats)], -1)


class TargetAttention(nn.Module):
    """s^h_k = <W_b^h z_k, W_a^h e_a>, softmax over the real keys, head_h = sum_k a^h_k z_k."""

    def __init__(self, d_query, d_key, heads, head_dim):
        super().__init__()
        self.heads, self.head_dim = heads, head_dim
        self.query = linear(d_query, heads * head_dim, bias=False)
        self.key = linear(d_key, heads * head_dim, bias=False)

    def forward(self, q, z, mask):
        b, k, _ = z.shape
        s = (self.key(z) * self.query(q).unsqueeze(1)).view(b, k, self.heads, self.head_dim).sum(-1)
        s = s.masked_fill(mask.unsqueeze(-1) == 0, float("-inf"))
        alpha = torch.softmax(s, 1).nan_to_num(0.0)  # a row without keys: zeros
        return torch.bmm(alpha.transpose(1, 2), z).reshape(b, -1)


class ActivationUnit(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.mlp = MLP(4 * dim, list(hidden) + [1])

    def forward(self, q, e, mask):
        q = q.unsqueeze(1).expand_as(e)
        return self.mlp(torch.cat([q, e, q - e, q * e], -1)).squeeze(-1) * mask


class SIM(nn.Module):
    def __init__(self, n_items, n_cats, o):
        super().__init__()
        d = o["item_dim"] + o["cat_dim"]
        self.buckets, self.top_k = o["time_buckets"], o["top_k"]
        self.embedding = GoodsEmbedding(n_items, n_cats, o["item_dim"], o["cat_dim"])
        self.time = nn.Embedding(o["time_buckets"], o["time_dim"], padding_idx=0)
        nn.init.normal_(self.time.weight, 0, 0.01)
        with torch.no_grad():
            self.time.weight[0].zero_()
        self.esu = TargetAttention(d, d + o["time_dim"], o["heads"], o["head_dim"])
        self.short_term = ActivationUnit(d, o["attention"])
        self.mlp = MLP(2 * d + o["heads"] * (d + o["time_dim"]), list(o["mlp"]) + [1])

    def forward(self, b):
        e_a = self.embedding(b["item"], b["cat"])
        e = self.embedding(b["window_items"], b["window_cats"])
        w = self.short_term(e_a, e, b["window_mask"])
        u_st = torch.bmm(w.unsqueeze(1), e).squeeze(1)
        z = torch.cat([self.embedding(b["ret_items"], b["ret_cats"]), self.time(b["ret_gaps"])], -1)
        u_lt = self.esu(e_a, z, b["ret_mask"])
        return self.mlp(torch.cat([e_a, u_st, u_lt], -1)).squeeze(-1)


class Rows:
    """DIR's rows with each history's category index, built once."""

    def __init__(self, directory):
        load = lambda name: np.load(os.path.join(directory, name + ".npy"))  # noqa: E731
        self.items, self.cats = load("history_items"), load("history_cats")
        self.times, self.lengths = load("history_times"), load("history_lengths")
        self.item, self.cat, self.now = load("item"), load("cat"), load("now")
        self.window_items, self.window_cats = load("window_items"), load("window_cats")
        optional = lambda name: load(name) if os.path.exists(  # noqa: E731
            os.path.join(directory, name + ".npy")) else None
        self.probability, self.label = optional("probability"), optional("label")
        self.index = []
        for r in range(len(self.item)):
            n = int(self.lengths[r])
            cats = self.cats[r, :n]
            order = np.argsort(cats, kind="stable")
            bounds = np.flatnonzero(np.diff(cats[order])) + 1
            groups = np.split(order, bounds)
            self.index.append({int(cats[g[0]]): g for g in groups if len(g)})

    def __len__(self):
        return len(self.item)

    def batch(self, rows, k, buckets, labels=None, dtype=torch.float32):
        """The hard search for `rows`: the k most recent behaviours of the candidate's category."""
        ri = np.zeros((len(rows), k), np.int64)
        rc, rg = ri.copy(), ri.copy()
        rm = np.zeros((len(rows), k))
        for j, r in enumerate(rows):
            pos = self.index[r].get(int(self.cat[r]), np.zeros(0, np.int64))[-k:]
            n = len(pos)
            ri[j, :n], rc[j, :n] = self.items[r, pos], self.cats[r, pos]
            rg[j, :n] = [min(int(g + 1).bit_length(), buckets - 1)
                         for g in np.maximum(self.now[r] - self.times[r, pos], 0)]
            rm[j, :n] = 1
        t = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
        b = {"item": t(self.item[rows]), "cat": t(self.cat[rows]),
             "window_items": t(self.window_items[rows]), "window_cats": t(self.window_cats[rows]),
             "window_mask": t(self.window_items[rows] != 0).to(dtype),
             "ret_items": t(ri), "ret_cats": t(rc), "ret_gaps": t(rg), "ret_mask": t(rm).to(dtype)}
        if labels is not None:
            b["label"] = t(labels[rows]).to(dtype)
        return b


def load_twin(checkpoint, dtype=torch.float32):
    """The twin of a tinyrec SIM checkpoint, and its model options."""
    with open(os.path.join(checkpoint, "config.json")) as f:
        config = json.load(f)
    o = config["model_options"]
    if config.get("model") != "sim" or o.get("search") != "hard" or o.get("activation") != "prelu":
        raise ValueError(f"{checkpoint}: the twin is SIM with hard search and PReLU")
    item = np.load(os.path.join(checkpoint, "embedding.item.weight.npy"))
    cat = np.load(os.path.join(checkpoint, "embedding.cat.weight.npy"))
    model = SIM(item.shape[0], cat.shape[0], o).to(dtype)  # before loading: float64 stays float64
    load_checkpoint(model, checkpoint)
    return model, o


def score(directory, checkpoint, double, tolerance):
    dtype = torch.float64 if double else torch.float32
    model, o = load_twin(checkpoint, dtype)
    model = model.eval()
    rows = Rows(directory)
    with torch.no_grad():
        p = torch.sigmoid(model(rows.batch(np.arange(len(rows)), o["top_k"], o["time_buckets"],
                                           dtype=dtype))).numpy()
    diff = float(np.max(np.abs(p - rows.probability)))
    print(json.dumps({"rows": len(rows), "dtype": str(dtype), "max_abs_difference": diff,
                      "tolerance": tolerance, "ok": diff <= tolerance}))
    return diff <= tolerance


def bench(directory, batch, steps, warmup):
    torch.manual_seed(0)
    rows = Rows(directory)
    o = {"item_dim": 18, "cat_dim": 18, "time_buckets": 32, "time_dim": 8, "heads": 4,
         "head_dim": 16, "attention": [80, 40], "mlp": [200, 80], "top_k": 50}
    n_items = int(max(rows.items.max(), rows.item.max())) + 1
    n_cats = int(max(rows.cats.max(), rows.cat.max())) + 1
    model = SIM(n_items, n_cats, o)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    labels = (rows.probability > 0.5).astype(np.float32)  # any 0/1 targets do for timing
    rng = np.random.default_rng(1)

    def step():
        r = rng.choice(len(rows), batch, replace=False)
        b = rows.batch(r, o["top_k"], o["time_buckets"], labels)  # the search is part of a step
        opt.zero_grad()
        loss = loss_fn(model(b), b["label"])
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = time.perf_counter() - t0
    return {"model": "sim", "impl": "pytorch", "search": "hard", "top_k": 50, "history": 1000,
            "batch_size": batch, "steps": steps, "samples_per_second": batch * steps / seconds,
            "ms_per_step": 1e3 * seconds / steps}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--checkpoint")
    p.add_argument("--double", action="store_true")
    p.add_argument("--tolerance", type=float, default=1e-5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    a = p.parse_args()
    if a.checkpoint:
        sys.exit(0 if score(a.data, a.checkpoint, a.double, a.tolerance) else 1)
    print(json.dumps(bench(a.data, a.batch_size, a.steps, a.warmup)), flush=True)
