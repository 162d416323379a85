"""nbgrader configuration of the course (read from the directory nbgrader runs in).

Every lesson folder ``notebooks/NN_name/`` is an assignment. Use the course's commands
(``make release``, ``make autograde``, ``make feedback``: see docs/instructors.md); they run
nbgrader with this file and the quiet grading environment.
"""
import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, GetGrades,
                                    IgnorePattern, LimitOutput, SaveAutoGrades)

from course_utils.grading.preprocessors import QuietTestCells, ResilientExecute, SafeFeedback

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

_here = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else os.getcwd()

c.CourseDirectory.root = _here
c.CourseDirectory.course_id = "finetuning-pytorch"
c.CourseDirectory.source_directory = "notebooks"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"

# A real training cell takes up to ~60 s on a 2-core CPU; a runaway cell is interrupted after
# COURSE_CELL_TIMEOUT seconds (default 180), gets a CellTimeoutError and grading goes on.
c.Execute.timeout = int(os.environ.get("COURSE_CELL_TIMEOUT", "180"))
c.Execute.interrupt_on_timeout = True
c.Execute.startup_timeout = 120
c.Execute.kernel_name = "python3"  # the venv's kernel: jupyter_client runs it with this Python

# Autograde: a dead kernel costs only the cells from the crash on (ResilientExecute), and a
# test cell fails only by raising, never by writing to stderr (QuietTestCells).
c.Autograde.autograde_preprocessors = [
    ResilientExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    QuietTestCells,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]

# Feedback never shows hidden tests (jupyter/nbgrader#917, #1363): SafeFeedback strips them.
c.GenerateFeedback.preprocessors = [GetGrades, SafeFeedback, CSSHTMLHeaderPreprocessor]
