"""Optimizer parameter groups that cover every trainable parameter exactly once.

A parameter in no group never trains, and nothing warns you: the source material's own
layer-wise AdamW example leaves ``conv1``, ``bn1``, ``layer2`` and ``layer3`` out. These builders
refuse that, and :func:`check_param_groups` catches it in a hand-written optimizer.

>>> from torchvision.models import resnet18
>>> model = resnet18(weights=None)
>>> groups = param_groups_by_block(model, {"layer4": 1e-4, "fc": 1e-3}, default_lr=1e-5)
>>> [(g["name"], g["lr"]) for g in groups]
[('default', 1e-05), ('layer4', 0.0001), ('fc', 0.001)]
>>> optimizer = torch.optim.AdamW(groups, weight_decay=1e-2)
>>> check_param_groups(model, optimizer)     # silent when every trainable parameter is in one group
"""
from __future__ import annotations

import torch
from torch import nn

from .counting import Table
from .freezing import blocks
from .inspection import foreign_parameter_count, group_membership


class ParamGroupError(ValueError):
    """Parameter groups that leave a trainable parameter out, or hold one twice."""


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _summarise(names: list[str], limit: int = 6) -> str:
    tops: dict[str, int] = {}
    for n in names:
        tops[n.split(".")[0]] = tops.get(n.split(".")[0], 0) + 1
    parts = [f"{t} ({c} tensors)" for t, c in tops.items()]
    return ", ".join(parts[:limit]) + (" ..." if len(parts) > limit else "")


def param_groups_by_block(model: nn.Module, lrs: dict[str, float], default_lr: float | None = None,
                          weight_decay: float | None = None,
                          no_decay_for_norm_and_bias: bool = False) -> list[dict]:
    """One group per name prefix in ``lrs``, with its learning rate; trainable parameters only.

    Each parameter goes to the longest prefix that matches it. Parameters that match no prefix
    go to a ``"default"`` group at ``default_lr``; without ``default_lr`` they are an error
    (``ParamGroupError`` names them). A prefix that matches no trainable parameter is an error
    too. With ``no_decay_for_norm_and_bias``, biases and normalisation weights get their own
    groups with ``weight_decay=0``.
    """
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not trainable:
        raise ParamGroupError("No parameter requires grad: unfreeze something before building "
                              "an optimizer.")
    order = sorted(lrs, key=len, reverse=True)
    assigned: dict[str, list[tuple[str, nn.Parameter]]] = {"default": []}
    assigned.update({k: [] for k in lrs})
    for n, p in trainable:
        key = next((k for k in order if _matches(n, k)), "default")
        assigned[key].append((n, p))
    empty = [k for k in lrs if not assigned[k]]
    if empty:
        tops = sorted({n.split(".")[0] for n, _ in trainable})
        raise ParamGroupError(f"No trainable parameter matches {empty}; trainable parameters "
                              f"start with {tops}. Check the spelling, or unfreeze that block.")
    if assigned["default"] and default_lr is None:
        names = [n for n, _ in assigned["default"]]
        raise ParamGroupError(
            f"{len(names)} trainable parameter tensors are in no group and would never train: "
            f"{_summarise(names)}. Give them a rate (add their prefixes, or default_lr=...), "
            f"or freeze them on purpose.")
    norm_ids = {id(p) for m in model.modules()
                if isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm))
                for p in m.parameters(recurse=False)}
    groups = []
    for key in ["default", *lrs]:
        members = assigned[key]
        if not members:
            continue
        lr = default_lr if key == "default" else lrs[key]
        split = {"": members}
        if no_decay_for_norm_and_bias:
            split = {"": [(n, p) for n, p in members if p.ndim > 1 and id(p) not in norm_ids],
                     " (no decay)": [(n, p) for n, p in members
                                     if p.ndim <= 1 or id(p) in norm_ids]}
        for suffix, ps in split.items():
            if not ps:
                continue
            g = {"params": [p for _, p in ps], "lr": lr, "name": key + suffix}
            if suffix:
                g["weight_decay"] = 0.0
            elif weight_decay is not None:
                g["weight_decay"] = weight_decay
            groups.append(g)
    return groups


def layerwise_lr_groups(model: nn.Module, head_lr: float, decay: float = 0.5) -> list[dict]:
    """Layer-wise learning-rate decay: the last block gets ``head_lr``, each earlier block
    ``decay`` times the next one's rate. Frozen blocks are left out.

    The rates are real ``lr`` values in each group (not timm's ``lr_scale``, which only timm's
    own schedulers apply), so any PyTorch optimizer and scheduler honours them.
    """
    if not 0 < decay <= 1:
        raise ValueError("decay must be in (0, 1]")
    bs = blocks(model)
    groups = []
    for depth, (name, module) in enumerate(reversed(bs)):
        params = [p for p in module.parameters() if p.requires_grad]
        if params:
            groups.append({"params": params, "lr": head_lr * decay ** depth, "name": name})
    groups.reverse()
    check_param_groups(model, groups)
    return groups


def check_param_groups(model: nn.Module, optimizer_or_groups, allow_frozen: bool = False) -> None:
    """Raise :class:`ParamGroupError` unless every trainable parameter of ``model`` is in
    exactly one group, and (unless ``allow_frozen``) no frozen parameter is in any group."""
    membership = group_membership(model, optimizer_or_groups)
    params = dict(model.named_parameters())
    missing = [n for n, g in membership.items() if params[n].requires_grad and not g]
    twice = [n for n, g in membership.items() if len(g) > 1]
    frozen = [n for n, g in membership.items() if not params[n].requires_grad and g]
    foreign = foreign_parameter_count(model, optimizer_or_groups)
    problems = []
    if missing:
        problems.append(f"{len(missing)} trainable tensors are in no group and will never train: "
                        f"{_summarise(missing)}")
    if twice:
        problems.append(f"{len(twice)} tensors are in more than one group: {_summarise(twice)}")
    if frozen and not allow_frozen:
        problems.append(f"{len(frozen)} frozen tensors are in the optimizer (weight decay or "
                        f"momentum can still move them): {_summarise(frozen)}")
    if foreign:
        problems.append(f"{foreign} tensors in the optimizer are not parameters of this model "
                        f"(an old head, or an optimizer built before the head was replaced?)")
    if problems:
        raise ParamGroupError("; ".join(problems) + ".")


def describe_param_groups(model: nn.Module, optimizer: torch.optim.Optimizer) -> Table:
    """A table: one row per group with its name, learning rate, weight decay and what it holds."""
    names = {id(p): n for n, p in model.named_parameters()}
    rows = []
    for i, g in enumerate(optimizer.param_groups):
        member_names = [names.get(id(p), "?") for p in g["params"]]
        tops = list(dict.fromkeys(n.split(".")[0] for n in member_names))
        rows.append([g.get("name", str(i)), f"{g['lr']:.3g}", g.get("weight_decay", 0),
                     len(g["params"]), sum(p.numel() for p in g["params"]), " ".join(tops)])
    return Table(["group", "lr", "weight decay", "tensors", "elements", "modules"], rows)
