"""Loads a tinyrec checkpoint into a PyTorch module whose module tree mirrors tinyrec's.

A tinyrec checkpoint is a folder: one `.npy` file per parameter or buffer, named by its dotted path
in the model ("embedding.item.weight.npy", "towers.0.mlp.layers.2.bias.npy", ...), a
`manifest.json` listing them with their shapes and dtype, and `config.json`, the run's whole
configuration (model, model_options, data options, seeds). A twin that names its submodules as
tinyrec does has the same dotted names, with two differences of convention:

  - nn.Linear stores its weight [out, in]; tinyrec's Linear computes x·W with W [in, out], so the
    array is transposed;
  - nn.PReLU calls its slope "weight"; tinyrec's PReLU calls it "alpha".

Everything else (embedding tables, biases, running statistics) loads as it is. Every name must
match both ways, so a twin that is not the same model fails loudly instead of half loading.
"""
import json
import os

import numpy as np
import torch


def tinyrec_names(model):
    """The twin's state_dict names -> (tinyrec's name, transpose?)."""
    names = {}
    for prefix, module in model.named_modules():
        dot = prefix + "." if prefix else ""
        for name, _ in list(module.named_parameters(recurse=False)) + \
                list(module.named_buffers(recurse=False)):
            theirs = "alpha" if isinstance(module, torch.nn.PReLU) and name == "weight" else name
            names[dot + name] = (dot + theirs,
                                 isinstance(module, torch.nn.Linear) and name == "weight")
    return names


def load_tinyrec(model, checkpoint):
    """Copies CHECKPOINT's arrays into `model`, in the model's dtype. Returns the model."""
    names = tinyrec_names(model)
    files = {f[:-4] for f in os.listdir(checkpoint) if f.endswith(".npy")}
    wanted = {theirs for theirs, _ in names.values()}
    if files != wanted:
        raise ValueError(f"{checkpoint}: only in the checkpoint {sorted(files - wanted)}, "
                         f"only in the twin {sorted(wanted - files)}")
    state = model.state_dict()
    for ours, (theirs, transpose) in names.items():
        value = torch.from_numpy(np.load(os.path.join(checkpoint, theirs + ".npy")))
        if transpose:
            value = value.t()
        if value.shape != state[ours].shape:
            raise ValueError(f"{theirs}: checkpoint {tuple(value.shape)}, twin "
                             f"{tuple(state[ours].shape)}")
        state[ours] = value.to(state[ours].dtype).contiguous()
    model.load_state_dict(state)
    return model


def read_config(checkpoint):
    """The run configuration tinyrec wrote beside the weights (config.json)."""
    with open(os.path.join(checkpoint, "config.json")) as f:
        return json.load(f)
