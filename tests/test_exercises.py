"""Every exercise of the book can fail: its check rejects a known-wrong answer written for it
(`tests/exercise_answers/chNN.py`), accepts the reference, reports an untouched starter as not
attempted and an answer of the wrong type as failed with a message. Plus the mechanism itself
(`lmcourse.exercises._core`) and the chapters' use of it."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest
import torch

import lmcourse.exercises as exercises_pkg
from lmcourse.exercises import (FAILED, NOT_ATTEMPTED, PASSED, Mismatch, Workbook, choice_exercise,
                                expect, function_exercise, value_exercise)

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(int(m.name[2:]) for m in pkgutil.iter_modules(exercises_pkg.__path__) if re.fullmatch(r"ch\d\d", m.name))
CASES = [(chapter, name) for chapter in CHAPTERS for name in Workbook(chapter).exercises]


def answers(chapter: int):
    """WRONG (name -> a plausible wrong answer) and CONTEXT (name -> keyword arguments the chapter
    passes to check) for one chapter."""
    module = importlib.import_module(f"tests.exercise_answers.ch{chapter:02d}")
    return module.WRONG, getattr(module, "CONTEXT", {})


def _starter(*args, **kwargs):
    raise NotImplementedError  # your code here


def _context(chapter: int, name: str) -> dict:
    context = answers(chapter)[1].get(name, {})
    return context() if callable(context) else context


@pytest.mark.parametrize("chapter,name", CASES, ids=[f"ch{c:02d}-{n}" for c, n in CASES])
def test_check_fails_on_a_wrong_answer_and_passes_the_reference(chapter, name):
    wrong, _ = answers(chapter)
    assert name in wrong, f"tests/exercise_answers/ch{chapter:02d}.py: WRONG has no wrong answer for {name!r}"
    ex = Workbook(chapter).exercises[name]
    context = _context(chapter, name)
    bad = ex.evaluate(wrong[name], **context)
    assert bad.status == FAILED and bad.detail, f"{name}: a wrong answer got {bad.status}"
    reference = ex.reference if ex.kind != "value" else ex.reference_value(**context)
    good = ex.evaluate(reference, **context)
    assert good.status == PASSED, f"{name}: the reference got {good.status}: {good.detail}"
    starter = {"function": _starter, "value": ..., "choice": None}[ex.kind]
    assert ex.evaluate(starter, **context).status == NOT_ATTEMPTED
    odd = ex.evaluate(object(), **context)  # wrong type: a failure that says what was expected
    assert odd.status == FAILED and "expected" in odd.detail, odd.detail


def test_every_chapter_with_exercises_uses_its_workbook():
    """A chapter checks each of its exercises by name and closes with the report card and the
    collapsed solutions; no chapter keeps a solution of its own or the old silent fallback."""
    for chapter in CHAPTERS:
        (path,) = ROOT.glob(f"book/{chapter:02d}_*.md")
        text = path.read_text(encoding="utf8")
        assert f"Workbook({chapter})" in text, path.name
        for name in Workbook(chapter).exercises:
            assert re.search(rf'\.check\(\s*"{name}"', text), f"{path.name} never checks exercise {name!r}"
        assert ".report()" in text and ".solutions()" in text, path.name
    for path in sorted(ROOT.glob("book/[0-9]*.md")):
        text = path.read_text(encoding="utf8")
        assert "attempt_or_solution" not in text, path.name
        assert not re.search(r"^def solution_", text, flags=re.M), f"{path.name} defines a solution in the chapter"


# --------------------------------------------------------------------------------------------
# The mechanism


def test_expect_names_what_differs():
    expect([1, 2.0, (b"a",)], [1, 2.0 + 1e-9, (b"a",)])
    with pytest.raises(Mismatch, match=r"x\[1\]: expected 3, got 2"):
        expect([1, 2], [1, 3], "x")
    with pytest.raises(Mismatch, match="expected shape \\(2, 3\\), got shape \\(3, 2\\)"):
        expect(torch.zeros(3, 2), torch.zeros(2, 3))
    with pytest.raises(Mismatch, match="1 of 6 values differ"):
        expect(torch.zeros(2, 3).index_put_((torch.tensor([1]), torch.tensor([2])), torch.tensor(1.0)), torch.zeros(2, 3))
    with pytest.raises(Mismatch, match="expected a number"):
        expect("3", 3)
    with pytest.raises(Mismatch, match="expected a Tensor"):
        expect([0.0], torch.zeros(1))
    with pytest.raises(Mismatch, match="keys differ"):
        expect({"a": 1}, {"b": 1})
    with pytest.raises(Mismatch, match="expected 2 items"):
        expect((1,), (1, 2))


def test_kinds_report_passed_failed_not_attempted(capsys):
    square = function_exercise("square", "squares", lambda x: x * x, [(2,), (3,), ((4,), {})][:2])
    assert square.evaluate(lambda x: x * x).status == PASSED
    failed = square.evaluate(lambda x: 2 * x)
    assert failed.status == FAILED and "my_square(3): expected 9, got 6" in failed.detail
    assert failed.value(5) == 25  # the chapter goes on with the reference
    crashed = square.evaluate(lambda x: 1 / 0)
    assert crashed.status == FAILED and "ZeroDivisionError" in crashed.detail
    guess = value_exercise("ratio", "a ratio", lambda a, b: a / b, rel_tol=0.05)
    assert guess.evaluate(0.49, a=1, b=2).status == PASSED
    assert guess.evaluate(0.4, a=1, b=2).status == FAILED
    assert guess.evaluate(None, a=1, b=2).status == NOT_ATTEMPTED
    pick = choice_exercise("why", "why", {"a": "yes", "b": "no"}, "b", "because.")
    assert pick.evaluate("B ").status == PASSED
    assert pick.evaluate("a").status == FAILED
    assert "expected one of 'a', 'b'" in pick.evaluate("z").detail
    def even(answer, **context):
        if answer % 2:
            raise Mismatch(f"expected an even number, got {answer}")

    many_right = value_exercise("even", "any even number", 2, check=even)
    assert many_right.evaluate(8).status == PASSED and many_right.evaluate(7).status == FAILED
    assert many_right.evaluate(...).status == NOT_ATTEMPTED
    with pytest.raises(ValueError, match="answer='c' is not one of"):
        choice_exercise("x", "x", {"a": "", "b": ""}, "c", "")
    with pytest.raises(ValueError, match="exactly one of cases= and check="):
        function_exercise("x", "x", abs)


def test_workbook_prints_verdicts_and_report(capsys):
    book = Workbook(6)
    assert book.check("unfused_bytes", _starter)(2**16, 4) == 22 * 2**18  # the reference, so the chapter goes on
    ch1 = Workbook(1)
    assert ch1.check("no_merge_applies", None) is None  # a choice returns nothing: no answer printed under it
    book.check("merge", lambda m1, l1, m2, l2: (m1, l1))
    out = capsys.readouterr().out
    assert "Exercise 1 (bytes of an unfused chain): not attempted yet" in out
    assert "Exercise 2 (merging two partial softmaxes): your answer failed." in out
    report = repr(book.report())
    assert "1 failed, 1 not attempted, 2 not run" in report
    assert "| ✗ | 2. merging two partial softmaxes | failed |" in book.report()._repr_markdown_()
    solutions = book.solutions()._repr_html_()
    assert solutions.count("<details") == 4 and "Solution to exercise 4: the RMSNorm backward" in solutions
    with pytest.raises(ValueError, match="name='nope' is not an exercise of chapter 6"):
        book.check("nope", 1)
    with pytest.raises(ValueError, match="chapter=99; no exercises"):
        Workbook(99)
    with pytest.raises(TypeError, match="expected a chapter number"):
        Workbook("6")
