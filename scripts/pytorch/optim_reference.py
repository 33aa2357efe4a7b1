#!/usr/bin/env python3
"""Writes Tests/Fixtures/optim-reference.safetensors: optimizer trajectories and schedule sequences.

    python3 scripts/pytorch/optim_reference.py --out Tests/Fixtures/optim-reference.safetensors

Two small parameters p0 (3, 4) and p1 (5,) start from `init.p<i>`; step k (1-based) applies the
given gradient `grad.<k>.p<i>` (gradients do not depend on the parameters, which is all an
optimizer sees). After each step the parameters are stored as `<case>.<k>.p<i>`.

Optimizer cases (STEPS steps each; hyperparameters repeated in the file's __metadata__):
  adam        Adam(lr=1e-2, betas=(0.9, 0.999), eps=1e-8)
  adam_wd     Adam(lr=1e-2, weight_decay=0.1)                 L2 added to the gradient
  adamw       AdamW(lr=1e-2, weight_decay=0.1)                 decoupled weight decay
  adam_groups Adam([{p0, lr=1e-2}, {p1, lr=3e-3, weight_decay=0.05}], betas=(0.8, 0.99), eps=1e-6)
  sgd         SGD(lr=0.05, momentum=0.9)
  sgd_nesterov SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)
  sgd_damp    SGD(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.02)
  sgd_plain   SGD(lr=0.05)
  adam_onecycle Adam(lr=1e-2) driven by OneCycleLR(max_lr=1e-2, total_steps=STEPS) (lr and beta1)
  sgd_steplr  SGD(lr=0.1, momentum=0.9) driven by StepLR(step_size=2, gamma=0.5)

Schedule sequences over SCHEDULE_STEPS optimizer steps (value used by step 0, 1, ...):
  sched.<name>.lr, sched.<name>.momentum  (float32, shape (SCHEDULE_STEPS,))
  onecycle_cos     OneCycleLR(Adam, max_lr=0.1, total_steps=50)                    momentum = beta1
  onecycle_linear  OneCycleLR(Adam, max_lr=0.1, total_steps=50, anneal_strategy='linear', pct_start=0.25)
  onecycle_3phase  OneCycleLR(SGD(momentum=0.9), max_lr=0.1, total_steps=50, three_phase=True,
                   div_factor=10, final_div_factor=100, base_momentum=0.8, max_momentum=0.9)
  steplr           StepLR(SGD(lr=0.1), step_size=7, gamma=0.5)                       lr only
"""
import argparse

import torch
from safetensors.torch import save_file

STEPS = 6
SCHEDULE_STEPS = 50
SHAPES = [(3, 4), (5,)]


def run(case_name, make_optimizer, make_scheduler, init, grads, out):
    params = [p.clone().requires_grad_(True) for p in init]
    opt = make_optimizer(params)
    sched = make_scheduler(opt) if make_scheduler else None
    for k in range(1, STEPS + 1):
        for i, p in enumerate(params):
            p.grad = grads[k][i].clone()
        opt.step()
        if sched:
            sched.step()
        for i, p in enumerate(params):
            out[f"{case_name}.{k}.p{i}"] = p.detach().clone()


def schedule_sequence(name, make_optimizer, make_scheduler, out):
    opt = make_optimizer([torch.zeros(1, requires_grad=True)])
    sched = make_scheduler(opt)
    lrs, moms = [], []
    for _ in range(SCHEDULE_STEPS):
        group = opt.param_groups[0]
        lrs.append(group["lr"])
        moms.append(group["betas"][0] if "betas" in group else group.get("momentum", 0.0))
        opt.step()
        sched.step()
    out[f"sched.{name}.lr"] = torch.tensor(lrs, dtype=torch.float32)
    out[f"sched.{name}.momentum"] = torch.tensor(moms, dtype=torch.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    gen = torch.Generator().manual_seed(1234)
    init = [torch.randn(s, generator=gen) for s in SHAPES]
    grads = {k: [torch.randn(s, generator=gen) * (0.5 + k * 0.25) for s in SHAPES] for k in range(1, STEPS + 1)}
    out = {}
    for i, p in enumerate(init):
        out[f"init.p{i}"] = p
    for k in range(1, STEPS + 1):
        for i, g in enumerate(grads[k]):
            out[f"grad.{k}.p{i}"] = g

    optim = torch.optim
    run("adam", lambda ps: optim.Adam(ps, lr=1e-2), None, init, grads, out)
    run("adam_wd", lambda ps: optim.Adam(ps, lr=1e-2, weight_decay=0.1), None, init, grads, out)
    run("adamw", lambda ps: optim.AdamW(ps, lr=1e-2, weight_decay=0.1), None, init, grads, out)
    run("adam_groups",
        lambda ps: optim.Adam([{"params": [ps[0]], "lr": 1e-2},
                               {"params": [ps[1]], "lr": 3e-3, "weight_decay": 0.05}],
                              betas=(0.8, 0.99), eps=1e-6),
        None, init, grads, out)
    run("sgd", lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9), None, init, grads, out)
    run("sgd_nesterov", lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
        None, init, grads, out)
    run("sgd_damp", lambda ps: optim.SGD(ps, lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.02),
        None, init, grads, out)
    run("sgd_plain", lambda ps: optim.SGD(ps, lr=0.05), None, init, grads, out)
    run("adam_onecycle", lambda ps: optim.Adam(ps, lr=1e-2),
        lambda o: optim.lr_scheduler.OneCycleLR(o, max_lr=1e-2, total_steps=STEPS), init, grads, out)
    run("sgd_steplr", lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
        lambda o: optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5), init, grads, out)

    sched = optim.lr_scheduler
    schedule_sequence("onecycle_cos", lambda ps: optim.Adam(ps, lr=1e-3),
                      lambda o: sched.OneCycleLR(o, max_lr=0.1, total_steps=SCHEDULE_STEPS), out)
    schedule_sequence("onecycle_linear", lambda ps: optim.Adam(ps, lr=1e-3),
                      lambda o: sched.OneCycleLR(o, max_lr=0.1, total_steps=SCHEDULE_STEPS,
                                                 anneal_strategy="linear", pct_start=0.25), out)
    schedule_sequence("onecycle_3phase", lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9),
                      lambda o: sched.OneCycleLR(o, max_lr=0.1, total_steps=SCHEDULE_STEPS, three_phase=True,
                                                 div_factor=10.0, final_div_factor=100.0,
                                                 base_momentum=0.8, max_momentum=0.9), out)
    schedule_sequence("steplr", lambda ps: optim.SGD(ps, lr=0.1),
                      lambda o: sched.StepLR(o, step_size=7, gamma=0.5), out)

    metadata = {
        "generator": f"PyTorch {torch.__version__}",
        "script": "scripts/pytorch/optim_reference.py",
        "steps": str(STEPS),
        "schedule_steps": str(SCHEDULE_STEPS),
        "init": "torch.randn with torch.Generator().manual_seed(1234); grad.<k> = randn * (0.5 + 0.25 k)",
    }
    save_file({k: v.contiguous() for k, v in out.items()}, args.out, metadata=metadata)
    print(f"wrote {len(out)} tensors to {args.out}")


if __name__ == "__main__":
    main()
