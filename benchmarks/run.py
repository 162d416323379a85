"""Measure the course's budgets on this machine and print a Markdown table.

    make bench                      # or: python benchmarks/run.py [--quick] [--write]

Sections: building and loading the pretrained backbones; held-out accuracy of the strategies
over labelled-set sizes and seeds; head training on cached features vs. running the frozen
backbone every epoch; the execution time of every lesson notebook; autograding one submission.
``--write`` replaces the results section of benchmarks/README.md with what was measured.
Nothing here is asserted: budgets are checked by reading the table (tests assert behaviour).
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

import torch  # noqa: E402
from torch import nn  # noqa: E402

from course_utils import data, experiments, freezing, pretrained, training  # noqa: E402


def table(header, rows) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def bench_backbones() -> str:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["COURSE_CACHE"] = tmp
        for arch in ("resnet18", "mobilenet_v2"):
            t = time.perf_counter()
            meta = pretrained.ensure_pretrained(arch, progress=False)
            build = time.perf_counter() - t
            t = time.perf_counter()
            pretrained.load_pretrained(arch, progress=False)
            load = time.perf_counter() - t
            rows.append([arch, f"{build:.1f} s", f"{load:.2f} s",
                         f"{meta['source_test_accuracy']:.3f}", meta["epochs"]])
        del os.environ["COURSE_CACHE"]
    # the user's cache, so later sections do not rebuild
    for arch in ("resnet18", "mobilenet_v2"):
        pretrained.ensure_pretrained(arch, progress=False)
    return table(["backbone", "build (budget 60 s)", "load (budget 1 s)", "source accuracy",
                  "epochs"], rows)


def bench_strategies(ks, seeds) -> str:
    runs = {"scratch": dict(strategy="scratch"),
            "feature extraction": dict(strategy="feature extraction"),
            "full fine-tuning, lr 1e-4": dict(strategy="full fine-tuning", lr=1e-4),
            "full fine-tuning, lr 1e-2": dict(strategy="full fine-tuning", lr=1e-2),
            "two-phase": dict(strategy="two-phase"),
            "gradual": dict(strategy="gradual")}
    rows = []
    for name, kw in runs.items():
        row = [name]
        secs = []
        for k in ks:
            accs = []
            for seed in seeds:
                r = experiments.run_strategy(k=k, seed=seed, **kw)
                accs.append(r["acc"])
                secs.append(r["seconds"])
            sd = statistics.pstdev(accs) if len(accs) > 1 else 0.0
            row.append(f"{statistics.mean(accs):.3f} ± {sd:.3f}")
        row.append(f"{statistics.mean(secs):.1f} s")
        rows.append(row)
    return table(["strategy"] + [f"k={k} (mean ± sd, {len(seeds)} seeds)" for k in ks]
                 + ["time per run"], rows)


def bench_cached_features(epochs: int = 15) -> str:
    task = data.target_task(k=10, seed=0)
    device = training.get_device()

    def frozen_model():
        m = pretrained.load_pretrained("resnet18", progress=False)
        for p in m.parameters():
            p.requires_grad = False
        m.fc = nn.Linear(m.fc.in_features, 5)
        return m.to(device)

    training.seed_everything(0)
    m = frozen_model()
    train_loader, test_loader = task.loaders(batch_size=16)
    t = time.perf_counter()
    h_full = training.fit(m, train_loader, test_loader, epochs=epochs, progress=False,
                          optimizer=torch.optim.Adam(m.fc.parameters(), lr=1e-3))
    full = time.perf_counter() - t

    training.seed_everything(0)
    m = frozen_model()
    head = m.fc
    t = time.perf_counter()
    m.fc = nn.Identity()
    f_train = training.extract_features(m, task.x_train)
    f_test = training.extract_features(m, task.x_test)
    h_cached = training.fit(head, data.make_loader(f_train, task.y_train, 16, True),
                            data.make_loader(f_test, task.y_test, 1024), epochs=epochs,
                            progress=False, optimizer=torch.optim.Adam(head.parameters(), 1e-3))
    cached = time.perf_counter() - t
    return table(["head training, 15 epochs, k=10", "time", "held-out accuracy"],
                 [["frozen backbone run every epoch", f"{full:.2f} s", f"{h_full.final():.3f}"],
                  ["features cached once, head on features", f"{cached:.2f} s",
                   f"{h_cached.final():.3f}"],
                  ["speed-up", f"{full / cached:.1f}x", ""]])


def bench_notebooks() -> str:
    import nbformat
    from nbclient import NotebookClient

    rows, total = [], 0.0
    for nb_path in sorted((ROOT / "notebooks").glob("*/*.ipynb")):
        if ".ipynb_checkpoints" in str(nb_path):
            continue
        nb = nbformat.read(str(nb_path), as_version=4)
        t = time.perf_counter()
        try:
            NotebookClient(nb, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": str(nb_path.parent)}}).execute()
            status = "ok"
        except Exception as e:  # noqa: BLE001 - reported in the table
            status = f"error: {type(e).__name__}"
        took = time.perf_counter() - t
        total += took
        rows.append([nb_path.parent.name, f"{took:.1f} s", status])
    rows.append(["all lessons (budget 6 min)", f"{total:.1f} s", ""])
    return table(["lesson (budget 90 s each)", "execution time", "status"], rows)


def bench_autograde(lesson: str = "02_freezing_and_counting") -> str:
    from course_utils import grading

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copy(ROOT / "nbgrader_config.py", root)
        shutil.copytree(ROOT / "notebooks" / lesson, root / "notebooks" / lesson)
        grading.release([lesson], root=root)
        sub = root / "submitted" / "instructor" / lesson
        sub.mkdir(parents=True)
        shutil.copy(root / "notebooks" / lesson / f"{lesson}.ipynb", sub)
        t = time.perf_counter()
        grading.autograde([lesson], root=root)
        took = time.perf_counter() - t
        score = grading.scores(root=root)[("instructor", lesson)]
    return table(["autograde one submission (budget 2 min)", "time", "score"],
                 [[lesson, f"{took:.1f} s", f"{score.score:g} / {score.max_score:g}"]])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="1 seed, k=10 only, no notebooks")
    ap.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    args = ap.parse_args()
    cpu = f"{os.cpu_count()} cores"
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                     if line.startswith("model name"))
        cpu = f"{model}, {cpu}"
    except (OSError, StopIteration):
        pass
    header = (f"Measured {date.today().isoformat()} on {platform.node() or 'this machine'}: "
              f"{cpu}, device {training.get_device()}, torch {torch.__version__}, "
              f"Python {platform.python_version()}.")
    sections = [header]
    steps = [("Pretrained backbones", bench_backbones),
             ("Strategies on the target task (UCI digits 5-9, resnet18, 15 epochs)",
              lambda: bench_strategies((10,) if args.quick else (5, 10),
                                       (0,) if args.quick else (0, 1, 2))),
             ("Cached features", bench_cached_features)]
    if not args.quick:
        steps += [("Lesson notebooks", bench_notebooks), ("Autograding", bench_autograde)]
    for title, fn in steps:
        print(f"## {title}", flush=True)
        t = time.perf_counter()
        result = fn()
        print(result, flush=True)
        print(f"({time.perf_counter() - t:.0f} s)\n", flush=True)
        sections.append(f"### {title}\n\n{result}")
    if args.write:
        readme = ROOT / "benchmarks" / "README.md"
        text = readme.read_text()
        start, end = "<!-- results:start -->", "<!-- results:end -->"
        before, _, rest = text.partition(start)
        _, _, after = rest.partition(end)
        readme.write_text(before + start + "\n" + "\n\n".join(sections) + "\n" + end + after)
        print(f"wrote {readme}")


if __name__ == "__main__":
    main()
