"""After optimizer steps on a frozen model, frozen weights are bit-identical; BatchNorm's
running statistics move unless the BatchNorm helper keeps them fixed."""
import torch
from torch import nn
from torchvision import models

from course_utils import batchnorm, inspection


def _frozen_resnet(seed=0):
    torch.manual_seed(seed)
    model = models.resnet18(weights=None)
    for p in model.parameters():
        p.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, 5)
    return model


def _train_steps(model, steps=3):
    opt = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1,
                          momentum=0.9, weight_decay=1e-2)
    model.train()
    gen = torch.Generator().manual_seed(1)
    for _ in range(steps):
        x = torch.randn(8, 3, 32, 32, generator=gen) * 2 + 1
        y = torch.randint(0, 5, (8,), generator=gen)
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()


def _weights(model):
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def test_frozen_weights_are_bit_identical_but_batchnorm_stats_move():
    model = _frozen_resnet()
    w0, s0 = _weights(model), inspection.batchnorm_stats_snapshot(model)
    _train_steps(model)
    w1, s1 = _weights(model), inspection.batchnorm_stats_snapshot(model)
    for n in w0:
        if n.startswith("fc."):
            assert not torch.equal(w0[n], w1[n]), "the head should train"
        else:
            assert torch.equal(w0[n], w1[n]), f"{n} moved although frozen"
    moved = [n for n in s0 if not torch.equal(s0[n], s1[n])]
    assert len(moved) == len(s0), "in train() mode every BatchNorm statistic moves"


def test_keep_batchnorm_frozen_fixes_statistics_even_after_model_train():
    model = _frozen_resnet()
    handle = batchnorm.keep_batchnorm_frozen(model)
    assert len(handle.names) == 20
    s0 = inspection.batchnorm_stats_snapshot(model)
    w0 = _weights(model)
    _train_steps(model)  # calls model.train() first: the pitfall that undoes bn.eval()
    s1 = inspection.batchnorm_stats_snapshot(model)
    assert all(torch.equal(s0[n], s1[n]) for n in s0)
    assert all(torch.equal(w0[n], p) for n, p in model.named_parameters() if "bn" in n)
    handle.remove()
    _train_steps(model, steps=1)
    s2 = inspection.batchnorm_stats_snapshot(model)
    assert not torch.equal(s1["bn1.running_mean"], s2["bn1.running_mean"]), "remove() undoes it"


def test_affine_false_keeps_batchnorm_weights_trainable():
    model = models.resnet18(weights=None)
    batchnorm.keep_batchnorm_frozen(model, affine=False)
    assert model.bn1.weight.requires_grad
    model.train()
    model(torch.randn(2, 3, 32, 32))
    assert batchnorm.batchnorm_in_train_mode(model) == []
