"""The exercise object: one checker serves the student's ``check()`` and nbgrader's ``grade()``.

A checker is a plain function that receives the student's objects and raises :class:`Wrong` with
a short message (what is wrong, where to look) or returns an optional success note::

    def check_frozen(model):
        if model.fc.weight.requires_grad is False:
            raise Wrong("The new head is frozen: unfreeze `model.fc` after freezing everything.")

    q1 = Exercise("q1", "Freeze all but the head", check_frozen, variables=["model"],
                  hints=["Loop over model.parameters() first."], solution="for p in ...")

``q1.check()`` looks the named variables up in the notebook (so an undefined name reads as
"not attempted yet", not a NameError), prints a friendly verdict and returns True or False.
``q1.grade()`` runs the same checker and raises ``AssertionError`` with the same message, for
nbgrader's test cells. Neither writes to stderr, and warnings raised while checking are silenced,
because nbgrader scores a test cell 0 when anything reaches stderr.
"""
from __future__ import annotations

import html
import re
import inspect
import sys
import warnings
from typing import Any, Callable, Sequence

_MISSING = object()


class Wrong(Exception):
    """Raised by a checker: the answer is wrong; the message says why and where to look."""


class NotAttempted(Wrong):
    """Raised when the answer is still missing (undefined, ``None`` or ``...``)."""


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython

        shell = get_ipython()
        return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"
    except Exception:  # pragma: no cover - IPython missing
        return False


def _show(kind: str, text: str, code: str | None = None) -> None:
    """Print a verdict: coloured HTML in Jupyter, plain text elsewhere (always on stdout)."""
    colours = {"correct": "#1a7f37", "wrong": "#cf222e", "todo": "#9a6700", "hint": "#0969da",
               "solution": "#6639ba"}
    labels = {"correct": "Correct", "wrong": "Not yet", "todo": "Not attempted yet",
              "hint": "Hint", "solution": "Solution"}
    plain = f"{labels[kind]}: {text}" if text else labels[kind]
    if code:
        plain += "\n" + code
    if _in_notebook():
        from IPython.display import display

        body = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))
        block = f"<pre style='margin:4px 0'>{html.escape(code)}</pre>" if code else ""
        page = (
            f"<div class='course-verdict course-{kind}' style='border-left:4px solid "
            f"{colours[kind]};padding:4px 10px;margin:4px 0'>"
            f"<b style='color:{colours[kind]}'>{labels[kind]}</b> {body}{block}</div>"
        )
        # text/plain is what nbconvert, nbval and a terminal show
        display({"text/html": page, "text/plain": plain}, raw=True)
    else:
        print(plain, file=sys.stdout)


class Exercise:
    """One checked problem: ``check()``, ``grade()``, ``hint()``, ``solution()``."""

    def __init__(
        self,
        name: str,
        title: str,
        checker: Callable[..., str | None],
        variables: Sequence[str] = (),
        hints: Sequence[str] = (),
        solution: str = "",
    ) -> None:
        self.name = name
        self.title = title
        self.checker = checker
        self.variables = list(variables)
        self.hints = list(hints)
        self._solution = solution.strip("\n")
        self._hints_shown = 0

    def __repr__(self) -> str:
        return f"<Exercise {self.name}: {self.title}>"

    # ---- finding the answer -------------------------------------------------------------------
    def _answers(self, args: tuple, kwargs: dict) -> list[Any]:
        if args or kwargs:
            if kwargs:
                return [kwargs.get(v, args[i] if i < len(args) else _MISSING)
                        for i, v in enumerate(self.variables)] or list(args)
            return list(args)
        namespace = self._caller_namespace()
        return [namespace.get(v, _MISSING) for v in self.variables]

    @staticmethod
    def _caller_namespace() -> dict:
        main = sys.modules.get("__main__")
        ns = dict(vars(main)) if main is not None else {}
        frame = inspect.currentframe()
        try:  # the first frame outside this module: the notebook cell or the test
            while frame is not None and frame.f_globals.get("__name__") == __name__:
                frame = frame.f_back
            if frame is not None:
                ns.update(frame.f_globals)
                ns.update(frame.f_locals)
        finally:
            del frame
        return ns

    def _run(self, args: tuple, kwargs: dict) -> tuple[str, str]:
        """Run the checker; return (kind, message) with kind in correct / wrong / todo."""
        answers = self._answers(args, kwargs)
        for name, value in zip(self.variables, answers):
            if value is _MISSING:
                return "todo", f"define `{name}` in the cell above, then run this check again."
            if value is None or value is Ellipsis:
                return "todo", f"`{name}` is still {value!r}: replace it with your answer."
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                note = self.checker(*answers)
            except NotAttempted as e:
                return "todo", str(e)
            except Wrong as e:
                return "wrong", str(e)
            except Exception as e:  # a student's object the checker could not handle
                return "wrong", (
                    f"your answer could not be checked ({type(e).__name__}: {e}). "
                    "Check that it is the kind of object the exercise asks for."
                )
        return "correct", note or "well done."

    # ---- the student's side -------------------------------------------------------------------
    def verdict(self, *args: Any, **kwargs: Any) -> tuple[str, str]:
        """``(kind, message)`` without printing: kind is correct, wrong or todo (for tests)."""
        return self._run(args, kwargs)

    def check(self, *args: Any, **kwargs: Any) -> bool:
        """Say whether the answer is right; on a wrong one, say what is wrong. Returns a bool."""
        kind, message = self._run(args, kwargs)
        _show(kind, message)
        return kind == "correct"

    def grade(self, *args: Any, **kwargs: Any) -> None:
        """The same check for nbgrader: raises ``AssertionError`` with the same message."""
        kind, message = self._run(args, kwargs)
        if kind != "correct":
            label = "Not attempted yet" if kind == "todo" else "Not yet"
            raise AssertionError(f"{self.name} ({self.title}): {label}: {message}")
        print(f"{self.name}: correct")

    def hint(self, n: int | None = None) -> None:
        """Show the next hint (or hint ``n``, counting from 1)."""
        if not self.hints:
            _show("hint", "there is no hint for this one: reread the markdown above.")
            return
        if n is None:
            n = min(self._hints_shown + 1, len(self.hints))
        n = max(1, min(int(n), len(self.hints)))
        self._hints_shown = max(self._hints_shown, n)
        more = f" (hint {n} of {len(self.hints)})" if len(self.hints) > 1 else ""
        _show("hint", self.hints[n - 1] + more)

    def solution(self) -> None:
        """Show one correct solution (any other correct way passes the check too)."""
        _show("solution", "one way to do it (others pass too):", code=self._solution)
