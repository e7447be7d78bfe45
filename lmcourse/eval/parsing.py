"""Reading an answer out of free-form model output (the CS336 assignment's two parsers).

- `parse_mmlu_response(example, output)`: the letter the output commits to, or None. Rules, in order:
  an explicit commitment ("the correct answer is B", "Answer: (C)", "answer would be D"), the last
  one if there are several (models restate the question's options before concluding); else an output
  that opens with a letter as a label ("B", "B.", "(B) ...", but not "A dog"); else an output that is exactly one option's
  text. Anything else is None: a grader must not guess for the model.
- `parse_gsm8k_response(output)`: the last number in the output, thousands separators removed, as a
  string ("The total is $1,234." -> "1234", but "1,2,3" -> "3"); None when there is no number.

Leaves out: asking another model to extract the answer (LLM-as-extractor), units, fractions, and
numbers written as words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from lmcourse.eval.tasks import LETTERS, MCExample

__all__ = ["parse_mmlu_response", "parse_gsm8k_response"]

# A letter is an answer only as a whole token: "B", "(B)", "B." — never the B of "Because".
_LETTER = rf"\(?([{LETTERS}])\)?(?![\w])"
_COMMIT = re.compile(rf"answer\s*(?:is|would be|will be|should be)?\s*[:=]?\s*(?:option\s+|choice\s+)?{_LETTER}",
                     re.IGNORECASE)
# An opening letter must look like a label ("B.", "B)", "(B)", "B" alone): "A dog ..." is not option A.
_OPENING = re.compile(rf"\s*(?:\(([{LETTERS}])\)|([{LETTERS}])(?:[.):]|\s*$))")
# A minus sign counts only where it cannot be a subtraction ("5-3" ends in 3, not -3). A comma is
# a thousands separator only before exactly three digits: "1,234" is one number, "1,2,3" three.
_NUMBER = re.compile(r"(?:(?<![\w-])-)?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?")


def _options(example) -> list[str]:
    if isinstance(example, MCExample):
        return list(example.options)
    if isinstance(example, Mapping) and "options" in example:
        return list(example["options"])
    raise TypeError(f"parse_mmlu_response: example must be an MCExample or a mapping with 'options', "
                    f"got {type(example).__name__}")


def parse_mmlu_response(example, output: str) -> str | None:
    """The letter (A-D) that `output` commits to as its answer to `example`, or None if it commits to none."""
    options = _options(example)
    if not isinstance(output, str):
        raise TypeError(f"parse_mmlu_response: output must be a str, got {type(output).__name__}")
    # The commitment must be upper case (case-insensitive only in the words around it): "answer is a
    # mess" names no option.
    commitments = [m.group(1) for m in _COMMIT.finditer(output) if m.group(1) in LETTERS]
    if commitments:
        return commitments[-1]
    opening = _OPENING.match(output)
    if opening:
        return opening.group(1) or opening.group(2)
    text = output.strip().rstrip(".").strip().lower()
    matches = [LETTERS[i] for i, option in enumerate(options) if text and option.strip().lower() == text]
    return matches[0] if len(matches) == 1 else None


def parse_gsm8k_response(output: str) -> str | None:
    """The last number in `output` ("1,234.5" -> "1234.5"; a trailing full stop is not a decimal point)."""
    if not isinstance(output, str):
        raise TypeError(f"parse_gsm8k_response: output must be a str, got {type(output).__name__}")
    numbers = _NUMBER.findall(output)
    if not numbers:
        return None
    return numbers[-1].replace(",", "")
