"""Checked exercises, one module per lesson, in the spirit of Kaggle's learntools.

>>> from course_utils.exercises import lesson02 as ex   # doctest: +SKIP
>>> ex.q1.check()        # reads the notebook's variables, says right or what is wrong
>>> ex.q1.hint()         # one hint more each call
>>> ex.q1.solution()     # shows a solution
>>> ex.q1.grade()        # the same check for nbgrader: raises AssertionError when wrong
"""
from .core import Exercise, NotAttempted, Wrong

__all__ = ["Exercise", "Wrong", "NotAttempted"]
