"""Benchmark items for chapter 12: generated MMLU- and GSM8K-style tasks, and loaders for the real files.

The book runs offline, so its benchmarks are generated here, deterministically from a seed, in the
formats of the two benchmarks the CS336 evaluation lecture leans on:

- `MCExample` (MMLU): a subject, a question, four options and the letter of the right one. Subjects:
  "addition" (a + b with one-digit operands), "counting" (the number right after n) and "plurals"
  (the plural of a noun from the story corpus's lexicon, against misspelled distractors).
- `MathExample` (GSM8K): a short word problem, a worked solution ending in "#### answer" as GSM8K's
  solutions do, and the final answer as a string.

`load_mmlu_csv` and `load_gsm8k_jsonl` read the real benchmarks' files (MMLU: one csv per subject,
no header, columns question, A, B, C, D, answer; GSM8K: one JSON object per line with "question" and
"answer") for readers who have them. Prompt formats live in `harness.py`, scoring in `harness.py`,
parsing model outputs in `parsing.py`. Leaves out: downloading anything, and real subjects' content.
"""

from __future__ import annotations

import csv
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

from lmcourse.data import _lexicon as L

__all__ = ["LETTERS", "MCExample", "MathExample", "SUBJECTS", "make_mc_questions", "make_word_problems",
           "load_mmlu_csv", "load_gsm8k_jsonl"]

LETTERS = "ABCD"
SUBJECTS = ("addition", "counting", "plurals")


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


def _check_count(fn: str, n) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{fn}: n={n!r}; expected an int >= 1")


def _numbers_near(rng: random.Random, right: int, low: int, high: int) -> list[int]:
    """Three distinct wrong numbers in [low, high], close to `right` (an off-by-one is a good distractor)."""
    pool = [x for x in range(max(low, right - 4), min(high, right + 4) + 1) if x != right]
    return rng.sample(pool, 3)


def _misspell(plural: str, singular: str) -> list[str]:
    """Wrong plurals a careless speller writes: the bare noun, "+s", "+es", "+ies", "+ses"."""
    stem = singular[:-1] if singular.endswith("y") else singular
    wrong = [singular, singular + "s", singular + "es", stem + "ies", singular + "ses", singular + "z"]
    return [w for w in dict.fromkeys(wrong) if w != plural]


def _one_question(subject: str, rng: random.Random) -> tuple[str, str, list[str]]:
    """(question, right answer, three wrong answers) for one subject."""
    if subject == "addition":
        a, b = rng.randint(0, 9), rng.randint(0, 9)
        return f"What is {a} + {b}?", str(a + b), [str(x) for x in _numbers_near(rng, a + b, 0, 18)]
    if subject == "counting":
        n = rng.randint(0, 98)
        return f"Which number comes right after {n}?", str(n + 1), [str(x) for x in _numbers_near(rng, n + 1, 0, 99)]
    nouns = [pair for pair in L.FOODS[:20] + L.SMALL_ANIMALS[:20] + L.BIG_ANIMALS[:20] if pair[0] != pair[1]]
    singular, plural = rng.choice(nouns)
    return f"What is the plural of the word '{singular}'?", plural, rng.sample(_misspell(plural, singular), 3)


def make_mc_questions(n: int, seed: int = 0, subjects: tuple[str, ...] = SUBJECTS) -> list[MCExample]:
    """n MMLU-format questions, subjects taken in turn, the right answer at a uniformly random letter.

    The same (n, seed, subjects) always gives the same questions; distinct seeds give (mostly)
    distinct ones, so a "train" and a "test" split come from two seeds. Chance accuracy is 1/4.
    """
    _check_count("make_mc_questions", n)
    if isinstance(subjects, str) or not subjects or any(s not in SUBJECTS for s in subjects):
        raise ValueError(f"make_mc_questions: subjects={subjects!r}; expected a non-empty tuple from {SUBJECTS}")
    rng, out = random.Random(seed), []
    for i in range(n):
        subject = subjects[i % len(subjects)]
        question, right, wrong = _one_question(subject, rng)
        k = rng.randrange(len(LETTERS))
        options = wrong[:k] + [right] + wrong[k:]
        out.append(MCExample(subject, question, tuple(options), LETTERS[k]))
    return out


def make_word_problems(n: int, seed: int = 0, max_operand: int = 9) -> list[MathExample]:
    """n GSM8K-style problems: someone has a things, gets (or gives away) b more; how many now?

    Operands are in [0, max_operand] (subtraction never goes below zero). Solutions show the
    arithmetic and end with "#### <answer>", GSM8K's convention.
    """
    _check_count("make_word_problems", n)
    if isinstance(max_operand, bool) or not isinstance(max_operand, int) or not 1 <= max_operand <= 999:
        raise ValueError(f"make_word_problems: max_operand={max_operand!r}; expected an int in [1, 999]")
    names = [(name, "She") for name in L.SHE_NAMES[:12]] + [(name, "He") for name in L.HE_NAMES[:12]]
    things = [plural for _, plural in L.FOODS[:15]]
    rng, out = random.Random(seed), []
    for _ in range(n):
        (name, pronoun), thing = rng.choice(names), rng.choice(things)
        a, b = rng.randint(0, max_operand), rng.randint(0, max_operand)
        if rng.random() < 0.5:
            question = f"{name} has {a} {thing}. {pronoun} gets {b} more. How many {thing} does {name} have now?"
            solution, answer = f"{name} has {a} + {b} = {a + b} {thing}.", a + b
        else:
            a, b = max(a, b), min(a, b)
            question = f"{name} has {a} {thing}. {pronoun} gives {b} away. How many {thing} does {name} have now?"
            solution, answer = f"{name} has {a} - {b} = {a - b} {thing}.", a - b
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
