#!/usr/bin/python3
"""Writes the PyTorch reference trajectories the optimizer and schedule tests compare against
(test/optim/fixtures/*.json), so the tests themselves need no PyTorch.

Run with Debian's PyTorch:  /usr/bin/python3 scripts/make_optim_fixtures.py
Everything is float64 and deterministic; rerunning gives byte-identical files.

Optimizer fixtures: two parameters w0 (2, 3) and w1 (3,) with fixed starting values, minimising
    loss = sum(0.5 * A * w**2 + c * w + 0.025 * w**4)      (gradient A*w + c + 0.1*w**3)
for 20 steps (zero_grad, backward, step); the trajectory holds both parameters (flattened,
concatenated) after every step. Options use Ember's keys (beta1/beta2 instead of betas); a case may
put the parameters in two groups with their own options. Schedule fixtures: every group's lr at
t = 0 (after construction) and after each scheduler.step().
"""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "optim", "fixtures")
STEPS = 20

PROBLEM = {
    "shapes": [[2, 3], [3]],
    "init": [[0.5, -1.2, 2.0, 0.3, -0.7, 1.5], [1.0, -0.25, 0.8]],
    "A": [[1.0, 0.5, 2.0, 0.1, 3.0, 1.5], [0.2, 1.0, 4.0]],
    "c": [[0.1, -0.2, 0.3, 0.05, 0.0, -0.1], [0.5, -0.3, 0.0]],
}


def torch_kwargs(options):
    """Ember option names -> torch keyword arguments."""
    kw = {}
    for key, value in options.items():
        if key in ("beta1", "beta2", "beta3"):
            continue
        if key in ("nesterov", "amsgrad", "maximize", "centered"):
            kw[key] = bool(value)
        else:
            kw[key] = value
    if "beta1" in options or "beta2" in options:
        kw["betas"] = (options.get("beta1", 0.9), options.get("beta2", 0.999))
    return kw


def trajectory(torch_class, options, groups=None):
    params = [torch.tensor(v, dtype=torch.float64).reshape(s).requires_grad_()
              for v, s in zip(PROBLEM["init"], PROBLEM["shapes"])]
    A = [torch.tensor(v, dtype=torch.float64).reshape(s) for v, s in zip(PROBLEM["A"], PROBLEM["shapes"])]
    c = [torch.tensor(v, dtype=torch.float64).reshape(s) for v, s in zip(PROBLEM["c"], PROBLEM["shapes"])]
    if groups:
        torch_groups = [dict(params=[params[i] for i in g["params"]], **torch_kwargs(g["options"])) for g in groups]
    else:
        torch_groups = params
    extra = {"foreach": False} if "foreach" in torch_class.__init__.__code__.co_varnames else {}
    opt = torch_class(torch_groups, **torch_kwargs(options), **extra)
    out = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = sum((0.5 * a * w * w + b * w + 0.025 * w ** 4).sum() for w, a, b in zip(params, A, c))
        loss.backward()
        opt.step()
        out.append([x for p in params for x in p.detach().flatten().tolist()])
    return out


def case(name, ember_name, torch_class, options, groups=None):
    entry = {"name": name, "optimizer": ember_name, "options": options}
    if groups:
        entry["groups"] = groups
    entry["trajectory"] = trajectory(torch_class, options, groups)
    return entry


def write(filename, cases):
    doc = {"generated_by": f"scripts/make_optim_fixtures.py with torch {torch.__version__}",
           "steps": STEPS, "problem": PROBLEM, "cases": cases}
    with open(os.path.join(OUT, filename), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def optimizer_fixtures():
    O = torch.optim
    two_groups = [{"params": [0], "options": {"lr": 0.05}}, {"params": [1], "options": {"weight_decay": 0.0}}]
    write("sgd.json", [
        case("plain", "sgd", O.SGD, {"lr": 0.1}),
        case("momentum_dampening_wd", "sgd", O.SGD, {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
        case("nesterov_wd", "sgd", O.SGD, {"lr": 0.05, "momentum": 0.8, "nesterov": 1, "weight_decay": 0.02}),
        case("maximize", "sgd", O.SGD, {"lr": 0.01, "momentum": 0.5, "maximize": 1}),
        case("two_groups", "sgd", O.SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1}, two_groups),
    ])
    write("adam.json", [
        case("adam", "adam", O.Adam, {"lr": 0.05}),
        case("adam_l2_amsgrad", "adam", O.Adam, {"lr": 0.05, "beta1": 0.8, "beta2": 0.95, "eps": 1e-6,
                                                 "weight_decay": 0.1, "amsgrad": 1}),
        case("adam_maximize", "adam", O.Adam, {"lr": 0.02, "maximize": 1}),
        case("adamw", "adamw", O.AdamW, {"lr": 0.05, "weight_decay": 0.1}),
        case("adamw_amsgrad", "adamw", O.AdamW, {"lr": 0.05, "beta1": 0.5, "beta2": 0.9, "weight_decay": 0.05,
                                                 "amsgrad": 1}),
        case("adamw_two_groups", "adamw", O.AdamW, {"lr": 0.05, "weight_decay": 0.1}, two_groups),
    ])


def _nadam_paper_product(params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps, *, beta1, beta2, lr,
                         weight_decay, momentum_decay, eps):
    """torch 1.13's _single_tensor_nadam with the next-step product fixed as in torch >= 2.0 and the
    paper: prod_{i<=t+1} mu_i = mu_product * mu_next (1.13 multiplies in mu once more)."""
    for param, grad, exp_avg, exp_avg_sq, mu_product, step_t in zip(params, grads, exp_avgs, exp_avg_sqs,
                                                                     mu_products, state_steps):
        step_t += 1
        step = step_t.item()
        bias_correction2 = 1 - beta2 ** step
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        mu = beta1 * (1. - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1. - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product *= mu
        mu_product_next = mu_product * mu_next
        exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = exp_avg_sq.div(bias_correction2).sqrt().add_(eps)
        param.addcdiv_(grad, denom, value=-lr * (1. - mu) / (1. - mu_product.item()))
        param.addcdiv_(exp_avg, denom, value=-lr * mu_next / (1. - mu_product_next.item()))


def adaptive_fixtures():
    O = torch.optim
    import sys
    sys.modules["torch.optim.nadam"]._single_tensor_nadam = _nadam_paper_product
    write("adaptive.json", [
        case("adamax", "adamax", O.Adamax, {"lr": 0.05}),
        case("adamax_wd_maximize", "adamax", O.Adamax, {"lr": 0.01, "beta1": 0.8, "beta2": 0.9, "weight_decay": 0.1,
                                                        "maximize": 1}),
        case("nadam", "nadam", O.NAdam, {"lr": 0.05}),
        case("nadam_wd", "nadam", O.NAdam, {"lr": 0.05, "beta1": 0.8, "beta2": 0.95, "weight_decay": 0.1,
                                            "momentum_decay": 0.01}),
        case("radam", "radam", O.RAdam, {"lr": 0.05}),
        case("radam_wd", "radam", O.RAdam, {"lr": 0.05, "beta1": 0.8, "beta2": 0.9, "weight_decay": 0.1}),
        case("adagrad", "adagrad", O.Adagrad, {"lr": 0.1}),
        case("adagrad_decay_init", "adagrad", O.Adagrad, {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1,
                                                          "initial_accumulator_value": 0.5, "eps": 1e-6}),
        case("adadelta", "adadelta", O.Adadelta, {"lr": 1.0}),
        case("adadelta_wd", "adadelta", O.Adadelta, {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.1}),
        case("rmsprop", "rmsprop", O.RMSprop, {"lr": 0.01}),
        case("rmsprop_centered_momentum", "rmsprop", O.RMSprop, {"lr": 0.01, "alpha": 0.9, "momentum": 0.8,
                                                                 "centered": 1, "weight_decay": 0.05}),
    ])


def schedule_lrs(make, base_lrs, steps, key="lr"):
    """Every group's `key` ("lr" or "momentum") at t = 0 and after each scheduler.step()."""
    params = [torch.zeros(1, requires_grad=True) for _ in base_lrs]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, base_lrs)], lr=base_lrs[0],
                          momentum=0.9)
    sched = make(opt)
    out = [[g[key] for g in opt.param_groups]]
    for _ in range(steps - 1):
        opt.step()
        sched.step()
        out.append([g[key] for g in opt.param_groups])
    return out


def schedule_fixtures():
    S = torch.optim.lr_scheduler
    base = [0.1, 0.04]
    cases = []

    def add(name, options, make, steps=20):
        cases.append({"name": name, "options": options, "base_lrs": base, "lrs": schedule_lrs(make, base, steps)})
        if options.get("cycle_momentum"):
            cases[-1]["momentums"] = schedule_lrs(make, base, steps, "momentum")

    add("step", {"kind": "step", "step_size": 3, "gamma": 0.5}, lambda o: S.StepLR(o, step_size=3, gamma=0.5))
    add("multistep", {"kind": "multistep", "milestones": [2, 5, 11], "gamma": 0.3},
        lambda o: S.MultiStepLR(o, milestones=[2, 5, 11], gamma=0.3))
    add("exponential", {"kind": "exponential", "gamma": 0.9}, lambda o: S.ExponentialLR(o, gamma=0.9))
    add("cosine", {"kind": "cosine", "total_steps": 19, "min_lr": 0.001},
        lambda o: S.CosineAnnealingLR(o, T_max=19, eta_min=0.001))
    add("polynomial", {"kind": "polynomial", "total_steps": 16, "power": 2.0},
        lambda o: S.PolynomialLR(o, total_iters=16, power=2.0))
    add("onecycle_cos", {"kind": "onecycle", "total_steps": 20, "pct_start": 0.3},
        lambda o: S.OneCycleLR(o, max_lr=base, total_steps=20, pct_start=0.3, cycle_momentum=False))
    add("onecycle_linear_three_phase", {"kind": "onecycle", "total_steps": 20, "pct_start": 0.25, "div_factor": 10.0,
                                        "final_div_factor": 100.0, "anneal": "linear", "three_phase": True},
        lambda o: S.OneCycleLR(o, max_lr=base, total_steps=20, pct_start=0.25, div_factor=10.0,
                               final_div_factor=100.0, anneal_strategy="linear", three_phase=True,
                               cycle_momentum=False))
    add("onecycle_cycle_momentum", {"kind": "onecycle", "total_steps": 20, "pct_start": 0.4, "cycle_momentum": True,
                                    "base_momentum": 0.8, "max_momentum": 0.95},
        lambda o: S.OneCycleLR(o, max_lr=base, total_steps=20, pct_start=0.4, base_momentum=0.8, max_momentum=0.95))
    add("linear_warmup_cosine", {"kind": "cosine", "total_steps": 15, "min_lr": 0.001, "warmup": "linear",
                                 "warmup_steps": 5, "warmup_start_factor": 0.1},
        lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=5),
                                     S.CosineAnnealingLR(o, T_max=15, eta_min=0.001)], milestones=[5]))
    add("linear_warmup_multistep", {"kind": "multistep", "milestones": [4, 7], "gamma": 0.5, "warmup": "linear",
                                    "warmup_steps": 3, "warmup_start_factor": 0.25},
        lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=3),
                                     S.MultiStepLR(o, milestones=[4, 7], gamma=0.5)], milestones=[3]))
    doc = {"generated_by": f"scripts/make_optim_fixtures.py with torch {torch.__version__}", "cases": cases}
    with open(os.path.join(OUT, "schedules.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.set_default_dtype(torch.float64)
    optimizer_fixtures()
    adaptive_fixtures()
    schedule_fixtures()
