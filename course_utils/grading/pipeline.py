"""The grading cycle: release, autograde (crash-resilient, quiet), grades.csv, safe feedback.

Every function takes ``root``, the course directory holding ``nbgrader_config.py`` and
``notebooks/`` (the repository root by default). nbgrader runs as a subprocess of this Python,
in ``root``, with the venv's ``bin/`` first on PATH (nbgrader runs ``alembic`` by name) and the
quiet grading environment of :data:`QUIET_ENV`, which the kernel inherits.
"""
from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import nbformat

from .preprocessors import KERNEL_DIED, SafeFeedback

#: environment for every grading run; the kernel inherits it from nbgrader's process.
QUIET_ENV = {
    "PYTHONWARNINGS": "ignore",   # no warnings on stderr
    "TQDM_DISABLE": "1",          # no progress bars (tqdm >= 4.66 reads it)
    "MPLBACKEND": "Agg",          # no GUI backend, no figure windows
    "PYTHONUNBUFFERED": "1",
}
LESSON_RE = re.compile(r"^\d\d_[A-Za-z0-9_]+$")
TIMEOUT_ENAMES = {"CellTimeoutError"}
# nbgrader warns about every test cell with hidden tests (its checksum differs from the release's);
# edited locked cells are reported by the course instead (_edited_locked_cells).
NOISE = re.compile(r"Attribute 'checksum' for cell .* has changed|Config option "
                   r"`display_data_priority` not recognized|Removing existing (assignment|notebook)")


class GradingError(RuntimeError):
    """nbgrader failed in a way the course cannot work around; the message says what to do."""


# ---- environment -----------------------------------------------------------------------------
def venv_bin() -> Path:
    """The ``bin/`` of the Python running this (not resolved: a venv's python is a symlink)."""
    candidate = Path(sys.prefix) / "bin"
    return candidate if (candidate / "python").exists() else Path(sys.executable).parent


def ensure_venv_path() -> None:
    """Put the venv's ``bin/`` first on this process's PATH (the Gradebook runs ``alembic``)."""
    vbin = str(venv_bin())
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if not parts or parts[0] != vbin:
        os.environ["PATH"] = os.pathsep.join([vbin] + [p for p in parts if p != vbin])


def grading_env(**extra: str) -> dict:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(venv_bin()), env.get("PATH", "")])
    env.update(QUIET_ENV)
    env.update(extra)
    return env


def run_nbgrader(args: list[str], root: str | Path = ".", *, echo: bool = True,
                 verbose: bool = False) -> subprocess.CompletedProcess:
    """Run ``python -m nbgrader ARGS`` in ``root``; echo its warnings and errors (all if verbose)."""
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=str(root),
                          env=grading_env(), capture_output=True, text=True)
    log = (proc.stdout or "") + (proc.stderr or "")
    if echo:
        for line in log.splitlines():
            if not verbose and NOISE.search(line):
                continue
            if verbose or re.search(r"\b(WARNING|ERROR|CRITICAL)\]", line) \
                    or line.startswith(("Traceback", "nbgrader.", "nbclient.")):
                print("  nbgrader: " + line)
    proc.log = log  # type: ignore[attr-defined]
    return proc


# ---- course layout ---------------------------------------------------------------------------
def _root(root) -> Path:
    root = Path(root).resolve()
    if not (root / "nbgrader_config.py").exists():
        raise GradingError(f"{root} has no nbgrader_config.py: run from the repository root.")
    return root


def lessons(root: str | Path = ".") -> list[str]:
    """Every lesson (assignment): ``notebooks/NN_name/`` holding at least one notebook."""
    src = Path(root) / "notebooks"
    return sorted(d.name for d in src.iterdir()
                  if d.is_dir() and LESSON_RE.match(d.name) and any(d.glob("*.ipynb"))) \
        if src.is_dir() else []


def submissions(root: str | Path = ".", lesson: str | None = None) -> list[tuple[str, str]]:
    """(student, lesson) pairs found as ``submitted/STUDENT/LESSON/*.ipynb``."""
    sub = Path(root) / "submitted"
    pairs = {(nb.parent.parent.name, nb.parent.name)
             for nb in sub.glob("*/*/*.ipynb") if lesson in (None, nb.parent.name)}
    return sorted(pairs)


def db_url(root) -> str:
    return f"sqlite:///{Path(root).resolve() / 'gradebook.db'}"


def course_id(root) -> str:
    """The course id set in ``root/nbgrader_config.py`` (nbgrader's default otherwise)."""
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(Path(root).resolve())).load_config()
    return cfg.CourseDirectory.get("course_id", "default_course")


def _gradebook(root):
    ensure_venv_path()
    from nbgrader.api import Gradebook
    return Gradebook(db_url(root), course_id=course_id(root))


def _lessons_in_gradebook(root) -> set[str]:
    if not (Path(root) / "gradebook.db").exists():
        return set()
    with _gradebook(root) as gb:
        return {a.name for a in gb.assignments}


# ---- release ---------------------------------------------------------------------------------
def release(names: Iterable[str] | None = None, root: str | Path = ".", *,
            verbose: bool = False) -> list[Path]:
    """``nbgrader generate_assignment LESSON --force`` for each lesson; the student versions."""
    root = _root(root)
    names = list(names or lessons(root))
    if not names:
        print("no lessons in notebooks/ (notebooks/NN_name/*.ipynb): nothing to release")
    unknown = [n for n in names if n not in lessons(root)]
    if unknown:
        raise GradingError(f"no such lesson in notebooks/: {', '.join(unknown)}")
    out = []
    for name in names:
        proc = run_nbgrader(["generate_assignment", name, "--force"], root, verbose=verbose)
        if proc.returncode != 0:
            raise GradingError(f"generate_assignment {name} failed:\n{proc.log[-3000:]}")
        nbs = sorted((root / "release" / name).glob("*.ipynb"))
        print(f"released {name}: " + ", ".join(str(p.relative_to(root)) for p in nbs))
        out += nbs
    return out


# ---- autograde -------------------------------------------------------------------------------
@dataclass
class Score:
    student: str
    lesson: str
    score: float
    max_score: float
    code_score: float
    max_code_score: float
    needs_manual_grade: bool


def scores(root: str | Path = ".") -> dict[tuple[str, str], Score]:
    """Scores of every graded submission, read from the gradebook: {(student, lesson): Score}."""
    out = {}
    if not (Path(root) / "gradebook.db").exists():
        return out
    with _gradebook(root) as gb:
        for a in gb.assignments:
            for s in a.submissions:
                out[(s.student.id, a.name)] = Score(
                    s.student.id, a.name, float(s.score), float(s.max_score),
                    float(s.code_score), float(s.max_code_score), bool(s.needs_manual_grade))
    return out


def format_table(table: dict[tuple[str, str], Score]) -> str:
    students = sorted({k[0] for k in table})
    names = sorted({k[1] for k in table})
    width = max([len("student")] + [len(s) for s in students]) + 2
    cols = [max(len(n), 11) + 2 for n in names]
    lines = ["student".ljust(width) + "".join(n.ljust(w) for n, w in zip(names, cols))]
    for st in students:
        row = st.ljust(width)
        for n, w in zip(names, cols):
            sc = table.get((st, n))
            cell = "-" if sc is None else (
                f"{sc.score:g}/{sc.max_score:g}" + ("*" if sc.needs_manual_grade else ""))
            row += cell.ljust(w)
        lines.append(row)
    if any(s.needs_manual_grade for s in table.values()):
        lines.append("* open answers still to grade by hand (nbgrader formgrader); "
                     "the score counts them as 0 until then")
    return "\n".join(lines)


def _notebook_events(nb_path: Path) -> list[str]:
    """What happened while grading one notebook: timeouts and kernel deaths, as log lines."""
    events = []
    nb = nbformat.read(str(nb_path), as_version=4)
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") != "error":
                continue
            gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            where = f"cell {i + 1}" + (f" ({gid})" if gid else "")
            if out.get("ename") in TIMEOUT_ENAMES:
                events.append(f"{where}: stopped by the cell timeout; grading went on")
            elif out.get("ename") == KERNEL_DIED:
                events.append(f"{where}: stopped the kernel; the cells before it keep their "
                              "results, this cell and the later ones score 0")
    return events


def _edited_locked_cells(nb_path: Path) -> list[str]:
    """grade_ids of locked cells a student edited (autograde puts the original back)."""
    from nbgrader import utils

    try:
        nb = nbformat.read(str(nb_path), as_version=4)
    except Exception as e:  # nbgrader reports unreadable notebooks itself
        return [f"(unreadable notebook: {e})"]
    edited = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("locked") and "checksum" in meta:
            try:
                if utils.compute_checksum(cell) != meta["checksum"]:
                    edited.append(meta.get("grade_id", "?"))
            except Exception:
                edited.append(meta.get("grade_id", "?"))
    return edited


def autograde(names: Iterable[str] | None = None, root: str | Path = ".", *,
              make_feedback: bool = True, export: bool = True,
              verbose: bool = False) -> dict[tuple[str, str], Score]:
    """Autograde ``submitted/*/LESSON/``; write grades.csv and safe feedback; print a table.

    Returns the scores of the graded lessons. A submission nbgrader could not grade at all is
    reported (``GradingError`` at the end), after the others are graded.
    """
    root = _root(root)
    ensure_venv_path()
    names = list(names) if names else sorted({lesson for _, lesson in submissions(root)})
    if not names:
        print("nothing to grade: put submissions in submitted/STUDENT/LESSON/LESSON.ipynb")
        return {}
    missing = [n for n in names if n not in _lessons_in_gradebook(root)]
    if missing:
        print(f"not in the gradebook yet, releasing first: {', '.join(missing)}")
        release(missing, root, verbose=verbose)
    failed = []
    for name in names:
        subs = submissions(root, name)
        print(f"autograding {name}: {len(subs)} submission(s)")
        run_nbgrader(["autograde", name, "--force"], root, verbose=verbose)
        for student, _ in subs:
            for nb_path in sorted((root / "submitted" / student / name).glob("*.ipynb")):
                edited = _edited_locked_cells(nb_path)
                if edited:
                    print(f"  {student}/{name}/{nb_path.name}: edited locked cell(s) "
                          f"{', '.join(edited)}: graded with the original cells")
            graded = sorted((root / "autograded" / student / name).glob("*.ipynb"))
            if not graded:
                failed.append((student, name))
                print(f"  {student}/{name}: NOT GRADED (see the nbgrader errors above)")
            for nb_path in graded:
                for event in _notebook_events(nb_path):
                    print(f"  {student}/{name}/{nb_path.name}: {event}")
    if export:
        export_grades(root, verbose=verbose)
    if make_feedback:
        feedback(names, root, verbose=verbose, export=False)
    table = {k: v for k, v in scores(root).items() if k[1] in names}
    print(format_table(table))
    if failed:
        raise GradingError("not graded: " + ", ".join(f"{s}/{n}" for s, n in failed))
    return table


def export_grades(root: str | Path = ".", *, verbose: bool = False) -> Path:
    """``nbgrader export``: every grade of the gradebook into ``grades.csv`` at the root."""
    root = _root(root)
    proc = run_nbgrader(["export", "--to", "grades.csv"], root, verbose=verbose)
    if proc.returncode != 0:
        raise GradingError(f"nbgrader export failed:\n{proc.log[-3000:]}")
    print("wrote grades.csv")
    return root / "grades.csv"


# ---- feedback --------------------------------------------------------------------------------
def instructor_only_strings(source_nb: str | Path, min_len: int = 6) -> dict[str, set[str]]:
    """Lines inside the solution and hidden-test regions of a source notebook.

    Returns ``{"solution": {...}, "hidden": {...}}``: stripped lines of at least ``min_len``
    characters that do not occur anywhere else in the notebook (outside those regions), not
    even inside a longer line: text the lesson shows on purpose (e.g. ``bn_model.train()`` quoted
    in a markdown cell) is no secret.
    """
    nb = nbformat.read(str(source_nb), as_version=4)
    inside = {"solution": set(), "hidden": set()}
    outside = set()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and "BEGIN SOLUTION" not in cell.source:
            # a solution cell without delimiters is replaced whole in the release
            inside["solution"].update(s.strip() for s in cell.source.split("\n"))
            continue
        region = None
        for line in cell.source.split("\n"):
            s = line.strip()
            if "BEGIN SOLUTION" in s:
                region = "solution"
            elif "BEGIN HIDDEN TESTS" in s:
                region = "hidden"
            elif "END SOLUTION" in s or "END HIDDEN TESTS" in s:
                region = None
            elif region:
                inside[region].add(s)
            else:
                outside.add(s)
    shown = "\n".join(outside)
    return {k: {s for s in v if len(s) >= min_len and s not in shown}
            for k, v in inside.items()}


def html_text(path: str | Path) -> str:
    """The visible text of an HTML file (tags removed, entities decoded)."""
    raw = Path(path).read_text(encoding="utf-8", errors="replace")
    raw = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", raw)
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


def find_leaks(text: str, strings: Iterable[str]) -> list[str]:
    return sorted(s for s in strings if s in text)


def _submitted_text(root: Path, student: str, lesson: str) -> str:
    parts = []
    for nb_path in (root / "submitted" / student / lesson).glob("*.ipynb"):
        try:
            parts.append("\n".join(c.source for c in nbformat.read(str(nb_path), 4).cells))
        except Exception:  # an unreadable submission: check everything
            pass
    return "\n".join(parts)


def feedback(names: Iterable[str] | None = None, root: str | Path = ".", *,
             verbose: bool = False, export: bool = True) -> list[Path]:
    """Feedback HTML in ``feedback/STUDENT/LESSON/`` with no hidden test and no traceback of one.

    nbgrader's generate_feedback runs with :class:`SafeFeedback` (nbgrader_config.py); then every
    file is checked for the hidden-test lines of the source notebook (a line the student wrote
    themselves does not count). A file that still shows one is deleted and GradingError raised.
    """
    root = _root(root)
    ensure_venv_path()
    graded = sorted({p.name for p in (root / "autograded").glob("*/*") if p.is_dir()})
    names = [n for n in (list(names) if names else graded) if n in graded]
    written, leaks = [], []
    for name in names:
        proc = run_nbgrader(["generate_feedback", name, "--force"], root, verbose=verbose)
        if proc.returncode != 0:
            print(f"  generate_feedback {name} reported errors (see above)")
        hidden = set()
        for src in (root / "notebooks" / name).glob("*.ipynb"):
            hidden |= instructor_only_strings(src)["hidden"]
        for page in sorted((root / "feedback").glob(f"*/{name}/*.html")):
            student = page.parent.parent.name
            own = _submitted_text(root, student, name)
            bad = [s for s in find_leaks(html_text(page), hidden) if s not in own]
            if bad or SafeFeedback().begin_test_delimeter in html_text(page):
                page.unlink()
                leaks.append(f"{page.relative_to(root)}: {bad[:3]}")
            else:
                written.append(page)
    print(f"wrote {len(written)} feedback file(s) in feedback/ (safe to hand out)")
    if export and names:
        export_grades(root, verbose=verbose)
    if leaks:
        raise GradingError("feedback showed hidden tests and was deleted (is SafeFeedback in "
                           "nbgrader_config.py's GenerateFeedback.preprocessors?):\n  "
                           + "\n  ".join(leaks))
    return written

