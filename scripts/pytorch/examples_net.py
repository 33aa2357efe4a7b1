"""The network of pytorch/examples mnist/main.py with the seed's adder, as mnist-adder's
`pytorch-examples` model (Sources/AdderNet/Networks/PyTorchExamples.swift) mirrors it.

The logits are fc2's output (main.py's log_softmax is part of the loss here: cross_entropy).
Module names are the state_dict keys of mnist-adder's checkpoints.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# Positions of the dropout layers in the Swift description's layer list (they seed the masks).
DROPOUT_LAYERS = {"dropout1": 5, "dropout2": 9}


class ExamplesNet(nn.Module):
    """conv1 → ReLU → conv2 → ReLU → max_pool2d(2) → dropout1 → flatten → fc1 → ReLU → dropout2 → fc2,
    and the adder input2 → layer1 → out2 on stack([argmax(logits), addend])."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)
        self.input2 = nn.Linear(2, 5)
        self.layer1 = nn.Linear(5, 5)
        self.out2 = nn.Linear(5, 1)

    def forward(self, images, addends, masks=None):
        """(logits [N,10], sum [N]). `masks`: {dropout name: multiplier tensor} to use instead of
        nn.Dropout's own draws (in training mode), so that a run is compared with mnist-adder's."""
        def dropout(name, x):
            if masks is not None and self.training:
                return x * masks[name]
            return getattr(self, name)(x)

        x = F.relu(self.conv1(images))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = dropout("dropout1", x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = dropout("dropout2", x)
        logits = self.fc2(x)
        digits = logits.argmax(1).float()
        total = self.out2(self.layer1(self.input2(torch.stack([digits, addends.float()], dim=1)))).squeeze(1)
        return logits, total


M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def _mix(z):
    """SplitMix64's output function on numpy uint64 arrays (wrapping arithmetic)."""
    z = (z + np.uint64(GOLDEN))
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def dropout_mask(p, seed, step, layer, image, count):
    """mnist-adder's dropout multipliers for one image (NNCore's dropoutMask): 0 with probability p,
    else 1/(1-p) in float32, from a SplitMix64 hash of (seed, layer, step, image, element)."""
    with np.errstate(over="ignore"):
        base = _mix(np.uint64((seed + layer) & M64))
        base = _mix(base + np.uint64(step & M64))
        base = _mix(base + np.uint64(image & M64))
        e = np.arange(count, dtype=np.uint64)
        draws = _mix(base + e * np.uint64(GOLDEN)) >> np.uint64(40)
    threshold = np.uint64(round(p * 16_777_216))
    keep = np.float32(1) / (np.float32(1) - np.float32(p))
    return torch.from_numpy(np.where(draws < threshold, np.float32(0), keep).astype(np.float32))


def masks_for(model, seed, step, batch):
    """{dropout name: (batch, *shape) multipliers} for one training step of mnist-adder."""
    shapes = {"dropout1": (64, 12, 12), "dropout2": (128,)}
    out = {}
    for name, layer in DROPOUT_LAYERS.items():
        p = getattr(model, name).p
        count = int(np.prod(shapes[name]))
        out[name] = torch.stack([dropout_mask(p, seed, step, layer, b, count).reshape(shapes[name]) for b in range(batch)])
    return out
