"""Lesson 00 exercises: warm-ups in real PyTorch on the course's data and backbone.

- ``q1`` put a batch of target images on the device;
- ``q2`` count the target task's training and held-out images per class;
- ``q3`` what goes into the pretrained model and what comes out (``n_features``, ``logits``);
- ``q4`` predict source digits with the pretrained model (``eval()`` mode, ``argmax`` over classes).

Every checker looks at the student's objects (values, shapes, devices, modes), never at the
source of the answer, so any correct way passes. The expected values are computed here from
``course_utils.data`` with the same seeds the lesson uses.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .. import data, training
from .core import Exercise, Wrong

__all__ = ["q1", "q2", "q3", "q4"]

K = 5          # labelled images per class in the lesson's target task
SEED = 0
N_BATCH = 8    # q1: the first 8 training images
N_LOGITS = 4   # q3: logits of the first 4 target training images
SOURCE_STEP = 50  # q4: every 50th source test image (2 of each digit, 10 images)


def _target():
    return data.target_task(k=K, seed=SEED)


def _need_tensor(obj, name: str, what: str) -> torch.Tensor:
    if isinstance(obj, np.ndarray):
        raise Wrong(f"`{name}` is a NumPy array; keep it a torch tensor ({what}).")
    if not isinstance(obj, torch.Tensor):
        raise Wrong(f"`{name}` should be a torch tensor ({what}), got {type(obj).__name__}.")
    return obj


def _as_int_list(obj, name: str) -> list[int]:
    """A list, tuple, tensor or NumPy array of whole numbers -> a list of ints."""
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, bool):
        raise Wrong(f"`{name}` is a single number ({obj}); the exercise asks for one count per "
                    "class, 5 numbers: look at `bincount()`.")
    if isinstance(obj, torch.Tensor):
        values = obj.detach().cpu().flatten().tolist()
    elif isinstance(obj, np.ndarray):
        values = obj.flatten().tolist()
    elif isinstance(obj, (list, tuple)):
        values = list(obj)
    elif isinstance(obj, dict):
        values = [obj[k] for k in sorted(obj)]
    else:
        raise Wrong(f"`{name}` should be a list or a tensor of 5 counts, got "
                    f"{type(obj).__name__}.")
    out = []
    for v in values:
        if isinstance(v, torch.Tensor):
            v = v.item()
        if isinstance(v, bool) or not float(v).is_integer():
            raise Wrong(f"`{name}` should hold whole numbers of images, got {v!r}.")
        out.append(int(v))
    return out


# ---- q1: a batch on the device ------------------------------------------------------------------
def check_batch(batch_on_device) -> str:
    b = _need_tensor(batch_on_device, "batch_on_device", "the first 8 training images")
    if b.dtype in (torch.int64, torch.int32):
        raise Wrong("`batch_on_device` holds whole numbers: those are the labels "
                    "(`task.y_train`). The images are `task.x_train`.")
    if b.ndim != 4 or tuple(b.shape[1:]) != (3, 32, 32):
        raise Wrong(f"`batch_on_device` has shape {tuple(b.shape)}; a batch of images is "
                    "(N, 3, 32, 32): N images, 3 colour channels, 32x32 pixels. "
                    "Slice the first 8 images with `task.x_train[:8]`.")
    if b.shape[0] != N_BATCH:
        raise Wrong(f"`batch_on_device` holds {b.shape[0]} images; take the first "
                    f"{N_BATCH} with `task.x_train[:{N_BATCH}]`.")
    device = training.get_device()
    if b.device.type != device.type:
        raise Wrong(f"`batch_on_device` is on `{b.device}`, but `device` is `{device}`. "
                    "`x.to(device)` does not move `x`: it returns a new tensor, so assign it "
                    "(`batch_on_device = task.x_train[:8].to(device)`).")
    expected = _target().x_train[:N_BATCH]
    if not torch.allclose(b.detach().cpu().float(), expected, atol=1e-5):
        if torch.allclose(b.detach().cpu().float(), _target().x_test[:N_BATCH], atol=1e-5):
            raise Wrong("these are held-out images (`task.x_test`); take the first 8 "
                        "*training* images, `task.x_train[:8]`.")
        raise Wrong("`batch_on_device` has the right shape but not the right images: take "
                    "the first 8 training images of `task = data.target_task(k=5, seed=0)`, "
                    "unchanged.")
    return f"8 images of shape (3, 32, 32) on `{b.device}`."


q1 = Exercise(
    "q1", "Put a batch of images on the device", check_batch, variables=["batch_on_device"],
    hints=[
        "Slice the first 8 training images with `task.x_train[:8]`.",
        "`tensor.to(device)` returns a copy on that device: assign the result to "
        "`batch_on_device`.",
    ],
    solution="""
from course_utils import data, training
device = training.get_device()
task = data.target_task(k=5, seed=0)
batch_on_device = task.x_train[:8].to(device)
""",
)


# ---- q2: images per class -----------------------------------------------------------------------
def check_counts(train_counts, test_counts) -> str:
    task = _target()
    want_train = task.y_train.bincount(minlength=5).tolist()
    want_test = task.y_test.bincount(minlength=5).tolist()
    tr = _as_int_list(train_counts, "train_counts")
    te = _as_int_list(test_counts, "test_counts")
    if tr == want_test and te == want_train:
        raise Wrong("`train_counts` and `test_counts` are swapped: the training set is the "
                    "small one (k labelled images per class), the held-out set is the rest.")
    for name, got, want, split in (("train_counts", tr, want_train, "y_train"),
                                   ("test_counts", te, want_test, "y_test")):
        if len(got) == 1 and got[0] == sum(want):
            raise Wrong(f"`{name}` is the total number of images ({got[0]}); the exercise "
                        f"asks for one count per class: `task.{split}.bincount()`.")
        if len(got) != 5:
            raise Wrong(f"`{name}` has {len(got)} numbers; the target task has 5 classes "
                        f"(digits 5-9 relabelled 0-4), so it needs 5 counts.")
        if got == sorted(want, reverse=True) and got != want:
            raise Wrong(f"`{name}` has the right numbers in the wrong order: count class 0 "
                        "first, then 1, ... (`bincount` does that).")
        if got != want:
            if name == "train_counts" and len(set(got)) == 1:
                raise Wrong(f"`train_counts` is {got}, but `task` has {want[0]} labelled images "
                            "per class: count `task.y_train` of the task made above "
                            "(k=5), not another one.")
            raise Wrong(f"`{name}` is {got}, not the number of images per class in "
                        f"`task.{split}`: count the labels with `task.{split}.bincount()`.")
    return (f"{sum(want_train)} labelled images ({want_train[0]} per class) and "
            f"{sum(want_test)} held out.")


q2 = Exercise(
    "q2", "Count images per class", check_counts, variables=["train_counts", "test_counts"],
    hints=[
        "The labels are `task.y_train` and `task.y_test`, whole numbers 0-4.",
        "`labels.bincount()` counts how often each class occurs: `tensor([5, 5, 5, 5, 5])`.",
    ],
    solution="""
train_counts = task.y_train.bincount()
test_counts = task.y_test.bincount()
""",
)


# ---- q3: in and out of the model ----------------------------------------------------------------
def check_shapes(n_features, logits) -> str:
    if isinstance(n_features, torch.Tensor) and n_features.numel() == 1:
        n_features = n_features.item()
    if isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer)):
        raise Wrong(f"`n_features` should be a whole number (an int), got "
                    f"{type(n_features).__name__}. It is an attribute of the head: "
                    "`model.fc.in_features`.")
    if n_features == 5:
        raise Wrong("`n_features` is 5: that is `out_features`, the number of classes the head "
                    "predicts. The head's *input* size is `model.fc.in_features`.")
    if n_features == 1000:
        raise Wrong("1000 is the number of classes of an ImageNet head (`out_features`); the "
                    "head's input size is `model.fc.in_features`.")
    if n_features != 512:
        raise Wrong(f"`n_features` is {n_features}; read it from the model: "
                    "`model.fc.in_features`.")
    t = _need_tensor(logits, "logits", "the model's output for 4 images")
    if t.ndim == 1:
        raise Wrong(f"`logits` has shape {tuple(t.shape)}: a model's output keeps the batch "
                    "dimension, one row of 5 scores per image. Did you take `argmax`? The "
                    "exercise asks for the raw scores.")
    if t.ndim != 2:
        raise Wrong(f"`logits` has shape {tuple(t.shape)}; it should be (4, 5): one row of "
                    "scores per image, one column per class.")
    if t.shape[1] == 512:
        raise Wrong("`logits` has 512 columns: those are the features that go *into* the head. "
                    "Keep `model.fc` in place and call `model(x)`: the logits are its output.")
    if t.shape[0] != N_LOGITS:
        raise Wrong(f"`logits` has {t.shape[0]} rows; run the model on the first "
                    f"{N_LOGITS} training images, `task.x_train[:{N_LOGITS}]`.")
    if t.shape[1] != 5:
        raise Wrong(f"`logits` has {t.shape[1]} columns; the course's resnet18 head has 5 "
                    "outputs. Use the `model` loaded above, not a new torchvision model.")
    if not t.is_floating_point():
        raise Wrong("`logits` holds whole numbers: logits are the raw float scores that "
                    "`model(x)` returns, before any `argmax`.")
    if torch.allclose(t.detach().float().sum(1).cpu(), torch.ones(len(t)), atol=1e-4) \
            and bool((t >= 0).all()):
        raise Wrong("every row of `logits` sums to 1: those are probabilities (after softmax). "
                    "The exercise asks for the raw scores that `model(x)` returns.")
    return "512 features go into the head; out come 4 rows of 5 scores."


q3 = Exercise(
    "q3", "What goes in, what comes out", check_shapes, variables=["n_features", "logits"],
    hints=[
        "The head is `model.fc`, an `nn.Linear`: it knows its `in_features` and `out_features`.",
        "A batch of 4 images is `task.x_train[:4]`; move it to `device`, then call `model(x)`. "
        "Wrap it in `with torch.no_grad():` since you do not train here.",
    ],
    solution="""
n_features = model.fc.in_features
with torch.no_grad():
    logits = model(task.x_train[:4].to(device))
""",
)


# ---- q4: predictions with the pretrained model --------------------------------------------------
def _source_images() -> tuple[torch.Tensor, torch.Tensor]:
    src = data.source_task()
    return src.x_test[::SOURCE_STEP], src.y_test[::SOURCE_STEP]


def check_predictions(model, predictions) -> str:
    if not isinstance(model, nn.Module):
        raise Wrong(f"`model` should be the pretrained nn.Module, got {type(model).__name__}.")
    p = _need_tensor(predictions, "predictions", "one predicted class per image")
    x, y = _source_images()
    n = len(y)
    if p.ndim == 2 and tuple(p.shape) == (n, 5):
        raise Wrong(f"`predictions` has shape {tuple(p.shape)}: those are the scores (logits) "
                    "for each class. The predicted class is the highest score of each row: "
                    "`logits.argmax(dim=1)`.")
    if p.ndim == 0:
        raise Wrong("`predictions` is a single number: `argmax()` without `dim` flattens the "
                    "whole (10, 5) table first. Take the argmax of each row, `argmax(dim=1)`.")
    if tuple(p.shape) == (5,):
        raise Wrong("`predictions` has 5 entries, one per class: that is the argmax over the "
                    "batch (dim 0). Take it over the classes, `argmax(dim=1)`, one per image.")
    if p.ndim != 1 or len(p) != n:
        raise Wrong(f"`predictions` has shape {tuple(p.shape)}; it should hold {n} class "
                    f"numbers, one per image of `images`.")
    if p.is_floating_point():
        raise Wrong("`predictions` holds floats: those look like scores or probabilities. "
                    "`argmax(dim=1)` gives the class numbers.")
    if model.training:
        raise Wrong("`model` is still in training mode. Call `model.eval()` before predicting: "
                    "in training mode BatchNorm normalises with the statistics of the current "
                    "batch instead of the ones it learnt, and predictions change.")
    device = next(model.parameters()).device
    with torch.no_grad():
        want = model(x.to(device)).argmax(1).cpu()
    got = p.detach().cpu().long()
    if torch.equal(got, y) and not torch.equal(got, want):
        raise Wrong("`predictions` equals the true labels, but the model's predictions differ: "
                    "compute them with the model (`model(images).argmax(dim=1)`).")
    if not torch.equal(got, want):
        raise Wrong(f"`predictions` is {got.tolist()}, but the model in eval mode predicts "
                    f"{want.tolist()} for `images` (`source.x_test[::50]`). Use those images "
                    "and `argmax(dim=1)` of the model's output.")
    right = int((got == y).sum())
    return f"the pretrained model gets {right} of {n} source digits right."


q4 = Exercise(
    "q4", "Predict with the pretrained model", check_predictions,
    variables=["model", "predictions"],
    hints=[
        "Three steps: `model.eval()`, then `logits = model(images)` inside "
        "`with torch.no_grad():`, then the index of the largest score of each row.",
        "`logits.argmax(dim=1)` gives one class per image; `dim=0` would be one per class.",
    ],
    solution="""
model.eval()
with torch.no_grad():
    predictions = model(images).argmax(dim=1)
""",
)
