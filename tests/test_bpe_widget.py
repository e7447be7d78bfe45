"""The BPE merge explorer (chapter 1) shows what lmcourse.tokenizer.bpe_steps computes, in Python
and in the reader's browser: js/bpe_merges.js ports bpe_steps, the GPT-2 pre-tokenizer and the
views, and must draw the Python panel string for string for any text and step."""

from __future__ import annotations

import random

import pytest

import browser
from lmcourse.tokenizer import bpe_steps
from lmcourse.widgets import _live, bpe_merge_explorer, bpe_panel_html, describe_start, describe_step
from lmcourse.widgets.bpe_merges import MAX_CHARS

needs_browser = browser.needs_browser()

TOY = "a banana, a bandana, and an ananas"  # chapter 1's text
SPECIALS = ["<|endoftext|>", "<|end|>", "[SEP]", "<|endoftext|><|endoftext|>"]  # the last overlaps the first


# ---- the Python side, no browser -----------------------------------------------------------------

def test_panel_is_the_step_views():
    assert bpe_panel_html(TOY, 0) == describe_start(TOY)
    for k in (1, 4, 8):
        assert bpe_panel_html(TOY, k) == describe_step(bpe_steps(TOY, k), k)
    assert bpe_panel_html("a<|x|>aa<|x|>a", 1, ["<|x|>"]) == describe_step(bpe_steps("a<|x|>aa<|x|>a", 1, ["<|x|>"]), 1)


def test_panel_says_when_the_text_runs_out_of_pairs():
    last = bpe_steps(TOY, 100)
    out = bpe_panel_html(TOY, len(last) + 1)
    assert f"<b>Step {len(last) + 1}</b>: no adjacent pair left to merge after {len(last)} merges" in out
    assert f"<p>{len(last[-1].tokens)} tokens:</p>" in out and ">␣ananas</code>" in out
    assert "after 1 merge:" in bpe_panel_html("ab", 2)
    assert "after 0 merges" in bpe_panel_html("a,b", 1) and "<p>3 tokens:</p>" in bpe_panel_html("a,b", 1)
    assert "after 0 merges" in bpe_panel_html("", 3) and "<p>0 tokens:</p>" in bpe_panel_html("", 3)


def test_long_text_gets_a_message_not_a_slow_panel():
    assert bpe_panel_html("🙂" * MAX_CHARS, 1).startswith("<p><b>Step 1</b>")  # characters, not bytes
    out = bpe_panel_html("a" * (MAX_CHARS + 1), 1)
    assert "The text has 2,001 characters; the explorer trains on at most 2,000" in out


def test_bad_input():
    with pytest.raises(TypeError, match="text=b'ab'; expected a str"):
        bpe_panel_html(b"ab", 1)
    with pytest.raises(ValueError, match="step=-1"):
        bpe_panel_html("ab", -1)
    with pytest.raises(ValueError, match="num_merges=0; expected an integer >= 1"):
        bpe_merge_explorer("ab", 0)
    with pytest.raises(ValueError, match="num_merges=101; expected at most 100"):
        bpe_merge_explorer("ab", 101)
    with pytest.raises(ValueError, match="text of 2,001 characters; expected at most 2,000"):
        bpe_merge_explorer("a" * 2001)
    with pytest.raises(ValueError, match="text: the text holds a \\\\r"):
        bpe_merge_explorer("one\r\ntwo")  # a browser's text box would hold "one\ntwo"
    with pytest.raises(ValueError, match="special_tokens"):
        bpe_merge_explorer("ab", special_tokens=[""])


def test_widget_controls_and_data():
    widget = bpe_merge_explorer(TOY, num_merges=10, special_tokens=["<|x|>", "<|x|>"])
    assert widget.settings == {"text": TOY, "step": 1}
    assert widget.controls["step"].values == tuple(range(11))
    assert widget.data["special_tokens"] == ["<|x|>"]
    assert widget.panel() == widget.initial == describe_step(bpe_steps(TOY, 1), 1)
    assert widget.panel(text="ab<|x|>ab", step=2) == bpe_panel_html("ab<|x|>ab", 2, ["<|x|>"])


def test_text_control_html_keeps_the_text():
    html = _live.text("t", "text", "\n<b>'s & x").html()
    # the parser drops one newline after <textarea>: the one written before the text
    assert "<textarea data-control='t' rows='3' spellcheck='false'>\n\n&lt;b&gt;&#x27;s &amp; x</textarea>" in html
    with pytest.raises(TypeError, match="t=3; expected a str"):
        _live.text("t", "text", 3)


# ---- in the browser: js/bpe_merges.js draws what bpe_panel_html draws -----------------------------

@pytest.fixture(scope="module")
def page():
    widget = bpe_merge_explorer(TOY, num_merges=12, special_tokens=SPECIALS)
    for page in browser.widget_page_in_own_browser(widget):
        page.widget = widget
        yield page


# Characters of every kind the pre-tokenizer tells apart: ASCII letters, digits, punctuation and
# whitespace; letters and digits of other scripts (Arabic-Indic and fullwidth digits, the letter-like
# number Ⅻ, superscripts); combining marks; whitespace beyond ASCII (no-break, em and ideographic
# spaces, NEL, which JavaScript's \s lacks, and U+FEFF, which only JavaScript's \s has); emoji with
# skin tones and joiners; the apostrophe of contractions; letters and a digit of Unicode 16 (Latin
# Extended-F, Ol Onal, Kirat Rai, cuneiform), which `regex` knows and Chromium's \p{L}, \p{N} did not.
NEW = "\U000107bb\U0001e5d0\U00016d40\U0001246f"
POOL = ("abcxyzABCXYZ0189 .,!?-_'\"<>&|\t\n  "
        "éüßøΩλжЯ日本語한글١٢٣０１Ⅻⅻ²³\u0301\u0308\u00a0\u2003\u3000\u0085\ufeff\u200b"
        "🙂👍🏽👨\u200d👩\u200d👧€𝔘𐍈" + NEW)

TEXTS = [
    "", "a", "aa", "aaa", "aaaa", "ab", "abab", "a b", TOY, "low lower lowest newer newest wider widest",
    "abab cdcd efef", "aa bb cc dd ee",  # ties everywhere: the lexicographically greater pair wins
    "I'm sure they've said we'll see, it's what you're told he'd do. Don't! 'S 'LL",
    "héllo wörld, naïve café", "Ελληνικά κείμενα και λέξεις", "日本語のテキスト、日本語の文章。日本",
    "١٢٣ ٤٥٦ ١٢٣", "ⅫⅫ ²³²³ ０１０１", "e\u0301e\u0301 e\u0301",
    "🙂🙂🙂 🙂👍🏽 👍🏽👍🏽 👨\u200d👩\u200d👧 👨\u200d👩\u200d👧", "€€ 𝔘𝔘𝔘 𐍈𐍈", f"x{NEW} x{NEW}.{NEW}{NEW}",
    "a  b\t\tc\n\n d   \n\n\n", "   leading and trailing   ", "\n\nnew\nlines\n",
    "x\u00a0\u00a0y\u2003\u2003z \u3000w\u0085\u0085v", "\ufeffbom\ufeff \ufeff", "zero\u200bwidth\u200b",
    "<|endoftext|>hello<|endoftext|> hello<|end|><|end|>[SEP][SEP]<|endoftext|",
    "<|endoftext|><|endoftext|>", "a<|end|>a<|end|>aa", "<b>&amp; 'quoted' \"double\"</b>",
    "🙂" * MAX_CHARS, "a" * (MAX_CHARS + 1), "🙂" * (MAX_CHARS + 1),
]


def _random_text(rng: random.Random) -> str:
    if rng.random() < 0.3:  # printable ASCII, as most readers type
        return "".join(rng.choice("abcde fgh.,'\n") for _ in range(rng.randint(0, 120)))
    words = ["".join(rng.choice(POOL) for _ in range(rng.randint(1, 6))) for _ in range(rng.randint(1, 25))]
    if rng.random() < 0.3:
        words.insert(rng.randint(0, len(words)), rng.choice(SPECIALS))
    return rng.choice(["", " ", "  "]).join(words * rng.randint(1, 3))


def _cases(rng):
    texts = TEXTS + [_random_text(rng) for _ in range(150)]
    cases = []
    for text in texts:
        # in no particular order: the renderer keeps the last text's training and resumes or reuses it
        steps = [0, 1, 2, 3, rng.randint(4, 12), rng.randint(13, 60)]
        rng.shuffle(steps)
        for step in steps:
            for specials in ((), SPECIALS):
                cases.append((text, step, specials))
    return cases


@needs_browser
def test_renderer_draws_the_python_panel(page):
    cases = _cases(random.Random(0))
    # one call, each case with its own special tokens, so a renderer that kept the training of the
    # same text with other special tokens would show
    drawn = page.evaluate("""([cases, data]) => cases.map(([text, step, specials]) =>
        lmcourseLive.renderers.bpe_merges({text, step}, {...data, special_tokens: specials}, lmcourseLive.fmt))""",
                          [[[t, s, list(sp)] for t, s, sp in cases], page.widget.data])
    reached = dict.fromkeys(["\\x", "no adjacent pair left", "trains on at most", "&lt;|endoftext|&gt;"], 0)
    for (text, step, specials), js in zip(cases, drawn, strict=True):
        python = bpe_panel_html(text, step, specials)
        assert js == python, f"BPE panel differs for text={text!r}, step={step}, special_tokens={specials}"
        reached = {mark: n + (mark in python) for mark, n in reached.items()}
    # the cases reach byte escapes (partial UTF-8), exhausted texts, long texts and special tokens
    assert all(reached.values()), reached


@needs_browser
def test_typing_and_moving_the_slider_redraw_the_panel(page):
    widget = page.widget
    panel, box, slider = (page.locator(s) for s in (".lmcourse-live-panel", "[data-control=text]",
                                                    "[data-control=step]"))
    assert box.input_value() == TOY and panel.inner_html() == browser.same_markup(page, widget.panel())
    slider.fill("5")
    assert page.locator("[data-readout=step]").inner_text() == "5"
    assert panel.inner_html() == browser.same_markup(page, widget.panel(step=5))
    text = "the cat sat on the mat<|endoftext|> 🙂🙂 the hat"
    box.fill(text)
    assert panel.inner_html() == browser.same_markup(page, widget.panel(text=text, step=5))
    box.press("End")
    box.press_sequentially(" that")  # key by key, as a reader types
    assert panel.inner_html() == browser.same_markup(page, widget.panel(text=text + " that", step=5))
    slider.fill("0")
    assert panel.inner_html() == browser.same_markup(page, widget.panel(text=text + " that", step=0))
    box.fill("ab,ab")
    slider.fill("12")
    assert "no adjacent pair left to merge after 1 merge:" in panel.inner_text()
    box.fill("x" * (MAX_CHARS + 1))
    assert "The text has 2,001 characters" in panel.inner_text()
    box.fill("")
    assert panel.inner_html() == browser.same_markup(page, widget.panel(text="", step=12))


@needs_browser
def test_text_box_starts_with_the_widget_text(page):
    text = "\n\nstarts with newlines, has <tags> & 'quotes'\n"
    widget = bpe_merge_explorer(text)
    other = page.context.new_page()
    try:
        other.set_content(f"<html><body>{widget._repr_html_()}</body></html>")
        assert other.locator("[data-control=text]").input_value() == text
        other.locator("[data-control=step]").fill("2")  # the panel drawn from the box's text
        assert other.locator(".lmcourse-live-panel").inner_html() == browser.same_markup(other, widget.panel(step=2))
    finally:
        other.close()
