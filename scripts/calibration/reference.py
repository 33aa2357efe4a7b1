#!/usr/bin/env python3
"""Reference figures for AdderInference's calibration, on logits and labels the Swift test writes.

Reads a safetensors file with `logits` (N, 10) float32 and `labels` (N,) float32, prints JSON:
  temperature  scipy.optimize.minimize_scalar of the mean NLL over T in (0.05, 20), method "bounded"
  nll_before   torch.nn.functional.cross_entropy(logits, labels) in float64
  nll_after    the same at logits / temperature
  ece_before   expected calibration error, 15 equal-width bins (lower, upper], of softmax(logits)
  ece_after    the same of softmax(logits / temperature)
Usage: reference.py FILE
"""
import json
import sys

import numpy as np
import torch
from safetensors.torch import load_file
from scipy.optimize import minimize_scalar


def ece(probabilities, labels, bins=15):
    confidences, predictions = probabilities.max(dim=1)
    accuracies = predictions.eq(labels)
    boundaries = torch.linspace(0, 1, bins + 1, dtype=torch.float64)
    total = torch.zeros((), dtype=torch.float64)
    for lower, upper in zip(boundaries[:-1], boundaries[1:]):
        in_bin = confidences.gt(lower) & confidences.le(upper)
        if lower == 0:
            in_bin |= confidences.eq(0)
        share = in_bin.double().mean()
        if share > 0:
            total += torch.abs(confidences[in_bin].mean() - accuracies[in_bin].double().mean()) * share
    return float(total)


def main():
    tensors = load_file(sys.argv[1])
    logits = tensors["logits"].double()
    labels = tensors["labels"].long()
    nll = lambda t: float(torch.nn.functional.cross_entropy(logits / t, labels))
    fitted = minimize_scalar(nll, bounds=(0.05, 20), method="bounded", options={"xatol": 1e-10})
    t = float(fitted.x)
    # ECE on float32 probabilities, as the Swift side computes them.
    before = torch.softmax(tensors["logits"], dim=1).double()
    after = torch.softmax(tensors["logits"] / np.float32(t), dim=1).double()
    print(json.dumps({
        "temperature": t, "nll_before": nll(1.0), "nll_after": nll(t),
        "ece_before": ece(before, labels), "ece_after": ece(after, labels),
    }))


if __name__ == "__main__":
    main()
