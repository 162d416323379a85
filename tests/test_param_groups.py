"""Optimizer groups cover every trainable parameter exactly once, or the builder says why not."""
import pytest
import torch
from torch import nn
from torchvision import models

from course_utils import inspection, param_groups
from course_utils.param_groups import ParamGroupError


@pytest.fixture
def model():
    m = models.resnet18(weights=None)
    m.fc = nn.Linear(m.fc.in_features, 5)
    return m


def test_the_source_layerwise_example_leaves_four_blocks_out(model):
    # the 004 page's AdamW groups: layer1, layer4, fc only
    groups = [{"params": model.layer1.parameters(), "lr": 1e-5},
              {"params": model.layer4.parameters(), "lr": 1e-4},
              {"params": model.fc.parameters(), "lr": 1e-3}]
    opt = torch.optim.AdamW(groups, weight_decay=1e-2)
    left_out = inspection.trainable_but_not_optimized(model, opt)
    assert {n.split(".")[0] for n in left_out} == {"conv1", "bn1", "layer2", "layer3"}
    with pytest.raises(ParamGroupError, match=r"conv1.*bn1.*layer2.*layer3"):
        param_groups.check_param_groups(model, opt)
    with pytest.raises(ParamGroupError, match="in no group and would never train"):
        param_groups.param_groups_by_block(model, {"layer1": 1e-5, "layer4": 1e-4, "fc": 1e-3})


def test_a_parameter_in_two_groups_is_rejected(model):
    groups = [{"params": list(model.parameters()), "lr": 1e-4},
              {"params": list(model.fc.parameters()), "lr": 1e-3}]
    with pytest.raises(ParamGroupError, match="more than one group"):
        param_groups.check_param_groups(model, groups)


def test_default_lr_covers_every_trainable_parameter_once(model):
    groups = param_groups.param_groups_by_block(model, {"layer4": 1e-4, "fc": 1e-3},
                                                default_lr=1e-5)
    opt = torch.optim.AdamW(groups)
    param_groups.check_param_groups(model, opt)
    by_name = {g["name"]: g for g in opt.param_groups}
    assert by_name["fc"]["lr"] == 1e-3 and by_name["default"]["lr"] == 1e-5
    assert sum(len(g["params"]) for g in opt.param_groups) == len(list(model.parameters()))


def test_a_misspelled_prefix_is_an_error_not_a_silent_no_op(model):
    with pytest.raises(ParamGroupError, match="layer_4"):
        param_groups.param_groups_by_block(model, {"layer_4": 1e-4}, default_lr=1e-5)


def test_frozen_parameters_are_left_out_and_flagged(model):
    for p in model.parameters():
        p.requires_grad = False
    for p in model.fc.parameters():
        p.requires_grad = True
    groups = param_groups.param_groups_by_block(model, {"fc": 1e-3})
    assert [g["name"] for g in groups] == ["fc"]
    with pytest.raises(ParamGroupError, match="frozen tensors are in the optimizer"):
        param_groups.check_param_groups(model, torch.optim.AdamW(model.parameters()))
    param_groups.check_param_groups(model, torch.optim.AdamW(model.parameters()),
                                    allow_frozen=True)


def test_an_optimizer_holding_the_old_head_is_caught():
    model = models.resnet18(weights=None)
    opt = torch.optim.Adam(model.parameters())
    model.fc = nn.Linear(512, 5)  # replaced after the optimizer was built
    with pytest.raises(ParamGroupError, match="not parameters of this model"):
        param_groups.check_param_groups(model, opt)


def test_no_decay_for_norm_and_bias(model):
    groups = param_groups.param_groups_by_block(model, {"fc": 1e-3}, default_lr=1e-4,
                                                weight_decay=0.05,
                                                no_decay_for_norm_and_bias=True)
    param_groups.check_param_groups(model, groups)
    names = {id(p): n for n, p in model.named_parameters()}
    for g in groups:
        members = [names[id(p)] for p in g["params"]]
        if g["name"].endswith("(no decay)"):
            assert g["weight_decay"] == 0.0
            assert all(n.endswith("bias") or "bn" in n or "downsample.1" in n for n in members)
        else:
            assert g["weight_decay"] == 0.05 and all(p.ndim > 1 for p in g["params"])


def test_layerwise_decay_gives_real_rates_that_any_scheduler_scales(model):
    groups = param_groups.layerwise_lr_groups(model, head_lr=1e-3, decay=0.5)
    assert [g["name"] for g in groups] == ["stem", "layer1", "layer2", "layer3", "layer4", "fc"]
    assert [g["lr"] for g in groups] == pytest.approx([1e-3 * 0.5 ** k for k in range(5, -1, -1)])
    opt = torch.optim.SGD(groups, lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.5 ** 5 * 0.1)


def test_describe_param_groups_table(model):
    opt = torch.optim.AdamW(param_groups.layerwise_lr_groups(model, 1e-3, 0.5))
    table = param_groups.describe_param_groups(model, opt)
    assert [r[0] for r in table.rows] == ["stem", "layer1", "layer2", "layer3", "layer4", "fc"]
    assert table.rows[0][-1] == "conv1 bn1"
    assert sum(r[4] for r in table.rows) == sum(p.numel() for p in model.parameters())
