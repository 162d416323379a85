"""Lesson 03 exercises: replace a head, build the head's optimizer, train a head on cached features.

Each checker looks at the student's real objects (module types and shapes, which parameters
train, what the optimizer holds, what the head predicts), never at the source of the answer.
"""
from __future__ import annotations

import torch
from torch import nn

from .. import data, inspection, training
from .core import Exercise, Wrong

__all__ = ["q1", "q2", "q3", "q4"]

RESNET_CLASSES = 7
MOBILENET_CLASSES = 5
OPTIMIZER_CLASSES = 3


# ---- shared small checks ---------------------------------------------------------------------
def _need_module(obj, name: str) -> nn.Module:
    if not isinstance(obj, nn.Module):
        raise Wrong(f"`{name}` should be an nn.Module, got {type(obj).__name__}.")
    return obj


def _device(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


def _blocks(names) -> str:
    tops = inspection.top_level_blocks(names)
    return ", ".join(tops[:6]) + (" ..." if len(tops) > 6 else "")


def _check_linear_head(head, name: str, where: str, in_features: int, classes: int,
                       old_classes: int) -> nn.Linear:
    """The new head: an nn.Linear(in_features, classes) with weights of that shape."""
    if not isinstance(head, nn.Linear):
        raise Wrong(f"`{where}` should be a single nn.Linear, got {type(head).__name__}.")
    if tuple(head.weight.shape) != (head.out_features, head.in_features):
        raise Wrong(f"`{where}` says out_features={head.out_features}, but its weight still has "
                    f"shape {tuple(head.weight.shape)}: changing the attribute `out_features` "
                    "does not resize the layer. Create a new layer: "
                    f"`{where} = nn.Linear({where}.in_features, {classes})`.")
    if head.out_features == old_classes and classes != old_classes:
        raise Wrong(f"`{where}` still has the old head's {old_classes} outputs: replace it with a "
                    f"new nn.Linear with {classes} outputs, one per class of the new task.")
    if head.out_features != classes:
        raise Wrong(f"The new head has out_features={head.out_features}, but the task has "
                    f"{classes} classes: out_features is the number of classes.")
    if head.in_features != in_features:
        raise Wrong(f"The new head has in_features={head.in_features}, but the backbone gives "
                    f"{in_features} features: read it from the old head "
                    f"(`{where}.in_features`) before you replace it, instead of typing a number.")
    return head


def _check_only_head_trains(model: nn.Module, name: str, head_prefix: str,
                            head: nn.Module) -> None:
    """Body frozen, new head trainable; names the replace-then-freeze and reversed mistakes."""
    named = dict(model.named_parameters())
    head_ids = {id(p) for p in head.parameters()}
    body = [n for n, p in named.items() if id(p) not in head_ids]
    body_on = [n for n in body if named[n].requires_grad]
    head_on = all(p.requires_grad for p in head.parameters())
    if model.__dict__.get("requires_grad") is False and len(body_on) == len(body):
        raise Wrong(f"`{name}.requires_grad = False` only sets a plain Python attribute: nothing "
                    f"is frozen. Loop over `{name}.parameters()` (or call "
                    f"`{name}.requires_grad_(False)`) before replacing the head.")
    if not head_on and not body_on:
        raise Wrong("Nothing trains, not even the new head: the freezing loop ran AFTER the head "
                    "was replaced, so it froze the new head too. Freeze first, then replace the "
                    "head (a new layer requires grad by default).")
    if not head_on:
        raise Wrong(f"The new head `{head_prefix}` is frozen: only the head should train. "
                    "Freeze the body, then create the head (new layers require grad).")
    if body_on:
        raise Wrong(f"{len(body_on)} tensors of the body still train (in {_blocks(body_on)}): "
                    f"freeze every parameter of `{name}` first, then replace the head.")


def _forward_shape(model: nn.Module, name: str, classes: int) -> None:
    x = torch.randn(2, 3, 32, 32, device=_device(model))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(x)
    except RuntimeError as e:
        raise Wrong(f"`{name}` fails on a batch of images ({str(e).splitlines()[0][:160]}). "
                    "Is the new head on the same device as the model (`.to(device)`), and does "
                    "its in_features match what the backbone gives?")
    finally:
        model.train(was_training)
    if tuple(out.shape) != (2, classes):
        raise Wrong(f"`{name}` gives outputs of shape {tuple(out.shape)} for 2 images; expected "
                    f"(2, {classes}): one score per class.")


def _same_device(model: nn.Module, head: nn.Module, name: str, where: str) -> None:
    body = next(p for n, p in model.named_parameters() if id(p) not in
                {id(q) for q in head.parameters()})
    if head.weight.device != body.device:
        raise Wrong(f"The new head `{where}` is on {head.weight.device} but the rest of `{name}` "
                    f"is on {body.device}: a new layer is created on the CPU. Add `.to(device)`.")


# ---- q1: a resnet18 head for 7 classes -------------------------------------------------------
def check_resnet_head(resnet):
    model = _need_module(resnet, "resnet")
    if not hasattr(model, "layer4"):
        raise Wrong("`resnet` should be the resnet18 made in the cell above; run it again.")
    head = getattr(model, "fc", None)
    _check_linear_head(head, "resnet", "resnet.fc", 512, RESNET_CLASSES, 5)
    _same_device(model, head, "resnet", "resnet.fc")
    _check_only_head_trains(model, "resnet", "resnet.fc", head)
    _forward_shape(model, "resnet", RESNET_CLASSES)
    return (f"`resnet.fc` is a new Linear(512, {RESNET_CLASSES}); its weight and bias are the "
            "only tensors that train.")


q1 = Exercise(
    "q1", "Replace the head of a resnet18", check_resnet_head, variables=["resnet"],
    hints=["First freeze every parameter, then assign a new layer to `resnet.fc`: a layer created "
           "after the freezing loop requires grad by default.",
           "`nn.Linear(resnet.fc.in_features, num_classes).to(device)`: `in_features` is the size "
           "of the features the backbone gives (512 for resnet18)."],
    solution="""
for param in resnet.parameters():
    param.requires_grad = False
resnet.fc = nn.Linear(resnet.fc.in_features, num_classes).to(device)
""")


# ---- q2: the mobilenet_v2 head -----------------------------------------------------------------
def check_mobilenet_head(mnet):
    model = _need_module(mnet, "mnet")
    classifier = getattr(model, "classifier", None)
    if not hasattr(model, "features") or classifier is None:
        raise Wrong("`mnet` should be the mobilenet_v2 made in the cell above; run it again.")
    if isinstance(classifier, nn.Sequential) and len(classifier) and isinstance(
            classifier[-1], nn.Linear) and classifier[-1].out_features == 1000:
        if "fc" in model._modules:
            raise Wrong("mobilenet_v2 has no `fc`: `mnet.fc = ...` adds a new layer that the "
                        "forward pass never uses, and the real head `mnet.classifier[-1]` still "
                        "has 1,000 outputs. Replace `mnet.classifier[-1]`.")
        if len(classifier) >= 2 and isinstance(classifier[0], nn.Linear):
            raise Wrong("`mnet.classifier[0]` is the Dropout, not the head: the head is the last "
                        "layer, `mnet.classifier[-1]` (= `classifier[1]`). Put the Dropout back "
                        "(run the cell from the top) and replace `classifier[-1]`.")
    note = ""
    if isinstance(classifier, nn.Linear):
        head, where = classifier, "mnet.classifier"
        note = (" (You replaced the whole classifier, which also drops its Dropout(0.2); "
                "`mnet.classifier[-1] = ...` keeps it.)")
    elif isinstance(classifier, nn.Sequential) and len(classifier):
        head, where = classifier[-1], "mnet.classifier[-1]"
    else:
        raise Wrong("`mnet.classifier` should still be a Sequential(Dropout, Linear): replace only "
                    "its last layer, `mnet.classifier[-1]`.")
    _check_linear_head(head, "mnet", where, 1280, MOBILENET_CLASSES, 1000)
    _same_device(model, head, "mnet", where)
    _check_only_head_trains(model, "mnet", where, head)
    _forward_shape(model, "mnet", MOBILENET_CLASSES)
    return f"the head is a new Linear(1280, {MOBILENET_CLASSES}) and only it trains.{note}"


q2 = Exercise(
    "q2", "Replace the head of a mobilenet_v2", check_mobilenet_head, variables=["mnet"],
    hints=["mobilenet_v2 has no `fc`: print `mnet.classifier` to see where its head is.",
           "`mnet.classifier[-1] = nn.Linear(mnet.classifier[-1].in_features, 5).to(device)`, "
           "after freezing every parameter."],
    solution="""
for param in mnet.parameters():
    param.requires_grad = False
mnet.classifier[-1] = nn.Linear(mnet.classifier[-1].in_features, 5).to(device)
""")


# ---- q3: an optimizer over only the trainable parameters -----------------------------------------
def check_head_optimizer(head_model, head_optimizer):
    optimizer = head_optimizer
    model = _need_module(head_model, "head_model")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise Wrong("`head_optimizer` should be a torch.optim optimizer, e.g. "
                    f"`torch.optim.Adam(...)`, got {type(optimizer).__name__}.")
    head = getattr(model, "fc", None)
    _check_linear_head(head, "head_model", "head_model.fc", 512, OPTIMIZER_CLASSES, 5)
    foreign = inspection.foreign_parameter_count(model, optimizer)
    if foreign:
        raise Wrong(f"The optimizer holds {foreign} tensors that are not in `head_model` any "
                    "more: it was built before the head was replaced, so it holds the OLD head, "
                    "and the new `fc` would never change. Build the optimizer after replacing "
                    "the head.")
    _check_only_head_trains(model, "head_model", "head_model.fc", head)
    frozen = inspection.frozen_but_optimized(model, optimizer)
    if frozen:
        raise Wrong(f"The optimizer holds {len(frozen)} frozen tensors (in {_blocks(frozen)}): "
                    "it was given all of `head_model.parameters()`. Give it only what trains: "
                    "`head_model.fc.parameters()` or `filter(lambda p: p.requires_grad, "
                    "head_model.parameters())`. A frozen tensor in an optimizer is a trap: if its "
                    "`.grad` is ever zeros rather than None, momentum or weight decay move it.")
    missing = inspection.trainable_but_not_optimized(model, optimizer)
    if missing:
        raise Wrong(f"These trainable tensors are in no optimizer group and would never change: "
                    f"{', '.join(missing)}.")
    twice = [n for n, g in inspection.group_membership(model, optimizer).items() if len(g) > 1]
    if twice:
        raise Wrong(f"{', '.join(twice)} appear in more than one parameter group: give each "
                    "tensor to exactly one group.")
    _forward_shape(model, "head_model", OPTIMIZER_CLASSES)
    return "the optimizer holds exactly `fc.weight` and `fc.bias`, the tensors that train."


q3 = Exercise(
    "q3", "An optimizer for the new head only", check_head_optimizer,
    variables=["head_model", "head_optimizer"],
    hints=["Replace the head first, then build the optimizer: an optimizer keeps the tensors it "
           "was given, and an old head is not the new one.",
           "`torch.optim.Adam(head_model.fc.parameters(), lr=1e-3)`, or pass "
           "`filter(lambda p: p.requires_grad, head_model.parameters())`."],
    solution="""
head_model.fc = nn.Linear(head_model.fc.in_features, 3).to(device)
head_optimizer = torch.optim.Adam(head_model.fc.parameters(), lr=1e-3)
""")


# ---- q4: cached features, and a head trained on them -----------------------------------------
FEATURE_TASK = dict(k=10, seed=0)
MIN_ACCURACY = 0.6
_reference: dict = {}


N_TEST = 400


def _reference_features(task) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """A pristine copy of the course's backbone (head removed) and its features of the task's
    training images and first ``N_TEST`` held-out images, computed once and kept."""
    if "backbone" not in _reference:
        from ..pretrained import load_pretrained

        model = load_pretrained("resnet18", progress=False)
        model.fc = nn.Identity()
        model.eval()
        cpu = torch.device("cpu")
        _reference["backbone"] = model
        _reference["train"] = training.extract_features(model, task.x_train, device=cpu)
        _reference["test"] = training.extract_features(model, task.x_test[:N_TEST], device=cpu)
    return _reference["backbone"], _reference["train"], _reference["test"]


def check_cached_head(backbone, train_features, feature_head):
    backbone = _need_module(backbone, "backbone")
    task = data.target_task(**FEATURE_TASK)
    device = _device(backbone)
    with torch.no_grad():
        was = backbone.training
        backbone.eval()
        out = backbone(task.x_train[:2].to(device))
        backbone.train(was)
    out = out.flatten(1)
    if out.shape[1] != 512:
        raise Wrong(f"`backbone` gives outputs of shape {tuple(out.shape)}: it should give the "
                    "512 features, not class scores. Set `backbone.fc = nn.Identity()` so the "
                    "old head is skipped.")
    if not isinstance(train_features, torch.Tensor):
        raise Wrong("`train_features` should be a tensor of features, got "
                    f"{type(train_features).__name__}.")
    if tuple(train_features.shape) != (len(task.y_train), 512):
        raise Wrong(f"`train_features` has shape {tuple(train_features.shape)}; expected "
                    f"({len(task.y_train)}, 512): one row of 512 features per training image of "
                    "`task4`, in the same order as `task4.y_train`.")
    ref_model, reference, test_features = _reference_features(task)
    feats = train_features.detach().float().cpu()
    # relative difference: loose enough for TF32 convolutions on a GPU, far below what
    # train()-mode BatchNorm or another image order gives
    if ((feats - reference).norm() / reference.norm()).item() > 1e-2:
        stats_now = inspection.batchnorm_stats_snapshot(backbone)
        stats_ref = inspection.batchnorm_stats_snapshot(ref_model)
        moved = any(not torch.allclose(stats_now[k].cpu(), stats_ref[k]) for k in stats_ref
                    if k in stats_now)
        if moved:
            raise Wrong("The features were computed with the backbone in train() mode: BatchNorm "
                        "used batch statistics and its running statistics moved. Compute them in "
                        "eval() mode under torch.no_grad(), e.g. with "
                        "`training.extract_features(backbone, task4.x_train)`.")
        raise Wrong("`train_features` are not the frozen backbone's features of "
                    "`task4.x_train` (in order): compute them with "
                    "`training.extract_features(backbone, task4.x_train)`.")
    head = _need_module(feature_head, "feature_head")
    if isinstance(head, nn.Linear):
        _check_linear_head(head, "feature_head", "feature_head", 512, task.num_classes, -1)
    hdev = next(head.parameters()).device
    with torch.no_grad():
        was = head.training
        head.eval()
        scores = head(test_features.to(hdev)).cpu()
        head.train(was)
    if scores.dim() != 2 or scores.shape[1] != task.num_classes:
        raise Wrong(f"`feature_head` gives outputs of shape {tuple(scores.shape)}; expected "
                    f"(N, {task.num_classes}): one score per class.")
    acc = (scores.argmax(1) == task.y_test[:N_TEST]).float().mean().item()
    if acc < MIN_ACCURACY:
        raise Wrong(f"`feature_head` gets {acc:.0%} of held-out images right (chance is 20%); "
                    f"it should reach at least {MIN_ACCURACY:.0%}. Train it for more epochs or "
                    "with a larger learning rate (1e-2 works well on features).")
    return f"the head trained on cached features gets {acc:.0%} of held-out images right."


q4 = Exercise(
    "q4", "Train a head on cached features", check_cached_head,
    variables=["backbone", "train_features", "feature_head"],
    hints=["`backbone.fc = nn.Identity()` turns the model into a feature extractor; "
           "`training.extract_features(backbone, task4.x_train)` runs it once, in eval() mode.",
           "A new `nn.Linear(512, 5)` trained with Adam (lr=1e-2) for 30 epochs on "
           "`data.make_loader(train_features, task4.y_train, batch_size=16, shuffle=True)` is "
           "plenty: `training.fit(feature_head, loader, epochs=30, optimizer=...)`."],
    solution="""
backbone.fc = nn.Identity()
train_features = training.extract_features(backbone, task4.x_train)
feature_head = nn.Linear(512, task4.num_classes)
loader = data.make_loader(train_features, task4.y_train, batch_size=16, shuffle=True)
optimizer = torch.optim.Adam(feature_head.parameters(), lr=1e-2)
training.fit(feature_head, loader, epochs=30, optimizer=optimizer)
""")
