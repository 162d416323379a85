"""Build lesson 02: freezing and counting.

    .venv/bin/python tools/lessons/build_02.py [OUTPUT.ipynb]

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
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else (
    ROOT / "notebooks/02_freezing_and_counting/02_freezing_and_counting.ipynb")

nb = Notebook()

# ---- title ------------------------------------------------------------------------------------
nb.md("""
# 02 · Freezing and counting

To fine-tune is to decide **which weights may change**. In PyTorch that decision is one flag on
every parameter tensor: `requires_grad`. This lesson is about setting that flag exactly where you
mean to, and checking that you did.

**Learning goals.** By the end of this lesson you can

1. say what `requires_grad = False` does (and does not) do to a parameter;
2. freeze a whole model, everything but the head, a block chosen by name (`'layer4' in name`),
   or a submodule (`model.features.parameters()`), and spot the source's loop that freezes the
   head by accident;
3. count trainable parameters two ways, as **tensors** and as **elements**, and read the
   numbers for resnet18, resnet50 and mobilenet_v2;
4. recognise what does *not* freeze: `model.requires_grad = False`, `model.eval()`, made-up
   methods such as `model.freeze_all_layers()`;
5. stop BatchNorm's running statistics from moving in a "frozen" model, and keep them stopped
   when a training loop calls `model.train()` every epoch.

Everything here runs in a few seconds on a laptop CPU.
""")

nb.code(f"""
import copy

import matplotlib.pyplot as plt
import torch
import torchvision
from torch import nn

from course_utils import batchnorm, counting, data, freezing, inspection, plots, training
from course_utils.exercises import lesson02 as ex
from course_utils.pretrained import load_pretrained

device = training.get_device()
SEED = {SEED}          # try another seed: every assert in this lesson should still hold
torch.manual_seed(SEED)
task = data.target_task(k=10, seed=SEED)     # UCI digits 5-9: 10 labelled images per class


pretrained_resnet = load_pretrained("resnet18").to(device)   # pretrained on MNIST digits 0-4


def fresh():
    \"\"\"A new, untouched copy of the course's pretrained resnet18.\"\"\"
    return copy.deepcopy(pretrained_resnet)


x, y = task.x_train[:16].to(device), task.y_train[:16].to(device)   # one small batch
model = fresh()
task
""")

# ---- 1 requires_grad ---------------------------------------------------------------------------
nb.md("""
## 1 · One flag per tensor: `requires_grad`

A model's weights live in **parameter tensors**. `model.named_parameters()` lists them with their
dotted names; the names follow the attribute path, so `layer4.1.conv2.weight` is the weight of
`model.layer4[1].conv2`. The course's resnet18 has 62 of them:
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
named = list(model.named_parameters())
print(len(named), "parameter tensors; the first four and the last four:")
for name, p in named[:4] + named[-4:]:
    print(f"  {name:24s} {str(tuple(p.shape)):16s} requires_grad={p.requires_grad}")
""")

nb.md("""
Every tensor starts with `requires_grad=True`. Setting it to `False` **freezes** the tensor:
autograd stops computing its gradient, so `loss.backward()` leaves its `.grad` as `None`, and
every PyTorch optimizer skips a parameter whose `.grad` is `None`. The layer stays in the model
and still computes the forward pass; it just stops changing. Let us freeze one tensor, take a real
training step with an optimizer that holds *all* parameters, and look:
""")

nb.code("""
model.conv1.weight.requires_grad = False          # freeze one tensor
conv1_before = model.conv1.weight.detach().clone()
layer1_before = model.layer1[0].conv1.weight.detach().clone()

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
loss = nn.functional.cross_entropy(model(x), y)
loss.backward()
optimizer.step()

print("conv1.weight.grad:", model.conv1.weight.grad)
print("conv1 unchanged:        ", torch.equal(model.conv1.weight, conv1_before))
print("layer1[0].conv1 changed:", not torch.equal(model.layer1[0].conv1.weight, layer1_before))
assert model.conv1.weight.grad is None and torch.equal(model.conv1.weight, conv1_before)
assert not torch.equal(model.layer1[0].conv1.weight, layer1_before)
""")

# ---- 2 freeze everything -----------------------------------------------------------------------
nb.md("""
## 2 · Freeze everything

The source pages' freezing loop, word for word. Summing the flags counts the tensors that still
train (`True` counts as 1, `False` as 0):
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
model = fresh()
for param in model.parameters():
    param.requires_grad = False
print(sum(p.requires_grad for p in model.parameters()))
""")

nb.md("""
With nothing left to train, the loss no longer depends on any tensor that needs a gradient, so
`loss.backward()` refuses (this is what the source's "the training loss does not change" question
is about: in PyTorch you usually get this error first). Unfreeze at least the head:
""")

nb.code("""
error = None
try:
    nn.functional.cross_entropy(model(x), y).backward()
except RuntimeError as e:
    error = e
print(f"{type(error).__name__}: {error}")
assert error is not None and "does not require grad" in str(error)
""")

# ---- 3 all but the head ------------------------------------------------------------------------
nb.md("""
## 3 · Freeze everything but the head

The usual first step of fine-tuning: keep the pretrained body fixed and train only the last layer,
`model.fc` in a ResNet. The source asks which snippet does it; only **D** is right:

```python
# D: freeze everything, then unfreeze the head
for param in model.parameters():
    param.requires_grad = False
for param in model.fc.parameters():
    param.requires_grad = True
```
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
model = fresh()
for param in model.parameters():
    param.requires_grad = False
for param in model.fc.parameters():
    param.requires_grad = True
print(inspection.trainable_names(model))
""")

nb.md("""
`requires_grad_(flag)` (a *method*, with the underscore) sets the flag on every parameter of a
module at once, so two lines do the same:
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
model2 = fresh()
model2.requires_grad_(False)
model2.fc.requires_grad_(True)
print(inspection.trainable_names(model2))
assert inspection.trainable_names(model2) == inspection.trainable_names(model) == ["fc.weight", "fc.bias"]
""")

nb.md("""
Now the three wrong options, run for real on fresh models:

* **A** `model.freeze_all_layers(); model.unfreeze_last_layer()`: PyTorch modules have no such
  methods.
* **B** the loops reversed: the head is frozen and the whole body trains, the opposite of the plan.
* **C** `model.requires_grad = False; model.fc.requires_grad = True`: an `nn.Module` accepts any
  attribute, so this stores a plain Python attribute on the module object. No parameter ever reads
  it: **nothing is frozen**, and no error tells you.
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
m = fresh()                                             # A
error = None
try:
    m.freeze_all_layers()
    m.unfreeze_last_layer()
except AttributeError as e:
    error = e
print("A:", type(error).__name__, "-", error)
assert isinstance(error, AttributeError)

m = fresh()                                             # B
for param in m.parameters():
    param.requires_grad = True
for param in m.fc.parameters():
    param.requires_grad = False
print("B: frozen:", inspection.frozen_names(m), "| trainable tensors:",
      sum(p.requires_grad for p in m.parameters()))
assert inspection.frozen_names(m) == ["fc.weight", "fc.bias"]

m = fresh()                                             # C
m.requires_grad = False
m.fc.requires_grad = True
print("C: m.requires_grad is", m.requires_grad, "but trainable tensors:",
      sum(p.requires_grad for p in m.parameters()), "of", len(list(m.parameters())))
assert m.__dict__["requires_grad"] is False and all(p.requires_grad for p in m.parameters())
""")

nb.md("""
### Exercise 1 · Freeze everything but the head

The cell below loads a fresh copy of the course's resnet18 into `model`. Freeze every parameter
except those of the head `model.fc`, so that exactly `fc.weight` and `fc.bias` train. Any correct
way is fine.
""")

nb.solution("ex02-q1", """
model = load_pretrained("resnet18").to(device)    # a fresh model for this exercise
### BEGIN SOLUTION
for param in model.parameters():
    param.requires_grad = False
for param in model.fc.parameters():
    param.requires_grad = True
### END SOLUTION
""")

nb.code("""
ex.q1.check()
# ex.q1.hint()
# ex.q1.solution()
""")

nb.tests("ex02-q1-test", points=1, source="""
ex.q1.grade()
### BEGIN HIDDEN TESTS
assert [n for n, p in model.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]
assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 512 * 5 + 5
### END HIDDEN TESTS
""")

# ---- 4 by name ---------------------------------------------------------------------------------
nb.md("""
## 4 · Freezing by name: train `layer4` too

With a little more data you may let the last block adapt as well. The source's snippet picks
the block by its name:

```python
for name, param in model.named_parameters():
    if 'layer4' in name:
        param.requires_grad = True
    else:
        param.requires_grad = False
```

Read it carefully before you run it: what happens to `fc.weight`, whose name does not contain
`'layer4'`?
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
model = fresh()
for name, param in model.named_parameters():
    if 'layer4' in name:
        param.requires_grad = True
    else:
        param.requires_grad = False
print("blocks that train:", inspection.top_level_blocks(inspection.trainable_names(model)))
print("fc.weight.requires_grad =", model.fc.weight.requires_grad)
assert not model.fc.weight.requires_grad
""")

nb.md("""
**The trap:** the `else` branch froze the head. On a pretrained model whose head you keep, that
silently trains `layer4` against a fixed head; the usual intent is `layer4` *and* the head.
(If you replace the head *after* this loop, the new head trains: lesson 03.) Name both, and prefer
`startswith`, which matches whole prefixes:
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
for name, param in model.named_parameters():
    param.requires_grad = name.startswith(("layer4", "fc"))
print("blocks that train:", inspection.top_level_blocks(inspection.trainable_names(model)))

# the course helper does the same, and refuses a prefix that matches nothing (a typo)
model2 = fresh()
freezing.freeze_all_but(model2, "layer4", "fc")
assert inspection.trainable_names(model2) == inspection.trainable_names(model)
try:
    freezing.freeze_all_but(model2, "layer_4", "fc")
except ValueError as e:
    print("ValueError:", e)
""")

nb.md("""
Why `startswith` rather than `in`? A substring can match where you do not expect it. In
EfficientNet-B0 the head is `classifier`, but every squeeze-and-excitation block has layers
called `fc1` and `fc2`. (We only look at names here, so the model is built on PyTorch's `meta`
device: shapes without numbers, instantly.)
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
with torch.device("meta"):
    effnet = torchvision.models.efficientnet_b0(weights=None)
eff_names = [name for name, _ in effnet.named_parameters()]
print("names containing 'fc':         ", sum('fc' in n for n in eff_names),
      "e.g.", next(n for n in eff_names if 'fc' in n))
print("names starting with 'classifier':", sum(n.startswith('classifier') for n in eff_names))
""")

nb.md("""
A per-module table and a picture make the result easy to check. The bars are on a log scale: the
head has 2,565 elements, `layer4` 8.4 million, and everything else is grey (frozen).
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
print(counting.parameter_table(model))
""")

nb.code("""
plots.plot_trainable_by_layer(model, title="resnet18: layer4 and fc train")
plt.show()
""")

nb.md("""
### Exercise 2 · Freeze all but `layer4` and the head, by name

`model` is a fresh resnet18 again. Using the parameter **names**, make every parameter of
`layer4` and of `fc` trainable and freeze everything else.
""")

nb.solution("ex02-q2", """
model = load_pretrained("resnet18").to(device)    # a fresh model for this exercise
### BEGIN SOLUTION
for name, param in model.named_parameters():
    param.requires_grad = name.startswith(("layer4", "fc"))
### END SOLUTION
""")

nb.code("""
ex.q2.check()
# ex.q2.hint()
# ex.q2.solution()
""")

nb.tests("ex02-q2-test", points=2, source="""
ex.q2.grade()
### BEGIN HIDDEN TESTS
assert all(p.requires_grad == n.startswith(("layer4.", "fc.")) for n, p in model.named_parameters())
assert sum(p.requires_grad for p in model.parameters()) == 17
### END HIDDEN TESTS
""")

# ---- 5 by module -------------------------------------------------------------------------------
nb.md("""
## 5 · Freezing by module

Often the body is one submodule. The source's small model has `features` (two Linear layers and
a ReLU) and a `classifier`; freezing `model.features.parameters()` leaves the classifier's weight
and bias, **2** tensors:
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
class SimpleModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Linear(10, 20),
            nn.ReLU(),
            nn.Linear(20, 10)
        )
        self.classifier = nn.Linear(10, 2)

    def forward(self, x):
        x = self.features(x)
        return self.classifier(x)


simple = SimpleModel()
# Freeze all layers except classifier
for param in simple.features.parameters():
    param.requires_grad = False
trainable_params = [p for p in simple.parameters() if p.requires_grad]
print(len(trainable_params))
assert len(trainable_params) == 2
""")

nb.md("""
The source's question ("all parameters are still updating: which snippet freezes the feature
extractor?") has three wrong candidates. Each runs without complaint or fails loudly, and none
freezes anything:
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
def trainable_count(m):
    return sum(p.requires_grad for p in m.parameters())

s = SimpleModel()
s.features.requires_grad = False          # a plain attribute on the Sequential
print("features.requires_grad = False -> trainable tensors:", trainable_count(s))
s = SimpleModel()
s.features.eval()                         # inference behaviour, not freezing
print("features.eval()                -> trainable tensors:", trainable_count(s))
s = SimpleModel()
try:
    s.features.freeze()
except AttributeError as e:
    print("features.freeze()              -> AttributeError:", e)
s = SimpleModel()
s.features.requires_grad_(False)          # the method does freeze
print("features.requires_grad_(False) -> trainable tensors:", trainable_count(s))
""")

nb.md("""
The same idea on a real network: torchvision's `mobilenet_v2` has a `features` body and a
`classifier` (Dropout, then `Linear(1280, 1000)`). The source asks what this prints:
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
mobilenet = torchvision.models.mobilenet_v2(weights=None)
for param in mobilenet.parameters():
    param.requires_grad = False
for param in mobilenet.classifier.parameters():
    param.requires_grad = True
print(sum(p.requires_grad for p in mobilenet.parameters()))
""")

nb.md("""
**2**: the number of trainable *tensors* in the classifier (the Linear's weight and bias), not
the number of weights in them. Which brings us to counting.
""")

# ---- 6 counting --------------------------------------------------------------------------------
nb.md("""
## 6 · Counting: tensors or elements?

`sum(p.requires_grad for p in model.parameters())` counts **tensors**. The number of trainable
**elements** (the numbers the optimizer updates) is `sum(p.numel() for p in model.parameters() if
p.requires_grad)`. Both are useful; mixing them up is a classic (summary tools have reported
frozen parameters as trainable, too: count yourself).
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
tensors = sum(p.requires_grad for p in mobilenet.parameters())
elements = sum(p.numel() for p in mobilenet.parameters() if p.requires_grad)
print(f"mobilenet_v2, classifier only: {tensors} tensors, {elements:,} elements")
print(f"all of mobilenet_v2: {len(list(mobilenet.parameters()))} tensors, "
      f"{sum(p.numel() for p in mobilenet.parameters()):,} elements")
assert (tensors, elements) == (2, 1_281_000)
""")

nb.md("""
The source's own snippets, run with `weights=None` (counting does not need real weights): a
resnet18 frozen with a new 10-class head (page 001), and the interview answer's resnet50 frozen
with a new 5-class head (page 004), which ends by printing the counts:
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
import torchvision.models as models

model = models.resnet18(weights=None)
for param in model.parameters():
    param.requires_grad = False
model.fc = torch.nn.Linear(model.fc.in_features, 10)    # a new layer trains by default
print("resnet18 + 10-class fc:", counting.count_parameters(model))
assert counting.count_parameters(model).trainable_tensors == 2
assert counting.count_parameters(model).trainable_elements == 5_130      # 512 * 10 + 10

backbone = models.resnet50(weights=None)
for param in backbone.parameters():
    param.requires_grad = False
in_features = backbone.fc.in_features  # 2048 for ResNet-50
backbone.fc = nn.Linear(in_features, 5)
trainable = sum(p.numel() for p in backbone.parameters() if p.requires_grad)
total = sum(p.numel() for p in backbone.parameters())
print(f'Trainable: {trainable:,} / Total: {total:,}')
assert (trainable, total) == (10_245, 23_518_277)
""")

nb.md("""
One table for the three models, each frozen except its head. Feature extraction trains well under
1 % of a ResNet. mobilenet_v2's share is large only because its head still has 1,000 ImageNet
outputs (1,280 x 1,000 weights): with a 5-class head it would be 0.3 %.
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
rows = []
for arch, net_ in [("resnet18", model), ("resnet50", backbone), ("mobilenet_v2", mobilenet)]:
    c = counting.count_parameters(net_)
    rows.append([arch, c.trainable_tensors, c.total_tensors, c.trainable_elements,
                 c.total_elements, f"{c.trainable_fraction:.3%}"])
print(counting.Table(["model (head only)", "trainable tensors", "tensors", "trainable elements",
                      "elements", "share"], rows))
""")

nb.md("""
### Exercise 3 · Count trainable tensors and elements

The cell below builds a mobilenet_v2 called `net` with only its last feature block
(`net.features[-1]`) and its classifier trainable. Compute, **in code**, `n_tensors`, the number
of trainable parameter tensors, and `n_elements`, the number of trainable elements. Both should
be plain ints.
""")

nb.solution("ex02-q3", """
net = torchvision.models.mobilenet_v2(weights=None)
for p in net.parameters():
    p.requires_grad = False
for p in net.features[-1].parameters():
    p.requires_grad = True
for p in net.classifier.parameters():
    p.requires_grad = True
### BEGIN SOLUTION
n_tensors = sum(p.requires_grad for p in net.parameters())
n_elements = sum(p.numel() for p in net.parameters() if p.requires_grad)
### END SOLUTION
""")

nb.code("""
ex.q3.check()
# ex.q3.hint()
# ex.q3.solution()
""")

nb.tests("ex02-q3-test", points=2, source="""
ex.q3.grade()
### BEGIN HIDDEN TESTS
assert int(n_tensors) == 5
assert int(n_elements) == 1_693_160
### END HIDDEN TESTS
""")

# ---- 7 what does not freeze --------------------------------------------------------------------
nb.md("""
## 7 · What does *not* freeze

| you write | what it really does |
|---|---|
| `model.requires_grad = False` | stores a plain Python attribute; every parameter still trains |
| `model.trainable = False`, `param.trainable = False` | the Keras name; PyTorch never reads it |
| `model.freeze_all_layers()`, `model.freeze()` | `AttributeError`: no such method |
| `model.eval()` | switches Dropout and BatchNorm to inference behaviour; every parameter still trains |
| `model.requires_grad_(False)` | **freezes** (the method, with the underscore) |
| `for p in model.parameters(): p.requires_grad = False` | **freezes** |

Keras' `trainable` first, then `eval()`, which deserves a demonstration because it sounds like
freezing:
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
m = fresh()
m.trainable = False
for param in m.parameters():
    param.trainable = False
print("after model.trainable = False and param.trainable = False, trainable tensors:",
      sum(p.requires_grad for p in m.parameters()), "of", len(list(m.parameters())))
assert all(p.requires_grad for p in m.parameters())
""")

nb.code("""
model = fresh().eval()
before = model.conv1.weight.detach().clone()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
nn.functional.cross_entropy(model(x), y).backward()
optimizer.step()
print("after eval() and one SGD step, conv1 changed:", not torch.equal(model.conv1.weight, before))
assert not torch.equal(model.conv1.weight, before)
""")

# ---- 8 batchnorm -------------------------------------------------------------------------------
nb.md("""
## 8 · The BatchNorm trap: "frozen" is not frozen

`requires_grad=False` stops **gradient** updates. BatchNorm layers also carry two *buffers*,
`running_mean` and `running_var`, which are not parameters and never see a gradient: in `train()`
mode every forward pass moves them towards the statistics of the current batch. A training loop
puts the model in `train()` mode. So a fully frozen model still changes, with no optimizer at all.

Below, every parameter of the pretrained resnet18 is frozen. We note its predictions on the
held-out images, then run five forward passes over the 50 training images in `train()` mode,
with `torch.no_grad()` and no optimizer, as the first epochs of a training loop would:
""")

nb.code("""
def max_mean_shift(model, reference):
    \"\"\"The largest change of any BatchNorm running_mean since `reference` was taken.\"\"\"
    now = inspection.batchnorm_stats_snapshot(model)
    return max((now[k] - reference[k]).abs().max().item() for k in now if k.endswith("running_mean"))


def drift_over_passes(model, passes=5):
    \"\"\"Forward passes over the training images in train() mode; the shift after each one.\"\"\"
    reference = inspection.batchnorm_stats_snapshot(model)
    shifts = []
    with torch.no_grad():
        for _ in range(passes):
            model.train()                  # what a training loop does every epoch
            model(task.x_train.to(device))
            shifts.append(max_mean_shift(model, reference))
    return shifts


x_test = task.x_test[:200].to(device)
model = fresh()
model.requires_grad_(False)                       # every parameter frozen
weights_before = {n: p.detach().clone() for n, p in model.named_parameters()}
model.eval()
with torch.no_grad():
    logits_before = model(x_test)

shift_frozen = drift_over_passes(model)

model.eval()
with torch.no_grad():
    logits_after = model(x_test)
same_weights = all(torch.equal(p, weights_before[n]) for n, p in model.named_parameters())
changed = ((logits_after - logits_before).norm() / logits_before.norm()).item()
flipped = (logits_after.argmax(1) != logits_before.argmax(1)).float().mean().item()
print("largest running_mean shift after each pass:", [round(s, 3) for s in shift_frozen])
print("every weight bit-identical:", same_weights)
print(f"yet the outputs on held-out images moved by {changed:.0%} (relative), "
      f"and {flipped:.0%} of the predictions changed")
assert same_weights
assert shift_frozen[-1] > 0.05 and shift_frozen[-1] > shift_frozen[0]
assert changed > 0.1
""")

nb.md("""
The statistics the backbone learned on MNIST are being overwritten by the statistics of 50 UCI
images, and the "frozen" features change with them (PyTorch issue #86590; the old torchvision
fine-tuning tutorial never mentioned it).

**The fix:** BatchNorm uses and keeps its running statistics in `eval()` mode. But there is a
second trap: a training loop calls `model.train()` at the start of every epoch, and that switches
every BatchNorm layer back to train mode, undoing your `eval()`:
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
model = fresh()
model.requires_grad_(False)
for m in model.modules():
    if isinstance(m, nn.BatchNorm2d):
        m.eval()
print("BatchNorm layers in train mode after .eval():  ", len(batchnorm.batchnorm_in_train_mode(model)))
model.train()                                     # the next epoch begins
print("BatchNorm layers in train mode after .train(): ", len(batchnorm.batchnorm_in_train_mode(model)))
""")

nb.md("""
So the freeze has to be re-applied after every `train()`: override `train()` in your model (the
usual fix in mmsegmentation and detectron-style code), or let `batchnorm.keep_batchnorm_frozen`
do it, which puts each BatchNorm layer back in `eval()` mode right before it runs. The plot
compares three setups over the same five passes:
""")

nb.code("""
model = fresh()
model.requires_grad_(False)
model.eval()                                      # a one-off eval(): undone by train()
shift_eval_once = drift_over_passes(model)

model = fresh()
model.requires_grad_(False)
handle = batchnorm.keep_batchnorm_frozen(model)   # survives train()
print(handle)
shift_kept = drift_over_passes(model)

fig, ax = plt.subplots(figsize=(6, 3.2))
passes = range(1, 6)
ax.plot(passes, shift_frozen, marker="o", label="requires_grad=False only")
ax.plot(passes, shift_eval_once, marker="x", linestyle="--", label="eval() once, then train()")
ax.plot(passes, shift_kept, marker="s", label="keep_batchnorm_frozen")
ax.set_xlabel("forward passes in train() mode")
ax.set_ylabel("largest |change| of running_mean")
ax.set_xticks(list(passes))
ax.grid(alpha=0.3)
ax.legend()
ax.set_title("BatchNorm statistics of a frozen resnet18")
fig.tight_layout()
plt.show()

assert shift_eval_once[-1] > 0.05                 # pitfall 2: eval() did not survive train()
assert max(shift_kept) == 0.0                     # bit-identical statistics
""")

nb.md("""
A third way, the one torchvision's detection models use: build the network with
`torchvision.ops.FrozenBatchNorm2d`, a BatchNorm whose weight, bias and statistics are all fixed
buffers. It loads the same weights, has no BatchNorm parameters at all (22 tensors instead of 62),
and behaves like `eval()` even in `train()` mode:
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
pretrained = fresh().eval()
frozen_bn = torchvision.models.resnet18(weights=None, num_classes=5,
                                        norm_layer=torchvision.ops.FrozenBatchNorm2d).to(device)
print(frozen_bn.load_state_dict(pretrained.state_dict()))
print(counting.count_parameters(frozen_bn))
frozen_bn.train()
with torch.no_grad():
    same = torch.allclose(frozen_bn(x), pretrained(x), atol=1e-4)
print("train-mode outputs equal the pretrained model's eval-mode outputs:", same)
assert same
""")

nb.md("""
### The full check: a real training run on a frozen model

Freeze everything but the head, keep BatchNorm frozen, train for three epochs with
`training.fit` (which calls `model.train()` every epoch) and an optimizer that holds only the
head. Then compare every tensor of the model with its value before training:
""")

nb.code("""
model = fresh()
for param in model.parameters():
    param.requires_grad = False
for param in model.fc.parameters():
    param.requires_grad = True
batchnorm.keep_batchnorm_frozen(model)

state_before = {k: v.detach().clone() for k, v in model.state_dict().items()}
train_loader, _ = task.loaders(batch_size=16, seed=SEED)
optimizer = torch.optim.Adam(model.fc.parameters(), lr=1e-3)
history = training.fit(model, train_loader, epochs=3, optimizer=optimizer, desc="head only")

state_after = model.state_dict()
changed = [k for k in state_before if not torch.equal(state_before[k], state_after[k])]
print("tensors that changed:", changed)
stats = [k for k in state_before if k.endswith(("running_mean", "running_var"))]
print(f"frozen weights and {len(stats)} BatchNorm statistics: bit-identical")
assert changed == ["fc.weight", "fc.bias"]
""")

nb.md("""
### Exercise 4 · Keep BatchNorm statistics fixed while training

`bn_model` is a fresh resnet18 with everything but `fc` frozen, exactly as above, but nothing
protects its BatchNorm statistics yet. Make sure its running statistics stay **bit-identical**
even after `bn_model.train()` and forward passes, while the head `fc` still trains. (The check
calls `bn_model.train()` itself, as every epoch of a training loop does, and then restores the
model.)
""")

nb.solution("ex02-q4", """
bn_model = load_pretrained("resnet18").to(device)    # a fresh model for this exercise
for param in bn_model.parameters():
    param.requires_grad = False
for param in bn_model.fc.parameters():
    param.requires_grad = True
### BEGIN SOLUTION
batchnorm.keep_batchnorm_frozen(bn_model)
### END SOLUTION
""")

nb.code("""
ex.q4.check()
# ex.q4.hint()
# ex.q4.solution()
""")

nb.tests("ex02-q4-test", points=2, source="""
ex.q4.grade()
### BEGIN HIDDEN TESTS
bn_model.train()
_stats = [b.clone() for n, b in bn_model.named_buffers() if n.endswith("running_mean")]
with torch.no_grad():
    bn_model(torch.randn(4, 3, 32, 32, device=next(bn_model.parameters()).device))
assert all(torch.equal(a, b) for a, b in
           zip(_stats, [b for n, b in bn_model.named_buffers() if n.endswith("running_mean")]))
assert bn_model.fc.weight.requires_grad and bn_model.fc.bias.requires_grad
### END HIDDEN TESTS
""")

# ---- 9 trade-off -------------------------------------------------------------------------------
nb.md("""
## 9 · Should BatchNorm be frozen? A genuine trade-off

Frameworks disagree, and each has a reason:

* **fastai** keeps BatchNorm *trainable* while the body is frozen (`train_bn=True`): the layers
  re-centre the pretrained features on the new data, which often helps when the new images look
  different from the old ones.
* **Keras** puts BatchNorm in inference mode when you set `trainable = False` (so the source's
  Keras recipe in lesson 05 freezes the statistics without saying so).
* **torchvision's detection models** use `FrozenBatchNorm2d`: their batches are tiny (one or two
  large images), and statistics from such batches are noise.

With few labelled images and small batches, frozen statistics are the safe default: the batch
statistics of 16 images are noisy, and a cached-feature head (lesson 03) needs the backbone to
give the same features every time. With more data, letting BatchNorm adapt can win. It is a
choice: make it on purpose, and measure both on your data.
""")

# ---- summary -----------------------------------------------------------------------------------
nb.md("""
## Summary

* Freezing is `requires_grad = False` on **parameter tensors**: no gradient, so the optimizer
  skips them. The layer still runs in the forward pass.
* Freeze everything, then unfreeze what should train: the head (`model.fc`), a block by name
  (`name.startswith(("layer4", "fc"))`: the source's `'layer4' in name` loop freezes the head too),
  or a submodule (`model.features.parameters()`); `requires_grad_(flag)` does a module at once.
* `sum(p.requires_grad ...)` counts **tensors**; `sum(p.numel() ... if p.requires_grad)` counts
  **elements**: 2 tensors but 5,130 elements for a new 10-class head on resnet18; 10,245 of
  23,518,277 for the 5-class head on resnet50.
* `model.requires_grad = False`, `model.trainable = False` and `model.eval()` freeze nothing;
  `model.freeze_all_layers()` raises `AttributeError`.
* BatchNorm's running statistics move in `train()` mode even when every weight is frozen, and
  `model.train()` undoes a one-off `eval()`. `keep_batchnorm_frozen`, a `train()` override or
  `FrozenBatchNorm2d` keep them fixed; whether to do so is a trade-off.

Next, lesson 03 replaces the head and trains it.
""")

add_quiz_section(nb, "02")
nb.save(OUT)
print(f"wrote {OUT}")
