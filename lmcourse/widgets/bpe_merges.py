"""A widget that steps through BPE training on text the reader types.

For step k it shows the pair counts before the merge (most frequent first), the pair chosen and the
text as tokens after it. `describe_step` builds that view as HTML and is what the tests check; the
widget only recomputes `bpe_steps` when the text changes and re-renders when the slider moves.
"""

from __future__ import annotations

import html

from lmcourse.tokenizer.naive import MergeStep, bpe_steps


def _show(token: bytes) -> str:
    """A token as readable text: spaces as '␣', newlines as '↵', invalid UTF-8 as byte escapes."""
    try:
        text = token.decode("utf-8")
    except UnicodeDecodeError:
        text = "".join(f"\\x{b:02x}" if b >= 0x80 else chr(b) for b in token)
    return text.replace(" ", "␣").replace("\n", "↵")


def describe_step(steps: list[MergeStep], k: int, top: int = 8) -> str:
    """HTML for step `k` (1-based) of `steps`: the top pair counts, the merge, the tokens after it."""
    if not steps:
        return "<p>No pair occurs twice or more: nothing to merge. Type a longer text.</p>"
    if not 1 <= k <= len(steps):
        raise ValueError(f"k={k} is outside the steps 1..{len(steps)}")
    step = steps[k - 1]
    bold = ' style="font-weight:bold"'
    ranked = sorted(step.pair_counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)[:top]
    rows = "".join(
        f"<tr{bold if pair == step.merge else ''}>"
        f"<td><code>{html.escape(_show(pair[0]))}</code> + <code>{html.escape(_show(pair[1]))}</code></td>"
        f"<td style='text-align:right'>{count}</td></tr>"
        for pair, count in ranked
    )
    tokens = " ".join(f"<code style='background:#eef;margin:1px'>{html.escape(_show(t))}</code>" for t in step.tokens)
    return (
        f"<p><b>Step {k}</b>: merge <code>{html.escape(_show(step.merge[0]))}</code> + "
        f"<code>{html.escape(_show(step.merge[1]))}</code> → new token "
        f"<code>{html.escape(_show(step.new_token))}</code> (id {255 + k})</p>"
        f"<table><tr><th>pair</th><th>count</th></tr>{rows}</table>"
        f"<p>{len(step.tokens)} tokens after this merge:</p><p>{tokens}</p>"
    )


def bpe_merge_explorer(text: str = "low lower lowest newer newest wider widest", num_merges: int = 12,
                       special_tokens=()):
    """A Textarea, a step slider and the step's view."""
    import ipywidgets as widgets

    box = widgets.Textarea(value=text, description="text", layout=widgets.Layout(width="95%", height="5em"))
    slider = widgets.IntSlider(value=1, min=1, max=1, description="step", continuous_update=True)
    view = widgets.HTML()
    state = {"steps": []}

    def retrain(_=None):
        state["steps"] = bpe_steps(box.value, num_merges, special_tokens)
        slider.max = max(len(state["steps"]), 1)
        slider.value = min(slider.value, slider.max)
        rerender()

    def rerender(_=None):
        view.value = describe_step(state["steps"], slider.value) if state["steps"] else describe_step([], 1)

    box.observe(retrain, names="value")
    slider.observe(rerender, names="value")
    retrain()
    return widgets.VBox([box, slider, view])
