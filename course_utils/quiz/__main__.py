"""``python -m course_utils.quiz 02 [--flashcards]`` or ``python -m course_utils.quiz --pattern``.

Everything goes to stdout (errors included); the exit code is 0, or 2 for a bad command line.
"""
from __future__ import annotations

import argparse
import sys

from .pattern import draw_pattern
from .schema import QuizFormatError
from .store import UnknownLesson, load_course, load_lesson
from .terminal import run_flashcards, run_quiz


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stdout)
        print(f"error: {message}")
        raise SystemExit(2)


def main(argv=None) -> int:
    p = _Parser(prog="python -m course_utils.quiz",
                description="Take a lesson's practice quiz (or flashcards) in the terminal.")
    p.add_argument("lesson", nargs="?", help='lesson id, e.g. "02" or "02_freezing_and_counting"')
    p.add_argument("--flashcards", action="store_true", help="review the lesson's flashcards")
    p.add_argument("--pattern", action="store_true",
                   help="10 questions across easy, medium and hard from the whole course")
    p.add_argument("--seed", type=int, default=None, help="seed for --pattern")
    args = p.parse_args(argv)
    if not args.pattern and not args.lesson:
        p.error("give a lesson (e.g. 02) or --pattern")
    try:
        if args.pattern:
            qs = draw_pattern(load_course(), seed=args.seed)
            run_quiz(qs, "Test this pattern", by_difficulty=True)
            return 0
        lesson = load_lesson(args.lesson)
        title = f"Quiz {lesson.number} · {lesson.title}"
        if args.flashcards:
            run_flashcards(lesson.flashcards, f"Flashcards {lesson.number} · {lesson.title}")
        else:
            run_quiz(lesson.practice, f"{title}: practice")
    except (UnknownLesson, QuizFormatError) as exc:
        print(exc)
        return 2
    except KeyboardInterrupt:
        print("\nStopped.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
