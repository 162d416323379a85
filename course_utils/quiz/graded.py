"""Graded quizzes: the student records answers; nbgrader's hidden tests hold the key.

Nothing here says whether an answer is right.

Example::

    answer("freeze-meaning", "A")      # prints: Recorded freeze-meaning: A
    answers()                          # {'freeze-meaning': 'A'}
    assert_answered("02")              # AssertionError naming graded ids still unanswered
"""
from __future__ import annotations

from .schema import QuizFormatError
from .store import find_question, load_lesson

_ANSWERS: dict = {}


def _letters(value) -> list[str] | None:
    if isinstance(value, (list, tuple, set)):
        items = list(value)
    elif isinstance(value, str):
        items = value.replace(" ", "").split(",")
    else:
        return None
    out = [str(x).strip().upper() for x in items]
    return out if out and all(out) else None


def answer(question_id, letter) -> None:
    """Record an answer for a graded question; print a clear message, never raise.

    Returns None, so a cell ending with ``quiz.answer(...)`` shows only the message.

    ``letter`` is ``"A"``; for a select-all question ``"A,C"`` or ``["A", "C"]``.
    """
    try:
        q = find_question(str(question_id)) if isinstance(question_id, str) else None
    except QuizFormatError as exc:
        print(f"The quiz files are broken, tell the course team: {exc}")
        return None
    if q is None:
        print(f"There is no question with id {question_id!r}: copy the id shown under the "
              "question, e.g. quiz.answer(\"freeze-meaning\", \"A\").")
        return None
    letters = _letters(letter)
    valid = ", ".join(q.options)
    if letters is None or any(x not in q.options for x in letters):
        print(f"{letter!r} is not an option of {q.id}: choose one of {valid}.")
        return None
    if not q.multi and len(letters) != 1:
        print(f"{q.id} has one answer: give a single letter ({valid}).")
        return None
    _ANSWERS[q.id] = ",".join(sorted(set(letters)))
    print(f"Recorded {q.id}: {_ANSWERS[q.id]}")
    return None


def answers() -> dict:
    """A copy of the answers recorded so far, ``{question_id: "A"}`` (``"A,C"`` for several)."""
    return dict(_ANSWERS)


def clear_answers() -> None:
    """Forget every recorded answer."""
    _ANSWERS.clear()


def assert_answered(lesson) -> None:
    """Raise AssertionError naming the lesson's graded questions not answered yet."""
    missing = [q.id for q in load_lesson(lesson).graded if q.id not in _ANSWERS]
    if missing:
        raise AssertionError("Not answered yet: " + ", ".join(missing) +
                             ". Record each with quiz.answer(question_id, letter).")
