"""The offline pretrained backbone: built once, reused, verified, rebuilt when corrupt;
ImageNet weights only from a local hub cache, never downloaded."""
import json
import os

import pytest
import torch
import torchvision

from course_utils import pretrained


@pytest.fixture
def quick_cache(tmp_path, monkeypatch):
    """A fresh cache directory and a one-epoch recipe, so each build takes seconds."""
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(pretrained.RECIPES, "resnet18",
                        pretrained.Recipe("resnet18", epochs=1, lr=1e-3))
    return tmp_path / "cache"


def test_built_once_then_reused(quick_cache, capsys):
    model = pretrained.load_pretrained("resnet18", progress=False)
    out = capsys.readouterr().out
    assert "Building the course's pretrained resnet18" in out
    assert isinstance(model, torchvision.models.ResNet) and model.fc.out_features == 5
    meta = json.loads((quick_cache / "resnet18-source.json").read_text())
    assert meta["source_test_accuracy"] > 0.8, "even one epoch learns MNIST 0-4"
    assert meta["epochs"] == 1 and meta["torch_version"] == torch.__version__
    assert len(meta["sha256"]) == 64
    mtime = (quick_cache / "resnet18-source.pt").stat().st_mtime_ns

    again = pretrained.load_pretrained("resnet18", progress=False)
    assert capsys.readouterr().out == ""  # no rebuild, no message
    assert (quick_cache / "resnet18-source.pt").stat().st_mtime_ns == mtime
    for a, b in zip(model.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)


def test_build_is_deterministic(quick_cache):
    first = pretrained.build_pretrained("resnet18", progress=False)["sha256"]
    second = pretrained.build_pretrained("resnet18", progress=False)["sha256"]
    assert first == second


def test_a_corrupt_file_is_rebuilt_with_a_message(quick_cache, capsys):
    pretrained.load_pretrained("resnet18", progress=False)
    capsys.readouterr()
    weights = quick_cache / "resnet18-source.pt"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    model = pretrained.load_pretrained("resnet18", progress=False)
    out = capsys.readouterr().out
    assert "SHA-256 does not match" in out and "Rebuilding" in out
    assert pretrained._problem_with_cache("resnet18") is None
    assert model.fc.out_features == 5


def test_metadata_from_another_recipe_is_rebuilt(quick_cache, capsys):
    pretrained.load_pretrained("resnet18", progress=False)
    meta_path = quick_cache / "resnet18-source.json"
    meta = json.loads(meta_path.read_text())
    meta["recipe"]["epochs"] = 99
    meta_path.write_text(json.dumps(meta))
    capsys.readouterr()
    pretrained.load_pretrained("resnet18", progress=False)
    assert "built by another recipe" in capsys.readouterr().out


def test_unknown_architecture_is_a_clear_error(quick_cache):
    with pytest.raises(pretrained.PretrainedWeightsError, match="weights='imagenet'"):
        pretrained.load_pretrained("vgg11")


def test_weights_none_is_a_random_5_class_model():
    model = pretrained.load_pretrained("resnet18", weights=None)
    assert model.fc.out_features == 5


def test_imagenet_weights_load_from_the_local_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    torch.hub.set_dir(str(tmp_path / "torch" / "hub"))
    try:
        with pytest.raises(pretrained.PretrainedWeightsError, match="never downloads"):
            pretrained.load_pretrained("resnet18", weights="imagenet")
        # a locally made state dict, saved where torchvision keeps downloaded weights
        torch.manual_seed(123)
        reference = torchvision.models.resnet18(weights=None)
        url = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.url
        ckpt = tmp_path / "torch" / "hub" / "checkpoints" / os.path.basename(url)
        ckpt.parent.mkdir(parents=True)
        torch.save(reference.state_dict(), ckpt)
        model = pretrained.load_pretrained("resnet18", weights="imagenet")
        assert model.fc.out_features == 1000
        assert torch.equal(model.conv1.weight, reference.conv1.weight)
    finally:
        torch.hub.set_dir(os.path.join(torch.hub._get_torch_home(), "hub"))


def test_bad_weights_argument():
    with pytest.raises(ValueError, match="'course', 'imagenet' or None"):
        pretrained.load_pretrained("resnet18", weights="imagenet1k")
