"""How one story of the generated corpus (`lmcourse.corpus`) is told: the grammar behind `_story(rng)`.

A story is one of thirteen plots (a wish, a lost toy, an animal in trouble, a quarrel, a trip with some
arithmetic, a fear, a mistake owned up to, a magic find, a birthday, a shop, a collection, a day at a
grown-up's work, a dream) told through templates with slots (`templates.py` holds the templates,
`lexicon.py` the words): a hero and a friend with pronouns that agree (he/she/they), a grown-up, a
neighbor, things, animals, food, places, colors, numbers, dialogue in double quotes, a resolution and
sometimes a moral. `_Story` computes each slot's field the first time a template asks for it, from the
functions registered with `_fields`.

What makes it worth learning from:
- a vocabulary that grows with the corpus the way natural text's does (Heaps' law): every slot draws
  a rank from a power law, P(rank >= r) = (1 + r/scale)**(-1/2) (`_zipf_rank`), so the first words of
  each list are frequent, as in Zipf's law, and its last words turn up only megabytes later; past the
  end of a list, names of people, towns, pets, dragons, lands, spells and magic plants are coined from
  parts ("Willow" + "brook", "Moon" + "dancer") and then syllables, so every megabyte brings new words.
  Distinct GPT-2 pre-tokens: about 5,800 in 1 MB, 13,400 in 5 MB and 29,400 in 20 MB (distinct ~ N**0.54),
  enough for byte-level BPE on 20 MB to make all 9,743 merges of a 10,000-token vocabulary;
- inflections a tokenizer can share pieces between (plurals, past tenses, -ing forms, -ly adverbs,
  comparatives), contractions ("didn't", "I'm"), and a little non-ASCII ("Zoë", "café", the odd emoji);
- numbers in several forms, which add up: ages as words or digits, counts ("347 stickers" and 12 more
  make 359), years, times ("7:30"), prices and change ("$3.50" paid with "$5" gives "$1.50" back).

Determinism: only `random.Random(seed).random()` is used (never `hash()` or set order), and the power
law needs only float operations that IEEE 754 rounds exactly, so a seed gives the same text everywhere.

Leaves out: the word lists and templates themselves (`_lexicon.py`, `_words.py`), seeds, argument
checking, byte budgets, separators and files (`lmcourse.corpus`), and long-range plot coherence
beyond one story.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from lmcourse.corpus import lexicon as L
from lmcourse.corpus import templates as W
from lmcourse.corpus.lexicon import _plural

# The plots with every single-template slot wrapped into a 1-tuple, so the teller can pick uniformly.
_PLOTS = tuple(
    dict(plot, story=tuple(tuple((s,) if isinstance(s, str) else s for s in para) for para in plot["story"]))
    for plot in W.PLOTS
)


def _interleave(she: tuple[str, ...], he: tuple[str, ...], they: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(name, pronoun) by rank: a "she" and a "he" name in turn, and a "they" name after every fourth."""
    out, queues = [], [[(n, "she") for n in she], [(n, "he") for n in he], [(n, "they") for n in they]]
    i = 0
    while any(queues):
        order = (0, 1, 0, 1, 2) if i % 2 == 0 else (1, 0, 1, 0, 2)
        out.extend(q.pop(0) for q in (queues[j] for j in order) if q)
        i += 1
    return tuple(out)


_HEAD_NAMES = _interleave(L.SHE_NAMES, L.HE_NAMES, L.THEY_NAMES)
_HEAD_NAME_SET = frozenset(name for name, _pronoun in _HEAD_NAMES)  # membership only, never iterated
_NAME_ENDINGS = tuple(ending for ending, _pronoun in L.NAME_ENDINGS)
# Syllables can spell one name two ways ("Di-ri-n", "Di-rin"), so the pronoun goes by the longest ending.
_PRONOUN_BY_ENDING = sorted(L.NAME_ENDINGS, key=lambda pair: -len(pair[0]))
_MAX_RANK = 10**9  # caps coined words at a handful of syllables


def _article(word: str) -> str:
    """'a' or 'an' by sound: vowel letters except a 'yoo' or 'w' sound ("a unicorn", "a one-man band"),
    plus a silent h ("an hour")."""
    if word.startswith(("uni", "use", "usu", "uk", "eu", "one")):
        return "a"
    return "an" if word[0] in "aeiou" or word.startswith(("hour", "honest", "honor", "heir")) else "a"


def _zipf_rank(u: float, scale: float) -> int:
    """A rank 0, 1, 2, ... with P(rank >= r) = (1 + r/scale)**(-1/2) (inverse CDF of a Lomax law, floored):
    a power-law tail like Zipf's (rank r drawn with probability ~ r**(-3/2), so the number of distinct
    ranks in N draws grows like N**(2/3), Heaps' law), with `scale` flattening the head.

    Only IEEE 754 operations that round exactly are used (division, multiplication), never a float `**`,
    which comes from the platform's libm and may differ in the last bit between platforms.
    """
    x = 1.0 / (1.0 - u)
    return min(int(scale * (x * x - 1.0)), _MAX_RANK)


def _syllable_word(rank: int, onsets, middles, endings) -> tuple[str, int]:
    """Spell `rank` in syllables: onset, then ending, then middles (bijective base), so distinct
    ranks give distinct words and higher (rarer) ranks give longer ones. Returns (word, ending index)."""
    rank, onset = divmod(rank, len(onsets))
    rank, ending = divmod(rank, len(endings))
    parts = []
    while rank:
        rank, digit = divmod(rank - 1, len(middles))
        parts.append(middles[digit])
    return onsets[onset] + "".join(parts) + endings[ending], ending


def _coin(rank: int, head, firsts, seconds) -> str:
    """The name of rank `rank`: from `head`, then a compound first + second ("Willow" + "brook"),
    then syllables + second ("Kalo" + "brook")."""
    if rank < len(head):
        return head[rank]
    rank -= len(head)
    if rank < len(firsts) * len(seconds):
        second, first = divmod(rank, len(firsts))
        return firsts[first] + seconds[second]
    return _syllable_word(rank - len(firsts) * len(seconds), L.NAME_ONSETS, L.NAME_MIDDLES, seconds)[0]


def _money(cents: int) -> str:
    if cents < 100:
        return f"{cents} cents"
    return f"${cents // 100}" if cents % 100 == 0 else f"${cents // 100}.{cents % 100:02d}"


class _Story(dict):
    """The fields of one story, each computed the first time a template asks for it (`__missing__`),
    so a story pays only for the fields its templates use, and the random draws happen in template order."""

    def __init__(self, rng: random.Random):
        super().__init__()
        self.rand = rng.random

    def __missing__(self, key: str) -> str:
        _FIELDS[key](self)
        return self[key]

    def pick(self, seq):
        return seq[int(self.rand() * len(seq))]

    def zipf(self, seq, spread: float = 30.0):
        """A Zipf-like pick: the first items are frequent, the last ones rare (ranks past the end are
        drawn again). A larger `spread` makes the head heavier (rank 0 has probability ~ spread / 2len)."""
        scale = len(seq) / spread
        while True:
            rank = _zipf_rank(self.rand(), scale)
            if rank < len(seq):
                return seq[rank]

    def rank(self, scale: float, limit: int = _MAX_RANK) -> int:
        """A Zipf-like rank below `limit` (the open-ended names and the larger numbers)."""
        while True:
            rank = _zipf_rank(self.rand(), scale)
            if rank < limit:
                return rank

    def number(self, n: int) -> str:  # young readers see "five" and "5"; keep both in the data
        return L.NUMBER_WORDS[n] if n < len(L.NUMBER_WORDS) and self.rand() < 0.4 else str(n)

    def person(self, avoid: tuple[str, ...] = ()) -> tuple[str, str]:
        """(name, pronoun): common names first, then the syllable tail, whose ending fixes the pronoun
        ("Kalora" she, "Mitador" he, "Sarin" they)."""
        while True:
            rank = self.rank(20.0)
            if rank < len(_HEAD_NAMES):
                name, pronoun = _HEAD_NAMES[rank]
            else:
                name = _syllable_word(rank - len(_HEAD_NAMES), L.NAME_ONSETS, L.NAME_MIDDLES, _NAME_ENDINGS)[0]
                if name in _HEAD_NAME_SET:  # "Mabel" coined from syllables would be a "he"
                    continue
                pronoun = next(pronoun for ending, pronoun in _PRONOUN_BY_ENDING if name.endswith(ending))
            if name not in avoid:
                return name, pronoun

    def fill(self, template: str) -> str:
        return template.format_map(self)


_FIELDS: dict[str, Callable[[_Story], None]] = {}


def _fields(names: str, compute: Callable[[_Story], str | tuple[str, ...]]) -> None:
    """Register `compute` for the space-separated `names`: it returns their values in that order, so
    fields filled together fit each other ("{food}" "apple", "{foods}" "apples", "{a_food}" "a ripe apple")."""
    keys = names.split()

    def fill(s: _Story) -> None:
        values = compute(s)
        s.update(zip(keys, (values,) if len(keys) == 1 else values))

    for key in keys:
        _FIELDS[key] = fill


def _a(word: str) -> str:
    return f"{_article(word)} {word}"


def _described(s: _Story, word: str, adjectives, p: float) -> str:
    """`word` with its article, after an adjective with probability `p`: "an old hedgehog"."""
    return _a(f"{s.zipf(adjectives)} {word}" if p and s.rand() < p else word)


def _noun(s: _Story, word: str, adjectives=(), p: float = 0.0) -> tuple[str, str]:
    """("hedgehog", "an old hedgehog"): the bare word, and with its article (and maybe an adjective)."""
    return word, _described(s, word, adjectives, p)


def _food(s: _Story) -> tuple[str, str, str]:
    food, foods = s.zipf(L.FOODS)
    return food, foods, _described(s, food, L.FOOD_ADJ, 0.5)


def _job(s: _Story) -> tuple[str, str]:
    job, what_they_did = s.zipf(L.JOBS)
    return _a(job), what_they_did


def _child(s: _Story, *keys: str, avoid: tuple[str, ...]) -> tuple[str, ...]:
    """A child's name and the pronoun forms `keys` ("he", "him") that go with it, or "sibling" ("sister")."""
    name, pronoun = s.person(avoid=avoid)
    return name, *(W.SIBLINGS[pronoun] if key == "sibling" else W.PRONOUNS[pronoun][key] for key in keys)


def _neighbor(s: _Story) -> tuple[str, str]:
    title, pronoun = s.pick(L.TITLES)
    return f"{title} {s['surname']}", W.PRONOUNS[pronoun]["his"]


# Words: a Zipf pick from a list (or one form of a list's pairs), or a template filled from other fields.
for _name, _words in dict(
    When=W.WHEN, sad=L.SAD, happy=L.HAPPY, weather=L.WEATHER, color=L.COLORS, clothing=L.CLOTHES, bowl=L.BOWLS,
    drink=L.DRINKS, topping=L.TOPPINGS, cake=L.CAKES, instrument=L.INSTRUMENTS, vehicle=L.VEHICLES, adv=L.ADVERBS,
    sound=L.SOUNDS, said=L.SAID, cheered=L.CHEERED, moved=L.MOVED, place=L.PLACES, place_adj=L.PLACE_ADJ,
    magic_adj=L.MAGIC_ADJ, trip_any=L.TRIPS, box=W.BOXES, old_collection=W.OLD_COLLECTIONS,
    nature_collection=W.NATURE_COLLECTIONS, ordinal=L.ORDINALS, object=L.OBJECTS, city=L.CITIES,
).items():
    _fields(_name, lambda s, words=_words: s.zipf(words))
for _name, (_words, _form) in dict(
    animals=(L.ANIMALS, 1), animals2=(L.ANIMALS, 1), foods2=(L.FOODS, 1), flowers=(L.FLOWERS, 1), trees=(L.TREES, 1),
    beings=(L.MAGIC_BEINGS, 1), tree=(L.TREES, 0), being2=(L.MAGIC_BEINGS, 0), bigger=(L.GRADES, 1),
    biggest=(L.GRADES, 2), act2=(L.ACTIVITIES, 0),
).items():
    _fields(_name, lambda s, words=_words, form=_form: s.zipf(words)[form])
for _name, _words in dict(a_beast=L.BIG_ANIMALS, a_flower=L.FLOWERS, a_job2=L.JOBS).items():
    _fields(_name, lambda s, words=_words: _a(s.zipf(words)[0]))
for _name, _words in dict(a_nature=L.NATURE, a_colored=L.COLORS, a_object=L.OBJECTS).items():
    _fields(_name, lambda s, words=_words: _a(s.zipf(words)))
for _name, _words in dict(home=W.HOMES, cafe=W.CAFE_TREATS).items():
    _fields(_name, lambda s, words=_words: s.fill(s.zipf(words)))
_fields("a_cake", lambda s: _a(s["cake"]))
_fields("a_magic_adj", lambda s: _a(s["magic_adj"]))
_fields("act acted acting", lambda s: s.zipf(L.ACTIVITIES))
_fields("a_job job_did", _job)
_fields("food foods a_food", _food)
_fields("pet a_pet", lambda s: _noun(s, s.zipf(L.PETS, 4.0)[0]))
_fields("pets pets_count", lambda s: (s.zipf(L.PETS, 4.0)[1], s.number(2 + int(s.rand() * 11))))
_fields("thing a_thing", lambda s: _noun(s, s.zipf(L.TOYS), L.THING_ADJ, 0.7))
_fields("animal a_animal", lambda s: _noun(s, s.zipf(L.SMALL_ANIMALS)[0], L.ANIMAL_ADJ, 1.0))
_fields("critter a_critter", lambda s: _noun(s, s.zipf(L.SMALL_ANIMALS)[0]))
_fields("being a_being", lambda s: _noun(s, s.zipf(L.MAGIC_BEINGS)[0]))
_fields("emo", lambda s: " " + s.zipf(L.EMOJI) if s.rand() < 0.04 else "")

# People: names from `_Story.person`; grown-ups outside the family get a title and a surname.
_fields("friend fhe fhim", lambda s: _child(s, "he", "him", avoid=(s["name"],)))
_fields("sib sibhe sibling", lambda s: _child(s, "he", "sibling", avoid=(s["name"], s["friend"])))
_fields("kid3", lambda s: s.person(avoid=(s["name"], s["friend"]))[0])
_fields("kid4", lambda s: s.person(avoid=(s["name"], s["friend"], s["kid3"]))[0])
_fields("kid5", lambda s: s.person(avoid=(s["name"], s["friend"], s["kid3"], s["kid4"]))[0])
_fields("parent Parent phe", lambda s: (lambda parent, he: (parent, parent.capitalize(), he))(*s.pick(W.PARENTS)))
_fields("a_hero", lambda s: _a(f"{s.zipf(L.CHARACTER_ADJ)} {s['kid']}") if s.rand() < 0.7  # or an animal hero
        else _described(s, s.zipf(L.ANIMALS)[0], L.ANIMAL_ADJ, 1.0))
_fields("surname", lambda s: _coin(s.rank(60.0), (), L.SURNAME_FIRSTS, L.SURNAME_SECONDS))
_fields("neighbor nhis", _neighbor)
for _name in ("teacher", "adult"):
    _fields(_name, lambda s: f"{s.pick(L.TITLES)[0]} {_coin(s.rank(60.0), (), L.SURNAME_FIRSTS, L.SURNAME_SECONDS)}")

# Made-up names: a list's words first where there is one, then compounds, then syllables.
for _name in ("town", "town2"):
    _fields(_name, lambda s: _coin(s.rank(60.0), (), L.TOWN_FIRSTS, L.TOWN_SUFFIXES))
for _name in ("petname", "toyname"):
    _fields(_name, lambda s: _coin(s.rank(60.0), L.PET_NAMES, L.PET_FIRSTS, L.PET_SECONDS))
for _name in ("cname", "cname2"):
    _fields(_name, lambda s: _coin(s.rank(30.0), (), L.CREATURE_FIRSTS, L.CREATURE_SECONDS))
_fields("species", lambda s: _plural(_coin(s.rank(30.0), (), L.SPECIES_FIRSTS, L.SPECIES_SECONDS).lower()))
_fields("spell", lambda s: _syllable_word(s.rank(30.0), L.SPELL_STARTS, L.SPELL_MIDDLES, L.SPELL_ENDS)[0])
_fields("land", lambda s: _syllable_word(s.rank(30.0), L.NAME_ONSETS, L.NAME_MIDDLES, L.LAND_ENDINGS)[0])
_fields("street", lambda s: f"{s.zipf(L.TOWN_FIRSTS) if s.rand() < 0.5 else s['surname']} {s.zipf(L.STREETS)}")

# Numbers: small ones as words or digits, larger ones Zipf-like (most are small), and sums that add up.
_fields("age", lambda s: s.number(3 + int(s.rand() * 7)))
_fields("age2", lambda s: s.number(2 + int(s.rand() * 9)))
_fields("house", lambda s: str(1 + s.rank(5.0, 999)))
_fields("busno", lambda s: str(1 + s.rank(5.0, 999)))
_fields("miles", lambda s: s.number(1 + s.rank(3.0, 99)))
_fields("count", lambda s: str(2 + s.rank(10.0, 9998)))
_fields("people", lambda s: str(40 + s.rank(400.0, 9960)))
_fields("steps", lambda s: str(30 + s.rank(100.0, 970)))
_fields("pages", lambda s: str(12 + s.rank(40.0, 988)))
_fields("minutes", lambda s: str(5 + s.rank(10.0, 115)))
_fields("year", lambda s: str(1890 + int(s.rand() * 130)))
_fields("bage bth", lambda s: (lambda age: (s.number(age), L.ORDINALS[age - 1]))(3 + int(s.rand() * 9)))


def _trip_sum(s: _Story) -> tuple[str, ...]:
    n = 4 + int(s.rand() * 9)
    k = 1 + int(s.rand() * (n - 2))  # leaves at least 2, so "{left} {foods}" stays plural
    left = s.number(n - k)
    return s.number(n), s.number(k), left, left.capitalize()


def _collection_sum(s: _Story) -> tuple[str, ...]:
    c1, c2 = 5 + s.rank(8.0, 995), 2 + int(s.rand() * 29)
    return str(c1), s.number(c2), str(c1 + c2)


def _shopping(s: _Story) -> tuple[str, ...]:
    price = 5 * (10 + int(s.rand() * 390))  # 50 cents to $19.95
    paid = 100 * (price // 100 + 1 + int(s.rand() * 3))  # whole dollars, always more than the price
    return _money(price), _money(paid), _money(paid - price)


def _balloons(s: _Story) -> tuple[str, ...]:
    guests, per = 2 + int(s.rand() * 5), 2 + int(s.rand() * 4)
    return L.NUMBER_WORDS[guests].capitalize(), s.number(per), s.number(guests * per)


def _time(s: _Story) -> str:
    hour = 6 + int(s.rand() * 5)
    if s.rand() < 0.3:
        words = L.NUMBER_WORDS[hour]
        return s.pick((f"{words} o'clock", f"half past {words}", f"quarter past {words}"))
    return f"{hour}:{s.pick(('00', '15', '30', '45', '05', '10', '20', '40', '50'))}"


def _spots(s: _Story) -> tuple[str, ...]:
    spots: list[str] = []
    while len(spots) < 3:  # three different hiding places, without relying on set order
        spot = s.zipf(L.SPOTS, 10.0)
        if spot not in spots:
            spots.append(spot)
    return tuple(spots)


_fields("n k left Left", _trip_sum)
_fields("c1 c2 c3", _collection_sum)
_fields("price paid change", _shopping)
_fields("guests per balloons", _balloons)
_fields("time", _time)
_fields("spot1 spot2 spot3", _spots)


def _story(rng: random.Random) -> str:
    """Tell one story: name the hero, pick a plot, fill its row, then pick one template per slot."""
    ctx = _Story(rng)
    name, pronoun = ctx.person()
    ctx.update(W.PRONOUNS[pronoun], name=name)
    plot = ctx.pick(_PLOTS)
    # A plot's row is filled first because its templates may ask for shared fields ("{his}").
    for field, template in zip(plot["fields"], ctx.pick(plot["rows"])):
        ctx[field] = ctx.fill(template)
    ctx["moral"] = ctx.pick(plot["moral"])

    paragraphs = []
    for para in plot["story"]:
        text = " ".join(s for s in map(ctx.pick, para) if s)
        if text:
            paragraphs.append(ctx.fill(text))
    return "\n\n".join(paragraphs)
