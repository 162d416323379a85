"""Lesson 05 exercise checkers: right answers pass (several ways), known wrong ways are named."""
import pytest
import torch
import torchvision
from torch import nn

from course_utils import freezing
from course_utils.exercises import lesson05 as ex
from exercise_checks import verdict as _verdict, wrong as _wrong


@pytest.fixture
def mobilenet():
    return torchvision.models.mobilenet_v2(weights=None, num_classes=5)


@pytest.fixture
def resnet():
    return torchvision.models.resnet18(weights=None, num_classes=5)


# ---- q1 -------------------------------------------------------------------------------------
def two_phase(model, phase2_lr=1e-4, rebuild_phase2=True):
    for p in model.parameters():
        p.requires_grad = False
    model.classifier[1] = nn.Linear(model.classifier[1].in_features, 5)
    opt1 = torch.optim.Adam(model.classifier[1].parameters(), lr=1e-3)
    for p in model.features[-1].parameters():
        p.requires_grad = True
    opt2 = (torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=phase2_lr)
            if rebuild_phase2 else opt1)
    return model, opt1, opt2


def test_q1_correct_two_ways(mobilenet, capsys):
    model, opt1, opt2 = two_phase(mobilenet)
    ex.q1.grade(model, opt1, opt2)
    assert ex.q1.check(model, opt1, opt2) is True
    # another correct way: requires_grad_, filter(), and param groups in phase 2
    m = torchvision.models.mobilenet_v2(weights=None, num_classes=5)
    m.requires_grad_(False)
    m.classifier[1] = nn.Linear(1280, 5)
    o1 = torch.optim.SGD(filter(lambda p: p.requires_grad, m.parameters()), lr=1e-2)
    freezing.freeze_to(m, -2)
    o2 = torch.optim.Adam([{"params": m.features[-1].parameters(), "lr": 1e-4},
                           {"params": m.classifier.parameters(), "lr": 1e-3}])
    assert ex.q1.check(m, o1, o2) is True
    assert "Correct" in capsys.readouterr().out


def test_q1_wrong_ways(mobilenet):
    model, opt1, _ = two_phase(mobilenet, rebuild_phase2=False)
    opt2 = torch.optim.Adam(model.classifier[1].parameters(), lr=1e-4)   # built "before" unfreezing
    assert "only updates the tensors it was given" in _wrong(ex.q1, model, opt1, opt2)
    assert "same object" in _wrong(ex.q1, model, opt1, opt1)

    model, opt1, opt2 = two_phase(torchvision.models.mobilenet_v2(weights=None, num_classes=5),
                                  phase2_lr=1e-3)
    assert "not lower" in _wrong(ex.q1, model, opt1, opt2)

    m = torchvision.models.mobilenet_v2(weights=None, num_classes=5)
    all_opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    for p in m.parameters():
        p.requires_grad = False
    m.classifier[1] = nn.Linear(1280, 5)
    for p in m.features[-1].parameters():
        p.requires_grad = True
    o2 = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=1e-4)
    assert "old head" in _wrong(ex.q1, m, all_opt, o2).lower()
    o1_all = torch.optim.Adam(m.parameters(), lr=1e-3)
    assert "optimizer over all parameters" in _wrong(ex.q1, m, o1_all, o2)

    # reversed freezing: head frozen, backbone block trains
    m = torchvision.models.mobilenet_v2(weights=None, num_classes=5)
    m.classifier[1] = nn.Linear(1280, 5)
    for p in m.parameters():
        p.requires_grad = False
    for p in m.features[-1].parameters():
        p.requires_grad = True
    o = torch.optim.Adam(m.features[-1].parameters(), lr=1e-4)
    assert "reversed" in _wrong(ex.q1, m, o1_all, o)

    # wrong out_features
    m = torchvision.models.mobilenet_v2(weights=None, num_classes=5)
    m.classifier[1] = nn.Linear(1280, 10)
    assert "out_features=10" in _wrong(ex.q1, m, o1_all, o)

    # the plain-attribute trap
    m = torchvision.models.mobilenet_v2(weights=None, num_classes=5)
    m.requires_grad = False
    assert "plain Python attribute" in _wrong(ex.q1, m, o1_all, o)

    # last block not unfrozen; everything unfrozen
    m = torchvision.models.mobilenet_v2(weights=None, num_classes=5)
    m.requires_grad_(False)
    m.classifier[1] = nn.Linear(1280, 5)
    assert "still frozen" in _wrong(ex.q1, m, o1_all, o)
    m.requires_grad_(True)
    assert "train too" in _wrong(ex.q1, m, o1_all, o)


def test_q1_not_attempted_and_wrong_type(mobilenet, capsys):
    kind, message = ex.q1._run((), {})
    assert kind == "todo"
    assert ex.q1.check(mobilenet, None, None) is False
    assert "Not attempted" in capsys.readouterr().out
    assert "should be an nn.Module" in _wrong(ex.q1, 3, torch.optim.SGD([nn.Parameter(
        torch.zeros(1))], lr=1), torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1))
    assert "optimizer" in _wrong(ex.q1, mobilenet, "adam", "adam")
    with pytest.raises(AssertionError, match="q1"):
        ex.q1.grade(mobilenet, None, None)


# ---- q2 -------------------------------------------------------------------------------------
def test_q2_correct_two_ways():
    def with_helper(model, stage):
        freezing.freeze_to(model, -stage)

    def by_hand(model, stage):
        for p in model.parameters():
            p.requires_grad = False
        for p in model.classifier.parameters():
            p.requires_grad = True
        for block in model.features[len(model.features) - (stage - 1):]:
            for p in block.parameters():
                p.requires_grad = True

    ex.q2.grade(with_helper)
    assert ex.q2.check(by_hand) is True


def test_q2_wrong_ways():
    def forwards(model, stage):          # unfreezes from the input end
        model.requires_grad_(False)
        model.classifier.requires_grad_(True)
        for block in model.features[:stage - 1]:
            block.requires_grad_(True)
    assert "from the output backwards" in _wrong(ex.q2, forwards)

    def head_frozen(model, stage):
        freezing.freeze_to(model, -stage)
        model.classifier.requires_grad_(False)
    assert "head (`model.classifier`) is frozen" in _wrong(ex.q2, head_frozen)

    def off_by_one(model, stage):
        freezing.freeze_to(model, -(stage + 1))
    assert "one block too many" in _wrong(ex.q2, off_by_one)

    def only_unfreezes(model, stage):     # never freezes: everything still trains
        model.classifier.requires_grad_(True)
    assert "every block trains" in _wrong(ex.q2, only_unfreezes)

    def attribute(model, stage):
        model.requires_grad = False
    assert "plain Python attribute" in _wrong(ex.q2, attribute)

    never_refreezes_calls = []

    def sticky(model, stage):             # correct for 1, 2, 3 in order, but only unfreezes
        never_refreezes_calls.append(stage)
        if len(never_refreezes_calls) == 1:
            freezing.freeze_to(model, -1)
        else:
            model.features[19 - (stage - 1):].requires_grad_(True)
    assert "set the whole state" in _wrong(ex.q2, sticky)

    def raises(model, stage):
        raise KeyError("oops")
    assert "raised KeyError" in _wrong(ex.q2, raises)


def test_q2_not_attempted_and_wrong_type():
    assert ex.q2._run((), {})[0] == "todo"
    assert "should be a function" in _wrong(ex.q2, 3)


# ---- q3 -------------------------------------------------------------------------------------
def setup_q3(resnet):
    for p in resnet.parameters():
        p.requires_grad = False
    resnet.fc = nn.Linear(512, 5)
    opt = torch.optim.Adam(resnet.fc.parameters(), lr=1e-3)
    x, y = torch.randn(4, 3, 32, 32), torch.tensor([0, 1, 2, 3])
    for _ in range(2):
        opt.zero_grad()
        nn.functional.cross_entropy(resnet(x), y).backward()
        opt.step()
    return resnet, opt


def test_q3_correct_two_ways(resnet):
    model, opt = setup_q3(resnet)
    for p in model.layer4.parameters():
        p.requires_grad = True
    opt.add_param_group({"params": model.layer4.parameters(), "lr": 1e-4})
    ex.q3.grade(model, opt)

    model, opt = setup_q3(torchvision.models.resnet18(weights=None, num_classes=5))
    freezing.unfreeze(model.layer4)
    opt.add_param_group({"params": [p for p in model.layer4.parameters()], "lr": 3e-5,
                         "name": "layer4"})
    assert ex.q3.check(model, opt) is True


def test_q3_wrong_ways(resnet):
    model, opt = setup_q3(resnet)
    for p in model.layer4.parameters():
        p.requires_grad = True
    assert "does not hold it" in _wrong(ex.q3, model, opt)
    opt.add_param_group({"params": model.layer4.parameters()})          # same lr as the head
    assert "not lower" in _wrong(ex.q3, model, opt)

    model, opt = setup_q3(torchvision.models.resnet18(weights=None, num_classes=5))
    opt.add_param_group({"params": model.layer4.parameters(), "lr": 1e-4})   # still frozen
    assert "requires_grad=False" in _wrong(ex.q3, model, opt)

    model, _ = setup_q3(torchvision.models.resnet18(weights=None, num_classes=5))
    model.layer4.requires_grad_(True)
    fresh = torch.optim.Adam([{"params": model.fc.parameters(), "lr": 1e-3},
                              {"params": model.layer4.parameters(), "lr": 1e-4}])
    assert "newly built" in _wrong(ex.q3, model, fresh)

    model, opt = setup_q3(torchvision.models.resnet18(weights=None, num_classes=5))
    model.requires_grad_(True)
    opt.add_param_group({"params": model.layer4.parameters(), "lr": 1e-4})
    assert "train too" in _wrong(ex.q3, model, opt)

    model, opt = setup_q3(torchvision.models.resnet18(weights=None, num_classes=5))
    assert "still frozen" in _wrong(ex.q3, model, opt)


def test_q3_not_attempted_and_wrong_type(resnet):
    assert ex.q3._run((), {})[0] == "todo"
    assert "should be an nn.Module" in _wrong(
        ex.q3, [1], torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1))
    assert "optimizer" in _wrong(ex.q3, resnet, 0.1)
