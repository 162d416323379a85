"""The quiz files follow the schema; each kind of breakage gives ONE clear QuizFormatError."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from course_utils.quiz import QuizFormatError, load_course, load_lesson
from course_utils.quiz.schema import validate_file
from course_utils.quiz.store import UnknownLesson, lesson_paths, quiz_dir

LESSONS = ["00_welcome", "01_why_fine_tune", "02_freezing_and_counting", "03_replacing_the_head",
           "04_learning_rates", "05_two_phase_and_gradual", "06_diagnosing"]
SOURCES = {"000_ad67ebdc45b58065.txt", "002_db1acbc5a5547277.txt", "003_6562de5331080019.txt"}

GOOD = """\
lesson: 02_freezing_and_counting
questions:
  - id: freeze-meaning
    difficulty: easy
    prompt: What does freezing layers in a model mean?
    code: null
    options: {A: Stopping updates, B: Removing layers, C: Adding neurons, D: Changing activations}
    answer: A
    explanation: Frozen weights are not updated.
    hint: null
    common_mistakes: [Thinking a frozen layer is removed]
    source: 000_ad67ebdc45b58065.txt
    notes: null
    graded: false
flashcards:
  - front: Why freeze layers?
    back: To keep their features.
    level: beginner
"""
NAME = "quizzes/02_freezing_and_counting.yaml"


def test_real_files_are_valid_and_complete():
    lessons = load_course()
    assert [les.name for les in lessons] == LESSONS
    for les in lessons:
        assert len(les.questions) >= 3, les.name
        assert 2 <= len(les.graded) <= 3, les.name
        assert les.practice and les.flashcards, les.name
    qs = [q for les in lessons for q in les.questions]
    assert {q.source for q in qs} - {"course"} == SOURCES
    by_source = {s: sum(q.source == s for q in qs) for s in SOURCES}
    assert by_source == {"000_ad67ebdc45b58065.txt": 10, "002_db1acbc5a5547277.txt": 5,
                         "003_6562de5331080019.txt": 5}
    topics = {"bn-running-stats", "layerwise-missing-groups", "cache-features",
              "module-requires-grad-attr", "optimizer-before-unfreeze"}
    assert topics <= {q.id for q in qs if q.source == "course"}


def test_code_is_real_multiline_python():
    for les in load_course():
        for q in les.questions:
            for code in [q.code] + [v for v in q.options.values() if "\n" in v]:
                if code:
                    compile(code, q.id, "exec")      # indented, not flattened
            if q.code:
                assert "\n" in q.code, q.id


def test_reconstructed_questions_say_so():
    for les in load_course():
        for q in les.questions:
            if q.source in ("002_db1acbc5a5547277.txt", "003_6562de5331080019.txt"):
                assert q.notes and "reconstruct" in q.notes, q.id


def test_lookup_by_number_or_name():
    assert load_lesson("02") is load_lesson("02_freezing_and_counting")
    assert load_lesson(2).name == "02_freezing_and_counting"
    with pytest.raises(UnknownLesson, match="Known lessons: 00_welcome"):
        load_lesson("99")


def test_env_var_moves_the_folder(tmp_path, monkeypatch):
    (tmp_path / "02_freezing_and_counting.yaml").write_text(GOOD)
    monkeypatch.setenv("COURSE_QUIZ_DIR", str(tmp_path))
    assert quiz_dir() == tmp_path and len(lesson_paths()) == 1
    assert load_lesson("02").questions[0].id == "freeze-meaning"


def broken(tmp_path, text, name="02_freezing_and_counting.yaml"):
    folder = tmp_path / "quizzes"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text)
    with pytest.raises(QuizFormatError) as info:
        validate_file(path)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)
    return str(info.value)


def edit(text, old, new):
    assert old in text
    return text.replace(old, new, 1)


def test_good_sample_passes(tmp_path):
    (tmp_path / "quizzes").mkdir()
    path = tmp_path / "quizzes" / "02_freezing_and_counting.yaml"
    path.write_text(GOOD)
    assert validate_file(path)["questions"][0]["answer"] == "A"


def test_answer_not_an_option(tmp_path):
    msg = broken(tmp_path, edit(GOOD, "answer: A", "answer: E"))
    assert msg == (f"{NAME}: question 'freeze-meaning': field 'answer': 'E' is not one of the "
                   "options A, B, C, D")


def test_multi_answer_not_an_option(tmp_path):
    msg = broken(tmp_path, edit(GOOD, "answer: A", "answer: [A, F]"))
    assert msg.endswith("field 'answer': 'F' is not one of the options A, B, C, D")


def test_missing_answer(tmp_path):
    msg = broken(tmp_path, edit(GOOD, "    answer: A\n", ""))
    assert msg == f"{NAME}: question 'freeze-meaning': field 'answer': missing"


def test_unknown_field(tmp_path):
    msg = broken(tmp_path, edit(GOOD, "hint: null", "hnt: null"))
    assert msg.startswith(f"{NAME}: question 'freeze-meaning': field 'hnt': unknown field")


def test_unknown_top_level_field(tmp_path):
    msg = broken(tmp_path, GOOD + "extra: 1\n")
    assert msg.startswith(f"{NAME}: field 'extra': unknown field")


def test_empty_option(tmp_path):
    msg = broken(tmp_path, edit(GOOD, "B: Removing layers", "B: ''"))
    assert msg == f"{NAME}: question 'freeze-meaning': field 'options.B': empty option"
    msg = broken(tmp_path, edit(GOOD, "B: Removing layers", "B: null"))
    assert msg == f"{NAME}: question 'freeze-meaning': field 'options.B': empty option"


def test_duplicate_id_in_file(tmp_path):
    data = yaml.safe_load(GOOD)
    data["questions"].append(dict(data["questions"][0]))
    msg = broken(tmp_path, yaml.safe_dump(data, sort_keys=False))
    assert msg == f"{NAME}: question 'freeze-meaning': field 'id': duplicate id 'freeze-meaning'"


def test_duplicate_id_across_course(tmp_path, monkeypatch):
    folder = tmp_path / "quizzes"
    shutil.copytree(quiz_dir(), folder)
    dup = edit(GOOD, "lesson: 02_freezing_and_counting", "lesson: 07_extra")
    (folder / "07_extra.yaml").write_text(dup)
    monkeypatch.setenv("COURSE_QUIZ_DIR", str(folder))
    with pytest.raises(QuizFormatError) as info:
        load_course()
    assert str(info.value) == ("quizzes/07_extra.yaml: question 'freeze-meaning': field 'id': "
                               "duplicate id, also in quizzes/02_freezing_and_counting.yaml")


def test_lesson_does_not_match_file_name(tmp_path):
    msg = broken(tmp_path, GOOD, name="03_replacing_the_head.yaml")
    assert msg == ("quizzes/03_replacing_the_head.yaml: field 'lesson': "
                   "'02_freezing_and_counting' does not match the file name "
                   "'03_replacing_the_head'")


def test_malformed_yaml(tmp_path):
    msg = broken(tmp_path, edit(GOOD, "prompt: What", "prompt: [What"))
    assert re.match(rf"{re.escape(NAME)}: malformed YAML \(line \d+, column \d+\): ", msg)


def test_bad_difficulty_and_type(tmp_path):
    msg = broken(tmp_path, edit(GOOD, "difficulty: easy", "difficulty: trivial"))
    assert msg == (f"{NAME}: question 'freeze-meaning': field 'difficulty': 'trivial' is not "
                   "one of easy, medium, hard")
    msg = broken(tmp_path, edit(GOOD, "graded: false", "graded: maybe"))
    assert msg == (f"{NAME}: question 'freeze-meaning': field 'graded': expected boolean, "
                   "got a string")


def test_bad_flashcard_level(tmp_path):
    msg = broken(tmp_path, edit(GOOD, "level: beginner", "level: expert"))
    assert msg.startswith(f"{NAME}: flashcard #1: field 'level': 'expert' is not one of")
