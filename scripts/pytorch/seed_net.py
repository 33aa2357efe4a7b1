"""The seed network of mnist-adder, exactly as the Swift AdderNet mirrors it.

Two inputs (a 1x28x28 image and an integer addend), two outputs (10 digit logits and the
predicted sum). Module names are the PyTorch state_dict keys the Swift checkpoints use.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

PARAMETER_NAMES = [
    "input1.weight", "input1.bias",
    "conv1.weight", "conv1.bias",
    "conv2.weight", "conv2.bias",
    "oneconv1.weight", "oneconv1.bias",
    "conv3.weight", "conv3.bias",
    "conv4.weight", "conv4.bias",
    "conv5.weight", "conv5.bias",
    "conv6.weight", "conv6.bias",
    "input2.weight", "input2.bias",
    "layer1.weight", "layer1.bias",
    "out2.weight", "out2.bias",
]

MEAN = 0.1307
STD = 0.3081


class SeedNet(nn.Module):
    """Digit classifier (conv stack, no linear layer) plus a tiny adder MLP on (argmax digit, addend).

    ReLU after every convolution except conv6; max-pool 2x2 after ReLU(conv2). The adder's input is
    stack([argmax(logits).float(), addend.float()], dim=1), so no gradient flows from the sum into
    the convolutions. Modules are constructed in this order, which fixes the default init under
    torch.manual_seed.
    """

    def __init__(self):
        super().__init__()
        self.input1 = nn.Conv2d(1, 16, 3)
        self.conv1 = nn.Conv2d(16, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.pool = nn.MaxPool2d(2)
        self.oneconv1 = nn.Conv2d(64, 16, 1)
        self.conv3 = nn.Conv2d(16, 32, 3)
        self.conv4 = nn.Conv2d(32, 64, 3)
        self.conv5 = nn.Conv2d(64, 64, 3)
        self.conv6 = nn.Conv2d(64, 10, 5)
        self.input2 = nn.Linear(2, 5)
        self.layer1 = nn.Linear(5, 5)
        self.out2 = nn.Linear(5, 1)

    def forward(self, images, addends, activations=None):
        """Returns (logits [N,10], sum [N]); fills `activations` (dict) with each module's output before ReLU."""
        def record(name, value):
            if activations is not None:
                activations[name] = value
            return value

        x = F.relu(record("input1", self.input1(images)))
        x = F.relu(record("conv1", self.conv1(x)))
        x = F.relu(record("conv2", self.conv2(x)))
        x = record("pool", self.pool(x))
        x = F.relu(record("oneconv1", self.oneconv1(x)))
        x = F.relu(record("conv3", self.conv3(x)))
        x = F.relu(record("conv4", self.conv4(x)))
        x = F.relu(record("conv5", self.conv5(x)))
        x = record("conv6", self.conv6(x))
        logits = x.flatten(1)
        digits = logits.argmax(1).float()
        adder_input = torch.stack([digits, addends.float()], dim=1)
        total = self.out2(self.layer1(self.input2(adder_input))).squeeze(1)
        return logits, total


def loss_terms(logits, total, labels, addends):
    """(cross-entropy mean, mse mean against label + addend, their sum), as the seed trains on."""
    ce = F.cross_entropy(logits, labels)
    mse = F.mse_loss(total, (labels + addends).float())
    return ce, mse, ce + mse
