"""Truth checks: run the code a quiz question asks about and assert the YAML's answer letter is
what really happens. Models are torchvision's with ``weights=None`` (never a download).

Each test names its question id; editing that question's answer wrongly fails the test.
"""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from torchvision import models

from course_utils.quiz import load_course


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny models: one thread avoids oversubscribing a shared 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def questions():
    return {q.id: q for lesson in load_course() for q in lesson.questions}


def key(questions, qid):
    """The YAML answer as a tuple of letters."""
    return questions[qid].answer


def run(code: str, env: dict | None = None, meta: bool = False) -> tuple[str, dict]:
    """Execute ``code``; return (stdout, namespace). ``meta=True`` builds tensors on the meta
    device (structure only, no weight init: fast) for questions about flags and shapes."""
    env = {} if env is None else env
    buf = io.StringIO()
    device = torch.device("meta") if meta else contextlib.nullcontext()
    with contextlib.redirect_stdout(buf), device:
        exec(compile(code, "<quiz>", "exec"), env)
    return buf.getvalue().strip(), env


def meta_model(name: str):
    """A torchvision model's structure, without initialising its weights."""
    with torch.device("meta"):
        return getattr(models, name)(weights=None)


def letter_of(q, text: str) -> tuple:
    """The option whose text is exactly ``text`` (e.g. a printed number)."""
    hits = tuple(k for k, v in q.options.items() if v.strip() == text)
    assert len(hits) == 1, f"{q.id}: no single option reads {text!r}"
    return hits


def trainable(model) -> set:
    return {n for n, p in model.named_parameters() if p.requires_grad}


def run_option(code: str, model):
    """Run an option's snippet on ``model``; the exception type it raises, or None."""
    try:
        run(code, {"model": model, "torch": torch, "nn": nn})
    except Exception as exc:  # noqa: BLE001 - which error is what we test
        return type(exc)
    return None


class Tiny(nn.Module):
    """A model with ``features`` and ``classifier``, like SimpleModel / mobilenet_v2."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 4))
        self.fc = nn.Linear(4, 2)
        self.classifier = self.fc

    def forward(self, x):
        return self.fc(self.features(x))


@pytest.fixture(scope="module")
def mobilenet_counts():
    torch.manual_seed(0)
    model = models.mobilenet_v2(weights=None)
    out, _ = run(questions_code_classifier(), {"model": model})
    cls = list(model.classifier.parameters())
    return {
        "printed": int(out),
        "classifier_tensors": len(cls),
        "classifier_elements": sum(p.numel() for p in cls),
        "all_tensors": len(list(model.parameters())),
        "all_elements": sum(p.numel() for p in model.parameters()),
        "model": model,
    }


def questions_code_classifier() -> str:
    q = {q.id: q for les in load_course() for q in les.questions}["classifier-trainable-count"]
    return q.code


def test_classifier_trainable_count(questions, mobilenet_counts):
    q, c = questions["classifier-trainable-count"], mobilenet_counts
    assert type(c["model"].classifier[0]) is nn.Dropout
    assert (c["model"].classifier[1].in_features, c["model"].classifier[1].out_features) == (1280, 1000)
    assert c["printed"] == c["classifier_tensors"] == 2
    assert c["classifier_elements"] == 1_281_000
    assert (c["all_tensors"], c["all_elements"]) == (158, 3_504_872)
    observed = {c["all_tensors"]: "A", c["classifier_tensors"]: "B", 0: "C"}[c["printed"]]
    assert key(questions, q.id) == (observed,)
    for number in ("1,281,000", "prints 2", "158", "3,504,872"):
        assert number in q.explanation


def test_count_trainable_elements(questions, mobilenet_counts):
    q, model = questions["count-trainable-elements"], mobilenet_counts["model"]
    values = {k: eval(v, {"model": model}) for k, v in q.options.items()}
    right = tuple(k for k, v in values.items() if v == mobilenet_counts["classifier_elements"])
    assert key(questions, q.id) == right
    assert values["A"] == 2 and "1,281,000" in q.explanation


def test_freeze_all_but_last(questions):
    q = questions["freeze-all-but-last"]
    outcome = {}
    for letter, code in q.options.items():
        model = meta_model("resnet18")
        error = run_option(code, model)
        outcome[letter] = error or frozenset(trainable(model))
    right = tuple(k for k, v in outcome.items() if v == {"fc.weight", "fc.bias"})
    assert key(questions, q.id) == right
    assert outcome["A"] is AttributeError                     # no such method
    assert outcome["B"] == set(trainable(meta_model("resnet18"))) - {"fc.weight", "fc.bias"}
    assert len(outcome["C"]) == 62                            # freezes nothing


def test_freeze_features_snippet(questions):
    q = questions["freeze-features-snippet"]
    want = {"fc.weight", "fc.bias"}
    outcome = {}
    for letter, code in q.options.items():
        model = Tiny()
        outcome[letter] = run_option(code, model) or frozenset(trainable(model))
    assert key(questions, q.id) == tuple(k for k, v in outcome.items() if v == want)
    assert outcome["D"] is AttributeError
    assert len(outcome["A"]) == len(outcome["C"]) == 6        # nothing frozen


def test_freeze_all_code(questions):
    q = questions["freeze-all-code"]
    outcome = {}
    for letter, code in q.options.items():
        model = Tiny()
        outcome[letter] = run_option(code, model) or frozenset(trainable(model))
    assert key(questions, q.id) == tuple(k for k, v in outcome.items() if v == frozenset())
    assert outcome["B"] is AttributeError


def test_freeze_all_sum_zero(questions):
    q = questions["freeze-all-sum-zero"]
    out, _ = run(q.code, {"model": Tiny()})
    assert key(questions, q.id) == letter_of(q, out)


@pytest.mark.parametrize("qid, printed", [
    ("simplemodel-trainable-count", "2"),
    ("module-requires-grad-attr", "62"),
    ("new-head-trainable", "2"),
])
def test_printed_number(questions, qid, printed):
    q = questions[qid]
    out, _ = run(q.code, meta=True)
    assert out == printed
    assert key(questions, qid) == letter_of(q, out)


def test_head_before_freeze_raises(questions):
    q = questions["head-before-freeze"]
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad") as info:
        run(q.code)
    observed = tuple(k for k, v in q.options.items() if str(info.value).split(" and ")[0] in v)
    assert key(questions, q.id) == observed == ("B",)


def test_loss_not_changing(questions):
    q = questions["loss-not-changing"]
    model = Tiny()
    for p in model.parameters():
        p.requires_grad = False
    loss = nn.functional.cross_entropy(model(torch.randn(3, 4)), torch.tensor([0, 1, 0]))
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        loss.backward()
    # Option B is not the cause: a model left in eval() mode still learns.
    model = Tiny().eval()
    before = model.fc.weight.detach().clone()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    nn.functional.cross_entropy(model(torch.randn(3, 4)), torch.tensor([0, 1, 0])).backward()
    opt.step()
    assert not torch.equal(before, model.fc.weight)
    assert key(questions, q.id) == ("C",)
    assert "element 0 of tensors does not require grad" in q.prompt


def test_weights_none_is_random(questions):
    q = questions["weights-none"]
    torch.manual_seed(0)
    a = models.resnet18(weights=None)
    torch.manual_seed(1)
    b = models.resnet18(weights=None)
    n = sum(p.numel() for p in a.parameters())
    assert n == 11_689_512 and "11,689,512" in q.explanation
    observed = "A" if not torch.equal(a.conv1.weight, b.conv1.weight) else "B"
    assert key(questions, q.id) == (observed,)


def test_fc_in_features(questions):
    q = questions["fc-in-features"]
    _, env = run(q.code, meta=True)
    r50 = meta_model("resnet50")
    assert (r50.fc.in_features, r50.fc.out_features) == (2048, 1000)
    assert env["backbone"].fc.in_features == 2048
    assert meta_model("resnet18").fc.in_features == 512      # option D is false
    observed = tuple(k for k, v in q.options.items() if v.startswith(f"{r50.fc.in_features},"))
    assert key(questions, q.id) == observed


def test_layerwise_missing_groups(questions):
    q = questions["layerwise-missing-groups"]
    _, env = run(q.code, meta=True)
    model, opt = env["backbone2"], env["optimizer"]
    held = {id(p) for g in opt.param_groups for p in g["params"]}
    missing = [(n, p) for n, p in model.named_parameters() if id(p) not in held]
    blocks = sorted({n.split(".")[0] for n, _ in missing})
    assert blocks == ["bn1", "conv1", "layer2", "layer3"]
    assert len(missing) == 99 and sum(p.numel() for _, p in missing) == 8_327_488
    assert "99 tensors" in q.explanation and "8,327,488" in q.explanation
    # That an optimizer never updates a tensor it does not hold: test_optimizer_before_unfreeze.
    observed = tuple(k for k, v in q.options.items() if all(b in v for b in blocks))
    assert key(questions, q.id) == observed


def test_param_in_two_groups(questions):
    q = questions["param-in-two-groups"]
    with pytest.raises(ValueError, match="more than one parameter group") as info:
        run(q.code)
    observed = tuple(k for k, v in q.options.items() if str(info.value) in v)
    assert key(questions, q.id) == observed == ("C",)


def test_filter_requires_grad(questions):
    q = questions["filter-requires-grad"]
    model = meta_model("resnet18")
    for p in model.parameters():
        p.requires_grad = False
    model.fc = nn.Linear(512, 3, device="meta")
    _, env = run(q.code, {"model": model, "torch": torch})
    held = {id(p) for g in env["optimizer"].param_groups for p in g["params"]}
    assert held == {id(p) for p in model.parameters() if p.requires_grad}
    unfiltered = torch.optim.Adam(model.parameters(), lr=1e-4)        # option D is false
    assert len(unfiltered.param_groups[0]["params"]) == 62
    assert key(questions, q.id) == ("A",)


def test_layer4_loop(questions):
    q = questions["layer4-loop"]
    _, env = run(q.code, meta=True)
    names = trainable(env["model"])
    assert names and all(n.startswith("layer4.") for n in names) and len(names) == 15
    assert "15 tensors" in q.explanation
    observed = "A" if "fc.weight" in names else "B"
    assert key(questions, q.id) == (observed,)


def _step(model, opt):
    opt.zero_grad()
    nn.functional.cross_entropy(model(torch.randn(2, 3, 16, 16)), torch.tensor([0, 2])).backward()
    opt.step()


def test_optimizer_before_unfreeze(questions):
    q = questions["optimizer-before-unfreeze"]
    torch.manual_seed(0)
    _, env = run(q.code.replace("# ...", "pass  # ..."))
    model, opt = env["model"], env["optimizer"]
    w = model.layer4[1].conv2.weight
    before = w.detach().clone()
    _step(model, opt)
    assert w.grad is not None and w.grad.abs().sum() > 0       # gets gradients ...
    assert torch.equal(before, w)                               # ... but never changes
    opt.add_param_group({"params": model.layer4.parameters(), "lr": 1e-4})
    _step(model, opt)
    assert not torch.equal(before, w)                           # the fix in the explanation
    assert key(questions, q.id) == ("A",)


def test_bn_running_stats(questions):
    q = questions["bn-running-stats"]
    out, _ = run(q.code)
    assert out == "False"
    observed = tuple(k for k, v in q.options.items() if f"(prints {out})" in v)
    assert key(questions, q.id) == observed == ("B",)


def test_train_undoes_eval(questions):
    q = questions["train-undoes-eval"]
    model = meta_model("resnet18")
    model.layer1.eval()
    model.train()
    modes = {m.training for m in model.layer1.modules()}
    assert modes == {True}
    assert key(questions, q.id) == ("B" if modes == {True} else "A",)


def test_cache_features(questions):
    q = questions["cache-features"]
    torch.manual_seed(0)
    model = models.resnet18(weights=None)
    model.fc = nn.Identity()
    for p in model.parameters():
        p.requires_grad = False
    x = torch.randn(2, 3, 16, 16)
    model.eval()
    with torch.no_grad():
        cached, again = model(x), model(x)
    assert torch.equal(cached, again)                  # frozen + eval: a cache is exact
    for p in model.layer4.parameters():                # option B: unfreeze a block ...
        p.requires_grad = True
    model.train()
    opt = torch.optim.SGD(model.layer4.parameters(), lr=0.1)
    model(x).sum().backward()
    opt.step()
    model.eval()
    with torch.no_grad():
        assert not torch.equal(cached, model(x))       # ... and the cache goes stale
    assert key(questions, q.id) == ("A",)


def test_every_code_question_is_checked(questions):
    """Questions whose code runs must have a truth test here (by id)."""
    checked = set(re.findall(r'"([a-z0-9-]+)"', Path(__file__).read_text()))
    with_code = {qid for qid, q in questions.items() if q.code}
    assert with_code <= checked, with_code - checked
