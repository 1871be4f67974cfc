#!/usr/bin/python3
# PyTorch twin of tinyrec's DIEN (models/dien.hpp), written independently from the paper's
# equations and tinyrec's documented layouts, for bench/run_dien_bench.sh and bench/dien_parity.py.
#
# The model at tinyrec's defaults: item and category embeddings 18 + 18 (id 0 is padding: a zero
# row that gets no gradient), the interest extractor GRU of hidden size 36 over e_1..e_T, the
# bilinear attention a_t = softmax_t(h_t W e_a) over the real positions, the AUGRU of the paper
# (u~_t = a_t * u_t, h'_t = (1 - u~_t) h'_{t-1} + u~_t h~'_t) whose final state h'(T) goes with e_a
# into the MLP 200-80-1 with PReLU (alpha starts at 0.25); loss = BCE with logits + 1 * L_aux, the
# inner-product auxiliary loss with one negative per position, Adam lr 1e-3.
#
# The GRU cell is TensorFlow's form, as nn/gru.hpp: the reset gate multiplies h_{t-1} BEFORE U_h,
#     h~_t = tanh(W_h x_t + U_h (r_t * h_{t-1}) + b_h),
# with the paper's orientation of the update gate, h_t = (1 - u_t) h_{t-1} + u_t h~_t. The loops
# are written out here: torch.nn.GRU (cuDNN's form) applies r_t after U_h, r_t * (U_h h_{t-1} +
# b_hn), so it is another model and cannot be used for parity. Its fused C++ kernel would make
# this twin faster, but it would not be the same model. A padded step keeps the state (a select),
# as tinyrec's runner and the authors' dynamic_rnn with sequence_length.
#
# Parameter names and layouts mirror tinyrec's checkpoint (nn/checkpoint.hpp): the module tree
# gives the same dotted names ("extractor.cell.input.weight", "mlp.layers.1.alpha", ...), and only
# the Linear weights differ in layout: tinyrec's are [in, out] (x W + b), torch's [out, in].
#
# Modes:
#   --batch-size B [B ...] --max-len L --steps N [--warmup W]
#       time N training steps (after W untimed ones) on random data shaped as `tinyrec bench`
#       (every history full length L, ~1000 items, ~50 categories, a fresh negative per position
#       each step) and print one JSON line per batch size, like bench/din_torch.py
#   --checkpoint DIR --batch FILE.npz [--double]
#       load a tinyrec checkpoint (DIR/*.npy and DIR/config.json) and a batch (item, cat,
#       hist_items, hist_cats, mask; optional neg_items, neg_cats, label), print one JSON line with
#       the logits, the click probabilities and (with negatives) the auxiliary loss
import argparse
import json
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402  (the thread variables must be set before torch loads its BLAS)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(1)

EVOLVING = ("augru", "augru_vecatt", "aigru", "agru")


def glorot_(w):
    """Glorot-uniform over the whole matrix; symmetric in fan-in and fan-out, so the same bound
    for tinyrec's [in, out] and torch's [out, in]."""
    nn.init.xavier_uniform_(w)
    return w


def linear(d_in, d_out, bias=True):
    layer = nn.Linear(d_in, d_out, bias=bias)
    glorot_(layer.weight)
    if bias:
        nn.init.zeros_(layer.bias)
    return layer


class PReLU(nn.Module):
    """f(x) = x for x > 0, alpha * x otherwise, one alpha per feature of the last axis."""

    def __init__(self, features, alpha=0.25):
        super().__init__()
        self.alpha = nn.Parameter(torch.full((features,), alpha))

    def forward(self, x):
        return torch.where(x > 0, x, self.alpha * x)


class MLP(nn.Module):
    """Linear -> PReLU blocks, the last Linear alone (a logit); numbered as tinyrec's nn::MLP."""

    def __init__(self, d_in, sizes):
        super().__init__()
        layers, width = [], d_in
        for i, size in enumerate(sizes):
            layers.append(linear(width, size))
            width = size
            if i + 1 < len(sizes):
                layers.append(PReLU(size))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


class GRUCell(nn.Module):
    """tinyrec's GRUCell: input [D -> 3H] = W_u | W_r | W_h with b_u | b_r | b_h, recurrent_gates
    [H -> 2H] = U_u | U_r, recurrent_candidate [H -> H] = U_h (no biases on the recurrent side)."""

    def __init__(self, d_in, hidden):
        super().__init__()
        self.hidden = hidden
        self.input = linear(d_in, 3 * hidden)
        self.recurrent_gates = linear(hidden, 2 * hidden, bias=False)
        self.recurrent_candidate = linear(hidden, hidden, bias=False)

    def gates(self, xp, h):
        """One step's projected input xp [B, 3H] and state h [B, H] -> (u_t, h~_t)."""
        n = self.hidden
        ur = torch.sigmoid(xp[:, :2 * n] + self.recurrent_gates(h))      # eq. (1)-(2)
        u, r = ur[:, :n], ur[:, n:]
        c = torch.tanh(xp[:, 2 * n:] + self.recurrent_candidate(r * h))  # eq. (3), TF's order
        return u, c


def recur(cell, x, mask, mix, keep_states=False):
    """h_0 = 0, then h_t = mix(t, h_{t-1}, u_t, h~_t) at real steps, h_{t-1} at padded ones."""
    b, length, _ = x.shape
    xs = cell.input(x).unbind(1)  # the input terms of every step in one gemm
    full = bool(mask.all())
    keep = None if full else (mask > 0).unsqueeze(-1).unbind(1)  # each [B, 1]
    h = x.new_zeros(b, cell.hidden)
    states = []
    for t in range(length):
        u, c = cell.gates(xs[t], h)
        nxt = mix(t, h, u, c)
        h = nxt if full else torch.where(keep[t], nxt, h)
        if keep_states:
            states.append(h)
    return h, states


class GRU(nn.Module):
    """The interest extractor: the states h_t [B, L, H], zero at padded positions."""

    def __init__(self, d_in, hidden):
        super().__init__()
        self.cell = GRUCell(d_in, hidden)

    def forward(self, x, mask):
        _, states = recur(self.cell, x, mask, lambda t, h, u, c: h + u * (c - h), True)
        return torch.stack(states, 1) * mask.unsqueeze(-1)


class AttentionGRU(nn.Module):
    """The interest evolving layer: returns h'(T) [B, H]. `kind` as tinyrec's AttentionGRUKind."""

    def __init__(self, d_in, hidden, kind="augru"):
        super().__init__()
        if kind not in EVOLVING:
            raise ValueError(f"evolving '{kind}': expected one of {', '.join(EVOLVING)}")
        self.kind = kind
        self.cell = GRUCell(d_in, hidden)

    def forward(self, x, a, mask):
        if self.kind == "aigru":  # the attention scales the input of a plain GRU
            h, _ = recur(self.cell, x * a.unsqueeze(-1), mask, lambda t, h, u, c: h + u * (c - h))
            return h
        at = a.unsqueeze(-1).unbind(1)  # each [B, 1]
        if self.kind == "augru":        # eq. (10)-(11)
            def mix(t, h, u, c):
                return h + (at[t] * u) * (c - h)
        elif self.kind == "augru_vecatt":  # the authors' VecAttGRUCell orientation
            def mix(t, h, u, c):
                return c + ((1 - at[t]) * u) * (h - c)
        else:  # agru: the score replaces the update gate
            def mix(t, h, u, c):
                return h + at[t] * (c - h)
        h, _ = recur(self.cell, x, mask, mix)
        return h


class BilinearAttention(nn.Module):
    """a_t = exp(h_t W e_a) / sum_j exp(h_j W e_a) over the real positions; W [H, D]."""

    def __init__(self, hidden, query):
        super().__init__()
        self.weight = nn.Parameter(glorot_(torch.empty(hidden, query)))

    def forward(self, states, query, mask):
        we = query @ self.weight.t()                              # (W e_a)^T, [B, H]
        logits = torch.bmm(states, we.unsqueeze(-1)).squeeze(-1)  # [B, L]
        real = mask > 0
        a = torch.softmax(logits.masked_fill(~real, float("-inf")), 1)
        return torch.where(real, a, torch.zeros_like(a))  # a fully padded row: zeros, not NaN


class Embedding(nn.Module):
    def __init__(self, n_items, n_cats, item_dim, cat_dim):
        super().__init__()
        self.item = nn.Embedding(n_items, item_dim, padding_idx=0)
        self.cat = nn.Embedding(n_cats, cat_dim, padding_idx=0)
        with torch.no_grad():
            for table in (self.item, self.cat):
                table.weight.normal_(0.0, 0.01)
                table.weight[0].zero_()

    def forward(self, items, cats):
        return torch.cat([self.item(items), self.cat(cats)], -1)


class DIEN(nn.Module):
    def __init__(self, n_items, n_cats, item_dim=18, cat_dim=18, gru_hidden=36, mlp=(200, 80),
                 evolving="augru", aux_weight=1.0):
        super().__init__()
        d = item_dim + cat_dim
        if aux_weight > 0 and gru_hidden != d:
            raise ValueError("the inner-product auxiliary loss needs gru_hidden = item + cat dim")
        self.aux_weight = aux_weight
        self.embedding = Embedding(n_items, n_cats, item_dim, cat_dim)
        self.extractor = GRU(d, gru_hidden)
        self.attention = BilinearAttention(gru_hidden, d)
        self.evolving = AttentionGRU(gru_hidden, gru_hidden, evolving)
        self.mlp = MLP(d + gru_hidden, list(mlp) + [1])

    def forward(self, item, cat, hist_items, hist_cats, mask):
        e_a = self.embedding(item, cat)                     # target ad, [B, D]
        self.e = self.embedding(hist_items, hist_cats)      # behaviours e_t, [B, L, D]
        self.h = self.extractor(self.e, mask)               # interest states h_t, [B, L, H]
        self.a = self.attention(self.h, e_a, mask)          # a_t, [B, L]
        h_T = self.evolving(self.h, self.a, mask)           # h'(T), [B, H]
        return self.mlp(torch.cat([e_a, h_T], 1)).squeeze(1)

    def auxiliary_loss(self, neg_items, neg_cats, mask):
        """Eq. (5) on the batch of the last forward: -mean over real pairs (h_t, e_{t+1}) of
        log s(<h_t, e_{t+1}>) + log(1 - s(<h_t, e^_{t+1}>))."""
        if mask.shape[1] < 2:
            return self.h.sum() * 0
        h = self.h[:, :-1]
        pos = (h * self.e[:, 1:]).sum(2)
        neg = (h * self.embedding(neg_items[:, 1:], neg_cats[:, 1:])).sum(2)
        m = mask[:, 1:]
        ll = (F.logsigmoid(pos) + F.logsigmoid(-neg)) * m
        return -ll.sum() / m.sum().clamp(min=1)

    def loss(self, batch):
        """BCE with logits (mean) + aux_weight * L_aux, as tinyrec's click task."""
        logits = self(batch["item"], batch["cat"], batch["hist_items"], batch["hist_cats"],
                      batch["mask"])
        click = F.binary_cross_entropy_with_logits(logits, batch["label"])
        if self.aux_weight == 0:
            return click, None
        aux = self.auxiliary_loss(batch["neg_items"], batch["neg_cats"], batch["mask"])
        return click + self.aux_weight * aux, aux


# ---- tinyrec checkpoints ----

def linear_weight_names(model):
    return {f"{name}.weight" for name, m in model.named_modules() if isinstance(m, nn.Linear)}


def model_from_checkpoint(directory, dtype=torch.float32):
    """The twin with the sizes of DIR/config.json and the weights of DIR/*.npy. Every tensor of
    the checkpoint must map to one of the twin's and back; Linear weights are transposed."""
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    if config.get("model") != "dien":
        raise ValueError(f"{directory}: a checkpoint of '{config.get('model')}', not dien")
    o = config["model_options"]
    unsupported = {k: o[k] for k, v in (("interest_attention", "bilinear"), ("aux_loss", "inner"),
                                        ("activation", "prelu")) if o.get(k, v) != v}
    if unsupported:
        raise ValueError(f"the twin has no {unsupported}")
    item = np.load(os.path.join(directory, "embedding.item.weight.npy"))
    cat = np.load(os.path.join(directory, "embedding.cat.weight.npy"))
    model = DIEN(item.shape[0], cat.shape[0], o["item_dim"], o["cat_dim"], o["gru_hidden"],
                 o["mlp"], o["evolving"], o["aux_weight"])
    load_checkpoint(model, directory)
    return model.to(dtype), config


def load_checkpoint(model, directory):
    transposed = linear_weight_names(model)
    state = model.state_dict()
    files = {f[:-4] for f in os.listdir(directory) if f.endswith(".npy")}
    if files != set(state):
        raise ValueError(f"checkpoint and twin differ: only in the checkpoint "
                         f"{sorted(files - set(state))}, only in the twin {sorted(set(state) - files)}")
    loaded = {}
    for name, tensor in state.items():
        value = torch.from_numpy(np.load(os.path.join(directory, name + ".npy")))
        if name in transposed:
            value = value.t()  # [in, out] -> [out, in]
        if tuple(value.shape) != tuple(tensor.shape):
            raise ValueError(f"{name}: checkpoint {tuple(value.shape)}, twin {tuple(tensor.shape)}")
        loaded[name] = value.to(tensor.dtype).contiguous()
    model.load_state_dict(loaded)


def batch_from_npz(path, dtype=torch.float32):
    z = np.load(path)
    b = {k: torch.from_numpy(z[k]) for k in z.files}
    for k in ("item", "cat", "hist_items", "hist_cats", "neg_items", "neg_cats"):
        if k in b:
            b[k] = b[k].long()
    for k in ("mask", "label"):
        if k in b:
            b[k] = b[k].to(dtype)
    return b


def score(directory, batch_path, double=False):
    dtype = torch.float64 if double else torch.float32
    model, _ = model_from_checkpoint(directory, dtype)
    model.eval()
    b = batch_from_npz(batch_path, dtype)
    with torch.no_grad():
        logits = model(b["item"], b["cat"], b["hist_items"], b["hist_cats"], b["mask"])
        out = {"logits": logits.tolist(), "probabilities": torch.sigmoid(logits).tolist()}
        if "neg_items" in b and model.aux_weight > 0:
            out["aux_loss"] = model.auxiliary_loss(b["neg_items"], b["neg_cats"], b["mask"]).item()
    return out


# ---- timing ----

def bench(batch, max_len, steps, warmup, n_items=1002, n_cats=52):
    torch.manual_seed(0)
    model = DIEN(n_items, n_cats)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(1)
    batches = []
    for _ in range(8):
        item = torch.randint(2, n_items, (batch,), generator=g)
        hist = torch.randint(2, n_items, (batch, max_len), generator=g)
        batches.append({"item": item, "cat": item % (n_cats - 2) + 2, "hist_items": hist,
                        "hist_cats": hist % (n_cats - 2) + 2, "mask": torch.ones(batch, max_len),
                        "label": torch.randint(0, 2, (batch,), generator=g).float()})
    pool = n_items - 2

    def step(b):
        # A fresh negative at every position, uniform over the other items (as tinyrec's sampler).
        neg = (b["hist_items"] - 2 + torch.randint(1, pool, b["hist_items"].shape, generator=g)) \
            % pool + 2
        b = dict(b, neg_items=neg, neg_cats=neg % (n_cats - 2) + 2)
        opt.zero_grad()
        loss, _ = model.loss(b)
        loss.backward()
        opt.step()

    for i in range(warmup):
        step(batches[i % len(batches)])
    t0 = time.perf_counter()
    for i in range(steps):
        step(batches[i % len(batches)])
    seconds = time.perf_counter() - t0
    return {"model": "dien", "impl": "pytorch", "batch_size": batch, "max_len": max_len,
            "steps": steps, "parameters": sum(p.numel() for p in model.parameters()),
            "samples_per_second": batch * steps / seconds, "ms_per_step": 1e3 * seconds / steps}


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--batch-size", type=int, nargs="+", default=[32, 128, 1024])
    p.add_argument("--max-len", type=int, default=50)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--checkpoint", help="a tinyrec checkpoint folder (OUT/checkpoint)")
    p.add_argument("--batch", help="an .npz batch to score with --checkpoint")
    p.add_argument("--double", action="store_true", help="score in float64")
    a = p.parse_args()
    if a.checkpoint or a.batch:
        if not (a.checkpoint and a.batch):
            p.error("--checkpoint and --batch go together")
        print(json.dumps(score(a.checkpoint, a.batch, a.double)))
    else:
        for b in a.batch_size:
            print(json.dumps(bench(b, a.max_len, a.steps, a.warmup)), flush=True)
