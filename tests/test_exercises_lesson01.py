"""Lesson 01 exercise checkers: right answers (two ways each) pass, the usual mistakes are named.

No download and no cached backbone: a seeded ``resnet18(weights=None, num_classes=5)`` plays the
course's pretrained model, and the checkers' reference weights are pointed at it.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torchvision import models

from course_utils import freezing, heads
from course_utils.exercises import lesson01 as ex
from exercise_checks import printed_right as right, printed_verdict as verdict, printed_wrong as wrong


def _resnet(seed: int, num_classes: int = 5) -> nn.Module:
    torch.manual_seed(seed)
    return models.resnet18(weights=None, num_classes=num_classes)


@pytest.fixture(scope="module")
def reference():
    """State dict of the stand-in 'pretrained' model."""
    return {k: v.clone() for k, v in _resnet(123).state_dict().items()}


@pytest.fixture(autouse=True)
def fake_pretrained(reference, monkeypatch):
    monkeypatch.setitem(ex._CACHE, "sd", reference)


@pytest.fixture
def pretrained_model(reference):
    m = _resnet(0)
    m.load_state_dict(reference)
    return m


# ---- q1: the from-scratch baseline --------------------------------------------------------------
def test_q1_right_two_ways(capsys):
    right(ex.q1, capsys, models.resnet18(weights=None, num_classes=5))
    m = models.resnet18(weights=None)
    m.fc = nn.Linear(m.fc.in_features, 5)
    right(ex.q1, capsys, m)


def test_q1_wrong_ways(capsys, pretrained_model):
    assert "1000 outputs" in wrong(ex.q1, capsys, models.resnet18(weights=None))
    assert "5 classes" in wrong(ex.q1, capsys, models.resnet18(weights=None, num_classes=10))
    assert "random weights" in wrong(ex.q1, capsys, pretrained_model)
    frozen = models.resnet18(weights=None, num_classes=5)
    freezing.freeze_all_but_head(frozen)
    assert "every layer" in wrong(ex.q1, capsys, frozen)
    assert "not a ResNet" in wrong(ex.q1, capsys, models.mobilenet_v2(weights=None,
                                                                      num_classes=5))
    assert "not a ResNet-18" in wrong(ex.q1, capsys, models.resnet34(weights=None,
                                                                     num_classes=5))
    two_layer = models.resnet18(weights=None)
    two_layer.fc = nn.Sequential(nn.Linear(512, 64), nn.ReLU(), nn.Linear(64, 5))
    assert "single `nn.Linear`" in wrong(ex.q1, capsys, two_layer)


def test_q1_not_attempted_and_wrong_type(capsys):
    ok, out = verdict(ex.q1, capsys)
    assert ok is False and "Not attempted yet" in out and "scratch_model" in out
    ok, out = verdict(ex.q1, capsys, "resnet18")
    assert ok is False and "should be an nn.Module" in out and "str" in out


# ---- q2: a new head -----------------------------------------------------------------------------
def test_q2_right_two_ways(capsys, pretrained_model, reference):
    pretrained_model.fc = nn.Linear(pretrained_model.fc.in_features, 5)
    right(ex.q2, capsys, pretrained_model)
    other = _resnet(1)
    other.load_state_dict(reference)
    heads.replace_head(other, 5)
    right(ex.q2, capsys, other)


def test_q2_wrong_ways(capsys, pretrained_model, reference):
    assert "still the pretrained head" in wrong(ex.q2, capsys, pretrained_model)
    pretrained_model.fc = nn.Linear(512, 10)
    assert "10-class example" in wrong(ex.q2, capsys, pretrained_model)
    pretrained_model.fc = nn.Linear(512, 1000)
    assert "5 classes" in wrong(ex.q2, capsys, pretrained_model)
    pretrained_model.fc = nn.Linear(512, 5)
    pretrained_model.fc.requires_grad_(False)
    assert "new head is frozen" in wrong(ex.q2, capsys, pretrained_model)
    scratch = models.resnet18(weights=None, num_classes=5)
    assert "not the pretrained one" in wrong(ex.q2, capsys, scratch)


def test_q2_head_on_wrong_device_is_named(capsys, pretrained_model):
    pretrained_model.fc = nn.Linear(512, 5).to("meta")
    assert "Move it" in wrong(ex.q2, capsys, pretrained_model)


def test_q2_wrong_type(capsys):
    ok, out = verdict(ex.q2, capsys, 3)
    assert ok is False and "should be an nn.Module" in out


# ---- q3: the optimizer --------------------------------------------------------------------------
def _frozen_with_head(m: nn.Module) -> nn.Module:
    for p in m.parameters():
        p.requires_grad = False
    m.fc = nn.Linear(m.fc.in_features, 5)
    return m


def test_q3_right_two_ways(capsys, pretrained_model):
    m = _frozen_with_head(pretrained_model)
    right(ex.q3, capsys, m, torch.optim.Adam(m.fc.parameters(), lr=1e-3))
    right(ex.q3, capsys, m, torch.optim.SGD(filter(lambda p: p.requires_grad, m.parameters()),
                                            lr=0.01, momentum=0.9))


def test_q3_wrong_ways(capsys, pretrained_model):
    m = pretrained_model
    before = torch.optim.Adam(m.fc.parameters(), lr=1e-3)   # built before the head is replaced
    m = _frozen_with_head(m)
    assert "not in `model`" in wrong(ex.q3, capsys, m, before)
    assert "all of" in wrong(ex.q3, capsys, m, torch.optim.Adam(m.parameters(), lr=1e-3))
    assert "never change" in wrong(ex.q3, capsys, m,
                                   torch.optim.Adam([m.fc.weight], lr=1e-3))
    assert "torch.optim optimizer" in wrong(ex.q3, capsys, m, list(m.fc.parameters()))


def test_q3_attribute_trap_and_changed_freezing(capsys):
    m = _resnet(0)
    m.requires_grad = False          # a plain attribute: freezes nothing
    assert "plain Python attribute" in wrong(ex.q3, capsys, m, torch.optim.Adam(
        m.parameters(), lr=1e-3))
    m = _frozen_with_head(_resnet(0))
    m.layer4.requires_grad_(True)
    assert "setup lines" in wrong(ex.q3, capsys, m, torch.optim.Adam(
        [p for p in m.parameters() if p.requires_grad], lr=1e-3))


# ---- q4: accuracy from logits -------------------------------------------------------------------
@pytest.fixture
def logits_labels():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(200, 5, generator=g)
    labels = torch.randint(0, 5, (200,), generator=g)
    labels[:80] = logits[:80].argmax(1)          # 80 + about a fifth of the rest are right
    return logits, labels


def test_q4_right_two_ways(capsys, logits_labels):
    logits, labels = logits_labels
    acc = (logits.argmax(dim=1) == labels).float().mean().item()
    right(ex.q4, capsys, logits, labels, acc)
    _, pred = torch.max(logits, 1)
    right(ex.q4, capsys, logits, labels, (pred == labels).sum() / len(labels))


def test_q4_wrong_ways(capsys, logits_labels):
    logits, labels = logits_labels
    correct = int((logits.argmax(1) == labels).sum())
    acc = correct / len(labels)
    assert "percentage" in wrong(ex.q4, capsys, logits, labels, 100 * acc)
    assert "number of correct predictions" in wrong(ex.q4, capsys, logits, labels, correct)
    assert "error rate" in wrong(ex.q4, capsys, logits, labels, 1 - acc)
    assert "argmax over the" in wrong(ex.q4, capsys, logits, labels, acc / 2)
    assert "tensor of shape" in wrong(ex.q4, capsys, logits, labels,
                                      (logits.argmax(1) == labels).float())
    assert "should be a number" in wrong(ex.q4, capsys, logits, labels, "0.5")
    assert "setup lines" in wrong(ex.q4, capsys, logits, labels[:10], acc)
