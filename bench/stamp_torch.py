"""PyTorch twin of tinyrec's STAMP and STMP (models/stamp.hpp), for bench/run_stamp_bench.sh and
bench/stamp_parity.py.

The same model in the same layout: item embeddings [N, D] with row 0 the padding row; the attention
net alpha_i = w0^T sigmoid(W1 x_i + W2 x_t + W3 m_s + b_a) with no softmax, m_a = sum_i alpha_i x_i
(plus m_s with add_ms, the authors' code), h_s = tanh(W_s m_a + b_s), h_t = tanh(W_t x_t + b_t),
scores <h_s * h_t, x_i> over items 1..N-1 as one matrix product, softmax cross-entropy over every
item, Adam. Sessions are right-aligned: x_t is the last column; shorter prefixes are padded with 0
on the left.

`load_tinyrec(model, checkpoint_dir)` reads a tinyrec checkpoint (one .npy per parameter, by dotted
name; tinyrec's Linear stores W as [in, out], torch's as [out, in]).

As a program: times training steps at the issue's sizes (edim 100, 40,000 items, sessions of 20
clicks, batch 512) and prints one JSON line per batch size, like `tinyrec bench`.
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class STAMP(nn.Module):
    def __init__(self, n_items, edim=100, attention=True, add_ms=False):
        super().__init__()
        self.attention, self.add_ms = attention, add_ms
        self.embedding = nn.Embedding(n_items, edim, padding_idx=0)
        nn.init.normal_(self.embedding.weight, 0, 0.05)
        with torch.no_grad():
            self.embedding.weight[0].zero_()
        if attention:
            self.w1 = nn.Linear(edim, edim, bias=False)
            self.w2 = nn.Linear(edim, edim, bias=False)
            self.w3 = nn.Linear(edim, edim, bias=False)
            self.w0 = nn.Linear(edim, 1, bias=False)
            self.b_a = nn.Parameter(torch.zeros(edim))
        self.mlp_s = nn.Linear(edim, edim)
        self.mlp_t = nn.Linear(edim, edim)

    def query(self, items, lengths):
        """items [B, L] right-aligned (0 = padding), lengths [B] -> h_s * h_t, [B, D]."""
        x = self.embedding(items)                                  # [B, L, D]
        m_s = x.sum(1) / lengths.unsqueeze(1).to(x.dtype)          # eq. 2
        m_t = x[:, -1]                                             # x_t
        if self.attention:
            mask = (items != 0).to(x.dtype)
            shared = (self.w2(m_t) + self.w3(m_s) + self.b_a).unsqueeze(1)
            alpha = self.w0(torch.sigmoid(self.w1(x) + shared)).squeeze(-1) * mask  # eq. 7
            m_a = torch.bmm(alpha.unsqueeze(1), x).squeeze(1)                        # eq. 8
            if self.add_ms:
                m_a = m_a + m_s
        else:
            m_a = m_s  # STMP
        h_s = torch.tanh(self.mlp_s(m_a))
        h_t = torch.tanh(self.mlp_t(m_t))
        return h_s * h_t

    def forward(self, items, lengths):
        """Scores of items 1..N-1, [B, N-1] (column k is item k + 1)."""
        return self.query(items, lengths) @ self.embedding.weight[1:].t()


def load_tinyrec(model, checkpoint):
    """Copies a tinyrec checkpoint folder into `model` (dtype kept)."""
    def get(name):
        return torch.from_numpy(np.load(os.path.join(checkpoint, name + ".npy")))

    linear = ["mlp_s", "mlp_t"] + (["attention.w1", "attention.w2", "attention.w3", "attention.w0"]
                                   if model.attention else [])
    files = {f[:-4] for f in os.listdir(checkpoint) if f.endswith(".npy")}
    expected = {"embedding.weight", "mlp_s.weight", "mlp_s.bias", "mlp_t.weight", "mlp_t.bias"}
    if model.attention:
        expected |= {"attention.w1.weight", "attention.w2.weight", "attention.w3.weight",
                     "attention.w0.weight", "attention.b_a"}
    if files != expected:
        raise ValueError(f"{checkpoint}: tensors {sorted(files)}, expected {sorted(expected)}")
    with torch.no_grad():
        dtype = model.embedding.weight.dtype
        model.embedding.weight.copy_(get("embedding.weight").to(dtype))
        for name in linear:
            module = getattr(model, name.split(".")[-1])
            module.weight.copy_(get(name + ".weight").t().to(dtype))
            if module.bias is not None:
                module.bias.copy_(get(name + ".bias").to(dtype))
        if model.attention:
            model.b_a.copy_(get("attention.b_a").to(dtype))


def bench(model_name, batch, n_items, edim, max_len, steps, warmup):
    torch.manual_seed(0)
    model = STAMP(n_items + 1, edim, attention=model_name == "stamp")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(1)
    batches = []
    for _ in range(4):  # every prefix full length, as in tinyrec's bench
        items = torch.randint(1, n_items + 1, (batch, max_len), generator=g)
        targets = torch.randint(0, n_items, (batch,), generator=g)
        batches.append((items, torch.full((batch,), max_len), targets))

    def step(b):
        opt.zero_grad()
        loss = F.cross_entropy(model(b[0], b[1]), b[2])
        loss.backward()
        opt.step()

    for i in range(warmup):
        step(batches[i % len(batches)])
    t0 = time.perf_counter()
    for i in range(steps):
        step(batches[i % len(batches)])
    seconds = time.perf_counter() - t0
    return {"model": model_name, "impl": "pytorch", "batch_size": batch, "max_len": max_len,
            "items": n_items, "edim": edim, "steps": steps,
            "samples_per_second": batch * steps / seconds, "ms_per_step": 1e3 * seconds / steps}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["stamp", "stmp"], default="stamp")
    p.add_argument("--batch-size", type=int, nargs="+", default=[512])
    p.add_argument("--items", type=int, default=40000)
    p.add_argument("--edim", type=int, default=100)
    p.add_argument("--max-len", type=int, default=20)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(1)
    for b in a.batch_size:
        print(json.dumps(bench(a.model, b, a.items, a.edim, a.max_len, a.steps, a.warmup)),
              flush=True)
