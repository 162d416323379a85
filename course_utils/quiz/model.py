"""The quiz data model: plain frozen dataclasses built from a validated YAML file.

Example::

    q = Question.from_dict({"id": "freeze-meaning", "difficulty": "easy", ...}, lesson="02_...")
    q.answer      # ("A",)
    q.multi       # False: one letter is right
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Question:
    """One multiple-choice question; ``answer`` is a tuple of letters (several for multi-answer)."""

    id: str
    lesson: str
    difficulty: str
    prompt: str
    options: dict
    answer: tuple
    explanation: str
    source: str
    graded: bool = False
    code: str | None = None
    hint: str | None = None
    common_mistakes: tuple = ()
    notes: str | None = None
    multi: bool = False

    @classmethod
    def from_dict(cls, d: dict, lesson: str) -> "Question":
        ans = d["answer"]
        multi = isinstance(ans, list)
        letters = tuple(sorted(ans)) if multi else (ans,)
        code = d.get("code")
        return cls(
            id=d["id"], lesson=lesson, difficulty=d["difficulty"], prompt=d["prompt"].strip(),
            options={k: str(v).rstrip("\n") for k, v in sorted(d["options"].items())},
            answer=letters, explanation=d["explanation"].strip(), source=d["source"],
            graded=bool(d.get("graded", False)), code=code.rstrip("\n") if code else None,
            hint=d.get("hint"), common_mistakes=tuple(d.get("common_mistakes") or ()),
            notes=d.get("notes"), multi=multi)

    @property
    def answer_text(self) -> str:
        """The key as a student types it: ``"A"`` or ``"A,C"``."""
        return ",".join(self.answer)


@dataclass(frozen=True)
class Flashcard:
    """A Recall & Review card."""

    front: str
    back: str
    level: str


@dataclass(frozen=True)
class Lesson:
    """One lesson's quiz file: ``name`` is e.g. ``02_freezing_and_counting``."""

    name: str
    path: Path
    questions: tuple
    flashcards: tuple = field(default=())

    @property
    def number(self) -> str:
        return self.name[:2]

    @property
    def title(self) -> str:
        special = {"01_why_fine_tune": "Why fine-tune",
                   "05_two_phase_and_gradual": "Two phases and gradual unfreezing"}
        return special.get(self.name, self.name[3:].replace("_", " ").capitalize())

    @property
    def practice(self) -> tuple:
        """Questions shown with answers (``graded: false``)."""
        return tuple(q for q in self.questions if not q.graded)

    @property
    def graded(self) -> tuple:
        """Questions kept for the graded quiz (``graded: true``)."""
        return tuple(q for q in self.questions if q.graded)
