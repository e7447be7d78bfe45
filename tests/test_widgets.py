"""The widgets are thin: check that what they show is what the package computes."""

import pytest

from lmcourse.tokenizer import bpe_steps
from lmcourse.widgets import bpe_merge_explorer, describe_start, describe_step


def test_describe_step_shows_the_chosen_merge_and_tokens():
    steps = bpe_steps("low lower lowest", 3)
    html = describe_step(steps, 1)
    assert "<b>Step 1</b>" in html and ">ow</code>" in html  # (o, w) ties (l, o) at 3 and is greater
    assert f"{len(steps[0].tokens)} tokens after this merge" in html


def test_describe_start_counts_bytes():
    text = "héllo wörld 🙂"
    assert f"{len(text.encode())} byte tokens" in describe_start(text)  # bytes, not characters
    assert ">&lt;|x|&gt;</code>" in describe_start("a<|x|>", ["<|x|>"])  # one token, escaped
    # chips carry their own dark text: the book's dark-mode code colour would vanish on the light panel
    assert all("color:#1f2328" in chip for chip in describe_start("ab", []).split("<code")[1:])


def test_describe_step_bad_k_and_empty():
    steps = bpe_steps("abab", 2)
    with pytest.raises(ValueError, match="outside the steps"):
        describe_step(steps, len(steps) + 1)
    assert "nothing" in describe_step([], 1) or "No adjacent pair" in describe_step([], 1)


def test_explorer_pages_follow_text_and_are_linked_to_the_slider():
    box, slider, pages = bpe_merge_explorer("aaa bbb", num_merges=5).children
    steps = bpe_steps("aaa bbb", 5)
    assert slider.max == len(steps) and len(pages.children) == len(steps) + 1
    box.value = "hello hello hello world"
    steps = bpe_steps(box.value, 5)
    assert slider.max == len(steps)
    assert pages.children[0].value == describe_start(box.value)
    assert [p.value for p in pages.children[1:]] == [describe_step(steps, k) for k in range(1, len(steps) + 1)]
    assert pages.selected_index == slider.value


def test_explorer_slider_is_linked_in_the_browser(monkeypatch):
    import ipywidgets

    calls = []
    real = ipywidgets.jslink
    monkeypatch.setattr(ipywidgets, "jslink", lambda a, b: calls.append((a, b)) or real(a, b))
    box, slider, pages = bpe_merge_explorer("abab abab").children
    # The slider must drive the pages client-side, or the static book cannot step through merges.
    assert calls == [((slider, "value"), (pages, "selected_index"))]
