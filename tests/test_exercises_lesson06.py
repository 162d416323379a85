"""Lesson 06 exercise checkers: right answers pass (several ways), known wrong ways are named."""
import pytest
import torch
import torchvision
from torch import nn

from course_utils import freezing
from course_utils.exercises import lesson06 as ex
from exercise_checks import wrong as _wrong


# ---- q1 -------------------------------------------------------------------------------------
def test_q1_correct_two_ways(capsys):
    right = {"A": "lr-too-large", "B": "stale-optimizer", "C": "overfitting", "D": "no-grad"}
    ex.q1.grade(right)
    assert ex.q1.check({"a": "LR-too-large ", "b": "stale-optimizer", "c": "Overfitting",
                        "d": "no-grad"}) is True
    assert "Correct" in capsys.readouterr().out


def test_q1_wrong_ways():
    right = {"A": "lr-too-large", "B": "stale-optimizer", "C": "overfitting", "D": "no-grad"}
    assert "far ABOVE" in _wrong(ex.q1, dict(right, A="overfitting"))
    assert "built before" in _wrong(ex.q1, dict(right, B="no-grad"))
    assert "memorises" in _wrong(ex.q1, dict(right, C="lr-too-large"))
    assert "element 0" in _wrong(ex.q1, dict(right, D="stale-optimizer"))
    assert "not one of the labels" in _wrong(ex.q1, dict(right, A="bad luck"))
    assert "no entry for case(s) D" in _wrong(ex.q1, {k: v for k, v in right.items() if k != "D"})
    assert "2 cases are wrong" in _wrong(ex.q1, dict(right, A="no-grad", D="lr-too-large"))


def test_q1_not_attempted_and_wrong_type(capsys):
    assert ex.q1._run((), {})[0] == "todo"
    assert ex.q1.check(None) is False
    assert "Not attempted" in capsys.readouterr().out
    assert "should be a dict" in _wrong(ex.q1, "lr-too-large")


# ---- q2 -------------------------------------------------------------------------------------
def fresh():
    return torchvision.models.resnet18(weights=None, num_classes=5)


def fixed(model):
    for p in model.parameters():
        p.requires_grad = False
    model.fc = nn.Linear(512, 5)
    for p in model.layer4.parameters():
        p.requires_grad = True
    return model, torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)


def test_q2_correct_two_ways():
    ex.q2.grade(*fixed(fresh()))
    model = fresh()
    model.fc = nn.Linear(512, 5)
    freezing.freeze_all_but(model, "layer4", "fc")
    opt = torch.optim.SGD([{"params": model.layer4.parameters(), "lr": 1e-2},
                           {"params": model.fc.parameters(), "lr": 1e-1}], momentum=0.9)
    assert ex.q2.check(model, opt) is True


def test_q2_wrong_ways():
    # the broken code of the lesson: optimizer built before layer4 was unfrozen
    model = fresh()
    for p in model.parameters():
        p.requires_grad = False
    model.fc = nn.Linear(512, 5)
    stale = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    for p in model.layer4.parameters():
        p.requires_grad = True
    assert "only updates the tensors it was given" in _wrong(ex.q2, model, stale)

    # optimizer built before the head was replaced: holds the old head
    model = fresh()
    early = torch.optim.Adam(model.parameters(), lr=1e-3)
    fixed_model, _ = fixed(model)
    assert "OLD head" in _wrong(ex.q2, fixed_model, early)

    # an optimizer over all parameters
    model, _ = fixed(fresh())
    assert "frozen parameters" in _wrong(ex.q2, model, torch.optim.Adam(model.parameters()))

    # head replaced before the freezing loop: nothing, or only layer4, trains
    model = fresh()
    model.fc = nn.Linear(512, 5)
    for p in model.parameters():
        p.requires_grad = False
    assert "No parameter requires grad" in _wrong(ex.q2, model, stale)
    for p in model.layer4.parameters():
        p.requires_grad = True
    assert "head `model.fc` is frozen" in _wrong(ex.q2, model, stale)

    # layer4 never unfrozen; everything trainable; wrong out_features; the attribute trap
    model = fresh()
    model.requires_grad_(False)
    model.fc = nn.Linear(512, 5)
    assert "layer4 is still frozen" in _wrong(ex.q2, model, stale)
    model = fresh()
    assert "train too" in _wrong(ex.q2, model, torch.optim.Adam(model.parameters()))
    model = fresh()
    model.fc = nn.Linear(512, 10)
    assert "nn.Linear(512, 5)" in _wrong(ex.q2, model, stale)
    model = fresh()
    model.requires_grad = False
    assert "plain Python attribute" in _wrong(ex.q2, model, stale)

    # right parameters, but a rate of zero: the real steps catch it
    model, _ = fixed(fresh())
    zero = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.0)
    assert "did not lower the loss" in _wrong(ex.q2, model, zero)


def test_q2_checks_on_copies():
    model, opt = fixed(fresh())
    before = model.layer4[0].conv1.weight.detach().clone()
    ex.q2.grade(model, opt)
    assert torch.equal(model.layer4[0].conv1.weight, before)
    assert len(opt.state) == 0


def test_q2_not_attempted_and_wrong_type():
    assert ex.q2._run((), {})[0] == "todo"
    assert "should be an nn.Module" in _wrong(ex.q2, "resnet", torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1))
    model, _ = fixed(fresh())
    assert "torch.optim optimizer" in _wrong(ex.q2, model, [1, 2])


# ---- q3 -------------------------------------------------------------------------------------
def test_q3_correct_two_ways():
    def by_index(history):
        losses = history["val_loss"]
        return history["epoch"][losses.index(min(losses))]

    def by_records(history):
        best = min(history.records, key=lambda r: r["val_loss"])   # min keeps the first
        return best["epoch"]

    ex.q3.grade(by_index)
    assert ex.q3.check(by_records) is True
    assert ex.q3.check(lambda h: torch.tensor(h["epoch"])[torch.tensor(h["val_loss"]).argmin()])


def test_q3_wrong_ways():
    def position(h):
        return h["val_loss"].index(min(h["val_loss"]))
    assert "position in the list" in _wrong(ex.q3, position)

    def one_based_position(h):
        return h["val_loss"].index(min(h["val_loss"])) + 1
    assert "position in the list" in _wrong(ex.q3, one_based_position)

    assert "last epoch" in _wrong(ex.q3, lambda h: h["epoch"][-1])

    def by_accuracy(h):
        return h["epoch"][h["val_acc"].index(max(h["val_acc"]))]
    assert "highest held-out accuracy" in _wrong(ex.q3, by_accuracy)

    def by_max_loss(h):
        return h["epoch"][h["val_loss"].index(max(h["val_loss"]))]
    assert "HIGHEST held-out loss" in _wrong(ex.q3, by_max_loss)

    def latest_tie(h):
        losses = h["val_loss"]
        best = min(losses)
        return max(e for e, v in zip(h["epoch"], losses) if v == best)
    assert "EARLIEST" in _wrong(ex.q3, latest_tie)

    assert "an int" in _wrong(ex.q3, lambda h: "epoch 5")
    assert "raised KeyError" in _wrong(ex.q3, lambda h: h["validation_loss"])


def test_q3_not_attempted_and_wrong_type():
    assert ex.q3._run((), {})[0] == "todo"
    assert "should be a function" in _wrong(ex.q3, 5)


@pytest.mark.parametrize("label", sorted(ex.DIAGNOSES))
def test_labels_are_plain(label):
    assert label == label.lower() and " " not in label
