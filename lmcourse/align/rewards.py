"""Verifiable rewards for RLVR: a math answer normalizer, exact-answer and format rewards (chapter 16).

Follows the R1-Zero recipe used in CS336 assignment 5: the model writes its reasoning inside
`<think>...</think>` and its final answer inside `<answer>...</answer>`. The prompt usually ends
with the opening `<think>`, so a response may start straight with the reasoning.
- `format_reward`: 1.0 for a well-formed think/answer structure, else 0.0.
- `answer_reward`: 1.0 if the normalized answer equals the normalized ground truth (numbers are
  compared by value, so "0.5" == "1/2" == "\\frac{1}{2}").
- `r1_zero_reward_fn`: both, with reward 1 only if the format and the answer are right.
Left out: symbolic equivalence (sympy), units, intervals and matrices, and learned reward models;
the normalizer is a small rule set, deliberately easy to read, not a full MATH grader.
"""
from __future__ import annotations

import re
from fractions import Fraction

_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
# Optional leading <think> (the prompt usually supplies it); no stray tags inside either part.
_FORMAT = re.compile(r"\s*(?:<think>)?(?:(?!</?think>|</?answer>).)*</think>\s*"
                     r"<answer>((?:(?!</?think>|</?answer>).)*)</answer>\s*", re.DOTALL)


def _unwrap(s: str, command: str) -> str:
    """Replace every `\\command{X}` by `X`, matching braces (so nested braces survive)."""
    key = "\\" + command + "{"
    while (start := s.find(key)) != -1:
        depth, i = 1, start + len(key)
        while i < len(s) and depth:
            depth += {"{": 1, "}": -1}.get(s[i], 0)
            i += 1
        if depth:  # unbalanced: leave the rest alone rather than guess
            break
        s = s[:start] + s[start + len(key):i - 1] + s[i:]
    return s


def _canonical_number(s: str) -> str:
    """"007" -> "7", "1.50" -> "1.5", "2.0" -> "2", "-0" -> "0"."""
    sign = "-" if s.startswith("-") else ""
    whole, _, frac = s.lstrip("-").partition(".")
    whole, frac = whole.lstrip("0") or "0", frac.rstrip("0")
    out = whole + ("." + frac if frac else "")
    return "0" if out == "0" else sign + out


def normalize_math_answer(s: str) -> str:
    """Normalize a math answer string for exact comparison."""
    if not isinstance(s, str):
        raise TypeError(f"s must be a str, got {type(s).__name__}")
    s = s.strip().replace("$", "")
    for command in ("boxed", "text", "textbf", "mathrm"):
        s = _unwrap(s, command)
    s = re.sub(r"\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)", s)
    s = re.sub(r"\\[dt]?frac(\d)(\d)", r"\1/\2", s)  # \frac12 shorthand
    s = s.replace("\\left", "").replace("\\right", "").replace("\\!", "").replace("\\,", "")
    s = re.sub(r"\s+", "", s).rstrip(".").lower()
    # Drop the parentheses the \frac rule added around plain numbers/letters: (1)/(2) -> 1/2.
    s = re.sub(r"\((-?[\w.]+)\)", r"\1", s)
    # Thousands separators: 1,000,000 -> 1000000 (only in digit groups of three).
    s = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", s)
    return _NUMBER.sub(lambda m: _canonical_number(m.group()), s)


def _as_number(s: str) -> Fraction | None:
    m = re.fullmatch(r"(-?\d+(?:\.\d+)?)(?:/(-?\d+(?:\.\d+)?))?", s)
    if not m:
        return None
    num, den = Fraction(m.group(1)), Fraction(m.group(2) or 1)
    return None if den == 0 else num / den


def extract_answer(response: str) -> str | None:
    """The text inside the last `<answer>...</answer>`, stripped, or None if there is none."""
    if not isinstance(response, str):
        raise TypeError(f"response must be a str, got {type(response).__name__}")
    found = _ANSWER.findall(response)
    return found[-1].strip() if found else None


def format_reward(response: str) -> float:
    """1.0 if the response is `[<think>] reasoning </think> <answer> answer </answer>`, else 0.0."""
    if not isinstance(response, str):
        raise TypeError(f"response must be a str, got {type(response).__name__}")
    m = _FORMAT.fullmatch(response)
    return 1.0 if m and m.group(1).strip() else 0.0


def answer_reward(response: str, ground_truth: str) -> float:
    """1.0 if the extracted answer matches `ground_truth` after normalization, else 0.0."""
    if not isinstance(ground_truth, str):
        raise TypeError(f"ground_truth must be a str, got {type(ground_truth).__name__}")
    answer = extract_answer(response)
    if answer is None:
        return 0.0
    a, g = normalize_math_answer(answer), normalize_math_answer(ground_truth)
    if a == g:
        return 1.0
    na, ng = _as_number(a), _as_number(g)
    return 1.0 if na is not None and na == ng else 0.0


def r1_zero_reward_fn(response: str, ground_truth: str) -> dict[str, float]:
    """R1-Zero reward: {"format_reward", "answer_reward", "reward"}; reward = 1 only if both are 1."""
    fmt, ans = format_reward(response), answer_reward(response, ground_truth)
    return {"format_reward": fmt, "answer_reward": ans, "reward": fmt * ans}
