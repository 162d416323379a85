"""Shared helpers for the exercise tests (tests/test_exercises_lessonNN.py)."""
import pytest


def verdict(exercise, *args):
    """``(kind, message)`` of an answer, printing nothing."""
    return exercise.verdict(*args)


def wrong(exercise, *args) -> str:
    """Assert the answer is judged wrong (not "not attempted") and return the message."""
    kind, message = exercise.verdict(*args)
    assert kind == "wrong", message
    return message


def passes(exercise, *args) -> None:
    """Assert the answer passes both nbgrader's grade() and the student's check()."""
    exercise.grade(*args)
    assert exercise.check(*args) is True


def printed_verdict(exercise, capsys, *args):
    """(check()'s bool, printed text); check must never raise."""
    ok = exercise.check(*args)
    return ok, capsys.readouterr().out


def printed_wrong(exercise, capsys, *args) -> str:
    """check() says False and prints why; grade() raises AssertionError. Returns the text."""
    ok, out = printed_verdict(exercise, capsys, *args)
    assert ok is False, out
    with pytest.raises(AssertionError):
        exercise.grade(*args)
    capsys.readouterr()
    return out


def printed_right(exercise, capsys, *args) -> None:
    """check() says True; grade() passes and prints that it is correct."""
    ok, out = printed_verdict(exercise, capsys, *args)
    assert ok is True, out
    exercise.grade(*args)
    assert "correct" in capsys.readouterr().out
