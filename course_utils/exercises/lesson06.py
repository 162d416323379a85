"""Lesson 06 exercises: diagnose a loss that does not move, fix a stale optimizer, pick the epoch.

The checkers look at behaviour: the fixed model and optimizer are trained for a few real steps
(on copies), and ``best_epoch`` is called on several histories.
"""
from __future__ import annotations

import copy
import numbers

import torch
from torch import nn

from .. import inspection
from ..training import History
from .core import Exercise, Wrong

__all__ = ["q1", "q2", "q3", "DIAGNOSES"]

# ---- q1: name the diagnosis ---------------------------------------------------------------------
DIAGNOSES = {
    "no-grad": "no parameter requires grad",
    "stale-optimizer": "the optimizer does not hold the parameters that should train",
    "lr-too-large": "the learning rate is far too large",
    "overfitting": "overfitting: the model memorises the training images",
}
ANSWERS = {"A": "lr-too-large", "B": "stale-optimizer", "C": "overfitting", "D": "no-grad"}
CLUES = {
    "A": "Case A: the first epoch's loss (about 27) is far ABOVE what a random guess costs "
         "(ln 5 = 1.61), and the accuracy sits at chance (0.20): every step overshoots. That is "
         "a learning rate far too large.",
    "B": "Case B: the loss stays flat and the new head's weights are bit-identical after "
         "training, although `count_trainable` says the head requires grad. Look at what the "
         "optimizer holds: it was built before `model.fc` was replaced.",
    "C": "Case C: the training loss keeps falling (to almost 0) while the held-out accuracy has "
         "stopped improving and the held-out loss rises: the model memorises the training "
         "images. That is overfitting.",
    "D": "Case D: `loss.backward()` raises 'element 0 of tensors does not require grad': no "
         "parameter requires grad (the head was replaced BEFORE the freezing loop).",
}


def check_diagnoses(diagnoses):
    if not isinstance(diagnoses, dict):
        raise Wrong(f"`diagnoses` should be a dict like {{'A': 'lr-too-large', ...}}, got "
                    f"{type(diagnoses).__name__}.")
    keys = {str(k).strip().upper(): v for k, v in diagnoses.items()}
    missing = [c for c in ANSWERS if c not in keys]
    if missing:
        raise Wrong(f"`diagnoses` has no entry for case(s) {', '.join(missing)}: give one label "
                    "for each of A, B, C and D.")
    for case in ANSWERS:
        value = keys[case]
        label = str(value).strip().lower() if isinstance(value, str) else value
        if label not in DIAGNOSES:
            raise Wrong(f"Case {case}: {value!r} is not one of the labels "
                        f"{', '.join(repr(k) for k in DIAGNOSES)}.")
    wrong = [c for c in ANSWERS if str(keys[c]).strip().lower() != ANSWERS[c]]
    if wrong:
        raise Wrong(" ".join(f"{CLUES[c]}" for c in wrong[:1]) +
                    (f" ({len(wrong)} cases are wrong; this is the first.)" if len(wrong) > 1
                     else ""))
    return "four symptoms, four causes."


q1 = Exercise(
    "q1", "Why does the loss not move?", check_diagnoses, variables=["diagnoses"],
    hints=["Compare each case's first loss with ln 5 = 1.61, the loss of a uniform guess over "
           "5 classes: far above it means the steps overshoot.",
           "An error from `loss.backward()` means nothing requires grad; a flat loss without "
           "error means something requires grad but is never updated; a falling training loss "
           "with a stuck held-out accuracy means overfitting."],
    solution="""
diagnoses = {"A": "lr-too-large", "B": "stale-optimizer", "C": "overfitting", "D": "no-grad"}
""",
)


# ---- q2: fix the stale optimizer --------------------------------------------------------------------
def _need_module(obj, name):
    if not isinstance(obj, nn.Module):
        raise Wrong(f"`{name}` should be an nn.Module (the model), got {type(obj).__name__}.")


def _blocks(names) -> str:
    tops = list(dict.fromkeys(n.split(".")[0] for n in names))
    return ", ".join(tops)


def _probe_batch(device):
    from .. import data

    task = data.target_task(k=2, seed=0)
    return task.x_train.to(device), task.y_train.to(device)


def check_fixed_optimizer(model, optimizer):
    _need_module(model, "model")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise Wrong(f"`optimizer` should be a torch.optim optimizer, got "
                    f"{type(optimizer).__name__}.")
    if not hasattr(model, "layer4") or not isinstance(getattr(model, "fc", None), nn.Linear):
        raise Wrong("`model` should be the ResNet-18 of the setup line (with `layer4` and `fc`).")
    if model.__dict__.get("requires_grad") is False and all(
            p.requires_grad for p in model.parameters()):
        raise Wrong("`model.requires_grad = False` only sets a plain Python attribute: no "
                    "parameter is frozen. Set `requires_grad` on the parameters.")
    if model.fc.out_features != 5 or model.fc.in_features != 512:
        raise Wrong(f"`model.fc` is Linear({model.fc.in_features}, {model.fc.out_features}); the "
                    "target task needs `nn.Linear(512, 5)`.")
    trainable = inspection.trainable_names(model)
    if not trainable:
        raise Wrong("No parameter requires grad: `loss.backward()` would fail. Replace the head "
                    "AFTER the freezing loop and unfreeze layer4.")
    if not all(p.requires_grad for p in model.fc.parameters()):
        raise Wrong("The new head `model.fc` is frozen: replace it after the freezing loop (a new "
                    "layer requires grad) or unfreeze it.")
    if not all(p.requires_grad for p in model.layer4.parameters()):
        raise Wrong("layer4 is still frozen: set `requires_grad = True` on "
                    "`model.layer4.parameters()`.")
    extra = [n for n in trainable if not n.startswith(("layer4.", "fc."))]
    if extra:
        raise Wrong(f"Only layer4 and fc should train, but these train too: {_blocks(extra)}.")
    if inspection.foreign_parameter_count(model, optimizer):
        raise Wrong("The optimizer holds tensors that are not in the model: the OLD head. It was "
                    "built before `model.fc` was replaced; build it afterwards.")
    left_out = inspection.trainable_but_not_optimized(model, optimizer)
    if left_out:
        raise Wrong(f"The optimizer does not hold {_blocks(left_out)}, which requires grad: an "
                    "optimizer built before unfreezing only updates the tensors it was given. "
                    "Build it after unfreezing (or `add_param_group`).")
    frozen = inspection.frozen_but_optimized(model, optimizer)
    if frozen:
        raise Wrong(f"The optimizer also holds frozen parameters ({_blocks(frozen)}): give it "
                    "only the parameters that require grad.")

    # the behaviour: a few real steps on copies; the loss must fall and layer4 must move
    m, opt = copy.deepcopy((model, optimizer))
    device = next(m.parameters()).device
    x, y = _probe_batch(device)
    frozen_before = {n: p.detach().clone() for n, p in m.named_parameters()
                     if not p.requires_grad}
    l4_before = [p.detach().clone() for p in m.layer4.parameters()]
    m.train()
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    if not losses[-1] < losses[0]:
        raise Wrong(f"Five training steps did not lower the loss ({losses[0]:.3f} -> "
                    f"{losses[-1]:.3f}): check the optimizer's learning rate.")
    if all(torch.equal(a, b) for a, b in zip(l4_before, m.layer4.parameters())):
        raise Wrong("After five steps layer4's weights are unchanged: is its learning rate 0?")
    moved = [n for n, p in m.named_parameters() if n in frozen_before
             and not torch.equal(p, frozen_before[n])]
    if moved:
        raise Wrong(f"Frozen parameters moved during training: {_blocks(moved)}.")
    return f"five steps lowered the loss from {losses[0]:.3f} to {losses[-1]:.3f}; layer4 moved."


q2 = Exercise(
    "q2", "Fix the optimizer built too early", check_fixed_optimizer,
    variables=["model", "optimizer"],
    hints=["Order matters: freeze, replace the head, unfreeze layer4, and only THEN build the "
           "optimizer.",
           "`torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)` "
           "holds exactly what trains at that moment."],
    solution="""
for p in model.parameters():
    p.requires_grad = False
model.fc = nn.Linear(512, 5)
for p in model.layer4.parameters():
    p.requires_grad = True
optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)
""",
)


# ---- q3: the epoch to stop at ------------------------------------------------------------------------
def _history(epochs, val_loss, val_acc, train_loss) -> History:
    return History([{"epoch": e, "train_loss": t, "val_loss": v, "val_acc": a, "seconds": 0.1}
                    for e, v, a, t in zip(epochs, val_loss, val_acc, train_loss)])


def _cases():
    h1 = _history(range(1, 9), [1.2, 0.9, 0.7, 0.62, 0.60, 0.63, 0.70, 0.80],
                  [0.50, 0.60, 0.70, 0.75, 0.76, 0.77, 0.78, 0.74],
                  [1.5, 0.9, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02])
    h2 = _history(range(4, 11), [0.9, 0.8, 0.5, 0.55, 0.6, 0.7, 0.75],
                  [0.6, 0.7, 0.8, 0.8, 0.79, 0.78, 0.77],
                  [0.8, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05])
    h3 = _history(range(1, 5), [1.0, 0.5, 0.5, 0.7], [0.5, 0.8, 0.8, 0.7],
                  [1.0, 0.6, 0.3, 0.1])
    return [(h1, 5), (h2, 6), (h3, 2)]


def check_best_epoch(best_epoch):
    if not callable(best_epoch):
        raise Wrong(f"`best_epoch` should be a function `best_epoch(history)`, got "
                    f"{type(best_epoch).__name__}.")
    for i, (h, want) in enumerate(_cases(), start=1):
        try:
            got = best_epoch(h)
        except Exception as e:
            raise Wrong(f"`best_epoch(history)` raised {type(e).__name__}: {e}. Read the lists "
                        "with `history['val_loss']` and `history['epoch']`.") from None
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if isinstance(got, float) and got.is_integer():
            got = int(got)
        if not isinstance(got, numbers.Integral) or isinstance(got, bool):
            raise Wrong(f"`best_epoch` should return an epoch number (an int), got {got!r}.")
        got = int(got)
        if got == want:
            continue
        epochs, vl = h["epoch"], h["val_loss"]
        index = vl.index(min(vl))
        if got in (index, index + 1) and got != epochs[index]:
            raise Wrong(f"For a history whose epochs are {epochs[0]}-{epochs[-1]} you returned "
                        f"{got}: a position in the list, not the epoch number. Return "
                        "`history['epoch'][i]` (a continued run does not start at epoch 1).")
        if got == epochs[-1]:
            raise Wrong("You returned the last epoch: that is where the training loss is lowest, "
                        "not where the model generalises best. Use the held-out loss.")
        if got == epochs[h["val_acc"].index(max(h["val_acc"]))]:
            raise Wrong("You picked the epoch with the highest held-out accuracy; this exercise "
                        "asks for the lowest held-out LOSS, what `fit`'s early stopping watches "
                        "(accuracy on a small held-out set moves in coarse, noisy steps).")
        if got == epochs[vl.index(max(vl))]:
            raise Wrong("You picked the epoch with the HIGHEST held-out loss: use min, not max.")
        if i == 3:
            raise Wrong(f"With a tie (held-out loss {vl}) return the EARLIEST of the best epochs "
                        f"({want}); you returned {got}.")
        raise Wrong(f"For held-out losses {vl} at epochs {epochs}, the best epoch is {want}; you "
                    f"returned {got}.")
    return "the epoch with the lowest held-out loss, numbered as in the history."


q3 = Exercise(
    "q3", "The epoch to stop at", check_best_epoch, variables=["best_epoch"],
    hints=["`history['val_loss']` is a list, one value per epoch; `history['epoch']` says which "
           "epoch each value belongs to.",
           "`i = losses.index(min(losses))` is the position of the first minimum; return "
           "`history['epoch'][i]`."],
    solution="""
def best_epoch(history):
    losses = history["val_loss"]
    return history["epoch"][losses.index(min(losses))]
""",
)
