"""Small questions about a model and its optimizer, shared by the helpers and the exercise checks.

Each function answers one question by looking at real objects, never at source code:

>>> from torchvision.models import resnet18
>>> model = resnet18(weights=None)
>>> for p in model.parameters():
...     p.requires_grad = False
>>> trainable_names(model)
[]
"""
from __future__ import annotations

from typing import Iterable

import torch
from torch import nn


def trainable_names(model: nn.Module) -> list[str]:
    """Names of the parameters that will receive gradients (``requires_grad=True``)."""
    return [n for n, p in model.named_parameters() if p.requires_grad]


def frozen_names(model: nn.Module) -> list[str]:
    """Names of the parameters that are frozen (``requires_grad=False``)."""
    return [n for n, p in model.named_parameters() if not p.requires_grad]


def top_level_blocks(names: Iterable[str]) -> list[str]:
    """The distinct first components of parameter names, in order: ``['conv1', 'layer4', 'fc']``."""
    seen: dict[str, None] = {}
    for n in names:
        seen.setdefault(n.split(".")[0], None)
    return list(seen)


def _groups_of(optimizer_or_groups) -> list[dict]:
    if isinstance(optimizer_or_groups, torch.optim.Optimizer):
        return optimizer_or_groups.param_groups
    groups = list(optimizer_or_groups)
    if groups and not isinstance(groups[0], dict):  # a plain iterable of parameters: one group
        return [{"params": groups}]
    return [dict(g, params=list(g["params"])) for g in groups]


def group_membership(model: nn.Module, optimizer_or_groups) -> dict[str, list[int]]:
    """For every named parameter of ``model``, the indices of the optimizer groups that hold it.

    A healthy optimizer gives each trainable parameter exactly one group.
    """
    where: dict[int, list[int]] = {}
    for i, group in enumerate(_groups_of(optimizer_or_groups)):
        for p in group["params"]:
            where.setdefault(id(p), []).append(i)
    return {n: where.get(id(p), []) for n, p in model.named_parameters()}


def optimizer_parameter_names(model: nn.Module, optimizer_or_groups) -> list[str]:
    """Names of the model's parameters that the optimizer (or list of groups) will update."""
    return [n for n, g in group_membership(model, optimizer_or_groups).items() if g]


def foreign_parameter_count(model: nn.Module, optimizer_or_groups) -> int:
    """How many tensors in the optimizer are not parameters of ``model`` (e.g. an old head)."""
    mine = {id(p) for p in model.parameters()}
    return sum(
        1 for g in _groups_of(optimizer_or_groups) for p in g["params"] if id(p) not in mine
    )


def trainable_but_not_optimized(model: nn.Module, optimizer_or_groups) -> list[str]:
    """Trainable parameters that no optimizer group holds: they will silently never change."""
    member = group_membership(model, optimizer_or_groups)
    return [n for n, p in model.named_parameters() if p.requires_grad and not member[n]]


def frozen_but_optimized(model: nn.Module, optimizer_or_groups) -> list[str]:
    """Frozen parameters that the optimizer still holds (weight decay or momentum can move them)."""
    member = group_membership(model, optimizer_or_groups)
    return [n for n, p in model.named_parameters() if not p.requires_grad and member[n]]


def batchnorm_modules(model: nn.Module) -> list[tuple[str, nn.modules.batchnorm._BatchNorm]]:
    """All BatchNorm layers of the model, with their names."""
    return [
        (n, m) for n, m in model.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
    ]


def batchnorm_stats_snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of every BatchNorm running statistic, to compare before and after training."""
    return {
        n: b.detach().clone()
        for n, b in model.named_buffers()
        if n.endswith(("running_mean", "running_var"))
    }
