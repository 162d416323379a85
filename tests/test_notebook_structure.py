"""Every lesson notebook has the course's shape: nbgrader metadata, exercises, a quiz, and no
volatile outputs. (Executing them is nbval's job: `pytest --nbval-lax notebooks/`.)"""
import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ["00_welcome", "01_why_fine_tune", "02_freezing_and_counting", "03_replacing_the_head",
           "04_learning_rates", "05_two_phase_and_gradual", "06_diagnosing"]


def _nb(lesson):
    return nbformat.read(str(ROOT / "notebooks" / lesson / f"{lesson}.ipynb"), as_version=4)


def test_every_lesson_and_only_lessons_are_in_notebooks():
    found = sorted(p.name for p in (ROOT / "notebooks").iterdir() if p.is_dir()
                   and not p.name.startswith("."))
    assert found == LESSONS
    for lesson in LESSONS:
        assert sorted(p.name for p in (ROOT / "notebooks" / lesson).iterdir()
                      if not p.name.startswith(".")) == [f"{lesson}.ipynb"], (
            "nbgrader copies everything in a lesson folder to students")
        assert (ROOT / "tools" / "lessons" / f"build_{lesson[:2]}.py").exists()


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_shape(lesson):
    nb = _nb(lesson)
    nbformat.validate(nb)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert re.search(r"learning goals|you will learn|by the end", nb.cells[0].source + " " +
                     nb.cells[1].source, re.I), "learning goals at the top"
    ids = [c.metadata["nbgrader"].get("grade_id") for c in nb.cells
           if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)), "grade ids are unique"
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
             and c.cell_type == "code"]
    solutions = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")
                 and c.cell_type == "code"]
    assert len(tests) >= 4, "at least three exercises plus the graded quiz"
    assert all(c.metadata["nbgrader"]["locked"] and c.metadata["nbgrader"]["points"] > 0
               for c in tests)
    assert all("### BEGIN SOLUTION" in c.source and "### END SOLUTION" in c.source
               for c in solutions)
    assert sum("### BEGIN HIDDEN TESTS" in c.source for c in tests) >= 3
    text = "\n".join(c.source for c in nb.cells)
    assert f'quiz.show("{lesson[:2]}")' in text and "quiz.graded(" in text
    assert re.search(r"^## Summary|^## What you learned|^## Wrap", text, re.M | re.I)


@pytest.mark.parametrize("lesson", LESSONS)
def test_only_checked_outputs_are_stored(lesson):
    nb = _nb(lesson)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if "NBVAL_CHECK_OUTPUT" in cell.source:
            continue
        assert not cell.outputs and cell.execution_count is None, (
            f"{lesson}: volatile output stored in cell {cell.get('id')}: run "
            f"tools/refresh_outputs.py")
    assert "widgets" not in nb.metadata, "saved widget state is volatile: strip it"
    size = (ROOT / "notebooks" / lesson / f"{lesson}.ipynb").stat().st_size
    assert size < 200_000


@pytest.mark.parametrize("lesson", ["01_why_fine_tune", "05_two_phase_and_gradual"])
def test_open_questions_are_manually_graded(lesson):
    manual = [c for c in _nb(lesson).cells if c.cell_type == "markdown"
              and c.metadata.get("nbgrader", {}).get("grade")
              and c.metadata["nbgrader"].get("solution")]
    assert manual and all(c.metadata["nbgrader"]["points"] > 0 for c in manual)



def test_nbval_sanitizer_removes_the_backbone_build_messages():
    """On a fresh machine the first load_pretrained() prints a build message and a text
    progress bar; nbval must ignore them in checked cells (see tests/nbval_sanitize.cfg)."""
    from nbval.plugin import get_sanitize_patterns

    patterns = get_sanitize_patterns((ROOT / "tests" / "nbval_sanitize.cfg").read_text())
    assert patterns, "nbval parses no pattern: keep the space after 'replace:'"
    out = ("Building the course's pretrained resnet18 (once; it is cached in /tmp/c).\n"
           "\rpretraining resnet18 on MNIST 0-4:  50%|#  | 48/96\r   \r"
           "Built resnet18 in 14.6 s: 97.6% accuracy on the source task's test images.\n"
           "trainable parameters: 0\n")
    for regex, replace in patterns:
        out = re.sub(regex, replace, out)
    assert out == "trainable parameters: 0\n"
