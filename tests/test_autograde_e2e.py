"""End to end: release, submissions, autograde, gradebook scores and safe feedback.

Runs in a temporary course directory (a copy of nbgrader_config.py and the lessons used); the
repository's own release/, submitted/ and gradebook.db are never touched. The lessons are the
real ones of E2E_LESSONS when their notebooks exist, else the fixture lesson stands in (the test
reports which). Scenario 1 runs on every lesson, scenarios 2-6 on the first (the fastest).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import course_utils.grading as grading
from fixtures import fixture_lesson, submissions as sb

REPO = Path(__file__).resolve().parents[1]
E2E_LESSONS = ["00_welcome", "02_freezing_and_counting"]
CELL_TIMEOUT = 20  # seconds: the infinite loop is stopped after this
LOOP = "\nwhile True:  # a runaway cell\n    pass\n"
CRASH = "import os\nos._exit(1)\n"

pytestmark = pytest.mark.slow


def _nb_name(lesson):
    return f"{lesson}.ipynb"


@pytest.fixture(scope="module")
def course(tmp_path_factory, request):
    started = time.monotonic()
    root = tmp_path_factory.mktemp("course")
    sb.course_dir(REPO, root, {})
    used = []
    for i, name in enumerate(E2E_LESSONS):
        real = REPO / "notebooks" / name / _nb_name(name)
        if real.exists():
            sb.course_dir(REPO, root, {name: real.parent})
            used.append((name, "real lesson"))
        else:
            stand_in = f"9{i}_grading_fixture"
            fixture_lesson.build(root, stand_in)
            used.append((stand_in, f"fixture standing in for {name} (not written yet)"))
    lessons = [name for name, _ in used]
    fast = lessons[0]
    grading.release(lessons, root)

    src, rel = {}, {}
    for name in lessons:
        src[name] = sb.read(root / "notebooks" / name / _nb_name(name))
        rel[name] = sb.read(root / "release" / name / _nb_name(name))
        sb.submit(root, "solution", name, sb.solved(src[name], rel[name]))       # 1

    sb.submit(root, "untouched", fast, rel[fast])                                  # 2

    nb = sb.solved(src[fast], rel[fast])                                           # 3
    loop_at = sb.code_solution_indices(nb)[0]
    nb.cells[loop_at].source += LOOP
    sb.submit(root, "loop", fast, nb)

    nb = sb.solved(src[fast], rel[fast])                                           # 4
    raise_at, syntax_at = sb.code_solution_indices(nb)[0], sb.code_solution_indices(nb)[-1]
    nb.cells[raise_at].source = 'raise ValueError("a bug of mine")\n' + nb.cells[raise_at].source
    nb.cells[syntax_at].source = "def broken(:\n" + nb.cells[syntax_at].source
    sb.submit(root, "errors", fast, nb)

    nb = sb.read(root / "release" / fast / _nb_name(fast))                         # 5
    for i, _, _ in sb.tests(nb):
        nb.cells[i].source = "pass"
    sb.submit(root, "tampered", fast, nb)

    nb = sb.solved(src[fast], rel[fast])                                           # 6
    crash_at = sb.crash_cell_index(nb)
    nb.cells[crash_at].source = CRASH + nb.cells[crash_at].source
    sb.submit(root, "crash", fast, nb)
    crash_submission = (root / "submitted/crash" / fast / _nb_name(fast)).read_text()

    old = os.environ.get("COURSE_CELL_TIMEOUT")
    os.environ["COURSE_CELL_TIMEOUT"] = str(CELL_TIMEOUT)
    try:
        table = grading.autograde(lessons, root)
    finally:
        if old is None:
            os.environ.pop("COURSE_CELL_TIMEOUT")
        else:
            os.environ["COURSE_CELL_TIMEOUT"] = old
    elapsed = time.monotonic() - started
    capman = request.config.pluginmanager.get_plugin("capturemanager")
    message = f"\ne2e lessons: {used}; release + autograde took {elapsed:.0f} s"
    if capman is not None:
        with capman.global_and_fixture_disabled():
            print(message)
    else:
        print(message)
    return dict(root=root, lessons=lessons, fast=fast, src=src, table=table,
                loop_at=loop_at, raise_at=raise_at, syntax_at=syntax_at, crash_at=crash_at,
                crash_submission=crash_submission, used=used)


def _graded(course, student, lesson=None):
    lesson = lesson or course["fast"]
    return sb.read(course["root"] / "autograded" / student / lesson / _nb_name(lesson))


def _grades(course, student, lesson=None):
    """{grade_id: (score, max_score)} of the autograded tests, from the gradebook."""
    from nbgrader.api import Gradebook

    lesson = lesson or course["fast"]
    root = course["root"]
    with Gradebook(grading.pipeline.db_url(root), grading.pipeline.course_id(root)) as gb:
        nb = gb.find_submission_notebook(lesson, lesson, student)
        return {g.name: (g.score, g.max_score) for g in nb.grades
                if g.cell_type == "code" and g.max_score > 0}


def _errors(cell):
    return [o.get("ename") for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def test_lessons_used_are_reported(course):
    assert len(course["lessons"]) >= 2
    assert all(kind for _, kind in course["used"])


def test_1_instructor_solution_gets_full_marks(course):
    for lesson in course["lessons"]:
        score = course["table"][("solution", lesson)]
        assert score.max_code_score > 0
        assert score.code_score == score.max_code_score, (lesson, _grades(course, "solution", lesson))


def test_2_untouched_release_scores_zero(course):
    score = course["table"][("untouched", course["fast"])]
    assert score.max_code_score > 0 and score.code_score == 0


def test_3_infinite_loop_is_stopped_and_the_rest_graded(course):
    graded = _graded(course, "loop")
    assert "CellTimeoutError" in _errors(graded.cells[course["loop_at"]])
    score = course["table"][("loop", course["fast"])]
    # the loop ran after the solution code, so every test still passes
    assert score.code_score == score.max_code_score


def test_4_raise_and_syntax_error_are_graded_not_skipped(course):
    graded = _graded(course, "errors")
    assert "ValueError" in _errors(graded.cells[course["raise_at"]])
    assert "SyntaxError" in _errors(graded.cells[course["syntax_at"]])
    score = course["table"][("errors", course["fast"])]
    assert 0 <= score.code_score < score.max_code_score


def test_5_edited_test_cells_are_restored(course):
    score = course["table"][("tampered", course["fast"])]
    assert score.max_code_score > 0 and score.code_score == 0
    graded = _graded(course, "tampered")
    hidden = grading.instructor_only_strings(
        course["root"] / "notebooks" / course["fast"] / _nb_name(course["fast"]))["hidden"]
    restored = "\n".join(c.source for c in graded.cells)
    assert all(s in restored for s in hidden)  # the original tests, hidden part included
    assert not any(c.source == "pass" for c in graded.cells if sb.is_test(c))


def test_6_crash_costs_only_the_cells_from_the_crash_on(course):
    fast, crash_at = course["fast"], course["crash_at"]
    grades = _grades(course, "crash")
    full = _grades(course, "solution")
    before = [g for i, g, _ in sb.tests(course["src"][fast]) if i < crash_at]
    after = [g for i, g, _ in sb.tests(course["src"][fast]) if i > crash_at]
    assert before and after
    for gid in before:
        assert grades[gid][0] == grades[gid][1] == full[gid][1], gid
    for gid in after:
        assert grades[gid][0] == 0, gid
    graded = _graded(course, "crash")
    assert "KernelDied" in _errors(graded.cells[crash_at])
    # the student's file is untouched
    assert (course["root"] / "submitted/crash" / fast / _nb_name(fast)).read_text() \
        == course["crash_submission"]


def test_grades_csv_has_every_submission(course):
    csv = (course["root"] / "grades.csv").read_text()
    for student in ["solution", "untouched", "loop", "errors", "tampered", "crash"]:
        assert student in csv


def test_release_has_no_solution_and_no_hidden_test(course):
    for lesson in course["lessons"]:
        secret = grading.instructor_only_strings(
            course["root"] / "notebooks" / lesson / _nb_name(lesson))
        assert secret["solution"] and secret["hidden"]
        for path in (course["root"] / "release" / lesson).rglob("*.ipynb"):
            text = path.read_text()
            assert grading.find_leaks(text, secret["solution"] | secret["hidden"]) == []
            assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text


def test_feedback_shows_no_hidden_test_and_no_unsubmitted_solution(course):
    root = course["root"]
    pages = sorted((root / "feedback").glob("*/*/*.html"))
    assert len(pages) == len(course["lessons"]) + 5
    for page in pages:
        student, lesson = page.parent.parent.name, page.parent.name
        secret = grading.instructor_only_strings(root / "notebooks" / lesson / _nb_name(lesson))
        text = grading.html_text(page)
        assert grading.find_leaks(text, secret["hidden"]) == [], page
        assert "HIDDEN TESTS" not in text
        if student in ("untouched", "tampered"):  # they never had the solutions
            assert grading.find_leaks(text, secret["solution"]) == [], page
        assert "Score" in text  # the student's score is shown
    untouched = grading.html_text(root / "feedback/untouched" / course["fast"]
                                  / f"{course['fast']}.html")
    assert "AssertionError" in untouched or "NotImplementedError" in untouched
