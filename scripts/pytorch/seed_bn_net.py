"""The seed network with BatchNorm2d after every convolution but conv6, as mnist-adder's `seed-bn`
model (Sources/AdderNet/Networks/SeedBN.swift) mirrors it: Conv2d(bias=False) → BatchNorm2d → ReLU,
each BatchNorm2d named after its convolution. Module names are the state_dict keys."""
import torch
import torch.nn as nn
import torch.nn.functional as F

CONVS = [("input1", 1, 16, 3), ("conv1", 16, 32, 3), ("conv2", 32, 64, 3), ("oneconv1", 64, 16, 1),
         ("conv3", 16, 32, 3), ("conv4", 32, 64, 3), ("conv5", 64, 64, 3)]


class SeedBNNet(nn.Module):
    """The seed's convolutions, each but conv6 followed by BatchNorm2d and ReLU; pool after conv2's."""

    def __init__(self):
        super().__init__()
        for name, c, o, k in CONVS:
            setattr(self, name, nn.Conv2d(c, o, k, bias=False))
            setattr(self, name + "_bn", nn.BatchNorm2d(o))
            if name == "conv2":
                self.pool = nn.MaxPool2d(2)
        self.conv6 = nn.Conv2d(64, 10, 5)
        self.input2 = nn.Linear(2, 5)
        self.layer1 = nn.Linear(5, 5)
        self.out2 = nn.Linear(5, 1)

    def forward(self, images, addends):
        """(logits [N,10], sum [N])."""
        x = images
        for name, _, _, _ in CONVS:
            x = F.relu(getattr(self, name + "_bn")(getattr(self, name)(x)))
            if name == "conv2":
                x = self.pool(x)
        logits = self.conv6(x).flatten(1)
        digits = logits.argmax(1).float()
        total = self.out2(self.layer1(self.input2(torch.stack([digits, addends.float()], dim=1)))).squeeze(1)
        return logits, total
