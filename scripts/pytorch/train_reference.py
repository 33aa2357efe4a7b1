#!/usr/bin/env python3
"""Trains the seed network in PyTorch the seed's way and saves its state_dict as safetensors.

    python3 scripts/pytorch/train_reference.py --epochs 1 --threads 1 --out /tmp/pytorch.safetensors

The seed's recipe: every training item gets one random integer 0..9 when the dataset is built (kept
across epochs); each epoch visits the 60,000 images in a fresh random order; the loss is
cross_entropy(logits, label) + mse(sum, label + integer), both means over the batch; Adam(lr=1e-3)
by default, or SGD(lr=0.01, momentum=0.9). Weights come from PyTorch's default init under
torch.manual_seed(seed), exactly as reference.py builds them.

After each epoch it prints a line like `mnist-adder train` (loss, training accuracies measured during
the epoch, test accuracies, seconds); at the end, the test accuracies over all 10,000 items:
classification (argmax == label) and addition (the predicted sum rounded to the nearest integer,
halves away from zero, == label + integer). Both divide by the number of items, not by
batches x batch size as the seed's test loop did. The test integers are drawn from the same seed,
so they differ from mnist-adder's (which come from SplitMix64 with a fixed test seed).

MNIST is read from the repo's gz files (Sources/MNISTData/Resources/mnist) with gzip + numpy.
"""
import argparse
import gzip
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seed_net  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MNIST = os.path.join(REPO, "Sources", "MNISTData", "Resources", "mnist")
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def read_idx(path):
    """An unsigned-byte IDX file (gzip) as a numpy uint8 array of its declared shape."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file (magic {data[:4].hex()})")
    ndim = data[3]
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    start = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(data) - start != expected:
        raise SystemExit(f"{path}: expected {expected} data bytes for shape {dims}, found {len(data) - start}")
    return np.frombuffer(data, dtype=np.uint8, offset=start).reshape(dims)


def load_split(split, limit=None):
    """(images [N,1,28,28] float32 normalized (x/255-0.1307)/0.3081, labels [N] int64) of a split."""
    image_file, label_file = FILES[split]
    images = read_idx(os.path.join(MNIST, image_file))
    labels = read_idx(os.path.join(MNIST, label_file))
    if images.shape[0] != labels.shape[0]:
        raise SystemExit(f"{split}: {images.shape[0]} images but {labels.shape[0]} labels")
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    # Same float32 operations, in the same order, as ToTensor() + Normalize((0.1307,), (0.3081,)).
    x = (torch.from_numpy(images.copy()).float().unsqueeze(1) / 255.0 - seed_net.MEAN) / seed_net.STD
    return x.contiguous(), torch.from_numpy(labels.astype(np.int64))


def rounded_sum(total):
    """The integer a predicted sum stands for: nearest, halves away from zero (as mnist-adder rounds)."""
    return (torch.sign(total) * torch.floor(total.abs() + 0.5)).long()


@torch.no_grad()
def predict(model, images, addends, batch_size=1000):
    """(logits [N,10], digits [N] int64, sums [N]) of the model on `images` with `addends`, in order."""
    model.eval()
    logits, sums = [], []
    for start in range(0, images.shape[0], batch_size):
        out, total = model(images[start:start + batch_size], addends[start:start + batch_size])
        logits.append(out)
        sums.append(total)
    logits = torch.cat(logits)
    return logits, logits.argmax(1), torch.cat(sums)


def accuracies(digits, sums, labels, addends):
    """(classification, addition) accuracy: fractions of all items, as mnist-adder counts them."""
    n = labels.shape[0]
    classification = (digits == labels).sum().item() / n
    addition = (rounded_sum(sums) == labels + addends).sum().item() / n
    return classification, addition


def percent(fraction):
    """A fraction as mnist-adder prints it: 98.50%."""
    return f"{fraction * 100:.2f}%"


def make_optimizer(name, parameters, lr):
    """Adam(lr=1e-3) or SGD(lr=0.01, momentum=0.9), with `lr` overriding the learning rate when given."""
    if name == "adam":
        return torch.optim.Adam(parameters, lr=1e-3 if lr is None else lr)
    return torch.optim.SGD(parameters, lr=0.01 if lr is None else lr, momentum=0.9)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, help="learning rate (default: 1e-3 for adam, 0.01 for sgd)")
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    parser.add_argument("--limit", type=int, help="train on the first LIMIT training images only")
    parser.add_argument("--seed", type=int, default=0, help="seeds the weights, the integers and the order")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--out", help="write the trained state_dict here (safetensors)")
    args = parser.parse_args()
    if args.epochs < 1:
        parser.error(f"--epochs: expected at least 1, found {args.epochs}")
    if args.batch_size < 1:
        parser.error(f"--batch-size: expected at least 1, found {args.batch_size}")
    if args.limit is not None and args.limit < 1:
        parser.error(f"--limit: expected at least 1, found {args.limit}")
    if args.threads < 1:
        parser.error(f"--threads: expected at least 1, found {args.threads}")
    torch.set_num_threads(args.threads)

    train_images, train_labels = load_split("train", args.limit)
    test_images, test_labels = load_split("test")
    torch.manual_seed(args.seed)
    model = seed_net.SeedNet()
    generator = torch.Generator().manual_seed(args.seed)
    train_addends = torch.randint(0, 10, (train_labels.shape[0],), generator=generator)
    test_addends = torch.randint(0, 10, (test_labels.shape[0],), generator=generator)
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr)
    lr = optimizer.param_groups[0]["lr"]

    n = train_labels.shape[0]
    print(f"Training on {n} images, testing on {test_labels.shape[0]}; {args.epochs} epochs, batch {args.batch_size}, "
          f"{args.optimizer} lr {lr}, seed {args.seed}, {args.threads} threads, PyTorch {torch.__version__}")
    print("epoch   loss    train class  train add   test class  test add   seconds")
    for epoch in range(1, args.epochs + 1):
        started = time.time()
        model.train()
        order = torch.randperm(n, generator=generator)
        loss_sum, digits_right, sums_right = 0.0, 0, 0
        for start in range(0, n, args.batch_size):
            index = order[start:start + args.batch_size]
            images, labels, addends = train_images[index], train_labels[index], train_addends[index]
            logits, total = model(images, addends)
            _, _, loss = seed_net.loss_terms(logits, total, labels, addends)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * index.shape[0]
            digits_right += (logits.argmax(1) == labels).sum().item()
            sums_right += (rounded_sum(total.detach()) == labels + addends).sum().item()
        _, digits, sums = predict(model, test_images, test_addends)
        test_class, test_add = accuracies(digits, sums, test_labels, test_addends)
        columns = [digits_right / n, sums_right / n, test_class, test_add]
        print(f"{epoch:3d}/{args.epochs:<3d} {loss_sum / n:7.4f}  "
              + "  ".join(percent(c).rjust(10) for c in columns)
              + f"  {time.time() - started:7.1f}", flush=True)

    print(f"\nTest set, {test_labels.shape[0]} images: classification accuracy {percent(test_class)}, "
          f"addition accuracy {percent(test_add)}")
    if args.out:
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, args.out)
        print(f"Wrote {args.out} ({len(model.state_dict())} tensors)")


if __name__ == "__main__":
    main()
