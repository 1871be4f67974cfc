"""PyTorch twin of tinyrec's PLE (Tang et al., RecSys 2020), for bench/multitask_parity.py.

Written from the paper and tinyrec's documented choices (models/ple.hpp): per extraction level,
m_k experts of each task's own and m_s shared experts, each one ReLU layer; task k's gate (Customized
Gate Control) mixes its own and the shared experts, S^k = [E_(k,1..m_k), E_(s,1..m_s)], from that
task's input to the level; below the last level a shared gate mixes every expert of the level (each
task's, then the shared ones) from the shared input, for the next level's shared experts; level 1
reads x everywhere. Towers as MMoE's. The module tree has tinyrec's dotted names
(levels.0.experts.0.linear, levels.0.shared_experts.linear, levels.0.gates.0.linear,
levels.0.shared_gate.linear, towers.0.mlp.layers.0, input.embeddings.0).
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mmoe_torch import Experts, Gate, Input, Tower, input_shape, mix, tasks_of  # noqa: E402
from torch_loader import load_tinyrec, read_config  # noqa: E402

nn = torch.nn


class ExtractionLevel(nn.Module):
    def __init__(self, width, tasks, specific, shared, units, shared_gate):
        super().__init__()
        self.experts = nn.ModuleList(Experts(width, specific, units) for _ in range(tasks))
        self.shared_experts = Experts(width, shared, units)
        self.gates = nn.ModuleList(Gate(width, specific + shared) for _ in range(tasks))
        self.shared_gate = Gate(width, tasks * specific + shared) if shared_gate else None

    def forward(self, task_in, shared_in):
        """g^{k,j} per task (and g^{s,j} below the last level) from g^{k,j-1} and g^{s,j-1}."""
        e_s = self.shared_experts(shared_in)
        own = [experts(x) for experts, x in zip(self.experts, task_in)]
        out = [mix(gate(x), torch.cat([e_k, e_s], 1))
               for gate, x, e_k in zip(self.gates, task_in, own)]
        if self.shared_gate is not None:
            out.append(mix(self.shared_gate(shared_in), torch.cat(own + [e_s], 1)))
        return out


class PLE(nn.Module):
    def __init__(self, n_numeric, vocab_sizes=(), embedding_dim=18, specific=2, shared=4, levels=2,
                 expert_units=16, tower=(8,), tasks=2):
        super().__init__()
        width = n_numeric + len(vocab_sizes) * embedding_dim
        self.input = Input(vocab_sizes, embedding_dim)
        self.levels = nn.ModuleList(
            ExtractionLevel(width if j == 0 else expert_units, tasks, specific, shared,
                            expert_units, j + 1 < levels) for j in range(levels))
        self.towers = nn.ModuleList(Tower(expert_units, tower) for _ in range(tasks))

    def forward(self, x, cat=None):
        x = self.input(x, cat)
        g, g_s = [x] * len(self.towers), x
        for level in self.levels:
            out = level(g, g_s)
            g, g_s = out[:len(self.towers)], out[-1]
        return [tower(g_k) for tower, g_k in zip(self.towers, g)]


def from_checkpoint(checkpoint, dtype=torch.float32):
    """The twin of a tinyrec ple checkpoint, its weights loaded."""
    config = read_config(checkpoint)
    o = config["model_options"]
    n, vocab = input_shape(checkpoint, "levels.0.shared_experts.linear.weight")
    model = PLE(n, vocab, o["embedding_dim"], o["ple_specific"], o["ple_shared"], o["ple_levels"],
                o["expert_units"], o["tower"], len(tasks_of(config)[0]))
    model.tasks = tasks_of(config)  # names, and which outputs are logits
    return load_tinyrec(model.to(dtype), checkpoint)
