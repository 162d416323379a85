"""Build lesson notebooks with nbgrader metadata, from a short Python script.

A lesson's author writes cells in order and saves::

    from tools.nb import Notebook
    nb = Notebook()
    nb.md("# Freezing and counting", "Learning goals: ...")
    nb.code("import torch")
    nb.solution("ex-freeze", '''
    ### BEGIN SOLUTION
    for p in model.parameters():
        p.requires_grad = False
    ### END SOLUTION
    ''')
    nb.tests("ex-freeze-test", points=2, source='''
    ex.q1.grade()
    ### BEGIN HIDDEN TESTS
    assert sum(p.requires_grad for p in model.parameters()) == 2
    ### END HIDDEN TESTS
    ''')
    nb.manual("explain-steps", points=5, prompt="...")   # a manually graded markdown answer
    nb.save("notebooks/02_freezing_and_counting/02_freezing_and_counting.ipynb")

Markdown and plain code cells are locked (read-only) for nbgrader; solution cells are not;
test cells are locked and carry points. Then run ``python tools/refresh_outputs.py NB`` to store
the outputs nbval checks (cells marked ``# NBVAL_CHECK_OUTPUT``) and strip all others.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat

KERNEL = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def _src(*parts: str) -> str:
    return "\n\n".join(textwrap.dedent(p).strip("\n") for p in parts).strip("\n")


def _meta(grade_id: str | None, *, grade: bool, solution: bool, locked: bool,
          points: float | None = None, task: bool = False) -> dict:
    m = {"schema_version": 3, "grade": grade, "solution": solution, "locked": locked,
         "task": task}
    if grade_id:
        m["grade_id"] = grade_id
    if points is not None:
        m["points"] = points
    return {"nbgrader": m}


class Notebook:
    """An ordered list of cells; ids are generated from a counter so they are stable."""

    def __init__(self) -> None:
        self.nb = nbformat.v4.new_notebook()
        self.nb.metadata["kernelspec"] = KERNEL
        self.nb.metadata["language_info"] = {"name": "python"}
        self._n = 0

    def _add(self, cell, grade_id: str | None):
        self._n += 1
        cell["id"] = grade_id or f"cell-{self._n:03d}"
        self.nb.cells.append(cell)
        return cell

    def md(self, *parts: str, grade_id: str | None = None):
        """A locked markdown cell."""
        gid = grade_id or f"md-{self._n + 1:03d}"
        return self._add(nbformat.v4.new_markdown_cell(
            _src(*parts), metadata=_meta(gid, grade=False, solution=False, locked=True)), gid)

    def code(self, *parts: str, grade_id: str | None = None, locked: bool = True):
        """A plain code cell (locked by default so students see the lesson as written)."""
        gid = grade_id or f"code-{self._n + 1:03d}"
        meta = _meta(gid, grade=False, solution=False, locked=locked)
        return self._add(nbformat.v4.new_code_cell(_src(*parts), metadata=meta), gid)

    def solution(self, grade_id: str, source: str):
        """A cell the student writes: ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` inside."""
        meta = _meta(grade_id, grade=False, solution=True, locked=False)
        return self._add(nbformat.v4.new_code_cell(_src(source), metadata=meta), grade_id)

    def tests(self, grade_id: str, points: float, source: str):
        """A locked autograder test cell worth ``points``."""
        meta = _meta(grade_id, grade=True, solution=False, locked=True, points=points)
        return self._add(nbformat.v4.new_code_cell(_src(source), metadata=meta), grade_id)

    def manual(self, grade_id: str, points: float, prompt: str, answer: str):
        """A manually graded markdown answer: the prompt (locked) then the answer cell."""
        self.md(prompt)
        meta = _meta(grade_id, grade=True, solution=True, locked=False, points=points)
        return self._add(nbformat.v4.new_markdown_cell(_src(answer), metadata=meta), grade_id)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.validate(self.nb)
        nbformat.write(self.nb, str(path))
        return path
