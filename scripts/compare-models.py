#!/usr/bin/env python3
"""Compares the tensors of two mnist-adder checkpoints (metadata such as timings may differ).

Usage: compare-models.py A.safetensors B.safetensors
Prints, per tensor, whether it is bit for bit equal and else the largest absolute difference;
exits 0 when every tensor is bit-identical, 1 otherwise. Needs numpy and safetensors.
"""
import sys

import numpy as np
from safetensors.numpy import load_file

a, b = load_file(sys.argv[1]), load_file(sys.argv[2])
if set(a) != set(b):
    print("different tensors:", sorted(set(a) ^ set(b)))
    sys.exit(1)
identical = True
for name in sorted(a):
    x, y = a[name], b[name]
    if x.shape != y.shape:
        print(f"{name}: shapes {x.shape} and {y.shape}")
        identical = False
    elif x.tobytes() == y.tobytes():
        print(f"{name}: identical")
    else:
        identical = False
        diff = np.max(np.abs(x.astype(np.float64) - y.astype(np.float64)))
        print(f"{name}: differs, largest absolute difference {diff:.3g}")
print("all tensors bit for bit identical" if identical else "the models differ")
sys.exit(0 if identical else 1)
