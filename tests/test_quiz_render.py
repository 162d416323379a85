"""Rendering: the widget tree and its Check buttons, the text fallback, graded answers, the
terminal mode and the notebook quiz section."""
from __future__ import annotations

import io
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from course_utils import quiz
from course_utils.quiz import render
from course_utils.quiz.graded import clear_answers
from course_utils.quiz.model import Question
from course_utils.quiz.pattern import draw_pattern

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools.nb import Notebook  # noqa: E402
from tools.quiz_cells import add_quiz_section  # noqa: E402


def classes(widget):
    return set(widget._dom_classes)


def wrong_letter(q):
    return next(k for k in q.options if k not in q.answer)


@pytest.fixture
def lesson():
    return quiz.load_lesson("02")


@pytest.fixture(autouse=True)
def _fresh_answers():
    clear_answers()
    yield
    clear_answers()


def test_widget_tree_check_and_score(lesson):
    view = render.build_quiz(lesson.practice, "Quiz 02")
    n = len(lesson.practice)
    assert "course-quiz" in classes(view.box) and "course-quiz-score" in classes(view.score)
    assert view.score.value == f"Score: 0 / {n}"
    first = view.questions[0]
    assert "course-quiz-question" in classes(first.box)
    assert "course-quiz-check" in classes(first.button)
    assert "course-quiz-feedback" in classes(first.feedback)
    first.button.click()
    assert "Choose an answer first" in first.feedback.value
    first.select(wrong_letter(first.q))
    first.button.click()
    assert "Not quite" in first.feedback.value and "Correct" not in first.feedback.value
    assert first.q.common_mistakes[0].split()[0] in first.feedback.value
    assert view.score.value == f"Score: 0 / {n}"
    first.select(*first.q.answer)
    first.button.click()
    assert "Correct" in first.feedback.value
    assert view.score.value == f"Score: 1 / {n}"


def test_code_is_highlighted_and_code_options_listed(lesson):
    q = next(q for q in lesson.practice if q.id == "freeze-all-but-last")
    view = render.build_quiz([q], "one")
    html = view.questions[0].box.children[0].value
    assert "<span style=" in html and "requires_grad" in html       # pygments, inline styles
    assert [label for label, _ in view.questions[0].selector.options] == ["A", "B", "C", "D"]
    plain = render.build_quiz([next(q for q in lesson.practice if not q.code)], "x")
    assert plain.questions[0].selector.options[0][0].startswith("A. ")


def test_multi_answer_uses_checkboxes():
    q = Question.from_dict({
        "id": "multi", "difficulty": "easy", "prompt": "Which freeze?", "options":
        {"A": "x", "B": "y", "C": "z"}, "answer": ["C", "A"], "explanation": "e",
        "source": "course", "graded": False}, lesson="02_freezing_and_counting")
    view = render.build_quiz([q], "multi")
    v = view.questions[0]
    v.select("A")
    v.button.click()
    assert "Not quite" in v.feedback.value and "A, C" in v.feedback.value
    v.select("A", "C")
    v.button.click()
    assert "Correct" in v.feedback.value and view.score.value == "Score: 1 / 1"


def test_flashcards_reveal(lesson):
    view = render.build_flashcards(lesson.flashcards, "cards")
    button, back = view.cards[0]
    assert "course-flashcard-reveal" in classes(button) and back.value == ""
    button.click()
    assert "keep their learned features" in back.value


def test_pattern_draw():
    course = quiz.load_course()
    qs = draw_pattern(course, seed=3)
    assert len(qs) == 10 and not any(q.graded for q in qs)
    assert [q.difficulty for q in qs] == ["easy"] * 4 + ["medium"] * 3 + ["hard"] * 3
    assert [q.id for q in draw_pattern(course, seed=3)] == [q.id for q in qs]
    view = render.build_quiz(qs, "pattern", by_difficulty=True)
    assert "course-quiz-difficulty" in classes(view.by_difficulty)
    view.questions[0].select(*view.questions[0].q.answer)
    view.questions[0].button.click()
    assert view.by_difficulty.value == "By difficulty: easy 1/4 · medium 0/3 · hard 0/3"


def test_text_fallback_outside_a_kernel(capsys, lesson):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiz.show("02")
        first = capsys.readouterr()
        quiz.show("02_freezing_and_counting")
        second = capsys.readouterr()
    assert first.err == "" and first.out == second.out              # deterministic
    text = first.out
    head, answers = text.split("\nAnswers\n")
    for q in lesson.practice:
        assert q.prompt.split()[0] in head
        assert q.explanation.split("\n")[0][:40] not in head        # answers come after all
    assert "       for param in model.parameters():\n           param.requires_grad = False" in head
    assert "   D. for param in model.parameters():\n          param.requires_grad = False" in head
    assert re.search(r"^1\. [A-D]", answers, re.M)
    assert not any(q.prompt[:30] in text for q in lesson.graded)


def test_flashcards_and_pattern_text(capsys):
    quiz.flashcards("02")
    quiz.test_pattern(seed=0)
    out, err = capsys.readouterr()
    assert err == "" and "Flashcards 02" in out
    assert "Test this pattern: easy 4 · medium 3 · hard 3 (10 questions)" in out


def test_widget_display_in_a_kernel(monkeypatch, lesson):
    shown = []
    monkeypatch.setattr(quiz, "in_kernel", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append(obj))
    quiz.show("02")
    bundle = shown[0]
    assert bundle["text/plain"] == quiz.practice_text(lesson)
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"]


def test_graded_hides_answers(capsys, lesson):
    quiz.graded("02")
    out, err = capsys.readouterr()
    assert err == ""
    for q in lesson.graded:
        assert f"(id: {q.id})" in out
        assert q.explanation[:40] not in out
    assert "Answers" not in out and "Correct" not in out


def test_answer_validation_and_assert_answered(capsys, lesson):
    ids = [q.id for q in lesson.graded]
    quiz.answer("no-such-question", "A")
    assert "no question with id 'no-such-question'" in capsys.readouterr().out
    quiz.answer(ids[0], "E")
    assert "'E' is not an option of" in capsys.readouterr().out
    quiz.answer(ids[0], "A,B")
    assert "has one answer" in capsys.readouterr().out
    quiz.answer(ids[0], 3)
    assert "3 is not an option" in capsys.readouterr().out
    assert quiz.answers() == {}
    with pytest.raises(AssertionError, match=", ".join(ids)):
        quiz.assert_answered("02")
    assert quiz.answer(ids[0], "b") is None
    assert f"Recorded {ids[0]}: B" in capsys.readouterr().out
    assert quiz.answers() == {ids[0]: "B"}
    with pytest.raises(AssertionError) as info:
        quiz.assert_answered("02")
    assert ids[0] not in str(info.value) and ids[1] in str(info.value)
    for qid in ids[1:]:
        quiz.answer(qid, "C")
    quiz.assert_answered("02")                 # answered, right or wrong: no verdict here
    assert capsys.readouterr().err == ""


def cli(*args, stdin=""):
    return subprocess.run([sys.executable, "-m", "course_utils.quiz", *args], input=stdin,
                          capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_terminal_quiz_scripted():
    lesson = quiz.load_lesson("04")
    first, second = lesson.practice[:2]
    stdin = f"zz\n{wrong_letter(first)}\n{second.answer_text.lower()}\n"   # then EOF
    res = cli("04", stdin=stdin)
    assert res.returncode == 0 and res.stderr == ""
    out = res.stdout
    assert "Please type one letter from A, B, C, D." in out
    assert "Not quite: the answer is" in out and "Correct." in out
    assert "Stopped." in out and "Score: 1 / 2 answered (3 questions)" in out


def run_main(monkeypatch, capsys, *args, stdin=""):
    """The CLI in-process (a subprocess costs ~2 s of imports; one real run is tested above)."""
    from course_utils.quiz.__main__ import main

    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert err == ""
    return code, out


def test_terminal_flashcards_pattern_and_errors(monkeypatch, capsys):
    code, out = run_main(monkeypatch, capsys, "02", "--flashcards", stdin="\n")
    assert code == 0 and "Revealed 1 / 3 cards" in out and "Stopped." in out
    code, out = run_main(monkeypatch, capsys, "--pattern", "--seed", "1", stdin="A\n" * 10)
    assert code == 0 and "Score: " in out and "/ 10 answered" in out
    assert re.search(r"By difficulty: easy \d/4 · medium \d/3 · hard \d/3", out)
    code, out = run_main(monkeypatch, capsys, "03", stdin="x\ny\nz\n")
    assert out.count("Please type") == 3 and "No valid answer; moving on." in out
    assert code == 0 and "Stopped." in out
    code, out = run_main(monkeypatch, capsys, "99")
    assert code == 2 and "No quiz for lesson '99'" in out
    code, out = run_main(monkeypatch, capsys, "--bogus")
    assert code == 2 and "error:" in out


@pytest.mark.parametrize("name", [p.stem for p in sorted((ROOT / "quizzes").glob("*.yaml"))])
def test_quiz_section_hidden_key(name):
    lesson = quiz.load_lesson(name)
    nb = Notebook()
    add_quiz_section(nb, name)
    cells = {c.get("id"): c for c in nb.nb.cells}
    nn = lesson.number
    sol, test = cells[f"quiz-{nn}-answers"], cells[f"quiz-{nn}-test"]
    assert sol.metadata.nbgrader["solution"] and test.metadata.nbgrader["grade"]
    assert test.metadata.nbgrader["points"] == len(lesson.graded)
    assert sol.source.startswith("### BEGIN SOLUTION") and sol.source.endswith("### END SOLUTION")
    visible, hidden = test.source.split("### BEGIN HIDDEN TESTS")
    hidden, after = hidden.split("### END HIDDEN TESTS")
    assert f'quiz.assert_answered("{nn}")' in visible and after.strip() == ""
    key = dict(re.findall(r'_answers\.get\("([a-z0-9-]+)"\) == "([A-H,]+)"', hidden))
    assert key == {q.id: q.answer_text for q in lesson.graded}
    assert not re.search(r'== "[A-H]', visible)                  # the key only in hidden tests
    sources = [c.source for c in nb.nb.cells]
    assert f'quiz.graded("{nn}")' in sources[1]
    assert f'quiz.show("{nn}")' in sources and f'quiz.flashcards("{nn}")' in sources
    # The cells work: the solution passes the tests, a wrong answer fails them.
    env = {}
    exec(sources[1].replace(f'quiz.graded("{nn}")', ""), env)
    exec(sol.source, env)
    exec(test.source, env)
    q = lesson.graded[0]
    quiz.answer(q.id, wrong_letter(q))
    with pytest.raises(AssertionError, match=q.id):
        exec(test.source, env)
