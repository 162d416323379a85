"""Append a lesson's quiz section to a notebook built with :mod:`tools.nb`.

Example (at the end of a lesson's build script)::

    from tools.nb import Notebook
    from tools.quiz_cells import add_quiz_section
    nb = Notebook()
    ...
    add_quiz_section(nb, "02")
    nb.save("notebooks/02_freezing_and_counting/02_freezing_and_counting.ipynb")

Cells added: a markdown header; ``quiz.graded("NN")``; the answer cell (a solution cell whose
``quiz.answer(...)`` lines nbgrader removes on release); a test cell, 1 point per graded
question, that checks every question was answered and, in hidden tests only, compares each
answer with the key; then the practice quiz and the flashcards.
"""
from __future__ import annotations

from course_utils.quiz import load_lesson


def add_quiz_section(nb, lesson: str) -> None:
    """Append the quiz section of ``lesson`` ("02" or "02_freezing_and_counting") to ``nb``."""
    les = load_lesson(lesson)
    nn, graded = les.number, les.graded
    nb.md(f"## Quiz: {les.title}",
          "The graded questions come first: read each one and record your answer in the cell "
          'below it with `quiz.answer("question-id", "A")` (for a question with several right '
          'answers, `"A,C"`). `quiz.answers()` shows what you have recorded. After that, a '
          "practice quiz with answers and explanations, and flashcards to review.")
    nb.code(f'from course_utils import quiz\n\nquiz.graded("{nn}")')
    answers = "\n".join(f'quiz.answer("{q.id}", "{q.answer_text}")' for q in graded)
    nb.solution(f"quiz-{nn}-answers",
                f"### BEGIN SOLUTION\n{answers}\n### END SOLUTION")
    checks = "\n".join(f'assert _answers.get("{q.id}") == "{q.answer_text}", "{q.id}"'
                       for q in graded)
    nb.tests(f"quiz-{nn}-test", points=len(graded), source=(
        "from course_utils import quiz\n\n"
        f'quiz.assert_answered("{nn}")\n'
        "### BEGIN HIDDEN TESTS\n"
        "_answers = quiz.answers()\n"
        f"{checks}\n"
        "### END HIDDEN TESTS"))
    nb.md("### Practice quiz", "Choose an answer and press **Check**; nothing here is graded.")
    nb.code(f'quiz.show("{nn}")')
    nb.md("### Flashcards")
    nb.code(f'quiz.flashcards("{nn}")')
