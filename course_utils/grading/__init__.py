"""nbgrader pipeline of the course: ``python -m course_utils.grading release|autograde|feedback``.

Python API (``root`` is the course directory with nbgrader_config.py, default ``.``):

* :func:`release` — student versions of the lessons in ``release/``.
* :func:`autograde` — grade ``submitted/STUDENT/LESSON/*.ipynb``; grades.csv, feedback, a table.
* :func:`feedback` — feedback HTML in ``feedback/`` without hidden tests.
* :func:`scores` — {(student, lesson): Score} from the gradebook.
* :func:`validate` — run one notebook like autograde; ``.ok``, ``.failed`` (nbgrader's
  ``validate`` command exits 0 on failures, jupyter/nbgrader#1908).

See docs/instructors.md for the cycle, the timeout and the crash handling.
"""
from .pipeline import (QUIET_ENV, GradingError, Score, autograde, export_grades, feedback, find_leaks,
                       format_table, html_text, instructor_only_strings, lessons, release,
                       run_nbgrader, scores, submissions)
from .validation import Validation, cell_timeout, validate

__all__ = ["QUIET_ENV", "GradingError", "Score", "Validation", "autograde", "cell_timeout", "export_grades",
           "feedback", "find_leaks", "format_table", "html_text", "instructor_only_strings",
           "lessons", "release", "run_nbgrader", "scores", "submissions", "validate"]
