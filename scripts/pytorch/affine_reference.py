#!/usr/bin/env python3
"""Writes Tests/Fixtures/affine-reference.safetensors: affine warps of MNIST digits by PyTorch.

    python3 scripts/pytorch/affine_reference.py --out Tests/Fixtures/affine-reference.safetensors

The reference for `train --augment` (Sources/MNISTData/Augmentation.swift). For each case k, the t10k image
`index[k]` (bytes 0..255 as float32) is warped with the parameters `params[k]` = (angle, translate x,
translate y, scale, shear x, shear y) in torchvision's convention (degrees, pixels, clockwise on screen):

  matrix[k]  the inverse map [a, b, c, d, e, f] (output point relative to the image centre -> input point),
             computed as torchvision.transforms.functional._get_inverse_affine_matrix(center=[0, 0], ...)
             does on the tensor path of `affine` (copied below: torchvision is not installed here);
  output[k]  torch.nn.functional.grid_sample(image, affine_grid(theta, align_corners=False), mode="bilinear",
             padding_mode="zeros", align_corners=False), theta = the matrix with its translation column divided
             by the half-size 14 (for a square image this is torchvision's _gen_affine_grid grid exactly).

Keys: index (int64 [K]), params (float32 [K, 6]), matrix (float32 [K, 6]), output (float32 [K, 28, 28]).
"""
import argparse
import gzip
import math
import os
import struct

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
IMAGES = os.path.join(REPO, "Sources", "MNISTData", "Resources", "mnist", "t10k-images-idx3-ubyte.gz")

# (t10k index, angle, tx, ty, scale, shear x, shear y)
CASES = [
    (0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0),        # identity
    (1, 90.0, 0.0, 0.0, 1.0, 0.0, 0.0),       # a quarter turn: a permutation of the pixels
    (2, 12.5, 1.75, -2.25, 1.08, -9.0, 0.0),  # the kind of draw --augment makes
    (3, -7.0, -2.0, 1.5, 0.9, 6.5, 3.0),      # with a vertical shear too
    (4, 0.0, 9.3, -11.6, 1.0, 0.0, 0.0),      # shifted partly out of the frame (zeros come in)
    (5, 33.0, 0.4, 0.6, 1.6, 20.0, -12.0),    # large everything
]


def inverse_affine_matrix(angle, translate, scale, shear):
    """torchvision.transforms.functional._get_inverse_affine_matrix with center (0, 0), inverted=True."""
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    matrix = [d, -b, 0.0, -c, a, 0.0]
    matrix = [x / scale for x in matrix]
    matrix[2] += matrix[0] * (-tx) + matrix[1] * (-ty)
    matrix[5] += matrix[3] * (-tx) + matrix[4] * (-ty)
    return matrix


def read_images(count):
    with gzip.open(IMAGES, "rb") as f:
        data = f.read()
    _, _, ndim = struct.unpack(">HBB", data[:4])
    start = 4 + 4 * ndim
    raw = torch.frombuffer(bytearray(data[start:start + count * 784]), dtype=torch.uint8)
    return raw.reshape(count, 28, 28).float()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    images = read_images(max(c[0] for c in CASES) + 1)
    outputs, matrices = [], []
    for index, angle, tx, ty, scale, shx, shy in CASES:
        matrix = inverse_affine_matrix(angle, (tx, ty), scale, (shx, shy))
        matrices.append(matrix)
        theta = torch.tensor(matrix, dtype=torch.float32).reshape(1, 2, 3)
        theta[:, :, 2] /= 14.0
        grid = F.affine_grid(theta, [1, 1, 28, 28], align_corners=False)
        out = F.grid_sample(images[index].reshape(1, 1, 28, 28), grid, mode="bilinear", padding_mode="zeros",
                            align_corners=False)
        outputs.append(out.reshape(28, 28))
    tensors = {
        "index": torch.tensor([c[0] for c in CASES], dtype=torch.int64),
        "params": torch.tensor([c[1:] for c in CASES], dtype=torch.float32),
        "matrix": torch.tensor(matrices, dtype=torch.float32),
        "output": torch.stack(outputs).contiguous(),
    }
    save_file(tensors, args.out, metadata={"torch": torch.__version__})
    print(f"wrote {args.out}: {len(CASES)} cases")


if __name__ == "__main__":
    main()
