"""Take a quiz in a terminal: one line per answer from ``stdin``; EOF stops with the score so far.

Example::

    $ printf 'A\nB\n' | python -m course_utils.quiz 02
"""
from __future__ import annotations

import sys

from .text import answer_label, difficulty_score, fill, question_text

TRIES = 3


def _ask(q, inp, out):
    """The letters typed (sorted), None after EOF, () after too many invalid lines."""
    valid = ", ".join(q.options)
    how = "letters separated by commas" if q.multi else "one letter"
    for _ in range(TRIES):
        out.write(f"Your answer ({how}: {valid}): ")
        out.flush()
        line = inp.readline()
        if not line:
            out.write("\n")
            return None
        letters = [x.strip().upper() for x in line.split(",") if x.strip()]
        if letters and all(x in q.options for x in letters) and (q.multi or len(letters) == 1):
            return tuple(sorted(set(letters)))
        out.write(f"Please type {how} from {valid}.\n")
    out.write("No valid answer; moving on.\n")
    return ()


def run_quiz(questions, title: str, inp=None, out=None, by_difficulty=False) -> list:
    """Ask each question, give feedback, print the score; returns (question, correct) pairs."""
    inp, out = inp or sys.stdin, out or sys.stdout
    results = []
    out.write(f"{title} ({len(questions)} questions)\n\n")
    for i, q in enumerate(questions, 1):
        out.write(question_text(q, i) + "\n")
        chosen = _ask(q, inp, out)
        if chosen is None:
            out.write("Stopped.\n")
            break
        ok = chosen == q.answer
        results.append((q, ok))
        out.write(("Correct.\n" if ok else f"Not quite: the answer is {answer_label(q)}\n"))
        out.write(fill(q.explanation) + "\n")
        for m in q.common_mistakes:
            out.write(f"   - common mistake: {m}\n")
        out.write("\n")
    right = sum(ok for _, ok in results)
    out.write(f"Score: {right} / {len(results)} answered ({len(questions)} questions)\n")
    if by_difficulty and results:
        out.write(f"By difficulty: {difficulty_score(results)}\n")
    out.flush()
    return results


def run_flashcards(cards, title: str, inp=None, out=None) -> int:
    """Show each front; Enter reveals the back. Returns how many cards were revealed."""
    inp, out = inp or sys.stdin, out or sys.stdout
    out.write(f"{title} ({len(cards)} cards)\n\n")
    shown = 0
    for i, card in enumerate(cards, 1):
        out.write(f"{i}. [{card.level}] {card.front}\n(press Enter to reveal) ")
        out.flush()
        if not inp.readline():
            out.write("\nStopped.\n")
            break
        out.write(fill(card.back) + "\n\n")
        shown += 1
    out.write(f"Revealed {shown} / {len(cards)} cards\n")
    out.flush()
    return shown
