"""Benchmark items for chapter 12: generated MMLU- and GSM8K-style tasks, and loaders for the real files.

The book runs offline, so its benchmarks are generated here, deterministically from a seed, in the
formats of the two benchmarks the CS336 evaluation lecture leans on:

- `MCExample` (MMLU): a subject, a question, four options and the letter of the right one. Subjects:
  "addition" (a + b with one-digit operands), "counting" (the number right after n) and "plurals"
  (the plural of a noun from the story corpus's lexicon, against misspelled distractors).
- `MathExample` (GSM8K): a short word problem, a worked solution ending in "#### answer" as GSM8K's
  solutions do, and the final answer as a string.

The item spaces are small (100 additions, 99 counting questions, 58 plurals), so two seeds alone do
not make a train and a test split: nearly every test question would also be a training question.
`split_of(question)` cuts each space in two by a fixed hash of the question text, and both generators
take `split="train"` or `split="test"` to draw from one side only, so the two splits share no
question by construction, whatever the seeds (chapter 12 checks this with `contamination_report`).

`load_mmlu_csv` and `load_gsm8k_jsonl` read the real benchmarks' files (MMLU: one csv per subject,
no header, columns question, A, B, C, D, answer; GSM8K: one JSON object per line with "question" and
"answer") for readers who have them. Prompt formats and scoring live in `harness.py`,
parsing model outputs in `parsing.py`. Leaves out: downloading anything, and real subjects' content.
"""

from __future__ import annotations

import csv
import json
import os
import random
import zlib
from dataclasses import dataclass
from pathlib import Path

from lmcourse.corpus import lexicon as L

__all__ = ["LETTERS", "MCExample", "MathExample", "SPLITS", "SUBJECTS", "make_mc_questions", "make_word_problems",
           "split_of", "load_mmlu_csv", "load_gsm8k_jsonl"]

LETTERS = "ABCD"
SUBJECTS = ("addition", "counting", "plurals")
SPLITS = ("train", "test")
_NOUNS = [pair for pair in L.FOODS[:20] + L.SMALL_ANIMALS[:20] + L.BIG_ANIMALS[:20] if pair[0] != pair[1]]


@dataclass(frozen=True)
class MCExample:
    """One MMLU-style item; field names are those of the CS336 assignment's MMLU examples."""

    subject: str
    question: str
    options: tuple[str, ...]  # four answer texts, in the order A, B, C, D
    answer: str  # the right letter

    def __post_init__(self):
        if len(self.options) != len(LETTERS):
            raise ValueError(f"MCExample: options={self.options!r}; expected {len(LETTERS)} options")
        if self.answer not in LETTERS:
            raise ValueError(f"MCExample: answer={self.answer!r}; expected one of {tuple(LETTERS)}")

    @property
    def answer_index(self) -> int:
        return LETTERS.index(self.answer)


@dataclass(frozen=True)
class MathExample:
    """One GSM8K-style item: the question, a worked solution ("... #### 7") and the final answer."""

    question: str
    solution: str
    answer: str


def split_of(question: str) -> str:
    """"test" for about half of all question texts, "train" for the others (CRC-32 of the text, even
    or odd): a fixed function of the text, so no seed can put one question on both sides."""
    if not isinstance(question, str):
        raise TypeError(f"split_of: question must be a str, got {type(question).__name__}")
    return SPLITS[zlib.crc32(question.encode("utf-8")) % 2 == 0]


def _check_args(fn: str, n, split, allow_all: bool = False) -> None:
    if not (allow_all and n is None) and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"{fn}: n={n!r}; expected an int >= 1" + (" or None" if allow_all else ""))
    if split is not None and split not in SPLITS:
        raise ValueError(f"{fn}: split={split!r}; expected None or one of {SPLITS}")


def _numbers_near(rng: random.Random, right: int, low: int, high: int) -> list[int]:
    """Three distinct wrong numbers in [low, high], close to `right` (an off-by-one is a good distractor)."""
    pool = [x for x in range(max(low, right - 4), min(high, right + 4) + 1) if x != right]
    return rng.sample(pool, 3)


def _misspell(plural: str, singular: str) -> list[str]:
    """Wrong plurals a careless speller writes: the bare noun, "+s", "+es", "+ies", "+ses"."""
    stem = singular[:-1] if singular.endswith("y") else singular
    wrong = [singular, singular + "s", singular + "es", stem + "ies", singular + "ses", singular + "z"]
    return [w for w in dict.fromkeys(wrong) if w != plural]


def _question_space(subject: str) -> list[tuple[str, int | tuple[str, str]]]:
    """Every (question, what it asks about) of one subject: the whole item space, in a fixed order."""
    if subject == "addition":
        return [(f"What is {a} + {b}?", a + b) for a in range(10) for b in range(10)]
    if subject == "counting":
        return [(f"Which number comes right after {n}?", n + 1) for n in range(99)]
    return [(f"What is the plural of the word '{singular}'?", (singular, plural)) for singular, plural in _NOUNS]


def _mc_example(subject: str, question: str, key, rng: random.Random) -> MCExample:
    """Three distractors and the right answer at a uniformly random letter."""
    if subject == "plurals":
        singular, right = key
        wrong = rng.sample(_misspell(right, singular), 3)
    else:
        right, high = str(key), (18 if subject == "addition" else 99)
        wrong = [str(x) for x in _numbers_near(rng, key, 0, high)]
    k = rng.randrange(len(LETTERS))
    return MCExample(subject, question, tuple(wrong[:k] + [right] + wrong[k:]), LETTERS[k])


def make_mc_questions(n: int | None, seed: int = 0, subjects: tuple[str, ...] = SUBJECTS,
                      split: str | None = None) -> list[MCExample]:
    """MMLU-format questions with the right answer at a uniformly random letter (chance accuracy 1/4).

    n an int: n questions drawn with replacement, subjects taken in turn (a training set, where
    repeats are fine). n None: every question of the chosen space once, subject by subject (a
    benchmark). `split` restricts the space to one side of `split_of`. The same arguments always give
    the same questions.
    """
    _check_args("make_mc_questions", n, split, allow_all=True)
    if isinstance(subjects, str) or not subjects or any(s not in SUBJECTS for s in subjects):
        raise ValueError(f"make_mc_questions: subjects={subjects!r}; expected a non-empty tuple from {SUBJECTS}")
    spaces = {s: [q for q in _question_space(s) if split is None or split_of(q[0]) == split] for s in subjects}
    rng = random.Random(seed)
    if n is None:
        return [_mc_example(s, q, key, rng) for s in subjects for q, key in spaces[s]]
    return [_mc_example(s, *rng.choice(spaces[s]), rng) for s in (subjects[i % len(subjects)] for i in range(n))]


def make_word_problems(n: int, seed: int = 0, max_operand: int = 9, split: str | None = None) -> list[MathExample]:
    """n GSM8K-style problems: someone has a things, gets (or gives away) b more; how many now?

    Operands are in [0, max_operand] (subtraction never goes below zero). Solutions show the
    arithmetic and end with "#### <answer>", GSM8K's convention. `split` keeps only problems whose
    question is on that side of `split_of` (others are drawn and discarded).
    """
    _check_args("make_word_problems", n, split)
    if isinstance(max_operand, bool) or not isinstance(max_operand, int) or not 1 <= max_operand <= 999:
        raise ValueError(f"make_word_problems: max_operand={max_operand!r}; expected an int in [1, 999]")
    names = [(name, "She") for name in L.SHE_NAMES[:12]] + [(name, "He") for name in L.HE_NAMES[:12]]
    things = [plural for _, plural in L.FOODS[:15]]
    rng, out = random.Random(seed), []
    while len(out) < n:
        (name, pronoun), thing = rng.choice(names), rng.choice(things)
        a, b = rng.randint(0, max_operand), rng.randint(0, max_operand)
        if rng.random() < 0.5:
            question = f"{name} has {a} {thing}. {pronoun} gets {b} more. How many {thing} does {name} have now?"
            solution, answer = f"{name} has {a} + {b} = {a + b} {thing}.", a + b
        else:
            a, b = max(a, b), min(a, b)
            question = f"{name} has {a} {thing}. {pronoun} gives {b} away. How many {thing} does {name} have now?"
            solution, answer = f"{name} has {a} - {b} = {a - b} {thing}.", a - b
        if split is not None and split_of(question) != split:
            continue
        out.append(MathExample(question, f"{solution}\n#### {answer}", str(answer)))
    return out


def _existing_file(fn: str, path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{fn}: path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{fn}: no such file: {str(path)!r}")
    return path


def load_mmlu_csv(path, subject: str | None = None) -> list[MCExample]:
    """The rows of one MMLU csv (question, A, B, C, D, answer; no header). `subject` defaults to the
    file name without its split suffix ("high_school_physics_test.csv" -> "high_school_physics")."""
    path = _existing_file("load_mmlu_csv", path)
    if subject is None:
        subject = path.stem.rsplit("_", 1)[0] if path.stem.endswith(("_test", "_dev", "_val")) else path.stem
    out = []
    with open(path, newline="", encoding="utf-8") as f:
        for line, row in enumerate(csv.reader(f), start=1):
            if len(row) != 6:
                raise ValueError(f"load_mmlu_csv: {path.name} line {line} has {len(row)} columns; expected 6")
            answer = row[5].strip().upper()
            if answer not in LETTERS:
                raise ValueError(f"load_mmlu_csv: {path.name} line {line}: answer {row[5]!r}; expected one of A-D")
            out.append(MCExample(subject, row[0], tuple(row[1:5]), answer))
    return out


def load_gsm8k_jsonl(path) -> list[MathExample]:
    """GSM8K's jsonl: {"question": ..., "answer": "<worked solution>\\n#### 72"} per line. The final
    answer is what follows "####", with thousands separators removed (GSM8K writes "1,000")."""
    path = _existing_file("load_gsm8k_jsonl", path)
    out = []
    with open(path, encoding="utf-8") as f:
        for line, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
                question, solution = record["question"], record["answer"]
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise ValueError(f"load_gsm8k_jsonl: {path.name} line {line}: expected JSON with 'question' and "
                                 f"'answer' ({e})") from None
            if "####" not in solution:
                raise ValueError(f"load_gsm8k_jsonl: {path.name} line {line}: the answer has no '#### <number>'")
            final = solution.rsplit("####", 1)[1].strip().replace(",", "")
            out.append(MathExample(question, solution, final))
    return out
