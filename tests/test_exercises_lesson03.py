"""Lesson 03 exercise checkers: right answers pass (several ways), known wrong ways are named."""
import pytest
import torch
import torchvision
from torch import nn

from course_utils import data, freezing, heads, training
from course_utils.exercises import lesson03 as ex
from exercise_checks import passes as _passes, verdict as _run, wrong as _wrong


def resnet18():
    return torchvision.models.resnet18(weights=None, num_classes=5)


def mobilenet():
    return torchvision.models.mobilenet_v2(weights=None)


# ---- q1: resnet18, 7 classes -------------------------------------------------------------------
def test_q1_correct_three_ways(capsys):
    m = resnet18()
    for p in m.parameters():
        p.requires_grad = False
    m.fc = nn.Linear(m.fc.in_features, 7)
    _passes(ex.q1, m)
    m = resnet18()
    m.requires_grad_(False)
    heads.replace_head(m, 7)
    _passes(ex.q1, m)
    m = resnet18()                   # replace first, then freeze all but the head: also right
    m.fc = nn.Linear(512, 7)
    freezing.freeze_all_but_head(m)
    _passes(ex.q1, m)
    assert "Correct" in capsys.readouterr().out


def test_q1_wrong_ways():
    m = resnet18()                   # replace, then freeze: the new head is frozen too
    m.fc = nn.Linear(512, 7)
    for p in m.parameters():
        p.requires_grad = False
    assert "AFTER the head" in _wrong(ex.q1, m)
    m = resnet18()                   # not frozen at all
    m.fc = nn.Linear(512, 7)
    assert "body still train" in _wrong(ex.q1, m)
    m = resnet18()                   # wrong out_features
    m.requires_grad_(False)
    m.fc = nn.Linear(512, 10)
    assert "out_features=10" in _wrong(ex.q1, m)
    m = resnet18()                   # the old head kept
    m.requires_grad_(False)
    assert "old head's 5 outputs" in _wrong(ex.q1, m)
    m = resnet18()                   # an attribute changed instead of a new layer
    m.requires_grad_(False)
    m.fc.out_features = 7
    assert "does not resize" in _wrong(ex.q1, m)
    m = resnet18()                   # hard-coded in_features of another backbone
    m.requires_grad_(False)
    m.fc = nn.Linear(2048, 7)
    assert "in_features=2048" in _wrong(ex.q1, m)
    m = resnet18()                   # the plain-attribute "freeze"
    m.requires_grad = False
    m.fc = nn.Linear(512, 7)
    assert "plain Python attribute" in _wrong(ex.q1, m)
    m = resnet18()
    m.requires_grad_(False)
    m.fc = nn.Sequential(nn.Linear(512, 7))
    assert "single nn.Linear" in _wrong(ex.q1, m)


def test_q1_not_attempted_and_wrong_type(capsys):
    assert ex.q1.check(None) is False
    assert "Not attempted" in capsys.readouterr().out
    assert ex.q1.check([1, 2]) is False
    assert "nn.Module" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="q1"):
        ex.q1.grade(None)


# ---- q2: mobilenet_v2, 5 classes ---------------------------------------------------------------
def test_q2_correct_three_ways(capsys):
    m = mobilenet()
    for p in m.parameters():
        p.requires_grad = False
    m.classifier[-1] = nn.Linear(m.classifier[-1].in_features, 5)
    _passes(ex.q2, m)
    m = mobilenet()
    m.requires_grad_(False)
    heads.replace_head(m, 5)
    _passes(ex.q2, m)
    m = mobilenet()                  # the whole classifier: accepted, with a note
    m.requires_grad_(False)
    m.classifier = nn.Linear(1280, 5)
    _passes(ex.q2, m)
    assert "drops its Dropout" in capsys.readouterr().out


def test_q2_wrong_ways():
    m = mobilenet()
    m.requires_grad_(False)
    m.fc = nn.Linear(1280, 5)
    assert "has no `fc`" in _wrong(ex.q2, m)
    m = mobilenet()
    m.requires_grad_(False)
    m.classifier[0] = nn.Linear(1280, 5)
    assert "classifier[0]` is the Dropout" in _wrong(ex.q2, m)
    m = mobilenet()
    m.requires_grad_(False)
    assert "1000 outputs" in _wrong(ex.q2, m)
    m = mobilenet()
    m.classifier[-1] = nn.Linear(1280, 5)
    m.requires_grad_(False)
    assert "AFTER the head" in _wrong(ex.q2, m)
    m = mobilenet()
    m.requires_grad_(False)
    m.classifier[-1] = nn.Linear(512, 5)
    assert "in_features=512" in _wrong(ex.q2, m)
    m = mobilenet()
    m.classifier[-1] = nn.Linear(1280, 5)
    assert "body still train" in _wrong(ex.q2, m)


# ---- q3: the head's optimizer ------------------------------------------------------------------
def head_model():
    m = resnet18()
    for p in m.parameters():
        p.requires_grad = False
    m.fc = nn.Linear(512, 3)
    return m


def test_q3_correct_three_ways():
    m = head_model()
    _passes(ex.q3, m, torch.optim.Adam(m.fc.parameters(), lr=1e-3))
    _passes(ex.q3, m, torch.optim.SGD(filter(lambda p: p.requires_grad, m.parameters()), lr=0.01))
    _passes(ex.q3, m, torch.optim.AdamW([{"params": [m.fc.weight], "lr": 1e-3},
                                         {"params": [m.fc.bias], "lr": 1e-2}]))


def test_q3_wrong_ways():
    m = resnet18()                   # optimizer built before the head was replaced
    m.requires_grad_(False)
    old = torch.optim.Adam(m.fc.parameters(), lr=1e-3)
    m.fc = nn.Linear(512, 3)
    assert "OLD head" in _wrong(ex.q3, m, old)
    m = head_model()                 # an optimizer over all parameters
    assert "frozen tensors" in _wrong(ex.q3, m, torch.optim.Adam(m.parameters(), lr=1e-3))
    m = head_model()                 # the bias left out
    assert "fc.bias" in _wrong(ex.q3, m, torch.optim.Adam([m.fc.weight], lr=1e-3))
    m = resnet18()                   # the head never replaced
    m.requires_grad_(False)
    assert "old head's 5 outputs" in _wrong(ex.q3, m, torch.optim.Adam(m.fc.parameters()))
    m = head_model()
    assert "torch.optim" in _wrong(ex.q3, m, "Adam")


# ---- q4: cached features -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cached():
    from course_utils.pretrained import load_pretrained

    task = data.target_task(k=10, seed=0)
    backbone = load_pretrained("resnet18", progress=False)
    backbone.requires_grad_(False)
    backbone.fc = nn.Identity()
    feats = training.extract_features(backbone, task.x_train)
    torch.manual_seed(0)
    head = nn.Linear(512, 5)
    loader = data.make_loader(feats, task.y_train, batch_size=16, shuffle=True)
    training.fit(head, loader, epochs=30, optimizer=torch.optim.Adam(head.parameters(), lr=1e-2),
                 progress=False, device="cpu")
    return task, backbone, feats, head


def test_q4_correct_two_ways(cached):
    task, backbone, feats, head = cached
    _passes(ex.q4, backbone, feats, head)
    # by hand: no_grad + eval(), full-batch training of a head in an nn.Sequential
    backbone.eval()
    with torch.no_grad():
        feats2 = backbone(task.x_train)
    torch.manual_seed(1)
    head2 = nn.Sequential(nn.Linear(512, 5))
    opt = torch.optim.Adam(head2.parameters(), lr=1e-2)
    for _ in range(100):
        opt.zero_grad()
        nn.functional.cross_entropy(head2(feats2), task.y_train).backward()
        opt.step()
    _passes(ex.q4, backbone, feats2, head2)


def test_q4_wrong_ways(cached):
    task, backbone, feats, head = cached
    assert "out_features=3" in _wrong(ex.q4, backbone, feats, nn.Linear(512, 3))
    torch.manual_seed(0)
    assert "held-out images right" in _wrong(ex.q4, backbone, feats, nn.Linear(512, 5))
    assert "shape (10, 512)" in _wrong(ex.q4, backbone, feats[:10], head)
    assert "(in order)" in _wrong(ex.q4, backbone, feats.flip(0), head)
    with_fc = torchvision.models.resnet18(weights=None, num_classes=5)
    assert "nn.Identity()" in _wrong(ex.q4, with_fc, feats, head)
    # features computed in train() mode: BatchNorm used and moved batch statistics
    import copy
    trained_mode = copy.deepcopy(backbone).train()
    with torch.no_grad():
        bad = trained_mode(task.x_train)
    assert "train() mode" in _wrong(ex.q4, trained_mode, bad, head)
    assert "should be a tensor" in _wrong(ex.q4, backbone, feats.tolist(), head)
