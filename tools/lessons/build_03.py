"""Build lesson 03: replacing the head.

    .venv/bin/python tools/lessons/build_03.py [OUTPUT.ipynb]

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
    ROOT / "notebooks/03_replacing_the_head/03_replacing_the_head.ipynb")

nb = Notebook()

# ---- title ------------------------------------------------------------------------------------
nb.md("""
# 03 · Replacing the head

A pretrained classifier ends in a **head**: the last `nn.Linear`, with one output per class of the
task it was trained on (1,000 for ImageNet; 5 for the course's backbone, pretrained on MNIST
digits 0-4). A new task has new classes, so fine-tuning starts by swapping that layer for a new
one, and the simplest strategy, **feature extraction**, then trains only the new head.

**Learning goals.** By the end of this lesson you can

1. find the head in any torchvision family (`fc`, `classifier[-1]`, `classifier`, `heads.head`);
2. build the new head from `in_features`, and explain why freeze-then-replace works while
   replace-then-freeze does not;
3. give the optimizer only the head (`model.fc.parameters()` or
   `filter(lambda p: p.requires_grad, ...)`), and recognise an optimizer that holds the old head;
4. run the source's sample training step, and the source's MobileNetV2 head, in PyTorch;
5. train a head on the target task two ways, running the frozen backbone every epoch or caching
   its features once, and measure how much faster the cache is for the same result.
""")

nb.code(f"""
import copy
import time

import matplotlib.pyplot as plt
import torch
import torchvision
from torch import nn

from course_utils import batchnorm, data, heads, inspection, plots, training
from course_utils.exercises import lesson03 as ex
from course_utils.pretrained import load_pretrained

device = training.get_device()
SEED = {SEED}          # try another seed: every assert in this lesson should still hold
torch.manual_seed(SEED)
task = data.target_task(k=10, seed=SEED)     # UCI digits 5-9: 10 labelled images per class
task
""")

# ---- 1 where the head lives ----------------------------------------------------------------------
nb.md("""
## 1 · Where the head lives

Every torchvision family keeps its head under a different name. We only look at the structure
here, so the models are built on PyTorch's `meta` device: shapes without numbers, instantly, even
for VGG's 133 million parameters. `heads.find_head` knows the places to look:
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
families = ["resnet18", "resnet50", "mobilenet_v2", "efficientnet_b0", "vgg11",
            "convnext_tiny", "densenet121", "vit_b_16"]
with torch.device("meta"):
    tour = {name: torchvision.models.get_model(name, weights=None) for name in families}
for name, m in tour.items():
    path, head = heads.find_head(m)
    print(f"{name:16s} model.{path:14s} {head}")
""")

nb.md("""
In code: `model.fc` (ResNet), `model.classifier[-1]` (MobileNetV2, EfficientNet, VGG, ConvNeXt,
whose `classifier` is a `Sequential` ending in the Linear), `model.classifier` (DenseNet, a Linear
on its own) and `model.heads.head` (ViT). When in doubt, `print(model)` and read the last lines:
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
print(tour["mobilenet_v2"].classifier)
print(tour["convnext_tiny"].classifier)
print(tour["vit_b_16"].heads)
""")

# ---- 2 in_features ---------------------------------------------------------------------------------
nb.md("""
## 2 · A new head: `nn.Linear(in_features, num_classes)`

The old head tells you both numbers you need. Its `in_features` is the size of the feature
vector the backbone produces (512 for resnet18, 2048 for resnet50, 1280 for mobilenet_v2); the new
head must accept exactly that. Its `out_features` is the number of old classes; the new head gets
one output per **new** class. The course's resnet18:
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
model = load_pretrained("resnet18").to(device)
old_head = model.fc
print("old head:", old_head, "-> digits 0-4")
model.fc = nn.Linear(model.fc.in_features, task.num_classes).to(device)
print("new head:", model.fc, "-> digits 5-9")
print("the same layer?", model.fc is old_head)
""")

nb.md("""
The shapes happen to match (5 old classes, 5 new ones), but the new head is a different layer
with fresh random weights: the old one's knowledge of digits 0-4 is useless for digits 5-9.

Two details. The right-hand side is evaluated first, so `model.fc.in_features` still reads the
*old* head. And a new layer is created on the CPU: on a GPU, `.to(device)` puts it next to the
rest of the model (`heads.replace_head(model, 5)` does both for any family).

The source's snippets hard-code nothing and work for any ResNet, like this resnet50 for 10 classes
(page 001, `weights=None` because the numbers do not matter here). Typing `512` instead, as if
every ResNet were a resnet18, fails on the first batch:
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
import torchvision.models as models

model50 = models.resnet50(weights=None)
for param in model50.parameters():
    param.requires_grad = False
print("resnet50 in_features:", model50.fc.in_features)
model50.fc = torch.nn.Linear(model50.fc.in_features, 10)  # 10 classes
optimizer = torch.optim.SGD(model50.fc.parameters(), lr=0.01)
print("output shape:", tuple(model50.eval()(torch.randn(2, 3, 32, 32)).shape))

model50.fc = torch.nn.Linear(512, 10)                     # hard-coded: wrong for resnet50
error = None
try:
    model50(torch.randn(2, 3, 32, 32))
except RuntimeError as e:
    error = e
print(f"{type(error).__name__}: {error}")
assert error is not None and "cannot be multiplied" in str(error)
""")

# ---- 3 new modules require grad ----------------------------------------------------------------------
nb.md("""
## 3 · Freeze first, then replace

A newly created layer's parameters have `requires_grad=True`, whatever happened to the model
before. That is why the source's recipe works: freeze every parameter, *then* replace the head,
and exactly the new head trains (2 tensors, its weight and bias):
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
model = models.resnet18(weights=None)
for param in model.parameters():
    param.requires_grad = False
model.fc = nn.Linear(model.fc.in_features, 3)
print(sum(p.requires_grad for p in model.parameters()))
""")

nb.md("""
Swap the two steps and the freezing loop freezes the new head as well. Nothing complains when the
optimizer is built (`model.fc.parameters()` is not empty: frozen tensors are still parameters),
but the first `loss.backward()` fails, because nothing in the graph needs a gradient:
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
model = models.resnet18(weights=None)
model.fc = nn.Linear(model.fc.in_features, 3)
for param in model.parameters():
    param.requires_grad = False
optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.01)
print("optimizer built; it holds", len(optimizer.param_groups[0]["params"]), "tensors")

error = None
try:
    loss = nn.functional.cross_entropy(model(torch.randn(2, 3, 64, 64)), torch.tensor([0, 2]))
    loss.backward()
except RuntimeError as e:
    error = e
print(f"{type(error).__name__}: {error}")
assert error is not None and "does not require grad" in str(error)
""")

nb.md("""
### Exercise 1 · A new head for a resnet18

`resnet` is a fresh copy of the course's resnet18 (5-class head). Give it a head for
`num_classes = 7` classes, so that the new head is the **only** part that trains. Read
`in_features` from the model, and put the new layer on `device`.
""")

nb.solution("ex03-q1", """
resnet = load_pretrained("resnet18").to(device)    # a fresh model for this exercise
num_classes = 7
### BEGIN SOLUTION
for param in resnet.parameters():
    param.requires_grad = False
resnet.fc = nn.Linear(resnet.fc.in_features, num_classes).to(device)
### END SOLUTION
""")

nb.code("""
ex.q1.check()
# ex.q1.hint()
# ex.q1.solution()
""")

nb.tests("ex03-q1-test", points=2, source="""
ex.q1.grade()
### BEGIN HIDDEN TESTS
assert tuple(resnet.fc.weight.shape) == (7, 512)
assert [n for n, p in resnet.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]
### END HIDDEN TESTS
""")

# ---- 4 mobilenet -------------------------------------------------------------------------------------
nb.md("""
## 4 · The source's MobileNetV2 head, in PyTorch

Page 003 builds its model in Keras:

```python
base_model = MobileNetV2(weights='imagenet', include_top=False, pooling='avg')
for layer in base_model.layers:
    layer.trainable = False
output = Dense(5, activation='softmax')(base_model.output)
model = Model(inputs=base_model.input, outputs=output)
```

`include_top=False, pooling='avg'` means "the body and the global average pooling, no head";
`Dense(5)` is the new head. In torchvision the whole network is one model, and the head to swap is
the last layer of `model.classifier`, after a Dropout. With the course's MobileNetV2:
""")

nb.code("""
mnet_demo = load_pretrained("mobilenet_v2").to(device)  # built once (about a minute), then cached
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
for param in mnet_demo.parameters():
    param.requires_grad = False
mnet_demo.classifier[-1] = nn.Linear(mnet_demo.classifier[-1].in_features, 5).to(device)
print(mnet_demo.classifier)
print("trainable:", inspection.trainable_names(mnet_demo))
""")

nb.md("""
And `activation='softmax'`? Leave it out. `nn.CrossEntropyLoss` (what `training.fit` uses) applies
log-softmax to the raw scores itself; a softmax layer in the model would be applied twice during
training. When you want probabilities, apply it at prediction time:
""")

nb.code("""
mnet_demo.eval()
with torch.no_grad():
    probabilities = mnet_demo(task.x_test[:3].to(device)).softmax(dim=1)
print(probabilities.round(decimals=3))
assert torch.allclose(probabilities.sum(dim=1), torch.ones(3, device=device))
""")

nb.md("""
### Exercise 2 · A new head for a mobilenet_v2

`mnet` is a torchvision `mobilenet_v2` with an ImageNet-sized head (1,000 outputs). As on the
Keras page, freeze it and give it a new head for **5** classes, so that only the new head trains.
""")

nb.solution("ex03-q2", """
mnet = torchvision.models.mobilenet_v2(weights=None).to(device)   # head: 1000 outputs
### BEGIN SOLUTION
for param in mnet.parameters():
    param.requires_grad = False
mnet.classifier[-1] = nn.Linear(mnet.classifier[-1].in_features, 5).to(device)
### END SOLUTION
""")

nb.code("""
ex.q2.check()
# ex.q2.hint()
# ex.q2.solution()
""")

nb.tests("ex03-q2-test", points=2, source="""
ex.q2.grade()
### BEGIN HIDDEN TESTS
mnet.eval()
with torch.no_grad():
    assert tuple(mnet(torch.randn(2, 3, 32, 32, device=next(mnet.parameters()).device)).shape) == (2, 5)
assert sum(p.requires_grad for p in mnet.parameters()) == 2
### END HIDDEN TESTS
""")

# ---- 5 the optimizer -----------------------------------------------------------------------------------
nb.md("""
## 5 · An optimizer for the head only

The optimizer updates the tensors you hand it. The source shows two ways to hand it only the
head, and they hold exactly the same two tensors:
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
model = load_pretrained("resnet18").to(device)
for param in model.parameters():
    param.requires_grad = False
model.fc = nn.Linear(model.fc.in_features, task.num_classes).to(device)

opt_head = torch.optim.Adam(model.fc.parameters(), lr=0.001)
opt_filter = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=0.0001)
print(inspection.optimizer_parameter_names(model, opt_head))
print(inspection.optimizer_parameter_names(model, opt_filter))
assert inspection.optimizer_parameter_names(model, opt_head) == ["fc.weight", "fc.bias"]
assert inspection.optimizer_parameter_names(model, opt_filter) == ["fc.weight", "fc.bias"]
""")

nb.md("""
`filter(...)` is the general form: it keeps working when you later unfreeze `layer4` and build a
new optimizer (lessons 04 and 05).

**Order matters here too.** An optimizer keeps references to the tensors it was given. Build it
*before* replacing the head and it holds the **old** head, which is no longer part of the model:
every step updates a layer nobody uses, and the new head never changes. No error, no warning:
""")

nb.code("""
model = load_pretrained("resnet18").to(device)
for param in model.parameters():
    param.requires_grad = False
optimizer = torch.optim.Adam(model.fc.parameters(), lr=1e-2)         # too early
model.fc = nn.Linear(model.fc.in_features, task.num_classes).to(device)

head_before = model.fc.weight.detach().clone()
x, y = task.x_train[:16].to(device), task.y_train[:16].to(device)
for _ in range(3):
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
print("tensors in the optimizer that are not in the model:",
      inspection.foreign_parameter_count(model, optimizer))
print("the new head changed:", not torch.equal(model.fc.weight, head_before))
assert inspection.foreign_parameter_count(model, optimizer) == 2
assert torch.equal(model.fc.weight, head_before)
""")

nb.md("""
The opposite slip, `torch.optim.Adam(model.parameters())`, works today: frozen tensors get no
gradient, and optimizers skip tensors whose `.grad` is `None`. But the optimizer now holds 62
tensors instead of 2, and in some setups (a frozen tensor whose `.grad` was left as zeros from an
earlier phase, rather than `None`) momentum or weight decay still move it. Hand the optimizer only
what trains, so that what it holds is exactly the plan. The trap, in six lines:
""")

nb.code("""
layer = nn.Linear(4, 2)
sgd = torch.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
layer(torch.randn(3, 4)).sum().backward()
sgd.step()                               # an earlier phase: the layer trained
layer.requires_grad_(False)              # now it is "frozen"...
sgd.zero_grad(set_to_none=False)         # ...but its .grad is zeros, not None
before = layer.weight.detach().clone()
sgd.step()
print("the frozen layer moved:", not torch.equal(layer.weight, before))
assert not torch.equal(layer.weight, before)
""")

nb.md("""
### Exercise 3 · An optimizer for the new head only

`head_model` is a fresh, completely frozen resnet18. Give it a new head for **3** classes (as in
the source's sample model below), then build `head_optimizer` (Adam, `lr=1e-3`) that updates
exactly the parameters that train.
""")

nb.solution("ex03-q3", """
head_model = load_pretrained("resnet18").to(device)    # a fresh model for this exercise
for param in head_model.parameters():
    param.requires_grad = False
### BEGIN SOLUTION
head_model.fc = nn.Linear(head_model.fc.in_features, 3).to(device)
head_optimizer = torch.optim.Adam(head_model.fc.parameters(), lr=1e-3)
### END SOLUTION
""")

nb.code("""
ex.q3.check()
# ex.q3.hint()
# ex.q3.solution()
""")

nb.tests("ex03-q3-test", points=2, source="""
ex.q3.grade()
### BEGIN HIDDEN TESTS
assert head_model.fc.out_features == 3
assert ({id(p) for g in head_optimizer.param_groups for p in g["params"]}
        == {id(head_model.fc.weight), id(head_model.fc.bias)})
### END HIDDEN TESTS
""")

# ---- 6 the sample model ----------------------------------------------------------------------------------
nb.md("""
## 6 · The source's sample model, run for real

Page 001 closes with one complete training step: a ResNet-18, frozen, with a new 3-class head,
trained on a dummy batch of five 224x224 images. Here it is with the course's backbone in place of
`pretrained=True` (the loss and predictions come from random images, so yours will differ):
""")

nb.code("""
import torch
import torch.nn as nn
import torch.optim as optim

# Load pre-trained model
model = load_pretrained("resnet18")            # the source: models.resnet18(pretrained=True)
bn_stats_before = inspection.batchnorm_stats_snapshot(model)
body_before = {n: p.detach().clone() for n, p in model.named_parameters()}

# Freeze all layers
for param in model.parameters():
    param.requires_grad = False

# Replace the last layer for 3 classes
num_classes = 3
model.fc = nn.Linear(model.fc.in_features, num_classes)

# Only parameters of final layer will be updated
optimizer = optim.Adam(model.fc.parameters(), lr=0.001)

# Dummy input and target
inputs = torch.randn(5, 3, 224, 224)
targets = torch.tensor([0, 1, 2, 1, 0])

# Loss function
criterion = nn.CrossEntropyLoss()

# Training step
model.train()
optimizer.zero_grad()
outputs = model(inputs)
loss = criterion(outputs, targets)
loss.backward()
optimizer.step()

# Print loss and predictions
print(f"Loss: {loss.item():.4f}")
_, preds = torch.max(outputs, 1)
print(f"Predictions: {preds.tolist()}")
""")

nb.md("""
What did that step change? The frozen body's weights, nothing. But the step ran in `train()` mode,
so every BatchNorm layer also pulled its running statistics towards those five random images
(lesson 02). The source never mentions it:
""")

nb.code("""
unchanged = all(torch.equal(p, body_before[n]) for n, p in model.named_parameters()
                if not n.startswith("fc."))
stats_after = inspection.batchnorm_stats_snapshot(model)
moved = sum(not torch.equal(stats_after[k], bn_stats_before[k]) for k in bn_stats_before)
print("frozen weights bit-identical:", unchanged)
print(f"BatchNorm statistics that moved: {moved} of {len(bn_stats_before)}")
assert unchanged and moved == len(bn_stats_before)
""")

# ---- 7 the real thing ------------------------------------------------------------------------------------
nb.md("""
## 7 · Feature extraction on the target task, two ways

Now the real task: 50 labelled images of digits 5-9 (10 per class), a frozen pretrained body and
a new 5-class head. Two ways to train the same head:

* **A. Run the backbone every epoch.** The textbook loop: every batch goes through all of
  resnet18, and gradients flow into the head only. `keep_batchnorm_frozen` (lesson 02) keeps the
  frozen body giving the same features every epoch.
* **B. Cache the features once.** The body is frozen, so image *i* always gives the same 512
  numbers. Compute them once with `model.fc = nn.Identity()` (the model then returns its features)
  and `training.extract_features`, and train the head on the cached table.

Same head initialisation, same batches, same optimizer, 15 epochs each; the clock measures the
training (both pay the same one pass over the held-out images to evaluate).
""")

nb.code("""
EPOCHS, LR = 15, 1e-2

# A. the backbone runs every epoch
model = load_pretrained("resnet18").to(device)
for param in model.parameters():
    param.requires_grad = False
batchnorm.keep_batchnorm_frozen(model)
torch.manual_seed(SEED)
model.fc = nn.Linear(model.fc.in_features, task.num_classes).to(device)
train_loader, test_loader = task.loaders(batch_size=16, seed=SEED)
optimizer = torch.optim.Adam(model.fc.parameters(), lr=LR)
start = time.perf_counter()
history_a = training.fit(model, train_loader, epochs=EPOCHS, optimizer=optimizer,
                         desc="A: backbone every epoch")
seconds_a = time.perf_counter() - start
acc_a = training.evaluate(model, test_loader)[1]
print(f"A: {seconds_a:.2f} s of training, held-out accuracy {acc_a:.3f}")
""")

nb.code("""
# B. cache the frozen backbone's features once, then train the head on them
feature_extractor = load_pretrained("resnet18").to(device)
feature_extractor.requires_grad_(False)
feature_extractor.fc = nn.Identity()          # the model now returns its 512 features

start = time.perf_counter()
cached_train = training.extract_features(feature_extractor, task.x_train)   # eval() mode, once
torch.manual_seed(SEED)
head = nn.Linear(512, task.num_classes)
feature_loader = data.make_loader(cached_train, task.y_train, batch_size=16, shuffle=True,
                                  seed=SEED)
optimizer = torch.optim.Adam(head.parameters(), lr=LR)
history_b = training.fit(head, feature_loader, epochs=EPOCHS, optimizer=optimizer,
                         desc="B: cached features")
seconds_b = time.perf_counter() - start

cached_test = training.extract_features(feature_extractor, task.x_test)
acc_b = training.evaluate(head, data.make_loader(cached_test, task.y_test, 512))[1]
print("cached features:", tuple(cached_train.shape), "for training,", tuple(cached_test.shape),
      "held out")
print(f"B: {seconds_b:.2f} s of training, held-out accuracy {acc_b:.3f}")
""")

nb.code("""
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2))
ax1.plot(history_a["epoch"], history_a["train_loss"], marker="o", label="A: backbone every epoch")
ax1.plot(history_b["epoch"], history_b["train_loss"], marker="x", linestyle="--",
         label="B: cached features")
ax1.set_xlabel("epoch")
ax1.set_ylabel("training loss")
ax1.grid(alpha=0.3)
ax1.legend()
ax1.set_title("The same training run...")
ax2.barh(["A: backbone every epoch", "B: cached features"], [seconds_a, seconds_b],
         color=["#1f77b4", "#ff7f0e"])
ax2.set_xlabel("seconds of training")
ax2.set_title(f"...{seconds_a / seconds_b:.0f}x faster with the cache")
for i, (s, acc) in enumerate([(seconds_a, acc_a), (seconds_b, acc_b)]):
    ax2.text(s, i, f" {s:.2f} s, accuracy {acc:.2f}", va="center")
ax2.set_xlim(0, seconds_a * 1.8)
fig.tight_layout()
plt.show()

print(f"speed-up: {seconds_a / seconds_b:.1f}x; accuracy A {acc_a:.3f}, B {acc_b:.3f}")
assert seconds_a > 2 * seconds_b                 # the cache is much faster...
assert abs(acc_a - acc_b) <= 0.02                # ...for the same result
assert max(abs(a - b) for a, b in zip(history_a["train_loss"], history_b["train_loss"])) < 0.02
assert acc_b > 0.6                               # and the head has learnt the new digits
""")

nb.md("""
The two runs are the same computation (the loss curves lie on top of each other), but B ran the
backbone over the 50 training images once instead of 15 times. The more epochs, the larger the
gain; and with cached features, even an evaluation after every epoch is nearly free:
""")

nb.code("""
torch.manual_seed(SEED)
head_long = nn.Linear(512, task.num_classes)
test_feature_loader = data.make_loader(cached_test, task.y_test, 512)
history_long = training.fit(head_long, feature_loader, test_feature_loader, epochs=60,
                            optimizer=torch.optim.Adam(head_long.parameters(), lr=LR),
                            desc="60 epochs on cached features")
plots.plot_history({"head on cached features": history_long},
                   title="Held-out accuracy, evaluated after every epoch")
plt.show()
print(history_long)
""")

nb.md("""
**When is the cache valid?** Only while the backbone computes the same features for the same image
every time: all of it frozen, run in `eval()` mode (BatchNorm with its running statistics, Dropout
off: `extract_features` does that), and no random augmentation of the training images. Unfreeze
`layer4` and the cached features go stale after the first step: then method A is the only way.
""")

nb.md("""
### Exercise 4 · Train a head on cached features

`backbone` is a fresh, frozen copy of the course's resnet18, and `task4` the target task with seed
0. Turn `backbone` into a feature extractor, compute `train_features` (one row of 512 numbers per
image of `task4.x_train`, in order), and train a new head `feature_head` on them so that it gets
at least 60% of the held-out images right (the check computes the held-out features itself).
""")

nb.solution("ex03-q4", """
backbone = load_pretrained("resnet18").to(device)    # a fresh, frozen model for this exercise
backbone.requires_grad_(False)
task4 = data.target_task(k=10, seed=0)
### BEGIN SOLUTION
backbone.fc = nn.Identity()
train_features = training.extract_features(backbone, task4.x_train)
torch.manual_seed(0)
feature_head = nn.Linear(512, task4.num_classes)
loader = data.make_loader(train_features, task4.y_train, batch_size=16, shuffle=True)
optimizer = torch.optim.Adam(feature_head.parameters(), lr=1e-2)
training.fit(feature_head, loader, epochs=30, optimizer=optimizer, desc="feature_head")
### END SOLUTION
""")

nb.code("""
ex.q4.check()
# ex.q4.hint()
# ex.q4.solution()
""")

nb.tests("ex03-q4-test", points=3, source="""
ex.q4.grade()
### BEGIN HIDDEN TESTS
assert tuple(train_features.shape) == (50, 512)
with torch.no_grad():
    _scores = feature_head(train_features.to(next(feature_head.parameters()).device)).cpu()
assert (_scores.argmax(1) == task4.y_train).float().mean().item() > 0.8
### END HIDDEN TESTS
""")

# ---- summary ------------------------------------------------------------------------------------------
nb.md("""
## Summary

* The head is the last `nn.Linear`: `model.fc` (ResNet), `model.classifier[-1]` (MobileNetV2,
  EfficientNet, VGG, ConvNeXt), `model.classifier` (DenseNet), `model.heads.head` (ViT).
* New head: `nn.Linear(old_head.in_features, num_classes)`: `in_features` is what the backbone
  gives (512 for resnet18, 2048 for resnet50, 1280 for mobilenet_v2); `out_features` is the number
  of new classes. A hard-coded `512` breaks on resnet50.
* New layers require grad by default: **freeze first, then replace**. Replace first and the
  freezing loop freezes the new head too, and `loss.backward()` raises.
* The optimizer gets only what trains: `model.fc.parameters()` or
  `filter(lambda p: p.requires_grad, model.parameters())`, built **after** the head is replaced;
  an earlier optimizer holds the old head and the new one never changes.
* Keras' `Dense(5, activation='softmax')` is `nn.Linear(1280, 5)` in PyTorch; the softmax lives in
  `nn.CrossEntropyLoss`.
* With a fully frozen backbone in `eval()` mode, cache its features once and train the head on
  them: the same result, many times faster.

Next, lesson 04: learning rates, and what happens when the body trains too.
""")

add_quiz_section(nb, "03")
nb.save(OUT)
print(f"wrote {OUT}")
