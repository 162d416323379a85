"""Course quizzes from ``quizzes/NN_name.yaml``: practice widgets, flashcards, graded answers.

Example (in a lesson notebook)::

    from course_utils import quiz
    quiz.show("02")                       # practice quiz: widgets in JupyterLab, text elsewhere
    quiz.flashcards("02")                 # Recall & Review cards
    quiz.test_pattern(seed=0)             # 10 questions across easy, medium, hard
    quiz.graded("02")                     # graded questions, no answers shown
    quiz.answer("freeze-meaning", "A")    # record an answer
    quiz.assert_answered("02")            # nbgrader: every graded question answered?

In a terminal: ``python -m course_utils.quiz 02`` (``--flashcards``, ``--pattern``).
"""
from __future__ import annotations

import warnings

from .display import in_kernel, show_text, show_widget
from .graded import answer, answers, assert_answered
from .html import graded_html
from .pattern import draw_pattern
from .schema import QuizFormatError
from .store import load_course, load_lesson
from .text import flashcards_text, graded_text, pattern_summary, practice_text

__all__ = ["show", "flashcards", "test_pattern", "graded", "answer", "answers",
           "assert_answered", "load_lesson", "load_course", "QuizFormatError"]


def _widgets(build, text: str) -> None:
    if not in_kernel():
        print(text, end="")
        return
    from . import render

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        view = build(render)
    show_widget(view.box, text)


def show(lesson) -> None:
    """Show a lesson's practice quiz (``graded: false`` questions) with Check buttons and score."""
    les = load_lesson(lesson)
    title = f"Quiz {les.number} · {les.title}: practice"
    _widgets(lambda r: r.build_quiz(les.practice, title), practice_text(les))


def flashcards(lesson) -> None:
    """Show a lesson's flashcards, each with a Reveal button."""
    les = load_lesson(lesson)
    title = f"Flashcards {les.number} · {les.title}"
    _widgets(lambda r: r.build_flashcards(les.flashcards, title), flashcards_text(les))


def test_pattern(seed=None) -> None:
    """10 practice questions across easy, medium and hard from the whole course, scored per
    difficulty. ``seed`` makes the draw repeatable."""
    qs = draw_pattern(load_course(), seed=seed)
    title = f"Test this pattern: {pattern_summary(qs)}"
    text = practice_text(None, qs, title=title)
    _widgets(lambda r: r.build_quiz(qs, title, by_difficulty=True), text)


test_pattern.__test__ = False  # not a pytest test, despite the name


def graded(lesson) -> None:
    """Show the lesson's graded questions and their ids, WITHOUT answers."""
    les = load_lesson(lesson)
    show_text(graded_text(les), graded_html(les))
