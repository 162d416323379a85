"""The ipywidgets quiz: question boxes with a Check button, feedback and a running score.

CSS classes (for browser tests): ``course-quiz`` (whole quiz), ``course-quiz-question``,
``course-quiz-check``, ``course-quiz-feedback``, ``course-quiz-score``,
``course-quiz-difficulty`` (test pattern only), ``course-flashcard-reveal``.

Example::

    view = build_quiz(load_lesson("02").practice, "Quiz 02")
    view.questions[0].select("B"); view.questions[0].button.click()
    view.score.value            # 'Score: 0 / 8' (or 1 / 8 when B was right)
"""
from __future__ import annotations

import html as _html

import ipywidgets as W

from .html import inline, needs_option_block, question_html
from .text import difficulty_score


class QuestionView:
    """One question: prompt, selector, Check button, feedback."""

    def __init__(self, q, number: int, on_check):
        self.q, self.correct, self._on_check = q, None, on_check
        block = needs_option_block(q)
        labels = [(k if block else f"{k}. {v.replace('`', '')}", k) for k, v in q.options.items()]
        if q.multi:
            self._boxes = [W.Checkbox(value=False, description=lab, indent=False)
                           for lab, _ in labels]
            self.selector = W.VBox(self._boxes)
        else:
            self.selector = W.RadioButtons(options=labels, value=None,
                                           layout=W.Layout(width="auto"))
        self.button = W.Button(description="Check", button_style="primary")
        self.button.add_class("course-quiz-check")
        self.button.on_click(lambda _b: self.check())
        self.feedback = W.HTML("")
        self.feedback.add_class("course-quiz-feedback")
        self.box = W.VBox([W.HTML(question_html(q, number, with_options=block)),
                           self.selector, self.button, self.feedback])
        self.box.add_class("course-quiz-question")

    def selected(self) -> tuple:
        """The letters chosen now, sorted."""
        if self.q.multi:
            return tuple(k for k, b in zip(self.q.options, self._boxes) if b.value)
        return (self.selector.value,) if self.selector.value else ()

    def select(self, *letters: str) -> None:
        """Choose an answer programmatically (tests, demos)."""
        if self.q.multi:
            for k, b in zip(self.q.options, self._boxes):
                b.value = k in letters
        else:
            self.selector.value = letters[0]

    def check(self) -> None:
        """Mark the current choice and show the explanation."""
        chosen = self.selected()
        if not chosen:
            self.feedback.value = "<p>Choose an answer first.</p>"
            return
        self.correct = chosen == self.q.answer
        key = ", ".join(self.q.answer)
        verdict = ("<b style='color:#1a7f37'>Correct</b>" if self.correct else
                   f"<b style='color:#cf222e'>Not quite</b>: the answer is {key}.")
        parts = [f"<p>{verdict}</p>", f"<p>{inline(self.q.explanation)}</p>"]
        if self.q.common_mistakes:
            items = "".join(f"<li>{_html.escape(m)}</li>" for m in self.q.common_mistakes)
            parts.append(f"<p>Common mistakes:</p><ul>{items}</ul>")
        # ipywidgets' HTML inherits the inline widget height as line-height: reset it
        self.feedback.value = "<div style='line-height:1.5'>" + "".join(parts) + "</div>"
        self._on_check()


class QuizView:
    """A list of :class:`QuestionView` with a score label (and per-difficulty score)."""

    def __init__(self, questions, title: str, by_difficulty: bool = False):
        self.questions = [QuestionView(q, i, self._update) for i, q in enumerate(questions, 1)]
        self.score = W.Label()
        self.score.add_class("course-quiz-score")
        children = [W.HTML(f"<h4>{_html.escape(title)}</h4>")]
        children += [v.box for v in self.questions] + [self.score]
        self.by_difficulty = W.Label() if by_difficulty else None
        if self.by_difficulty is not None:
            self.by_difficulty.add_class("course-quiz-difficulty")
            children.append(self.by_difficulty)
        self.box = W.VBox(children)
        self.box.add_class("course-quiz")
        self._update()

    def _update(self) -> None:
        right = sum(bool(v.correct) for v in self.questions)
        self.score.value = f"Score: {right} / {len(self.questions)}"
        if self.by_difficulty is not None:
            pairs = [(v.q, v.correct) for v in self.questions]
            self.by_difficulty.value = f"By difficulty: {difficulty_score(pairs)}"


class FlashcardView:
    """Cards showing their front; Reveal shows the back."""

    def __init__(self, cards, title: str):
        self.cards = []
        children = [W.HTML(f"<h4>{_html.escape(title)}</h4>")]
        for card in cards:
            back = W.HTML("")
            button = W.Button(description="Reveal")
            button.add_class("course-flashcard-reveal")
            button.on_click(lambda _b, back=back, card=card: setattr(
                back, "value", f"<p>{inline(card.back)}</p>"))
            box = W.VBox([W.HTML(f"<p><small>[{card.level}]</small> <b>{inline(card.front)}"
                                 "</b></p>"), button, back])
            box.add_class("course-flashcard")
            self.cards.append((button, back))
            children.append(box)
        self.box = W.VBox(children)
        self.box.add_class("course-flashcards")


def build_quiz(questions, title: str, by_difficulty: bool = False) -> QuizView:
    """The widget tree for a list of questions."""
    return QuizView(questions, title, by_difficulty)


def build_flashcards(cards, title: str) -> FlashcardView:
    """The widget tree for a lesson's flashcards."""
    return FlashcardView(cards, title)
