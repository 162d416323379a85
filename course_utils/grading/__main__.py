"""``python -m course_utils.grading release|autograde|feedback|validate|scores`` (run at the root)."""
from __future__ import annotations

import argparse
import sys

from . import pipeline
from .validation import validate


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m course_utils.grading",
                                description="The course's nbgrader cycle (docs/instructors.md).")
    p.add_argument("--root", default=".", help="course directory (default: the current one)")
    p.add_argument("-v", "--verbose", action="store_true", help="show nbgrader's whole log")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("release", help="student versions of the lessons into release/")
    r.add_argument("lessons", nargs="*", help="lesson folders (default: all)")
    a = sub.add_parser("autograde", help="grade submitted/STUDENT/LESSON/, grades.csv, feedback")
    a.add_argument("lessons", nargs="*", help="lessons (default: all with submissions)")
    a.add_argument("--no-feedback", action="store_true", help="skip generating feedback")
    f = sub.add_parser("feedback", help="safe feedback HTML into feedback/")
    f.add_argument("lessons", nargs="*", help="lessons (default: all autograded)")
    v = sub.add_parser("validate", help="run notebooks like autograde; exit 1 on failures")
    v.add_argument("paths", nargs="+")
    sub.add_parser("scores", help="print the students x lessons table from the gradebook")
    args = p.parse_args(argv)
    try:
        if args.cmd == "release":
            pipeline.release(args.lessons, args.root, verbose=args.verbose)
        elif args.cmd == "autograde":
            pipeline.autograde(args.lessons, args.root, make_feedback=not args.no_feedback,
                               verbose=args.verbose)
        elif args.cmd == "feedback":
            pipeline.feedback(args.lessons, args.root, verbose=args.verbose)
        elif args.cmd == "validate":
            bad = 0
            for path in args.paths:
                result = validate(path)
                print(result.report())
                bad += not result.ok
            return 1 if bad else 0
        elif args.cmd == "scores":
            print(pipeline.format_table(pipeline.scores(args.root)))
    except pipeline.GradingError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
