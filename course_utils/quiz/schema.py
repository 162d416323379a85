"""Validate one quiz file; every problem becomes ONE :class:`QuizFormatError` naming file,
question and field.

Example::

    data = validate_file(Path("quizzes/02_freezing_and_counting.yaml"))
    # QuizFormatError: quizzes/02_freezing_and_counting.yaml: question 'freeze-meaning':
    #                  field 'answer': 'E' is not one of the options A, B, C, D
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

LETTER = "^[A-H]$"
_TEXT = {"type": "string", "minLength": 1, "pattern": r"\S"}

QUESTION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "difficulty", "prompt", "options", "answer", "explanation", "source",
                 "graded"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
        "difficulty": {"enum": ["easy", "medium", "hard"]},
        "prompt": _TEXT,
        "code": {"type": ["string", "null"]},
        "options": {"type": "object", "minProperties": 2,
                    "propertyNames": {"pattern": LETTER},
                    "additionalProperties": _TEXT},
        "answer": {"anyOf": [
            {"type": "string", "pattern": LETTER},
            {"type": "array", "minItems": 1, "uniqueItems": True,
             "items": {"type": "string", "pattern": LETTER}}]},
        "explanation": _TEXT,
        "hint": {"type": ["string", "null"]},
        "common_mistakes": {"type": ["array", "null"], "items": _TEXT},
        "source": {"type": "string", "pattern": r"^(course|\d{3}_[0-9a-f]{16}\.txt)$"},
        "notes": {"type": ["string", "null"]},
        "graded": {"type": "boolean"},
    },
}

FLASHCARD = {
    "type": "object",
    "additionalProperties": False,
    "required": ["front", "back", "level"],
    "properties": {"front": _TEXT, "back": _TEXT,
                   "level": {"enum": ["beginner", "intermediate"]}},
}

LESSON = {
    "type": "object",
    "additionalProperties": False,
    "required": ["lesson", "questions"],
    "properties": {
        "lesson": {"type": "string"},
        "questions": {"type": "array", "minItems": 1, "items": QUESTION},
        "flashcards": {"type": ["array", "null"], "items": FLASHCARD},
    },
}



@lru_cache(maxsize=1)
def _validator():
    """Imported lazily: ``import jsonschema`` takes about 2 s here (its rfc3987 grammar)."""
    import jsonschema

    return jsonschema.Draft202012Validator(LESSON)

_TYPE_NAMES = {"NoneType": "null", "str": "a string", "int": "a number", "float": "a number",
               "bool": "true/false", "list": "a list", "dict": "a mapping"}


class QuizFormatError(ValueError):
    """A quiz file breaks the format; the message names file, question id and field."""


def display_name(path: Path) -> str:
    """``quizzes/02_freezing_and_counting.yaml`` whatever the absolute location."""
    path = Path(path)
    return f"{path.parent.name}/{path.name}"


def _where(data, path: list) -> tuple[str, str]:
    """Split a jsonschema path into ('question 'id': ' or '', field name)."""
    path = list(path)
    if len(path) >= 2 and path[0] in ("questions", "flashcards") and isinstance(path[1], int):
        kind, i, rest = path[0], path[1], path[2:]
        if kind == "questions":
            item = data["questions"][i]
            qid = item.get("id") if isinstance(item, dict) else None
            who = f"question '{qid}': " if isinstance(qid, str) else f"question #{i + 1}: "
        else:
            who = f"flashcard #{i + 1}: "
        return who, ".".join(str(p) for p in rest)
    return "", ".".join(str(p) for p in path)


def _describe(err) -> tuple[str | None, str]:
    """(extra field name or None, message) for one schema error."""
    v, inst = err.validator, err.instance
    if v == "required":
        missing = [k for k in err.validator_value if k not in inst]
        return missing[0], "missing"
    if v == "additionalProperties":
        extra = sorted(k for k in inst if k not in err.schema.get("properties", {}))
        if extra:
            allowed = ", ".join(err.schema["properties"])
            return extra[0], f"unknown field (allowed: {allowed})"
    if v == "enum":
        return None, f"{inst!r} is not one of {', '.join(map(str, err.validator_value))}"
    if v == "type":
        return None, f"expected {err.validator_value}, got {_TYPE_NAMES.get(type(inst).__name__)}"
    if v == "anyOf" and err.path and err.path[-1] == "answer":
        return None, f"{inst!r} is not a letter A-H or a list of letters"
    return None, err.message


def _schema_error(data) -> str | None:
    from jsonschema.exceptions import best_match

    err = best_match(_validator().iter_errors(data))
    if err is None:
        return None
    path = list(err.absolute_path)
    who, field = _where(data, path)
    extra, msg = _describe(err)
    if extra:
        field = f"{field}.{extra}" if field else extra
    if field.startswith("options.") and (err.instance is None or
                                          (isinstance(err.instance, str) and not err.instance.strip())):
        msg = "empty option"
    if field == "options" and err.validator == "minProperties":
        msg = "needs at least two options"
    if not field:
        return f"{who}{msg}"
    return f"{who}field '{field}': {msg}"


def _semantic_error(data: dict, expected_lesson: str) -> str | None:
    if data["lesson"] != expected_lesson:
        return (f"field 'lesson': '{data['lesson']}' does not match the file name "
                f"'{expected_lesson}'")
    seen = set()
    for q in data["questions"]:
        who = f"question '{q['id']}': "
        if q["id"] in seen:
            return f"{who}field 'id': duplicate id '{q['id']}'"
        seen.add(q["id"])
        letters = q["answer"] if isinstance(q["answer"], list) else [q["answer"]]
        for letter in letters:
            if letter not in q["options"]:
                return (f"{who}field 'answer': '{letter}' is not one of the options "
                        f"{', '.join(sorted(q['options']))}")
    return None


def validate_file(path: Path) -> dict:
    """Parse and check one quiz file; return its data or raise :class:`QuizFormatError`."""
    path = Path(path)
    name = display_name(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise QuizFormatError(f"{name}: malformed YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise QuizFormatError(f"{name}: expected a mapping with 'lesson' and 'questions'")
    msg = _schema_error(data) or _semantic_error(data, path.stem)
    if msg:
        raise QuizFormatError(f"{name}: {msg}")
    return data
