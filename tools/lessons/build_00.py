"""Build lesson 00: welcome, how the course works, environment, backbone, source and target data.

    .venv/bin/python tools/lessons/build_00.py

Writes notebooks/00_welcome/00_welcome.ipynb. This is the course's fastest lesson (no training
once the backbone is cached); the autograding end-to-end test and the browser test use it.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tools.nb import Notebook  # noqa: E402
from tools.quiz_cells import add_quiz_section  # noqa: E402

OUT = ROOT / "notebooks/00_welcome/00_welcome.ipynb"

nb = Notebook()

# ---- title ------------------------------------------------------------------------------------
nb.md("""
# 00 · Welcome: how this course works

This course teaches **fine-tuning**: taking a model that was already trained on one task and
training it a bit more, on a new and often much smaller dataset, so that it does a new task.
Every lesson runs real training on your laptop's CPU in seconds, shows what happens, and asks you
to write the PyTorch yourself.

**Learning goals.** By the end of this lesson you can

1. find your way around a lesson: exercises with `check()`, `hint()` and `solution()`, and the
   graded and practice quizzes;
2. check your environment: PyTorch, the device, and the course's pretrained backbone in its cache;
3. describe the two datasets of the course, the **source task** the backbone learnt and the
   **target task** you will fine-tune it on;
4. move a batch to the device, read a model's input and output sizes, and predict with a
   pretrained model in `eval()` mode.
""")

nb.md("""
## The course at a glance

| Lesson | What you do |
|---|---|
| **00 · Welcome** | this lesson: the tools, the data, the pretrained backbone |
| 01 · Why fine-tune? | train from scratch vs start from pretrained weights, on 25 labelled images |
| 02 · Freezing and counting | `requires_grad`, what freezing really stops, counting trainable parameters |
| 03 · Replacing the head | a new `nn.Linear` for your classes, for ResNet and MobileNetV2 |
| 04 · Learning rates | why fine-tuning uses small rates; per-layer rates with parameter groups |
| 05 · Two-phase and gradual | train the head first, then unfreeze, step by step |
| 06 · Diagnosing | overfitting, a loss that does not move, and other things that go wrong |

Each lesson is a notebook: read a cell, run it (**Shift+Enter**), look at the result. Markdown
cells say *why* before code cells show *how*. **Run → Run All Cells** runs a whole lesson; every
lesson finishes in well under two minutes on a laptop.
""")

nb.code("""
import hashlib
import sys

import matplotlib.pyplot as plt
import torch
import torchvision
from torch import nn

from course_utils import data, plots, pretrained, training
from course_utils.pretrained import load_pretrained
from course_utils.exercises import lesson00 as ex
""")

# ---- how exercises work -------------------------------------------------------------------------
nb.md("""
## 1 · How exercises work

Exercises are small problems you solve in PyTorch. Each one has

- a cell for your answer: replace `raise NotImplementedError()` with your code (the lines above it
  set things up for you; leave them);
- a cell with **`ex.q1.check()`**: it looks at the objects you made (a tensor, a model, an
  optimizer) and says *Correct*, or what is wrong and where to look. Any correct way passes: the
  check tests what your objects do, not how you spelt them;
- **`ex.q1.hint()`**: one more hint each time you call it; **`ex.q1.solution()`**: one way to do
  it. They are commented out (`#`); remove the `#` to use them;
- a locked test cell that the instructor's autograder runs (nbgrader). It calls the same check
  and adds a few hidden tests of its own.

Exercises are independent: each starts from objects made in its own cell, so one you skip does
not break the next.
""")

nb.md("""
## 2 · Quizzes

Each lesson ends with a quiz in three parts:

- **Graded questions**, shown by `quiz.graded("00")` without answers. Record each answer in the
  cell below them: `quiz.answer("question-id", "A")`. `quiz.answers()` shows what you recorded.
- **A practice quiz**, `quiz.show("00")`: pick an option and press **Check**; you see whether it
  is right and why. Nothing there is graded.
- **Flashcards**, `quiz.flashcards("00")`: a question, and a **Reveal** button.

Prefer a terminal? `python -m course_utils.quiz 00` takes the practice quiz there,
`python -m course_utils.quiz 00 --flashcards` shows the flashcards, and
`python -m course_utils.quiz --pattern` draws 10 questions across easy, medium and hard from the
whole course (`quiz.test_pattern()` does the same in a notebook).
""")

# ---- environment ------------------------------------------------------------------------------
nb.md("""
## 3 · Your environment

The course needs PyTorch and torchvision, nothing else heavy. A GPU is **not** needed: the
images are small (32x32 pixels) and the training sets tiny. `training.get_device()` picks `cuda`
when a GPU is present and `cpu` otherwise; every lesson moves its data and models to that
`device`, so the same notebook runs on both.
""")

nb.code("""
device = training.get_device()
print("Python     ", sys.version.split()[0])
print("PyTorch    ", torch.__version__)
print("torchvision", torchvision.__version__)
print("device     ", device)
print("CPU threads", torch.get_num_threads())
""")

nb.md("""
A tensor lives on one device, and an operation needs all its tensors on the same one.
`tensor.to(device)` returns a **copy** on `device` (when it is already there, the same tensor):
it does not move the tensor in place, so keep what it returns.
""")

nb.code("""
x = torch.arange(6.0).reshape(2, 3)
x.to(device)                      # a copy, thrown away: x itself has not moved
x_on_device = x.to(device)        # the copy, kept
print(x.device, "->", x_on_device.device)
""")

nb.md("""
### Exercise 1 · A batch on the device

`task.x_train` holds the target task's training images (more about them below). Make
`batch_on_device`: the **first 8** training images, on `device`.
""")

nb.solution("ex00-q1", """
task = data.target_task(k=5, seed=0)

### BEGIN SOLUTION
batch_on_device = task.x_train[:8].to(device)
### END SOLUTION
""")

nb.code("""
ex.q1.check()
# ex.q1.hint()
# ex.q1.solution()
""")

nb.tests("ex00-q1-test", points=1, source="""
ex.q1.grade()
### BEGIN HIDDEN TESTS
assert tuple(batch_on_device.shape) == (8, 3, 32, 32), batch_on_device.shape
assert batch_on_device.device.type == torch.device(
    "cuda" if torch.cuda.is_available() else "cpu").type
assert torch.allclose(batch_on_device.detach().cpu(), task.x_train[:8])
### END HIDDEN TESTS
""")

# ---- data ---------------------------------------------------------------------------------------
nb.md("""
## 4 · Two tasks: what the backbone learnt, and what you will teach it

Fine-tuning always involves two tasks:

- the **source task**, the big one a model was pretrained on. For torchvision's models that is
  ImageNet: 1.2 million photos of 1,000 classes, days of GPU time. This course cannot download
  anything at run time, and you should not wait days, so it pretrains its own backbone on a
  source task that ships with Python packages: **MNIST handwritten digits 0-4** (2,000 training
  images, 500 held out);
- the **target task**, the one you care about, with few labels: **UCI handwritten digits 5-9**,
  from another scanner, at another resolution (8x8 pixels, upscaled), relabelled 0-4, with
  only `k` labelled images per class. All the others are held out to measure accuracy honestly.

New classes, new kind of images, little data: the situation fine-tuning is for. Both tasks are
images of shape `(3, 32, 32)`: torchvision models expect 3 colour channels, so the grey digits
are copied to all three, and normalised with ImageNet's mean and standard deviation.
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
source = data.source_task()              # MNIST 0-4: the pretraining data
task = data.target_task(k=5, seed=0)     # UCI 5-9 relabelled 0-4, 5 labels per class
print("source:", source)
print("target:", task)
print("one batch of images:", tuple(source.x_train[:16].shape), source.x_train.dtype)
print("labels:", tuple(source.y_train[:16].shape), source.y_train.dtype)
print("source images per class (train):", source.y_train.bincount().tolist())
print("source images per class (held out):", source.y_test.bincount().tolist())
""")

nb.md("""
A picture says more than shapes. The first row is what the backbone was trained on; the second
is what you will fine-tune it on (its titles are the digits; the labels the model sees are 0-4).
""")

nb.code("""
plots.show_images(source.x_train, source.y_train, source.classes, n=10,
                  title="Source task: MNIST digits 0-4 (the backbone was pretrained on these)")
plots.show_images(task.x_train, task.y_train, task.classes, n=10,
                  title="Target task: UCI digits 5-9 (few labels; you fine-tune on these)")
plt.show()
""")

nb.md("""
| target digit | 5 | 6 | 7 | 8 | 9 |
|---|---|---|---|---|---|
| **label** (what `y` holds) | 0 | 1 | 2 | 3 | 4 |

The target labels reuse the numbers 0-4 on purpose: the pretrained model's five outputs also
mean 0-4, but 0-4 *of the source task*. The same output number, a different meaning: that is why
fine-tuning starts with a **new head** (lesson 03).
""")

nb.md("""
### Exercise 2 · How much data is there?

How many labelled training images does each class of `task` have, and how many held-out ones?
Make `train_counts` and `test_counts`, one number per class (class 0 first). Compute them from
the labels; do not type the numbers.
""")

nb.solution("ex00-q2", """
task = data.target_task(k=5, seed=0)

### BEGIN SOLUTION
train_counts = task.y_train.bincount()
test_counts = task.y_test.bincount()
### END SOLUTION
""")

nb.code("""
ex.q2.check()
# ex.q2.hint()
# ex.q2.solution()
""")

nb.tests("ex00-q2-test", points=1, source="""
ex.q2.grade()
### BEGIN HIDDEN TESTS
from sklearn.datasets import load_digits as _load_digits

_digits = _load_digits().target
assert [int(c) for c in train_counts] == [5, 5, 5, 5, 5]
assert [int(c) for c in test_counts] == [int((_digits == d).sum()) - 5 for d in range(5, 10)]
### END HIDDEN TESTS
""")

# ---- the backbone -------------------------------------------------------------------------------
nb.md("""
## 5 · The pretrained backbone

`load_pretrained("resnet18")` returns a real `torchvision.models.resnet18`, with weights the
course trained on the source task. The first call builds them (under a minute, with a progress
bar) and stores them in a cache folder; every later call loads them in about a second, after
checking the file's SHA-256 fingerprint. Nothing is downloaded.
""")

nb.code("""
print("cache folder:", pretrained.cache_dir())
print("already built:", pretrained.cache_info("resnet18") is not None)
""")

nb.code("""
model = load_pretrained("resnet18").to(device)   # builds it the first time, with a progress bar
info = pretrained.cache_info("resnet18")
print("source task:     ", info["source_task"])
print("trained for:     ", info["epochs"], "epochs")
print("source accuracy: ", f"{info['source_test_accuracy']:.1%} on held-out source images")
print("SHA-256:         ", info["sha256"])
""")

nb.md("""
Do not take the metadata's word for it: recompute the fingerprint of the weights file, and the
accuracy on the 500 held-out source images.
""")

nb.code("""
weights_file = pretrained.cache_dir() / "resnet18-source.pt"
fingerprint = hashlib.sha256(weights_file.read_bytes()).hexdigest()
_, source_test_loader = source.loaders()
_, source_acc = training.evaluate(model, source_test_loader)
print(f"SHA-256 matches the metadata: {fingerprint == info['sha256']}")
print(f"accuracy on the source task now: {source_acc:.1%}")

assert fingerprint == info["sha256"]
assert source_acc > 0.90                                   # it learnt the source task well
assert abs(source_acc - info["source_test_accuracy"]) < 0.01
""")

nb.md("""
It is an ordinary torchvision ResNet-18: a body of convolution blocks (`conv1`, `layer1` ...
`layer4`) that turns an image into 512 numbers, the **features**, and a **head**, `model.fc`, an
`nn.Linear` that turns those 512 features into one score per class. Trained on 5 source digits,
its head has 5 outputs; an ImageNet ResNet-18's head has 1,000.
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
print(type(model).__name__)
print([name for name, _ in model.named_children()])
print("head:", model.fc)
print(f"parameters: {sum(p.numel() for p in model.parameters()):,}")
""")

nb.md("""
### Exercise 3 · What goes in, what comes out

A torchvision model takes a batch shaped `(N, 3, H, W)` and returns `(N, number of classes)`
scores, the **logits** (raw scores, before any softmax).

1. `n_features`: how many numbers the head receives. Read it from the model; do not type it.
2. `logits`: the model's output for the first 4 images of `task.x_train` (on `device`).
""")

nb.solution("ex00-q3", """
model = load_pretrained("resnet18").to(device)
task = data.target_task(k=5, seed=0)

### BEGIN SOLUTION
n_features = model.fc.in_features
with torch.no_grad():
    logits = model(task.x_train[:4].to(device))
### END SOLUTION
""")

nb.code("""
ex.q3.check()
# ex.q3.hint()
# ex.q3.solution()
""")

nb.tests("ex00-q3-test", points=1, source="""
ex.q3.grade()
### BEGIN HIDDEN TESTS
assert int(n_features) == 512
assert tuple(logits.shape) == (4, 5) and logits.is_floating_point()
### END HIDDEN TESTS
""")

nb.md("""
### Exercise 4 · Predict with the pretrained model

`images` holds 10 held-out source digits, two of each. Make `predictions`: the class the
pretrained model predicts for each image, a tensor of 10 whole numbers.

Two things matter. First, put the model in **evaluation mode** with `model.eval()`: in training
mode BatchNorm layers normalise with the statistics of the current batch, so predictions depend
on which images share the batch. Second, the predicted class is the **index of the largest
score in each row**: `argmax` over dimension 1, the classes.
""")

nb.solution("ex00-q4", """
model = load_pretrained("resnet18").to(device)
source = data.source_task()
images = source.x_test[::50].to(device)        # 10 images: two of each digit 0-4
print("true digits:", source.y_test[::50].tolist())

### BEGIN SOLUTION
model.eval()                     # BatchNorm now uses the statistics it learnt
with torch.no_grad():
    predictions = model(images).argmax(dim=1)
### END SOLUTION
""")

nb.code("""
ex.q4.check()
# ex.q4.hint()
# ex.q4.solution()
""")

nb.tests("ex00-q4-test", points=1, source="""
ex.q4.grade()
### BEGIN HIDDEN TESTS
with torch.no_grad():
    _expected = model.eval()(images).argmax(1)
assert predictions.shape == (10,)
assert torch.equal(predictions.cpu().long(), _expected.cpu())
### END HIDDEN TESTS
""")

# ---- the pretrained model on the target task ----------------------------------------------------
nb.md("""
## 6 · And on the new digits?

The backbone knows digits 0-4 very well. What does it make of 5-9, as it is? Its head can only
answer with one of the five source digits, so it cannot be right except by accident: count how
often each new digit gets each old answer.
""")

nb.code("""
frozen_model = load_pretrained("resnet18").to(device).eval()
with torch.no_grad():
    target_pred = frozen_model(task.x_test.to(device)).argmax(dim=1).cpu()
as_is_acc = (target_pred == task.y_test).float().mean().item()

table = torch.zeros(5, 5, dtype=torch.long)          # rows: true target digit, columns: answer
for true, pred in zip(task.y_test.tolist(), target_pred.tolist()):
    table[true, pred] += 1

fig, ax = plt.subplots(figsize=(4.2, 3.6))
ax.imshow(table, cmap="Blues")
for i in range(5):
    for j in range(5):
        ax.text(j, i, int(table[i, j]), ha="center", va="center", fontsize=9)
ax.set_xticks(range(5), [f"says {d}" for d in source.classes], rotation=30)
ax.set_yticks(range(5), [f"is {d}" for d in task.classes])
ax.set_title(f"Pretrained model on held-out target digits\\naccuracy as is: {as_is_acc:.1%}")
fig.tight_layout()
plt.show()

# as it is, the pretrained model is no better than guessing among 5 classes (20%) on the target task
assert as_is_acc < 0.35, as_is_acc
""")

nb.code("""
for i, digit in enumerate(task.classes):
    answer = int(table[i].argmax())
    print(f"a {digit} is most often read as a {source.classes[answer]} "
          f"({int(table[i, answer])} of {int(table[i].sum())})")
""")

nb.md("""
Each new digit is read as whichever old digit it resembles most. The head answers the wrong
question, with the source task's classes. Is the rest of the network, the body that computes
the 512 features, still worth something for the new digits? Lesson 01 measures it: it replaces
the head, trains on the 25 labelled images, and compares that with training from scratch.
""")

# ---- summary ------------------------------------------------------------------------------------
nb.md("""
## Summary

- A lesson is read-run-look: markdown says why, code shows how, plots show what happened.
- Exercises: write the code, run `ex.qN.check()`; `hint()` and `solution()` when stuck. Test
  cells grade the same check, plus hidden tests.
- Quizzes: graded questions answered with `quiz.answer(id, letter)`; a practice quiz and
  flashcards; `python -m course_utils.quiz NN` in a terminal.
- `training.get_device()` gives `cuda` or `cpu`; `x.to(device)` returns a copy: keep it.
- The **source task** (MNIST 0-4) is what the course's ResNet-18 learnt (over 90% held-out
  accuracy, verified by SHA-256 and by measuring); the **target task** (UCI 5-9, relabelled 0-4)
  has 5 labelled images per class and 871 held out.
- The model takes `(N, 3, 32, 32)` images and returns `(N, 5)` logits; its head `model.fc` gets
  512 features. Predict in `eval()` mode, with `argmax(dim=1)`.
- As it is, the pretrained model cannot do the target task: its head answers with source digits.
""")

add_quiz_section(nb, "00")
nb.save(OUT)
print(f"wrote {OUT.relative_to(ROOT)}")
