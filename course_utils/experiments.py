"""The fine-tuning strategies, run end to end on the target task, for comparisons and benchmarks.

Each lesson first writes these steps by hand in plain PyTorch; this module repeats them so the
course can compare strategies over several labelled-set sizes and seeds in one call.

>>> r = run_strategy("full fine-tuning", k=10, seed=0)     # doctest: +SKIP
>>> r["acc"]
0.87
"""
from __future__ import annotations

import time

import torch
from torch import nn

from . import data, freezing, heads, pretrained, training

STRATEGIES = ("scratch", "feature extraction", "full fine-tuning", "two-phase", "gradual")


def _fresh(weights: str | None, num_classes: int, arch: str = "resnet18") -> nn.Module:
    model = pretrained.load_pretrained(arch, weights=weights, progress=False)
    heads.replace_head(model, num_classes)
    return model


def _train_head_on_features(model, task, train_loader, epochs, lr, seed) -> float:
    """Feature extraction done the fast way: run the frozen backbone once, train the head."""
    path, head = heads.find_head(model)
    backbone = model
    heads._set(backbone, path, nn.Identity())
    device = training.get_device()
    backbone.to(device)
    f_train = training.extract_features(backbone, task.x_train)
    f_test = training.extract_features(backbone, task.x_test)
    heads._set(model, path, head)
    training.seed_everything(seed)
    head_loader = data.make_loader(f_train, task.y_train, train_loader.batch_size, True, seed)
    test_loader = data.make_loader(f_test, task.y_test, 1024)
    training.fit(head, head_loader, None, epochs=epochs, lr=lr, progress=False)
    return training.evaluate(head, test_loader)[1]


def run_strategy(strategy: str, k: int = 10, seed: int = 0, epochs: int = 15,
                 lr: float | None = None, batch_size: int = 16, arch: str = "resnet18") -> dict:
    """Train one strategy on the target task; returns ``{strategy, k, seed, acc, seconds}``.

    Strategies and their default rates (Adam):
    ``scratch`` (random weights, all layers, 1e-3); ``feature extraction`` (frozen pretrained
    backbone, new head, 1e-3, on cached features); ``full fine-tuning`` (all layers, 1e-4);
    ``two-phase`` (head alone at 1e-3 for a third of the epochs, then everything at 1e-4 with a
    new optimizer); ``gradual`` (head first, then layer4, then layer3 and below, each stage with
    a new optimizer at a lower rate).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, not {strategy!r}")
    task = data.target_task(k=k, seed=seed)
    train_loader, test_loader = task.loaders(batch_size=batch_size, seed=seed)
    training.seed_everything(seed)
    start = time.perf_counter()
    acc = None
    if strategy == "scratch":
        model = _fresh(None, task.num_classes, arch)
        training.fit(model, train_loader, None, epochs=epochs, lr=lr or 1e-3, progress=False)
    elif strategy == "feature extraction":
        model = _fresh("course", task.num_classes, arch)
        freezing.freeze_all_but_head(model)
        acc = _train_head_on_features(model, task, train_loader, epochs * 4, lr or 1e-3, seed)
    elif strategy == "full fine-tuning":
        model = _fresh("course", task.num_classes, arch)
        training.fit(model, train_loader, None, epochs=epochs, lr=lr or 1e-4, progress=False)
    elif strategy == "two-phase":
        model = _fresh("course", task.num_classes, arch)
        freezing.freeze_all_but_head(model)
        head_epochs = max(1, epochs // 3)
        h = training.fit(model, train_loader, None, epochs=head_epochs, lr=lr or 1e-3,
                         progress=False)
        freezing.unfreeze_all(model)
        h = training.fit(model, train_loader, None, epochs=epochs - head_epochs,
                         lr=(lr or 1e-3) / 10, history=h, progress=False)
    else:  # gradual
        model = _fresh("course", task.num_classes, arch)
        n_blocks = len(freezing.blocks(model))
        stages = [(-1, 1e-3), (-2, 3e-4), (-n_blocks, 1e-4)]
        per_stage = max(1, epochs // len(stages))
        h = None
        for n, stage_lr in stages:
            freezing.freeze_to(model, n)
            h = training.fit(model, train_loader, None, epochs=per_stage,
                             lr=stage_lr if lr is None else lr * stage_lr / 1e-3, history=h,
                             progress=False)
    if acc is None:  # evaluated once, at the end: the held-out set is 17x the training set
        acc = training.evaluate(model, test_loader)[1]
    return {"strategy": strategy, "k": k, "seed": seed, "acc": acc,
            "seconds": time.perf_counter() - start}


def compare_strategies(ks=(5, 10), seeds=(0, 1), strategies=STRATEGIES, epochs: int = 15,
                       progress: bool = True) -> list[dict]:
    """``run_strategy`` for every strategy, labelled-set size and seed; a list of result dicts."""
    runs = [(s, k, seed) for k in ks for seed in seeds for s in strategies]
    bar = training._progress(len(runs), "comparing strategies", progress)
    results = []
    for s, k, seed in runs:
        results.append(run_strategy(s, k=k, seed=seed, epochs=epochs))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return results
