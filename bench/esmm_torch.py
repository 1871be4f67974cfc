"""PyTorch twin of tinyrec's ESMM (Ma et al., SIGIR 2018), for bench/multitask_parity.py.

Written from the paper: a CTR network and a CVR network (MLPs 200-80 with ReLU, then one output)
over one shared input layer (the numeric features, then one embedding per categorical column);
pCTCVR = pCTR * pCVR (eq. 1); the loss is the binary cross-entropy of pCTR against clicks plus that
of the product against click-and-convert, over every impression (eq. 3). The product and its loss
are computed as the paper writes them, on probabilities (tinyrec computes the same through a
closed-form logit of the product). The module tree has tinyrec's dotted names (ctr.mlp.layers.0,
cvr.mlp.layers.0, input.embeddings.0).
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mmoe_torch import Input, Tower, input_shape  # noqa: E402
from torch_loader import load_tinyrec, read_config  # noqa: E402


class ESMM(torch.nn.Module):
    def __init__(self, n_numeric, vocab_sizes=(), embedding_dim=18, tower=(200, 80)):
        super().__init__()
        width = n_numeric + len(vocab_sizes) * embedding_dim
        self.input = Input(vocab_sizes, embedding_dim)
        self.ctr = Tower(width, tower)
        self.cvr = Tower(width, tower)

    def forward(self, x, cat=None):
        """pCTR and pCVR."""
        h = self.input(x, cat)
        return torch.sigmoid(self.ctr(h)), torch.sigmoid(self.cvr(h))

    def loss(self, x, cat, y):
        """eq. 3: l(y, pCTR) + l(y & z, pCTR * pCVR); y = [click, click and conversion]."""
        p_ctr, p_cvr = self(x, cat)
        return [F.binary_cross_entropy(p_ctr, y[:, 0]),
                F.binary_cross_entropy(p_ctr * p_cvr, y[:, 1])]


def from_checkpoint(checkpoint, dtype=torch.float32):
    """The twin of a tinyrec esmm checkpoint, its weights loaded."""
    o = read_config(checkpoint)["model_options"]
    n, vocab = input_shape(checkpoint, "ctr.mlp.layers.0.weight")
    model = ESMM(n, vocab, o["embedding_dim"], o["esmm_tower"])
    return load_tinyrec(model.to(dtype), checkpoint)
