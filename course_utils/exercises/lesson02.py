"""Lesson 02 exercises: freezing with ``requires_grad``, by name, counting, BatchNorm statistics.

Each checker looks at the student's real objects (which parameters require grad, what the
numbers are, what BatchNorm does in ``train()`` mode), never at the source of the answer, so any
correct way passes: a loop, ``requires_grad_``, or a ``course_utils.freezing`` helper.
"""
from __future__ import annotations

import numbers

import torch
from torch import nn

from .. import inspection
from .core import Exercise, Wrong

__all__ = ["q1", "q2", "q3", "q4"]


# ---- shared small checks ---------------------------------------------------------------------
def _need_module(obj, name: str) -> nn.Module:
    if not isinstance(obj, nn.Module):
        raise Wrong(f"`{name}` should be an nn.Module (the model), got {type(obj).__name__}.")
    return obj


def _need_resnet(model: nn.Module, name: str) -> None:
    if not all(hasattr(model, a) for a in ("conv1", "layer4", "fc")):
        raise Wrong(f"`{name}` should be the resnet18 made in the cell above (with `conv1`, "
                    f"`layer1`..`layer4` and `fc`); run that cell again from the top.")


def _blocks(names) -> str:
    """Top-level blocks of some parameter names, as text: 'conv1, bn1, layer1'."""
    tops = inspection.top_level_blocks(names)
    return ", ".join(tops[:6]) + (" ..." if len(tops) > 6 else "")


def _nothing_frozen_traps(model: nn.Module, name: str) -> None:
    """The ways that look like freezing but freeze nothing: every parameter still trains."""
    if not all(p.requires_grad for p in model.parameters()):
        return
    if model.__dict__.get("requires_grad") is False:
        raise Wrong(f"`{name}.requires_grad = False` only sets a plain Python attribute on the "
                    "module object: no parameter reads it, so nothing is frozen. Set "
                    f"`requires_grad` on each parameter (`for p in {name}.parameters(): "
                    f"p.requires_grad = False`) or call the method `{name}.requires_grad_(False)`.")
    if model.__dict__.get("trainable") is False or any(
            p.__dict__.get("trainable") is False for p in model.parameters()):
        raise Wrong("`trainable` is the Keras name; PyTorch never reads it, so nothing is frozen. "
                    "The PyTorch flag is `requires_grad` on each parameter.")
    if not model.training:
        raise Wrong(f"`{name}.eval()` switches Dropout and BatchNorm to inference behaviour but "
                    "freezes nothing: every parameter still requires grad. Freeze with "
                    "`requires_grad = False` on the parameters.")
    raise Wrong("Every parameter still requires grad: nothing is frozen. Loop over "
                f"`{name}.parameters()` and set `requires_grad = False`, then unfreeze what should "
                "train.")


# ---- q1: freeze everything but fc ------------------------------------------------------------
def check_freeze_all_but_fc(model):
    model = _need_module(model, "model")
    _need_resnet(model, "model")
    _nothing_frozen_traps(model, "model")
    named = dict(model.named_parameters())
    head = [n for n in named if n.startswith("fc.")]
    body = [n for n in named if not n.startswith("fc.")]
    head_on = [n for n in head if named[n].requires_grad]
    body_on = [n for n in body if named[n].requires_grad]
    if not head_on and not body_on:
        raise Wrong("Nothing requires grad any more, the head `fc` included: you froze everything "
                    "but forgot to unfreeze the head. After the freezing loop, set "
                    "`requires_grad = True` on `model.fc.parameters()`.")
    if not head_on and len(body_on) == len(body):
        raise Wrong("Freezing is reversed: the head `fc` is frozen and the whole body trains. "
                    "Freeze every parameter first (`requires_grad = False`), then set "
                    "`requires_grad = True` on `model.fc.parameters()` only.")
    if len(head_on) < len(head):
        frozen = [n for n in head if n not in head_on]
        raise Wrong(f"Part of the head is frozen ({', '.join(frozen)}): both `fc.weight` and "
                    "`fc.bias` should train. Unfreeze all of `model.fc.parameters()`.")
    if body_on:
        raise Wrong(f"{len(body_on)} parameter tensors outside `fc` still train (in "
                    f"{_blocks(body_on)}). Freeze every parameter first, then unfreeze `fc`.")
    return "only `fc.weight` and `fc.bias` train; the other 60 tensors are frozen."


q1 = Exercise(
    "q1", "Freeze everything but the head", check_freeze_all_but_fc, variables=["model"],
    hints=["Two loops: one over `model.parameters()` that sets `requires_grad = False`, then one "
           "over `model.fc.parameters()` that sets it back to `True`.",
           "The order matters: freeze everything first, then unfreeze the head. "
           "`model.requires_grad_(False)` is a one-line way to do the first loop."],
    solution="""
for param in model.parameters():
    param.requires_grad = False
for param in model.fc.parameters():
    param.requires_grad = True
""")


# ---- q2: freeze all but layer4 and the head, by name -----------------------------------------
def check_layer4_and_fc(model):
    model = _need_module(model, "model")
    _need_resnet(model, "model")
    _nothing_frozen_traps(model, "model")
    named = dict(model.named_parameters())
    wanted = [n for n in named if n.startswith(("layer4.", "fc."))]
    others = [n for n in named if n not in wanted]
    on = {n for n, p in named.items() if p.requires_grad}
    l4 = [n for n in wanted if n.startswith("layer4.")]
    fc = [n for n in wanted if n.startswith("fc.")]
    if not on:
        raise Wrong("Nothing requires grad: `layer4` and `fc` should train. After freezing "
                    "everything, unfreeze the parameters whose name starts with 'layer4' or 'fc'.")
    if not (on & set(wanted)) and on == set(others):
        raise Wrong("Freezing is reversed: `layer4` and `fc` are frozen and everything else "
                    "trains. Set `requires_grad = True` only where the name matches.")
    if set(l4) <= on and not (on & set(fc)) and not (on & set(others)):
        raise Wrong("Only `layer4` trains: the head `fc` is frozen too. That is the source's loop "
                    "`if 'layer4' in name: ... else: param.requires_grad = False`: 'fc.weight' "
                    "does not contain 'layer4', so the else branch freezes the head. Test for "
                    "both names, e.g. `name.startswith(('layer4', 'fc'))`.")
    if set(fc) <= on and not (on & set(l4)) and not (on & set(others)):
        raise Wrong("Only the head `fc` trains: `layer4` is frozen. Unfreeze the parameters whose "
                    "name starts with 'layer4' as well.")
    missing = [n for n in wanted if n not in on]
    if missing:
        raise Wrong(f"{len(missing)} tensors of `layer4`/`fc` are still frozen (e.g. "
                    f"{missing[0]}): every parameter whose name starts with 'layer4' or 'fc' "
                    "should train, BatchNorm weights and biases included.")
    extra = [n for n in others if n in on]
    if extra:
        raise Wrong(f"{len(extra)} tensors outside `layer4` and `fc` still train (in "
                    f"{_blocks(extra)}). Freeze everything except names starting with 'layer4' "
                    "or 'fc'.")
    return (f"{len(wanted)} tensors train (layer4: {len(l4)}, fc: {len(fc)}); the other "
            f"{len(others)} are frozen.")


q2 = Exercise(
    "q2", "Freeze all but layer4 and the head, by name", check_layer4_and_fc,
    variables=["model"],
    hints=["Loop over `model.named_parameters()`: each item is `(name, param)`, with names like "
           "'layer4.1.conv2.weight' and 'fc.bias'.",
           "The source's loop keeps only `'layer4' in name` trainable, which freezes `fc` too. "
           "Set `param.requires_grad = name.startswith(('layer4', 'fc'))`."],
    solution="""
for name, param in model.named_parameters():
    param.requires_grad = name.startswith(("layer4", "fc"))
""")


# ---- q3: count trainable tensors and elements --------------------------------------------------
def _as_int(value, name: str) -> int:
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point():
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise Wrong(f"`{name}` should be a whole number (an int), got "
                    f"{type(value).__name__} {value!r}.")
    return int(value)


def check_counts(net, n_tensors, n_elements):
    net = _need_module(net, "net")
    n_tensors = _as_int(n_tensors, "n_tensors")
    n_elements = _as_int(n_elements, "n_elements")
    params = list(net.parameters())
    t_train = sum(p.requires_grad for p in params)
    e_train = sum(p.numel() for p in params if p.requires_grad)
    t_all, e_all = len(params), sum(p.numel() for p in params)
    if t_train == t_all:
        raise Wrong("Every parameter of `net` requires grad: run the cell from the top, so the "
                    "setup lines freeze it as described, and count after that.")
    if (n_tensors, n_elements) == (e_train, t_train):
        raise Wrong("The two numbers are swapped: `n_tensors` should be the number of trainable "
                    "tensors, `n_elements` the number of numbers inside them.")
    if n_tensors == t_all:
        raise Wrong(f"`n_tensors` = {n_tensors:,} is the number of ALL parameter tensors, frozen "
                    "ones included. Count only those with `p.requires_grad`.")
    if n_tensors == e_train:
        raise Wrong(f"`n_tensors` = {n_tensors:,} counts elements, not tensors: each trainable "
                    "tensor counts once (`sum(p.requires_grad for p in net.parameters())`).")
    if n_tensors != t_train:
        raise Wrong(f"`n_tensors` = {n_tensors:,} is not the number of trainable tensors. "
                    "`sum(p.requires_grad for p in net.parameters())` counts them (True is 1).")
    if n_elements == t_train:
        raise Wrong(f"`n_elements` = {n_elements:,} is the number of trainable TENSORS. "
                    "`sum(p.requires_grad ...)` counts tensors; elements need `p.numel()`: "
                    "`sum(p.numel() for p in net.parameters() if p.requires_grad)`.")
    if n_elements == e_all:
        raise Wrong(f"`n_elements` = {n_elements:,} counts ALL elements, frozen ones included "
                    "(this is how some summary tools get it wrong). Keep only the tensors with "
                    "`p.requires_grad`.")
    if n_elements != e_train:
        raise Wrong(f"`n_elements` = {n_elements:,} is not the number of trainable elements: "
                    "add `p.numel()` over the parameters that require grad.")
    return (f"{t_train} of {t_all} tensors train, holding {e_train:,} of {e_all:,} numbers "
            f"({e_train / e_all:.1%}).")


q3 = Exercise(
    "q3", "Count trainable tensors and elements", check_counts,
    variables=["net", "n_tensors", "n_elements"],
    hints=["`p.requires_grad` is True or False, and `sum` counts a True as 1.",
           "`p.numel()` is the number of elements (numbers) in tensor `p`; add it up only for the "
           "parameters that require grad."],
    solution="""
n_tensors = sum(p.requires_grad for p in net.parameters())
n_elements = sum(p.numel() for p in net.parameters() if p.requires_grad)
""")


# ---- q4: keep BatchNorm statistics fixed while training ---------------------------------------
def _probe(model: nn.Module):
    """A fixed batch of inputs on the model's device (the checker's own, seeded)."""
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(1234)
    return (torch.randn(8, 3, 32, 32, generator=gen) * 1.5 + 0.7).to(device)


def check_bn_frozen(bn_model):
    model = _need_module(bn_model, "bn_model")
    _need_resnet(model, "bn_model")
    bns = inspection.batchnorm_modules(model)
    if not bns:
        if any("FrozenBatchNorm" in type(m).__name__ for m in model.modules()):
            bns = []  # FrozenBatchNorm2d has fixed buffers and no train mode: fine
        else:
            raise Wrong("`bn_model` has no BatchNorm layer left: keep them (or swap in "
                        "torchvision.ops.FrozenBatchNorm2d), do not delete them.")
    fc = getattr(model, "fc", None)
    if not isinstance(fc, nn.Linear) or not all(p.requires_grad for p in fc.parameters()):
        raise Wrong("The head `bn_model.fc` should still train (requires_grad=True): only the "
                    "BatchNorm statistics must stay fixed.")
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    modes = {n: m.training for n, m in model.named_modules()}
    try:
        model.train()  # what every training loop does at the start of each epoch
        in_train = [n for n, bn in bns if bn.training]
        x = _probe(model)
        before = inspection.batchnorm_stats_snapshot(model)
        with torch.no_grad():
            out_train = model(x)
            model(x * 0.5 - 0.3)
        after = inspection.batchnorm_stats_snapshot(model)
        moved = [k for k in before if not torch.equal(before[k], after[k])]
        if moved:
            only_grad = all(not p.requires_grad for _, bn in bns for p in bn.parameters())
            was_eval = [n for n, _ in bns if modes.get(n) is False]
            if was_eval:
                raise Wrong(
                    f"Your BatchNorm layers were in eval() mode, but `bn_model.train()` (which "
                    f"every epoch of a training loop calls) switched {len(in_train)} of them back "
                    "to train mode, and their running statistics moved again. A one-off `.eval()` "
                    "does not survive: use `batchnorm.keep_batchnorm_frozen(bn_model)`, or "
                    "override `train()` to put them back in eval mode.")
            if only_grad:
                raise Wrong(
                    "The BatchNorm weights and biases have requires_grad=False, but in train() "
                    f"mode the running statistics still moved ({len(moved)} buffers, e.g. "
                    f"{moved[0]}): `requires_grad` does not cover them. Put the BatchNorm layers "
                    "in eval() mode in a way that survives `bn_model.train()`.")
            raise Wrong(f"After `bn_model.train()` and two forward passes, {len(moved)} running "
                        f"statistics moved (e.g. {moved[0]}). Keep the BatchNorm layers in eval() "
                        "mode even when the model is in train() mode, e.g. with "
                        "`batchnorm.keep_batchnorm_frozen(bn_model)`.")
        model.eval()
        with torch.no_grad():
            out_eval = model(x)
        if not torch.allclose(out_train, out_eval, atol=1e-4, rtol=1e-3):
            raise Wrong("The running statistics stay put, but in train() mode the BatchNorm "
                        "layers still normalise each batch with that batch's own statistics "
                        "(e.g. momentum=0 or track_running_stats=False), so training sees "
                        "different features than evaluation. Put the layers in eval() mode so "
                        "they use their fixed statistics, e.g. `keep_batchnorm_frozen`.")
    finally:
        model.load_state_dict(state)
        for n, m in model.named_modules():
            if n in modes:
                m.training = modes[n]
    return ("after `train()` and two forward passes the BatchNorm statistics are bit-identical, "
            "and the head still trains.")


q4 = Exercise(
    "q4", "Keep BatchNorm statistics fixed while training", check_bn_frozen,
    variables=["bn_model"],
    hints=["`requires_grad=False` does not stop `running_mean` and `running_var`: only eval() mode "
           "does. But every epoch calls `bn_model.train()`, which switches them back.",
           "`batchnorm.keep_batchnorm_frozen(bn_model)` puts each BatchNorm layer back in eval() "
           "mode right before it runs, whatever `train()` did."],
    solution="""
from course_utils import batchnorm
batchnorm.keep_batchnorm_frozen(bn_model)
""")
