"""PyTorch twin of tinyrec's DIN training step, for bench/run_din_bench.sh.

Same model and sizes as `tinyrec bench --model din`: item and category embeddings of 18 each (id 0 is
padding), the local activation unit MLP 80-40-1 on [v_A, e_j, v_A - e_j, v_A * e_j] with PReLU and
no softmax, padded behaviours masked to weight 0, the head MLP 200-80-1 with PReLU on [v_A, v_U],
binary cross-entropy with logits, Adam. Every history is full length, as in tinyrec's bench.
Prints one JSON line per batch size, like tinyrec's bench.
"""
import argparse
import json
import time

import torch
import torch.nn as nn


class DIN(nn.Module):
    def __init__(self, n_items, n_cats, dim=18, att=(80, 40), mlp=(200, 80)):
        super().__init__()
        self.items = nn.Embedding(n_items, dim, padding_idx=0)
        self.cats = nn.Embedding(n_cats, dim, padding_idx=0)
        d = 2 * dim
        layers, width = [], 4 * d
        for h in att:
            layers += [nn.Linear(width, h), nn.PReLU(h)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.unit = nn.Sequential(*layers)
        layers, width = [], 2 * d
        for h in mlp:
            layers += [nn.Linear(width, h), nn.PReLU(h)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.head = nn.Sequential(*layers)

    def forward(self, item, cat, hist_items, hist_cats, mask):
        v_a = torch.cat([self.items(item), self.cats(cat)], -1)                 # [B, D]
        e = torch.cat([self.items(hist_items), self.cats(hist_cats)], -1)       # [B, L, D]
        q = v_a.unsqueeze(1).expand_as(e)
        x = torch.cat([q, e, q - e, q * e], -1)                                # [B, L, 4D]
        # PReLU's channels are axis 1, so the unit runs on the [B*L, 4D] rows.
        w = self.unit(x.reshape(-1, x.shape[-1])).view(mask.shape) * mask       # [B, L]
        v_u = torch.bmm(w.unsqueeze(1), e).squeeze(1)                           # [B, D]
        return self.head(torch.cat([v_a, v_u], -1)).squeeze(-1)


def bench(batch, max_len, steps, warmup, n_items=1002, n_cats=52):
    torch.manual_seed(0)
    model = DIN(n_items, n_cats)
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
