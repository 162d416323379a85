"""nbgrader preprocessors the course's ``nbgrader_config.py`` plugs into autograde and feedback.

* :class:`ResilientExecute` — nbgrader's ``Execute``, except that a cell which kills the kernel
  (``os._exit``, out of memory, a segfault) no longer throws the whole notebook away: that cell gets
  a ``KernelDied`` error, every later code cell gets a ``NotRun`` error without being executed,
  and grading goes on. Tests that passed before the crash keep their points.
* :class:`QuietTestCells` — moves stderr output of graded test cells to stdout, so a warning or a
  progress bar during a passing test does not cost its points (nbgrader scores a test cell 0 when
  anything reaches stderr). A test cell fails only by raising.
* :class:`SafeFeedback` — for ``generate_feedback``: removes the hidden-test regions from test
  cells and reduces their error tracebacks to ``ErrorName: message`` (an IPython traceback shows
  the lines of the cell around the failure, hidden ones included).
"""
from __future__ import annotations

from nbclient.exceptions import DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import List, Unicode

KERNEL_DIED = "KernelDied"
NOT_RUN = "NotRun"
KERNEL_DIED_MESSAGE = (
    "this cell stopped the Python kernel during grading (for example os._exit(), or it ran out "
    "of memory). The cells before it were graded; this cell and the ones after it were not run."
)


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


def is_test_cell(cell) -> bool:
    """An autograder test cell: a graded, locked code cell that is not a solution."""
    return (cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell))


class ResilientExecute(Execute):
    """``Execute`` that survives a dead kernel: the crash costs only the cells from it on."""

    def preprocess(self, nb, resources=None, km=None):
        self._dead_at = None
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._dead_at is not None:
            cell.outputs = [_error(NOT_RUN, (
                f"the kernel stopped in cell {self._dead_at + 1} of this notebook during "
                "grading, so this cell was not run."))]
            cell.execution_count = None
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._dead_at = index
            gid = cell.metadata.get("nbgrader", {}).get("grade_id", f"#{index + 1}")
            self.log.warning("Kernel died in cell %d (%s); cells from there on are not run "
                             "and score 0; earlier cells keep their results.", index + 1, gid)
            cell.outputs.append(_error(KERNEL_DIED, KERNEL_DIED_MESSAGE))
            return cell, resources


class QuietTestCells(NbGraderPreprocessor):
    """Send stderr of graded test cells to stdout, so only an error fails a test."""

    def preprocess_cell(self, cell, resources, index):
        if is_test_cell(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    output["name"] = "stdout"
        return cell, resources


class SafeFeedback(NbGraderPreprocessor):
    """Strip hidden tests and their traceback lines from test cells before feedback is written."""

    begin_test_delimeter = Unicode("BEGIN HIDDEN TESTS").tag(config=True)
    # nbgrader's feedback app sets this option for every preprocessor; accept it quietly
    display_data_priority = List([]).tag(config=True)
    end_test_delimeter = Unicode("END HIDDEN TESTS").tag(config=True)

    def strip_hidden(self, source: str) -> str:
        lines, hidden = [], False
        for line in source.split("\n"):
            if self.begin_test_delimeter in line:
                hidden = True
            elif self.end_test_delimeter in line:
                hidden = False
            elif not hidden:
                lines.append(line)
        return "\n".join(lines).rstrip("\n")

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and (is_test_cell(cell) or self.begin_test_delimeter
                                         in cell.source):
            cell.source = self.strip_hidden(cell.source)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    ename, evalue = output.get("ename", "Error"), output.get("evalue", "")
                    output["traceback"] = [f"{ename}: {evalue}" if evalue else ename]
        return cell, resources
