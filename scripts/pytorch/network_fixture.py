#!/usr/bin/env python3
"""Writes (or checks) the PyTorch parity fixture of the `pytorch-examples` and `seed-bn` networks.

    python3 scripts/pytorch/network_fixture.py --model pytorch-examples --out Tests/Fixtures/parity-pytorch-examples.safetensors
    python3 scripts/pytorch/network_fixture.py --model seed-bn --check Tests/Fixtures/parity-seed-bn.safetensors

Recipe: torch.manual_seed(seed); model = the network's module (examples_net.ExamplesNet,
seed_bn_net.SeedBNNet); addends = torch.randint(0, 10, (batch,)); images = the first `batch` t10k
images normalized. One training-mode forward (dropout with mnist-adder's masks for (seed, step 0),
BatchNorm2d with the batch's statistics), loss = cross_entropy + mse, backward, one Adam(lr=1e-3)
step. Keys: param.<name> (initial state_dict, buffers included), x.images / x.addends / x.labels,
y.logits / y.sum / y.loss_ce / y.loss_mse / y.loss, grad.<name>, adam1.<name>, after.<buffer>
(running statistics after the step), eval.logits / eval.sum (evaluation mode after the step).
"""
import argparse
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import examples_net  # noqa: E402
import reference  # noqa: E402
import seed_bn_net  # noqa: E402
import seed_net  # noqa: E402

MODELS = {"pytorch-examples": examples_net.ExamplesNet, "seed-bn": seed_bn_net.SeedBNNet}


def make_fixture(name, seed, batch):
    torch.manual_seed(seed)
    model = MODELS[name]()
    addends = torch.randint(0, 10, (batch,))
    images, labels = reference.test_batch(batch)
    out = {"param." + k: v.detach().clone() for k, v in model.state_dict().items()}
    out["x.images"], out["x.addends"], out["x.labels"] = images, addends, labels
    model.train()
    if name == "pytorch-examples":
        logits, total = model(images, addends, masks=examples_net.masks_for(model, seed, 0, batch))
    else:
        logits, total = model(images, addends)
    ce, mse, loss = seed_net.loss_terms(logits, total, labels, addends)
    out["y.logits"], out["y.sum"] = logits.detach().clone(), total.detach().clone()
    out["y.loss_ce"], out["y.loss_mse"], out["y.loss"] = ce.detach(), mse.detach(), loss.detach()
    model.zero_grad()
    loss.backward()
    for n, p in model.named_parameters():
        out["grad." + n] = p.grad.detach().clone()
    for n, b in model.named_buffers():
        out["after." + n] = b.detach().clone()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    optimizer.step()
    for n, p in model.named_parameters():
        out["adam1." + n] = p.detach().clone()
    model.eval()
    with torch.no_grad():
        logits, total = model(images, addends)
    out["eval.logits"], out["eval.sum"] = logits.clone(), total.clone()
    metadata = {
        "generator": f"PyTorch {torch.__version__}", "model": name, "seed": str(seed),
        "test_images": f"t10k[0:{batch}]", "dropout": "mnist-adder masks for (seed, step 0)",
        "adam": "lr=1e-3 betas=(0.9,0.999) eps=1e-8",
    }
    return {k: v.contiguous() for k, v in out.items()}, metadata


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(MODELS), required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--out", help="write the fixture here")
    parser.add_argument("--check", metavar="FILE", help="compare a regenerated fixture with FILE")
    args = parser.parse_args()
    if not args.out and not args.check:
        parser.error("give --out FILE and/or --check FILE")
    torch.use_deterministic_algorithms(True)
    made, metadata = make_fixture(args.model, args.seed, args.batch)
    if args.out:
        save_file(made, args.out, metadata=metadata)
        print(f"wrote {len(made)} tensors to {args.out}")
    if args.check:
        sys.exit(0 if reference.check(made, args.check) else 1)


if __name__ == "__main__":
    main()
