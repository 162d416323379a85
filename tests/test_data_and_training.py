"""Data from installed packages, reproducible few-shot splits, and the training helpers."""
import pytest
import torch
from torch import nn

from course_utils import data, training


def test_source_and_target_tasks_are_shaped_for_torchvision():
    src = data.source_task()
    assert src.x_train.shape == (2000, 3, 32, 32) and src.x_test.shape == (500, 3, 32, 32)
    assert sorted(src.y_train.unique().tolist()) == [0, 1, 2, 3, 4]
    tgt = data.target_task(k=5, seed=0)
    assert tgt.x_train.shape == (25, 3, 32, 32)
    assert tgt.y_train.bincount().tolist() == [5] * 5
    assert tgt.classes == ["5", "6", "7", "8", "9"]
    assert len(tgt.y_test) == 896 - 25  # UCI has 896 images of digits 5-9


def test_images_are_normalised_like_imagenet_inputs():
    x = data.target_task(k=10).x_train
    back = data.denormalize(x)
    assert back.min() >= 0 and back.max() <= 1
    assert torch.allclose(back[:, 0], back[:, 1], atol=1e-5)  # grey images in 3 channels


def test_few_shot_split_is_reproducible_and_disjoint():
    x, y = data.load_uci_digits()
    a = data.few_shot_split(x, y, k=10, seed=3)
    b = data.few_shot_split(x, y, k=10, seed=3)
    c = data.few_shot_split(x, y, k=10, seed=4)
    assert torch.equal(a.x_train, b.x_train) and not torch.equal(a.x_train, c.x_train)
    train = {tuple(t.flatten().tolist()[:64]) for t in a.x_train}
    test = {tuple(t.flatten().tolist()[:64]) for t in a.x_test}
    assert len(a.y_train) + len(a.y_test) == len(y)
    assert not train & test or len(train & test) < 3  # UCI has a few exact duplicates


def test_k_too_large_is_a_clear_error():
    x, y = data.load_uci_digits()
    with pytest.raises(ValueError, match="no held-out image"):
        data.few_shot_split(x, y, k=1000)


def test_loaders_shuffle_reproducibly():
    task = data.target_task(k=5)
    first = [y.tolist() for _, y in task.loaders(batch_size=8, seed=1)[0]]
    again = [y.tolist() for _, y in task.loaders(batch_size=8, seed=1)[0]]
    assert first == again


def _tiny_problem():
    torch.manual_seed(0)
    x = torch.randn(64, 10)
    y = (x[:, 0] > 0).long()
    return data.make_loader(x, y, 16, shuffle=True), data.make_loader(x, y, 64)


def test_fit_learns_and_records_history():
    train_loader, val_loader = _tiny_problem()
    model = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 2))
    h = training.fit(model, train_loader, val_loader, epochs=30, lr=1e-2, progress=False,
                     device="cpu")
    assert len(h) == 30 and h["epoch"] == list(range(1, 31))
    assert h["train_loss"][-1] < 0.5 * h["train_loss"][0]
    assert h.final("val_acc") > 0.9
    h2 = training.fit(model, train_loader, val_loader, epochs=2, lr=1e-3, history=h,
                      progress=False, device="cpu")
    assert h2 is h and h["epoch"][-1] == 32


def test_fit_on_a_fully_frozen_model_says_what_to_do():
    train_loader, _ = _tiny_problem()
    model = nn.Linear(10, 2)
    model.requires_grad_(False)
    with pytest.raises(ValueError, match="everything is frozen"):
        training.fit(model, train_loader, epochs=1, progress=False)


def test_early_stopping_stops_and_restores_the_best_weights():
    torch.manual_seed(0)
    x, y = torch.randn(32, 10), torch.randint(0, 2, (32,))  # labels are noise
    vx, vy = torch.randn(64, 10), torch.randint(0, 2, (64,))
    model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 2))
    h = training.fit(model, data.make_loader(x, y, 8, True), data.make_loader(vx, vy, 64),
                     epochs=200, lr=1e-2, early_stopping_patience=3, progress=False,
                     device="cpu")
    assert len(h) < 200
    best = min(h["val_loss"])
    assert training.evaluate(model, data.make_loader(vx, vy, 64))[0] == pytest.approx(best)


def test_extract_features_matches_the_backbone_and_restores_mode():
    backbone = nn.Sequential(nn.Flatten(), nn.Linear(12, 4), nn.BatchNorm1d(4))
    backbone.train()
    x = torch.randn(10, 3, 2, 2)
    feats = training.extract_features(backbone, x, batch_size=4)
    assert feats.shape == (10, 4) and backbone.training
    backbone.eval()
    assert torch.allclose(feats, backbone(x).detach())


def test_device_is_cuda_only_when_present():
    assert training.get_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
