"""A small, readable training loop with a progress bar, and feature caching.

>>> from course_utils import data, training                      # doctest: +SKIP
>>> task = data.target_task(k=10)
>>> train_loader, test_loader = task.loaders()
>>> history = training.fit(model, train_loader, test_loader, epochs=5,
...                        optimizer=torch.optim.Adam(model.fc.parameters(), lr=1e-3))
>>> history.final("val_acc")
0.83
"""
from __future__ import annotations

import os
import random
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn


def get_device() -> torch.device:
    """``cuda`` when a GPU is present, otherwise ``cpu``. Nothing in the course requires a GPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and PyTorch so a run can be repeated."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def _progress(total: int, desc: str, enabled: bool, text: bool = False):
    """A tqdm bar (a widget in Jupyter, text on stdout elsewhere; always text with ``text``),
    or None when disabled."""
    if not enabled or os.environ.get("TQDM_DISABLE") or os.environ.get("NBGRADER_EXECUTION"):
        return None
    if text:
        from tqdm import tqdm
    else:
        from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False, file=sys.stdout)


@dataclass
class History:
    """Per-epoch records: ``epoch``, ``train_loss``, ``val_loss``, ``val_acc``, ``seconds``."""

    records: list[dict] = field(default_factory=list)

    def __getitem__(self, key: str) -> list[float]:
        return [r[key] for r in self.records]

    def __len__(self) -> int:
        return len(self.records)

    def final(self, key: str = "val_acc") -> float:
        return self.records[-1][key]

    def best(self, key: str = "val_acc") -> float:
        return max(self[key])

    @property
    def seconds(self) -> float:
        return sum(self["seconds"])

    def __repr__(self) -> str:
        if not self.records:
            return "History(empty)"
        last = self.records[-1]
        parts = [f"{k}={v:.4f}" for k, v in last.items() if k not in ("epoch", "seconds")
                 and v is not None]
        return f"History({len(self)} epochs, last: {', '.join(parts)}, {self.seconds:.1f} s)"


@torch.no_grad()
def evaluate(model: nn.Module, loader, loss_fn: nn.Module | None = None,
             device: torch.device | None = None) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``loader`` (in ``eval()`` mode, then restored)."""
    device = device or next(model.parameters()).device
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    was_training = model.training
    model.eval()
    total, correct, loss_sum = 0, 0, 0.0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        out = model(x)
        loss_sum += loss_fn(out, y).item() * len(y)
        correct += (out.argmax(1) == y).sum().item()
        total += len(y)
    model.train(was_training)
    return loss_sum / total, correct / total


def train_one_epoch(model, loader, optimizer, loss_fn, device) -> float:
    """One pass over ``loader``; returns the mean training loss."""
    model.train()
    loss_sum, n = 0.0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(y)
        n += len(y)
    return loss_sum / n


def fit(model: nn.Module, train_loader, val_loader=None, *, epochs: int = 10,
        optimizer: torch.optim.Optimizer | None = None, lr: float = 1e-3,
        loss_fn: nn.Module | None = None, device: torch.device | str | None = None,
        scheduler=None, history: History | None = None, progress: bool = True,
        desc: str = "training", early_stopping_patience: int | None = None) -> History:
    """Train ``model`` and return its :class:`History` (train loss, val loss, val accuracy).

    ``optimizer`` defaults to Adam over the parameters that require grad. Pass ``history`` to
    continue a previous run (two-phase training). ``early_stopping_patience`` stops when the
    validation loss has not improved for that many epochs and restores the best weights.
    """
    device = torch.device(device) if device is not None else get_device()
    model.to(device)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    if optimizer is None:
        trainable = [p for p in model.parameters() if p.requires_grad]
        if not trainable:
            raise ValueError("No parameter of the model requires grad: everything is frozen, "
                             "so training cannot change anything. Unfreeze at least the head.")
        optimizer = torch.optim.Adam(trainable, lr=lr)
    history = history if history is not None else History()
    start_epoch = len(history)
    bar = _progress(epochs, desc, progress)
    best_loss, best_state, waited = float("inf"), None, 0
    try:
        for epoch in range(epochs):
            t0 = time.perf_counter()
            train_loss = train_one_epoch(model, train_loader, optimizer, loss_fn, device)
            if scheduler is not None:
                scheduler.step()
            val_loss = val_acc = None
            if val_loader is not None:
                val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
            history.records.append({"epoch": start_epoch + epoch + 1, "train_loss": train_loss,
                                    "val_loss": val_loss, "val_acc": val_acc,
                                    "seconds": time.perf_counter() - t0})
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{train_loss:.3f}",
                                **({"val_acc": f"{val_acc:.3f}"} if val_acc is not None else {}))
            if early_stopping_patience is not None and val_loss is not None:
                if val_loss < best_loss - 1e-4:
                    best_loss, waited = val_loss, 0
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                else:
                    waited += 1
                    if waited >= early_stopping_patience:
                        break
    finally:
        if bar is not None:
            bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


@torch.no_grad()
def extract_features(backbone: nn.Module, x_or_loader, batch_size: int = 256,
                     device: torch.device | None = None) -> torch.Tensor:
    """Run a frozen backbone once and return its features, on the CPU.

    Give it a model whose head is ``nn.Identity()`` (e.g. ``model.fc = nn.Identity()``) and a
    tensor of images or a DataLoader; train a head on the result many times over, cheaply.
    """
    device = device or next(backbone.parameters()).device
    was_training = backbone.training
    backbone.eval()
    if isinstance(x_or_loader, torch.Tensor):
        batches = x_or_loader.split(batch_size)
    else:
        batches = (b[0] for b in x_or_loader)
    feats = [backbone(b.to(device)).flatten(1).cpu() for b in batches]
    backbone.train(was_training)
    return torch.cat(feats)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 512) -> float:
    """Accuracy of ``model`` on tensors ``x``, ``y`` (in eval mode)."""
    from .data import make_loader

    return evaluate(model, make_loader(x, y, batch_size))[1]
