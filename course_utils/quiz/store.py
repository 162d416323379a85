"""Find and load the course's quiz files (``quizzes/NN_name.yaml``).

The folder is ``$COURSE_QUIZ_DIR`` when set, else the repository's top-level ``quizzes/``.

Example::

    lesson = load_lesson("02")          # or "02_freezing_and_counting", or 2
    course = load_course()              # every lesson, ids checked unique across the course
    question = find_question("freeze-meaning")
"""
from __future__ import annotations

import os
from pathlib import Path

from .model import Flashcard, Lesson, Question
from .schema import QuizFormatError, display_name, validate_file

_CACHE: dict = {}


class UnknownLesson(LookupError):
    """The lesson name matches no quiz file."""


def quiz_dir() -> Path:
    """The folder holding the quiz files."""
    env = os.environ.get("COURSE_QUIZ_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "quizzes"


def lesson_paths() -> list[Path]:
    """All ``NN_name.yaml`` files, in lesson order."""
    folder = quiz_dir()
    return sorted(p for p in folder.glob("[0-9][0-9]_*.yaml") if p.is_file())


def resolve(lesson) -> Path:
    """The file for ``"02"``, ``2`` or ``"02_freezing_and_counting"``."""
    key = f"{lesson:02d}" if isinstance(lesson, int) else str(lesson).strip()
    key = key[:-5] if key.endswith(".yaml") else key
    paths = lesson_paths()
    for p in paths:
        if p.stem == key or (len(key) <= 2 and key.isdigit() and p.stem[:2] == key.zfill(2)):
            return p
    known = ", ".join(p.stem for p in paths) or f"none in {quiz_dir()}"
    raise UnknownLesson(f"No quiz for lesson {lesson!r}. Known lessons: {known}")


def _load_path(path: Path) -> Lesson:
    stamp = (str(path), path.stat().st_mtime_ns, path.stat().st_size)
    if stamp not in _CACHE:
        data = validate_file(path)
        questions = tuple(Question.from_dict(q, path.stem) for q in data["questions"])
        cards = tuple(Flashcard(**c) for c in data.get("flashcards") or ())
        _CACHE[stamp] = Lesson(path.stem, path, questions, cards)
    return _CACHE[stamp]


def load_lesson(lesson) -> Lesson:
    """Load and validate one lesson's quiz."""
    return _load_path(resolve(lesson))


def load_course() -> list[Lesson]:
    """Load every lesson; a question id used twice in the course is a :class:`QuizFormatError`."""
    lessons = [_load_path(p) for p in lesson_paths()]
    owner: dict = {}
    for lesson in lessons:
        for q in lesson.questions:
            if q.id in owner:
                raise QuizFormatError(
                    f"{display_name(lesson.path)}: question '{q.id}': field 'id': duplicate id, "
                    f"also in {display_name(owner[q.id])}")
            owner[q.id] = lesson.path
    return lessons


def find_question(qid: str) -> Question | None:
    """The question with this id anywhere in the course, or None."""
    for lesson in load_course():
        for q in lesson.questions:
            if q.id == qid:
                return q
    return None
