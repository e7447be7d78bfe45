"""A lecture's study devices: the warm-up a chapter opens with and the quiz it ends with.

A warm-up asks two or three questions before the chapter starts, to wake up what the reader
already knows; its answers stay collapsed. A quiz asks four to six questions after the summary and
checks itself. Both are lists of `Question`s that a chapter's exercise module defines (`WARM_UP`,
`QUIZ` next to `EXERCISES`), so no answer sits in a chapter's cells, and `Workbook.warm_up()` /
`Workbook.quiz()` show them.

A question is either a *choice* (options "a", "b", ...; one is right) or *open* (the answer is a
number or a sentence to compare with your own). Shown in a notebook or the book, a choice question
has one radio button per option, and a small script says at once whether the pick is right and why
(it needs no kernel, so it works in the static book, in Colab and in JupyterLab). Under each question
the answer is also collapsed behind "Answer", so a viewer that runs no script still has it. In a
terminal, `Workbook.quiz({1: "b", 2: "a"})` prints the same verdicts.

Question text takes the inline Markdown a prompt needs: `code`, **bold** and *emphasis*.

Left out: scores kept across sessions, free-text answers checked by the machine (an open question's
answer is for the reader to compare), and shuffling (the options' order is part of the question).
"""

from __future__ import annotations

import html
import itertools
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources

__all__ = ["Question", "choice", "open_question", "render_html", "render_text", "verdicts"]

_ids = itertools.count()


@dataclass(frozen=True)
class Question:
    """One question. `options` maps "a", "b", ... to option texts for a choice, and is empty for an
    open question; `answer` is the right option's key, or the open question's answer; `why` says why."""

    prompt: str
    answer: str
    why: str = ""
    options: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        if not self.prompt.strip():
            raise ValueError("Question: the prompt is empty")
        if not self.answer.strip():
            raise ValueError(f"Question {self.prompt[:40]!r}: the answer is empty")
        if self.options:
            keys = list(self.options)
            expected = [chr(ord("a") + i) for i in range(len(keys))]
            if keys != expected or len(keys) < 2:
                raise ValueError(f"Question {self.prompt[:40]!r}: options {keys}; expected at least two, "
                                 f"keyed {expected[:max(2, len(keys))]} in order")
            if self.answer not in self.options:
                raise ValueError(f"Question {self.prompt[:40]!r}: answer={self.answer!r} is not one of {keys}")

    @property
    def is_choice(self) -> bool:
        return bool(self.options)

    def judge(self, pick) -> bool | None:
        """True if `pick` is the right option, False if it is another option, None if unanswered.
        Raises ValueError for a pick that is not an option."""
        if not self.is_choice:
            raise ValueError(f"Question {self.prompt[:40]!r} is open: compare your answer with its answer")
        if pick is None or pick is Ellipsis:
            return None
        key = pick.strip().lower() if isinstance(pick, str) else pick
        if key not in self.options:
            raise ValueError(f"answer {pick!r}; expected one of {', '.join(map(repr, self.options))}")
        return key == self.answer


def choice(prompt: str, options: Sequence[str], answer: str, why: str) -> Question:
    """A choice question: `options` in order become "a", "b", ...; `answer` is the right key."""
    keys = [chr(ord("a") + i) for i in range(len(options))]
    return Question(prompt, answer, why, dict(zip(keys, options)))


def open_question(prompt: str, answer: str, why: str = "") -> Question:
    """A question whose answer (a number, a sentence) the reader compares with their own."""
    return Question(prompt, answer, why)


# --------------------------------------------------------------------------------------------
# Rendering


def _inline(text: str) -> str:
    """Escaped HTML with the inline Markdown questions use: `code`, **bold**, *emphasis*."""
    parts = re.split(r"(`[^`]+`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
            continue
        s = html.escape(part)
        s = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", s)
        s = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", s)
        out.append(s)
    return "".join(out)


def _plain(text: str) -> str:
    """The text without its Markdown marks, for attributes and the terminal."""
    return re.sub(r"\*\*(.+?)\*\*|(?<![\w*])\*(.+?)\*(?![\w*])", lambda m: m.group(1) or m.group(2), text)


# A light plate with its own colours, so the questions read the same in the book's light and dark
# modes, in JupyterLab and in Colab (which share no stylesheet); the verdict colours are the charts'.
_STYLE = """<style>
.lmcourse-quiz { background:#f6f8fa; color:#1f2328; border:1px solid #d0d7de; border-radius:6px;
  padding:0.6em 0.9em; margin:0.5em 0; max-width:100%; box-sizing:border-box; overflow-wrap:anywhere; }
.lmcourse-quiz .lmcourse-quiz-title { font-weight:600; margin:0.2em 0 0.4em; }
.lmcourse-quiz fieldset { border:0; border-top:1px solid #d0d7de; margin:0; padding:0.5em 0; min-width:0; }
.lmcourse-quiz legend { padding:0; float:left; width:100%; margin-bottom:0.3em; }
.lmcourse-quiz legend + * { clear:left; }
.lmcourse-quiz label { display:block; margin:0.15em 0 0.15em 0.4em; cursor:pointer; }
.lmcourse-quiz input[type=radio] { margin-right:0.4em; }
.lmcourse-quiz code { background:#e8ebef; color:#1f2328; padding:0 0.2em; border-radius:3px; }
.lmcourse-quiz .lmcourse-quiz-feedback:empty { display:none; }
.lmcourse-quiz .lmcourse-quiz-feedback { margin:0.3em 0 0.2em 0.4em; }
.lmcourse-quiz .lmcourse-quiz-feedback.right { color:#2a7d2a; }
.lmcourse-quiz .lmcourse-quiz-feedback.wrong { color:#c0392b; }
.lmcourse-quiz details { margin:0.3em 0 0 0.4em; }
.lmcourse-quiz summary { cursor:pointer; color:#30609a; }
.lmcourse-quiz .lmcourse-quiz-score:empty { display:none; }
</style>"""


def _script() -> str:
    return resources.files("lmcourse.exercises").joinpath("quiz.js").read_text(encoding="utf-8")


def _answer_text(q: Question) -> str:
    if q.is_choice:
        return f"({q.answer}) {q.options[q.answer]}" + (f". {q.why}" if q.why else "")
    return q.answer + (f" {q.why}" if q.why else "")


def render_html(title: str, questions: Sequence[Question], *, kind: str) -> str:
    """The questions as HTML: radio buttons that check themselves for choices, every answer also
    collapsed under its question. `kind` ("warm-up" or "quiz") is a class the book's tests find."""
    uid = next(_ids)
    blocks = []
    for n, q in enumerate(questions, 1):
        legend = f"<legend><strong>{n}.</strong> {_inline(q.prompt)}</legend>"
        if q.is_choice:
            radios = "".join(
                f"<label><input type='radio' name='lmcourse-q{uid}-{n}' value='{key}'>"
                f"({key}) {_inline(text)}</label>" for key, text in q.options.items())
            data = (f" data-answer='{q.answer}' data-why='{html.escape(_plain(q.why), quote=True)}'")
            body = radios + "<p class='lmcourse-quiz-feedback' aria-live='polite'></p>"
        else:
            data, body = "", ""
        reveal = f"<details><summary>Answer</summary><p>{_inline(_answer_text(q))}</p></details>"
        blocks.append(f"<fieldset{data}>{legend}{body}{reveal}</fieldset>")
    has_choice = any(q.is_choice for q in questions)
    score = "<p class='lmcourse-quiz-score' aria-live='polite'></p>" if has_choice else ""
    script = f"<script>{_script()}</script>" if has_choice else ""
    return (f"{_STYLE}<div class='lmcourse-quiz lmcourse-{kind}'>"
            f"<p class='lmcourse-quiz-title'>{html.escape(title)}</p>{''.join(blocks)}{score}</div>{script}")


def render_text(title: str, questions: Sequence[Question]) -> str:
    """The questions as plain text, answers left out (what a terminal shows)."""
    lines = [title]
    for n, q in enumerate(questions, 1):
        lines += textwrap.wrap(f"{n}. {_plain(q.prompt)}", 76, subsequent_indent="   ")
        for key, text in q.options.items():
            lines += textwrap.wrap(f"({key}) {_plain(text)}", 76, initial_indent="   ", subsequent_indent="       ")
    return "\n".join(lines)


def verdicts(questions: Sequence[Question], answers: Mapping) -> tuple[list[str], int]:
    """One line per choice question for `answers` (question number -> option key), and how many
    are right. A wrong pick is named, not corrected: the quiz is for trying again."""
    if not isinstance(answers, Mapping):
        raise TypeError(f"quiz answers: expected a dict of question number -> option, got {type(answers).__name__}")
    numbers = {n for n, q in enumerate(questions, 1) if q.is_choice}
    unknown = sorted(set(map(_number, answers)) - numbers, key=str)
    if unknown:
        raise ValueError(f"quiz answers for {unknown}; the quiz's choice questions are {sorted(numbers)}")
    given = {_number(k): v for k, v in answers.items()}
    lines, right = [], 0
    for n, q in enumerate(questions, 1):
        if not q.is_choice:
            continue
        ok = q.judge(given.get(n))
        if ok is None:
            lines.append(f"… {n}. not answered yet")
        elif ok:
            right += 1
            lines.append(f"✓ {n}. ({q.answer}) is right. {_plain(q.why)}".rstrip())
        else:
            lines.append(f"✗ {n}. not ({given[n].strip().lower()}); try another option")
    return lines, right


def _number(key) -> int | str:
    try:
        return int(key)
    except (TypeError, ValueError):
        return key
