"""Chapter 13 (data sources): the exercises' references and checks."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

from lmcourse.exercises import choice_exercise, expect, function_exercise
from lmcourse.exercises.study import choice, open_question


def allowed(rules: list[tuple[str, str]], path: str) -> bool:
    # RFC 9309: the longest matching prefix wins, whatever the order in the file; tuples compare
    # length first, and at equal length True (allow) > False (disallow). No match: allowed.
    matching = [(len(prefix), kind == "allow") for kind, prefix in rules if path.startswith(prefix)]
    return max(matching)[1] if matching else True


_GROUP = [("disallow", "/spam/"), ("allow", "/spam/about.html"), ("disallow", "/private/")]
_ALLOWED_CASES = [(_GROUP, p) for p in ("/spam/about.html", "/spam/7.html", "/private/x", "/reference/3.html",
                                        "/spam/", "/spam")]
_ALLOWED_CASES += [(list(reversed(_GROUP)), "/spam/about.html"),  # the order of the rules does not matter
                   ([("disallow", "/a"), ("allow", "/a")], "/a/b"),  # a tie: allow wins
                   ([("allow", "/a"), ("disallow", "/a")], "/a/b"),
                   ([("disallow", "/"), ("allow", "/public/")], "/public/index.html"),
                   ([("disallow", "/")], "/anything"), ([], "/anything")]


def unmojibake(text: str) -> str:
    try:
        # Latin-1 maps characters 0-255 back to the bytes they came from; those bytes must then be
        # valid UTF-8. Clean text with a character above 255 (such as €) cannot be Latin-1 mojibake,
        # and clean Latin-1 text with an accent is almost never valid UTF-8 as bytes.
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _check_unmojibake(answer) -> None:
    from lmcourse.data import web_pages

    texts = [p.main_text for p in web_pages(20, seed=13)]
    texts += ["plain ASCII stays as it is", "café au lait, naïve", "10 € – “quoted”", "東京は晴れ", "🙂 ok"]
    for text in texts:
        broken = text.encode("utf-8").decode("latin-1")
        expect(answer(broken), text, f"my_unmojibake({broken[:40]!r}...)")
        expect(answer(text), text, f"my_unmojibake on clean text {text[:40]!r}...")


def boilerplate_by_kind(pages, outputs) -> dict[str, float]:
    # For each kind: extracted non-blank lines that are not lines of the page's main text, over all
    # extracted lines (what line_scores counts; a line repeated twice counts twice).
    leaked, total = Counter(), Counter()
    for page, out in zip(pages, outputs):
        main = {line.strip() for line in page.main_text.splitlines() if line.strip()}
        lines = [line.strip() for line in (out or "").splitlines() if line.strip()]
        leaked[page.kind] += sum(line not in main for line in lines)
        total[page.kind] += len(lines)
    return {kind: leaked[kind] / total[kind] for kind in total}


def _boilerplate_cases():
    from lmcourse.data import extract_text_from_html_bytes, web_pages

    pages = web_pages(40, seed=13)
    outputs = [extract_text_from_html_bytes(p.html, http_charset=p.http_charset) for p in pages]
    tiny = [SimpleNamespace(kind="web", main_text="a\nb\n"), SimpleNamespace(kind="web", main_text="c"),
            SimpleNamespace(kind="spam", main_text="buy")]
    return [(pages, outputs), (tiny, ["a\n  b \nMenu\nMenu\n\n", None, "buy\nbuy\nHome"])]


def alpaca_to_messages(record: dict[str, str]) -> list[dict[str, str]]:
    # The input is optional: a missing key and an empty string both mean "no input".
    prompt = record["instruction"] + (f"\n\n{record['input']}" if record.get("input") else "")
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": record["output"]}]


def keep(licence: str | None) -> bool:
    # GPL/AGPL (and LGPL) are copyleft: derivatives must carry the same licence. NC forbids commercial
    # use. No licence at all means all rights reserved: the author granted nothing, so it is out too.
    return licence in {"MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "Unlicense", "CC0-1.0"}


EXERCISES = [
    function_exercise("allowed", "robots.txt as the standard reads it", allowed, _ALLOWED_CASES),
    function_exercise("unmojibake", "repair mojibake", unmojibake, check=_check_unmojibake),
    function_exercise("boilerplate_by_kind", "where is boilerplate worst?", boilerplate_by_kind, _boilerplate_cases),
    choice_exercise(
        "boilerplate_matters", "why the worst kind matters",
        {"a": "spam pages: they are mostly boilerplate anyway, and a document filter removes them whatever "
              "the extraction leaves in",
         "b": "reference pages: several sentences per line leave them few lines of their own, so a fixed "
              "dozen boilerplate lines are the largest share, and a filter that averages over a page "
              "judges that boilerplate as part of the document",
         "c": "web pages: they carry the most navigation, so extraction quality matters for them alone"},
        "b",
        "The boilerplate is about the same dozen lines on every page; its share is largest where the page's "
        "own text has the fewest lines. Gopher's mean word length, C4's sentence rules or a classifier's "
        "score average over everything extracted, so extraction quality changes filter decisions, and "
        "for the best documents most."),
    function_exercise("alpaca_to_messages", "Alpaca to chat", alpaca_to_messages,
                      [({"instruction": "Name a deciduous tree.", "input": "", "output": "The maple."},),
                       ({"instruction": "Mask the e-mail address in this text.",
                         "input": "Write to jane@example.com today.",
                         "output": "Write to |||EMAIL_ADDRESS||| today."},),
                       ({"instruction": "Sum these.", "input": "1\n2\n3", "output": "6"},),
                       ({"instruction": "Say hi.", "output": "Hi!"},)]),
    function_exercise("keep", "a permissive-licence filter", keep,
                      [(lic,) for lic in ("MIT", "Apache-2.0", "BSD-3-Clause", "BSD-2-Clause", "ISC", "Unlicense",
                                          "CC0-1.0", "GPL-3.0-only", "GPL-2.0-or-later", "AGPL-3.0-only",
                                          "LGPL-2.1-only", "CC-BY-NC-4.0", None)]),
]

WARM_UP = [
    choice("A crawler fetches one news article as HTML. Roughly what share of its bytes is the article's "
           "own text?",
           ["nearly all of it", "well under half: markup, scripts, menus and footers take the rest",
            "exactly half"],
           "b", "Markup and boilerplate dominate a page's bytes; the worked problem measures the share on "
                "the chapter's synthetic web."),
    open_question("Llama 3's weights are public. Can you download the text it was trained on? Why might a "
                  "lab not publish it?",
                  "No. Labs keep training data private for competitive reasons (the recipe is much of "
                  "what they know) and for legal ones (copyright and terms of service)."),
]

QUIZ = [
    choice("A page is encoded in windows-1252 and read as UTF-8 with errors replaced. What does a "
           "reader see where the page had `é`?",
           ["`é`, unchanged", "the replacement character", "`Ã©`"],
           "b", "The byte 0xE9 alone is not valid UTF-8, so it becomes U+FFFD. The opposite mistake, UTF-8 "
                "read as Latin-1 or windows-1252, gives the familiar `Ã©` (mojibake)."),
    choice("robots.txt for `CCBot` has `Allow: /spam/about.html` and then `Disallow: /spam/`. Under "
           "RFC 9309, may it fetch `/spam/about.html`?",
           ["yes: the most specific (longest) matching rule wins",
            "no: the rules are read in order and Disallow covers it",
            "no: Disallow always beats Allow"],
           "a", "RFC 9309 picks the longest matching path; Python's urllib.robotparser takes the first "
                "match instead, and the chapter shows the two disagreeing when the lines are swapped."),
    choice("Why do the C4 rules drop half the lines of encyclopedia-style pages?",
           ["those pages are spam", "headings and titles lack terminal punctuation",
            "the pages are too short"],
           "b", "C4 keeps only lines that end in a full stop, question or exclamation mark: rules see "
                "punctuation and lengths, not meaning."),
    choice("The PII masker catches every planted address in the generated posts. What is the right "
           "conclusion?",
           ["it will catch nearly all PII on the real web",
            "it matches the formats it was written for; obfuscated addresses and foreign numbers slip past",
            "regular expressions are enough for PII"],
           "b", "The chapter's harder cases (`jane at example dot com`, a UK number) are missed: a pattern "
                "finds what its author thought of."),
    choice("A WARC file gzips each record separately. What does that buy?",
           ["a better compression ratio", "any single page can be read with a byte-range request, "
            "given its offset from the index", "encryption of each page"],
           "b", "Concatenated gzip members decompress independently, so a reader jumps to one record "
                "in a multi-gigabyte file; compressing the whole file at once would compress better."),
]
