#!/usr/bin/env python3
"""Reference class statistics for AdderInference's "not a digit" distance, on features the Swift test writes.

Reads a safetensors file with `features` (N, F) float32 and `labels` (N,) float32 (classes 0-9, every
class with more than F images), prints JSON:
  means       (10, F) class means, numpy float64
  precisions  (10, F, F) numpy.linalg.inv of numpy.cov(class features, rowvar=False, bias=True)
              + ridge * trace / F * identity, ridge from argv[2]
Usage: feature_reference.py FILE RIDGE
"""
import json
import sys

import numpy as np
from safetensors.numpy import load_file


def main():
    tensors = load_file(sys.argv[1])
    ridge = float(sys.argv[2])
    features = tensors["features"].astype(np.float64)
    labels = tensors["labels"].astype(np.int64)
    means, precisions = [], []
    for c in range(10):
        x = features[labels == c]
        covariance = np.atleast_2d(np.cov(x, rowvar=False, bias=True))
        covariance += ridge * np.trace(covariance) / len(covariance) * np.eye(len(covariance))
        means.append(x.mean(axis=0).tolist())
        precisions.append(np.linalg.inv(covariance).tolist())
    print(json.dumps({"means": means, "precisions": precisions}))


if __name__ == "__main__":
    main()
