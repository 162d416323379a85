"""Lesson 00 exercise checkers: right answers (two ways each) pass, the usual mistakes are named.

Models are torchvision ResNet-18s with ``weights=None`` (no download, no cached backbone needed).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torchvision import models

from course_utils import data
from course_utils.exercises import lesson00 as ex
from exercise_checks import printed_right as right, printed_verdict as verdict, printed_wrong as wrong


@pytest.fixture(scope="module")
def task():
    return data.target_task(k=5, seed=0)


@pytest.fixture(scope="module")
def source():
    return data.source_task()


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return models.resnet18(weights=None, num_classes=5)


# ---- q1 -----------------------------------------------------------------------------------------
def test_q1_right_two_ways(task, capsys):
    right(ex.q1, capsys, task.x_train[:8].to("cpu"))
    right(ex.q1, capsys, torch.stack([task.x_train[i] for i in range(8)]).clone())


def test_q1_wrong_ways(task, capsys):
    assert "labels" in wrong(ex.q1, capsys, task.y_train[:8])
    assert "first 8" in wrong(ex.q1, capsys, task.x_train[:4])
    assert "(N, 3, 32, 32)" in wrong(ex.q1, capsys, task.x_train[0])
    assert "held-out" in wrong(ex.q1, capsys, task.x_test[:8])
    assert "not the right images" in wrong(ex.q1, capsys, task.x_train[1:9])
    assert "NumPy" in wrong(ex.q1, capsys, task.x_train[:8].numpy())


def test_q1_device_mismatch_is_named(task, capsys, monkeypatch):
    """On a GPU machine, `x.to(device)` without assignment leaves the batch on the CPU."""
    monkeypatch.setattr(ex.training, "get_device", lambda: torch.device("cuda"))
    assert "returns a new tensor" in wrong(ex.q1, capsys, task.x_train[:8])


def test_q1_not_attempted_and_wrong_type(capsys):
    ok, out = verdict(ex.q1, capsys)  # no variable in this test's namespace
    assert ok is False and "Not attempted yet" in out and "batch_on_device" in out
    ok, out = verdict(ex.q1, capsys, None)
    assert ok is False and "Not attempted yet" in out
    ok, out = verdict(ex.q1, capsys, 42)
    assert ok is False and "should be a torch tensor" in out and "int" in out


# ---- q2 -----------------------------------------------------------------------------------------
def test_q2_right_two_ways(task, capsys):
    right(ex.q2, capsys, task.y_train.bincount(), task.y_test.bincount())
    right(ex.q2, capsys, [int((task.y_train == c).sum()) for c in range(5)],
          np.bincount(task.y_test.numpy()))


def test_q2_wrong_ways(task, capsys):
    tr, te = task.y_train.bincount(), task.y_test.bincount()
    assert "swapped" in wrong(ex.q2, capsys, te, tr)
    assert "total number" in wrong(ex.q2, capsys, [25], te)
    assert "one count per class" in wrong(ex.q2, capsys, 25, te)
    assert "5 counts" in wrong(ex.q2, capsys, tr, te[:4])
    assert "another one" in wrong(ex.q2, capsys, [10] * 5, te)
    assert "wrong order" in wrong(ex.q2, capsys, tr, sorted(te.tolist(), reverse=True))
    assert "whole numbers" in wrong(ex.q2, capsys, tr.float() / 25, te)
    assert "should be a list" in wrong(ex.q2, capsys, "5,5,5,5,5", te)


# ---- q3 -----------------------------------------------------------------------------------------
def test_q3_right_two_ways(task, model, capsys):
    with torch.no_grad():
        right(ex.q3, capsys, model.fc.in_features, model.eval()(task.x_train[:4]))
        feats = nn.Sequential(*list(model.children())[:-1])(task.x_train[:4]).flatten(1)
        right(ex.q3, capsys, torch.tensor(feats.shape[1]), model.fc(feats))


def test_q3_wrong_ways(task, model, capsys):
    with torch.no_grad():
        logits = model.eval()(task.x_train[:4])
    assert "out_features" in wrong(ex.q3, capsys, 5, logits)
    assert "ImageNet" in wrong(ex.q3, capsys, 1000, logits)
    assert "in_features" in wrong(ex.q3, capsys, 512.0, logits)
    assert "argmax" in wrong(ex.q3, capsys, 512, logits.argmax(1))
    assert "go *into* the head" in wrong(ex.q3, capsys, 512, torch.randn(4, 512))
    assert "first 4" in wrong(ex.q3, capsys, 512, torch.randn(8, 5))
    assert "probabilities" in wrong(ex.q3, capsys, 512, logits.softmax(1))
    assert "course's resnet18" in wrong(ex.q3, capsys, 512, torch.randn(4, 1000))


# ---- q4 -----------------------------------------------------------------------------------------
def test_q4_right_two_ways(source, model, capsys):
    images = source.x_test[::50]
    model.eval()
    with torch.no_grad():
        logits = model(images)
    right(ex.q4, capsys, model, logits.argmax(dim=1))
    right(ex.q4, capsys, model, torch.max(logits, 1)[1])


def test_q4_wrong_ways(source, model, capsys):
    images = source.x_test[::50]
    model.eval()
    with torch.no_grad():
        logits = model(images)
    assert "argmax(dim=1)" in wrong(ex.q4, capsys, model, logits)
    assert "over the batch" in wrong(ex.q4, capsys, model, logits.argmax(0))
    assert "without `dim`" in wrong(ex.q4, capsys, model, logits.argmax())
    assert "floats" in wrong(ex.q4, capsys, model, logits.argmax(1).float())
    assert "10 class numbers" in wrong(ex.q4, capsys, model, logits.argmax(1)[:3])
    model.train()
    try:
        assert "model.eval()" in wrong(ex.q4, capsys, model, logits.argmax(1))
    finally:
        model.eval()
    want = logits.argmax(1)
    other = (want + 1) % 5
    assert "predicts" in wrong(ex.q4, capsys, model, other)
    assert "should be the pretrained nn.Module" in wrong(ex.q4, capsys, "resnet18", want)


def test_q4_true_labels_are_not_predictions(source, model, capsys):
    images, labels = source.x_test[::50], source.y_test[::50]
    model.eval()
    with torch.no_grad():
        want = model(images).argmax(1)
    assert not torch.equal(want, labels)  # a random model does not get all 10 digits right
    assert "true labels" in wrong(ex.q4, capsys, model, labels)


def test_solutions_are_published():
    for q in (ex.q1, ex.q2, ex.q3, ex.q4):
        assert q._solution and q.hints
