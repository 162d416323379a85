"""Fast tests of course_utils.grading, on the fixture lesson (tests/fixtures/fixture_lesson.py)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_output
from traitlets.config.loader import PyFileConfigLoader

import course_utils.grading as grading
from course_utils.grading import pipeline
from course_utils.grading.preprocessors import (QuietTestCells, ResilientExecute,
                                                SafeFeedback)
from fixtures import fixture_lesson, submissions as sb

REPO = Path(__file__).resolve().parents[1]
LESSON = fixture_lesson.LESSON


def _test_cell(source: str, outputs=()):
    cell = new_code_cell(source, metadata={"nbgrader": {
        "schema_version": 3, "grade": True, "solution": False, "locked": True,
        "grade_id": "t1", "points": 1}})
    cell.outputs = list(outputs)
    return cell


def _load_config(monkeypatch, timeout=None):
    if timeout is None:
        monkeypatch.delenv("COURSE_CELL_TIMEOUT", raising=False)
    else:
        monkeypatch.setenv("COURSE_CELL_TIMEOUT", str(timeout))
    return PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()


def test_config(monkeypatch):
    c = _load_config(monkeypatch)
    assert c.CourseDirectory.source_directory == "notebooks"
    assert c.CourseDirectory.root == str(REPO)
    assert c.CourseDirectory.course_id == pipeline.course_id(REPO) == "finetuning-pytorch"
    assert c.Execute.timeout == 180 and c.Execute.interrupt_on_timeout is True
    assert c.Execute.kernel_name == "python3"
    assert ResilientExecute in c.Autograde.autograde_preprocessors
    assert QuietTestCells in c.Autograde.autograde_preprocessors
    assert SafeFeedback in c.GenerateFeedback.preprocessors
    assert _load_config(monkeypatch, timeout=7).Execute.timeout == 7


def test_grading_env_puts_venv_first_and_is_quiet():
    env = pipeline.grading_env()
    assert env["PATH"].split(os.pathsep)[0] == str(pipeline.venv_bin())
    assert (pipeline.venv_bin() / "alembic").exists()
    for key, value in grading.QUIET_ENV.items():
        assert env[key] == value
    assert env["PYTHONWARNINGS"] == "ignore" and env["TQDM_DISABLE"] == "1"


def test_safe_feedback_strips_hidden_tests_and_their_tracebacks():
    cell = _test_cell(
        "q1.grade()\n### BEGIN HIDDEN TESTS\nassert secret_answer == 42\n### END HIDDEN TESTS",
        [new_output("error", ename="AssertionError", evalue="",
                    traceback=["----> 3 assert secret_answer == 42", "AssertionError"])])
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb, _ = SafeFeedback().preprocess(nb, {})
    text = nbformat.writes(nb)
    assert "secret_answer" not in text and "HIDDEN" not in text
    assert nb.cells[0].source == "q1.grade()"
    assert nb.cells[0].outputs[0].traceback == ["AssertionError"]


def test_safe_feedback_keeps_the_failing_message():
    cell = _test_cell("q1.grade()", [new_output(
        "error", ename="AssertionError", evalue="q1 (Squares): Not yet: too short",
        traceback=["long ipython traceback"])])
    nb, _ = SafeFeedback().preprocess(nbformat.v4.new_notebook(cells=[cell]), {})
    assert nb.cells[0].outputs[0].traceback == ["AssertionError: q1 (Squares): Not yet: too short"]


def test_quiet_test_cells_moves_stderr_of_tests_only():
    test = _test_cell("check()", [new_output("stream", name="stderr", text="UserWarning\n")])
    plain = new_code_cell("x = 1")
    plain.outputs = [new_output("stream", name="stderr", text="a warning\n")]
    nb, _ = QuietTestCells().preprocess(nbformat.v4.new_notebook(cells=[test, plain]), {})
    assert nb.cells[0].outputs[0].name == "stdout"
    assert nb.cells[1].outputs[0].name == "stderr"


def test_instructor_only_strings(tmp_path):
    src = fixture_lesson.build(tmp_path)
    found = grading.instructor_only_strings(src)
    assert "squares = [i * i for i in range(5)]" in found["solution"]
    assert "frozen_fraction = 30 / 40" in found["solution"]
    assert any("Model answer" in s for s in found["solution"])
    assert 'assert total_params([(10, 1)]) == 11, "hidden: a layer of 10 inputs and 1 output"' \
        in found["hidden"]
    assert "q1.grade()" not in found["hidden"]  # visible to students: not instructor-only
    assert grading.find_leaks("x\nassert total_params([]) == 0\n", found["hidden"]) == \
        ["assert total_params([]) == 0"]


def test_layout_helpers_and_table(tmp_path):
    course = sb.course_dir(REPO, tmp_path / "c", {})
    fixture_lesson.build(course)
    (course / "notebooks" / "not_a_lesson").mkdir()
    assert grading.lessons(course) == [LESSON]
    sb.submit(course, "ada", LESSON, nbformat.v4.new_notebook())
    assert grading.submissions(course) == [("ada", LESSON)]
    table = grading.format_table({("ada", LESSON): grading.Score("ada", LESSON, 3, 5, 3, 4, True)})
    assert "ada" in table and "3/5*" in table and "by hand" in table


def test_cli_reports_a_missing_config(tmp_path, capsys):
    from course_utils.grading.__main__ import main

    assert main(["--root", str(tmp_path), "release"]) == 1
    assert "nbgrader_config.py" in capsys.readouterr().err


def test_validate_solution_clean_release_fails(tmp_path):
    course = sb.course_dir(REPO, tmp_path / "c", {})
    src = fixture_lesson.build(course)
    result = grading.validate(src)
    assert result.ok, result.report()
    grading.release([LESSON], course)
    released = course / "release" / LESSON / f"{LESSON}.ipynb"
    result = grading.validate(released)
    assert not result.ok
    failing = [f["source"].splitlines()[0] for f in result.failed]
    assert failing.count("q1.grade()") == 1 and "q3.grade()" in failing
    assert "NotImplementedError" in "".join(f["error"] for f in result.failed) or \
        "Not attempted" in "".join(f["error"] for f in result.failed)
    # the validate command exits 1 on failures (nbgrader validate exits 0, #1908)
    from course_utils.grading.__main__ import main
    assert main(["validate", str(released)]) == 1


NOISY_FUNCTION = '''
import sys, warnings
from tqdm import tqdm

def total_params(layers):
    warnings.warn("total_params: this warning goes to stderr", UserWarning)
    print("a note on stderr", file=sys.stderr)
    for _ in tqdm(range(3)):
        pass
    return sum(n_in * n_out + n_out for n_in, n_out in layers)
'''


def test_noise_before_and_inside_a_test_cell_costs_no_points(tmp_path):
    """A cell that warns, then a test whose hidden part calls a noisy student function."""
    course = sb.course_dir(REPO, tmp_path / "c", {})
    src = fixture_lesson.build(course)
    grading.release([LESSON], course)
    release = sb.read(course / "release" / LESSON / f"{LESSON}.ipynb")
    nb = sb.solved(sb.read(src), release)
    first, second = sb.code_solution_indices(nb)[:2]
    nb.cells[first].source += '\nimport warnings\nwarnings.warn("a warning before the test")'
    nb.cells[second].source = NOISY_FUNCTION
    sb.submit(course, "noisy", LESSON, nb)
    grading.autograde([LESSON], course, make_feedback=False)
    score = grading.scores(course)[("noisy", LESSON)]
    assert score.code_score == score.max_code_score == 4
    graded = sb.read(course / "autograded" / "noisy" / LESSON / f"{LESSON}.ipynb")
    # the kernel ran with PYTHONWARNINGS=ignore: the warning cell wrote nothing to stderr
    warn_cell = graded.cells[first]
    assert not [o for o in warn_cell.outputs if o.get("name") == "stderr"]
    # the explicit print to stderr inside the test cell was moved to stdout, not counted
    test_cell = next(c for c in graded.cells if sb.meta(c).get("grade_id") == "ex2-test")
    assert "a note on stderr" in "".join(o.get("text", "") for o in test_cell.outputs)
    assert not [o for o in test_cell.outputs if o.get("name") == "stderr"]
