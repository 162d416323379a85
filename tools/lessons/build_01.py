"""Build lesson 01: why fine-tune? Scratch vs fine-tuning vs feature extraction on 25 images.

    .venv/bin/python tools/lessons/build_01.py [OUTPUT.ipynb]

Writes notebooks/01_why_fine_tune/01_why_fine_tune.ipynb. ``LESSON_SEEDS=3,4,5`` builds the same
lesson with other seeds (to check that every asserted claim holds across seeds; the committed
notebook uses 0,1,2).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tools.nb import Notebook  # noqa: E402
from tools.quiz_cells import add_quiz_section  # noqa: E402

SEEDS = tuple(int(s) for s in os.environ.get("LESSON_SEEDS", "0,1,2").split(","))
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else \
    ROOT / "notebooks/01_why_fine_tune/01_why_fine_tune.ipynb"

nb = Notebook()

# ---- title ------------------------------------------------------------------------------------
nb.md("""
# 01 · Why fine-tune?

> Fine-tuning helps a pre-trained model learn new tasks faster by adjusting it slightly instead
> of starting from scratch.

This lesson puts that sentence to the test. With only **25 labelled images** of the target task,
you will train the same network three ways, from random weights, by fine-tuning the pretrained
backbone, and by training a new head on its frozen features, and compare them on the held-out
images, over three seeds.

**Learning goals.** By the end of this lesson you can

1. name situations where fine-tuning is the right tool, and say what it is;
2. build a from-scratch baseline (`weights=None`) and a fine-tuning model (a new head on a
   pretrained body) in PyTorch;
3. give an optimizer only the parameters that train, and compute held-out accuracy from logits;
4. read learning curves and say, with numbers that hold across seeds, what pretraining buys.
""")

# ---- motivation ---------------------------------------------------------------------------------
nb.md("""
## 1 · When fine-tuning is the right tool

The source pages list typical situations. In each, a model already learnt something general on a
large dataset, and you have a related task with far less data or compute:

| You want to ... | Start from | What is new |
|---|---|---|
| recognise new types of images, with limited data | an image model trained on millions of photos (ImageNet) | your classes, a few hundred labelled images |
| make a language model trained on general text work well on medical documents | a general language model | medical vocabulary and style |
| improve a speech recognition model for a specific accent | a speech model trained on many speakers | the accent's sounds |
| save time and computing power | any model that already solves a related task | only the last part of the training |
| customise a chatbot to understand your company's products | a general chatbot | your products' names and questions |

In this course the first row plays out on a small scale: the backbone learnt MNIST digits 0-4
(lesson 00), and the new task is UCI digits 5-9, with 5 labelled images per class.
""")

nb.md("""
## 2 · What fine-tuning is

**Fine-tuning** is taking a pre-trained model and training it a bit more on a new, often
smaller, dataset to adapt it to a specific task. It is the usual way of doing *transfer
learning*: the pretrained model has already learnt **general features** (edges, strokes,
textures, shapes for images; grammar and meaning for text), and fine-tuning adapts them to the
target task instead of learning them from scratch.

Two common strategies, both in this lesson:

- **Feature extraction**: freeze all pretrained layers and train only a new task-specific
  **head**. The early layers' general features stay as they are.
- **Full fine-tuning**: replace the head and train all layers, end to end, with a **small
  learning rate**, so the useful pretrained weights are adjusted, not overwritten.

Two warnings from the sources, which later lessons measure: fine-tuning works best when the new
task is *similar* to the original one (photos to photos, digits to digits), and fine-tuning many
layers on little data can **overfit**.

And the claims to test here: compared with training from scratch, fine-tuning needs **less
data** and **less time**.
""")

nb.code(f"""
import time
from statistics import mean

import matplotlib.pyplot as plt
import torch
from torch import nn
from torchvision import models

from course_utils import data, plots, training
from course_utils.pretrained import load_pretrained
from course_utils.exercises import lesson01 as ex

device = training.get_device()
SEEDS = {SEEDS!r}        # three seeds: every claim below is asserted over all of them
K = 5                    # labelled images per class: 25 in all
EPOCHS = 10
""")

nb.code("""
# NBVAL_CHECK_OUTPUT
task = data.target_task(k=K, seed=SEEDS[0])
print(task)
print("labelled images per class:", task.y_train.bincount().tolist())
""")

nb.md("""
The held-out images are the judge. To draw learning curves, the runs below measure accuracy after
every epoch on every third held-out image (291 images, all five classes); the final numbers at
the end use all 871.
""")

nb.code("""
def val_loader_for(task):
    \"\"\"Every third held-out image: enough for a learning curve, cheap to evaluate.\"\"\"
    return data.make_loader(task.x_test[::3], task.y_test[::3], batch_size=512)


def run(make_model, lr, seed, desc):
    \"\"\"Train a fresh model on the seed's 25 labelled images: (model, history, seconds).\"\"\"
    training.seed_everything(seed)
    model = make_model().to(device)
    task = data.target_task(k=K, seed=seed)
    train_loader, _ = task.loaders(batch_size=16, seed=seed)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    start = time.perf_counter()
    history = training.fit(model, train_loader, val_loader_for(task), epochs=EPOCHS,
                           optimizer=optimizer, desc=desc)
    return model, history, time.perf_counter() - start


def settled(history):
    \"\"\"Held-out accuracy at the end of a run, averaged over the last 3 epochs (one epoch's
    number jumps around, as the curves below show).\"\"\"
    return mean(history["val_acc"][-3:])
""")

# ---- scratch ------------------------------------------------------------------------------------
nb.md("""
## 3 · The baseline: training from scratch

A fair baseline is the **same architecture** with **random weights**, every layer trained.
`models.resnet18(weights=None)` builds ResNet-18 with a fresh random initialisation and downloads
nothing. (The source pages write `models.resnet18(pretrained=True)`; torchvision replaced that
argument with `weights=`: `weights=models.ResNet18_Weights.DEFAULT` for the ImageNet weights,
`weights=None` for none.) Its head must have one output per target class.
""")

nb.md("""
### Exercise 1 · Build the from-scratch baseline

Make `scratch_model`: a ResNet-18 with random weights and **5** outputs, every layer trainable.
""")

nb.solution("ex01-q1", """
### BEGIN SOLUTION
scratch_model = models.resnet18(weights=None, num_classes=5)
### END SOLUTION
""")

nb.code("""
ex.q1.check()
# ex.q1.hint()
# ex.q1.solution()
""")

nb.tests("ex01-q1-test", points=1, source="""
ex.q1.grade()
### BEGIN HIDDEN TESTS
assert scratch_model.fc.out_features == 5 and scratch_model.fc.in_features == 512
assert all(p.requires_grad for p in scratch_model.parameters())
assert sum(p.numel() for p in scratch_model.parameters()) == 11_179_077
### END HIDDEN TESTS
""")

nb.md("""
Now train that baseline, on each seed's 25 images, with Adam at `lr=1e-3` (a usual rate for
training from scratch) for 10 epochs. The lesson builds its own models, so the runs do not
depend on your answer above.
""")

nb.code("""
scratch = {}
for seed in SEEDS:
    _, history, seconds = run(lambda: models.resnet18(weights=None, num_classes=5),
                              lr=1e-3, seed=seed, desc=f"scratch, seed {seed}")
    scratch[seed] = (history, seconds)
    print(f"seed {seed}: held-out accuracy {settled(history):.3f} ({seconds:.1f} s)")
""")

# ---- fine-tuning ------------------------------------------------------------------------------
nb.md("""
## 4 · Fine-tuning: a new head on the pretrained body

The course's ResNet-18 was pretrained on MNIST 0-4 (lesson 00). Its body turns an image into 512
features; its head, `model.fc`, scores the five *source* digits. For the target task that head is
useless, so it is replaced by a fresh `nn.Linear` with 5 outputs. Then all layers train, at a
**small** rate, `lr=1e-4`, ten times smaller than the baseline's, to adjust the pretrained
weights gently.
""")

nb.md("""
### Exercise 2 · A new head for the target task

`model` is the pretrained ResNet-18. Replace its head with a new layer for the 5 target classes.
Read the number of input features from the model; do not type it. Keep the new head on `device`.
""")

nb.solution("ex01-q2", """
model = load_pretrained("resnet18").to(device)
old_head_weight = model.fc.weight.detach().clone()

### BEGIN SOLUTION
model.fc = nn.Linear(model.fc.in_features, 5).to(device)
### END SOLUTION
""")

nb.code("""
ex.q2.check()
# ex.q2.hint()
# ex.q2.solution()
""")

nb.tests("ex01-q2-test", points=1, source="""
ex.q2.grade()
### BEGIN HIDDEN TESTS
assert isinstance(model.fc, nn.Linear)
assert (model.fc.in_features, model.fc.out_features) == (512, 5)
assert not torch.equal(model.fc.weight.detach(), old_head_weight), "still the old head"
### END HIDDEN TESTS
""")

nb.code("""
def pretrained_with_new_head():
    model = load_pretrained("resnet18")
    model.fc = nn.Linear(model.fc.in_features, 5)     # a fresh, trainable head
    return model


finetuned = {}
for seed in SEEDS:
    model_ft, history, seconds = run(pretrained_with_new_head, lr=1e-4, seed=seed,
                                     desc=f"fine-tuning, seed {seed}")
    finetuned[seed] = (history, seconds, model_ft)
    print(f"seed {seed}: held-out accuracy {settled(history):.3f} ({seconds:.1f} s)")
""")

nb.md("""
Learning curves for the first seed: the training loss (how well each model fits its 25 images)
and the held-out accuracy (how well it does on images it never saw).
""")

nb.code("""
first = SEEDS[0]
fig = plots.plot_history({"from scratch": scratch[first][0],
                          "fine-tuned (pretrained body, new head)": finetuned[first][0]},
                         title=f"25 labelled images, seed {first}")
fig.axes[1].axhline(0.2, color="gray", linestyle=":", linewidth=1)
fig.axes[1].text(1, 0.22, "chance (5 classes)", color="gray", fontsize=8)
plt.show()
""")

nb.md("""
Both models learn their 25 training images: the training loss of both drops far below where it
started (the scratch model's jumps back up now and then). They differ on the images they never
saw. The fine-tuned model starts from features that already
describe strokes and shapes, so its held-out accuracy climbs fast and steadily. The model from
scratch has to invent its features from 25 images: it memorises them, and its held-out accuracy
is lower and jumps from epoch to epoch. The next cell checks that over all three seeds.
""")

nb.code("""
def first_epoch_reaching(history, level):
    return next((r["epoch"] for r in history.records if r["val_acc"] >= level), None)


scratch_acc = [settled(scratch[s][0]) for s in SEEDS]
finetuned_acc = [settled(finetuned[s][0]) for s in SEEDS]
gap = mean(finetuned_acc) - mean(scratch_acc)
print("seed   scratch  fine-tuned   epochs to 70% (scratch / fine-tuned)")
for s, a, b in zip(SEEDS, scratch_acc, finetuned_acc):
    print(f"{s:>4}   {a:7.3f}  {b:10.3f}   {first_epoch_reaching(scratch[s][0], 0.7)} / "
          f"{first_epoch_reaching(finetuned[s][0], 0.7)}")
print(f"mean   {mean(scratch_acc):7.3f}  {mean(finetuned_acc):10.3f}   gap {gap:+.3f}")

# Claim 1: with 25 labelled images, fine-tuning beats training from scratch by a wide margin.
assert gap >= 0.12, gap
# Both fit their training images: the training loss falls at least 5x below its first epoch's.
assert all(min(runs[s][0]["train_loss"]) < runs[s][0]["train_loss"][0] / 5
           for runs in (scratch, finetuned) for s in SEEDS)
# Claim 2: fine-tuning learns fast: it passes 70% held-out accuracy within 10 epochs, every seed.
assert all(first_epoch_reaching(finetuned[s][0], 0.7) is not None for s in SEEDS)
""")

# ---- feature extraction -------------------------------------------------------------------------
nb.md("""
## 5 · Feature extraction: train only the head

The cheapest way to use the pretrained body is not to train it at all. Freeze it, and only the
new head (2,565 numbers instead of 11 million) learns. Since the frozen body gives the same 512
features for an image every time, compute them **once** and train the head on the stored
features: each epoch is then a few tiny matrix products.
""")

nb.md("""
### Exercise 3 · Optimize only what trains

In the cell below, the setup lines freeze the whole pretrained model and add a new head (new
modules are trainable). Make `optimizer`: Adam at `lr=1e-3` that holds **only the parameters
that train**.
""")

nb.solution("ex01-q3", """
model = load_pretrained("resnet18").to(device)
for p in model.parameters():
    p.requires_grad = False
model.fc = nn.Linear(model.fc.in_features, 5).to(device)

### BEGIN SOLUTION
optimizer = torch.optim.Adam(model.fc.parameters(), lr=1e-3)
### END SOLUTION
""")

nb.code("""
ex.q3.check()
# ex.q3.hint()
# ex.q3.solution()
""")

nb.tests("ex01-q3-test", points=1, source="""
ex.q3.grade()
### BEGIN HIDDEN TESTS
_held = [p for g in optimizer.param_groups for p in g["params"]]
assert len(_held) == 2
assert {id(p) for p in _held} == {id(model.fc.weight), id(model.fc.bias)}
### END HIDDEN TESTS
""")

nb.md("""
The lesson's feature-extraction runs do the same in plain PyTorch: the body with
`fc = nn.Identity()` gives the features, and a new `nn.Linear(512, 5)` trains on them. Training
the head costs almost nothing, so it gets 50 epochs.
""")

nb.code("""
features_only = {}
for seed in SEEDS:
    start = time.perf_counter()
    body = load_pretrained("resnet18").to(device)
    body.fc = nn.Identity()                  # the body alone: images -> 512 features
    for p in body.parameters():
        p.requires_grad = False
    task_s = data.target_task(k=K, seed=seed)
    f_train = training.extract_features(body, task_s.x_train)
    f_val = training.extract_features(body, task_s.x_test[::3])

    training.seed_everything(seed)
    head = nn.Linear(512, 5)
    history = training.fit(head, data.make_loader(f_train, task_s.y_train, 16, shuffle=True,
                                                  seed=seed),
                           data.make_loader(f_val, task_s.y_test[::3], 512), epochs=50,
                           optimizer=torch.optim.Adam(head.parameters(), lr=1e-3),
                           desc=f"head on features, seed {seed}")
    seconds = time.perf_counter() - start
    features_only[seed] = (history, seconds)
    print(f"seed {seed}: held-out accuracy {settled(history):.3f} ({seconds:.1f} s)")
""")

# ---- comparison ---------------------------------------------------------------------------------
nb.md("""
## 6 · All three, over three seeds

Bars are means over the seeds, the whiskers their spread.
""")

nb.code("""
results = []
for s in SEEDS:
    results.append({"strategy": "from scratch", "k": K, "acc": settled(scratch[s][0])})
    results.append({"strategy": "feature extraction", "k": K,
                    "acc": settled(features_only[s][0])})
    results.append({"strategy": "full fine-tuning", "k": K, "acc": settled(finetuned[s][0])})
plots.plot_strategy_comparison(results, title="Held-out accuracy, 25 labelled images")
plt.show()

features_acc = [settled(features_only[s][0]) for s in SEEDS]
seconds = {name: mean(runs[s][1] for s in SEEDS)
           for name, runs in [("from scratch", scratch), ("full fine-tuning", finetuned),
                              ("feature extraction", features_only)]}
for name, sec in seconds.items():
    print(f"{name:>18}: {sec:5.1f} s per run (mean over seeds)")

# Claim 3: the frozen pretrained features alone are useful for the new digits: on average at
# least three times chance (0.2); the pretrained model as it is scored about 0.15 in lesson 00.
assert mean(features_acc) >= 0.6, features_acc
# Claim 4: adapting the whole network at a small rate beats training only the head, on average.
assert mean(finetuned_acc) - mean(features_acc) >= 0.03, (finetuned_acc, features_acc)
# Claim 5: with cached features, feature extraction takes less than half the time of
# full fine-tuning (it runs the body once instead of every epoch, and never backpropagates it).
assert seconds["feature extraction"] < 0.5 * seconds["full fine-tuning"], seconds
""")

nb.md("""
So, on this task:

- **Less data**: with 25 labelled images, starting from pretrained weights beats random weights
  by a wide margin on average over the seeds, and steadily. The model from scratch depends on
  luck: on one seed it may come close, on the next it is far behind.
- **Less time**: the fine-tuned model is good after a few epochs; feature extraction with cached
  features gets most of the way in a fraction of the time.
- **Not for free**: fine-tuning *all* layers beats training only the head here, but it costs
  more, and with bigger models and little data it can overfit (lesson 06). The course's next
  lessons are about controlling exactly what trains: freezing (02), the head (03), learning
  rates (04), and doing it in phases (05).

None of this is guaranteed: a pretrained model does not promise good accuracy, and only the
held-out images tell you how it does. That is why every number here comes from images the models
never trained on.
""")

# ---- accuracy from logits -----------------------------------------------------------------------
nb.md("""
### Exercise 4 · Held-out accuracy from logits

`training.fit` computed every accuracy above. Do it yourself once. The setup lines run the
fine-tuned model of the first seed on **all** 871 held-out images: `logits_test` has one row of 5
scores per image, `labels_test` the true labels. Make `test_accuracy`: the fraction of images
whose highest score is the true class, as a Python float between 0 and 1.
""")

nb.solution("ex01-q4", """
full_task = data.target_task(k=K, seed=SEEDS[0])
with torch.no_grad():
    logits_test = finetuned[SEEDS[0]][2].eval()(full_task.x_test.to(device)).cpu()
labels_test = full_task.y_test

### BEGIN SOLUTION
test_accuracy = (logits_test.argmax(dim=1) == labels_test).float().mean().item()
### END SOLUTION
""")

nb.code("""
ex.q4.check()
# ex.q4.hint()
# ex.q4.solution()
""")

nb.tests("ex01-q4-test", points=1, source="""
ex.q4.grade()
### BEGIN HIDDEN TESTS
_right = sum(int(p == y) for p, y in zip(logits_test.argmax(1).tolist(), labels_test.tolist()))
assert abs(float(test_accuracy) - _right / len(labels_test)) < 1e-6
assert 0.0 <= float(test_accuracy) <= 1.0
### END HIDDEN TESTS
""")

# ---- open question ------------------------------------------------------------------------------
nb.md("""
## 7 · In your own words

This question is graded by your instructor. Use what you measured in this lesson.
""")

nb.manual("why-fine-tune-open", points=4,
          prompt="**Describe why fine-tuning is useful compared to training a model from "
                 "scratch.** (Consider the benefits of transfer learning; about 4-6 sentences.)",
          answer="""
**Model answer (instructor).** A pretrained model has already learnt general features on a large
dataset (edges, strokes, textures and shapes for images; grammar and meaning for text).
Fine-tuning reuses them and only adapts the model to the new task, usually by replacing the head
and training it, and perhaps some of the last layers, with a small learning rate. Because the
features do not have to be learnt again, fine-tuning needs far less labelled data: in this
lesson, 25 images were enough for the fine-tuned ResNet-18 to beat the same network trained from
scratch by a wide margin, on average over three seeds. It also needs less time and compute: it is
good after a few epochs, and with a frozen body and cached features, training only the head
takes a fraction of the time. On small datasets it generalises better and more reliably, since a
model trained from scratch memorises the few examples and its held-out accuracy depends on luck.
It works best when the new task is similar to the original one, and it still has to be checked
on held-out data.

**Rubric: 1 point per concept (4 in all).**
1. *Reuses learned, general features* (transfer learning): the pretrained layers already capture
   general patterns; the model is adapted rather than learnt anew.
2. *Needs less labelled data*: a small dataset is enough for a new task.
3. *Less training time and compute*: fewer epochs, or only the head trains; no need to train a
   large model from random weights.
4. *Better accuracy / generalisation on small data*: fine-tuning usually beats training from
   scratch on held-out data when labels are few, and is less prone to memorising them (with the
   caveats: similar tasks work best, and it must be validated).

Give a concept's point when the answer states it in any words; an example from the lesson's
measurements may stand in for the general statement. No point for "it guarantees perfect
accuracy" or "it makes the model smaller" (both false).
""")

# ---- summary ------------------------------------------------------------------------------------
nb.md("""
## Summary

- **Fine-tuning** takes a pretrained model and trains it a bit more on a new, often smaller,
  dataset. Use it when a model already learnt something general and you have little data or
  compute: new image classes, medical text, an accent, a company chatbot.
- The from-scratch baseline is the same architecture with `weights=None` (the old
  `pretrained=True` became `weights=...`) and a head with one output per class.
- Fine-tuning starts by replacing the head: `model.fc = nn.Linear(model.fc.in_features, 5)`.
- Give the optimizer only the parameters that train.
- Measured here over three seeds, with 25 labelled images: full fine-tuning at `lr=1e-4` beats
  training from scratch by a wide margin and learns within a few epochs; a head on frozen,
  cached features is useful too, and much cheaper; fine-tuning everything is best.
- Accuracy is `(logits.argmax(dim=1) == labels).float().mean()`, on images the model never saw.
""")

add_quiz_section(nb, "01")
nb.save(OUT)
print(f"wrote {OUT}")
