"""Lesson 04 exercise checkers: right answers pass (several ways), known wrong ways are named."""
import copy
import warnings

import torch
import torchvision
from torch import nn

from course_utils import param_groups
from course_utils.exercises import lesson04 as ex
from exercise_checks import verdict as _verdict, wrong as _wrong


_TEMPLATE = torchvision.models.resnet18(weights=None, num_classes=5)


def _resnet(freeze_stem=False):
    model = copy.deepcopy(_TEMPLATE)     # a fresh copy: faster than a new random init
    if freeze_stem:
        for p in [*model.conv1.parameters(), *model.bn1.parameters()]:
            p.requires_grad = False
    return model


# ---- q1: pick the rate ------------------------------------------------------------------------
SWEEP = {1e-5: 0.55, 1e-4: 0.86, 1e-3: 0.62, 1e-2: 0.21}


def test_q1_correct_two_ways():
    ex.q1.grade(max(SWEEP, key=SWEEP.get), SWEEP)
    best = sorted(SWEEP.items(), key=lambda kv: kv[1])[-1][0]
    assert ex.q1.check(best, SWEEP) is True


def test_q1_wrong_ways():
    assert "is an accuracy" in _wrong(ex.q1, max(SWEEP.values()), SWEEP)
    assert "LOWEST" in _wrong(ex.q1, 1e-2, SWEEP)
    other = {1e-5: 0.5, 1e-4: 0.9, 1e-3: 0.4, 1e-1: 0.45}   # the largest rate is not the worst
    assert "largest learning rate" in _wrong(ex.q1, max(other), other)
    assert "smallest learning rate" in _wrong(ex.q1, 1e-5, SWEEP)
    assert "a number" in _wrong(ex.q1, "1e-4", SWEEP)
    assert "sweep cells" in _wrong(ex.q1, 1e-4, [])


def test_q1_not_attempted(capsys):
    assert ex.q1.check(..., SWEEP) is False
    assert "Not attempted" in capsys.readouterr().out


# ---- q2: the source's optimizer, fixed --------------------------------------------------------
def source_groups(model):
    return [{"params": model.layer1.parameters(), "lr": 1e-5},
            {"params": model.layer4.parameters(), "lr": 1e-4},
            {"params": model.fc.parameters(), "lr": 1e-3}]


def test_q2_correct_two_ways(capsys):
    model = _resnet(freeze_stem=True)
    opt = torch.optim.AdamW(source_groups(model) + [
        {"params": [*model.layer2.parameters(), *model.layer3.parameters()], "lr": 3e-5}],
        weight_decay=1e-2)
    ex.q2.grade(model, opt)
    assert ex.q2.check(model, opt) is True
    assert "Correct" in capsys.readouterr().out
    # another way: the course helper, with a default group for the rest
    model = _resnet(freeze_stem=True)
    groups = param_groups.param_groups_by_block(
        model, {"layer1": 1e-5, "layer4": 1e-4, "fc": 1e-3}, default_lr=1e-5)
    assert ex.q2.check(model, torch.optim.AdamW(groups, weight_decay=1e-2)) is True
    # and a third: one group per block, layer2 and layer3 on their own rates
    model = _resnet(freeze_stem=True)
    opt = torch.optim.AdamW([{"params": m.parameters(), "lr": lr} for m, lr in [
        (model.layer1, 1e-5), (model.layer2, 2e-5), (model.layer3, 5e-5), (model.layer4, 1e-4),
        (model.fc, 1e-3)]])
    assert ex.q2.check(model, opt) is True


def test_q2_the_source_bug_is_named():
    model = _resnet(freeze_stem=True)
    msg = _wrong(ex.q2, model, torch.optim.AdamW(source_groups(model), weight_decay=1e-2))
    assert "no group" in msg and "source page's bug" in msg and "layer2" in msg


def test_q2_frozen_stem_in_the_optimizer():
    model = _resnet(freeze_stem=True)
    opt = torch.optim.AdamW(source_groups(model) + [
        {"params": [*model.conv1.parameters(), *model.bn1.parameters(),
                    *model.layer2.parameters(), *model.layer3.parameters()], "lr": 1e-5}])
    msg = _wrong(ex.q2, model, opt)
    assert "frozen tensors" in msg and "stem" in msg


def test_q2_parameter_twice():
    model = _resnet(freeze_stem=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns about duplicates inside one group
        opt = torch.optim.AdamW(source_groups(model) + [
            {"params": [*model.layer2.parameters(), *model.layer3.parameters(),
                        *model.layer3.parameters()], "lr": 1e-5}])
    assert "more than once" in _wrong(ex.q2, model, opt)


def test_q2_reversed_rates_wrong_optimizer_and_types():
    model = _resnet(freeze_stem=True)
    opt = torch.optim.AdamW([
        {"params": model.layer1.parameters(), "lr": 1e-3},
        {"params": [*model.layer2.parameters(), *model.layer3.parameters()], "lr": 1e-4},
        {"params": model.layer4.parameters(), "lr": 1e-4},
        {"params": model.fc.parameters(), "lr": 1e-5}])
    assert "reversed" in _wrong(ex.q2, model, opt)
    adam = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4,
                            weight_decay=1e-2)
    assert "AdamW" in _wrong(ex.q2, model, adam)
    assert "nn.Module" in _wrong(ex.q2, 3, adam)
    assert "not an optimizer" in _wrong(ex.q2, model, source_groups(model))
    # layer2/3 at the head's rate
    opt = torch.optim.AdamW(source_groups(model) + [
        {"params": [*model.layer2.parameters(), *model.layer3.parameters()], "lr": 1e-3}])
    assert "between layer1" in _wrong(ex.q2, model, opt)


def test_q2_not_attempted_is_friendly(capsys):
    model = _resnet(freeze_stem=True)
    assert ex.q2.check(model, None) is False
    out = capsys.readouterr().out
    assert "Not attempted" in out and "optimizer" in out
    assert ex.q2.check(model, "AdamW") is False
    assert "got str" in capsys.readouterr().out


# ---- q3: layer-wise decay ---------------------------------------------------------------------
def test_q3_correct_two_ways():
    model = _resnet()
    groups = param_groups.layerwise_lr_groups(model, head_lr=1e-3, decay=0.5)
    ex.q3.grade(model, torch.optim.AdamW(groups, weight_decay=1e-2))
    model = _resnet()
    blocks = [[*model.conv1.parameters(), *model.bn1.parameters()], model.layer1.parameters(),
              model.layer2.parameters(), model.layer3.parameters(), model.layer4.parameters(),
              model.fc.parameters()]
    groups, lr = [], 1e-3
    for params in reversed(blocks):
        groups.append({"params": list(params), "lr": lr})
        lr *= 0.5
    assert ex.q3.check(model, torch.optim.SGD(groups, lr=0.1, momentum=0.9)) is True


def test_q3_timm_lr_scale_does_nothing():
    model = _resnet()
    groups = param_groups.layerwise_lr_groups(model, head_lr=1e-3, decay=0.5)
    timm_style = [{"params": g["params"], "lr": 1e-3, "lr_scale": g["lr"] / 1e-3} for g in groups]
    assert "lr_scale" in _wrong(ex.q3, model, torch.optim.AdamW(timm_style))


def test_q3_reversed_flat_and_stem_forgotten():
    model = _resnet()
    groups = param_groups.layerwise_lr_groups(model, head_lr=1e-3, decay=0.5)
    rev = [{"params": g["params"], "lr": h["lr"]} for g, h in zip(groups, reversed(groups))]
    assert "reversed" in _wrong(ex.q3, model, torch.optim.AdamW(rev))
    assert "same rate" in _wrong(ex.q3, model, torch.optim.AdamW(model.parameters(), lr=1e-3))
    # the stem lumped in with layer1
    merged = [{"params": groups[0]["params"] + groups[1]["params"], "lr": groups[1]["lr"]}]
    merged += [{"params": g["params"], "lr": g["lr"]} for g in groups[2:]]
    assert "block of its own" in _wrong(ex.q3, model, torch.optim.AdamW(merged))


def test_q3_missing_block_and_frozen_model():
    model = _resnet()
    groups = param_groups.layerwise_lr_groups(model, head_lr=1e-3, decay=0.5)
    assert "no group" in _wrong(ex.q3, model, torch.optim.AdamW(groups[1:]))
    model.requires_grad_(False)
    model.fc.requires_grad_(True)
    assert "frozen" in _wrong(ex.q3, model, torch.optim.AdamW(model.fc.parameters()))


# ---- q4: no decay on biases and norm weights --------------------------------------------------
def test_q4_correct_two_ways():
    model = _resnet()
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 1e-2},
                             {"params": no_decay, "weight_decay": 0.0}], lr=1e-4)
    ex.q4.grade(model, opt)
    model = _resnet()
    groups = param_groups.param_groups_by_block(model, {}, default_lr=1e-4, weight_decay=1e-2,
                                                no_decay_for_norm_and_bias=True)
    assert ex.q4.check(model, torch.optim.AdamW(groups)) is True
    # names-and-modules way, default weight decay left to AdamW (1e-2)
    model = _resnet()
    norm = {id(p) for m in model.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()}
    nd = [p for n, p in model.named_parameters() if n.endswith("bias") or id(p) in norm]
    d = [p for n, p in model.named_parameters() if not (n.endswith("bias") or id(p) in norm)]
    assert ex.q4.check(model, torch.optim.AdamW([{"params": d},
                                                 {"params": nd, "weight_decay": 0}])) is True


def test_q4_everything_decayed_bias_only_and_reversed():
    model = _resnet()
    assert "Every parameter is decayed" in _wrong(
        ex.q4, model, torch.optim.AdamW(model.parameters(), weight_decay=1e-2))
    bias = [p for n, p in model.named_parameters() if "bias" in n]
    rest = [p for n, p in model.named_parameters() if "bias" not in n]
    msg = _wrong(ex.q4, model, torch.optim.AdamW([{"params": rest, "weight_decay": 1e-2},
                                                  {"params": bias, "weight_decay": 0.0}]))
    assert "BatchNorm weights still do" in msg
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    msg = _wrong(ex.q4, model, torch.optim.AdamW([{"params": decay, "weight_decay": 0.0},
                                                  {"params": no_decay, "weight_decay": 1e-2}]))
    assert "other way round" in msg
    assert "No parameter has weight decay" in _wrong(
        ex.q4, model, torch.optim.AdamW(model.parameters(), weight_decay=0.0))


def test_q4_adam_instead_of_adamw_and_missing():
    model = _resnet()
    assert "L2" in _wrong(ex.q4, model, torch.optim.Adam(model.parameters(), weight_decay=1e-2))
    decay = [p for p in model.parameters() if p.ndim > 1]
    assert "no group" in _wrong(ex.q4, model, torch.optim.AdamW(decay))
