"""Plots for the lessons (matplotlib): images, learning curves, comparisons, trainable layers.

Every function returns the matplotlib Figure, so a notebook shows it and a test can inspect it.
"""
from __future__ import annotations

from collections import defaultdict
from statistics import mean, pstdev
from typing import Mapping

import matplotlib.pyplot as plt
import torch
from torch import nn

from .data import denormalize
from .freezing import blocks


def show_images(x: torch.Tensor, y: torch.Tensor, classes=None, n: int = 10, title: str = "",
                ax_row=None):
    """A row of ``n`` images with their labels."""
    n = min(n, len(x))
    fig, axes = plt.subplots(1, n, figsize=(1.2 * n, 1.6))
    imgs = denormalize(x[:n]).permute(0, 2, 3, 1).cpu()
    for ax, img, label in zip(axes, imgs, y[:n].tolist()):
        ax.imshow(img[..., 0], cmap="gray")
        ax.set_title(classes[label] if classes else str(label), fontsize=10)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_history(histories: Mapping[str, object], metrics=("train_loss", "val_acc"),
                 title: str = ""):
    """Learning curves, one line per run: ``plot_history({"scratch": h1, "fine-tuned": h2})``."""
    if not isinstance(histories, Mapping):
        histories = {"run": histories}
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.2))
    axes = [axes] if len(metrics) == 1 else axes
    labels = {"train_loss": "training loss", "val_loss": "held-out loss",
              "val_acc": "held-out accuracy"}
    for ax, metric in zip(axes, metrics):
        for name, h in histories.items():
            values = h[metric]
            ax.plot(h["epoch"], values, marker="o", markersize=3, label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(labels.get(metric, metric))
        if metric.endswith("acc"):
            ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0].legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_strategy_comparison(results: list[dict], title: str = "Held-out accuracy by strategy"):
    """Grouped bars, mean +/- standard deviation over seeds.

    ``results``: dicts with keys ``strategy``, ``k`` (labels per class) and ``acc``.
    """
    by: dict[tuple, list[float]] = defaultdict(list)
    for r in results:
        by[(r["strategy"], r["k"])].append(r["acc"])
    strategies = list(dict.fromkeys(r["strategy"] for r in results))
    ks = sorted({r["k"] for r in results})
    fig, ax = plt.subplots(figsize=(1.6 * len(strategies) + 2, 3.4))
    width = 0.8 / len(ks)
    for j, k in enumerate(ks):
        xs = [i + (j - (len(ks) - 1) / 2) * width for i in range(len(strategies))]
        ms = [mean(by[(s, k)]) if by[(s, k)] else 0 for s in strategies]
        sd = [pstdev(by[(s, k)]) if len(by[(s, k)]) > 1 else 0 for s in strategies]
        ax.bar(xs, ms, width, yerr=sd, capsize=3, label=f"{k} labels per class")
    ax.set_xticks(range(len(strategies)), strategies, rotation=15)
    ax.set_ylabel("held-out accuracy")
    ax.set_ylim(0, 1)
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_lr_sweep(lrs: list[float], accs: list[float], reference: dict[str, float] | None = None):
    """Held-out accuracy against learning rate (log scale), with optional reference lines."""
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.plot(lrs, accs, marker="o")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (full fine-tuning)")
    ax.set_ylabel("held-out accuracy")
    ax.set_ylim(0, 1)
    for name, value in (reference or {}).items():
        ax.axhline(value, linestyle="--", color="gray")
        ax.text(lrs[0], value + 0.02, name, color="gray")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_trainable_by_layer(model: nn.Module, title: str = "Trainable vs frozen, per block"):
    """Horizontal bars per block: trainable and frozen elements (log scale)."""
    names, trainable, frozen = [], [], []
    for name, m in blocks(model):
        ps = list(m.parameters())
        names.append(name)
        trainable.append(sum(p.numel() for p in ps if p.requires_grad))
        frozen.append(sum(p.numel() for p in ps if not p.requires_grad))
    fig, ax = plt.subplots(figsize=(6, 0.32 * len(names) + 1.2))
    ax.barh(names, frozen, color="#bbbbbb", label="frozen")
    ax.barh(names, trainable, left=frozen, color="#1f77b4", label="trainable")
    ax.invert_yaxis()
    ax.set_xscale("symlog")
    ax.set_xlabel("parameters (elements)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title(title)
    fig.tight_layout()
    return fig
