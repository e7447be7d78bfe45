"""A widget that steps through BPE training on text the reader types.

For step k it shows the pair counts before the merge (most frequent first), the pair chosen and the
text as tokens after it; step 0 is the text as bytes. `describe_start` and `describe_step` build
those views as HTML, and `bpe_panel_html(text, step)` picks the one for a setting, or says that
the text ran out of pairs before step k. `bpe_merge_explorer` is a live widget
(`lmcourse.widgets._live`): `js/bpe_merges.js` retrains on the text in the reader's browser at
every keystroke and draws the same panel string, so the text box and the step slider both work in
the static book, JupyterLab and Colab with no kernel. For that it ports `bpe_steps` (with
`byte_words`, `merge_pieces` and the GPT-2 pre-tokenizer with special tokens) and the views here;
`tests/test_bpe_widget.py` checks the port string for string in Chromium.

Left out: texts over MAX_CHARS characters (the panel says so; it is about the slow, obvious
algorithm, which would lag behind the keys on long texts) and training on a corpus, which is
`lmcourse.tokenizer.train_bpe`'s job.
"""

from __future__ import annotations

import functools
import html

import regex

from lmcourse import checks
from lmcourse.tokenizer.naive import MergeStep, bpe_steps, byte_words
from lmcourse.tokenizer.pretokenize import special_token_pattern

MAX_CHARS = 2000  # the longest text the explorer trains on
MAX_MERGES = 100  # the most steps its slider offers


@functools.lru_cache(maxsize=1)
def unicode_classes() -> dict[str, list[list[int]]]:
    """The code points of the GPT-2 pattern's classes (\\p{L}, \\p{N}, and \\s, which is White_Space)
    as the installed `regex` module sees them, as [first, last] ranges.

    The browser's own \\p{L} follows its Unicode version, which lags `regex`'s by a few thousand
    recently added letters and digits, so the JavaScript pre-tokenizer builds its classes from these.
    """
    gap = 0xE000 - 0xD800  # the surrogates, which no str holds alone
    every = "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x110000)))
    classes = {}
    for name, pattern in (("L", r"\p{L}+"), ("N", r"\p{N}+"), ("White_Space", r"\s+")):
        ranges = []
        for m in regex.finditer(pattern, every):  # runs of the class: positions past the gap shift by it
            first, last = m.start(), m.end() - 1
            if first < 0xD800 <= last:
                ranges += [[first, 0xD7FF], [0xE000, last + gap]]
            else:
                ranges.append([first + (gap if first >= 0xD800 else 0), last + (gap if last >= 0xD800 else 0)])
        classes[name] = ranges
    return classes


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


def bpe_panel_html(text: str, step: int, special_tokens=()) -> str:
    """What the explorer shows for `text` at `step`: the bytes (step 0), `describe_step`, or, once
    the text has no adjacent pair left inside a pre-token, its final tokens and how many merges it
    took. A text over MAX_CHARS characters gets a message instead."""
    checks.text("text", text, fn="bpe_panel_html")
    checks.integer("step", step, least=0, fn="bpe_panel_html")
    if len(text) > MAX_CHARS:
        return (f"<p class='lmcourse-live-error'>The text has {len(text):,} characters; the explorer trains on "
                f"at most {MAX_CHARS:,}, so that it keeps up with your typing. Shorten it.</p>")
    if step == 0:
        return describe_start(text, special_tokens)
    steps = bpe_steps(text, step, special_tokens)
    if len(steps) == step:
        return describe_step(steps, step)
    tokens = steps[-1].tokens if steps else [t for w in byte_words(text, special_tokens)[0] for t in w]
    done = f"{len(steps)} merge{'' if len(steps) == 1 else 's'}"
    return (f"<p><b>Step {step}</b>: no adjacent pair left to merge after {done}: every pre-token is a "
            f"single token now. Type more text for more merges.</p>"
            f"<p>{len(tokens)} tokens:</p><p>{_token_line(tokens)}</p>")


def bpe_merge_explorer(text: str = "low lower lowest newer newest wider widest", num_merges: int = 12,
                       special_tokens=()):
    """A live widget (it runs in the static book too): a box for the text, a step slider from 0 to
    `num_merges` and `bpe_panel_html` for them. `.panel(**changes)` is the Python panel."""
    from lmcourse.widgets import _live

    checks.text("text", text, fn="bpe_merge_explorer")
    if len(text) > MAX_CHARS:
        raise ValueError(f"bpe_merge_explorer: text of {len(text):,} characters; expected at most {MAX_CHARS:,}")
    if checks.integer("num_merges", num_merges, least=1, fn="bpe_merge_explorer") > MAX_MERGES:
        raise ValueError(f"bpe_merge_explorer: num_merges={num_merges}; expected at most {MAX_MERGES}")
    special_token_pattern(special_tokens)  # a clear error for a bad list, here rather than at the first step
    specials = tuple(dict.fromkeys(special_tokens))
    rows = [[_live.text("text", "text", text)],
            [_live.slider("step", "step", range(num_merges + 1), 1)]]
    data = {"special_tokens": list(specials), "max_chars": MAX_CHARS, "classes": unicode_classes()}
    return _live.LiveWidget("bpe_merges", rows, data,
                            panel=functools.partial(bpe_panel_html, special_tokens=specials))
