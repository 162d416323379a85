"""Freeze and unfreeze parts of a model: plain ``requires_grad`` underneath.

>>> from torchvision.models import resnet18
>>> model = resnet18(weights=None)
>>> freeze_all_but(model, "layer4", "fc")          # everything else stops training
>>> [name for name, _ in blocks(model)]
['stem', 'layer1', 'layer2', 'layer3', 'layer4', 'fc']
>>> freeze_to(model, -2)                           # train only the last two blocks
['layer4', 'fc']
"""
from __future__ import annotations

from typing import Iterable, Union

from torch import nn

from .heads import find_head

ModuleOrParams = Union[nn.Module, nn.Parameter, Iterable[nn.Parameter]]


def _params(*things: ModuleOrParams):
    for t in things:
        if isinstance(t, nn.Module):
            yield from t.parameters()
        elif isinstance(t, nn.Parameter):
            yield t
        else:
            yield from t


def freeze(*things: ModuleOrParams) -> None:
    """``requires_grad = False`` on every parameter of the given modules or parameters."""
    for p in _params(*things):
        p.requires_grad_(False)


def unfreeze(*things: ModuleOrParams) -> None:
    """``requires_grad = True`` on every parameter of the given modules or parameters."""
    for p in _params(*things):
        p.requires_grad_(True)


def freeze_all(model: nn.Module) -> None:
    """Freeze every parameter of the model."""
    freeze(model)


def unfreeze_all(model: nn.Module) -> None:
    """Make every parameter of the model trainable."""
    unfreeze(model)


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def freeze_all_but(model: nn.Module, *prefixes: str) -> list[str]:
    """Freeze everything except parameters under the given name prefixes; return what trains.

    ``freeze_all_but(model, "layer4", "fc")``. A prefix that matches no parameter is an error,
    not a silent no-op (a typo such as ``"layer_4"`` would otherwise freeze the whole model).
    """
    if not prefixes:
        raise ValueError("Name at least one prefix to keep trainable, e.g. 'fc'.")
    names = [n for n, _ in model.named_parameters()]
    unmatched = [pre for pre in prefixes if not any(_matches(n, pre) for n in names)]
    if unmatched:
        tops = sorted({n.split(".")[0] for n in names})
        raise ValueError(f"No parameter name starts with {unmatched}; "
                         f"the model's top-level names are {tops}.")
    trainable = []
    for n, p in model.named_parameters():
        keep = any(_matches(n, pre) for pre in prefixes)
        p.requires_grad_(keep)
        if keep:
            trainable.append(n)
    return trainable


def freeze_all_but_head(model: nn.Module) -> str:
    """Freeze the whole model, then unfreeze its classification head; returns the head's path."""
    path, head = find_head(model)
    freeze(model)
    unfreeze(head)
    return path


def blocks(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The model's ordered blocks, input to output, for gradual unfreezing.

    ResNets: stem (conv1 + bn1), layer1..layer4, fc. Models with a ``features`` Sequential
    (mobilenet, efficientnet, vgg, densenet, convnext): each entry of ``features``, then the
    classifier. Anything else: its top-level children that hold parameters.
    """
    children = dict(model.named_children())
    if {"conv1", "bn1", "layer1", "fc"} <= children.keys():
        stem = nn.ModuleList([children["conv1"], children["bn1"]])
        rest = [n for n in children if n.startswith("layer")] + ["fc"]
        return [("stem", stem)] + [(n, children[n]) for n in rest]
    if isinstance(children.get("features"), nn.Sequential):
        out = [(f"features.{i}", m) for i, m in enumerate(children["features"])]
        out += [(n, m) for n, m in children.items()
                if n != "features" and any(True for _ in m.parameters())]
        return [(n, m) for n, m in out if any(True for _ in m.parameters())]
    return [(n, m) for n, m in children.items() if any(True for _ in m.parameters())]


def freeze_to(model: nn.Module, n: int) -> list[str]:
    """Freeze the first ``n`` blocks and unfreeze the rest (fastai's ``freeze_to``).

    A negative ``n`` counts from the end: ``freeze_to(model, -1)`` trains only the last block
    (the head), ``freeze_to(model, -2)`` the last two, ``freeze_to(model, 0)`` everything.
    Returns the names of the blocks that train.
    """
    bs = blocks(model)
    if not -len(bs) <= n <= len(bs):
        raise ValueError(f"n={n} is outside -{len(bs)}..{len(bs)}: the model has "
                         f"{len(bs)} blocks: {[b for b, _ in bs]}")
    cut = n if n >= 0 else len(bs) + n
    for i, (_, m) in enumerate(bs):
        (freeze if i < cut else unfreeze)(m)
    return [name for name, _ in bs[cut:]]
