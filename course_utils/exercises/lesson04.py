"""Lesson 04 exercises: learning rates, parameter groups, layer-wise decay, weight decay.

Each checker looks at real objects (which parameter sits in which optimizer group, at which
learning rate and weight decay), never at the source of the answer, so any correct way passes:
hand-written group dicts, a loop, ``filter``, or the course's ``param_groups`` helpers.
"""
from __future__ import annotations

import math
import numbers

import torch
from torch import nn

from .. import inspection
from .core import Exercise, Wrong

__all__ = ["q1", "q2", "q3", "q4"]

BLOCK_ORDER = ("stem", "layer1", "layer2", "layer3", "layer4", "fc")


# ---- shared small checks ---------------------------------------------------------------------
def _need_resnet(model, name: str = "model") -> nn.Module:
    if not isinstance(model, nn.Module):
        raise Wrong(f"`{name}` should be an nn.Module (the ResNet-18), got {type(model).__name__}.")
    missing = [b for b in ("conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc")
               if not hasattr(model, b)]
    if missing:
        raise Wrong(f"`{name}` should be the ResNet-18 the setup line makes (it has no "
                    f"{', '.join(missing)}): run the whole exercise cell again.")
    if not isinstance(model.fc, nn.Linear) or model.fc.out_features != 5:
        raise Wrong("`model.fc` should be the new 5-class `nn.Linear(512, 5)` the setup line "
                    "makes: run the whole exercise cell again.")
    return model


def _need_optimizer(obj, name: str = "optimizer", adamw: bool = False):
    if isinstance(obj, (list, tuple)) and obj and all(isinstance(g, dict) for g in obj):
        raise Wrong(f"`{name}` is a list of parameter groups, not an optimizer: pass the list to "
                    f"the optimizer, `{name} = torch.optim.AdamW(groups, ...)`.")
    if not isinstance(obj, torch.optim.Optimizer):
        raise Wrong(f"`{name}` should be a torch.optim optimizer (e.g. torch.optim.AdamW(...)), "
                    f"got {type(obj).__name__}.")
    if adamw and not isinstance(obj, torch.optim.AdamW):
        extra = ""
        if isinstance(obj, torch.optim.Adam) and any(g.get("weight_decay") for g in obj.param_groups):
            extra = (" Adam's `weight_decay` is an L2 term added to the gradient, which Adam then "
                     "rescales; AdamW decays the weights directly (decoupled), as the source uses.")
        raise Wrong(f"`{name}` is a {type(obj).__name__}; this exercise asks for "
                    f"`torch.optim.AdamW`, as in the source's example.{extra}")
    return obj


def _block(name: str) -> str:
    top = name.split(".")[0]
    return "stem" if top in ("conv1", "bn1") else top


def _blocks_of(names) -> list[str]:
    seen: dict[str, None] = {}
    for n in names:
        seen.setdefault(_block(n), None)
    return [b for b in BLOCK_ORDER if b in seen] + [b for b in seen if b not in BLOCK_ORDER]


def _say_blocks(names) -> str:
    bs = _blocks_of(names)
    return ", ".join("the stem (conv1, bn1)" if b == "stem" else b for b in bs)


def _check_coverage(model: nn.Module, optimizer, allow_frozen: bool = False) -> None:
    """Every trainable parameter in exactly one group; nothing foreign; frozen ones out."""
    if inspection.foreign_parameter_count(model, optimizer):
        raise Wrong("`optimizer` holds tensors that are not parameters of `model`: it was built "
                    "from another model, or before the head was replaced (so it holds the OLD "
                    "head). Build it from `model` as it is now.")
    membership = inspection.group_membership(model, optimizer)
    params = dict(model.named_parameters())
    twice = [n for n, g in membership.items() if len(g) > 1]
    if twice:
        raise Wrong(f"{len(twice)} tensors are listed more than once ({_say_blocks(twice)}). "
                    "Each parameter must sit in exactly one group: PyTorch refuses a parameter in "
                    "two groups (ValueError), and a parameter twice in one group is updated "
                    "twice per step. Build disjoint groups.")
    missing = [n for n, g in membership.items() if params[n].requires_grad and not g]
    if missing:
        blocks = _blocks_of(missing)
        source_bug = set(blocks) >= {"layer2", "layer3"} and not {"layer1", "layer4", "fc"} & set(blocks)
        msg = (f"{len(missing)} trainable tensors are in no group: {_say_blocks(missing)}. "
               "They keep `requires_grad=True` and get gradients, but the optimizer never "
               "updates them, and nothing warns you.")
        if source_bug:
            msg += (" That is exactly the source page's bug: give layer2 and layer3 a group too "
                    "(or a 'rest' group).")
        else:
            msg += " Give every trainable block a group."
        raise Wrong(msg)
    frozen = [n for n, g in membership.items() if not params[n].requires_grad and g]
    if frozen and not allow_frozen:
        raise Wrong(f"The optimizer holds {len(frozen)} frozen tensors ({_say_blocks(frozen)}). "
                    "Give it only parameters that require grad (e.g. "
                    "`[p for p in model.layer1.parameters() if p.requires_grad]` or leave the "
                    "frozen block out): a frozen tensor held by AdamW can still be moved by "
                    "weight decay and momentum (section 6 of the lesson).")


def _lr_by_name(model: nn.Module, optimizer) -> dict[str, float]:
    ids = {id(p): n for n, p in model.named_parameters()}
    return {ids[id(p)]: g["lr"] for g in optimizer.param_groups for p in g["params"]
            if id(p) in ids}


def _block_rates(model: nn.Module, optimizer) -> dict[str, list[float]]:
    """For each block, the distinct learning rates of its trainable tensors."""
    lrs = _lr_by_name(model, optimizer)
    rates: dict[str, list[float]] = {}
    for n, lr in lrs.items():
        r = rates.setdefault(_block(n), [])
        if not any(math.isclose(lr, x, rel_tol=1e-6) for x in r):
            r.append(lr)
    return rates


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=0.0)


# ---- q1: pick the learning rate from the sweep ------------------------------------------------
def check_best_lr(best_lr, sweep_acc):
    if not isinstance(sweep_acc, dict) or not sweep_acc:
        raise Wrong("`sweep_acc` should be the lesson's dict {learning rate: held-out accuracy}: "
                    "run the sweep cells of section 2 first.")
    if isinstance(best_lr, bool) or not isinstance(best_lr, numbers.Real):
        raise Wrong(f"`best_lr` should be a number (a learning rate such as 1e-4), got "
                    f"{type(best_lr).__name__}.")
    best = max(sweep_acc, key=sweep_acc.get)
    if any(_close(best_lr, lr) for lr in sweep_acc) and _close(best_lr, best):
        return f"lr={best:g} gave the highest held-out accuracy, {sweep_acc[best]:.3f}."
    if any(_close(best_lr, a) for a in sweep_acc.values()) and not any(
            _close(best_lr, lr) for lr in sweep_acc):
        raise Wrong(f"{best_lr:g} is an accuracy, not a learning rate: take the KEY with the "
                    "largest value, e.g. `max(sweep_acc, key=sweep_acc.get)`.")
    worst = min(sweep_acc, key=sweep_acc.get)
    if _close(best_lr, worst):
        raise Wrong(f"lr={best_lr:g} has the LOWEST accuracy in the sweep; you want the highest.")
    if _close(best_lr, max(sweep_acc)):
        raise Wrong(f"{best_lr:g} is the largest learning rate, not the one with the highest "
                    "accuracy: `max(sweep_acc)` compares the keys. Compare the values: "
                    "`max(sweep_acc, key=sweep_acc.get)`.")
    if _close(best_lr, min(sweep_acc)):
        raise Wrong(f"{best_lr:g} is the smallest learning rate, not the one with the highest "
                    "accuracy: compare the values, `max(sweep_acc, key=sweep_acc.get)`.")
    raise Wrong(f"lr={best_lr:g} is not the rate with the highest held-out accuracy in "
                "`sweep_acc`. Pick it with code, not by hand.")


q1 = Exercise(
    "q1", "Pick the learning rate from the sweep", check_best_lr,
    variables=["best_lr", "sweep_acc"],
    hints=[
        "`sweep_acc` maps each learning rate to its held-out accuracy. Which key has the "
        "largest value?",
        "`max(d, key=d.get)` returns the key of the largest value.",
    ],
    solution="""
best_lr = max(sweep_acc, key=sweep_acc.get)
""",
)


# ---- q2: the source's layer-wise AdamW, fixed -------------------------------------------------
SOURCE_RATES = {"layer1": 1e-5, "layer4": 1e-4, "fc": 1e-3}


def check_fixed_source_optimizer(model, optimizer):
    model = _need_resnet(model)
    _need_optimizer(optimizer, adamw=True)
    stem_trainable = [n for n, p in model.named_parameters()
                      if _block(n) == "stem" and p.requires_grad]
    if stem_trainable:
        raise Wrong("conv1 and bn1 should stay frozen, as the setup line left them (this "
                    "exercise keeps the stem fixed): run the whole cell again and do not unfreeze "
                    "them.")
    others_frozen = [n for n, p in model.named_parameters()
                     if _block(n) != "stem" and not p.requires_grad]
    if others_frozen:
        raise Wrong(f"{_say_blocks(others_frozen)} are frozen, but this exercise fine-tunes "
                    "layer1 to fc: leave `requires_grad` as the setup line set it.")
    _check_coverage(model, optimizer)
    rates = _block_rates(model, optimizer)
    for block, want in SOURCE_RATES.items():
        got = rates.get(block, [])
        if len(got) != 1 or not _close(got[0], want):
            if block == "layer1" and got and _close(max(got), 1e-3) and rates.get("fc") and \
                    _close(min(rates["fc"]), 1e-5):
                raise Wrong("The rates are reversed: layer1 trains at 1e-3 and fc at 1e-5. Early "
                            "blocks hold the most general features and get the SMALLEST rate.")
            shown = ", ".join(f"{x:g}" for x in got)
            raise Wrong(f"{block} trains at lr {shown}, but the source gives it {want:g}. Keep "
                        "the source's rates for layer1 (1e-5), layer4 (1e-4) and fc (1e-3).")
    for block in ("layer2", "layer3"):
        for lr in rates.get(block, []):
            if not (1e-5 * (1 - 1e-6) <= lr <= 1e-4 * (1 + 1e-6)):
                raise Wrong(f"{block} trains at lr {lr:g}. It sits between layer1 (1e-5) and "
                            "layer4 (1e-4), so give it a rate in that range: earlier blocks, "
                            "smaller rates.")
    l2, l3 = max(rates["layer2"]), max(rates["layer3"])
    return (f"every trainable tensor is in exactly one group: layer1 1e-05, layer2 {l2:g}, "
            f"layer3 {l3:g}, layer4 1e-04, fc 1e-03; the frozen stem is left out.")


q2 = Exercise(
    "q2", "Fix the source's layer-wise AdamW", check_fixed_source_optimizer,
    variables=["model", "optimizer"],
    hints=[
        "Start from the source's three groups (layer1 1e-5, layer4 1e-4, fc 1e-3). Which blocks "
        "that still train are in none of them?",
        "Add `{'params': [*model.layer2.parameters(), *model.layer3.parameters()], 'lr': 1e-5}` "
        "(any rate from 1e-5 to 1e-4), and leave conv1 and bn1 out: they are frozen.",
        "Check yourself: `param_groups.check_param_groups(model, optimizer)` is silent when every "
        "trainable parameter is in exactly one group and no frozen one is held.",
    ],
    solution="""
optimizer = torch.optim.AdamW([
    {'params': model.layer1.parameters(), 'lr': 1e-5},
    {'params': [*model.layer2.parameters(), *model.layer3.parameters()], 'lr': 3e-5},
    {'params': model.layer4.parameters(), 'lr': 1e-4},
    {'params': model.fc.parameters(), 'lr': 1e-3},
], weight_decay=1e-2)
""",
)


# ---- q3: layer-wise learning-rate decay -------------------------------------------------------
HEAD_LR, DECAY = 1e-3, 0.5
EXPECTED_DECAY = {b: HEAD_LR * DECAY ** d for d, b in enumerate(reversed(BLOCK_ORDER))}


def check_layerwise_decay(model, optimizer):
    model = _need_resnet(model)
    _need_optimizer(optimizer)
    frozen = inspection.frozen_names(model)
    if frozen:
        raise Wrong(f"{_say_blocks(frozen)} are frozen, but this exercise fine-tunes every block: "
                    "run the whole cell again and leave `requires_grad` as it is.")
    _check_coverage(model, optimizer)
    rates = _block_rates(model, optimizer)
    scaled = [g for g in optimizer.param_groups if "lr_scale" in g]
    if scaled and len({round(g["lr"], 15) for g in optimizer.param_groups}) == 1:
        raise Wrong("Your groups carry an `lr_scale` key but all have the same `lr`. PyTorch's "
                    "optimizers and schedulers read only `lr`: `lr_scale` is timm's convention, "
                    "applied only by timm's own schedulers, so here the decay does nothing. Put "
                    "the real rate in each group's 'lr'.")
    mixed = [b for b, r in rates.items() if len(r) > 1]
    if mixed:
        raise Wrong(f"The tensors of {mixed[0]} have different rates "
                    f"({', '.join(f'{x:g}' for x in rates[mixed[0]])}); give each block one rate.")
    got = {b: rates[b][0] for b in BLOCK_ORDER if b in rates}
    if _close(got["stem"], got["fc"]):
        raise Wrong(f"Every block trains at the same rate ({got['fc']:g}): that is no layer-wise "
                    "decay. fc gets 1e-3 and each earlier block half the rate of the block after "
                    "it.")
    if got["stem"] > got["fc"]:
        raise Wrong("The decay is reversed: the early blocks train faster than the head. Early "
                    "blocks hold the most general features; they get the SMALLEST rate.")
    if not _close(got["fc"], HEAD_LR):
        raise Wrong(f"The head fc trains at {got['fc']:g}; it should get head_lr = 1e-3.")
    for block in reversed(BLOCK_ORDER):
        if not _close(got[block], EXPECTED_DECAY[block]):
            note = ""
            if block == "stem" and _close(got["stem"], got["layer1"]):
                note = (" The stem (conv1 + bn1) is a block of its own, the earliest one: it gets "
                        "half of layer1's rate.")
            raise Wrong(f"{block} trains at {got[block]:g}, expected "
                        f"{EXPECTED_DECAY[block]:g} (= 1e-3 x 0.5^{BLOCK_ORDER[::-1].index(block)})."
                        + note)
    return ("rates from input to output: "
            + ", ".join(f"{b} {got[b]:.4g}" for b in BLOCK_ORDER) + ".")


q3 = Exercise(
    "q3", "Layer-wise learning-rate decay", check_layerwise_decay,
    variables=["model", "optimizer"],
    hints=[
        "Six blocks from input to output: the stem (conv1 + bn1), layer1, layer2, layer3, layer4, "
        "fc. fc gets 1e-3, layer4 0.5e-3, layer3 0.25e-3, and so on.",
        "Walk the blocks from the head backwards, multiplying the rate by 0.5 each time, and make "
        "one group per block: `{'params': block.parameters(), 'lr': rate}`. Put the conv1 and bn1 "
        "parameters together in the stem's group.",
        "`param_groups.layerwise_lr_groups(model, head_lr=1e-3, decay=0.5)` builds exactly these "
        "groups; compare with yours via `param_groups.describe_param_groups`.",
    ],
    solution="""
blocks = [[*model.conv1.parameters(), *model.bn1.parameters()],
          model.layer1.parameters(), model.layer2.parameters(),
          model.layer3.parameters(), model.layer4.parameters(), model.fc.parameters()]
groups, lr = [], 1e-3
for params in reversed(blocks):
    groups.append({'params': list(params), 'lr': lr})
    lr *= 0.5
optimizer = torch.optim.AdamW(groups, weight_decay=1e-2)
""",
)


# ---- q4: no weight decay on biases and norm weights -------------------------------------------
WEIGHT_DECAY = 1e-2


def _norm_param_ids(model: nn.Module) -> set[int]:
    norms = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm)
    return {id(p) for m in model.modules() if isinstance(m, norms)
            for p in m.parameters(recurse=False)}


def check_no_decay(model, optimizer):
    model = _need_resnet(model)
    _need_optimizer(optimizer, adamw=True)
    frozen = inspection.frozen_names(model)
    if frozen:
        raise Wrong(f"{_say_blocks(frozen)} are frozen, but this exercise trains every parameter: "
                    "run the whole cell again.")
    _check_coverage(model, optimizer)
    wd = {}
    names = {id(p): n for n, p in model.named_parameters()}
    for g in optimizer.param_groups:
        for p in g["params"]:
            wd[names[id(p)]] = g["weight_decay"]
    norm_ids = _norm_param_ids(model)
    params = dict(model.named_parameters())
    is_norm = {n: id(p) in norm_ids for n, p in params.items()}
    weights = [n for n, p in params.items() if p.ndim > 1 and not is_norm[n]]
    biases = [n for n, p in params.items() if n.endswith("bias") and not is_norm[n]]
    norms = [n for n in params if is_norm[n]]
    decayed = lambda ns: [n for n in ns if wd[n] != 0]  # noqa: E731
    if not decayed(weights):
        if decayed(biases + norms):
            raise Wrong("It is the other way round: the conv and linear weights get no decay "
                        "while biases or norm parameters do. Decay the multi-dimensional weights "
                        "(1e-2); set weight_decay=0 for biases and BatchNorm parameters.")
        raise Wrong("No parameter has weight decay. Keep weight_decay=1e-2 for the conv and "
                    "linear weights; only biases and normalisation parameters get 0.")
    if decayed(biases + norms) and len(decayed(biases + norms)) == len(biases + norms):
        raise Wrong("Every parameter is decayed, biases and BatchNorm weights included. Put "
                    "biases and norm parameters (the 1-D tensors) in a group with "
                    "'weight_decay': 0. Note that a group without a 'weight_decay' key inherits "
                    "the optimizer's default, which for AdamW is 1e-2.")
    if decayed(norms) and not decayed(biases):
        shown = ", ".join(decayed(norms)[:3])
        raise Wrong(f"The biases get no decay, but the BatchNorm weights still do ({shown}, ...). "
                    "A BatchNorm weight is a per-channel scale: decaying it pulls the scale toward "
                    "0. Selecting by the name 'bias' misses them; select by `p.ndim == 1` or by "
                    "module type (nn.BatchNorm2d).")
    if decayed(biases):
        raise Wrong(f"Some biases are still decayed ({', '.join(decayed(biases)[:3])}): put every "
                    "bias in the no-decay group.")
    if decayed(norms):
        raise Wrong(f"Some BatchNorm parameters are still decayed ({', '.join(decayed(norms)[:3])})"
                    ": put every norm weight and bias in the no-decay group.")
    wrong = [n for n in weights if not _close(wd[n], WEIGHT_DECAY)]
    if wrong:
        raise Wrong(f"{wrong[0]} has weight_decay={wd[wrong[0]]:g}; the conv and linear weights "
                    "should keep weight_decay=1e-2.")
    return (f"{len(weights)} weight tensors decay at 1e-2; {len(biases) + len(norms)} biases and "
            "BatchNorm parameters do not.")


q4 = Exercise(
    "q4", "No weight decay on biases and norm weights", check_no_decay,
    variables=["model", "optimizer"],
    hints=[
        "Two groups: the conv and linear weights (tensors with `p.ndim > 1`) with "
        "weight_decay=1e-2, and everything 1-D (biases, BatchNorm weights and biases) with "
        "weight_decay=0.",
        "`decay = [p for p in model.parameters() if p.ndim > 1]`, `no_decay = [p for p in "
        "model.parameters() if p.ndim <= 1]`, then "
        "`torch.optim.AdamW([{'params': decay, 'weight_decay': 1e-2}, {'params': no_decay, "
        "'weight_decay': 0.0}], lr=1e-4)`.",
    ],
    solution="""
decay = [p for p in model.parameters() if p.ndim > 1]       # conv and linear weights
no_decay = [p for p in model.parameters() if p.ndim <= 1]   # biases, BatchNorm weights and biases
optimizer = torch.optim.AdamW([
    {'params': decay, 'weight_decay': 1e-2},
    {'params': no_decay, 'weight_decay': 0.0},
], lr=1e-4)
""",
)
