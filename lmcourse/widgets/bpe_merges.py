"""A widget that steps through BPE training on text the reader types.

For step k it shows the pair counts before the merge (most frequent first), the pair chosen and the
text as tokens after it; step 0 is the text as bytes. `describe_step` builds that view as HTML and
is what the tests check. The widget renders every step once, when the text changes, into a `Stack`
whose visible page is linked to the slider in the browser (`jslink`), so the slider also works in
the static book, where no Python kernel is running; typing new text needs a live notebook.
"""

from __future__ import annotations

import html

from lmcourse.tokenizer.naive import MergeStep, bpe_steps, byte_words


def show_token(token: bytes) -> str:
    """A token as readable text: spaces as '␣', newlines as '↵', invalid UTF-8 as byte escapes."""
    try:
        text = token.decode("utf-8")
    except UnicodeDecodeError:
        text = "".join(f"\\x{b:02x}" if b >= 0x80 else chr(b) for b in token)
    return text.replace(" ", "␣").replace("\n", "↵")


def _chip(token: bytes, extra: str = "") -> str:
    """A token as a chip with colours of its own: the theme's code colour (pink in the book's dark
    mode) would vanish into the widget's light panel."""
    return f"<code style='background:#eef;color:#1f2328;{extra}'>{html.escape(show_token(token))}</code>"


def _token_line(tokens: list[bytes]) -> str:
    return " ".join(_chip(t, "margin:1px") for t in tokens)


def describe_start(text: str, special_tokens=()) -> str:
    """HTML for step 0: the text as the byte tokens training starts from."""
    words, _ = byte_words(text, special_tokens)
    tokens = [t for w in words for t in w]
    return f"<p><b>Step 0</b>: the text as {len(tokens)} byte tokens</p><p>{_token_line(tokens)}</p>"


def describe_step(steps: list[MergeStep], k: int, top: int = 8) -> str:
    """HTML for step `k` (1-based) of `steps`: the top pair counts, the merge, the tokens after it."""
    if not steps:
        return "<p>No adjacent pair left to merge: type a longer text.</p>"
    if not 1 <= k <= len(steps):
        raise ValueError(f"k={k} is outside the steps 1..{len(steps)}")
    step = steps[k - 1]
    bold = ' style="font-weight:bold"'
    ranked = sorted(step.pair_counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)[:top]
    rows = "".join(
        f"<tr{bold if pair == step.merge else ''}>"
        f"<td>{_chip(pair[0])} + {_chip(pair[1])}</td>"
        f"<td style='text-align:right'>{count}</td></tr>"
        for pair, count in ranked
    )
    return (
        f"<p><b>Step {k}</b>: merge {_chip(step.merge[0])} + "
        f"{_chip(step.merge[1])} → new token "
        f"{_chip(step.new_token)} (id {255 + k})</p>"
        f"<table><tr><th>pair</th><th>count</th></tr>{rows}</table>"
        f"<p>{len(step.tokens)} tokens after this merge:</p><p>{_token_line(step.tokens)}</p>"
    )


def bpe_merge_explorer(text: str = "low lower lowest newer newest wider widest", num_merges: int = 12,
                       special_tokens=()):
    """A Textarea, a step slider and a Stack holding every step's view (step 0: the bytes)."""
    import ipywidgets as widgets

    box = widgets.Textarea(value=text, description="text", layout=widgets.Layout(width="95%", height="5em"))
    slider = widgets.IntSlider(value=1, min=0, max=1, description="step")
    pages = widgets.Stack()
    widgets.jslink((slider, "value"), (pages, "selected_index"))  # runs in the browser, no kernel needed

    def retrain(_=None):
        steps = bpe_steps(box.value, num_merges, special_tokens)
        views = [describe_start(box.value, special_tokens)] + [describe_step(steps, k) for k in range(1, len(steps) + 1)]
        pages.selected_index = None  # the old index may not exist among the new pages
        pages.children = [widgets.HTML(v) for v in views]
        slider.max = len(steps)
        slider.value = min(max(slider.value, 1), slider.max) if steps else 0
        pages.selected_index = slider.value

    box.observe(retrain, names="value")
    retrain()
    return widgets.VBox([box, slider, pages])
