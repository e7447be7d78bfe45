"""The widgets are thin: check that what they show is what the package computes."""

import pytest

from lmcourse.tokenizer import bpe_steps
from lmcourse.widgets import bpe_merge_explorer, describe_step


def test_describe_step_shows_the_chosen_merge_and_tokens():
    steps = bpe_steps("low lower lowest", 3)
    html = describe_step(steps, 1)
    assert "<b>Step 1</b>" in html and "<code>ow</code>" in html  # (o, w) ties (l, o) at 3 and is greater
    assert f"{len(steps[0].tokens)} tokens after this merge" in html


def test_describe_step_bad_k_and_empty():
    steps = bpe_steps("abab", 2)
    with pytest.raises(ValueError, match="outside the steps"):
        describe_step(steps, len(steps) + 1)
    assert "nothing to merge" in describe_step([], 1)


def test_explorer_follows_text_and_slider():
    box, slider, view = bpe_merge_explorer("aaa bbb", num_merges=5).children
    assert slider.max == len(bpe_steps("aaa bbb", 5))
    box.value = "hello hello hello world"
    assert slider.max == len(bpe_steps(box.value, 5))
    slider.value = 2
    assert view.value == describe_step(bpe_steps(box.value, 5), 2)
