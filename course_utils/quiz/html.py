"""HTML pieces shared by the widgets and the graded view: prompt, highlighted code, options.

Example::

    code_html("for p in model.parameters():\n    p.requires_grad = False")
"""
from __future__ import annotations

import html as _html
import re

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

_FORMATTER = HtmlFormatter(noclasses=True, nobackground=False, style="default")


def inline(text: str) -> str:
    """Escape prose and turn `backticks` into <code>; blank lines become paragraph breaks."""
    parts = re.split(r"`([^`]+)`", _html.escape(str(text).strip()))
    out = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    return out.replace("\n\n", "<br><br>")


def code_html(code: str) -> str:
    """Syntax-highlighted Python, inline styles only (deterministic, no stylesheet needed)."""
    return highlight(code, PythonLexer(), _FORMATTER)


def option_html(letter: str, text: str) -> str:
    if "\n" in text:
        return f"<div><b>{letter}.</b>{code_html(text)}</div>"
    return f"<div><b>{letter}.</b> {inline(text)}</div>"


def question_html(q, number: int, with_options: bool) -> str:
    """Prompt (+ code) and, when asked, the options listed as HTML."""
    pick = " <i>(select all that apply)</i>" if q.multi else ""
    out = [f"<p><b>{number}.</b> <small>[{q.difficulty}]</small> {inline(q.prompt)}{pick}</p>"]
    if q.code:
        out.append(code_html(q.code))
    if with_options:
        out += [option_html(k, v) for k, v in q.options.items()]
    return "".join(out)


def needs_option_block(q) -> bool:
    """Multi-line (code) options are listed as HTML; the selector then shows letters only."""
    return any("\n" in v for v in q.options.values())


def graded_html(lesson) -> str:
    """The graded questions (with ids), no answers."""
    qs = lesson.graded
    out = [f"<h4>Quiz {lesson.number} · {_html.escape(lesson.title)}: graded</h4>",
           "<p>Record each answer with <code>quiz.answer(question_id, letter)</code>.</p>"]
    for i, q in enumerate(qs, 1):
        out.append(question_html(q, i, with_options=True) + f"<p><small>id: <code>{q.id}</code>"
                   "</small></p>")
    return "".join(out)
