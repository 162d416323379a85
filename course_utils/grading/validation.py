"""``validate(path)``: run a notebook the way autograde does and report the failing tests.

``nbgrader validate`` exits 0 even when tests fail (jupyter/nbgrader#1908); this returns the
failures instead, for tests and CI::

    result = validate("notebooks/02_freezing_and_counting/02_freezing_and_counting.ipynb")
    assert result.ok, result.report()
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .pipeline import QUIET_ENV, ensure_venv_path


def cell_timeout() -> int:
    """Per-cell timeout in seconds: COURSE_CELL_TIMEOUT, else 180 (as nbgrader_config.py)."""
    return int(os.environ.get("COURSE_CELL_TIMEOUT", "180"))


@contextmanager
def _env(values: dict):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass
class Validation:
    """What validating one notebook found. ``ok`` when nothing failed or changed."""

    path: str
    failed: list[dict] = field(default_factory=list)        # {"source", "error"} per test cell
    changed: list[dict] = field(default_factory=list)       # locked test cells edited
    type_changed: list[dict] = field(default_factory=list)  # cells whose type was changed

    @property
    def ok(self) -> bool:
        return not (self.failed or self.changed or self.type_changed)

    def report(self) -> str:
        if self.ok:
            return f"{self.path}: all tests pass"
        lines = [f"{self.path}: {len(self.failed)} failing, {len(self.changed)} changed, "
                 f"{len(self.type_changed)} retyped cell(s)"]
        for f in self.failed:
            first = f["source"].splitlines()[0] if f["source"] else ""
            err = (f.get("error") or "").strip().splitlines()
            lines.append(f"  FAILED {first!r}: {err[-1] if err else ''}")
        for f in self.changed:
            lines.append(f"  CHANGED {f['source'].splitlines()[0]!r}")
        return "\n".join(lines)


def validate(path: str | Path, timeout: int | None = None) -> Validation:
    """Execute ``path`` like autograde (quiet env, crash-resilient) and collect what failed.

    Works on a source notebook (solutions and hidden tests in place) and on a student's copy
    (checksums: an edited locked test cell is reported in ``changed``).
    """
    from nbgrader.preprocessors import ClearOutput
    from nbgrader.validator import Validator
    from traitlets.config import Config

    from .preprocessors import QuietTestCells, ResilientExecute

    ensure_venv_path()
    cfg = Config()
    cfg.Validator.preprocessors = [ClearOutput, ResilientExecute, QuietTestCells]
    cfg.Execute.timeout = timeout or cell_timeout()
    cfg.Execute.interrupt_on_timeout = True
    cfg.Execute.kernel_name = "python3"
    path = Path(path).resolve()
    with _env(QUIET_ENV):
        results = Validator(config=cfg).validate(str(path))
    return Validation(str(path),
                      failed=[{"source": r["source"], "error": r.get("raw_error", "")}
                              for r in results.get("failed", [])],
                      changed=list(results.get("changed", [])),
                      type_changed=list(results.get("type_changed", [])))
