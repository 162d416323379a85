"""Keep BatchNorm layers truly frozen, even while the model is in ``train()`` mode.

``requires_grad=False`` stops gradient updates of BatchNorm's weight and bias, but in ``train()``
mode BatchNorm still updates ``running_mean`` and ``running_var`` on every forward pass. This
module puts each BatchNorm layer back in ``eval()`` mode right before it runs, so neither its
statistics nor (with ``affine=True``) its weight and bias can move, whatever ``model.train()``
does later.

>>> from torchvision.models import resnet18
>>> model = resnet18(weights=None)
>>> handle = keep_batchnorm_frozen(model)
>>> model.train();  # BatchNorm layers still use and keep their running statistics
>>> handle.remove()  # back to normal
"""
from __future__ import annotations

from torch import nn

from .inspection import batchnorm_modules


def _force_eval(module: nn.Module, _inputs) -> None:
    if module.training:
        module.eval()


class FrozenBatchNormHandle:
    """Undo :func:`keep_batchnorm_frozen` with ``.remove()``; ``.names`` lists the layers."""

    def __init__(self, hooks, names) -> None:
        self._hooks, self.names = hooks, names

    def remove(self) -> None:
        for h in self._hooks:
            h.remove()
        self._hooks = []

    def __repr__(self) -> str:
        return f"<{len(self.names)} BatchNorm layers kept frozen>"


def keep_batchnorm_frozen(model: nn.Module, affine: bool = True) -> FrozenBatchNormHandle:
    """Stop every BatchNorm layer's running statistics (and, by default, its weight and bias)
    from changing, even in ``train()`` mode. Returns a handle with ``.remove()``."""
    hooks, names = [], []
    for name, bn in batchnorm_modules(model):
        bn.eval()
        hooks.append(bn.register_forward_pre_hook(_force_eval))
        if affine:
            for p in bn.parameters():
                p.requires_grad_(False)
        names.append(name)
    return FrozenBatchNormHandle(hooks, names)


def batchnorm_in_train_mode(model: nn.Module) -> list[str]:
    """Names of BatchNorm layers currently in train mode (their statistics would move)."""
    return [n for n, bn in batchnorm_modules(model) if bn.training]
