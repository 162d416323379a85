"""Find and replace a torchvision model's classification head.

>>> from torchvision.models import mobilenet_v2
>>> model = mobilenet_v2(weights=None)
>>> find_head(model)[0]
'classifier.1'
>>> replace_head(model, 5)
Linear(in_features=1280, out_features=5, bias=True)
"""
from __future__ import annotations

from torch import nn

# Where each torchvision family keeps its final nn.Linear, tried in this order.
HEAD_CANDIDATES = (
    "fc",            # resnet, resnext, wide_resnet, regnet, shufflenet, googlenet, inception
    "heads.head",    # vit
    "head",          # swin
    "classifier",    # densenet (a Linear), or a Sequential whose last Linear is the head:
                     # mobilenet_v2 classifier[1], mobilenet_v3 classifier[3],
                     # efficientnet classifier[1], vgg classifier[6], convnext classifier[2]
)


class HeadNotFoundError(AttributeError):
    """The model has none of the attributes where torchvision families keep their head."""


def _get(model: nn.Module, path: str) -> nn.Module | None:
    try:
        return model.get_submodule(path)
    except AttributeError:
        return None


def _set(model: nn.Module, path: str, module: nn.Module) -> None:
    parent_path, _, last = path.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    if isinstance(parent, nn.Sequential) and last.isdigit():
        parent[int(last)] = module
    else:
        setattr(parent, last, module)


def find_head(model: nn.Module) -> tuple[str, nn.Linear]:
    """The dotted path and the module of the final ``nn.Linear``, e.g. ``('fc', Linear(...))``."""
    for path in HEAD_CANDIDATES:
        module = _get(model, path)
        if isinstance(module, nn.Linear):
            return path, module
        if isinstance(module, nn.Sequential):
            for i in range(len(module) - 1, -1, -1):
                if isinstance(module[i], nn.Linear):
                    return f"{path}.{i}", module[i]
    tried = ", ".join(f"model.{p}" for p in HEAD_CANDIDATES)
    raise HeadNotFoundError(
        f"Cannot find the classification head of {type(model).__name__}: looked for an "
        f"nn.Linear at {tried} (or the last nn.Linear inside model.classifier). "
        f"Replace the head by hand, e.g. model.<head> = nn.Linear(in_features, num_classes).")


def replace_head(model: nn.Module, num_classes: int) -> nn.Linear:
    """Put a new, trainable ``nn.Linear(in_features, num_classes)`` where the head was.

    Returns the new layer. It is created on the old head's device and dtype, and, like every
    new module, its parameters require grad even if the rest of the model is frozen.
    """
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, not {num_classes!r}")
    path, old = find_head(model)
    new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None,
                    device=old.weight.device, dtype=old.weight.dtype)
    _set(model, path, new)
    return new
