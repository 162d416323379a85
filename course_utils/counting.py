"""Count parameters two ways: tensors (what ``sum(p.requires_grad ...)`` counts) and elements.

>>> from torchvision.models import resnet18
>>> import torch.nn as nn
>>> model = resnet18(weights=None)
>>> for p in model.parameters():
...     p.requires_grad = False
>>> model.fc = nn.Linear(model.fc.in_features, 10)
>>> count_parameters(model)
ParamCount(trainable 2 of 62 tensors, 5,130 of 11,181,642 elements)
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn


@dataclass(frozen=True)
class ParamCount:
    """Trainable and total parameters, as tensors and as elements (numbers)."""

    trainable_tensors: int
    total_tensors: int
    trainable_elements: int
    total_elements: int

    @property
    def trainable_fraction(self) -> float:
        return self.trainable_elements / self.total_elements if self.total_elements else 0.0

    def __repr__(self) -> str:
        return (f"ParamCount(trainable {self.trainable_tensors} of {self.total_tensors} tensors, "
                f"{self.trainable_elements:,} of {self.total_elements:,} elements)")


def count_parameters(model: nn.Module) -> ParamCount:
    """How many parameter tensors and elements the model has, and how many of them train."""
    params = list(model.parameters())
    return ParamCount(
        trainable_tensors=sum(p.requires_grad for p in params),
        total_tensors=len(params),
        trainable_elements=sum(p.numel() for p in params if p.requires_grad),
        total_elements=sum(p.numel() for p in params),
    )


def count_trainable(model: nn.Module, unit: str = "elements") -> int:
    """Trainable parameters of the model, counted as ``"elements"`` or ``"tensors"``."""
    if unit not in ("elements", "tensors"):
        raise ValueError("unit must be 'elements' or 'tensors'")
    c = count_parameters(model)
    return c.trainable_elements if unit == "elements" else c.trainable_tensors


class Table:
    """Rows of a small table that prints as text and renders as HTML in Jupyter."""

    def __init__(self, header: list[str], rows: list[list]) -> None:
        self.header, self.rows = header, rows

    @staticmethod
    def _fmt(v) -> str:
        return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)

    def __str__(self) -> str:
        cells = [self.header] + [[self._fmt(v) for v in r] for r in self.rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.header))]
        lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                           for i, (c, w) in enumerate(zip(r, widths))) for r in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{self._fmt(v)}</td>" for v in r) + "</tr>"
                       for r in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def parameter_table(model: nn.Module, depth: int = 1) -> Table:
    """Per-module counts (modules named by their first ``depth`` name parts), plus a total row."""
    rows: dict[str, list[int]] = {}
    for name, p in model.named_parameters():
        key = ".".join(name.split(".")[:depth])
        r = rows.setdefault(key, [0, 0, 0, 0])
        r[0] += int(p.requires_grad)
        r[1] += 1
        r[2] += p.numel() if p.requires_grad else 0
        r[3] += p.numel()
    c = count_parameters(model)
    body = [[k, *v] for k, v in rows.items()]
    body.append(["total", c.trainable_tensors, c.total_tensors, c.trainable_elements,
                 c.total_elements])
    return Table(["module", "trainable tensors", "tensors", "trainable elements", "elements"],
                 body)
