"""The course in a real browser: JupyterLab 4 and lesson 0 in Debian's headless Chromium.

What a student does, driven by Playwright: open ``00_welcome``, Run All, answer the practice
quiz (a wrong answer, then the right one from the YAML), run an exercise check with a wrong and
a right answer. The server serves a temporary copy of ``notebooks/`` on 127.0.0.1 only and is
always stopped. Screenshots go to ``tests/artifacts/``; ``UPDATE_SCREENSHOT=1`` also writes
``docs/screenshot-quiz.png``. See docs/browser-test.md.

Without Chromium (``make browser-deps`` installs it) the browser tests skip, except in CI
(``CI`` set), where they fail.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from course_utils import quiz  # noqa: E402
from browser_support import (  # noqa: E402
    LabServer, errors_in, find_chromium, launch_chromium, notebook_state, open_notebook,
    run_all_and_wait, wait_until_all_ran)

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
DOC_SCREENSHOT = ROOT / "docs" / "screenshot-quiz.png"
# Lesson 0 by default; COURSE_BROWSER_LESSON=05 drives another lesson the same way.
LESSON = os.environ.get("COURSE_BROWSER_LESSON", "00")
_NAME = quiz.load_lesson(LESSON).name
LESSON_NB = f"{_NAME}/{_NAME}.ipynb"
SCREENSHOT_MAX_BYTES = 150_000

# Bounded waits (ms): generous for a 2-core machine shared with other work, never open-ended.
UI_TIMEOUT = 30_000
RUN_ALL_TIMEOUT = 300_000
APP_TIMEOUT = 120_000


def _missing(what: str):
    """Skip locally, fail in CI: CI must really run the browser test."""
    msg = (f"{what}: the browser test needs Debian's chromium (`make browser-deps`, i.e. "
           "`apt-get install chromium chromium-driver`) and the venv's playwright package. "
           "Never `playwright install`.")
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so the browser test may not skip. {msg}", pytrace=False)
    pytest.skip(msg)


def _plain(text: str) -> str:
    """A YAML text as the browser shows it: no backticks, whitespace collapsed."""
    return " ".join(str(text).replace("`", "").split())


def _fallback_notebook(path: Path) -> None:
    """Until lesson 0 exists: a small notebook doing what lesson 0 does with the course package."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    cells = ["from course_utils import quiz", f'quiz.show("{LESSON}")']
    if importlib.util.find_spec(f"course_utils.exercises.lesson{LESSON}") is not None:
        cells.append(f"from course_utils.exercises import lesson{LESSON} as ex")
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


# ---- fixtures: one server, one browser, lesson 0 run once for the whole module ----------------

@pytest.fixture(scope="module")
def chromium_path():
    path = find_chromium()
    if path is None:
        _missing("chromium is not installed")
    return path


@pytest.fixture(scope="module")
def sync_playwright():
    try:
        from playwright.sync_api import sync_playwright as sp
    except ImportError:
        _missing("the playwright package is not installed in this Python")
    return sp


@pytest.fixture(scope="module")
def course_root(tmp_path_factory):
    """A temporary copy of notebooks/, so nothing the browser does is written into the repo."""
    root = tmp_path_factory.mktemp("lab") / "notebooks"
    src = ROOT / "notebooks"
    if src.is_dir():
        shutil.copytree(src, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    else:
        root.mkdir(parents=True)
    if not (root / LESSON_NB).exists():
        _fallback_notebook(root / LESSON_NB)
    return root


@pytest.fixture(scope="module")
def lab(course_root, tmp_path_factory, chromium_path, sync_playwright):
    for stale in ARTIFACTS.glob("failure-*.png"):
        stale.unlink()
    server = LabServer(course_root, tmp_path_factory.mktemp("lab-state"))
    # a SIGTERM (e.g. `timeout`) must unwind through the with-block too, or the server outlives us
    previous = signal.getsignal(signal.SIGTERM)
    if previous in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _terminated)
    try:
        with server:
            yield server
            # the with-block stops the server (and its kernels) even when a test failed
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _terminated(signum, _frame):
    raise SystemExit(f"stopped by signal {signum}")


@pytest.fixture(scope="module")
def browser(lab, chromium_path, sync_playwright, tmp_path_factory):
    with sync_playwright() as p:
        ctx = launch_chromium(p, tmp_path_factory.mktemp("chromium-profile"), chromium_path)
        try:
            ctx.set_default_timeout(UI_TIMEOUT)
            yield ctx
        finally:
            ctx.close()


@pytest.fixture(scope="module")
def lesson_page(lab, browser):
    """Lesson 0 opened in JupyterLab and run with "Run All Cells"; yields (page, final state)."""
    page = browser.pages[0] if browser.pages else browser.new_page()
    with _evidence(page, lab, "lesson-run"):
        open_notebook(page, lab, LESSON_NB, timeout_ms=APP_TIMEOUT)
        state = run_all_and_wait(page, timeout_ms=RUN_ALL_TIMEOUT)
    yield page, state


@contextlib.contextmanager
def _evidence(page, lab, name: str):
    """On failure, keep a full-page screenshot and print the server log (pytest shows it)."""
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / f"failure-{name}.png"), full_page=True)
        print(f"--- JupyterLab log (tail) ---\n{lab.log()}")
        raise


# ---- page helpers -----------------------------------------------------------------------------

def practice_quiz(page, lesson):
    """The rendered practice quiz widget of ``lesson``."""
    from playwright.sync_api import expect

    title = f"Quiz {lesson.number} · {lesson.title}: practice"
    widget = page.locator(".course-quiz").filter(has_text=title).first
    expect(widget).to_be_visible(timeout=UI_TIMEOUT)
    return widget


def choose(question, letters) -> None:
    """Pick ``letters`` in one question box, as a student does: click the radio label(s)."""
    from playwright.sync_api import expect

    radios = question.locator(".widget-radio-box label")
    if radios.count():
        (letter,) = letters
        label = radios.filter(has_text=re.compile(rf"^\s*{re.escape(letter)}(\.|\s*$)"))
        expect(label).to_have_count(1)
        label.click()
        expect(label.locator("input")).to_be_checked()
        return
    boxes = question.locator(".widget-checkbox")
    assert boxes.count(), "a question box with neither radio buttons nor checkboxes"
    for i in range(boxes.count()):
        box = boxes.nth(i)
        letter = box.inner_text().strip().split(".")[0]
        box.locator("input[type=checkbox]").set_checked(letter in letters)


def check_and_expect(question, verdict: str, timeout: int = UI_TIMEOUT) -> str:
    """Press Check and wait for ``verdict`` in the feedback; return the feedback text."""
    from playwright.sync_api import expect

    question.locator(".course-quiz-check").click()
    feedback = question.locator(".course-quiz-feedback")
    expect(feedback).to_contain_text(verdict, timeout=timeout)
    return " ".join(feedback.inner_text().split())


def run_new_cell(page, source: str, marker: str, timeout_ms: int = 120_000):
    """Put ``source`` in a code cell at the end of the open notebook (the same cell again for the
    same ``marker``), run it and wait until it has finished; return a locator for that cell."""
    before = page.evaluate(
        """async ([src, marker]) => {
          const app = window.jupyterapp, nb = app.shell.currentWidget.content;
          let cell = nb.widgets.find(c => c.node.classList.contains(marker));
          if (!cell) {
            nb.activeCellIndex = nb.widgets.length - 1;
            await app.commands.execute('notebook:insert-cell-below');
            cell = nb.activeCell;
            cell.node.classList.add(marker);
          }
          nb.activeCellIndex = nb.widgets.indexOf(cell);
          cell.model.sharedModel.setSource(src);
          const before = cell.model.executionCount;
          app.commands.execute('notebook:run-cell');
          return before;
        }""", [source, marker])
    page.wait_for_function(
        """([marker, before]) => {
          const w = window.jupyterapp.shell.currentWidget, nb = w.content;
          const cell = nb.widgets.find(c => c.node.classList.contains(marker));
          const prompt = cell && cell.node.querySelector('.jp-InputPrompt');
          return cell && cell.model.executionCount !== null && cell.model.executionCount !== before
            && !(prompt && prompt.textContent.includes('*'))
            && w.sessionContext.session.kernel.status === 'idle';
        }""", arg=[marker, before], timeout=timeout_ms, polling=200)
    return page.locator(f".jp-CodeCell.{marker}")


def assert_no_traceback(cell) -> None:
    stderr = cell.locator('.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]')
    assert stderr.count() == 0, f"stderr shown in the cell: {stderr.first.inner_text()[:500]}"
    errors = cell.locator('[data-mime-type="application/vnd.jupyter.error"]')
    assert errors.count() == 0, f"an error shown in the cell: {errors.first.inner_text()[:500]}"
    text = cell.locator(".jp-Cell-outputWrapper").inner_text()
    assert "Traceback" not in text, text


def exercise_cells(lesson_nb_uses_module: bool) -> tuple[str, str, str]:
    """(setup, wrong, right) sources for an exercise check run in the browser.

    With ``course_utils.exercises.lesson00``: its ``q1``, given a wrong answer and then its own
    published solution. Before that module exists: an :class:`Exercise` built in the cell.
    """
    if lesson_nb_uses_module:
        mod = f"course_utils.exercises.lesson{LESSON}"
        setup = f"import {mod} as _bt_ex\n"
        wrong = ("_bt_q = _bt_ex.q1\n"
                 "_bt_q.check(*[object() for _ in _bt_q.variables] or [object()])")
        right = "exec(_bt_ex.q1._solution)\n_bt_ex.q1.check()"
        return setup, wrong, right
    setup = ("from course_utils.exercises.core import Exercise, Wrong\n\n"
             "def _bt_checker(total):\n"
             "    if total != 4:\n"
             "        raise Wrong(f'`total` is {total!r}: add the two numbers again.')\n\n"
             "_bt_q = Exercise('q1', 'Add two numbers', _bt_checker, variables=['total'])\n")
    return setup, "total = 5\n_bt_q.check()", "total = 2 + 2\n_bt_q.check()"


# ---- the browser tests ------------------------------------------------------------------------

@pytest.mark.browser
def test_lesson_runs_clean_in_jupyterlab(lesson_page, lab):
    page, state = lesson_page
    with _evidence(page, lab, "lesson-clean"):
        assert errors_in(state) == [], "\n\n".join(errors_in(state))
        pending = [c["index"] for c in state["cells"]
                   if c["source"].strip() and c["count"] is None]
        assert pending == [], f"code cells that never ran: {pending}"
        assert state["kernel"] == "idle"
        assert page.locator(".jp-InputPrompt", has_text="[*]").count() == 0
        # the kernel is the course venv's Python
        cell = run_new_cell(page, "import sys\nprint(sys.prefix)", "course-bt-prefix")
        prefix = cell.locator(".jp-OutputArea-output").inner_text().strip()
        assert Path(prefix).resolve() == Path(sys.prefix).resolve(), prefix


@pytest.mark.browser
def test_practice_quiz_widget(lesson_page, lab):
    from playwright.sync_api import expect

    page, _ = lesson_page
    lesson = quiz.load_lesson(LESSON)
    n = len(lesson.practice)
    q = lesson.practice[0]
    wrong = next(k for k in q.options if k not in q.answer)
    with _evidence(page, lab, "quiz"):
        widget = practice_quiz(page, lesson)
        questions = widget.locator(".course-quiz-question")
        expect(questions).to_have_count(n)
        score = widget.locator(".course-quiz-score")
        expect(score).to_have_text(f"Score: 0 / {n}")
        first = questions.first
        expect(first).to_contain_text(_plain(q.prompt)[:60])

        choose(first, (wrong,))
        text = check_and_expect(first, "Not quite")
        assert f"the answer is {', '.join(q.answer)}" in text, text
        assert _plain(q.explanation)[:80] in text, text
        assert "Correct" not in text
        expect(score).to_have_text(f"Score: 0 / {n}")

        choose(first, q.answer)
        text = check_and_expect(first, "Correct")
        assert "Not quite" not in text and _plain(q.explanation)[:80] in text
        expect(score).to_have_text(f"Score: 1 / {n}")

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        widget.scroll_into_view_if_needed()
        png = widget.screenshot(path=str(ARTIFACTS / "quiz.png"), animations="disabled")
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("UPDATE_SCREENSHOT") == "1":
            assert len(png) < SCREENSHOT_MAX_BYTES, f"screenshot is {len(png)} bytes"
            DOC_SCREENSHOT.write_bytes(png)


@pytest.mark.browser
def test_exercise_feedback_in_the_browser(lesson_page, lab):
    from playwright.sync_api import expect

    page, _ = lesson_page
    has_module = importlib.util.find_spec(f"course_utils.exercises.lesson{LESSON}") is not None
    setup, wrong, right = exercise_cells(has_module)
    marker = "course-bt-exercise"
    with _evidence(page, lab, "exercise"):
        cell = run_new_cell(page, setup + wrong, marker)
        verdict = cell.locator(".course-verdict")
        expect(verdict).to_have_count(1)
        expect(verdict).to_contain_text("Not yet")
        expect(verdict).to_have_class(re.compile(r"\bcourse-wrong\b"))
        assert_no_traceback(cell)

        cell = run_new_cell(page, setup + right, marker)
        verdict = cell.locator(".course-verdict")
        expect(verdict).to_have_count(1)
        expect(verdict).to_contain_text("Correct")
        expect(verdict).to_have_class(re.compile(r"\bcourse-correct\b"))
        assert "Not yet" not in cell.locator(".jp-Cell-outputWrapper").inner_text()
        assert_no_traceback(cell)


@pytest.mark.browser
def test_dead_check_button_fails_the_quiz_check(lab, browser, course_root):
    """The helpers above really catch a broken widget: with ``Button.on_click`` made a no-op in
    the kernel (a Check button with no handler) the feedback never comes."""
    from playwright.sync_api import expect

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        "import ipywidgets\n"
        "ipywidgets.Button.on_click = lambda self, callback, remove=False: None\n"
        f"from course_utils import quiz\nquiz.show('{LESSON}')")]
    nbformat.write(nb, course_root / "broken_check.ipynb")
    lesson = quiz.load_lesson(LESSON)
    q = lesson.practice[0]
    page = browser.new_page()
    try:
        with _evidence(page, lab, "dead-button"):
            open_notebook(page, lab, "broken_check.ipynb", timeout_ms=APP_TIMEOUT)
            state = run_all_and_wait(page, timeout_ms=RUN_ALL_TIMEOUT)
            assert errors_in(state) == []
            first = practice_quiz(page, lesson).locator(".course-quiz-question").first
            choose(first, q.answer)
            with pytest.raises(AssertionError):
                check_and_expect(first, "Correct", timeout=5_000)
            expect(first.locator(".course-quiz-feedback")).to_have_text("")
    finally:
        with contextlib.suppress(Exception):
            page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        page.close()


# ---- a cheap guard without a browser ----------------------------------------------------------

def test_quiz_answers_through_frontend_messages():
    """What the browser sends: a selection as ``index`` state, a click as a ``click`` event."""
    from course_utils.quiz import render

    lesson = quiz.load_lesson(LESSON)
    view = render.build_quiz(lesson.practice, "t")
    for v in view.questions:
        assert v.button._click_handlers.callbacks, "a Check button without a click handler"
        assert v.feedback in v.box.children and v.box in view.box.children
    first, q = view.questions[0], lesson.practice[0]
    if q.multi:
        pytest.skip("first practice question is multi-answer")
    keys = list(q.options)
    wrong = next(k for k in keys if k not in q.answer)
    first.selector.set_state({"index": keys.index(wrong)})
    first.button._handle_button_msg(None, {"event": "click"}, [])
    assert "Not quite" in first.feedback.value
    first.selector.set_state({"index": keys.index(q.answer[0])})
    first.button._handle_button_msg(None, {"event": "click"}, [])
    assert "Correct" in first.feedback.value
    assert view.score.value == f"Score: 1 / {len(view.questions)}"
