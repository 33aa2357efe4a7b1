#!/usr/bin/env python3
"""Writes (or checks) the seed network's PyTorch parity fixture.

    python3 scripts/pytorch/reference.py --seed 0 --batch 8 --out /tmp/parity.safetensors
    python3 scripts/pytorch/reference.py --seed 0 --batch 8 --check Tests/Fixtures/parity-seed0.safetensors

Recipe (matches Tests/Fixtures/parity-seed0.safetensors for seed 0, batch 8):
  torch.manual_seed(seed); model = SeedNet(); addends = torch.randint(0, 10, (batch,))
  images = the first `batch` t10k test images, normalized (x/255 - 0.1307) / 0.3081
  loss = cross_entropy(mean) + mse(mean) of the predicted sum against label + addend
  grad.* = d loss / d param; adam1.* = one Adam(lr=1e-3) step; sgd1.* = one SGD(lr=0.01, momentum=0.9) step
Keys are described in Tests/Fixtures/README.md.
"""
import argparse
import gzip
import os
import struct
import sys

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seed_net  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MNIST = os.path.join(REPO, "Sources", "MNISTData", "Resources", "mnist")
ACTIVATIONS = ["input1", "conv1", "conv2", "pool", "oneconv1", "conv3", "conv4", "conv5", "conv6"]


def read_idx(path, count):
    """The first `count` items of an IDX (ubyte) file, as a uint8 tensor of shape [count, *dims]."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    if count > dims[0]:
        raise SystemExit(f"{path}: asked for {count} items, file has {dims[0]}")
    item = 1
    for d in dims[1:]:
        item *= d
    start = 4 + 4 * ndim
    raw = torch.frombuffer(bytearray(data[start:start + count * item]), dtype=torch.uint8)
    return raw.reshape(count, *dims[1:])


def test_batch(batch):
    """(images [B,1,28,28] normalized, labels [B] int64) from the start of the t10k set."""
    images = read_idx(os.path.join(MNIST, "t10k-images-idx3-ubyte.gz"), batch)
    labels = read_idx(os.path.join(MNIST, "t10k-labels-idx1-ubyte.gz"), batch)
    x = (images.float().unsqueeze(1) / 255.0 - seed_net.MEAN) / seed_net.STD
    return x.contiguous(), labels.long()


def make_fixture(seed, batch):
    """All fixture tensors and the metadata for one seed and batch size."""
    torch.manual_seed(seed)
    model = seed_net.SeedNet()
    addends = torch.randint(0, 10, (batch,))
    images, labels = test_batch(batch)

    out = {}
    for name, p in model.state_dict().items():
        out["param." + name] = p.detach().clone()
    out["x.images"] = images
    out["x.addends"] = addends
    out["x.labels"] = labels

    acts = {}
    logits, total = model(images, addends, acts)
    ce, mse, loss = seed_net.loss_terms(logits, total, labels, addends)
    for name in ACTIVATIONS:
        out["act." + name] = acts[name].detach().clone()
    out["y.logits"] = logits.detach().clone()
    out["y.sum"] = total.detach().clone()
    out["y.loss_ce"] = ce.detach().clone()
    out["y.loss_mse"] = mse.detach().clone()
    out["y.loss"] = loss.detach().clone()
    model.zero_grad()
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    for name, g in grads.items():
        out["grad." + name] = g

    for prefix, make in [
        ("adam1.", lambda ps: torch.optim.Adam(ps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)),
        ("sgd1.", lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9)),
    ]:
        params = {n: out["param." + n].clone().requires_grad_(True) for n in grads}
        opt = make(list(params.values()))
        for n, p in params.items():
            p.grad = grads[n].clone()
        opt.step()
        for n, p in params.items():
            out[prefix + n] = p.detach().clone()

    metadata = {
        "generator": f"PyTorch {torch.__version__}",
        "test_images": f"t10k[0:{batch}]",
        "normalization": "(x/255-0.1307)/0.3081",
        "loss": "cross_entropy(mean) + mse(mean)",
        "adam": "lr=1e-3 betas=(0.9,0.999) eps=1e-8",
        "sgd": "lr=0.01 momentum=0.9",
        "seed": str(seed),
        "addends": "torch.randint(0, 10, (batch,)) right after constructing the model",
    }
    return {k: v.contiguous() for k, v in out.items()}, metadata


def check(made, path):
    """Compares every key of `made` with the file; prints the max |diff| per key. True when all agree."""
    given = load_file(path)
    ok = True
    for key in sorted(set(made) | set(given)):
        if key not in given or key not in made:
            print(f"{key:28s} MISSING in {'file' if key not in given else 'regenerated'}")
            ok = False
            continue
        a, b = made[key], given[key]
        if a.shape != b.shape or a.dtype != b.dtype:
            print(f"{key:28s} MISMATCH shape/dtype {tuple(a.shape)} {a.dtype} vs {tuple(b.shape)} {b.dtype}")
            ok = False
            continue
        diff = (a.double() - b.double()).abs().max().item() if a.numel() else 0.0
        scale = b.double().abs().max().item() if b.numel() else 0.0
        good = diff <= 1e-5 + 1e-4 * scale
        ok = ok and good
        print(f"{key:28s} {str(tuple(a.shape)):18s} max|diff| {diff:.3e}{'' if good else '  FAIL'}")
    print("check: " + ("all keys agree" if ok else "MISMATCH") + f" ({len(given)} keys in {path})")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--out", help="write the fixture here")
    parser.add_argument("--check", metavar="FILE", help="compare a regenerated fixture with FILE")
    args = parser.parse_args()
    if not args.out and not args.check:
        parser.error("give --out FILE and/or --check FILE")
    torch.use_deterministic_algorithms(True)
    made, metadata = make_fixture(args.seed, args.batch)
    if args.out:
        save_file(made, args.out, metadata=metadata)
        print(f"wrote {len(made)} tensors to {args.out}")
    if args.check:
        sys.exit(0 if check(made, args.check) else 1)


if __name__ == "__main__":
    main()
