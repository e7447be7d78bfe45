"""A synthetic web for the data chapters: documents of three kinds, PII-laden text, and whole HTML pages.

The filters of chapters 13-14 need raw material with known answers, offline (all text written for this
project; names and nouns from the story lexicon, `lmcourse.corpus.lexicon`). `generate_documents(kind, n)` writes
"reference" documents like an encyclopedia (third person, dates, measurements, headings), "web" documents
like blogs, forums and shops (slang, exclamation marks, calls to action) and "spam" (keyword stuffing,
symbol rows, "Read more...", lorem ipsum, stray code); reference and web share subjects and some plain
sentences, so a classifier has to learn style, not topic. `pii_documents(n)` plants emails, US phone
numbers and IPv4 addresses among look-alikes (versions, ISBNs, 300.1.2.3) and returns the true counts.
`html_page(text)` wraps a document in navigation, a cookie banner, <noscript>, ads, related links, a
footer, CSS and JavaScript; `web_pages(n)` makes many, in UTF-8, windows-1252, UTF-16 and Shift-JIS,
announced by <meta charset>, http-equiv, the HTTP header, a byte-order mark or not at all, each with its
ground-truth `main_text`. Deterministic given `seed`: only `random.Random` draws, seeded with strings
(hashed with SHA-512, the same on every platform).

Leaves out: real-world facts (every "fact" in a reference document is invented), languages other than
English beyond a few Japanese lines, near-duplicate pages (the dedup module plants those), and images.
"""

from __future__ import annotations

import codecs
import html
import random
from dataclasses import dataclass

from lmcourse import checks
from lmcourse.corpus import lexicon as L
from lmcourse.data.normalize import strip_accents

__all__ = ["KINDS", "WebPage", "generate_documents", "pii_documents", "html_page", "web_pages"]

KINDS = ("reference", "web", "spam")


def _singulars(nouns) -> tuple[str, ...]:  # the lexicon keeps nouns as (singular, plural) pairs
    return tuple(n if isinstance(n, str) else n[0] for n in nouns)


# Subjects, with the noun phrases reference text uses for their category.
_CATEGORIES = ((_singulars(L.ANIMALS[:40]), "species of mammal", "species"),
               (_singulars(L.FLOWERS[:20]), "flowering plant", "plants"),
               (_singulars(L.TREES[:15]), "deciduous tree", "trees"),
               (L.INSTRUMENTS[:12], "musical instrument", "instruments"),
               (_singulars(L.FOODS[:30]), "traditional food", "dishes"))
_REGIONS = ("the northern highlands", "the coastal lowlands", "the river valleys of the south", "the eastern plains",
            "central Europe", "the western islands", "the temperate forests", "the Mediterranean basin")
_SECTIONS = ("History", "Description", "Distribution", "Etymology", "Cultural significance", "Research")
_REFERENCE = (
    "The {s} is a {kind} native to {region}.", "It was first described by the naturalist {person} in {year}.",
    'The name derives from the {lang} word "{coined}", meaning "{meaning}".',
    "According to a survey published in {year}, the {s} is most common in {region}, where it accounts for "
    "roughly {pct} percent of recorded cases.",
    "Several varieties are recognised, although their classification remains disputed among researchers.",
    "Historical records from the {century} century describe its use in {domain}.",
    "In {year}, the {institution} of {town} published a detailed study of the {s} and its relatives.",
    "Typical specimens measure between {a} and {b} centimetres and weigh up to {c} kilograms.",
    "Its distribution extends from {region} to {region2}, at elevations of up to {elev} metres.",
    "During the {century} century, the {s} became an important part of the economy of {region}.",
    "Modern scholarship attributes this development to changes in {domain} and to the growth of trade.",
    "The earliest surviving description appears in a manuscript dated {year}, now held in {town}.",
    "A census conducted in {year} recorded approximately {num} specimens across {region}.",
    "Unlike related {plural}, it is characterised by its distinctive {feature}.",
    "The {s} is mentioned in several chronicles, including the account of {person} ({year}).",
    "These findings were later confirmed by independent studies in {town} and {town2}.",
)
_WEB = (
    "OMG you guys, I just got the cutest {s} ever!!!", "Honestly idk why everyone is so obsessed with the {s} lol",
    "Check out our amazing {s} deals - up to {pct}% off this weekend only!",
    "Top {n} reasons you need a {s} in your life (number {k} will surprise you)",
    "We went to {town} last summer and it was sooo much fun, the {food} there is amazing.",
    "Click here to learn more about the {s}!", "Don't forget to like and subscribe for more {s} content!",
    "Free shipping on all orders over €{n}0 – no code needed.", "Thanks for sharing, this really helped me :)",
    "Has anyone else tried this? My {s} keeps acting weird and I don't know what to do.",
    "I've loved the {s} since I was a kid, so this post hit home.", "Buy now and get a free {food} with every order!",
    "Posted by {user} on {month} {day}, {recent} | {n} comments",
    "UPDATE: ok so I tried it and it totally worked, you guys are the best!!",
    "Best {s} I've ever seen, 10/10 would recommend.", "Sign up for our newsletter to get the latest {s} tips!",
    "Not gonna lie, the “{s} café” in {town} was kinda overpriced but still worth it.",
    "So yeah, that's my story, let me know what you think in the comments below!",
    "Limited time offer!!! Use code {code} at checkout.", "Reply", "Share this: Facebook | Twitter | Pinterest",
)
# Plain sentences either kind may contain: the overlap that keeps the classifier honest.
_SHARED = ("The {s} can be found in many parts of {region}.", "Many people in {town} know the {s} well.",
           "There are {n} different kinds of {plural} in {region}.")
_SPAM = ("cheap {s} best {s} buy {s} online {s} discount {s} free {s}", "$$$ >>> 100% FREE {S} <<< $$$",
         "Read more...", "Loading...", "Click to continue...", "★★★★★ 5/5 ★★★★★ #1 #1 #1",
         "{n} {n} {n} --- ||| ###", "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
         "function track() {{ return {n}; }}", "Home | Login | Cart ({n}) | Help", "BUY {S} NOW!!! BEST PRICE!!!",
         "{s} {s} {s} {s} {s}")
_JAPANESE = ("このページは日本語でも読めます。", "猫はとても小さな動物です。", "東京の天気は晴れです。", "詳しくはお問い合わせください。")


def _town(r: random.Random) -> str:
    return r.choice(L.TOWN_FIRSTS) + r.choice(L.TOWN_SUFFIXES)


def _person(r: random.Random) -> str:
    return f"{r.choice(L.SHE_NAMES + L.HE_NAMES)} {r.choice(L.SURNAME_FIRSTS)}{r.choice(L.SURNAME_SECONDS)}"


# A template's slots: drawn from a list or a range of numbers, or built by a function.
_CHOICES = {"region": _REGIONS, "region2": _REGIONS, "meaning": L.THING_ADJ, "century": L.ORDINALS[9:],
            "lang": ("Latin", "Old English", "Old French", "Ancient Greek", "Middle Dutch", "Old Norse"),
            "domain": ("agriculture", "medicine", "religious ceremonies", "local trade", "folk music", "cooking"),
            "institution": ("Royal Society", "University", "Natural History Museum", "Botanical Institute"),
            "feature": ("colouring", "structure", "shape", "texture", "seasonal cycle", "range"),
            "food": _singulars(L.FOODS[:40]), "month": ("January", "March", "May", "July", "September"),
            "year": range(1650, 2016), "recent": range(2009, 2026), "pct": range(2, 96), "a": range(5, 41),
            "b": range(41, 121), "c": range(2, 61), "n": range(3, 16), "k": range(1, 4), "day": range(1, 29)}
_BUILT = {"town": _town, "town2": _town, "person": _person,
          "coined": lambda r: "".join(r.choice(L.NAME_MIDDLES) for _ in range(3)),
          "elev": lambda r: f"{r.randint(2, 40) * 100:,}", "num": lambda r: f"{r.randint(1_000, 900_000):,}",
          "user": lambda r: r.choice(L.PET_FIRSTS) + str(r.randint(1, 99)),
          "code": lambda r: r.choice(L.PET_FIRSTS).upper() + str(r.randint(10, 50))}


class _Slots(dict):
    """The fields of one sentence: the document's subject is fixed, every other field is drawn when first used."""

    def __init__(self, rng: random.Random, subject: dict[str, str]):
        super().__init__(subject)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        self[key] = str(self.rng.choice(_CHOICES[key]) if key in _CHOICES else _BUILT[key](self.rng))
        return self[key]


def _say(rng: random.Random, template: str, subject: dict[str, str]) -> str:
    return template.format_map(_Slots(rng, subject))


def _subject(rng: random.Random) -> dict[str, str]:
    nouns, kind, plural = rng.choice(_CATEGORIES)
    s = rng.choice(nouns)
    return {"s": s, "S": s.upper(), "kind": kind, "plural": plural}  # fixed for a whole document


def _sentences(rng: random.Random, templates, subject, count: int) -> list[str]:
    """`count` sentences, the templates drawn in shuffled rounds so a document rarely repeats itself; about
    one in eight is a plain sentence from `_SHARED` instead."""
    order = []
    while len(order) < count:
        order += rng.sample(templates, len(templates))
    return [_say(rng, rng.choice(_SHARED) if rng.random() < 0.12 else t, subject) for t in order[:count]]


def _reference(rng: random.Random) -> str:
    subject = _subject(rng)
    headings = rng.sample(_SECTIONS, rng.randint(2, 4))
    sizes = [rng.randint(3, 5)] + [rng.randint(3, 6) for _ in headings]
    sentences = _sentences(rng, _REFERENCE, subject, sum(sizes))
    lines = [subject["s"].capitalize()]
    for heading, size in zip([None] + headings, sizes):
        lines += ([heading] if heading else []) + [" ".join(sentences[:size])]
        sentences = sentences[size:]
    return "\n".join(lines)


def _web(rng: random.Random) -> str:
    subject = _subject(rng)
    title = _say(rng, rng.choice(("My {s} experience!!", "{n} Best {s} Deals of {recent}", "Help with my {s}??")),
                 subject)
    return "\n".join([title] + _sentences(rng, _WEB, subject, rng.randint(5, 14)))


def _spam(rng: random.Random) -> str:
    subject = _subject(rng)
    return "\n".join(_say(rng, rng.choice(_SPAM), subject) for _ in range(rng.randint(3, 25)))


_WRITERS = {"reference": _reference, "web": _web, "spam": _spam}


def generate_documents(kind: str, num_docs: int, *, seed: int = 0) -> list[str]:
    """`num_docs` documents of `kind` ("reference", "web" or "spam"), lines separated by newlines."""
    if kind not in KINDS:
        raise ValueError(f"generate_documents: kind={kind!r}; expected one of {KINDS}")
    checks.integer("num_docs", num_docs, least=0, fn="generate_documents")
    rng = random.Random(f"{kind}:{seed}")
    return [_WRITERS[kind](rng) for _ in range(num_docs)]


def _email(r: random.Random) -> str:
    # Accents stripped: the masker (like most) only knows ASCII addresses, and so do most mail servers.
    first, last = strip_accents(r.choice(L.SHE_NAMES + L.HE_NAMES)).lower(), r.choice(L.SURNAME_FIRSTS).lower()
    local = r.choice((f"{first}.{last}", f"{first}_{r.randint(1, 99)}", f"{first}+news", last))
    return f"{local}@{r.choice(('example.com', 'mail.example.org', 'dept.example.co.uk', 'example.net'))}"


_PHONE_FORMATS = ("({a}) {b}-{c:04d}", "{a}-{b}-{c:04d}", "{a}.{b}.{c:04d}", "+1 {a} {b} {c:04d}", "{a}{b}{c:04d}",
                  "1-{a}-{b}-{c:04d}", "+1 ({a}) {b}-{c:04d}")
_PII_MAKERS = {"email": _email,
               "phone": lambda r: r.choice(_PHONE_FORMATS).format(a=r.randint(201, 989), b=r.randint(200, 999),
                                                                   c=r.randint(0, 9999)),
               "ip": lambda r: ".".join(str(r.choice((0, 1, 10, 127, 192, 255, r.randint(0, 255)))) for _ in "1234")}
_PLANTED = (("email", "Contact {name} at {x} for details."), ("email", "Send your questions to {x}."),
            ("phone", "Call us at {x} between 9 and 5."), ("phone", "{name}'s number is {x}, text anytime."),
            ("ip", "The server at {x} stopped responding."), ("ip", "Requests from {x} were blocked."))
_DECOYS = ("Version 2.4.1 fixes the login bug.", "Order #48213 shipped on 2024-03-15.",
           "ISBN 978-0-306-40615-7 is out of print.", "The address 300.1.2.3 is not valid.",
           "Reach the office on extension 4471.", "Temperatures hit 31.5 degrees.", "Tracking: 1Z999AA10123456784.")


def pii_documents(num_docs: int, *, seed: int = 0) -> list[tuple[str, dict[str, int]]]:
    """`num_docs` (text, counts) pairs: web text with PII planted, and how many emails, phones and IPs it holds."""
    checks.integer("num_docs", num_docs, least=0, fn="pii_documents")
    rng = random.Random(f"pii:{seed}")
    docs = []
    for _ in range(num_docs):
        lines, counts = _web(rng).split("\n"), {"email": 0, "phone": 0, "ip": 0}
        for _ in range(rng.randint(1, 6)):
            kind, template = rng.choice(_PLANTED)
            counts[kind] += 1
            lines.insert(rng.randint(1, len(lines)), template.format(name=_person(rng), x=_PII_MAKERS[kind](rng)))
        lines += rng.sample(_DECOYS, 2)
        docs.append(("\n".join(lines), counts))
    return docs


@dataclass(frozen=True)
class WebPage:
    """One generated page: its `html` bytes are in `encoding` (a Python codec), announced as `declared`
    ("meta", "http-equiv", "http", "bom" or "none"); `http_charset` is what the HTTP header would send."""
    url: str
    html: bytes
    encoding: str
    declared: str
    http_charset: str | None
    main_text: str
    kind: str


# (codec, the label the page or header uses, how it is announced): weights below, roughly as on the web,
# where most pages are UTF-8 and say so.
_ENCODINGS = (("utf-8", "utf-8", "meta"), ("utf-8", "UTF-8", "http-equiv"), ("utf-8", None, "none"),
              ("cp1252", "windows-1252", "meta"), ("cp1252", "ISO-8859-1", "http-equiv"),
              ("cp1252", "windows-1252", "http"), ("cp1252", None, "none"), ("utf-16", "utf-16", "bom"),
              ("shift_jis", "Shift_JIS", "meta"))
_DECLARED, _NAV = ("meta", "http-equiv", "http", "bom", "none"), ("Home", "About", "Blog", "Shop", "Contact", "Login")


def html_page(main_text: str, *, encoding: str = "utf-8", label: str | None = None, declared: str = "meta",
              seed: int = 0) -> bytes:
    """`main_text` (first line the title, each further line a paragraph) inside boilerplate, as bytes.

    Characters `encoding` cannot hold become numeric character references (&#8364;), as real sites do.
    `label` is the charset name written in the page (default `encoding`); UTF-16 always gets a BOM.
    """
    if declared not in _DECLARED:
        raise ValueError(f"html_page: declared={declared!r}; expected one of {_DECLARED}")
    r, label, esc = random.Random(f"page:{seed}"), label or encoding, html.escape
    title, *paragraphs = main_text.split("\n")
    charset = {"meta": f'<meta charset="{label}">', "http-equiv":
               f'<meta http-equiv="Content-Type" content="text/html; charset={label}">'}.get(declared, "")
    site, town = f"{_town(r).lower()}.example", _town(r)
    nav = "".join(f'<li><a href="/{item.lower()}">{item}</a></li>' for item in r.sample(_NAV, 4))
    body = "\n".join(f"<p>{esc(p)}</p>" for p in paragraphs)
    related = "".join(f'<li><a href="/post/{i}">{esc(_say(r, "The {food} of {town}", {}))}</a></li>'
                      for i in range(3))
    page = f"""<!DOCTYPE html>
<html lang="en"><head>{charset}<title>{esc(title)} | {site}</title>
<style>body {{ font-family: sans-serif; }} .ad {{ border: 1px solid #ccc; }}</style>
<script>window.dataLayer = window.dataLayer || []; function gtag() {{ dataLayer.push(arguments); }}</script>
</head><body>
<header><a class="logo" href="/">{town} Daily</a><nav><ul>{nav}</ul></nav></header>
<div class="cookie-banner">We use cookies to improve your experience. <button>Accept all</button></div>
<noscript>Please enable JavaScript to view the comments.</noscript>
<main><article><h1>{esc(title)}</h1>
{body}
</article></main>
<aside class="ad">Sponsored: {esc(_say(r, "Fresh {food} delivered to {town}", {}))} &ndash; order today!</aside>
<aside><h3>Related posts</h3><ul>{related}</ul></aside>
<footer>&copy; {r.randint(2015, 2025)} {site}. All rights reserved.
<a href="/privacy">Privacy Policy</a> | <a href="/terms">Terms of Use</a></footer>
<script>document.querySelectorAll("a").forEach(a => {{ a.rel = "noopener"; }});</script>
</body></html>
"""
    if encoding.lower().replace("_", "-") in ("utf-16", "utf-16-le"):
        return codecs.BOM_UTF16_LE + page.encode("utf-16-le")  # one byte order on every platform
    return page.encode(encoding, errors="xmlcharrefreplace")


def web_pages(num_pages: int, *, seed: int = 0) -> list[WebPage]:
    """`num_pages` pages, mostly reference and web documents with some spam, in a mix of encodings."""
    checks.integer("num_pages", num_pages, least=0, fn="web_pages")
    r = random.Random(f"pages:{seed}")
    pages = []
    for i in range(num_pages):
        kind = r.choices(KINDS, weights=(4, 4, 1))[0]
        encoding, label, declared = r.choices(_ENCODINGS, weights=(8, 2, 2, 2, 1, 1, 1, 2, 2))[0]
        text = _WRITERS[kind](r)
        if encoding == "shift_jis":
            text += "\n" + "\n".join(r.sample(_JAPANESE, 2))
        page = html_page(text, encoding=encoding, label=label, declared=declared, seed=r.randrange(2**32))
        url = f"http://{_town(r).lower()}.example/{kind}/{i}.html"
        pages.append(WebPage(url, page, encoding, declared, label if declared == "http" else None, text, kind))
    return pages
