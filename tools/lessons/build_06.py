"""Build lesson 06: diagnosing a fine-tuning run that does not learn.

    .venv/bin/python tools/lessons/build_06.py [OUTPUT.ipynb]

``LESSON_SEED=1`` builds the same lesson with another seed (used to check that every asserted
claim holds across seeds; the committed notebook uses seed 0).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tools.nb import Notebook  # noqa: E402
from tools.quiz_cells import add_quiz_section  # noqa: E402

SEED = int(os.environ.get("LESSON_SEED", "0"))
OUT = ROOT / "notebooks/06_diagnosing/06_diagnosing.ipynb"

nb = Notebook()

nb.md("""
# 06 · Diagnosing a fine-tuning run

Sooner or later a run does not learn. This lesson shows the usual causes **as real runs**, with
the symptom each one leaves and the one-line check that names it:

| symptom | likely cause |
|---|---|
| `loss.backward()` raises *"element 0 of tensors does not require grad"* | no parameter requires grad |
| the loss is flat, no error | something requires grad, but the optimizer does not hold it |
| the first loss is far above ln(5) = 1.61, accuracy at chance | the learning rate is far too large |
| training loss keeps falling, held-out accuracy stops improving | overfitting |

**Learning goals.** By the end of this lesson you can

1. recognise each of these four failures from its symptom, and confirm it with a check;
2. fix an optimizer that was built before the head was replaced or before unfreezing;
3. read a training history for overfitting, and handle it with early stopping, augmentation or
   more freezing;
4. run a short diagnosis checklist on any fine-tuning script.
""")

nb.code(f"""
import copy
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import counting, data, freezing, inspection, plots, training
from course_utils.pretrained import load_pretrained

device = training.get_device()
SEED = {SEED}          # try another seed: every assert in this lesson should still hold
task = data.target_task(k=5, seed=SEED)             # only 5 labelled images per class
train_loader, test_loader = task.loaders(batch_size=16, seed=SEED)
CHANCE, UNIFORM_LOSS = 1 / task.num_classes, math.log(task.num_classes)
print(task, f"chance accuracy {{CHANCE:.2f}}, loss of a uniform guess {{UNIFORM_LOSS:.2f}}")
""")

# ---- (a) nothing requires grad ------------------------------------------------------------------
nb.md("""
## 1 · Nothing requires grad

The source's practice question: *"You tried to fine-tune a model by freezing layers but the
training loss does not change. What is the most likely error?"* Its answer: *you did not set
`requires_grad = True` for any parameters*. The classic way to get there is to replace the head
**before** the freezing loop, so the loop freezes the new head too.

The source says the loss "does not change". In plain PyTorch you do not even get that far: with
nothing to differentiate, the loss has no `grad_fn` and `loss.backward()` raises.
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
model = load_pretrained("resnet18")
model.fc = nn.Linear(model.fc.in_features, task.num_classes)   # head replaced first ...
for p in model.parameters():                                   # ... then everything frozen
    p.requires_grad = False
model = model.to(device)
print("trainable parameters:", counting.count_trainable(model))

x, y = next(iter(train_loader))
x, y = x.to(device), y.to(device)
loss = F.cross_entropy(model(x), y)
print("loss.requires_grad:", loss.requires_grad, "| loss.grad_fn:", loss.grad_fn)
try:
    loss.backward()
    raised = None
except RuntimeError as e:
    raised = e
    print(f"loss.backward() -> {type(e).__name__}: {e}")
assert raised is not None and "does not require grad" in str(raised)
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
failures = []
try:                                   # the optimizer the source pages build
    torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-3)
except ValueError as e:
    failures.append(e)
    print(f"torch.optim.Adam(...) -> {type(e).__name__}: {e}")
try:                                   # the course's training loop refuses too
    training.fit(model, train_loader, epochs=1, progress=False)
except ValueError as e:
    failures.append(e)
    print(f"training.fit(...) -> {type(e).__name__}: {e}")
assert len(failures) == 2
""")

nb.md("""
A loss that is merely *flat* with nothing trainable happens when a loop swallows these errors,
for example by wrapping the step in `try/except`, or computes the loss under `torch.no_grad()`.
Either way the first check is the same: **count the trainable parameters**.
""")

# ---- (b) the optimizer holds the wrong tensors --------------------------------------------------
nb.md("""
## 2 · The loss is flat, and nothing complains

Now the head *is* trainable, yet the loss does not move. Here the optimizer was built at the top
of the script, before the head was replaced: it holds the **old** head (and the frozen
backbone), but not one of the tensors that should train.
""")

nb.code("""
model = load_pretrained("resnet18")
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)       # built too early
for p in model.parameters():
    p.requires_grad = False
training.seed_everything(SEED)
model.fc = nn.Linear(model.fc.in_features, task.num_classes)   # trainable, but not in optimizer
head_before = copy.deepcopy(model.fc).cpu()
stale_run = training.fit(model, train_loader, test_loader, epochs=3, optimizer=optimizer,
                         desc="optimizer built too early")

losses = stale_run["train_loss"]
print("training loss per epoch:", [round(v, 3) for v in losses])
print("held-out accuracy per epoch:", [round(v, 3) for v in stale_run["val_acc"]])
assert all(torch.equal(a.cpu(), b) for a, b in zip(model.fc.parameters(), head_before.parameters()))
assert max(losses) - min(losses) < 0.1 * losses[0], "the loss is flat"
print("the new head is bit-identical after 3 epochs of 'training'")
""")

nb.md("""
The check that names it: which trainable parameters does the optimizer **not** hold, and which
tensors does it hold that are not in the model at all?
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
print("trainable parameters:", counting.count_trainable(model))
print("trainable but not in the optimizer:", inspection.trainable_but_not_optimized(model, optimizer))
print("tensors in the optimizer that are not in the model:",
      inspection.foreign_parameter_count(model, optimizer))
""")

nb.code("""
optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)  # fix
fixed_run = training.fit(model, train_loader, test_loader, epochs=4, optimizer=optimizer,
                         desc="optimizer built after the head")
print("training loss per epoch:", [round(v, 3) for v in fixed_run["train_loss"]])
assert fixed_run["train_loss"][-1] < 0.7 * losses[0], "now the loss falls"
""")

nb.md("""
The same silent failure happens in phase 2 of two-phase training: unfreeze `layer4` but keep
the phase-1 optimizer, and only the head moves (lesson 05, section 5). Exercise 2 below fixes it.
""")

# ---- a healthy run ----------------------------------------------------------------------------------
nb.md("""
## 3 · A healthy run, to compare with

Full fine-tuning of the pretrained ResNet-18 at lr 3e-4, 15 epochs, on 5 images per class. Keep
its curves in mind: the next two sections are about what differs from them.
""")

nb.code("""
def fine_tune(lr, epochs, loader=train_loader, **kwargs):
    training.seed_everything(SEED)
    model = load_pretrained("resnet18")
    model.fc = nn.Linear(model.fc.in_features, task.num_classes)
    history = training.fit(model, loader, test_loader, epochs=epochs, lr=lr, **kwargs)
    return model, history

model, healthy = fine_tune(lr=3e-4, epochs=15, desc="lr 3e-4")
print(healthy)
""")

# ---- lr too large -----------------------------------------------------------------------------------
nb.md("""
## 4 · A learning rate so large that nothing improves

Page 003 asks which choice makes a fine-tuned model *not improve* and train unstably: a very
high learning rate. At lr 0.1, Adam's first steps throw the pretrained weights far away; the
loss jumps far above the loss of a uniform guess (ln 5 ≈ 1.61), and the held-out accuracy stays
at chance.
""")

nb.code("""
_, too_large = fine_tune(lr=0.1, epochs=4, desc="lr 0.1")
print("training loss:", [round(v, 2) for v in too_large["train_loss"]])
print("held-out accuracy:", [round(v, 3) for v in too_large["val_acc"]])
assert too_large["train_loss"][0] > 3 * UNIFORM_LOSS, "the loss explodes"
assert max(too_large["val_acc"]) < CHANCE + 0.1, "accuracy stays at chance"
assert healthy.final() > CHANCE + 0.5
""")

nb.code("""
plots.plot_history({"lr 3e-4 (healthy)": healthy, "lr 0.1 (too large)": too_large},
                   metrics=("train_loss", "val_acc"), title="A rate too large: loss explodes, accuracy at chance")
plt.gcf().axes[0].set_yscale("log")
plt.show()
""")

# ---- overfitting -------------------------------------------------------------------------------------
nb.md("""
## 5 · Training loss falls, held-out accuracy stops: overfitting

Page 002: *"the training loss decreases steadily but validation accuracy plateaus early. What is
the most likely explanation?"* Look at the healthy run again, with the held-out loss too: with
25 training images, the model soon fits them almost perfectly; after that the training loss
keeps shrinking while the held-out accuracy barely moves. The extra epochs teach it the training
images, not the digits.
""")

nb.code("""
plots.plot_history({"full fine-tuning, k=5": healthy},
                   metrics=("train_loss", "val_loss", "val_acc"), title="Overfitting on 25 images")
plt.show()
""")

nb.code("""
tl, acc = healthy["train_loss"], healthy["val_acc"]
print(f"training loss: epoch 1 {tl[0]:.3f} -> lowest of the last 5 epochs {min(tl[-5:]):.4f}")
print(f"held-out accuracy: epoch 1 {acc[0]:.3f}, epoch 5 {acc[4]:.3f}, best after epoch 5 {max(acc[5:]):.3f}")
assert min(tl[-5:]) < 0.1 * tl[0], "the training loss fell by more than 90%"
assert acc[4] - acc[0] > 0.1, "the first 5 epochs brought a large gain"
assert max(acc[5:]) - acc[4] < 0.08, "the next 10 epochs brought little more"
""")

nb.md("""
Three remedies, each measured below:

- **Early stopping**: stop when the held-out loss has not improved for `patience` epochs and
  keep the best weights (`training.fit(..., early_stopping_patience=2)`). In a real project the
  stopping decision uses a *validation* split, not the test set you report; here the held-out
  set plays both roles to keep the lesson small.
- **Augmentation**: show the model a slightly different version of each image every epoch (a
  random shift of up to 3 pixels), so memorising exact pixels no longer works.
- **Freezing more**: fewer trainable parameters, less capacity to memorise. Lesson 05 measured
  it on this task: feature extraction was *worse* than fine-tuning the backbone, because these
  digits need adapted features. A remedy that fits one dataset may not fit another.
""")

nb.code("""
model, stopped = fine_tune(lr=3e-4, epochs=15, early_stopping_patience=2, desc="early stopping")
stopped_acc = training.accuracy(model, task.x_test.to(device), task.y_test.to(device))
print("held-out loss per epoch:", [round(v, 3) for v in stopped["val_loss"]])
print(f"early stopping ran {len(stopped)} of 15 epochs; restored model: {stopped_acc:.3f} "
      f"held-out accuracy (plain run after 15 epochs: {healthy.final():.3f})")
assert stopped_acc > healthy.final() - 0.03, "it keeps (almost) all of the accuracy"
""")

nb.md("""
Early stopping watches the held-out **loss**, and the loss is not the accuracy: after the
accuracy has stopped improving, the loss can keep creeping down as the model grows more
confident on the images it already gets right. So early stopping may run most or all of its
epochs (see the printout above); what it guarantees is that you keep the weights of the best epoch,
never a worse, later one. A patience of 2 epochs is short; real projects use more, and a
separate validation split.
""")

nb.code("""
def random_shift(batch, max_shift=3):
    \"\"\"A collate_fn: stack the batch and shift each image by up to max_shift pixels.\"\"\"
    x = torch.stack([item[0] for item in batch])
    y = torch.stack([item[1] for item in batch])
    size = x.shape[-1]
    padded = F.pad(x, [max_shift] * 4, mode="replicate")
    out = torch.empty_like(x)
    for i in range(len(x)):
        dx, dy = torch.randint(0, 2 * max_shift + 1, (2,)).tolist()
        out[i] = padded[i, :, dy:dy + size, dx:dx + size]
    return out, y

augmented_loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(task.x_train, task.y_train), batch_size=16, shuffle=True,
    generator=torch.Generator().manual_seed(SEED), collate_fn=random_shift)
shifted_x, shifted_y = next(iter(augmented_loader))
plots.show_images(shifted_x, shifted_y, task.classes, title="randomly shifted training images")
plt.show()
""")

nb.code("""
_, augmented = fine_tune(lr=3e-4, epochs=15, loader=augmented_loader, desc="augmented")
late_plain, late_aug = sum(healthy["train_loss"][-5:]) / 5, sum(augmented["train_loss"][-5:]) / 5
print(f"mean training loss, last 5 epochs: plain {late_plain:.3f}, augmented {late_aug:.3f}")
print(f"held-out accuracy after 15 epochs: plain {healthy.final():.3f}, augmented {augmented.final():.3f}")
assert late_aug > 3 * late_plain, "augmentation makes memorising much harder"
plots.plot_history({"plain": healthy, "augmented": augmented, "early stopping": stopped})
plt.show()
""")

nb.md("""
Read the numbers honestly. Early stopping kept the best weights at no real cost. Augmentation kept the
training loss well above zero: the model can no longer memorise the 25 images. Whether that
also raised held-out accuracy within 15 epochs depended on the seed while we wrote this lesson
(lower with seed 0, higher with seed 1), so we assert only the effect that held for every seed.
""")

# ---- exercises ---------------------------------------------------------------------------------------
nb.md("""
### Exercise 1 · Name the cause (3 points)

Four runs, four symptoms. For each case, choose one label from `DIAGNOSES` and set
`diagnoses = {"A": ..., "B": ..., "C": ..., "D": ...}`.

- **Case A.** Full fine-tuning. Training loss per epoch `27.1, 19.4, 6.3, 5.2`; held-out accuracy
  `0.19, 0.20, 0.20, 0.20`.
- **Case B.** `count_trainable(model)` is 2,565 (the new head). Training loss per epoch
  `1.71, 1.70, 1.71, 1.70`; after training, the head's weights are bit-identical to before.
- **Case C.** Training loss `1.49, 0.46, 0.11, 0.03, ..., 0.005`; held-out accuracy `0.70, 0.78,
  0.85, 0.87, 0.88, 0.88, 0.88, 0.89, 0.88` and the held-out loss rising since epoch 8.
- **Case D.** The first call to `loss.backward()` raises `RuntimeError: element 0 of tensors
  does not require grad and does not have a grad_fn`.
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
from course_utils.exercises import lesson06 as ex

DIAGNOSES = ex.DIAGNOSES
for label, meaning in DIAGNOSES.items():
    print(f"{label!r:20} {meaning}")
""")

nb.solution("ex06-q1", """
### BEGIN SOLUTION
diagnoses = {"A": "lr-too-large", "B": "stale-optimizer", "C": "overfitting", "D": "no-grad"}
### END SOLUTION
""")

nb.code("""
ex.q1.check()
# ex.q1.hint()
# ex.q1.solution()
""")

nb.tests("ex06-q1-test", points=3, source="""
ex.q1.grade()
### BEGIN HIDDEN TESTS
_d = {str(k).upper(): str(v).strip().lower() for k, v in diagnoses.items()}
assert _d["A"] == "lr-too-large" and _d["D"] == "no-grad"
assert _d["B"] == "stale-optimizer" and _d["C"] == "overfitting"
### END HIDDEN TESTS
""")

nb.md("""
### Exercise 2 · Fix the optimizer built too early (3 points)

This phase-2 code trains the head but never moves `layer4`:

```python
for p in model.parameters():
    p.requires_grad = False
model.fc = nn.Linear(512, 5)
optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
for p in model.layer4.parameters():          # phase 2
    p.requires_grad = True
```

Starting from the fresh `model` of the cell, write a correct version: a 5-class head, `layer4`
and the head trainable, everything else frozen, and an `optimizer` that holds exactly what
trains (one rate or two groups, your choice). The check trains copies of your `model` and
`optimizer` for five real steps and verifies that the loss falls and `layer4` moves.
""")

nb.solution("ex06-q2", """
model = load_pretrained("resnet18").to(device)
### BEGIN SOLUTION
for p in model.parameters():
    p.requires_grad = False
model.fc = nn.Linear(512, 5).to(device)
for p in model.layer4.parameters():
    p.requires_grad = True
optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)
### END SOLUTION
""")

nb.code("""
ex.q2.check()
# ex.q2.hint()
# ex.q2.solution()
""")

nb.tests("ex06-q2-test", points=3, source="""
ex.q2.grade()
### BEGIN HIDDEN TESTS
_held = {id(p) for g in optimizer.param_groups for p in g["params"]}
_should = {id(p) for n, p in model.named_parameters() if n.startswith(("layer4.", "fc."))}
assert _held == _should
assert {n.split(".")[0] for n, p in model.named_parameters() if p.requires_grad} == {"layer4", "fc"}
assert model.fc.out_features == 5
### END HIDDEN TESTS
""")

nb.md("""
### Exercise 3 · The epoch to stop at (3 points)

Write `best_epoch(history)`: the epoch with the **lowest held-out loss** (what early stopping
restores); on a tie, the earliest. Return the epoch *number* as the history records it,
`history["epoch"]`: a run continued from an earlier one (two-phase training) does not start at
epoch 1. `history["val_loss"]` is the list of held-out losses.
""")

nb.solution("ex06-q3", """
### BEGIN SOLUTION
def best_epoch(history):
    losses = history["val_loss"]
    return history["epoch"][losses.index(min(losses))]
### END SOLUTION
""")

nb.code("""
ex.q3.check()
# ex.q3.hint()
# ex.q3.solution()
""")

nb.tests("ex06-q3-test", points=3, source="""
ex.q3.grade()
### BEGIN HIDDEN TESTS
from course_utils.training import History as _H
_h = _H([{"epoch": e, "train_loss": 1.0 / e, "val_loss": v, "val_acc": 0.5, "seconds": 0.0}
         for e, v in zip(range(11, 16), [0.9, 0.4, 0.3, 0.3, 0.8])])
assert best_epoch(_h) == 13
### END HIDDEN TESTS
""")

nb.code("""
try:
    print("the healthy run's best epoch by held-out loss:", best_epoch(healthy))
except NameError:
    print("define best_epoch in exercise 3 first")
""")

# ---- checklist -------------------------------------------------------------------------------------
nb.md("""
## 6 · A diagnosis checklist

When a run does not learn, print these before changing anything else:

1. **How many parameters train?** `counting.count_parameters(model)`: zero means
   `loss.backward()` will fail; the whole model means nothing is frozen (did you write
   `model.requires_grad = False`? That sets a plain attribute and freezes nothing).
2. **Which blocks train?** `inspection.top_level_blocks(inspection.trainable_names(model))`: is
   the new head among them?
3. **What does the optimizer hold?** `inspection.trainable_but_not_optimized(model, optimizer)`
   must be empty; `inspection.foreign_parameter_count(model, optimizer)` must be 0 (an old head);
   `inspection.frozen_but_optimized` should be empty.
4. **The loss per epoch.** Flat: step 3. Far above ln(number of classes) and not coming down:
   the learning rate.
5. **Training against held-out.** Training loss falling while held-out accuracy stalls:
   overfitting; stop early, augment, or freeze more, and measure which helps.

The first three fit in one function:
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
def diagnose(model, optimizer):
    print(counting.count_parameters(model))
    print("blocks that train:", inspection.top_level_blocks(inspection.trainable_names(model)))
    print("trainable, not in optimizer:", inspection.trainable_but_not_optimized(model, optimizer))
    print("in optimizer, not in model:", inspection.foreign_parameter_count(model, optimizer))
    print("frozen, in optimizer:", len(inspection.frozen_but_optimized(model, optimizer)), "tensors")

broken = load_pretrained("resnet18")
early_optimizer = torch.optim.Adam(broken.parameters(), lr=1e-3)
for p in broken.parameters():
    p.requires_grad = False
broken.fc = nn.Linear(512, task.num_classes)
diagnose(broken, early_optimizer)
""")

nb.md("""
## Summary

- An **error from `loss.backward()`** about `grad_fn`: nothing requires grad. Replace the head
  *after* the freezing loop; count the trainable parameters.
- A **flat loss without error**: the optimizer does not hold what trains (built before the head
  was replaced, or before unfreezing). Build the optimizer last, or `add_param_group`.
- A **first loss far above ln(classes)** and accuracy at chance: the learning rate is far too
  large (here lr 0.1 wrecked the pretrained weights).
- **Training loss down, held-out accuracy flat**: overfitting. Early stopping keeps the best epoch's
  weights (watching the held-out loss, which can keep improving after the accuracy stalls);
  augmentation stopped the memorising; freezing more helps only when the frozen features suit
  the data.
- Before changing anything, print: trainable count, what the optimizer holds, loss per epoch,
  training against held-out.
""")

add_quiz_section(nb, "06")

if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    print(nb.save(out))
