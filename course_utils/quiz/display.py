"""Decide "widgets or text" and show either, always on stdout, never blocking.

In a Jupyter kernel a widget is displayed with a ``text/plain`` fallback that is the quiz's
readable text (what nbconvert/nbval store and compare); anywhere else the text is printed.

Example::

    show_widget(view.box, practice_text(lesson))
"""
from __future__ import annotations


def in_kernel() -> bool:
    """True inside a Jupyter (ZMQ) kernel, where a front end may render widgets."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def show_widget(widget, text: str) -> None:
    """Display ``widget`` with ``text`` as its plain-text fallback."""
    from IPython.display import display

    bundle = {
        "text/plain": text,
        "application/vnd.jupyter.widget-view+json": {
            "version_major": 2, "version_minor": 0, "model_id": widget.model_id},
    }
    display(bundle, raw=True)


def show_text(text: str, html: str | None = None) -> None:
    """Show text (with an HTML version in a kernel, if given)."""
    if in_kernel():
        from IPython.display import display

        bundle = {"text/plain": text}
        if html:
            bundle["text/html"] = html
        display(bundle, raw=True)
    else:
        print(text, end="" if text.endswith("\n") else "\n")
