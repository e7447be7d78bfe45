"""The mechanism behind every exercise of the book: define an exercise once, check a reader's answer,
say plainly what happened, and keep the reference solution out of sight.

An exercise is one of three kinds, each a small constructor:

- `function_exercise`: the reader writes a function. The check calls it on cases and compares each
  result with the reference's (or runs a custom `check`). A function that still raises
  `NotImplementedError` is *not attempted*.
- `value_exercise`: the reader predicts or computes a value (`my_x = ...`). `...` or `None` is *not
  attempted*; anything else is compared with the reference value, which may depend on what the
  chapter computed (passed as keyword arguments, the *context*).
- `choice_exercise`: the reader answers a question by choosing an option ("a", "b", ...). This is
  also the self-check for "explain in words" exercises: the words stay the reader's, the choice
  checks the idea.

`Workbook(chapter)` is what a chapter holds: `check(name, answer, **context)` prints one verdict
(passed / not attempted yet, the reference ran / failed, with what was expected and what came back)
and returns what the chapter goes on with (the reader's answer when it passed, the reference's
otherwise); `report()` is the report card; `solutions()` shows every reference collapsed
(`<details>`), so no solution sits under its exercise in a notebook, in Colab or in the book.

Left out: grading across sessions, hints and timers. Every check is a pure function of the answer
(and context), so `tests/test_exercises.py` runs each with a known-wrong answer and the reference.
"""

from __future__ import annotations

import html
import importlib
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lmcourse.exercises import study
from lmcourse.exercises.compare import Mismatch, _kind, _short, expect  # the comparison every kind uses

__all__ = [
    "PASSED", "FAILED", "NOT_ATTEMPTED", "NOT_RUN", "Mismatch", "Exercise", "Outcome", "Workbook",
    "expect", "function_exercise", "value_exercise", "choice_exercise",
]

PASSED, FAILED, NOT_ATTEMPTED, NOT_RUN = "passed", "failed", "not attempted", "not run"
VERDICT_WIDTH = 76  # the book's code column and a phone in landscape show this many characters
_MARK = {PASSED: "✓", FAILED: "✗", NOT_ATTEMPTED: "…", NOT_RUN: "·"}


class _NotAttempted(Exception):
    pass


def _is_blank(answer: Any) -> bool:
    return answer is None or answer is Ellipsis


def _call_text(name: str, args: tuple) -> str:
    return f"{name}({', '.join(_short(a, 40) for a in args)})"


# --------------------------------------------------------------------------------------------
# Exercises


@dataclass(frozen=True)
class Outcome:
    """What one check found: `status` (PASSED/FAILED/NOT_ATTEMPTED), `detail` (why, for FAILED)
    and `value` (what the chapter goes on with)."""

    status: str
    detail: str
    value: Any


@dataclass(frozen=True)
class Exercise:
    """One exercise. Build it with `function_exercise`, `value_exercise` or `choice_exercise`."""

    name: str
    title: str
    kind: str
    reference: Any  # the reference function, the reference value (or a function of the context), the right option
    judge: Callable[..., None]  # judge(answer, **context) raises Mismatch, _NotAttempted or anything the answer raised
    options: Mapping[str, str] = field(default_factory=dict)
    explanation: str = ""

    def reference_value(self, **context) -> Any:
        """What the chapter goes on with when the reader's answer did not pass."""
        if self.kind == "function":
            return self.reference
        if self.kind == "value" and callable(self.reference):
            return self.reference(**context)
        return self.reference

    def evaluate(self, answer: Any, **context) -> Outcome:
        """Check `answer`; never raises for a wrong or unfinished answer."""
        try:
            self.judge(answer, **context)
        except _NotAttempted:
            return Outcome(NOT_ATTEMPTED, "", self.reference_value(**context))
        except NotImplementedError:
            return Outcome(NOT_ATTEMPTED, "", self.reference_value(**context))
        except Mismatch as err:
            return Outcome(FAILED, str(err), self.reference_value(**context))
        except Exception as err:  # the reader's code raised: report it, keep the chapter going
            return Outcome(FAILED, f"your code raised {type(err).__name__}: {err}", self.reference_value(**context))
        return Outcome(PASSED, "", answer)


def function_exercise(
    name: str,
    title: str,
    reference: Callable,
    cases: Iterable[tuple] | Callable[..., Iterable[tuple]] | None = None,
    *,
    check: Callable[..., None] | None = None,
    rel_tol: float = 1e-6,
    abs_tol: float = 1e-9,
    explanation: str = "",
) -> Exercise:
    """The reader writes a function like `reference`.

    Either `cases` (tuples of positional arguments, or a function of the chapter's context returning
    them) is called on the answer and on `reference` and the results compared with `expect`, or
    `check(answer, **context)` raises `Mismatch` itself (keyword arguments, properties, several calls).
    """
    if (cases is None) == (check is None):
        raise ValueError(f"function_exercise {name!r}: give exactly one of cases= and check=")

    def judge(answer, **context):
        if not callable(answer):
            if _is_blank(answer):
                raise _NotAttempted
            raise Mismatch(f"expected a function, got a {_kind(answer)}: {_short(answer)}")
        if check is not None:
            check(answer, **context)
            return
        for case in cases(**context) if callable(cases) else cases:
            args = tuple(case)
            expect(answer(*args), reference(*args), _call_text(f"my_{name}", args), rel_tol=rel_tol, abs_tol=abs_tol)

    return Exercise(name, title, "function", reference, judge, explanation=explanation)


def value_exercise(
    name: str,
    title: str,
    reference: Any,
    *,
    rel_tol: float = 1e-6,
    abs_tol: float = 1e-9,
    compare: Callable[[Any, Any], None] | None = None,
    check: Callable[..., None] | None = None,
    explanation: str = "",
) -> Exercise:
    """The reader gives a value (`my_<name> = ...`). `reference` is the value, or a function of the
    chapter's context that computes it; `compare(got, want)` replaces `expect` when given, and
    `check(answer, **context)` replaces both where many answers are right (it raises `Mismatch`)."""

    def judge(answer, **context):
        if _is_blank(answer):
            raise _NotAttempted
        if check is not None:
            check(answer, **context)
            return
        want = reference(**context) if callable(reference) else reference
        if compare is not None:
            compare(answer, want)
        else:
            expect(answer, want, f"my_{name}", rel_tol=rel_tol, abs_tol=abs_tol)

    return Exercise(name, title, "value", reference, judge, explanation=explanation)


def choice_exercise(name: str, title: str, options: Mapping[str, str], answer: str, explanation: str) -> Exercise:
    """The reader picks one of `options` (keys such as "a", "b"); `explanation` says why `answer`."""
    if answer not in options:
        raise ValueError(f"choice_exercise {name!r}: answer={answer!r} is not one of {sorted(options)}")

    def judge(given, **context):
        if _is_blank(given):
            raise _NotAttempted
        key = given.strip().lower() if isinstance(given, str) else given
        if key not in options:
            raise Mismatch(f"expected one of {', '.join(map(repr, options))}; got {_short(given)}")
        if key != answer:
            raise Mismatch(f"you chose {key!r} ({options[key]}); that is not it")

    return Exercise(name, title, "choice", answer, judge, options=dict(options), explanation=explanation)


# --------------------------------------------------------------------------------------------
# A chapter's workbook


def _chapter_module(chapter: int):
    if isinstance(chapter, bool) or not isinstance(chapter, int):
        raise TypeError(f"Workbook: chapter={chapter!r}; expected a chapter number (int)")
    try:
        return importlib.import_module(f"lmcourse.exercises.ch{chapter:02d}")
    except ModuleNotFoundError:
        raise ValueError(f"Workbook: chapter={chapter}; no exercises are defined for it "
                         f"(expected a module lmcourse/exercises/ch{chapter:02d}.py)") from None


class _Display:
    """Something a notebook shows as HTML or Markdown and a terminal as text."""

    def __init__(self, text: str, markdown: str | None = None, html_: str | None = None):
        self._text, self._markdown, self._html = text, markdown, html_

    def __repr__(self) -> str:
        return self._text

    def _repr_markdown_(self):
        return self._markdown

    def _repr_html_(self):
        return self._html


class Workbook:
    """The exercises of one chapter and what the reader's answers did (see the module docstring)."""

    def __init__(self, chapter: int):
        module = _chapter_module(chapter)
        self.chapter = chapter
        self.exercises: dict[str, Exercise] = {ex.name: ex for ex in module.EXERCISES}
        if len(self.exercises) != len(module.EXERCISES):
            raise ValueError(f"lmcourse.exercises.ch{chapter:02d}: two exercises share a name")
        self.results: dict[str, Outcome] = {}
        # the study devices (lmcourse.exercises.study): questions before the chapter and after it
        self.warm_up_questions = tuple(getattr(module, "WARM_UP", ()))
        self.quiz_questions = tuple(getattr(module, "QUIZ", ()))

    def number(self, name: str) -> int:
        return list(self.exercises).index(name) + 1

    def _exercise(self, name: str) -> Exercise:
        if name not in self.exercises:
            raise ValueError(f"check: name={name!r} is not an exercise of chapter {self.chapter}; "
                             f"expected one of {', '.join(map(repr, self.exercises))}")
        return self.exercises[name]

    def check(self, name: str, answer: Any, **context) -> Any:
        """Check the reader's `answer` to exercise `name`, print the verdict and return what the
        chapter goes on with: the answer when it passed, the reference otherwise. A choice returns
        None: the chapter needs nothing from it, and a returned option would print the right one
        under the question."""
        ex = self._exercise(name)
        outcome = ex.evaluate(answer, **context)
        self.results[name] = outcome
        print(self._verdict(ex, outcome))
        return None if ex.kind == "choice" else outcome.value

    def _verdict(self, ex: Exercise, outcome: Outcome) -> str:
        """The verdict in lines of at most VERDICT_WIDTH characters: a first line that says what
        happened, then what to do or what differed, indented (a page, a phone and a terminal
        all show it without cutting it off)."""
        head = f"{_MARK[outcome.status]} Exercise {self.number(ex.name)} ({ex.title}): "
        if outcome.status == PASSED:
            lines = [head + "your answer passed."]
            if ex.kind == "choice" and ex.explanation:
                lines.append(ex.explanation)
        elif outcome.status == NOT_ATTEMPTED:
            todo = {"function": "Replace `raise NotImplementedError` with your code.",
                    "value": "Replace `...` with your answer.",
                    "choice": "Set your choice to one of " + ", ".join(map(repr, ex.options)) + "."}[ex.kind]
            goes_on = "" if ex.kind == "choice" else " Until then the reference runs, so the chapter goes on."
            lines = [head + "not attempted yet.", todo + goes_on]
        else:
            lines = [head + "your answer failed.", outcome.detail]
            if ex.kind != "choice":
                lines.append("The chapter goes on with the reference.")
        first = textwrap.wrap(lines[0], VERDICT_WIDTH, subsequent_indent="  ")
        rest = [wrapped for line in lines[1:]
                for wrapped in textwrap.wrap(line, VERDICT_WIDTH, initial_indent="  ", subsequent_indent="  ",
                                             break_long_words=False, break_on_hyphens=False)]
        return "\n".join(first + rest)

    def warm_up(self) -> _Display:
        """The warm-up: questions to try before reading the chapter, answers collapsed."""
        return self._study("warm-up", f"Warm-up: {len(self.warm_up_questions)} questions before chapter "
                           f"{self.chapter} starts (try them first; the answers are collapsed)",
                           self.warm_up_questions)

    def quiz(self, answers: Mapping | None = None) -> _Display | None:
        """The quiz after the summary. Shown, a choice checks itself when picked; with `answers`
        (question number -> option, e.g. {1: "b"}) the verdicts are printed instead."""
        if answers is None:
            return self._study("quiz", f"Quiz on chapter {self.chapter}: pick an option, and it says "
                               "whether it is right", self.quiz_questions)
        lines, right = study.verdicts(self.quiz_questions, answers)
        total = sum(q.is_choice for q in self.quiz_questions)
        print("\n".join([f"Quiz, chapter {self.chapter}: {right} of {total} right"] + lines))
        return None

    def _study(self, kind: str, title: str, questions: tuple) -> _Display:
        if not questions:
            raise ValueError(f"chapter {self.chapter} has no {kind} questions "
                             f"(expected {'WARM_UP' if kind == 'warm-up' else 'QUIZ'} in "
                             f"lmcourse/exercises/ch{self.chapter:02d}.py)")
        return _Display(study.render_text(title, questions), html_=study.render_html(title, questions, kind=kind))

    def report(self) -> _Display:
        """The report card: every exercise of the chapter with its status."""
        rows = []
        for name, ex in self.exercises.items():
            status = self.results[name].status if name in self.results else NOT_RUN
            rows.append((self.number(name), ex.title, status))
        counts = {s: sum(r[2] == s for r in rows) for s in (PASSED, FAILED, NOT_ATTEMPTED, NOT_RUN)}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        text = "\n".join([f"Report card, chapter {self.chapter}: {summary}"] +
                         [f"  {_MARK[s]} Exercise {n}: {t} ({s})" for n, t, s in rows])
        md = "\n".join([f"**Report card, chapter {self.chapter}:** {summary}", "",
                        "| | exercise | status |", "|---|---|---|"] +
                       [f"| {_MARK[s]} | {n}. {t} | {s} |" for n, t, s in rows]) + "\n"
        return _Display(text, markdown=md)

    def solutions(self) -> _Display:
        """Every reference solution, each collapsed behind its own summary line."""
        blocks, texts = [], []
        for name, ex in self.exercises.items():
            n = self.number(name)
            code, note = _solution_parts(ex)
            summary = f"Solution to exercise {n}: {html.escape(ex.title)}"
            body = (f"<p>{html.escape(note)}</p>" if note else "") + (_highlight(code) if code else "")
            blocks.append(f"<details class=\"lmcourse-solution\"><summary>{summary}</summary>{body}</details>")
            texts.append(f"# Solution to exercise {n}: {ex.title}\n" + "\n".join(p for p in (note, code) if p))
        return _Display("\n\n".join(texts), html_="\n".join(blocks))


def _solution_parts(ex: Exercise) -> tuple[str, str]:
    """(code, note) of an exercise's reference: the function's source, or the answer in words."""
    if ex.kind == "choice":
        return "", f"({ex.reference}) {ex.options[ex.reference]}. {ex.explanation}".strip()
    if callable(ex.reference):
        from lmcourse.source import show

        return show(ex.reference).text, ex.explanation
    return f"{_short(ex.reference, 400)}", ex.explanation


def _highlight(code: str) -> str:
    """Python source as self-contained HTML: inline colours on a light plate that stays readable in
    the book's dark mode, in JupyterLab and in Colab (none of which share a stylesheet)."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:  # Pygments comes with IPython; plain text where it is missing
        return f"<pre>{html.escape(code)}</pre>"
    formatter = HtmlFormatter(noclasses=True, style="default", nowrap=True)
    inner = highlight(code, PythonLexer(), formatter)
    return ("<pre style=\"background:#f6f8fa;color:#1f2328;padding:0.6em;border-radius:4px;"
            f"overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere\">{inner}</pre>")

