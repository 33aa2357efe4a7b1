#!/usr/bin/env python3
"""Loads a safetensors checkpoint (mnist-adder's or PyTorch's) into its PyTorch module and tests it.

    python3 scripts/pytorch/evaluate_checkpoint.py run/model.safetensors
    python3 scripts/pytorch/evaluate_checkpoint.py run/model.safetensors --json --predictions-out /tmp/p.safetensors
    python3 scripts/pytorch/evaluate_checkpoint.py run/model.safetensors --state-out /tmp/back.safetensors

The module is the one the file's `model` metadata names (mnist-adder writes its description there:
seed, pytorch-examples or seed-bn), else --model, else the seed network. The checkpoint must hold
exactly that module's state_dict (load_state_dict(strict=True): no missing or extra key, every shape
right), so a file written by `mnist-adder train` loading here is the proof that our checkpoints are
PyTorch checkpoints. --state-out writes the module's state_dict() back with safetensors.torch.save_file
and no metadata, as a PyTorch user would save it.

It runs the 10,000 MNIST test images (from the repo's gz files, normalized (x/255-0.1307)/0.3081)
in order, in batches of --batch-size, and prints the classification accuracy (argmax == label, over
all 10,000). The integer of test item i is i % 10 (not mnist-adder's test integers, which come from
SplitMix64), so the addition accuracy printed is for those integers.

--predictions-out FILE writes a safetensors file with, in test-set order:
  digits  I64 [N]     predicted digit (argmax of the logits; the first maximum on a tie)
  sums    F32 [N]     predicted sum for the integer addends[i]
  addends I64 [N]     the integers used, i % 10
  margins F32 [N]     top-1 minus top-2 logit (how close each prediction is to a tie)
  logits  F32 [N,10]  only with --with-logits
and metadata: accuracies, torch version, checkpoint name, and any --note KEY=VALUE.
"""
import argparse
import json
import os
import sys

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import examples_net  # noqa: E402
import seed_bn_net  # noqa: E402
import seed_net  # noqa: E402
from safetensors import safe_open  # noqa: E402
from train_reference import accuracies, load_split, predict  # noqa: E402

MODULES = {"seed": seed_net.SeedNet, "pytorch-examples": examples_net.ExamplesNet, "seed-bn": seed_bn_net.SeedBNNet}


def model_name(path, given):
    """The network the file's `model` metadata names, else `given`, else the seed."""
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata() or {}
    if "model" in metadata:
        try:
            return json.loads(metadata["model"])["name"]
        except (ValueError, KeyError, TypeError) as error:
            raise SystemExit(f"{path}: its 'model' metadata is not a model description ({error})")
    return given or "seed"


def load_model(path, given=None):
    """The checkpoint's network with its weights; exits with a one-line message on a bad file."""
    if not os.path.isfile(path):
        raise SystemExit(f"{path}: no such file")
    try:
        # A calibrated checkpoint (`mnist-adder calibrate`) also holds calibration.* tensors: not the network's.
        state = {k: v for k, v in load_file(path).items() if not k.startswith("calibration.")}
        name = model_name(path, given)
    except (SafetensorError, OSError, ValueError) as error:
        raise SystemExit(f"{path}: not a readable safetensors file ({error})")
    if name not in MODULES:
        raise SystemExit(f"{path}: model '{name}' is not one of {', '.join(sorted(MODULES))}")
    model = MODULES[name]()
    expected = model.state_dict()
    for key, tensor in state.items():
        if key in expected and tensor.dtype != expected[key].dtype:
            raise SystemExit(f"{path}: {key} has dtype {tensor.dtype}, expected {expected[key].dtype}")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        detail = " ".join(str(error).split())
        raise SystemExit(f"{path}: not a {name} state_dict: {detail}")
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("--model", choices=sorted(MODULES), help="the network, for a file without 'model' metadata")
    parser.add_argument("--state-out", metavar="FILE", help="write the loaded module's state_dict() here (save_file)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--predictions-out", metavar="FILE", help="write digits, sums, addends, margins here")
    parser.add_argument("--with-logits", action="store_true", help="also write the logits to --predictions-out")
    parser.add_argument("--note", action="append", default=[], metavar="KEY=VALUE",
                        help="extra metadata for --predictions-out (repeatable)")
    args = parser.parse_args()
    if args.batch_size < 1:
        parser.error(f"--batch-size: expected at least 1, found {args.batch_size}")
    if args.threads < 1:
        parser.error(f"--threads: expected at least 1, found {args.threads}")
    notes = {}
    for note in args.note:
        key, sep, value = note.partition("=")
        if not sep or not key:
            parser.error(f"--note: expected KEY=VALUE, found {note!r}")
        notes[key] = value
    torch.set_num_threads(args.threads)

    model = load_model(args.checkpoint, args.model)
    model.eval()
    if args.state_out:
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, args.state_out)
    images, labels = load_split("test")
    addends = torch.arange(labels.shape[0], dtype=torch.int64) % 10
    logits, digits, sums = predict(model, images, addends, args.batch_size)
    classification, addition = accuracies(digits, sums, labels, addends)
    top2 = logits.topk(2, dim=1).values
    margins = (top2[:, 0] - top2[:, 1]).contiguous()
    result = {
        "checkpoint": args.checkpoint,
        "count": labels.shape[0],
        "classificationAccuracy": classification,
        "additionAccuracyWithIntegersIMod10": addition,
        "torch": torch.__version__,
    }

    if args.predictions_out:
        tensors = {"digits": digits.contiguous(), "sums": sums.contiguous(), "addends": addends, "margins": margins}
        if args.with_logits:
            tensors["logits"] = logits.contiguous()
        metadata = {
            "generator": f"PyTorch {torch.__version__}",
            "checkpoint": os.path.basename(args.checkpoint),
            "classification_accuracy": repr(classification),
            "addition_accuracy_i_mod_10": repr(addition),
            "addends": "i % 10 for test item i",
            "normalization": "(x/255-0.1307)/0.3081",
            **notes,
        }
        save_file(tensors, args.predictions_out, metadata=metadata)
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return
    print(f"PyTorch {torch.__version__}: loaded {args.checkpoint} with load_state_dict(strict=True)")
    print(f"Test set, {labels.shape[0]} images: classification accuracy {classification * 100:.2f}%, "
          f"addition accuracy {addition * 100:.2f}% (integers i % 10)")
    close = (margins < 1e-4).sum().item()
    print(f"Predictions with a top-2 logit gap under 1e-4: {close}")
    if args.predictions_out:
        print(f"Wrote {args.predictions_out}")


if __name__ == "__main__":
    main()
