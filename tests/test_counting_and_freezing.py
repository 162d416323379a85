"""Counting trainable parameters, and the freezing helpers, on real torchvision models."""
import pytest
import torch
from torch import nn
from torchvision import models

from course_utils import counting, freezing, heads


def _frozen_with_new_fc(model, n):
    for p in model.parameters():
        p.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, n)
    return model


def test_resnet18_frozen_with_new_10_class_head():
    c = counting.count_parameters(_frozen_with_new_fc(models.resnet18(weights=None), 10))
    assert (c.trainable_tensors, c.trainable_elements) == (2, 5_130)
    assert c.total_tensors == 62
    assert counting.count_trainable(models.resnet18(weights=None), "tensors") == 62


def test_resnet50_frozen_with_new_5_class_head_matches_the_source():
    c = counting.count_parameters(_frozen_with_new_fc(models.resnet50(weights=None), 5))
    assert c.trainable_elements == 10_245
    assert c.total_elements == 23_518_277
    assert f"{c.trainable_elements:,} / {c.total_elements:,}" == "10,245 / 23,518,277"


def test_parameter_table_rows_add_up_to_the_total():
    model = _frozen_with_new_fc(models.resnet18(weights=None), 10)
    table = counting.parameter_table(model)
    body, total = table.rows[:-1], table.rows[-1]
    assert total[0] == "total"
    for col in range(1, 5):
        assert sum(r[col] for r in body) == total[col]
    assert [r[0] for r in body][-1] == "fc" and body[-1][3] == 5_130
    assert "fc" in str(table) and "<table>" in table._repr_html_()


def test_freeze_all_but_keeps_only_the_named_blocks():
    model = models.resnet18(weights=None)
    trainable = freezing.freeze_all_but(model, "layer4", "fc")
    assert trainable and all(n.startswith(("layer4.", "fc.")) for n in trainable)
    assert not model.layer3[0].conv1.weight.requires_grad


def test_freeze_all_but_refuses_a_prefix_that_matches_nothing():
    model = models.resnet18(weights=None)
    with pytest.raises(ValueError, match="layer_4"):
        freezing.freeze_all_but(model, "layer_4", "fc")
    # nothing was changed by the refused call
    assert all(p.requires_grad for p in model.parameters())


def test_prefix_matching_is_by_name_component():
    # "layer1" must not match "layer10"-style names; here: features.1 vs features.10
    model = models.mobilenet_v2(weights=None)
    trainable = freezing.freeze_all_but(model, "features.1")
    assert trainable and all(n.startswith("features.1.") for n in trainable)


def test_freeze_all_but_head_on_mobilenet():
    model = models.mobilenet_v2(weights=None)
    path = freezing.freeze_all_but_head(model)
    assert path == "classifier.1"
    assert counting.count_parameters(model).trainable_tensors == 2


def test_blocks_and_freeze_to_on_resnet():
    model = models.resnet18(weights=None)
    names = [n for n, _ in freezing.blocks(model)]
    assert names == ["stem", "layer1", "layer2", "layer3", "layer4", "fc"]
    assert freezing.freeze_to(model, -1) == ["fc"]
    assert counting.count_parameters(model).trainable_tensors == 2
    assert freezing.freeze_to(model, 4) == ["layer4", "fc"]
    assert not model.bn1.weight.requires_grad and model.layer4[1].bn2.weight.requires_grad
    assert freezing.freeze_to(model, 0) == names
    assert all(p.requires_grad for p in model.parameters())
    with pytest.raises(ValueError, match="6 blocks"):
        freezing.freeze_to(model, 7)


def test_blocks_on_mobilenet_follow_features_then_classifier():
    names = [n for n, _ in freezing.blocks(models.mobilenet_v2(weights=None))]
    assert names[0] == "features.0" and names[-2] == "features.18" and names[-1] == "classifier"


def test_freeze_and_unfreeze_accept_modules_and_parameters():
    model = models.resnet18(weights=None)
    freezing.freeze(model.layer1, model.fc.weight)
    assert not model.layer1[0].conv1.weight.requires_grad and not model.fc.weight.requires_grad
    assert model.fc.bias.requires_grad
    freezing.unfreeze_all(model)
    assert all(p.requires_grad for p in model.parameters())


FAMILIES = {
    "resnet18": "fc",
    "mobilenet_v2": "classifier.1",
    "mobilenet_v3_small": "classifier.3",
    "efficientnet_b0": "classifier.1",
    "densenet121": "classifier",
    "vgg11": "classifier.6",
    "convnext_tiny": "classifier.2",
    "vit_b_16": "heads.head",
}


@pytest.mark.parametrize("arch,path", FAMILIES.items())
def test_replace_head_on_every_family(arch, path):
    model = models.get_model(arch, weights=None)
    found, old = heads.find_head(model)
    assert found == path
    for p in model.parameters():
        p.requires_grad = False
    new = heads.replace_head(model, 7)
    assert model.get_submodule(path) is new
    assert (new.in_features, new.out_features) == (old.in_features, 7)
    assert new.weight.requires_grad
    if arch in ("resnet18", "mobilenet_v2"):  # a forward pass gives 7 logits
        model.eval()
        with torch.no_grad():
            assert model(torch.randn(1, 3, 64, 64)).shape == (1, 7)


def test_unknown_architecture_gets_a_clear_error():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.LazyLinear(5))
    with pytest.raises(heads.HeadNotFoundError) as err:
        heads.replace_head(model, 3)
    msg = str(err.value)
    assert "model.fc" in msg and "model.heads.head" in msg and "model.classifier" in msg


def test_replace_head_rejects_a_bad_class_count():
    with pytest.raises(ValueError, match="positive integer"):
        heads.replace_head(models.resnet18(weights=None), 0)
