"""Lesson 05 exercises: two-phase training, gradual unfreezing, ``add_param_group``.

Each checker looks at real objects (which parameters train, what each optimizer holds, at which
learning rate), never at the source of the answer, so any correct way passes.
"""
from __future__ import annotations

import torch
from torch import nn

from .. import inspection
from .core import Exercise, Wrong

__all__ = ["q1", "q2", "q3"]


# ---- shared small checks ---------------------------------------------------------------------
def _need_module(obj, name: str) -> nn.Module:
    if not isinstance(obj, nn.Module):
        raise Wrong(f"`{name}` should be an nn.Module (the model), got {type(obj).__name__}.")
    return obj


def _need_optimizer(obj, name: str) -> torch.optim.Optimizer:
    if not isinstance(obj, torch.optim.Optimizer):
        raise Wrong(f"`{name}` should be a torch.optim optimizer (e.g. torch.optim.Adam(...)), "
                    f"got {type(obj).__name__}.")
    return obj


def _attribute_trap(model: nn.Module, name: str = "model") -> None:
    """``model.requires_grad = False`` sets a plain attribute and freezes nothing."""
    if model.__dict__.get("requires_grad") is False and all(
            p.requires_grad for p in model.parameters()):
        raise Wrong(f"`{name}.requires_grad = False` only sets a plain Python attribute on the "
                    "module: no parameter is frozen. Set `requires_grad` on each parameter "
                    f"(`for p in {name}.parameters(): p.requires_grad = False`) or call "
                    f"`{name}.requires_grad_(False)`.")


def _top(names) -> list[str]:
    """Block names: 'features.18', 'classifier', 'layer4', 'fc' (two parts for `features`)."""
    out: dict[str, None] = {}
    for n in names:
        parts = n.split(".")
        key = ".".join(parts[:2]) if parts[0] == "features" else parts[0]
        out.setdefault(key, None)
    return list(out)


def _short(names, limit: int = 5) -> str:
    blocks = _top(names)
    return ", ".join(blocks[:limit]) + (" ..." if len(blocks) > limit else "")


def _lrs_holding(optimizer: torch.optim.Optimizer, params) -> list[float]:
    ids = {id(p) for p in params}
    return [g["lr"] for g in optimizer.param_groups if any(id(p) in ids for p in g["params"])]


def _mobilenet_head(model: nn.Module) -> nn.Linear:
    classifier = getattr(model, "classifier", None)
    if not isinstance(classifier, nn.Sequential) or len(classifier) < 2:
        raise Wrong("`model.classifier` should still be MobileNetV2's Sequential(Dropout, Linear): "
                    "replace only its last layer, `model.classifier[1] = nn.Linear(1280, 5)`.")
    head = classifier[-1]
    if not isinstance(head, nn.Linear):
        raise Wrong(f"`model.classifier[1]` should be an nn.Linear, got {type(head).__name__}.")
    if head.out_features != 5:
        raise Wrong(f"The new head has out_features={head.out_features}, but the target task has "
                    "5 classes: use `nn.Linear(model.classifier[1].in_features, 5)`.")
    if head.in_features != 1280:
        raise Wrong(f"The new head has in_features={head.in_features}; MobileNetV2's features "
                    "have 1280 channels: read it from `model.classifier[1].in_features`.")
    return head


# ---- q1: the two-phase schedule ---------------------------------------------------------------
HEAD = ("classifier.",)
LAST_BLOCK = "features.18."


def check_two_phase(model, phase1_optimizer, phase2_optimizer):
    model = _need_module(model, "model")
    _need_optimizer(phase1_optimizer, "phase1_optimizer")
    _need_optimizer(phase2_optimizer, "phase2_optimizer")
    if not hasattr(model, "features") or len(getattr(model, "features", [])) != 19:
        raise Wrong("`model` should be the MobileNetV2 from `load_pretrained('mobilenet_v2')` "
                    "(19 blocks in `model.features`).")
    _attribute_trap(model)
    head = _mobilenet_head(model)
    head_names = [n for n, _ in model.named_parameters() if n.startswith(HEAD)]
    trainable = inspection.trainable_names(model)
    last_block = [n for n, _ in model.named_parameters() if n.startswith(LAST_BLOCK)]

    # the model as phase 2 leaves it: the head and the last block train, nothing else
    if not trainable:
        raise Wrong("No parameter of `model` requires grad: after phase 2 the head and the last "
                    "block (`model.features[-1]`) should train.")
    if not all(p.requires_grad for p in head.parameters()):
        if any(n.startswith("features.") for n in trainable):
            raise Wrong("The head is frozen while backbone blocks train: the freezing is "
                        "reversed. Freeze the backbone and keep `model.classifier[1]` trainable "
                        "(a new nn.Linear requires grad unless you freeze it afterwards).")
        raise Wrong("The new head `model.classifier[1]` is frozen: replace it AFTER the freezing "
                    "loop, or unfreeze it again.")
    if not all(n in trainable for n in last_block):
        raise Wrong("Phase 2 should unfreeze the last block, `model.features[-1]` "
                    "(features.18), but it is still frozen.")
    extra = [n for n in trainable if not n.startswith(HEAD) and not n.startswith(LAST_BLOCK)]
    if extra:
        raise Wrong(f"Only the head and the last block should train in phase 2, but these train "
                    f"too: {_short(extra)}. Freeze everything first, then unfreeze "
                    "`model.features[-1]`.")

    # phase 1: the optimizer holds the head, and only the head
    if phase1_optimizer is phase2_optimizer:
        raise Wrong("`phase1_optimizer` and `phase2_optimizer` are the same object. Build a new "
                    "optimizer for phase 2 after unfreezing (exercise 3 practises the other way, "
                    "`add_param_group`).")
    if inspection.foreign_parameter_count(model, phase1_optimizer):
        raise Wrong("`phase1_optimizer` holds tensors that are not in the model: it was built "
                    "before the head was replaced, so it holds the OLD head. Build it after "
                    "`model.classifier[1] = nn.Linear(...)`.")
    held1 = inspection.optimizer_parameter_names(model, phase1_optimizer)
    missing_head = [n for n in head_names if n not in held1]
    if missing_head:
        raise Wrong(f"`phase1_optimizer` does not hold the new head ({', '.join(missing_head)}): "
                    "phase 1 would train nothing.")
    extra1 = [n for n in held1 if n not in head_names]
    if extra1:
        raise Wrong(f"`phase1_optimizer` holds more than the head ({_short(extra1)}): an "
                    "optimizer over all parameters. In phase 1 give it only the head's "
                    "parameters, e.g. `model.classifier[1].parameters()` or the ones that "
                    "require grad at that moment.")

    # phase 2: a new optimizer over what trains now, at a lower rate
    if inspection.foreign_parameter_count(model, phase2_optimizer):
        raise Wrong("`phase2_optimizer` holds tensors that are not in the model (an old head?): "
                    "build it from the model as it is after unfreezing.")
    left_out = inspection.trainable_but_not_optimized(model, phase2_optimizer)
    if left_out:
        raise Wrong(f"`phase2_optimizer` does not hold {_short(left_out)}, which now train: an "
                    "optimizer only updates the tensors it was given when it was built. Build "
                    "phase 2's optimizer AFTER unfreezing the last block.")
    frozen_held = inspection.frozen_but_optimized(model, phase2_optimizer)
    if frozen_held:
        raise Wrong(f"`phase2_optimizer` also holds frozen parameters ({_short(frozen_held)}): "
                    "give it only the parameters that require grad.")
    lr1 = max(g["lr"] for g in phase1_optimizer.param_groups)
    lr2 = _lrs_holding(phase2_optimizer, model.features[-1].parameters())
    if max(lr2) >= lr1:
        raise Wrong(f"Phase 2 trains the unfrozen block at lr={max(lr2):g}, not lower than "
                    f"phase 1's lr={lr1:g}. Continue with a smaller rate (e.g. 10 times smaller) "
                    "so the pretrained weights change gently.")
    return (f"phase 1 trains the head at lr={lr1:g}; phase 2 trains the head and features.18 "
            f"at lr={max(lr2):g}.")


q1 = Exercise(
    "q1", "Two-phase schedule", check_two_phase,
    variables=["model", "phase1_optimizer", "phase2_optimizer"],
    hints=[
        "Phase 1: freeze every parameter, replace `model.classifier[1]` with "
        "`nn.Linear(1280, 5)`, and build `phase1_optimizer` over the head's parameters only.",
        "Phase 2: set `requires_grad = True` on `model.features[-1].parameters()`, then build a "
        "NEW optimizer over `[p for p in model.parameters() if p.requires_grad]` at a lower rate.",
    ],
    solution="""
for p in model.parameters():
    p.requires_grad = False
model.classifier[1] = nn.Linear(model.classifier[1].in_features, 5)
phase1_optimizer = torch.optim.Adam(model.classifier[1].parameters(), lr=1e-3)
# ... phase 1 training would run here ...
for p in model.features[-1].parameters():
    p.requires_grad = True
phase2_optimizer = torch.optim.Adam(
    [p for p in model.parameters() if p.requires_grad], lr=1e-4)
""",
)


# ---- q2: gradual unfreezing -------------------------------------------------------------------
def _fresh_mobilenet() -> nn.Module:
    import torchvision

    return torchvision.models.mobilenet_v2(weights=None, num_classes=5)


def _expected_stage(stage: int) -> list[str]:
    return [f"features.{i}" for i in range(19 - (stage - 1), 19)] + ["classifier"]


def _describe(blocks: list[str]) -> str:
    return ", ".join(blocks) if blocks else "nothing"


def check_gradual(set_stage):
    if not callable(set_stage):
        raise Wrong(f"`set_stage` should be a function `set_stage(model, stage)`, got "
                    f"{type(set_stage).__name__}.")
    model = _fresh_mobilenet()  # used for stages 1, 2, 3 in order, like a real run
    for stage in (1, 2, 3):
        try:
            set_stage(model, stage)
        except Exception as e:
            raise Wrong(f"`set_stage(model, {stage})` raised {type(e).__name__}: {e}") from None
        if stage == 1:
            _attribute_trap(model)
        got = _top(inspection.trainable_names(model))
        want = _expected_stage(stage)
        if got == want:
            continue
        if "classifier" not in got:
            raise Wrong(f"At stage {stage} the head (`model.classifier`) is frozen; it must "
                        f"train at every stage. Trainable now: {_describe(got)}.")
        if any(b in got for b in ("features.0", "features.1")) and len(got) < 19:
            raise Wrong(f"At stage {stage} the blocks next to the INPUT train ({_describe(got)}). "
                        "Gradual unfreezing goes from the output backwards: stage 2 adds "
                        "features.18, stage 3 features.17, and so on.")
        if len(got) == 20:
            raise Wrong(f"At stage {stage} every block trains: freeze all blocks first, then "
                        f"unfreeze the last {stage - 1} block(s) and the head.")
        if len(got) == len(want) + 1 and got[1:] == want:
            raise Wrong(f"At stage {stage} one block too many trains ({_describe(got)}). Stage 1 "
                        f"is the head alone; stage n adds the last n-1 blocks of "
                        "`model.features`.")
        raise Wrong(f"At stage {stage} these blocks train: {_describe(got)}; expected "
                    f"{_describe(want)} (the head and the last {stage - 1} block(s) of "
                    "`model.features`).")
    # jumping back to stage 1 must freeze again: the function sets the state, whatever it was
    try:
        set_stage(model, 1)
    except Exception as e:
        raise Wrong(f"`set_stage(model, 1)` after stage 3 raised {type(e).__name__}: {e}") from None
    got = _top(inspection.trainable_names(model))
    if got != ["classifier"]:
        raise Wrong(f"After stage 3, `set_stage(model, 1)` leaves {_describe(got)} trainable: "
                    "each call should set the whole state (freeze the earlier blocks too), not "
                    "only unfreeze.")
    return "stage 1 trains the head; each later stage adds the next block from the output end."


q2 = Exercise(
    "q2", "Gradual unfreezing stages", check_gradual, variables=["set_stage"],
    hints=[
        "`freezing.freeze_to(model, -stage)` does exactly this: the last `stage` blocks of "
        "`freezing.blocks(model)` train, and the head is the last block.",
        "By hand: freeze every parameter, unfreeze `model.classifier`, then unfreeze "
        "`model.features[19 - (stage - 1):]` (for stage 1 that slice is empty).",
    ],
    solution="""
def set_stage(model, stage):
    freezing.freeze_to(model, -stage)

# or by hand:
# def set_stage(model, stage):
#     for p in model.parameters():
#         p.requires_grad = False
#     for p in model.classifier.parameters():
#         p.requires_grad = True
#     for block in model.features[len(model.features) - (stage - 1):]:
#         for p in block.parameters():
#             p.requires_grad = True
""",
)


# ---- q3: add the unfrozen block to the existing optimizer ---------------------------------------
def check_add_group(model, optimizer):
    model = _need_module(model, "model")
    _need_optimizer(optimizer, "optimizer")
    if not hasattr(model, "layer4") or not isinstance(getattr(model, "fc", None), nn.Linear):
        raise Wrong("`model` should be the resnet18 of the setup lines (with `layer4` and `fc`).")
    _attribute_trap(model)
    fc, layer4 = list(model.fc.parameters()), list(model.layer4.parameters())
    if inspection.foreign_parameter_count(model, optimizer):
        raise Wrong("`optimizer` holds tensors that are not in the model (an old head?).")
    if not any(id(p) in {id(q) for q in fc} for p in optimizer.param_groups[0]["params"]):
        raise Wrong("The optimizer's first group should still be the head's group from the setup "
                    "lines: extend that optimizer rather than rebuilding it.")
    with_state = {id(t) for t, st in optimizer.state.items() if st}
    if not any(id(p) in with_state for p in fc):
        raise Wrong("This optimizer has no Adam state for the head: it looks newly built. A new "
                    "optimizer would work too, but it throws away the head's moment estimates; "
                    "this exercise asks you to extend the existing one with "
                    "`optimizer.add_param_group({...})`.")
    if not all(p.requires_grad for p in fc):
        raise Wrong("The head `model.fc` is frozen now: only layer4 should be unfrozen; the head "
                    "keeps training.")
    held = {id(p) for g in optimizer.param_groups for p in g["params"]}
    l4_held = all(id(p) in held for p in layer4)
    l4_trainable = all(p.requires_grad for p in layer4)
    if l4_held and not l4_trainable:
        raise Wrong("layer4 is in the optimizer but its parameters still have requires_grad=False: "
                    "they get no gradient and never move. Unfreeze them as well.")
    if l4_trainable and not l4_held:
        raise Wrong("layer4 now requires grad, but the optimizer does not hold it: an optimizer "
                    "built before unfreezing only updates the tensors it was given. Add them with "
                    "`optimizer.add_param_group({'params': model.layer4.parameters(), "
                    "'lr': 1e-4})`.")
    if not l4_trainable:
        raise Wrong("layer4 is still frozen and not in the optimizer: unfreeze it, then add its "
                    "parameters with `optimizer.add_param_group(...)`.")
    extra = [n for n in inspection.trainable_names(model)
             if not n.startswith(("layer4.", "fc."))]
    if extra:
        raise Wrong(f"Only layer4 and fc should train, but these train too: {_short(extra)}.")
    frozen_held = inspection.frozen_but_optimized(model, optimizer)
    if frozen_held:
        raise Wrong(f"The optimizer holds frozen parameters ({_short(frozen_held)}): add only "
                    "layer4's parameters.")
    head_lr = max(_lrs_holding(optimizer, fc))
    l4_lr = max(_lrs_holding(optimizer, layer4))
    if l4_lr >= head_lr:
        raise Wrong(f"layer4's group has lr={l4_lr:g}, not lower than the head's lr={head_lr:g}: "
                    "give the new group its own, smaller 'lr' (e.g. 1e-4).")
    return f"{len(optimizer.param_groups)} groups: head at lr={head_lr:g}, layer4 at lr={l4_lr:g}."


q3 = Exercise(
    "q3", "Add the unfrozen block with add_param_group", check_add_group,
    variables=["model", "optimizer"],
    hints=[
        "First unfreeze: `for p in model.layer4.parameters(): p.requires_grad = True`.",
        "Then `optimizer.add_param_group({'params': model.layer4.parameters(), 'lr': 1e-4})`: "
        "a dict, like one entry of the list you can pass to an optimizer.",
    ],
    solution="""
for p in model.layer4.parameters():
    p.requires_grad = True
optimizer.add_param_group({"params": model.layer4.parameters(), "lr": 1e-4})
""",
)
