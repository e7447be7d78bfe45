"""The widgets are thin: check that what they show is what the package computes."""

import pytest

from lmcourse.tokenizer import bpe_steps
from lmcourse.widgets import describe_start, describe_step


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
