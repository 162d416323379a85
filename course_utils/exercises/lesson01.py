"""Lesson 01 exercises: the from-scratch baseline, a new head, the optimizer, held-out accuracy.

- ``q1`` build the from-scratch baseline: a ResNet-18 with random weights and 5 outputs;
- ``q2`` replace the pretrained model's head for the target task;
- ``q3`` give the optimizer only the parameters that train;
- ``q4`` compute held-out accuracy from logits.

The checkers look at the objects (weights, shapes, ``requires_grad``, optimizer groups), never at
the source of the answer, so any correct way passes: ``models.resnet18(weights=None,
num_classes=5)``, ``load_pretrained("resnet18", weights=None)``, or a replaced ``fc``.
"""
from __future__ import annotations

import numbers

import torch
from torch import nn

from .. import inspection, pretrained
from .core import Exercise, Wrong

__all__ = ["q1", "q2", "q3", "q4"]

RESNET18_5 = 11_179_077      # parameters of a ResNet-18 with a 5-class head
RESNET18_1000 = 11_689_512   # ... with ImageNet's 1000-class head


def _need_module(obj, name: str) -> nn.Module:
    if not isinstance(obj, nn.Module):
        raise Wrong(f"`{name}` should be an nn.Module (a model), got {type(obj).__name__}.")
    return obj


def _attribute_trap(model: nn.Module, name: str) -> None:
    """``model.requires_grad = False`` sets a plain attribute and freezes nothing."""
    if model.__dict__.get("requires_grad") is False and all(
            p.requires_grad for p in model.parameters()):
        raise Wrong(f"`{name}.requires_grad = False` only sets a plain Python attribute on the "
                    "module: no parameter is frozen. Set `requires_grad` on each parameter "
                    f"(`for p in {name}.parameters(): p.requires_grad = False`).")


def _course_weights() -> dict | None:
    """The cached pretrained state dict, or None when the backbone has not been built (a check
    never triggers a build)."""
    if pretrained.cache_info("resnet18") is None:
        return None
    path = pretrained.cache_dir() / "resnet18-source.pt"
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # pragma: no cover - a corrupt cache is load_pretrained's business
        return None


_CACHE: dict = {}


def _reference() -> dict | None:
    if "sd" not in _CACHE:
        _CACHE["sd"] = _course_weights()
    return _CACHE["sd"]


def _same(t: torch.Tensor, ref: torch.Tensor) -> bool:
    t = t.detach().cpu()
    return t.shape == ref.shape and torch.equal(t, ref)


def _resnet_head(model: nn.Module, name: str) -> nn.Module:
    fc = getattr(model, "fc", None)
    if fc is None or not hasattr(model, "layer4"):
        raise Wrong(f"`{name}` is a {type(model).__name__}, not a ResNet: this lesson uses "
                    "torchvision's ResNet-18 (`models.resnet18(...)` or "
                    "`load_pretrained(\"resnet18\", ...)`).")
    return fc


def _outputs(model: nn.Module) -> int:
    """How many scores the model returns per image (one forward pass on 2 random images)."""
    device = next(model.parameters()).device
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.randn(2, 3, 32, 32, device=device))
    finally:
        model.train(was)
    return out.shape[-1] if out.ndim == 2 else -1


# ---- q1: the from-scratch baseline ------------------------------------------------------------
def check_scratch(scratch_model) -> str:
    m = _need_module(scratch_model, "scratch_model")
    head = _resnet_head(m, "scratch_model")
    n = sum(p.numel() for p in m.parameters())
    if len(m.layer1) != 2 or len(m.layer4) != 2:
        raise Wrong("`scratch_model` is a ResNet, but not a ResNet-18 (its blocks have another "
                    "depth). Compare like with like: `models.resnet18(...)`.")
    out = _outputs(m)
    if out == 1000:
        raise Wrong("`scratch_model` has 1000 outputs, ImageNet's classes. The target task has "
                    "5: pass `num_classes=5`, or replace `fc` with `nn.Linear(512, 5)`.")
    if out != 5:
        raise Wrong(f"`scratch_model` returns {out} scores per image; the target task has 5 "
                    "classes (`num_classes=5`, or `fc = nn.Linear(512, 5)`).")
    if n != RESNET18_5:
        raise Wrong(f"`scratch_model` has {n:,} parameters; a ResNet-18 with a 5-class head "
                    f"has {RESNET18_5:,}. Replace only the head, with a single `nn.Linear`.")
    ref = _reference()
    if ref is not None and _same(m.conv1.weight, ref["conv1.weight"]):
        raise Wrong("`scratch_model` has the course's pretrained weights (`load_pretrained` "
                    "with its default `weights=\"course\"`). The baseline starts from random "
                    "weights: `weights=None`.")
    frozen = inspection.frozen_names(m)
    if frozen:
        raise Wrong(f"{len(frozen)} parameter tensors of `scratch_model` are frozen "
                    f"({', '.join(inspection.top_level_blocks(frozen)[:4])}...). A model trained "
                    "from scratch must train every layer: its random weights mean nothing yet.")
    return "a ResNet-18 with random weights and 5 outputs, every layer trainable."


q1 = Exercise(
    "q1", "The from-scratch baseline", check_scratch, variables=["scratch_model"],
    hints=[
        "`weights=None` builds the architecture with random weights and downloads nothing.",
        "torchvision's constructors take `num_classes`: `models.resnet18(weights=None, "
        "num_classes=5)`.",
    ],
    solution="""
scratch_model = models.resnet18(weights=None, num_classes=5)
""",
)


# ---- q2: a new head for the target task ---------------------------------------------------------
def check_new_head(model) -> str:
    m = _need_module(model, "model")
    head = _resnet_head(m, "model")
    devices = {p.device for p in m.parameters()}
    if len(devices) > 1:
        raise Wrong(f"`model` has parameters on {sorted(str(d) for d in devices)}: the new "
                    "head is not on the same device as the body (made on the CPU while the "
                    "body is on the GPU?). Move it: `nn.Linear(...).to(device)`.")
    ref = _reference()
    if ref is not None and isinstance(head, nn.Linear) and _same(head.weight, ref["fc.weight"]):
        raise Wrong("`model.fc` is still the pretrained head: its 5 outputs score the *source* "
                    "digits 0-4, not the target classes. Put a new layer in its place: "
                    "`model.fc = nn.Linear(model.fc.in_features, 5)`.")
    if ref is not None and not _same(m.conv1.weight, ref["conv1.weight"]):
        raise Wrong("the body of `model` is not the pretrained one any more (its `conv1` "
                    "weights changed). Did you build a new model? Keep the loaded model and "
                    "replace only `model.fc`.")
    if isinstance(head, nn.Linear) and head.in_features != 512:
        raise Wrong(f"the new head takes {head.in_features} inputs, but ResNet-18's body gives "
                    "512 features: use `model.fc.in_features` (read it before replacing).")
    out = _outputs(m)
    if out == 10:
        raise Wrong("the new head has 10 outputs, like the source page's 10-class example; the "
                    "target task here has 5 classes.")
    if out != 5:
        raise Wrong(f"`model` returns {out} scores per image; the target task has 5 classes: "
                    "`nn.Linear(model.fc.in_features, 5)`.")
    head_params = list(head.parameters())
    if not head_params or not all(p.requires_grad for p in head_params):
        raise Wrong("the new head is frozen (`requires_grad=False`): it would never learn. A "
                    "fresh `nn.Linear` trains by default; do not freeze it.")
    return "a fresh 5-class head on the pretrained body."


q2 = Exercise(
    "q2", "A new head for the target task", check_new_head, variables=["model"],
    hints=[
        "The head of a ResNet is the attribute `model.fc`; assign a new module to it.",
        "`nn.Linear(model.fc.in_features, 5)`: 512 features in, 5 classes out.",
    ],
    solution="""
model.fc = nn.Linear(model.fc.in_features, 5).to(device)
""",
)


# ---- q3: the optimizer gets the trainable parameters --------------------------------------------
def check_optimizer(model, optimizer) -> str:
    m = _need_module(model, "model")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise Wrong(f"`optimizer` should be a torch.optim optimizer (e.g. `torch.optim.Adam("
                    f"..., lr=1e-3)`), got {type(optimizer).__name__}.")
    _attribute_trap(m, "model")
    trainable = inspection.trainable_names(m)
    if trainable != ["fc.weight", "fc.bias"]:
        raise Wrong("the setup lines freeze the body and add a new head, so only `fc.weight` "
                    f"and `fc.bias` should train; now {len(trainable)} tensors do. Run the "
                    "whole cell again, setup lines included, and change only the optimizer.")
    foreign = inspection.foreign_parameter_count(m, optimizer)
    if foreign:
        raise Wrong(f"the optimizer holds {foreign} tensors that are not in `model`: it was "
                    "built from an older model or head (e.g. before `model.fc` was replaced), "
                    "so it would update weights the model no longer uses. Build it from the "
                    "current `model`.")
    missing = inspection.trainable_but_not_optimized(m, optimizer)
    if missing:
        raise Wrong(f"{', '.join(missing)} train (`requires_grad=True`) but the optimizer does "
                    "not hold them: they would never change. Give it the head's parameters.")
    extra = inspection.frozen_but_optimized(m, optimizer)
    if extra:
        raise Wrong(f"the optimizer also holds {len(extra)} frozen tensors: it was given all of "
                    "`model.parameters()`. They get no gradient, but an optimizer that holds "
                    "them can still move them (weight decay, momentum left from earlier steps), "
                    "and it wastes memory. Give it only what trains: `model.fc.parameters()` or "
                    "`filter(lambda p: p.requires_grad, model.parameters())`.")
    return "the optimizer holds exactly the 2 trainable tensors of the new head."


q3 = Exercise(
    "q3", "Optimize only what trains", check_optimizer, variables=["model", "optimizer"],
    hints=[
        "Only the new head trains here; `model.fc.parameters()` are its parameters.",
        "A way that works for any freezing: `[p for p in model.parameters() if "
        "p.requires_grad]`.",
    ],
    solution="""
optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
""",
)


# ---- q4: accuracy from logits -------------------------------------------------------------------
def check_accuracy(logits_test, labels_test, test_accuracy) -> str:
    if not isinstance(logits_test, torch.Tensor) or logits_test.ndim != 2:
        raise Wrong("`logits_test` should be the (N, 5) tensor made by the setup lines: run the "
                    "whole cell again.")
    if not isinstance(labels_test, torch.Tensor) or labels_test.shape != logits_test.shape[:1]:
        raise Wrong("`labels_test` should be the N labels made by the setup lines: run the "
                    "whole cell again.")
    if isinstance(test_accuracy, torch.Tensor):
        if test_accuracy.numel() != 1:
            raise Wrong(f"`test_accuracy` is a tensor of shape {tuple(test_accuracy.shape)}; "
                        "it should be one number: the mean of the correct predictions "
                        "(`.float().mean().item()`).")
        test_accuracy = test_accuracy.item()
    if isinstance(test_accuracy, bool) or not isinstance(test_accuracy, numbers.Real):
        raise Wrong(f"`test_accuracy` should be a number, got {type(test_accuracy).__name__}.")
    pred = logits_test.argmax(dim=1).cpu()
    labels = labels_test.cpu()
    correct = int((pred == labels).sum())
    n = len(labels)
    want = correct / n
    value = float(test_accuracy)
    if abs(value - want) < 1e-4:
        return f"{correct} of {n} held-out images right: {want:.1%}."
    if abs(value - 100 * want) < 1e-2:
        raise Wrong(f"`test_accuracy` is {value:.2f}: a percentage. Give it as a fraction "
                    "between 0 and 1 (without the `* 100`).")
    if abs(value - correct) < 1e-6:
        raise Wrong(f"`test_accuracy` is {value:g}, the number of correct predictions; divide "
                    f"by the number of images ({n}), or take `.float().mean()`.")
    if abs(value - (1 - want)) < 1e-4:
        raise Wrong("`test_accuracy` is the error rate (the fraction of wrong predictions): "
                    "compare with `==`, not `!=`.")
    if not 0 <= value <= 1:
        raise Wrong(f"`test_accuracy` is {value:g}; an accuracy is a fraction between 0 and 1.")
    raise Wrong(f"`test_accuracy` is {value:.4f}, but the predictions `logits_test.argmax(dim=1)` "
                f"match `labels_test` for {want:.4f} of the images. Take the argmax over the "
                "classes (dim 1), compare with the labels, and average.")


q4 = Exercise(
    "q4", "Held-out accuracy from logits", check_accuracy,
    variables=["logits_test", "labels_test", "test_accuracy"],
    hints=[
        "The predicted class of each image is `logits_test.argmax(dim=1)`.",
        "`(predictions == labels_test)` is a tensor of True/False; `.float().mean()` is the "
        "fraction that is True, and `.item()` makes it a Python number.",
    ],
    solution="""
predictions = logits_test.argmax(dim=1)
test_accuracy = (predictions == labels_test).float().mean().item()
""",
)
