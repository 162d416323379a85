"""Plain-text rendering: deterministic, so nbval can compare it and a terminal can show it.

Example::

    print(practice_text(load_lesson("02")))   # questions, then the answers and explanations
    print(graded_text(load_lesson("02")))     # questions only, never the answers
"""
from __future__ import annotations

import textwrap
from collections import Counter

WIDTH = 88
DIFFICULTIES = ("easy", "medium", "hard")


def fill(text: str, indent: str = "   ") -> str:
    """Wrap prose paragraph by paragraph, keeping blank lines between paragraphs."""
    paras = [" ".join(p.split()) for p in str(text).strip().split("\n\n")]
    return "\n\n".join(textwrap.fill(p, WIDTH, initial_indent=indent, subsequent_indent=indent)
                       for p in paras if p)


def code_block(code: str, indent: str = "       ") -> str:
    return textwrap.indent(code.rstrip("\n"), indent)


def option_lines(q) -> list[str]:
    lines = []
    for letter, text in q.options.items():
        first, *rest = text.split("\n")
        lines.append(f"   {letter}. {first}")
        lines.extend(f"      {line}" if line else "" for line in rest)
    return lines


def question_text(q, number: int) -> str:
    """One question: number, difficulty, prompt, code, options (no answer)."""
    pick = "  (select all that apply)" if q.multi else ""
    lines = [f"{number}. [{q.difficulty}] " + fill(q.prompt).lstrip() + pick]
    if q.code:
        lines += ["", code_block(q.code), ""]
    lines += option_lines(q)
    return "\n".join(lines)


def answer_label(q) -> str:
    """``A: text`` for a one-line option, the letters alone otherwise."""
    if len(q.answer) == 1 and "\n" not in q.options[q.answer[0]]:
        return f"{q.answer[0]}: {q.options[q.answer[0]]}"
    return ", ".join(q.answer)


def answer_text(q, number: int) -> str:
    """The answer block: key, explanation, common mistakes."""
    lines = [f"{number}. {answer_label(q)}", fill(q.explanation)]
    if q.common_mistakes:
        lines.append("   Common mistakes:")
        lines += [f"   - {m}" for m in q.common_mistakes]
    return "\n".join(lines)


def questions_text(questions) -> str:
    return "\n\n".join(question_text(q, i) for i, q in enumerate(questions, 1))


def practice_text(lesson, questions=None, title=None) -> str:
    """A practice quiz: all questions, then all answers with explanations."""
    questions = lesson.practice if questions is None else questions
    title = title or f"Quiz {lesson.number} · {lesson.title}: practice"
    parts = [f"{title} ({len(questions)} questions)", questions_text(questions), "Answers",
             "\n\n".join(answer_text(q, i) for i, q in enumerate(questions, 1))]
    return "\n\n".join(parts) + "\n"


def graded_text(lesson) -> str:
    """The graded questions with their ids and how to answer; no answers."""
    qs = lesson.graded
    parts = [f"Quiz {lesson.number} · {lesson.title}: graded ({len(qs)} questions)",
             fill("Record each answer in the cell below with quiz.answer(question_id, letter), "
                  'e.g. quiz.answer("' + (qs[0].id if qs else "question-id") + '", "A").',
                  indent="")]
    for i, q in enumerate(qs, 1):
        parts.append(f"{question_text(q, i)}\n   (id: {q.id})")
    return "\n\n".join(parts) + "\n"


def flashcards_text(lesson) -> str:
    """Every card, front then back."""
    cards = lesson.flashcards
    parts = [f"Flashcards {lesson.number} · {lesson.title} ({len(cards)} cards)"]
    for i, c in enumerate(cards, 1):
        parts.append(f"{i}. [{c.level}] {c.front}\n{fill(c.back)}")
    return "\n\n".join(parts) + "\n"


def pattern_summary(questions) -> str:
    """``easy 4 · medium 3 · hard 3``."""
    n = Counter(q.difficulty for q in questions)
    return " · ".join(f"{d} {n[d]}" for d in DIFFICULTIES)


def difficulty_score(results) -> str:
    """``easy 2/4 · medium 1/3 · hard 0/3`` from (question, correct) pairs."""
    total, right = Counter(), Counter()
    for q, ok in results:
        total[q.difficulty] += 1
        right[q.difficulty] += bool(ok)
    return " · ".join(f"{d} {right[d]}/{total[d]}" for d in DIFFICULTIES if total[d])
