"""Lesson 02 exercise checkers: right answers pass (several ways), known wrong ways are named."""
import pytest
import torch
import torchvision
from torch import nn

from course_utils import batchnorm, freezing
from course_utils.exercises import lesson02 as ex
from exercise_checks import passes as _passes, verdict as _run, wrong as _wrong


@pytest.fixture
def resnet():
    return torchvision.models.resnet18(weights=None, num_classes=5)


# ---- q1: freeze everything but fc ------------------------------------------------------------
def test_q1_correct_three_ways(resnet, capsys):
    for p in resnet.parameters():
        p.requires_grad = False
    for p in resnet.fc.parameters():
        p.requires_grad = True
    _passes(ex.q1, resnet)
    m = torchvision.models.resnet18(weights=None, num_classes=5)
    m.requires_grad_(False)
    m.fc.requires_grad_(True)
    _passes(ex.q1, m)
    m = torchvision.models.resnet18(weights=None, num_classes=5)
    freezing.freeze_all_but_head(m)
    _passes(ex.q1, m)
    assert "Correct" in capsys.readouterr().out


def test_q1_wrong_ways(resnet):
    # reversed (source option B)
    for p in resnet.parameters():
        p.requires_grad = True
    for p in resnet.fc.parameters():
        p.requires_grad = False
    assert "reversed" in _wrong(ex.q1, resnet)
    # the head forgotten
    m = torchvision.models.resnet18(weights=None, num_classes=5)
    m.requires_grad_(False)
    assert "forgot to unfreeze the head" in _wrong(ex.q1, m)
    # model.requires_grad = False (source option C)
    m = torchvision.models.resnet18(weights=None, num_classes=5)
    m.requires_grad = False
    m.fc.requires_grad = True
    assert "plain Python attribute" in _wrong(ex.q1, m)
    # Keras' trainable
    m = torchvision.models.resnet18(weights=None, num_classes=5)
    m.trainable = False
    assert "Keras" in _wrong(ex.q1, m)
    # eval() is not freezing
    m = torchvision.models.resnet18(weights=None, num_classes=5).eval()
    assert "eval()" in _wrong(ex.q1, m)
    # part of the body still trains
    m = torchvision.models.resnet18(weights=None, num_classes=5)
    for p in m.layer1.parameters():
        p.requires_grad = False
    assert "outside `fc` still train" in _wrong(ex.q1, m)
    # fc.bias frozen
    m = torchvision.models.resnet18(weights=None, num_classes=5)
    freezing.freeze_all_but_head(m)
    m.fc.bias.requires_grad = False
    assert "Part of the head" in _wrong(ex.q1, m)


def test_q1_not_attempted_and_wrong_type(capsys):
    assert ex.q1.check(None) is False
    assert "Not attempted" in capsys.readouterr().out
    assert ex.q1.check(3) is False
    assert "should be an nn.Module" in capsys.readouterr().out
    assert "conv1" in _wrong(ex.q1, nn.Linear(2, 2))
    with pytest.raises(AssertionError, match="q1"):
        ex.q1.grade(None)


# ---- q2: layer4 and fc by name -----------------------------------------------------------------
def test_q2_correct_three_ways(resnet):
    for name, p in resnet.named_parameters():
        p.requires_grad = name.startswith(("layer4", "fc"))
    _passes(ex.q2, resnet)
    m = torchvision.models.resnet18(weights=None, num_classes=5)
    for name, p in m.named_parameters():
        if "layer4" in name or "fc" in name:
            p.requires_grad = True
        else:
            p.requires_grad = False
    _passes(ex.q2, m)
    m = torchvision.models.resnet18(weights=None, num_classes=5)
    freezing.freeze_all_but(m, "layer4", "fc")
    _passes(ex.q2, m)
    m = torchvision.models.resnet18(weights=None, num_classes=5)
    m.requires_grad_(False)
    m.layer4.requires_grad_(True)
    m.fc.requires_grad_(True)
    _passes(ex.q2, m)


def test_q2_wrong_ways(resnet):
    # the source's loop: fc frozen too
    for name, p in resnet.named_parameters():
        if "layer4" in name:
            p.requires_grad = True
        else:
            p.requires_grad = False
    msg = _wrong(ex.q2, resnet)
    assert "Only `layer4` trains" in msg and "else branch" in msg
    m = torchvision.models.resnet18(weights=None, num_classes=5)
    freezing.freeze_all_but_head(m)
    assert "`layer4` is frozen" in _wrong(ex.q2, m)
    m = torchvision.models.resnet18(weights=None, num_classes=5)
    for name, p in m.named_parameters():
        p.requires_grad = not name.startswith(("layer4", "fc"))
    assert "reversed" in _wrong(ex.q2, m)
    m = torchvision.models.resnet18(weights=None, num_classes=5)
    m.requires_grad = False
    assert "plain Python attribute" in _wrong(ex.q2, m)
    m = torchvision.models.resnet18(weights=None, num_classes=5)
    freezing.freeze_all_but(m, "layer3", "layer4", "fc")
    assert "outside `layer4` and `fc`" in _wrong(ex.q2, m)
    m = torchvision.models.resnet18(weights=None, num_classes=5)
    for name, p in m.named_parameters():   # convolutions only: BatchNorm of layer4 left frozen
        p.requires_grad = name.startswith("fc") or (name.startswith("layer4") and "conv" in name)
    assert "still frozen" in _wrong(ex.q2, m)
    m = torchvision.models.resnet18(weights=None, num_classes=5)
    m.requires_grad_(False)
    assert "Nothing requires grad" in _wrong(ex.q2, m)


# ---- q3: counting ------------------------------------------------------------------------------
@pytest.fixture
def net():
    m = torchvision.models.mobilenet_v2(weights=None)
    for p in m.parameters():
        p.requires_grad = False
    for p in m.features[-1].parameters():
        p.requires_grad = True
    for p in m.classifier.parameters():
        p.requires_grad = True
    return m


def test_q3_correct_two_ways(net):
    t = sum(p.requires_grad for p in net.parameters())
    e = sum(p.numel() for p in net.parameters() if p.requires_grad)
    _passes(ex.q3, net, t, e)
    t2 = len([p for p in net.parameters() if p.requires_grad])
    e2 = torch.tensor([p.numel() for p in net.parameters() if p.requires_grad]).sum()
    _passes(ex.q3, net, t2, e2)
    assert (t, e) == (5, 1_693_160)


def test_q3_wrong_ways(net):
    t = sum(p.requires_grad for p in net.parameters())
    e = sum(p.numel() for p in net.parameters() if p.requires_grad)
    t_all = len(list(net.parameters()))
    e_all = sum(p.numel() for p in net.parameters())
    assert "swapped" in _wrong(ex.q3, net, e, t)
    assert "ALL parameter tensors" in _wrong(ex.q3, net, t_all, e)
    assert "number of trainable TENSORS" in _wrong(ex.q3, net, t, t)
    assert "ALL elements" in _wrong(ex.q3, net, t, e_all)
    assert "counts elements, not tensors" in _wrong(ex.q3, net, e, e)
    assert "not the number of trainable elements" in _wrong(ex.q3, net, t, e + 1)
    assert "whole number" in _wrong(ex.q3, net, float(t), e)
    assert "whole number" in _wrong(ex.q3, net, "5", e)


def test_q3_not_attempted(net, capsys):
    assert ex.q3.check(net, None, None) is False
    assert "Not attempted" in capsys.readouterr().out


# ---- q4: BatchNorm statistics ------------------------------------------------------------------
@pytest.fixture
def bn_model():
    m = torchvision.models.resnet18(weights=None, num_classes=5)
    freezing.freeze_all_but_head(m)
    return m


def test_q4_correct_three_ways(bn_model):
    handle = batchnorm.keep_batchnorm_frozen(bn_model)
    _passes(ex.q4, bn_model)
    assert bn_model.training  # the check restores the modes it found
    handle.remove()

    class FrozenBNResNet(torchvision.models.ResNet):   # the train() override (pitfall 2)
        def train(self, mode=True):
            super().train(mode)
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
            return self

    m = FrozenBNResNet(torchvision.models.resnet.BasicBlock, [2, 2, 2, 2], num_classes=5)
    freezing.freeze_all_but_head(m)
    _passes(ex.q4, m)

    m = torchvision.models.resnet18(weights=None, num_classes=5,
                                    norm_layer=torchvision.ops.FrozenBatchNorm2d)
    freezing.freeze_all_but_head(m)
    _passes(ex.q4, m)


def test_q4_check_leaves_the_model_unchanged(bn_model):
    state = {k: v.clone() for k, v in bn_model.state_dict().items()}
    _wrong(ex.q4, bn_model)      # statistics move during the check...
    after = bn_model.state_dict()
    assert all(torch.equal(state[k], after[k]) for k in state)   # ...and are put back


def test_q4_wrong_ways(bn_model):
    msg = _wrong(ex.q4, bn_model)   # only requires_grad=False (the setup)
    assert "requires_grad` does not cover them" in msg
    bn_model.eval()                 # a one-off eval(), undone by train()
    assert "switched" in _wrong(ex.q4, bn_model)
    m = torchvision.models.resnet18(weights=None, num_classes=5)
    freezing.freeze_all_but_head(m)
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.momentum = 0.0
    assert "own statistics" in _wrong(ex.q4, m)
    m = torchvision.models.resnet18(weights=None, num_classes=5)
    m.requires_grad_(False)
    batchnorm.keep_batchnorm_frozen(m)
    assert "should still train" in _wrong(ex.q4, m)


def test_q4_wrong_type(capsys):
    assert ex.q4.check("resnet") is False
    assert "nn.Module" in capsys.readouterr().out
