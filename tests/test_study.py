"""The study devices (lmcourse.exercises.study): every chapter's warm-up and quiz are well formed,
the Python verdicts are right for every option, and in Chromium the quiz's script marks exactly
the right option right, for every question of every chapter."""

import re

import pytest

import browser
from lmcourse.exercises import Workbook
from lmcourse.exercises.study import Question, choice, open_question, render_html, verdicts

CHAPTERS = range(1, 18)
needs_browser = browser.needs_browser()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_has_a_warm_up_and_a_quiz(chapter):
    book = Workbook(chapter)
    assert 2 <= len(book.warm_up_questions) <= 3, "a warm-up asks two or three questions"
    assert 4 <= len(book.quiz_questions) <= 6, "a quiz asks four to six questions"
    assert sum(q.is_choice for q in book.quiz_questions) >= 3, "a quiz that checks itself needs choices"
    for q in book.warm_up_questions + book.quiz_questions:
        assert q.why or not q.is_choice, f"chapter {chapter}: say why ({q.answer}) is right: {q.prompt[:60]}"
        assert q.prompt.rstrip().endswith(("?", ":", ".")), f"chapter {chapter}: {q.prompt[-40:]!r}"
    prompts = [q.prompt for q in book.warm_up_questions + book.quiz_questions]
    assert len(set(prompts)) == len(prompts), "a question asked twice"
    html = book.quiz()._repr_html_()
    assert html.count("<fieldset") == len(book.quiz_questions) and "lmcourse-quiz" in html


def test_question_rejects_bad_definitions():
    with pytest.raises(ValueError, match="answer='c' is not one of"):
        choice("Which?", ["x", "y"], "c", "because")
    with pytest.raises(ValueError, match="expected at least two"):
        choice("Which?", ["x"], "a", "because")
    with pytest.raises(ValueError, match="prompt is empty"):
        open_question(" ", "42")
    with pytest.raises(ValueError, match="keyed"):
        Question("Which?", "a", "", {"a": "x", "c": "y"})


def test_verdicts_name_a_wrong_pick_without_giving_the_answer():
    qs = [choice("Which is even?", ["3", "4", "5"], "b", "4 = 2 × 2."), open_question("Why?", "Because."),
          choice("Which is odd?", ["2", "7"], "b", "7 is not divisible by 2.")]
    lines, right = verdicts(qs, {1: "B", "3": "a"})
    assert right == 1 and lines[0].startswith("✓ 1. (b) is right. 4 = 2 × 2.")
    assert lines[1] == "✗ 3. not (a); try another option" and "(b)" not in lines[1]
    lines, right = verdicts(qs, {})
    assert right == 0 and lines == ["… 1. not answered yet", "… 3. not answered yet"]
    with pytest.raises(ValueError, match=r"answers for \[2\]"):
        verdicts(qs, {2: "a"})  # question 2 is open: nothing to check
    with pytest.raises(ValueError, match="expected one of 'a', 'b', 'c'"):
        verdicts(qs, {1: "d"})
    with pytest.raises(TypeError, match="dict of question number"):
        verdicts(qs, ["b"])


def test_workbook_quiz_prints_verdicts(capsys):
    book = Workbook(1)
    right_answers = {n: q.answer for n, q in enumerate(book.quiz_questions, 1) if q.is_choice}
    assert book.quiz(right_answers) is None
    first = capsys.readouterr().out.splitlines()[0]
    assert first == f"Quiz, chapter 1: {len(right_answers)} of {len(right_answers)} right"
    wrong = {n: next(k for k in q.options if k != q.answer) for n, q in enumerate(book.quiz_questions, 1)
             if q.is_choice}
    book.quiz(wrong)
    assert capsys.readouterr().out.splitlines()[0] == f"Quiz, chapter 1: 0 of {len(wrong)} right"


def test_inline_markdown_is_escaped_and_rendered():
    q = choice("Is `a<b` **bold** and *this*?", ["x & y", "`z`"], "a", "Because <script>.")
    html = render_html("T", [q], kind="quiz")
    assert "<code>a&lt;b</code>" in html and "<strong>bold</strong>" in html and "<em>this</em>" in html
    assert "x &amp; y" in html and "<script>." not in html and "&lt;script&gt;" in html


class _Page:
    def __init__(self, html):
        self.html = html

    def _repr_html_(self):
        return self.html


@pytest.fixture(scope="module")
def quiz_page():
    outputs = [_Page(Workbook(c).quiz()._repr_html_()) for c in CHAPTERS]
    outputs += [_Page(Workbook(c).warm_up()._repr_html_()) for c in CHAPTERS]
    yield from browser.widget_page_in_own_browser(*outputs)


@needs_browser
def test_quiz_script_marks_exactly_the_right_option(quiz_page):
    """Click every option of every question on one page: the feedback says right for the answer
    alone, and the score line counts the right picks of its own quiz only."""
    found = quiz_page.evaluate("""() => [...document.querySelectorAll('.lmcourse-quiz')].map(quiz =>
        [...quiz.querySelectorAll('fieldset[data-answer]')].map(fs => {
            const right = [];
            for (const input of fs.querySelectorAll('input[type=radio]')) {
                input.click();
                const out = fs.querySelector('.lmcourse-quiz-feedback');
                if (out.classList.contains('right')) right.push(input.value);
            }
            return right;
        }))""")
    expected = [[[q.answer] for q in Workbook(c).quiz_questions if q.is_choice] for c in CHAPTERS]
    expected += [[[q.answer] for q in Workbook(c).warm_up_questions if q.is_choice] for c in CHAPTERS]
    assert found == expected
    scores = quiz_page.evaluate("() => [...document.querySelectorAll('.lmcourse-quiz-score')]"
                                ".map(s => s.textContent)")
    for text in scores:  # the last click of each question was its last option
        assert re.fullmatch(r"\d+ of \d+ right", text), text
